"""What waiting for a DAG run ends with: one event shape, one :class:`RunWatch`, for both modes.

The deferrable path (:class:`~airflow_provider_scheduler.triggers.dag_run.SchedulerDagRunTrigger`
fires an event, the task's ``execute_complete`` receives it) and the non-deferrable path (the sensor's
``poke`` / the operator's polling loop) both feed what they fetch to a :class:`RunWatch` and turn the
event into the task's result with :func:`raise_for_event`. That is what makes both modes end the same
way, with the same exception class and the same message.

Event payload (JSON-serialisable, no secrets)::

    {
        "status": "success" | "failed" | "error" | "timeout",
        "dag_id": str,
        "run_id": str | None,       # None only when no run was found (latest / logical-date lookups)
        "state": str | None,        # last state seen
        "message": str,             # what a user reads in the task log / exception
        "url": str,                 # the run in the remote UI (when the run is known)
        "error_type": str,          # only for "error": class name of the API error
        "status_code": int | None,  # only for "error"
    }
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_provider_scheduler.rest.errors import API_ERRORS, SchedulerApiError, SchedulerTransientError

#: ``url_for(dag_id, run_id)``: the run's page in the remote UI.
UrlFor = Callable[[str, str], str]

SUCCESS = "success"
FAILED = "failed"
ERROR = "error"
TIMEOUT = "timeout"
STATUSES = (SUCCESS, FAILED, ERROR, TIMEOUT)


def describe_run(dag_id: str, run_id: str | None) -> str:
    """Name a remote run in messages: ``DAG run 'dag'/'run'`` (or the DAG's latest run)."""
    if run_id is None:
        return f"the latest run of DAG {dag_id!r}"
    return f"DAG run {dag_id!r}/{run_id!r}"


def make_event(
    status: str,
    *,
    dag_id: str,
    run_id: str | None,
    state: str | None,
    message: str,
    url: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build an event payload; ``url`` is left out when unknown."""
    if status not in STATUSES:
        raise ValueError(f"unknown event status {status!r}; expected one of {STATUSES}")
    event: dict[str, Any] = {
        "status": status,
        "dag_id": dag_id,
        "run_id": run_id,
        "state": state,
        "message": message,
    }
    if url:
        event["url"] = url
    event.update(extra)
    return event


def state_event(
    run: Mapping[str, Any],
    *,
    dag_id: str,
    allowed_states: Sequence[str],
    failed_states: Sequence[str],
    url: str | None,
) -> dict[str, Any] | None:
    """Return the final event for a normalised run dict, or None while the run should be waited for."""
    state = run.get("state")
    run_id = run.get("dag_run_id")
    who = describe_run(dag_id, run_id)
    if state in allowed_states:
        return make_event(
            SUCCESS,
            dag_id=dag_id,
            run_id=run_id,
            state=state,
            message=f"{who} reached state {state!r}.",
            url=url,
        )
    if state in failed_states:
        where = f" See {url}" if url else ""
        return make_event(
            FAILED,
            dag_id=dag_id,
            run_id=run_id,
            state=state,
            message=(f"{who} ended in state {state!r}, one of failed_states {list(failed_states)}.{where}"),
            url=url,
        )
    return None


def timeout_event(
    *,
    dag_id: str,
    run_id: str | None,
    state: str | None,
    allowed_states: Sequence[str],
    url: str | None,
    last_error: str | None = None,
) -> dict[str, Any]:
    """The event for a wait that reached its deadline (the last state and last transient error named)."""
    if state is not None:
        seen = f"last state seen: {state!r}"
    else:
        seen = "no run found yet" if run_id is None else "its state could not be read yet"
    message = f"Timed out waiting for {describe_run(dag_id, run_id)} to reach {list(allowed_states)}; {seen}."
    if state == "queued":
        message += " A run that stays queued often means the DAG is paused."
    if last_error:
        message += f" Last API error: {last_error}"
    return make_event(TIMEOUT, dag_id=dag_id, run_id=run_id, state=state, message=message, url=url)


def error_event(
    error: Exception, *, dag_id: str, run_id: str | None, state: str | None, url: str | None
) -> dict[str, Any]:
    """The event for an API error that waiting cannot recover from (404, bad credentials, ...)."""
    return make_event(
        ERROR,
        dag_id=dag_id,
        run_id=run_id,
        state=state,
        message=str(error),
        url=url,
        error_type=type(error).__name__,
        status_code=getattr(error, "status_code", None),
    )


def api_error_from_event(event: Mapping[str, Any]) -> Exception:
    """Rebuild the API error an ``error`` event describes (same class and message as the sync path)."""
    # A fixed allow-list: the class is chosen from API_ERRORS, never imported by a name in an event.
    cls = API_ERRORS.get(str(event.get("error_type")), SchedulerApiError)
    return cls(str(event.get("message") or "unknown error"), status_code=event.get("status_code"))


def raise_for_event(event: Any) -> dict[str, Any]:
    """Return a ``success`` event; raise what the task should end with for every other event.

    - ``failed``: ``AirflowFailException`` (the remote run is final; a retry would see the same run).
    - ``timeout``: ``AirflowSensorTimeout`` (no retry either, like Airflow's own sensors).
    - ``error``: the same API error class the sync hook raises (retried by Airflow's task retries).
    - anything else (malformed event): ``AirflowException`` naming what was received.
    """
    if not isinstance(event, Mapping) or event.get("status") not in STATUSES:
        raise AirflowException(f"Unexpected trigger event {event!r}; expected a dict with a status.")
    status = event["status"]
    if status == SUCCESS:
        return dict(event)
    message = str(event.get("message"))
    if status == FAILED:
        raise AirflowFailException(message)
    if status == TIMEOUT:
        raise AirflowSensorTimeout(message)
    raise api_error_from_event(event)


def fail(message: str) -> NoReturn:
    """Raise ``AirflowFailException`` (final, not retried) with ``message``."""
    raise AirflowFailException(message)


class RunWatch:
    """One wait for a DAG run: what was seen so far, and the event that ends the wait.

    Driven by the sensor's ``poke`` and the operator's wait loop (:meth:`observe`) and by the trigger's
    async loop (:meth:`seen` / :meth:`failed`), so both modes decide alike: transient API errors are
    remembered and waited out, other API errors end the wait, and the run's state is checked against
    the allowed/failed states.

    :param dag_id: the DAG of the run.
    :param run_id: the run, or None when the run is looked up (latest / by logical date).
    :param allowed_states: states that end the wait successfully.
    :param failed_states: states that end the wait as failed.
    """

    def __init__(
        self, *, dag_id: str, run_id: str | None, allowed_states: Sequence[str], failed_states: Sequence[str]
    ) -> None:
        self.dag_id = dag_id
        self.run_id = run_id
        self.allowed_states = list(allowed_states)
        self.failed_states = list(failed_states)
        self.state: str | None = None
        self.url: str | None = None
        self.last_error: str | None = None

    def observe(
        self, fetch: Callable[[], Mapping[str, Any] | None], url_for: UrlFor
    ) -> dict[str, Any] | None:
        """Poll once: ``fetch()`` returns the normalised run (or None); return the final event or None."""
        self._fill_url(url_for)
        try:
            run = fetch()
        except SchedulerApiError as exc:
            return self.failed(exc)
        return self.seen(run, url_for)

    def seen(self, run: Mapping[str, Any] | None, url_for: UrlFor) -> dict[str, Any] | None:
        """A poll answered ``run`` (None: no run found yet); return the final event or None."""
        self.last_error = None
        if run is None:
            return None
        self.run_id = run.get("dag_run_id", self.run_id)
        self.state = run.get("state")
        if self.run_id is not None:
            self.url = url_for(self.dag_id, self.run_id)
        return state_event(
            run,
            dag_id=self.dag_id,
            allowed_states=self.allowed_states,
            failed_states=self.failed_states,
            url=self.url,
        )

    def failed(self, exc: SchedulerApiError, url_for: UrlFor | None = None) -> dict[str, Any] | None:
        """A poll raised ``exc``: None for a transient error (wait on), else the ``error`` event."""
        if isinstance(exc, SchedulerTransientError):
            self.last_error = str(exc)
            return None
        self._fill_url(url_for)
        return error_event(exc, dag_id=self.dag_id, run_id=self.run_id, state=self.state, url=self.url)

    def timeout(self, url_for: UrlFor | None = None) -> dict[str, Any]:
        """The ``timeout`` event for this wait (last state and last transient error named)."""
        self._fill_url(url_for)
        return timeout_event(
            dag_id=self.dag_id,
            run_id=self.run_id,
            state=self.state,
            allowed_states=self.allowed_states,
            url=self.url,
            last_error=self.last_error,
        )

    def _fill_url(self, url_for: UrlFor | None) -> None:
        if url_for is not None and self.run_id is not None and self.url is None:
            self.url = url_for(self.dag_id, self.run_id)


def check_states(allowed_states: Sequence[str], failed_states: Sequence[str]) -> tuple[list[str], list[str]]:
    """Validate the state lists of a sensor/operator: non-empty allowed states, no overlap."""
    if isinstance(allowed_states, str) or isinstance(failed_states, str):
        raise ValueError("allowed_states and failed_states must be lists of states, not a single string")
    allowed, failed = list(allowed_states), list(failed_states)
    if not allowed:
        raise ValueError("allowed_states must name at least one state, e.g. ['success']")
    overlap = sorted(set(allowed) & set(failed))
    if overlap:
        raise ValueError(f"states {overlap} are in both allowed_states and failed_states")
    return allowed, failed
