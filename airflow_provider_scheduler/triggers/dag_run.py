"""Async trigger that waits for a DAG run of an Airflow deployment (this one or another) to finish."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_scheduler.rest import run_outcome
from airflow_provider_scheduler.rest.errors import SchedulerApiError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

#: Upper bound of the wait between polls after transient errors (the trigger never polls slower).
MAX_ERROR_BACKOFF = 300.0
#: Relative jitter applied to ``poke_interval`` between polls (the first wait spreads more).
POLL_JITTER = 0.1
FIRST_POLL_JITTER = 0.5


def _to_iso(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    # Validate and normalise strings so serialize() always round-trips to the same value.
    return _to_iso(datetime.fromisoformat(value))


def deadline_after(seconds: float | timedelta | None, *, now: datetime | None = None) -> str | None:
    """The absolute ``timeout_at`` (ISO, UTC) ``seconds`` from now, or None for no timeout."""
    if seconds is None:
        return None
    delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=float(seconds))
    return _to_iso((now or datetime.now(UTC)) + delta)


class SchedulerDagRunTrigger(BaseTrigger):
    """Poll a DAG run through the REST API until it reaches an allowed or failed state, or the deadline.

    Runs in the triggerer's event loop next to thousands of others; it feeds every poll to the same
    :class:`~airflow_provider_scheduler.rest.run_outcome.RunWatch` as the sensor's ``poke``. HTTP goes through
    :class:`~airflow_provider_scheduler.hooks.async_client.SchedulerAsyncClient` (one aiohttp session
    per loop), nothing blocks the loop, and waiting is ``asyncio.sleep``.

    Fires exactly ONE event and returns; the payload is described in
    :mod:`airflow_provider_scheduler.rest.run_outcome` (``success``, ``failed`` with the reached
    state, ``error`` with the API's message, ``timeout``). Transient API errors (connection errors,
    timeouts, 408, 429, 5xx after the client's own retries) do not end the wait: the trigger backs off
    (exponentially, with jitter, never past ``timeout_at``) and polls again.

    The deadline is absolute (``timeout_at``), so a trigger the triggerer restarts (new triggerer,
    redeploy) keeps the original deadline instead of starting a new timeout.

    :param dag_id: the DAG of the run to wait for.
    :param run_id: the run to wait for; None with ``logical_date`` set waits for the run of that logical
        date, None without it waits for the DAG's latest run (by logical date).
    :param scheduler_conn_id: the ``scheduler`` connection; only its id is serialized, never credentials.
    :param allowed_states: states that end the wait successfully.
    :param failed_states: states that end the wait with a ``failed`` event.
    :param poke_interval: seconds between polls (the first wait varies by +-50 %, later ones by +-10 %,
        so that triggers started together spread out instead of polling in bursts).
    :param timeout_at: absolute deadline (datetime or ISO string; naive means UTC); None waits forever.
    :param logical_date: logical date of the run to wait for when ``run_id`` is None (ISO string/datetime).
    """

    def __init__(
        self,
        dag_id: str,
        run_id: str | None = None,
        scheduler_conn_id: str = "scheduler_default",
        allowed_states: Sequence[str] = ("success",),
        failed_states: Sequence[str] = ("failed",),
        poke_interval: float = 10.0,
        timeout_at: datetime | str | None = None,
        logical_date: datetime | str | None = None,
    ) -> None:
        super().__init__()
        self.dag_id = dag_id
        self.run_id = run_id
        self.scheduler_conn_id = scheduler_conn_id
        self.allowed_states = list(allowed_states)
        self.failed_states = list(failed_states)
        self.poke_interval = float(poke_interval)
        self.timeout_at = _to_iso(timeout_at)
        self.logical_date = _to_iso(logical_date)
        # Injection points for tests and the benchmark (never serialized).
        self._sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
        self._now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._rng: Callable[[], float] = random.random
        self._client_factory: Callable[[str], Awaitable[Any]] | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_provider_scheduler.triggers.dag_run.SchedulerDagRunTrigger",
            {
                "dag_id": self.dag_id,
                "run_id": self.run_id,
                "scheduler_conn_id": self.scheduler_conn_id,
                "allowed_states": list(self.allowed_states),
                "failed_states": list(self.failed_states),
                "poke_interval": self.poke_interval,
                "timeout_at": self.timeout_at,
                "logical_date": self.logical_date,
            },
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SchedulerDagRunTrigger) and self.serialize() == other.serialize()

    __hash__ = None  # type: ignore[assignment]

    async def _client(self) -> Any:
        if self._client_factory is not None:
            return await self._client_factory(self.scheduler_conn_id)
        # Local: aiohttp and the client load only in the triggerer, not when a DAG file builds this trigger.
        from airflow_provider_scheduler.hooks.async_client import SchedulerAsyncClient

        return await SchedulerAsyncClient.for_connection(self.scheduler_conn_id)

    async def _find_run(self, client: Any) -> dict[str, Any] | None:
        if self.run_id is not None:
            return await client.get_dag_run(self.dag_id, self.run_id)
        if self.logical_date is not None:
            runs = await client.list_dag_runs(
                self.dag_id, logical_date_gte=self.logical_date, logical_date_lte=self.logical_date, limit=1
            )
        else:
            runs = await client.list_dag_runs(self.dag_id, limit=1)
        return runs[0] if runs else None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(await self._wait())

    async def _wait(self) -> dict[str, Any]:
        deadline = datetime.fromisoformat(self.timeout_at) if self.timeout_at else None
        watch = run_outcome.RunWatch(
            dag_id=self.dag_id,
            run_id=self.run_id,
            allowed_states=self.allowed_states,
            failed_states=self.failed_states,
        )
        try:
            client = await self._client()
        except Exception as exc:
            self.log.warning("Cannot build the API client for connection %r: %s", self.scheduler_conn_id, exc)
            return run_outcome.error_event(exc, dag_id=self.dag_id, run_id=self.run_id, state=None, url=None)

        # UI URLs are built after a request, so an ``auto`` connection knows its API version.
        url_for = client.ui_url_for_run
        async with client:
            failures = polls = 0
            while True:
                # Jitter: triggers started together (a triggerer restart, a big backfill) spread out
                # instead of polling in lockstep bursts that would stall the shared event loop. The
                # first wait spreads them over +-50 % of the interval, later waits vary by +-10 %.
                spread = FIRST_POLL_JITTER if polls == 0 else POLL_JITTER
                polls += 1
                delay = self.poke_interval * (1 + spread * (2 * self._rng() - 1))
                try:
                    run = await self._find_run(client)
                except SchedulerApiError as exc:
                    event = watch.failed(exc, url_for)
                    if event is not None:
                        return event
                    failures += 1
                    ceiling = min(MAX_ERROR_BACKOFF, self.poke_interval * (2**failures))
                    delay = max(self.poke_interval, ceiling / 2 + self._rng() * ceiling / 2)
                    self.log.warning(
                        "Transient API error while waiting (%s); next poll in %.1f s", exc, delay
                    )
                except Exception as exc:  # an event, never a traceback in the triggerer
                    self.log.exception(
                        "Unexpected error while waiting for %s",
                        run_outcome.describe_run(self.dag_id, watch.run_id),
                    )
                    return run_outcome.error_event(
                        exc, dag_id=self.dag_id, run_id=watch.run_id, state=watch.state, url=None
                    )
                else:
                    failures = 0
                    event = watch.seen(run, url_for)
                    if event is not None:
                        return event
                    self.log.debug(
                        "%s is %r; next poll in %.1f s",
                        run_outcome.describe_run(self.dag_id, watch.run_id),
                        watch.state,
                        delay,
                    )
                if deadline is not None:
                    remaining = (deadline - self._now()).total_seconds()
                    if remaining <= 0:
                        return watch.timeout(url_for)
                    delay = min(delay, remaining)
                await self._sleep(delay)
