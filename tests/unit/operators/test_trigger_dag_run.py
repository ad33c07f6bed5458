"""SchedulerTriggerDagRunOperator / SchedulerPauseDagOperator: run ids, idempotency, XCom, extra link."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from task_runner import PARENT_DAG_ID, PARENT_RUN_ID, make_context, run_task

from airflow_provider_scheduler.hooks.scheduler import SchedulerNotFoundError
from airflow_provider_scheduler.operators.pause_dag import SchedulerPauseDagOperator
from airflow_provider_scheduler.operators.trigger_dag_run import (
    SchedulerDagRunLink,
    SchedulerTriggerDagRunOperator,
    deterministic_run_id,
)

if TYPE_CHECKING:
    from fake_airflow_api import FakeAirflowApi


def trigger_op(**kwargs: Any) -> SchedulerTriggerDagRunOperator:
    args: dict[str, Any] = {"task_id": "trigger", "trigger_dag_id": "target", "poke_interval": 0.01}
    args.update(kwargs)
    return SchedulerTriggerDagRunOperator(**args)


class TestDeterministicRunId:
    def test_format(self) -> None:
        assert deterministic_run_id("parent.dag", "manual__2026-01-01T00:00:00+00:00", "group.trigger") == (
            "triggered_by__parent.dag__manual__2026-01-01T00:00:00+00:00__group.trigger"
        )

    def test_map_index_is_part_of_it(self) -> None:
        assert deterministic_run_id("d", "r", "t", 3) == "triggered_by__d__r__t__3"
        assert deterministic_run_id("d", "r", "t", -1) == "triggered_by__d__r__t"

    def test_characters_outside_the_run_id_pattern_are_replaced(self) -> None:
        assert deterministic_run_id("d", "my run/1", "t") == "triggered_by__d__my_run_1__t"

    def test_long_ids_are_shortened_stably(self) -> None:
        long_id = deterministic_run_id("d" * 200, "r" * 200, "t")
        assert len(long_id) == 250
        assert long_id == deterministic_run_id("d" * 200, "r" * 200, "t")
        assert long_id != deterministic_run_id("d" * 200, "r" * 199 + "x", "t")


class TestTrigger:
    def test_triggers_with_conf_note_and_pushes_xcom(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        context = make_context("trigger")
        result = trigger_op(conf={"region": "eu"}, note="from a test").execute(context)
        run_id = deterministic_run_id(PARENT_DAG_ID, PARENT_RUN_ID, "trigger", -1)
        assert result == run_id
        run = fake_api.dags["target"].runs[run_id]
        assert (run.conf, run.note, run.logical_date) == ({"region": "eu"}, "from a test", None)
        assert context["ti"].xcoms == {
            "run_id": run_id,
            "run_url": f"{fake_api.url}/dags/target/runs/{run_id.replace(':', '%3A').replace('+', '%2B')}",
        }
        assert fake_api.count("GET", r"/dagRuns/") == 0  # no waiting without wait_for_completion

    def test_a_retry_reuses_the_run_instead_of_starting_a_second_one(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target", states=["running", "success"])
        first = run_task(trigger_op(wait_for_completion=True), make_context("trigger"))
        second = run_task(trigger_op(wait_for_completion=True, deferrable=True), make_context("trigger"))
        assert first == second
        assert list(fake_api.dags["target"].runs) == [first]
        assert fake_api.count("POST", r"/dagRuns$") == 2  # the second answered 409 -> existing run

    def test_explicit_run_id_and_logical_date(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        op = trigger_op(run_id="my_run", logical_date="2026-05-01T00:00:00+00:00")
        assert op.execute(make_context("trigger")) == "my_run"
        assert fake_api.dags["target"].runs["my_run"].logical_date == "2026-05-01T00:00:00+00:00"

    def test_conf_as_rendered_json_string(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        trigger_op(run_id="r", conf='{"n": 1}').execute(make_context("trigger"))
        assert fake_api.dags["target"].runs["r"].conf == {"n": 1}

    @pytest.mark.parametrize(
        ("conf", "error", "message"),
        [
            ("[1, 2]", TypeError, "conf must be a JSON object (dict), got list"),
            ("{nope", ValueError, "conf is a string but not JSON: Expecting property name"),
        ],
    )
    def test_bad_conf(
        self, fake_api: FakeAirflowApi, conf: str, error: type[Exception], message: str
    ) -> None:
        fake_api.add_dag("target")
        with pytest.raises(error) as info:
            trigger_op(conf=conf).execute(make_context("trigger"))
        assert str(info.value).startswith(message)
        assert fake_api.count("POST", r"/dagRuns$") == 0

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"poke_interval": 0}, "poke_interval must be positive, got 0"),
            ({"timeout": -1}, "timeout must be positive seconds or None, got -1"),
            (
                {"allowed_states": ["failed"]},
                "states ['failed'] are in both allowed_states and failed_states",
            ),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any], message: str) -> None:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            trigger_op(**kwargs)

    def test_templated_fields(self) -> None:
        assert tuple(SchedulerTriggerDagRunOperator.template_fields) == (
            "trigger_dag_id",
            "conf",
            "run_id",
            "logical_date",
            "note",
        )


class TestExtraLink:
    def test_link_reads_the_run_url_from_xcom(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow.providers.common.compat.sdk import XCom

        asked: list[dict[str, Any]] = []

        def get_value(**kwargs: Any) -> str:
            asked.append(kwargs)
            return "http://airflow.example.com/dags/target/runs/r1"

        monkeypatch.setattr(XCom, "get_value", staticmethod(get_value))
        op = trigger_op()
        link = SchedulerDagRunLink()
        assert link.name == "Remote DAG run"
        assert link.get_link(op, ti_key="KEY") == "http://airflow.example.com/dags/target/runs/r1"  # type: ignore[arg-type]
        assert asked == [{"ti_key": "KEY", "key": "run_url"}]
        assert any(isinstance(lnk, SchedulerDagRunLink) for lnk in op.operator_extra_links)

    def test_no_link_before_the_run_exists(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow.providers.common.compat.sdk import XCom

        monkeypatch.setattr(XCom, "get_value", staticmethod(lambda **kwargs: None))
        assert SchedulerDagRunLink().get_link(trigger_op(), ti_key="KEY") == ""  # type: ignore[arg-type]


class TestPause:
    def test_pause_and_unpause(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")
        op = SchedulerPauseDagOperator(task_id="pause", target_dag_id="target")
        assert op.execute(make_context("pause")) == {"dag_id": "target", "is_paused": True}
        assert fake_api.dags["target"].paused is True
        op = SchedulerPauseDagOperator(task_id="unpause", target_dag_id="target", paused=False)
        assert op.execute(make_context("unpause")) == {"dag_id": "target", "is_paused": False}
        assert fake_api.dags["target"].paused is False

    def test_unknown_dag(self, fake_api: FakeAirflowApi) -> None:
        op = SchedulerPauseDagOperator(task_id="pause", target_dag_id="nope")
        with pytest.raises(
            SchedulerNotFoundError, match=r"answered 404 Not Found to PATCH /api/v2/dags/nope"
        ):
            op.execute(make_context("pause"))

    def test_paused_must_be_a_bool(self) -> None:
        with pytest.raises(TypeError, match=r"^paused must be True or False, got 'yes'$"):
            SchedulerPauseDagOperator(task_id="p", target_dag_id="d", paused="yes")  # type: ignore[arg-type]
