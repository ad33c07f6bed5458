"""build_dag with task overrides and groups (issue 16): the built operators' attributes, on every version."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_scheduler.factory import SpecBuildError, build_dag
from airflow_provider_scheduler.factory.build import dag_config_defaults
from airflow_provider_scheduler.spec import GovernancePolicy, ScheduleSpec, parse_spec
from airflow_provider_scheduler.templates.builtins import builtin_templates
from airflow_provider_scheduler.templates.registry import NotificationTemplate, TemplateRegistry

POLICY = GovernancePolicy(pools={"analytics": ["warehouse"], "*": ["default_pool"]})

SPEC: dict[str, Any] = {
    "version": 1,
    "namespace": "analytics",
    "name": "overrides",
    "schedule": "@daily",
    "start_date": "2026-01-01",
    "max_active_tasks": 3,
    "defaults": {
        "retries": 2,
        "retry_delay": "PT5M",
        "max_retry_delay": "PT2H",
        "depends_on_past": True,
    },
    "notify": {"on_retry": [{"template": "record", "with": {"to": "spec-retry"}}]},
    "tasks": [
        {
            "id": "extract-a",
            "template": "empty",
            "group": "extract",
            "retry_delay": "PT1M",
            "retry_exponential_backoff": True,
            "max_retry_delay": "PT10M",
            "pool": "warehouse",
            "priority_weight": 7,
            "notify": {
                "on_failure": [{"template": "record", "with": {"to": "a-failed"}}],
                "on_retry": [{"template": "record", "with": {"to": "a-retry"}}],
            },
        },
        {"id": "extract-b", "template": "empty", "group": "extract"},
        {"id": "load", "template": "empty", "depends_on": ["extract-a", "extract-b"]},
    ],
}


class Recorder:
    def __init__(self, to: str, event: str) -> None:
        self.to, self.event = to, event

    def __call__(self, context):  # pragma: no cover - not run in unit tests
        return None

    def __eq__(self, other):
        return isinstance(other, Recorder) and (self.to, self.event) == (other.to, other.event)

    def __repr__(self) -> str:
        return f"Recorder({self.to!r}, {self.event!r})"

    __hash__ = None  # type: ignore[assignment]


@pytest.fixture
def registry():
    record = NotificationTemplate(
        "record",
        description="test notifier",
        with_schema={"type": "object", "properties": {"to": {"type": "string"}}},
        builder=lambda *, with_, event, spec=None: Recorder(with_["to"], event),
    )
    return TemplateRegistry([*builtin_templates(), record])


def _build(registry, data=SPEC):
    spec = parse_spec(copy.deepcopy(data), registry=registry, policy=POLICY)
    return build_dag(spec, registry, policy=POLICY)


class TestOverrides:
    def test_operator_attributes(self, registry):
        dag = _build(registry)
        a, b, load = (dag.get_task(t) for t in ("extract-a", "extract-b", "load"))
        assert a.retry_delay == timedelta(minutes=1)
        assert a.retry_exponential_backoff  # True (Airflow 3.3 stores a multiplier: 2.0 once serialised)
        assert a.max_retry_delay == timedelta(minutes=10)
        assert a.pool == "warehouse"
        assert a.priority_weight == 7
        # the others inherit the defaults
        for task in (b, load):
            assert task.retry_delay == timedelta(minutes=5)
            assert not task.retry_exponential_backoff
            assert task.max_retry_delay == timedelta(hours=2)
            assert task.pool == "default_pool"
            assert task.priority_weight == 1
        for task in (a, b, load):
            assert task.depends_on_past is True
            assert task.retries == 2

    def test_callbacks(self, registry):
        dag = _build(registry)
        a, b = dag.get_task("extract-a"), dag.get_task("extract-b")
        assert a.on_failure_callback == [Recorder("a-failed", "on_failure")]
        assert a.on_retry_callback == [Recorder("spec-retry", "on_retry"), Recorder("a-retry", "on_retry")]
        assert not b.on_failure_callback
        assert b.on_retry_callback == [Recorder("spec-retry", "on_retry")]

    def test_task_group(self, registry):
        dag = _build(registry)
        a, b, load = (dag.get_task(t) for t in ("extract-a", "extract-b", "load"))
        assert dag.task_ids == ["extract-a", "extract-b", "load"]  # ids as written: no "extract." prefix
        assert a.task_group is b.task_group
        assert a.task_group.group_id == "extract"
        assert a.task_group.prefix_group_id is False
        assert load.task_group.group_id is None  # the DAG's root group
        assert sorted(load.upstream_task_ids) == ["extract-a", "extract-b"]
        assert "extract" in dag.task_group.children

    def test_max_active_tasks(self, registry):
        assert _build(registry).max_active_tasks == 3

    def test_without_the_new_fields_the_dag_is_as_before(self, registry):
        data = {k: v for k, v in SPEC.items() if k not in ("max_active_tasks", "notify", "defaults", "tasks")}
        data["tasks"] = [{"id": "t", "template": "empty"}]
        dag = _build(registry, data)
        task = dag.get_task("t")
        assert dag.max_active_tasks == dag_config_defaults().get("max_active_tasks", dag.max_active_tasks)
        assert task.pool == "default_pool"
        assert task.priority_weight == 1
        assert task.depends_on_past is False
        assert task.task_group.group_id is None
        assert not task.on_failure_callback

    def test_serialises(self, registry):
        from airflow.serialization import serialized_objects as so

        serializer: Any = getattr(so, "DagSerialization", None) or so.SerializedDAG
        data = serializer.to_dict(_build(registry))
        tasks = {t.get("__var", t)["task_id"]: t.get("__var", t) for t in data["dag"]["tasks"]}
        assert tasks["extract-a"]["pool"] == "warehouse"
        assert tasks["extract-a"]["priority_weight"] == 7

    def test_a_task_notification_no_longer_allowed_stops_the_build(self, registry):
        spec = parse_spec(copy.deepcopy(SPEC), registry=registry, policy=POLICY)
        # stored before an admin took 'record' away from the namespace (the trusted path skips allow-lists)
        spec = ScheduleSpec.from_canonical(spec.to_dict())
        policy = GovernancePolicy(allowed_templates={"*": ["empty"]}, pools=POLICY.pools)
        with pytest.raises(SpecBuildError, match=r"^notify\.on_retry\[0\]\.template: the template 'record'"):
            build_dag(spec, registry, policy=policy)
        data = copy.deepcopy(SPEC)
        del data["notify"]
        spec = ScheduleSpec.from_canonical(parse_spec(data, registry=registry, policy=POLICY).to_dict())
        with pytest.raises(
            SpecBuildError, match=r"^tasks\[0\]\.notify\.on_failure\[0\]\.template: the template 'record'"
        ):
            build_dag(spec, registry, policy=policy)


class TestWithForEach:
    def test_a_fanned_out_task_keeps_its_overrides_and_group(self, registry):
        data = copy.deepcopy(SPEC)
        data["tasks"][0]["for_each"] = ["eu", "us"]
        dag = _build(registry, data)
        mapped = dag.get_task("extract-a")
        assert mapped.pool == "warehouse"
        assert mapped.priority_weight == 7
        assert mapped.retry_delay == timedelta(minutes=1)
        assert mapped.task_group.group_id == "extract"
        assert mapped.on_failure_callback == [Recorder("a-failed", "on_failure")]
