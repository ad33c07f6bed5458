"""Operator that triggers a DAG run on an Airflow deployment (this one or another) and can wait for it."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator, BaseOperatorLink, conf

from airflow_provider_scheduler.rest import run_outcome

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context, TaskInstanceKey

    from airflow_provider_scheduler.hooks.scheduler import SchedulerHook

#: XCom keys the operator pushes (the extra link reads ``run_url``).
XCOM_RUN_ID = "run_id"
XCOM_RUN_URL = "run_url"
#: Airflow's default ``[scheduler] allowed_run_id_pattern`` and run-id column length.
_RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.~:+-]")
_RUN_ID_MAX = 250
#: Extra time given to Airflow's deferral timeout beyond the trigger's own deadline, so the trigger's
#: ``timeout`` event (naming the last state) arrives first.
DEFERRAL_GRACE = timedelta(minutes=5)


def deterministic_run_id(dag_id: str, run_id: str, task_id: str, map_index: int | None = None) -> str:
    """The run id used when none is given: ``triggered_by__<dag_id>__<run_id>__<task_id>[__<map_index>]``.

    It depends only on the triggering task instance, so a retry or a clear of that task finds the run it
    created before (the hook returns the existing run on 409) instead of starting a second one.
    Characters outside Airflow's default run-id pattern become ``_``; an id longer than 250 characters
    keeps a readable prefix and ends with a hash of the full id.
    """
    parts = ["triggered_by", dag_id, run_id, task_id]
    if map_index is not None and map_index >= 0:
        parts.append(str(map_index))
    full = _RUN_ID_UNSAFE.sub("_", "__".join(parts))
    if len(full) <= _RUN_ID_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:32]
    return f"{full[: _RUN_ID_MAX - len(digest) - 2]}__{digest}"


class SchedulerDagRunLink(BaseOperatorLink):
    """Operator extra link: the triggered run's page in the (possibly remote) Airflow UI.

    Reads the URL the operator pushed to XCom under ``run_url``; works on Airflow 2.11 and 3.x.
    """

    name = "Remote DAG run"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        # Local: XCom loads the XCom backend (on 2.11 the ORM models); only the UI asks for the link.
        from airflow.providers.common.compat.sdk import XCom

        url = XCom.get_value(ti_key=ti_key, key=XCOM_RUN_URL)
        return str(url) if url else ""


class SchedulerTriggerDagRunOperator(BaseOperator):
    """Trigger a DAG run through the REST API of an Airflow deployment, and optionally wait for it.

    The run id and the run's UI URL are pushed to XCom (keys ``run_id`` and ``run_url``; the run id is
    also the return value) and shown as the "Remote DAG run" extra link.

    Re-running the task (retry, clear) does not start a second run: without ``run_id`` the operator
    uses :func:`deterministic_run_id` of the current task instance, and triggering an existing run id
    returns that run. Note that after a clear the existing (maybe finished) run is reused as is.

    With ``wait_for_completion`` the result is the same with ``deferrable=True`` (the wait runs in the
    triggerer, the worker slot is freed) and without it:

    - the run reaches ``allowed_states``: success;
    - the run reaches ``failed_states``: ``AirflowFailException`` naming the remote run, its state and URL;
    - ``timeout`` seconds pass: ``AirflowSensorTimeout`` naming the last state (``queued`` often means
      the target DAG is paused);
    - an API error waiting cannot fix (404, 401/403): the hook's error; transient errors are waited out.

    :param trigger_dag_id: the DAG to trigger (templated).
    :param scheduler_conn_id: the ``scheduler`` connection of the deployment.
    :param conf: the run's conf, a JSON object (templated; a JSON string is accepted).
    :param run_id: the run id (templated); default: :func:`deterministic_run_id`.
    :param logical_date: the run's logical date (templated; ISO 8601 with timezone or datetime).
    :param note: a note shown on the run (templated).
    :param wait_for_completion: wait until the run is in ``allowed_states`` or ``failed_states``.
    :param poke_interval: seconds between state checks while waiting.
    :param allowed_states: run states that end the wait successfully.
    :param failed_states: run states that fail the task.
    :param timeout: seconds (or timedelta) to wait at most; None waits without limit.
    :param fail_when_dag_is_paused: check the target DAG first and fail if it is paused (a paused DAG
        accepts the run but never starts it).
    :param deferrable: wait in the triggerer; defaults to ``[operators] default_deferrable``.
    """

    template_fields: Sequence[str] = ("trigger_dag_id", "conf", "run_id", "logical_date", "note")
    template_fields_renderers = {"conf": "json"}
    ui_color = "#c6e3f0"
    operator_extra_links = (SchedulerDagRunLink(),)

    def __init__(
        self,
        *,
        trigger_dag_id: str,
        scheduler_conn_id: str = "scheduler_default",
        conf: Mapping[str, Any] | str | None = None,
        run_id: str | None = None,
        logical_date: datetime | str | None = None,
        note: str | None = None,
        wait_for_completion: bool = False,
        poke_interval: float = 10,
        allowed_states: Sequence[str] = ("success",),
        failed_states: Sequence[str] = ("failed",),
        timeout: float | timedelta | None = None,
        fail_when_dag_is_paused: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.trigger_dag_id = trigger_dag_id
        self.scheduler_conn_id = scheduler_conn_id
        self.conf = conf
        self.run_id = run_id
        self.logical_date = logical_date
        self.note = note
        self.wait_for_completion = wait_for_completion
        if poke_interval <= 0:
            raise ValueError(f"poke_interval must be positive, got {poke_interval!r}")
        self.poke_interval = float(poke_interval)
        self.allowed_states, self.failed_states = run_outcome.check_states(allowed_states, failed_states)
        if isinstance(timeout, timedelta):
            timeout = timeout.total_seconds()
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive seconds or None, got {timeout!r}")
        self.timeout = timeout
        self.fail_when_dag_is_paused = fail_when_dag_is_paused
        self.deferrable = deferrable

    def _hook(self) -> SchedulerHook:
        # Local: hooks.scheduler loads requests (about 50 ms, measured) and DAG files import this module.
        from airflow_provider_scheduler.hooks.scheduler import SchedulerHook

        return SchedulerHook(scheduler_conn_id=self.scheduler_conn_id)

    def _conf(self) -> dict[str, Any]:
        value = self.conf
        if value is None or value == "":
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as err:
                raise ValueError(f"conf is a string but not JSON: {err}") from None
        if not isinstance(value, Mapping):
            raise TypeError(f"conf must be a JSON object (dict), got {type(value).__name__}")
        return dict(value)

    def _run_id(self, context: Context) -> str:
        if self.run_id:
            return str(self.run_id)
        ti = context["ti"]
        return deterministic_run_id(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", None))

    # -- execution -------------------------------------------------------------------------------------
    def execute(self, context: Context) -> str:
        hook = self._hook()
        dag_id = self.trigger_dag_id
        if self.fail_when_dag_is_paused and hook.get_dag(dag_id).get("is_paused"):
            run_outcome.fail(
                f"DAG {dag_id!r} is paused on {hook.settings.base_url}: a run would stay queued. "
                "Unpause it (SchedulerPauseDagOperator(paused=False)) or set fail_when_dag_is_paused=False."
            )
        run = hook.trigger_dag_run(
            dag_id,
            conf=self._conf(),
            run_id=self._run_id(context),
            logical_date=self.logical_date or None,
            note=self.note,
        )
        run_id = str(run["dag_run_id"])
        url = hook.ui_url_for_run(dag_id, run_id)
        self._push(context, run_id, url)
        self.log.info("DAG run %s/%s is %s: %s", dag_id, run_id, run.get("state"), url)
        if not self.wait_for_completion:
            return run_id
        if self.deferrable:
            self._defer(run_id)
        return self._wait(hook, run_id)

    def _push(self, context: Context, run_id: str, url: str | None) -> None:
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RUN_ID, value=run_id)
        if url:
            ti.xcom_push(key=XCOM_RUN_URL, value=url)

    def _defer(self, run_id: str) -> None:
        # Local: the trigger module loads airflow.triggers.base (7 ms measured); only deferral uses it.
        from airflow_provider_scheduler.triggers.dag_run import SchedulerDagRunTrigger, deadline_after

        self.defer(
            trigger=SchedulerDagRunTrigger(
                dag_id=self.trigger_dag_id,
                run_id=run_id,
                scheduler_conn_id=self.scheduler_conn_id,
                allowed_states=self.allowed_states,
                failed_states=self.failed_states,
                poke_interval=self.poke_interval,
                timeout_at=deadline_after(self.timeout),
            ),
            method_name="execute_complete",
            timeout=None if self.timeout is None else timedelta(seconds=self.timeout) + DEFERRAL_GRACE,
        )

    def _wait(self, hook: SchedulerHook, run_id: str) -> str:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        watch = run_outcome.RunWatch(
            dag_id=self.trigger_dag_id,
            run_id=run_id,
            allowed_states=self.allowed_states,
            failed_states=self.failed_states,
        )
        while True:
            event = watch.observe(lambda: hook.get_dag_run(self.trigger_dag_id, run_id), hook.ui_url_for_run)
            if event is None and deadline is not None and time.monotonic() >= deadline:
                event = watch.timeout()
            if event is not None:
                return self._finish(event)
            if watch.last_error:
                self.log.warning("Transient API error, will check again: %s", watch.last_error)
            else:
                self.log.info("DAG run %s/%s is %s", self.trigger_dag_id, run_id, watch.state)
            delay = self.poke_interval
            if deadline is not None:
                delay = max(0.0, min(delay, deadline - time.monotonic()))
            time.sleep(delay)

    def _finish(self, event: dict[str, Any]) -> str:
        result = run_outcome.raise_for_event(event)
        self.log.info("%s", result["message"])
        return str(result["run_id"])

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        """Resume after the trigger fired: the same result / error as the non-deferrable wait."""
        if isinstance(event, Mapping) and event.get("run_id"):
            self._push(context, str(event["run_id"]), event.get("url"))
        return self._finish(event)  # type: ignore[arg-type]  # raise_for_event rejects a None event
