"""Sensor that waits for a DAG run on an Airflow deployment (this one or another) to finish."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_scheduler.rest import run_outcome
from airflow_provider_scheduler.rest.errors import SchedulerApiError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_scheduler.hooks.scheduler import SchedulerHook

#: Extra time given to Airflow's own deferral timeout beyond the trigger's deadline, so the trigger's
#: ``timeout`` event (with the last state in its message) arrives first.
DEFERRAL_GRACE = timedelta(minutes=5)


def _parse_logical_date(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"logical_date must be an ISO 8601 date-time, got {text!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"logical_date must carry a timezone (e.g. {text}+00:00), got {text!r}")
    return parsed


def _same_instant(value: Any, when: datetime) -> bool:
    if not value:
        return False
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) == when
    except ValueError:
        return False


class SchedulerDagRunSensor(BaseSensorOperator):
    """Wait until a DAG run of an Airflow deployment reaches one of ``allowed_states``.

    The run is the one named by ``run_id``, or the run of ``logical_date``, or (both None) the DAG's
    latest run by logical date. The deployment is the one the ``scheduler`` connection points at: this
    one or another.

    Outcomes are the same with ``deferrable=True`` (the wait runs in the triggerer through
    :class:`~airflow_provider_scheduler.triggers.dag_run.SchedulerDagRunTrigger`, the worker slot is
    freed) and without it (``poke``):

    - a state in ``allowed_states``: success; the run id is returned (XCom ``return_value``);
    - a state in ``failed_states``: ``AirflowFailException`` naming the run, its state and its URL
      (no retries: the run is final);
    - ``timeout`` seconds passed: ``AirflowSensorTimeout`` naming the last state seen;
    - an API error that waiting cannot fix (404: unknown DAG or run, 401/403): the hook's error
      (``SchedulerNotFoundError``, ``SchedulerAuthError``, ...), retried by the task's ``retries``;
    - transient API errors (connection errors, 408, 429, 5xx) are waited out until ``timeout``.

    ``soft_fail=True`` turns every failure above into a skip, in both modes.

    :param external_dag_id: the DAG whose run to wait for (templated).
    :param run_id: the run to wait for (templated); None to use ``logical_date`` or the latest run.
    :param logical_date: wait for the run of this logical date (templated; ISO 8601 with timezone).
    :param scheduler_conn_id: the ``scheduler`` connection of the deployment.
    :param allowed_states: run states that end the wait successfully.
    :param failed_states: run states that fail the task at once.
    :param deferrable: wait in the triggerer instead of a worker slot; defaults to
        ``[operators] default_deferrable``.
    """

    template_fields: Sequence[str] = ("external_dag_id", "run_id", "logical_date")
    ui_color = "#d9ecf2"

    def __init__(
        self,
        *,
        external_dag_id: str,
        run_id: str | None = None,
        logical_date: datetime | str | None = None,
        scheduler_conn_id: str = "scheduler_default",
        allowed_states: Sequence[str] = ("success",),
        failed_states: Sequence[str] = ("failed",),
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if run_id is not None and logical_date is not None:
            raise ValueError("give run_id or logical_date, not both")
        self.external_dag_id = external_dag_id
        self.run_id = run_id
        self.logical_date = logical_date
        self.scheduler_conn_id = scheduler_conn_id
        self.allowed_states, self.failed_states = run_outcome.check_states(allowed_states, failed_states)
        self.deferrable = deferrable
        self._watch: run_outcome.RunWatch | None = None
        self._deadline: float | None = None

    def _hook(self) -> SchedulerHook:
        # Local: hooks.scheduler loads requests (about 50 ms, measured) and DAG files import this module.
        from airflow_provider_scheduler.hooks.scheduler import SchedulerHook

        return SchedulerHook(scheduler_conn_id=self.scheduler_conn_id)

    def _run_id(self) -> str | None:
        return str(self.run_id) if self.run_id else None

    # -- execution -----------------------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        if self.deferrable:
            self._defer()
        # Poke mode keeps its own deadline so a timeout says the same as the trigger's timeout event.
        self._deadline = None if self.reschedule else time.monotonic() + float(self.timeout)
        return super().execute(context)

    def _defer(self) -> None:
        # Local: the trigger module loads airflow.triggers.base (7 ms measured); only deferral uses it.
        from airflow_provider_scheduler.triggers.dag_run import SchedulerDagRunTrigger, deadline_after

        logical_date = _parse_logical_date(self.logical_date)
        self.log.info(
            "Deferring: waiting for %s to reach %s",
            run_outcome.describe_run(self.external_dag_id, self._run_id()),
            self.allowed_states,
        )
        self.defer(
            trigger=SchedulerDagRunTrigger(
                dag_id=self.external_dag_id,
                run_id=self._run_id(),
                logical_date=logical_date,
                scheduler_conn_id=self.scheduler_conn_id,
                allowed_states=self.allowed_states,
                failed_states=self.failed_states,
                poke_interval=float(self.poke_interval),
                timeout_at=deadline_after(float(self.timeout)),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)) + DEFERRAL_GRACE,
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        if self._watch is None:
            self._watch = run_outcome.RunWatch(
                dag_id=self.external_dag_id,
                run_id=self._run_id(),
                allowed_states=self.allowed_states,
                failed_states=self.failed_states,
            )
        hook = self._hook()
        watch = self._watch
        self.log.info("Poking for %s", run_outcome.describe_run(self.external_dag_id, watch.run_id))
        event = watch.observe(lambda: self._find_run(hook), hook.ui_url_for_run)
        # A small margin so this deadline (whose message names the last state) always fires before
        # the base class's own timeout check, which runs right after a poke returning False.
        if event is None and self._deadline is not None and time.monotonic() >= self._deadline - 0.05:
            event = watch.timeout()
        if event is None:
            if watch.last_error:
                self.log.warning("Transient API error, will poke again: %s", watch.last_error)
            else:
                self.log.info(
                    "%s is in state %r",
                    run_outcome.describe_run(self.external_dag_id, watch.run_id),
                    watch.state,
                )
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish(event))

    def _find_run(self, hook: SchedulerHook) -> dict[str, Any] | None:
        run_id = self._run_id()
        if run_id is not None:
            return hook.get_dag_run(self.external_dag_id, run_id)
        logical_date = _parse_logical_date(self.logical_date)
        if logical_date is None:
            runs = hook.list_dag_runs(self.external_dag_id, limit=1)
            return runs[0] if runs else None
        # The sync hook's list_dag_runs has no logical-date filter (the async client uses the API's
        # logical_date_gte/lte): look among the 100 newest runs.
        for run in hook.list_dag_runs(self.external_dag_id, limit=100):
            if _same_instant(run.get("logical_date"), logical_date):
                return run
        return None

    def _finish(self, event: dict[str, Any], *, soft_fail_api_errors: bool = True) -> str | None:
        """Return the run id for a success event; raise what the task ends with otherwise.

        Airflow's poke loop turns ``AirflowFailException`` / ``AirflowSensorTimeout`` into a skip under
        ``soft_fail``, and its deferral path (``resume_execution``) turns every ``AirflowException``
        into one. So in poke mode an API error becomes a skip here too, and both modes skip on the
        same failures with the same cause.
        """
        try:
            result = run_outcome.raise_for_event(event)
        except SchedulerApiError as exc:
            if self.soft_fail and soft_fail_api_errors:
                raise AirflowSkipException("Skipping due to soft_fail is set to True.") from exc
            raise
        self.log.info("%s", result["message"])
        return result.get("run_id")

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str | None:
        """Resume after the trigger fired: the same result / error as the poke path.

        ``soft_fail`` is applied by Airflow's ``resume_execution`` around this method.
        """
        return self._finish(event, soft_fail_api_errors=False)  # type: ignore[arg-type]
