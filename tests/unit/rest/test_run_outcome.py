"""rest.run_outcome: the RunWatch both modes drive, the event shape and the task result of an event."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_provider_scheduler.rest import run_outcome
from airflow_provider_scheduler.rest.errors import (
    SchedulerApiError,
    SchedulerNotFoundError,
    SchedulerTransientError,
)


def url_for(dag_id: str, run_id: str) -> str:
    return f"https://ui/{dag_id}/{run_id}"


def watch(run_id: str | None = "r1") -> run_outcome.RunWatch:
    return run_outcome.RunWatch(
        dag_id="d", run_id=run_id, allowed_states=["success"], failed_states=["failed"]
    )


class TestRunWatch:
    def test_sync_observe_and_async_seen_decide_alike(self):
        runs = [{"dag_run_id": "r1", "state": "running"}, {"dag_run_id": "r1", "state": "success"}]
        sync, driven = watch(), watch()
        sync_events = [sync.observe(lambda run=run: run, url_for) for run in runs]
        driven_events = [driven.seen(run, url_for) for run in runs]
        assert sync_events == driven_events
        assert sync_events[0] is None
        assert sync_events[1] == {
            "status": "success",
            "dag_id": "d",
            "run_id": "r1",
            "state": "success",
            "message": "DAG run 'd'/'r1' reached state 'success'.",
            "url": "https://ui/d/r1",
        }

    def test_failed_state_names_the_url(self):
        event = watch().seen({"dag_run_id": "r1", "state": "failed"}, url_for)
        assert event is not None
        assert event["status"] == "failed"
        assert event["message"].endswith("See https://ui/d/r1")

    def test_transient_errors_are_waited_out_and_named_at_the_timeout(self):
        w = watch()
        assert w.failed(SchedulerTransientError("503 again"), url_for) is None
        event = w.timeout(url_for)
        assert event["status"] == "timeout"
        assert event["message"] == (
            "Timed out waiting for DAG run 'd'/'r1' to reach ['success']; its state could not be read yet. "
            "Last API error: 503 again"
        )
        assert event["url"] == "https://ui/d/r1"

    def test_other_api_errors_end_the_wait(self):
        def fetch():
            raise SchedulerNotFoundError("gone", status_code=404)

        sync_event = watch().observe(fetch, url_for)
        driven_event = watch().failed(SchedulerNotFoundError("gone", status_code=404), url_for)
        assert sync_event == driven_event
        assert sync_event is not None
        assert (sync_event["status"], sync_event["error_type"], sync_event["status_code"]) == (
            "error",
            "SchedulerNotFoundError",
            404,
        )

    def test_latest_run_lookup_learns_the_run_id(self):
        w = watch(run_id=None)
        assert w.seen(None, url_for) is None
        assert w.timeout(url_for)["message"].endswith("no run found yet.")
        w.seen({"dag_run_id": "r9", "state": "queued"}, url_for)
        assert (w.run_id, w.url) == ("r9", "https://ui/d/r9")
        assert "often means the DAG is paused" in w.timeout()["message"]


class TestRaiseForEvent:
    def test_success_is_returned(self):
        event = run_outcome.make_event("success", dag_id="d", run_id="r", state="success", message="ok")
        assert run_outcome.raise_for_event(event) == event

    @pytest.mark.parametrize(
        ("status", "cls"), [("failed", AirflowFailException), ("timeout", AirflowSensorTimeout)]
    )
    def test_final_events(self, status, cls):
        event = run_outcome.make_event(status, dag_id="d", run_id="r", state="x", message="why")
        with pytest.raises(cls, match=r"^why$"):
            run_outcome.raise_for_event(event)

    def test_error_event_rebuilds_the_api_error(self):
        event = run_outcome.error_event(
            SchedulerNotFoundError("gone", status_code=404), dag_id="d", run_id="r", state=None, url=None
        )
        with pytest.raises(SchedulerNotFoundError, match=r"^gone$") as info:
            run_outcome.raise_for_event(event)
        assert info.value.status_code == 404

    def test_an_unknown_error_type_is_not_imported(self):
        error = run_outcome.api_error_from_event({"error_type": "os.system", "message": "m"})
        assert type(error) is SchedulerApiError

    def test_malformed_event(self):
        with pytest.raises(AirflowException, match="Unexpected trigger event"):
            run_outcome.raise_for_event({"status": "weird"})


class TestCheckStates:
    def test_valid(self):
        assert run_outcome.check_states(("success",), ("failed",)) == (["success"], ["failed"])

    @pytest.mark.parametrize(
        ("allowed", "failed", "message"),
        [
            ("success", ["failed"], "lists of states"),
            ([], ["failed"], "at least one state"),
            (["success"], ["success"], "in both"),
        ],
    )
    def test_invalid(self, allowed, failed, message):
        with pytest.raises(ValueError, match=message):
            run_outcome.check_states(allowed, failed)
