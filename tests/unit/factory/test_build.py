"""build_dag: every spec field becomes the right DAG / task attribute, deterministically."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_scheduler.factory import SpecBuildError, build_dag
from airflow_provider_scheduler.factory.build import SpecOrigin
from airflow_provider_scheduler.factory.timetables import airflow_schedule
from airflow_provider_scheduler.spec import GovernancePolicy, parse_spec
from airflow_provider_scheduler.spec.schedule import CronSchedule
from airflow_provider_scheduler.templates.builtins import builtin_templates
from airflow_provider_scheduler.templates.registry import NotificationTemplate, TaskTemplate, TemplateRegistry

RICH = {
    "version": 1,
    "namespace": "analytics",
    "name": "daily-orders",
    "description": "Daily orders report\n\nRuns the **orders** refresh, then the report.",
    "owner": "alice@example.com",
    "tags": ["finance"],
    "paused": True,
    "schedule": {"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"},
    "start_date": "2026-01-01",
    "end_date": "2027-01-01",
    "catchup": True,
    "max_active_runs": 3,
    "dagrun_timeout": "PT2H",
    "params": {"region": {"type": "string", "enum": ["eu", "us"], "default": "eu", "description": "Region"}},
    "defaults": {
        "retries": 2,
        "retry_delay": "PT5M",
        "retry_exponential_backoff": True,
        "execution_timeout": "PT1H",
    },
    "notify": {
        "on_failure": [{"template": "record", "with": {"to": "failure"}}],
        "on_success": [{"template": "record", "with": {"to": "success"}}],
        "on_retry": [{"template": "record", "with": {"to": "retry"}}],
    },
    "tasks": [
        {"id": "create-env", "template": "empty", "role": "setup"},
        {
            "id": "refresh",
            "template": "empty",
            "depends_on": ["create-env"],
            "retries": 5,
            "execution_timeout": "PT10M",
        },
        {"id": "report", "template": "empty", "depends_on": ["refresh"], "trigger_rule": "all_done"},
        {"id": "drop-env", "template": "empty", "depends_on": ["report"], "role": "teardown"},
    ],
}


class Recorder:
    """A notification callback that remembers its target (compared by value in the tests)."""

    def __init__(self, to: str, event: str) -> None:
        self.to, self.event = to, event

    def __call__(self, context):  # pragma: no cover - not run in unit tests
        return None

    def __eq__(self, other):
        return isinstance(other, Recorder) and (self.to, self.event) == (other.to, other.event)

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


def _serialized(dag):
    from airflow.serialization import serialized_objects as so

    serializer: Any = getattr(so, "DagSerialization", None) or so.SerializedDAG
    return json.dumps(serializer.to_dict(dag), sort_keys=True, default=str)


class TestBuildDag:
    def test_every_field_is_honoured(self, registry):
        spec = parse_spec(RICH, registry=registry)
        dag = build_dag(spec, registry)
        berlin = ZoneInfo("Europe/Berlin")

        assert dag.dag_id == "analytics.daily-orders"
        assert type(dag.timetable).__name__ == "SpecTimetable"
        assert dag.timetable.summary == "0 6 * * 1-5 Europe/Berlin"
        assert dag.timetable == airflow_schedule(CronSchedule("0 6 * * 1-5", "Europe/Berlin"))
        assert dag.timetable != airflow_schedule(CronSchedule("0 6 * * 1-5", "UTC"))
        assert dag.timetable != airflow_schedule(CronSchedule("0 7 * * 1-5", "Europe/Berlin"))
        assert dag.start_date == datetime(2026, 1, 1, tzinfo=berlin)
        assert dag.timezone.name == "Europe/Berlin"
        assert dag.end_date == datetime(
            2027, 1, 1, 23, 59, 59, tzinfo=berlin
        )  # a plain date includes that day
        assert dag.catchup is True
        assert dag.max_active_runs == 3
        assert dag.dagrun_timeout == timedelta(hours=2)
        assert dag.params["region"] == "eu"
        param = dag.params.get_param("region")
        assert param.schema["enum"] == ["eu", "us"]
        assert param.description == "Region"
        assert set(dag.tags) == {"finance", "namespace:analytics"}
        assert dag.description == "Daily orders report"
        assert dag.doc_md.startswith(RICH["description"] + "\n\n---\n\n")
        assert dag.is_paused_upon_creation is True
        assert dag.owner == "alice@example.com"
        assert dag.on_failure_callback == [Recorder("failure", "on_failure")]
        assert dag.on_success_callback == [Recorder("success", "on_success")]

        assert dag.task_ids == ["create-env", "refresh", "report", "drop-env"]
        setup, refresh, report, teardown = (dag.get_task(t) for t in dag.task_ids)
        for task in (setup, refresh, report, teardown):
            assert task.owner == "alice@example.com"
            assert task.retry_delay == timedelta(minutes=5)
            assert task.retry_exponential_backoff
            assert task.on_retry_callback == [Recorder("retry", "on_retry")]
        assert (setup.retries, setup.execution_timeout) == (2, timedelta(hours=1))
        assert (refresh.retries, refresh.execution_timeout) == (5, timedelta(minutes=10))
        assert report.trigger_rule == "all_done"
        assert setup.is_setup
        assert not setup.is_teardown
        assert teardown.is_teardown
        assert not teardown.is_setup
        assert sorted(teardown.upstream_task_ids) == ["create-env", "report"]
        assert sorted(refresh.upstream_task_ids) == ["create-env"]
        assert sorted(report.upstream_task_ids) == ["refresh"]

    def test_minimal_spec_defaults(self, registry):
        spec = parse_spec(
            {
                "version": 1,
                "namespace": "qa",
                "name": "manual",
                "schedule": None,
                "tasks": [{"id": "t", "template": "empty"}],
            },
            registry=registry,
        )
        dag = build_dag(spec, registry)
        assert type(dag.timetable).__name__ == "NullTimetable"
        assert dag.catchup is False
        assert dag.max_active_runs == 1
        assert dag.is_paused_upon_creation is False
        assert set(dag.tags) == {"namespace:qa"}
        assert dag.doc_md == (
            "Generated from the schedule spec `qa.manual`.\n\n"
            "Schedule: none: triggered runs only.\n\n"
            "Change it through the spec, not here: `airflow-scheduler show qa.manual > qa.manual.yaml`, "
            "edit the file, then `airflow-scheduler apply qa.manual.yaml`; "
            "`airflow-scheduler history qa.manual` lists every revision."
        )
        assert dag.owner == "airflow"
        assert dag.get_task("t").retries == 0

    def test_docs_say_where_the_dag_comes_from(self, registry):
        spec = parse_spec(RICH, registry=registry)
        origin = SpecOrigin(7, "alice@example.com", "2026-03-02T09:15:00+00:00")
        dag = build_dag(spec, registry, origin=origin)
        assert dag.doc_md == (
            f"{RICH['description']}\n\n---\n\n"
            "Generated from the schedule spec `analytics.daily-orders`, revision 7 by `alice@example.com` "
            "at `2026-03-02T09:15:00+00:00`.\n\n"
            "Schedule: `0 6 * * 1-5` Europe/Berlin.\n\n"
            "Change it through the spec, not here: "
            "`airflow-scheduler show analytics.daily-orders > analytics.daily-orders.yaml`, edit the file, "
            "then `airflow-scheduler apply analytics.daily-orders.yaml`; "
            "`airflow-scheduler history analytics.daily-orders` lists every revision."
        )

    @pytest.mark.parametrize(
        ("schedule", "text"),
        [
            ("@daily", "`@daily` UTC"),
            (
                {"crons": ["0 6 * * *", "0 18 * * *"], "timezone": "Asia/Tokyo"},
                "`0 6 * * *`, `0 18 * * *` Asia/Tokyo",
            ),
            ({"every": "PT4H"}, "every `PT4H`"),
            ("@once", "once (`@once`), at the start date"),
            ({"assets": ["s3://a/b", "s3://a/c"], "mode": "any"}, "when any of 2 asset(s) update"),
        ],
    )
    def test_docs_name_the_schedule_and_its_timezone(self, registry, schedule, text):
        spec = parse_spec({**RICH, "schedule": schedule, "catchup": False}, registry=registry)
        assert f"\n\nSchedule: {text}.\n\n" in build_dag(spec, registry).doc_md

    def test_an_author_cannot_add_markup_to_the_docs(self, registry):
        spec = parse_spec(RICH, registry=registry)
        origin = SpecOrigin(2, "eve`](http://evil)\n# Heading", None)
        doc = build_dag(spec, registry, origin=origin).doc_md
        assert "revision 2 by `eve'](http://evil) # Heading`." in doc
        assert "\n# Heading" not in doc

    def test_deterministic(self, registry):
        spec = parse_spec(RICH, registry=registry)
        first, second = build_dag(spec, registry), build_dag(spec, registry)
        assert first is not second
        assert _serialized(first) == _serialized(second)
        assert [(t.task_id, sorted(t.upstream_task_ids)) for t in first.tasks] == [
            (t.task_id, sorted(t.upstream_task_ids)) for t in second.tasks
        ]

    def test_template_disabled_after_storing_fails_with_path(self, registry):
        spec = parse_spec(RICH, registry=registry)
        registry.disable("empty")
        with pytest.raises(
            SpecBuildError, match=r"^tasks\[0\] \(create-env\): the task template 'empty' is disabled"
        ):
            build_dag(spec, registry)

    def test_template_no_longer_allowed_by_policy_fails_with_path(self, registry):
        spec = parse_spec(RICH, registry=registry)
        build_dag(spec, registry, policy=GovernancePolicy())  # allowed as stored
        policy = GovernancePolicy(allowed_templates={"analytics": ["record"]})
        with pytest.raises(
            SpecBuildError,
            match=r"^tasks\[0\] \(create-env\): the template 'empty' is not allowed in namespace 'analytics'",
        ):
            build_dag(spec, registry, policy=policy)

    def test_notification_no_longer_allowed_by_policy(self, registry):
        spec = parse_spec(RICH, registry=registry)
        names = {t.template for t in spec.tasks}
        with pytest.raises(SpecBuildError) as err:
            build_dag(spec, registry, policy=GovernancePolicy(allowed_templates={"analytics": sorted(names)}))
        assert str(err.value) == (
            "notify.on_failure[0].template: the template 'record' is not allowed in namespace 'analytics'"
        )

    def test_builder_error_names_task_and_template(self, registry):
        def broken(*, task_id, with_, **kwargs):
            raise KeyError("conn_id")

        registry.register(
            TaskTemplate("broken", description="x", with_schema={"type": "object"}, builder=broken)
        )
        spec = parse_spec(
            {
                "version": 1,
                "namespace": "qa",
                "name": "b",
                "schedule": None,
                "tasks": [{"id": "t", "template": "broken"}],
            },
            registry=registry,
        )
        with pytest.raises(SpecBuildError) as err:
            build_dag(spec, registry)
        assert str(err.value) == "tasks[0] (t): template 'broken' failed: 'conn_id'"

    def test_fast_edges_equal_airflow_operators(self, registry, monkeypatch):
        """The direct edge path builds exactly what ``>>`` builds (serialized DAGs are equal)."""
        from airflow_provider_scheduler.factory import build

        spec = parse_spec(RICH, registry=registry)
        fast = _serialized(build_dag(spec, registry))
        monkeypatch.setattr(build, "_link", lambda up, down, dag: up >> down)
        assert _serialized(build_dag(spec, registry)) == fast

    def test_config_defaults_are_airflows(self, registry):
        """Arguments read once from the configuration equal what Airflow's DAG would read itself."""
        from airflow.providers.common.compat.sdk import DAG

        from airflow_provider_scheduler.factory.build import dag_config_defaults

        plain = DAG("plain", schedule=None)
        defaults = dag_config_defaults()
        assert "max_active_tasks" in defaults
        for argument, value in defaults.items():
            assert getattr(plain, argument) == value

    def test_notification_template_disabled_after_storing(self, registry):
        spec = parse_spec(RICH, registry=registry)
        registry.disable("record")
        with pytest.raises(SpecBuildError) as err:
            build_dag(spec, registry)
        assert str(err.value).startswith(
            "notify.on_failure[0].template: the notification template 'record' is disabled"
        )


class TestOutlets:
    def test_the_task_emits_its_assets(self, registry):
        from airflow_provider_scheduler.spec import parse_spec

        spec = parse_spec(
            {
                "version": 1,
                "namespace": "analytics",
                "name": "producer",
                "schedule": None,
                "tasks": [
                    {"id": "load", "template": "empty", "outlets": ["s3://warehouse/orders"]},
                    {"id": "after", "template": "empty", "depends_on": ["load"]},
                ],
            },
            registry=registry,
        )
        dag = build_dag(spec, registry)
        assert [a.uri for a in dag.get_task("load").outlets] == ["s3://warehouse/orders"]
        assert dag.get_task("after").outlets == []
