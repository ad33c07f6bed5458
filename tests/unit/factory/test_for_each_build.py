"""``for_each`` tasks become Airflow mapped operators (dynamic task mapping), ``{{ item }}`` per instance."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from airflow_provider_scheduler.factory.build import build_dag
from airflow_provider_scheduler.operators.for_each import (
    MAP_INDEX_TEMPLATE,
    ForEachItemsOperator,
    for_each_class,
    items_problem,
)
from airflow_provider_scheduler.spec import GovernancePolicy, parse_spec
from airflow_provider_scheduler.templates import TemplateRegistry
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

try:  # Airflow 3
    from airflow.sdk.definitions.mappedoperator import MappedOperator
    from airflow.sdk.definitions.xcom_arg import XComArg
except ImportError:  # Airflow 2.11
    from airflow.models.mappedoperator import MappedOperator  # type: ignore[no-redef]
    from airflow.models.xcom_arg import XComArg  # type: ignore[no-redef]

POLICY = GovernancePolicy(max_map_length=10)

SPEC: dict[str, Any] = {
    "version": 1,
    "namespace": "team-a",
    "name": "fanout",
    "schedule": None,
    "params": {"regions": {"type": "array", "default": ["eu"], "maxItems": 50}},
    "tasks": [
        {"id": "start", "template": "empty"},
        {
            "id": "refresh-region",
            "template": "http_request",
            "for_each": ["eu", "us", "apac"],
            "depends_on": ["start"],
            "retries": 3,
            "with": {"conn_id": "warehouse", "endpoint": "/refresh/{{ item }}", "method": "POST"},
        },
        {
            "id": "check",
            "template": "python",
            "for_each": "{{ params.regions }}",
            "depends_on": ["start"],
            "trigger_rule": "all_done",
            "with": {"callable": "json.dumps", "kwargs": {"obj": "{{ item | upper }}"}},
        },
        {
            "id": "echo",
            "template": "bash",
            "for_each": [{"code": "eu", "n": 1}],
            "with": {"command": "echo {{ item.code }}"},
        },
        {"id": "done", "template": "empty", "depends_on": ["refresh-region", "check", "echo"]},
    ],
}


@pytest.fixture
def registry() -> TemplateRegistry:
    settings = TemplateSettings(http_connections=("warehouse",), python_callables=("json.dumps",))
    return TemplateRegistry(builtin_templates(settings), enabled=("bash", "python"))


@pytest.fixture
def dag(registry):
    return build_dag(parse_spec(SPEC, registry=registry, policy=POLICY), registry, policy=POLICY)


class TestMapped:
    def test_a_literal_list_is_the_expand_input(self, dag):
        task = dag.get_task("refresh-region")
        assert isinstance(task, MappedOperator)
        assert task.expand_input.value == {"for_each_item": ["eu", "us", "apac"]}
        assert task.operator_class.__name__ == "SpecHttpRequestOperator"  # the UI shows the template's
        assert task.partial_kwargs["endpoint"] == "/refresh/{{ item }}"  # rendered by Airflow, per instance
        assert task.partial_kwargs["retries"] == 3
        assert task.partial_kwargs["map_index_template"] == MAP_INDEX_TEMPLATE
        assert task.upstream_task_ids == {"start"}

    def test_a_param_list_comes_from_the_list_step(self, dag):
        step = dag.get_task("check__items")
        task = dag.get_task("check")
        assert isinstance(step, ForEachItemsOperator)
        assert (step.param, step.max_length) == ("regions", 10)
        assert step.retries == 0
        assert step.trigger_rule == "all_done"  # runs whenever the task would
        assert step.upstream_task_ids == {"start"}
        assert isinstance(task, MappedOperator)
        (expanded,) = task.expand_input.value.values()
        assert isinstance(expanded, XComArg)
        assert expanded.operator is step
        assert task.upstream_task_ids == {"check__items"}
        assert task.operator_class.__name__ == "PythonOperator"
        assert task.partial_kwargs["op_kwargs"] == {"obj": "{{ item | upper }}"}

    def test_downstream_waits_for_the_mapped_task(self, dag):
        assert dag.get_task("done").upstream_task_ids == {"refresh-region", "check", "echo"}

    def test_bash_keeps_its_quoting_rule(self, dag):
        task = dag.get_task("echo")
        assert task.expand_input.value == {"for_each_item": [{"code": "eu", "n": 1}]}
        assert task.partial_kwargs["bash_command"] == 'echo "${SCHED_VALUE_1}"'
        assert task.partial_kwargs["env"] == {"SCHED_VALUE_1": "{{ item.code }}"}

    def test_the_fanned_param_gets_the_cap_as_max_items(self, dag):
        assert dag.params.get_param("regions").schema["maxItems"] == 10

    def test_the_dag_serializes(self, dag):
        from airflow.serialization import serialized_objects as so

        serializer: Any = getattr(so, "DagSerialization", None) or so.SerializedDAG
        data = serializer.to_dict(dag)
        back = serializer.from_dict(json.loads(json.dumps(data, default=str)))
        assert sorted(back.task_ids) == sorted(dag.task_ids)
        assert type(back.get_task("refresh-region")).__name__.endswith("MappedOperator")

    def test_a_spec_without_for_each_builds_plain_operators(self, registry):
        plain = copy.deepcopy(SPEC)
        plain["tasks"] = [plain["tasks"][0]]
        dag = build_dag(parse_spec(plain, registry=registry, policy=POLICY), registry, policy=POLICY)
        assert not isinstance(dag.get_task("start"), MappedOperator)
        assert dag.task_ids == ["start"]


class TestItemInTheContext:
    def test_item_is_rendered_by_airflow_and_never_itself(self):
        from airflow_provider_scheduler.operators.http_request import SpecHttpRequestOperator

        cls = for_each_class(SpecHttpRequestOperator)
        assert cls is for_each_class(SpecHttpRequestOperator)  # one subclass per operator class
        op = cls(
            task_id="x",
            http_conn_id="warehouse",
            endpoint="/r/{{ item | upper }}/{{ params.day }}",
            json={"region": "{{ item }}"},
            for_each_item="{{ params.secret }}eu",
        )
        context: dict[str, Any] = {"params": {"day": "mon", "secret": "s3cr3t"}}
        op.render_template_fields(context)  # type: ignore[arg-type]
        # the item is data: its text is not rendered again
        assert op.endpoint == "/r/{{ PARAMS.SECRET }}EU/mon"
        assert op.json == {"region": "{{ params.secret }}eu"}


class TestListStep:
    def test_returns_the_list(self):
        step = ForEachItemsOperator(task_id="s", param="regions", max_length=3)
        assert step.execute({"params": {"regions": ["eu", "us"]}}) == ["eu", "us"]  # type: ignore[arg-type]

    def test_a_list_over_the_cap_fails_the_run_naming_the_cap(self):
        from airflow.providers.common.compat.sdk import AirflowException

        step = ForEachItemsOperator(task_id="s", param="regions", max_length=2)
        with pytest.raises(AirflowException) as info:
            step.execute({"params": {"regions": ["a", "b", "c"]}})  # type: ignore[arg-type]
        assert str(info.value) == (
            "params.regions lists 3 items; for_each fans out over at most 2 ([schedule_specs] "
            "max_map_length): trigger the run with a shorter list"
        )

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("eu", "params.regions must be a list to fan out over (for_each), not str"),
            (None, "params.regions must be a list to fan out over (for_each), not NoneType"),
            (
                ["eu", ["x"]],
                "params.regions[1] must be a string, a number, true/false or a flat object of those, "
                "not a list",
            ),
        ],
    )
    def test_what_cannot_fan_out(self, value, message):
        assert items_problem(value, "regions", 5) == message
