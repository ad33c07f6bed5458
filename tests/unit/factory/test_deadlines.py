"""Spec ``deadline`` -> Airflow's DeadlineAlert, and the coroutine the triggerer awaits on a miss."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from recording_http import RecordingServer

from airflow_provider_scheduler.factory.build import SpecBuildError, build_dag
from airflow_provider_scheduler.spec import GovernancePolicy, ScheduleSpec, parse_spec
from airflow_provider_scheduler.templates import TemplateRegistry
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

try:
    from airflow.sdk.definitions.deadline import AsyncCallback, DeadlineReference

    HAS_DEADLINES = True
except ImportError:  # Airflow 2.11 / 3.0
    HAS_DEADLINES = False

needs_deadlines = pytest.mark.skipif(not HAS_DEADLINES, reason="deadline alerts are Airflow 3.1+")


@pytest.fixture
def registry() -> TemplateRegistry:
    return TemplateRegistry(builtin_templates(TemplateSettings(webhook_connections=("chat",))))


def _spec(registry, deadline, **extra) -> ScheduleSpec:
    return parse_spec(
        {
            "version": 1,
            "namespace": "qa",
            "name": "late",
            "schedule": {"cron": "0 6 * * *", "timezone": "Europe/Berlin"},
            "start_date": "2026-01-01",
            "deadline": deadline,
            "tasks": [{"id": "a", "template": "empty"}],
            **extra,
        },
        registry=registry,
        policy=GovernancePolicy(),
    )


WEBHOOK = {"template": "webhook", "with": {"conn_id": "chat", "endpoint": "/late"}}


@needs_deadlines
class TestDeadlineAlert:
    def test_queued_deadline_calls_the_providers_coroutine_with_data_only(self, registry):
        dag = build_dag(_spec(registry, {"after": "PT2H", "notify": [WEBHOOK]}), registry)
        [alert] = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
        assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
        assert alert.interval == timedelta(hours=2)
        assert isinstance(alert.callback, AsyncCallback)
        assert alert.callback.path == "airflow_provider_scheduler.factory.deadlines.deadline_missed"
        assert alert.callback.kwargs == {
            "dag_id": "qa.late",
            "namespace": "qa",
            "notify": [{"template": "webhook@1", "with": {"conn_id": "chat", "endpoint": "/late"}}],
        }
        json.dumps(alert.callback.kwargs)  # stored with the serialized DAG: plain JSON

    def test_from_logical_date(self, registry):
        dag = build_dag(
            _spec(registry, {"after": "PT30M", "from": "logical_date", "notify": [WEBHOOK]}), registry
        )
        [alert] = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
        assert alert.reference == DeadlineReference.DAGRUN_LOGICAL_DATE

    def test_serializes_and_reads_back(self, registry):
        try:
            from airflow.serialization.serialized_objects import DagSerialization as Serialization
        except ImportError:  # Airflow 3.1
            from airflow.serialization.serialized_objects import SerializedDAG as Serialization

        dag = build_dag(_spec(registry, {"after": "PT2H", "notify": [WEBHOOK]}), registry)
        data = Serialization.to_dict(dag)
        assert "deadline_missed" in json.dumps(data["dag"]["deadline"])
        Serialization.from_dict(data)

    def test_template_disabled_since_is_a_build_error(self, registry):
        spec = _spec(registry, {"after": "PT2H", "notify": [WEBHOOK]})
        registry.disable("webhook")
        with pytest.raises(SpecBuildError, match=r"deadline.notify\[0\].template: .*disabled"):
            build_dag(spec, registry)

    def test_policy_allow_list_rechecked(self, registry):
        spec = _spec(registry, {"after": "PT2H", "notify": [WEBHOOK]})
        policy = GovernancePolicy(allowed_templates={"qa": ["empty", "email"]})
        with pytest.raises(SpecBuildError, match=r"deadline.notify\[0\].template: .*not allowed"):
            build_dag(spec, registry, policy=policy)

    def test_no_deadline_no_alert(self, registry):
        spec = parse_spec(
            {"version": 1, "namespace": "qa", "name": "n", "tasks": [{"id": "a", "template": "empty"}]},
            registry=registry,
        )
        assert not build_dag(spec, registry).deadline


@pytest.mark.skipif(HAS_DEADLINES, reason="this Airflow has deadline alerts")
def test_older_airflow_refuses_to_build_a_stored_deadline(registry):
    spec = _spec(registry, {"after": "PT2H", "notify": [WEBHOOK]})  # policy without a version: accepted
    with pytest.raises(SpecBuildError, match=r"deadline: .*needs Airflow 3.1 or later"):
        build_dag(spec, registry)


@needs_deadlines  # only Airflow 3.1+ ever awaits it
class TestDeadlineMissed:
    """The coroutine as the triggerer awaits it: Airflow's context in, notifications out."""

    CONTEXT = {
        "dag_run": {
            "dag_id": "qa.late",
            "dag_run_id": "scheduled__2026-12-01T05:00:00+00:00",
            "state": "running",
            "logical_date": "2026-12-01T05:00:00Z",
            "queued_at": "2026-12-01T05:00:01Z",
            "conf": {"token": "must-not-be-posted"},
        },
        "deadline": {"id": "0199", "deadline_time": "2026-12-01T07:00:01Z"},
    }

    @pytest.fixture
    def configured(self, monkeypatch):
        from airflow_provider_scheduler.spec.policy import default_policy
        from airflow_provider_scheduler.templates.registry import default_registry

        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__WEBHOOK_CONNECTIONS", "chat")
        default_registry.cache_clear()
        default_policy.cache_clear()
        yield monkeypatch
        default_registry.cache_clear()
        default_policy.cache_clear()

    def test_posts_the_run_to_the_webhook(self, configured):
        from airflow_provider_scheduler.factory.deadlines import deadline_missed

        with RecordingServer() as server:
            configured.setenv("AIRFLOW_CONN_CHAT", json.dumps({"conn_type": "http", "host": server.url}))
            result = asyncio.run(
                deadline_missed(dag_id="qa.late", namespace="qa", notify=[WEBHOOK], context=self.CONTEXT)
            )
        [received] = server.received
        assert received.path == "/late"
        assert received.json() == {
            "event": "deadline_missed",
            "dag_id": "qa.late",
            "run_id": "scheduled__2026-12-01T05:00:00+00:00",
            "state": "running",
            "logical_date": "2026-12-01T05:00:00Z",
            "task_id": None,
            "try_number": None,
        }
        assert result == (
            "qa.late missed its deadline (run scheduled__2026-12-01T05:00:00+00:00): notified webhook"
        )

    def test_a_template_disabled_since_sends_nothing(self, configured):
        from airflow_provider_scheduler.factory.deadlines import deadline_missed

        configured.setenv("AIRFLOW__SCHEDULE_SPECS__DISABLED_TEMPLATES", "webhook")
        with RecordingServer() as server:
            configured.setenv("AIRFLOW_CONN_CHAT", json.dumps({"conn_type": "http", "host": server.url}))
            with pytest.raises(RuntimeError, match=r"no deadline notification was sent: qa.late: deadline"):
                asyncio.run(deadline_missed(dag_id="qa.late", namespace="qa", notify=[WEBHOOK]))
        assert server.received == []

    def test_a_pinned_version_is_sent_and_a_retired_one_is_not(self, configured):
        """What ``NotifierSpec.to_dict()`` writes (``webhook@1``) is sent; a version retired since, not."""
        from airflow_provider_scheduler.factory.deadlines import deadline_missed
        from airflow_provider_scheduler.templates.registry import default_registry

        pinned = {**WEBHOOK, "template": "webhook@1"}
        with RecordingServer() as server:
            configured.setenv("AIRFLOW_CONN_CHAT", json.dumps({"conn_type": "http", "host": server.url}))
            result = asyncio.run(
                deadline_missed(dag_id="qa.late", namespace="qa", notify=[pinned], context={})
            )
            assert result.endswith("notified webhook")
            assert len(server.received) == 1
            configured.setenv("AIRFLOW__SCHEDULE_SPECS__RETIRED_TEMPLATES", "webhook@1")
            default_registry.cache_clear()
            with pytest.raises(RuntimeError, match=r"no deadline notification was sent: .*\(webhook@1\)"):
                asyncio.run(deadline_missed(dag_id="qa.late", namespace="qa", notify=[pinned], context={}))
        assert len(server.received) == 1

    def test_one_failing_notification_does_not_stop_the_next(self, configured):
        from airflow_provider_scheduler.factory.deadlines import deadline_missed

        with RecordingServer() as server:
            configured.setenv("AIRFLOW_CONN_CHAT", json.dumps({"conn_type": "http", "host": server.url}))
            broken = {"template": "webhook", "with": {"conn_id": "missing"}}  # no such connection
            result = asyncio.run(
                deadline_missed(dag_id="qa.late", namespace="qa", notify=[broken, WEBHOOK], context={})
            )
        assert len(server.received) == 1
        assert result.endswith("notified webhook")
