"""SchedulerDagRunTrigger: serialization, exactly one event, backoff, absolute deadline (restart-safe)."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_scheduler.triggers.dag_run import (
    MAX_ERROR_BACKOFF,
    SchedulerDagRunTrigger,
    deadline_after,
)

if TYPE_CHECKING:
    from fake_airflow_api import FakeAirflowApi

RUN_ID = "manual__2026-03-01T00:00:00+00:00"
RUN_PATH = r"/dagRuns/[^/]+$"


class FakeClock:
    """Injected into the trigger: ``sleep`` advances ``now`` instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


def run_trigger(trigger: SchedulerDagRunTrigger, clock: FakeClock | None = None) -> list[Any]:
    if trigger._rng is random.random:
        trigger._rng = lambda: 0.5  # the middle of the jitter range: waits are exactly poke_interval
    if clock is not None:
        trigger._sleep = clock.sleep
        trigger._now = lambda: clock.now

    async def collect() -> list[Any]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


def make(**kwargs: Any) -> SchedulerDagRunTrigger:
    args: dict[str, Any] = {"dag_id": "target", "run_id": RUN_ID, "poke_interval": 5}
    args.update(kwargs)
    return SchedulerDagRunTrigger(**args)


def url(api: FakeAirflowApi, run_id: str = RUN_ID) -> str:
    return f"{api.url}/dags/target/runs/{run_id.replace(':', '%3A').replace('+', '%2B')}"


class TestSerialize:
    def test_round_trip_with_every_argument_and_no_secret(self, fake_api: FakeAirflowApi) -> None:
        trigger = make(
            scheduler_conn_id="scheduler_default",
            allowed_states=("success", "skipped"),
            failed_states=("failed",),
            timeout_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        )
        classpath, kwargs = trigger.serialize()
        assert classpath == "airflow_provider_scheduler.triggers.dag_run.SchedulerDagRunTrigger"
        assert kwargs == {
            "dag_id": "target",
            "run_id": RUN_ID,
            "scheduler_conn_id": "scheduler_default",
            "allowed_states": ["success", "skipped"],
            "failed_states": ["failed"],
            "poke_interval": 5.0,
            "timeout_at": "2026-03-01T12:00:00+00:00",
            "logical_date": None,
        }
        assert SchedulerDagRunTrigger(**kwargs) == trigger
        assert SchedulerDagRunTrigger(**kwargs).serialize() == (classpath, kwargs)
        # JSON-serialisable (the triggerer stores kwargs in the database) and credential-free.
        text = json.dumps(kwargs)
        assert "s3cret-pw" not in text
        assert "admin" not in text

    def test_naive_and_offset_timestamps_become_utc(self) -> None:
        assert make(timeout_at="2026-03-01T12:00:00").timeout_at == "2026-03-01T12:00:00+00:00"
        assert make(timeout_at="2026-03-01T14:00:00+02:00").timeout_at == "2026-03-01T12:00:00+00:00"
        assert (
            make(run_id=None, logical_date=datetime(2026, 3, 1)).logical_date == "2026-03-01T00:00:00+00:00"
        )

    def test_bad_timestamp_is_rejected_at_construction(self) -> None:
        with pytest.raises(ValueError, match="Invalid isoformat string: 'tomorrow'"):
            make(timeout_at="tomorrow")

    def test_deadline_after(self) -> None:
        start = datetime(2026, 3, 1, tzinfo=UTC)
        assert deadline_after(90, now=start) == "2026-03-01T00:01:30+00:00"
        assert deadline_after(timedelta(hours=1), now=start) == "2026-03-01T01:00:00+00:00"
        assert deadline_after(None) is None


