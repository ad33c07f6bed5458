"""Run operators like the task runner does, in both modes, without a database (shared by the tests)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

PARENT_DAG_ID = "parent_dag"
PARENT_RUN_ID = "manual__2026-01-01T00:00:00+00:00"


class RecordingTaskInstance:
    """The few task-instance attributes the operators read, recording XCom pushes (no database)."""

    def __init__(self, task_id: str) -> None:
        self.dag_id = PARENT_DAG_ID
        self.run_id = PARENT_RUN_ID
        self.task_id = task_id
        self.map_index = -1
        self.try_number = 1
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        self.xcoms[key] = value


def make_context(task_id: str) -> Any:
    ti = RecordingTaskInstance(task_id)
    return {"ti": ti, "task_instance": ti}


async def collect_events(trigger: Any) -> list[Any]:
    return [event async for event in trigger.run()]


def run_task(task: Any, context: dict[str, Any], *, deferred_events: list[Any] | None = None) -> Any:
    """Run ``task`` like the task runner: execute; on TaskDeferred run the trigger and resume.

    The trigger is rebuilt from its ``serialize()`` output (what the triggerer does), run to completion
    with ``asyncio.run``, and its single event is fed to ``resume_execution`` (which calls
    ``execute_complete`` with Airflow's own soft_fail handling around it).
    """
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_scheduler.triggers.dag_run import SchedulerDagRunTrigger

    try:
        return task.execute(context)
    except TaskDeferred as exc:
        deferred = exc
    classpath, kwargs = deferred.trigger.serialize()
    assert classpath == "airflow_provider_scheduler.triggers.dag_run.SchedulerDagRunTrigger"
    trigger = SchedulerDagRunTrigger(**kwargs)
    assert trigger == deferred.trigger
    events = asyncio.run(collect_events(trigger))
    assert len(events) == 1, events
    if deferred_events is not None:
        deferred_events.append(events[0].payload)
    return task.resume_execution(
        deferred.method_name, {**(deferred.kwargs or {}), "event": events[0].payload}, context
    )


def outcome_of(call: Callable[[], Any]) -> tuple[str, str, str]:
    """``("return", repr(value), "")`` or ``(exception class, reason class, reason message)``.

    A skip caused by ``soft_fail`` is described by its cause: Airflow words the skip itself differently
    in poke and deferral paths (and between 2.11 and 3.x), but the cause is what the user reads.
    """
    from airflow.providers.common.compat.sdk import AirflowSkipException

    try:
        value = call()
    except Exception as exc:
        reason: BaseException = exc
        if isinstance(exc, AirflowSkipException) and exc.__cause__ is not None:
            reason = exc.__cause__
        return type(exc).__name__, type(reason).__name__, str(reason)
    return "return", repr(value), ""
