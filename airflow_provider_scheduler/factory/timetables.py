"""Spec schedule -> the value for ``DAG(schedule=...)`` on the running Airflow (3.x or 2.11)."""

from __future__ import annotations

import importlib
from typing import Any

from airflow_provider_scheduler.spec.schedule import (
    AnyOfSchedule,
    AssetSchedule,
    AtSchedule,
    CronSchedule,
    EverySchedule,
    ManualSchedule,
    MultiCronSchedule,
    OnceSchedule,
    Schedule,
)
from airflow_provider_scheduler.timetables import SpecTimetable, member_summary


def _airflow_class(name: str, *modules: str) -> Any:
    """``name`` from the first module that has it (newest location first), else None."""
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return None


def airflow_schedule(schedule: Schedule) -> Any:
    """The ``DAG(schedule=...)`` value of a spec schedule (imports Airflow).

    Cron, several crons, intervals in an ``any_of`` and every union of them run on the provider's
    :class:`~airflow_provider_scheduler.timetables.SpecTimetable` (registered by its plugin), whose
    summary in Airflow's UI names the timezone; ``at`` is Airflow's own ``EventsTimetable``.
    """
    if isinstance(schedule, ManualSchedule):
        return None
    if isinstance(schedule, OnceSchedule):
        return "@once"
    if isinstance(schedule, CronSchedule | MultiCronSchedule):
        return SpecTimetable(schedule.timetable_members())
    if isinstance(schedule, EverySchedule):
        cls = _airflow_class("DeltaTriggerTimetable", "airflow.sdk", "airflow.timetables.trigger")
        return cls(schedule.every)
    if isinstance(schedule, AtSchedule):
        return _events(schedule)
    if isinstance(schedule, AssetSchedule):
        return _assets(schedule)
    if isinstance(schedule, AnyOfSchedule):
        times = schedule.time_members
        timetable = (
            _events(times[0])
            if len(times) == 1 and isinstance(times[0], AtSchedule)
            else SpecTimetable(schedule.timetable_members())
        )
        assets = schedule.assets
        if assets is None:
            return timetable
        cls = _airflow_class("AssetOrTimeSchedule", "airflow.sdk", "airflow.timetables.assets")
        if cls is not None:
            return cls(timetable=timetable, assets=_assets(assets))
        dataset_cls = _airflow_class("DatasetOrTimeSchedule", "airflow.timetables.datasets")
        return dataset_cls(timetable=timetable, datasets=_assets(assets))
    raise TypeError(f"unknown schedule kind {type(schedule).__name__}")


def schedule_summary(schedule: Schedule) -> str:
    """A time schedule in a few words: the summary Airflow's UI shows for it (timezone included)."""
    members = schedule.timetable_members()
    text = "; ".join(member_summary(m) for m in members) if members else str(schedule.to_json())
    assets = schedule.assets if isinstance(schedule, AnyOfSchedule) else None
    if assets is not None:
        text += f"; or when {assets.mode} of {len(assets.assets)} asset(s) update"
    return text


def _events(schedule: AtSchedule) -> Any:
    # The core class: on 3.3.2 the airflow.sdk copy fails to serialize (KeyError '_summary').
    import pendulum
    from airflow.timetables.events import EventsTimetable

    instants = sorted(pendulum.instance(i) for i in schedule.instants)
    return EventsTimetable(event_dates=instants, presorted=True, description=schedule_summary(schedule))


def _assets(schedule: AssetSchedule) -> Any:
    from airflow.providers.common.compat.sdk import Asset, AssetAll, AssetAny

    def condition(node: tuple[str, tuple[Any, ...]]) -> Any:
        op, items = node
        objects = [Asset(item) if isinstance(item, str) else condition(item) for item in items]
        return AssetAny(*objects) if op == "any" else AssetAll(*objects)

    return condition(schedule.tree)