class TestRun:
    def test_success_is_one_event_after_polling(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["queued", "running", "success"])
        clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
        events = run_trigger(make(), clock)
        assert events == [
            {
                "status": "success",
                "dag_id": "target",
                "run_id": RUN_ID,
                "state": "success",
                "message": f"DAG run 'target'/{RUN_ID!r} reached state 'success'.",
                "url": url(fake_api),
            }
        ]
        assert clock.sleeps == [5.0, 5.0]
        assert fake_api.count("GET", RUN_PATH) == 3

    def test_failed_state_names_the_state_and_url(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["running", "upstream_failed"])
        events = run_trigger(make(failed_states=["failed", "upstream_failed"]), FakeClock(datetime.now(UTC)))
        assert len(events) == 1
        assert events[0]["status"] == "failed"
        assert events[0]["state"] == "upstream_failed"
        assert events[0]["message"] == (
            f"DAG run 'target'/{RUN_ID!r} ended in state 'upstream_failed', one of failed_states "
            f"['failed', 'upstream_failed']. See {url(fake_api)}"
        )

    def test_not_found_is_an_error_event_not_a_traceback(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        events = run_trigger(make(run_id="nope"), FakeClock(datetime.now(UTC)))
        assert len(events) == 1
        assert events[0]["status"] == "error"
        assert events[0]["error_type"] == "SchedulerNotFoundError"
        assert events[0]["status_code"] == 404
        assert "The DagRun with dag_id: `target` and run_id: `nope` was not found" in events[0]["message"]

    def test_unknown_connection_is_an_error_event(self, fake_api: FakeAirflowApi) -> None:
        events = run_trigger(make(scheduler_conn_id="no_such_conn"), FakeClock(datetime.now(UTC)))
        assert len(events) == 1
        assert events[0]["status"] == "error"
        assert "no_such_conn" in events[0]["message"]

    def test_recovers_after_an_api_server_key_rotation(self, fake_api: FakeAirflowApi) -> None:
        # Airflow 3 answers 403 "Invalid JWT token" to a token signed with a rotated key: the deferred
        # wait fetches a new token and goes on, as the sync hook does (it used to end with an error).
        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["success"])
        fake_api.fail("GET", RUN_PATH, 403, body={"detail": "Invalid JWT token"})
        events = run_trigger(make(), FakeClock(datetime.now(UTC)))
        assert [e["status"] for e in events] == ["success"]
        assert fake_api.tokens_issued == 2
        assert fake_api.count("GET", RUN_PATH) == 2

    def test_transient_errors_back_off_and_recover(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["success"])
        fake_api.fail("GET", RUN_PATH, 503, times=3)
        clock = FakeClock(datetime.now(UTC))
        trigger = make()
        trigger._rng = lambda: 1.0  # the top of each jitter range: 10, 20, 40 s
        events = run_trigger(trigger, clock)
        assert [e["status"] for e in events] == ["success"]
        assert clock.sleeps == [10.0, 20.0, 40.0]

    def test_first_wait_spreads_by_half_later_ones_by_ten_percent(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["running", "running", "success"])
        clock = FakeClock(datetime.now(UTC))
        trigger = make()
        draws = iter([0.0, 1.0, 0.5])
        trigger._rng = lambda: next(draws)
        assert [e["status"] for e in run_trigger(trigger, clock)] == ["success"]
        assert clock.sleeps == [2.5, 5.5]

    def test_backoff_is_bounded(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["success"])
        fake_api.fail("GET", RUN_PATH, 502, times=12)
        clock = FakeClock(datetime.now(UTC))
        trigger = make()
        trigger._rng = lambda: 1.0
        assert [e["status"] for e in run_trigger(trigger, clock)] == ["success"]
        assert max(clock.sleeps) == MAX_ERROR_BACKOFF
        assert min(clock.sleeps) >= 5.0

    def test_never_sleeps_past_the_deadline_and_times_out(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["running"])
        start = datetime(2026, 3, 1, tzinfo=UTC)
        clock = FakeClock(start)
        events = run_trigger(make(timeout_at=start + timedelta(seconds=12)), clock)
        assert clock.sleeps == [5.0, 5.0, 2.0]
        assert events == [
            {
                "status": "timeout",
                "dag_id": "target",
                "run_id": RUN_ID,
                "state": "running",
                "message": f"Timed out waiting for DAG run 'target'/{RUN_ID!r} to reach ['success']; "
                "last state seen: 'running'.",
                "url": url(fake_api),
            }
        ]

    def test_restarted_after_its_deadline_polls_once_then_times_out(self, fake_api: FakeAirflowApi) -> None:
        """Idempotent on triggerer restart: the deadline is absolute, not a fresh timeout."""
        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["running"])
        original = make(timeout_at=deadline_after(60, now=datetime(2026, 3, 1, tzinfo=UTC)))
        restarted = SchedulerDagRunTrigger(**original.serialize()[1])
        clock = FakeClock(datetime(2026, 3, 1, 0, 5, tzinfo=UTC))  # the triggerer came back 5 min later
        events = run_trigger(restarted, clock)
        assert [e["status"] for e in events] == ["timeout"]
        assert clock.sleeps == []
        assert fake_api.count("GET", RUN_PATH) == 1

    def test_restarted_before_its_deadline_finishes_the_same_wait(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["running", "running", "success"])
        start = datetime(2026, 3, 1, tzinfo=UTC)
        kwargs = make(timeout_at=start + timedelta(seconds=60)).serialize()[1]
        events = run_trigger(SchedulerDagRunTrigger(**kwargs), FakeClock(start + timedelta(seconds=30)))
        assert [e["status"] for e in events] == ["success"]

    def test_latest_run_when_no_run_id(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", "old", states=["failed"], logical_date="2026-01-01T00:00:00+00:00")
        fake_api.add_run(
            "target", "new", states=["running", "success"], logical_date="2026-02-01T00:00:00+00:00"
        )
        events = run_trigger(make(run_id=None), FakeClock(datetime.now(UTC)))
        assert [(e["status"], e["run_id"]) for e in events] == [("success", "new")]

    def test_run_of_a_logical_date(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", "jan", states=["success"], logical_date="2026-01-01T00:00:00+00:00")
        fake_api.add_run("target", "feb", states=["failed"], logical_date="2026-02-01T00:00:00+00:00")
        trigger = make(run_id=None, logical_date="2026-01-01T00:00:00+00:00")
        events = run_trigger(trigger, FakeClock(datetime.now(UTC)))
        assert [(e["status"], e["run_id"]) for e in events] == [("success", "jan")]

    def test_no_run_yet_waits_then_times_out_saying_so(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        start = datetime(2026, 3, 1, tzinfo=UTC)
        events = run_trigger(make(run_id=None, timeout_at=start + timedelta(seconds=10)), FakeClock(start))
        assert events == [
            {
                "status": "timeout",
                "dag_id": "target",
                "run_id": None,
                "state": None,
                "message": "Timed out waiting for the latest run of DAG 'target' to reach ['success']; "
                "no run found yet.",
            }
        ]


async def collect_events(trigger: SchedulerDagRunTrigger) -> list[Any]:
    return [event async for event in trigger.run()]


class TestCancellation:
    def test_cancelled_trigger_leaves_the_shared_session_closed(self, fake_api: FakeAirflowApi) -> None:
        """The triggerer cancels run() when the task is cleared or times out: nothing may leak."""
        from airflow_provider_scheduler.hooks.async_client import loop_state

        fake_api.add_dag("target")
        fake_api.add_run("target", RUN_ID, states=["running"])

        async def scenario() -> tuple[int, bool]:
            trigger = make(poke_interval=30)
            task: asyncio.Task[list[Any]] = asyncio.create_task(collect_events(trigger))
            for _ in range(1000):  # until the first poll reached the server (at most ~10 s)
                if fake_api.count("GET", RUN_PATH):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the trigger never polled")
            state = loop_state()
            session = state.session
            assert session is not None
            assert state.users == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return state.users, session.closed

        assert asyncio.run(scenario()) == (0, True)
