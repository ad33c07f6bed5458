"""SchedulerDagRunSensor: arguments, run lookup (id / logical date / latest), poke and deferral details."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_scheduler.sensors.dag_run import DEFERRAL_GRACE, SchedulerDagRunSensor

if TYPE_CHECKING:
    from fake_airflow_api import FakeAirflowApi

JAN = "2026-01-01T00:00:00+00:00"
FEB = "2026-02-01T00:00:00+00:00"


def sensor(**kwargs: Any) -> SchedulerDagRunSensor:
    args: dict[str, Any] = {"task_id": "wait", "external_dag_id": "target", "poke_interval": 0.01}
    args.update(kwargs)
    return SchedulerDagRunSensor(**args)


def done_value(result: Any) -> Any:
    """The XCom value of a poke that says "done" (a PokeReturnValue)."""
    from airflow.providers.common.compat.sdk import PokeReturnValue

    assert isinstance(result, PokeReturnValue), result
    assert result.is_done
    return result.xcom_value


def poke_until_done(task: SchedulerDagRunSensor, limit: int = 10) -> tuple[int, Any]:
    """Call poke() like the poke loop does; return (number of pokes, xcom value)."""
    for count in range(1, limit + 1):
        result = task.poke({})  # type: ignore[arg-type]  # a plain dict stands in for the Context
        if result:
            return count, done_value(result)
    raise AssertionError(f"not done after {limit} pokes")


class TestArguments:
    def test_run_id_and_logical_date_are_exclusive(self) -> None:
        with pytest.raises(ValueError, match=r"^give run_id or logical_date, not both$"):
            sensor(run_id="r", logical_date=JAN)

    def test_overlapping_states_are_rejected(self) -> None:
        with pytest.raises(
            ValueError, match=r"^states \['failed'\] are in both allowed_states and failed_states$"
        ):
            sensor(allowed_states=["success", "failed"], failed_states=["failed"])

    def test_a_single_string_is_not_a_list_of_states(self) -> None:
        with pytest.raises(ValueError, match="must be lists of states, not a single string"):
            sensor(allowed_states="success")

    def test_empty_allowed_states_are_rejected(self) -> None:
        with pytest.raises(ValueError, match=r"allowed_states must name at least one state"):
            sensor(allowed_states=[])

    def test_templated_fields(self) -> None:
        assert tuple(SchedulerDagRunSensor.template_fields) == ("external_dag_id", "run_id", "logical_date")

    def test_naive_logical_date_is_rejected_when_used(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        with pytest.raises(
            ValueError, match=r"logical_date must carry a timezone \(e.g. 2026-01-01T00:00:00\+00:00\)"
        ):
            sensor(logical_date="2026-01-01T00:00:00").poke({})


class TestPoke:
    def test_waits_while_running_then_returns_the_run_id(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", "r1", states=["queued", "running", "success"])
        assert poke_until_done(sensor(run_id="r1")) == (3, "r1")

    def test_latest_run(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", "jan", states=["failed"], logical_date=JAN)
        fake_api.add_run("target", "feb", states=["running", "success"], logical_date=FEB)
        assert poke_until_done(sensor()) == (2, "feb")

    def test_run_of_a_logical_date(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", "jan", states=["success"], logical_date=JAN)
        fake_api.add_run("target", "feb", states=["failed"], logical_date=FEB)
        assert poke_until_done(sensor(logical_date=JAN)) == (1, "jan")

    def test_no_run_yet_keeps_waiting(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        task = sensor(logical_date=JAN)
        assert task.poke({}) is False
        fake_api.add_run("target", "jan", states=["success"], logical_date=JAN)
        assert done_value(task.poke({})) == "jan"  # type: ignore[arg-type]

    def test_transient_error_is_waited_out(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        fake_api.add_run("target", "r1", states=["success"])
        fake_api.fail("GET", r"/dagRuns/r1$", 503, times=1)
        task = sensor(run_id="r1")
        assert task.poke({}) is False
        assert done_value(task.poke({})) == "r1"  # type: ignore[arg-type]


class TestDeferral:
    def test_defers_with_an_absolute_deadline_and_every_argument(self, fake_api: FakeAirflowApi) -> None:
        from airflow.providers.common.compat.sdk import TaskDeferred

        task = sensor(
            logical_date=JAN,
            scheduler_conn_id="scheduler_default",
            allowed_states=["success"],
            failed_states=["failed", "upstream_failed"],
            deferrable=True,
            timeout=600,
            poke_interval=15,
        )
        with pytest.raises(TaskDeferred) as info:
            task.execute({})
        deferred = info.value
        assert deferred.method_name == "execute_complete"
        assert deferred.timeout == timedelta(seconds=600) + DEFERRAL_GRACE
        classpath, kwargs = deferred.trigger.serialize()
        timeout_at = kwargs.pop("timeout_at")
        assert classpath == "airflow_provider_scheduler.triggers.dag_run.SchedulerDagRunTrigger"
        assert kwargs == {
            "dag_id": "target",
            "run_id": None,
            "scheduler_conn_id": "scheduler_default",
            "allowed_states": ["success"],
            "failed_states": ["failed", "upstream_failed"],
            "poke_interval": 15.0,
            "logical_date": JAN,
        }
        assert timeout_at.endswith("+00:00")
        assert fake_api.requests == []  # deferring costs no API call on the worker

    def test_malformed_event_fails_clearly(self) -> None:
        from airflow.providers.common.compat.sdk import AirflowException

        with pytest.raises(
            AirflowException, match=r"^Unexpected trigger event None; expected a dict with a status\.$"
        ):
            sensor(run_id="r1").execute_complete({}, None)
