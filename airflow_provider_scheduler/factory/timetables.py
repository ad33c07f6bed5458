"""Spec schedule -> the value for ``DAG(schedule=...)`` on the running Airflow (3.x or 2.11)."""

from __future__ import annotations

import importlib
from typing import Any

from airflow_provider_scheduler.spec.errors import Problem, SpecError
from airflow_provider_scheduler.spec.schedule import (
    CRON_PRESETS,
    AssetSchedule,
    CronSchedule,
    EverySchedule,
    ManualSchedule,
    MultiCronSchedule,
    OnceSchedule,
    Schedule,
    merge_crons,
)


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

    :raises SpecError: several crons that differ in more than one field on Airflow 2.11, which has no
        ``MultipleCronTriggerTimetable`` (path ``schedule.crons``).
    """
    if isinstance(schedule, ManualSchedule):
        return None
    if isinstance(schedule, OnceSchedule):
        return "@once"
    if isinstance(schedule, CronSchedule):
        cls = _airflow_class("CronTriggerTimetable", "airflow.sdk", "airflow.timetables.trigger")
        return cls(schedule.expression, timezone=schedule.tz)
    if isinstance(schedule, MultiCronSchedule):
        return _several_crons(schedule)
    if isinstance(schedule, EverySchedule):
        cls = _airflow_class("DeltaTriggerTimetable", "airflow.sdk", "airflow.timetables.trigger")
        return cls(schedule.every)
    if isinstance(schedule, AssetSchedule):
        from airflow.providers.common.compat.sdk import Asset, AssetAll, AssetAny

        objects = [Asset(uri) for uri in schedule.assets]
        return AssetAny(*objects) if schedule.mode == "any" else AssetAll(*objects)
    raise TypeError(f"unknown schedule kind {type(schedule).__name__}")


def _several_crons(schedule: MultiCronSchedule) -> Any:
    expressions = [CRON_PRESETS.get(c, c) for c in schedule.crons]
    cls = _airflow_class("MultipleCronTriggerTimetable", "airflow.sdk", "airflow.timetables.trigger")
    if cls is not None:
        return cls(*expressions, timezone=schedule.tz)
    # Airflow 2.11 has no MultipleCronTriggerTimetable. When the expressions differ in one field
    # only, one cron with that field comma-joined fires at exactly the union of their times.
    merged = merge_crons(expressions)
    if merged is None:
        from airflow import __version__ as airflow_version

        raise SpecError(
            [
                Problem(
                    "schedule.crons",
                    "several cron expressions that differ in more than one field need Airflow 3 "
                    f"(MultipleCronTriggerTimetable), and this is Airflow {airflow_version}; use crons "
                    "that differ in one field only (e.g. '0 6 * * *' and '0 18 * * *') or one cron "
                    "expression",
                )
            ]
        )
    cron_cls = _airflow_class("CronTriggerTimetable", "airflow.timetables.trigger")
    return cron_cls(merged, timezone=schedule.tz)
