"""Notifications: notify -> Airflow callbacks (email through SmtpNotifier, webhook POST)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_scheduler.notifications import notification_callbacks
from airflow_provider_scheduler.notifications.webhook import WebhookNotifier
from airflow_provider_scheduler.spec import GovernancePolicy, parse_spec
from airflow_provider_scheduler.templates import TemplateRegistry
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates


@pytest.fixture
def registry() -> TemplateRegistry:
    return TemplateRegistry(builtin_templates(TemplateSettings(webhook_connections=("chat",))))


def spec(registry, notify):
    return parse_spec(
        {
            "version": 1,
            "namespace": "qa",
            "name": "n",
            "notify": notify,
            "tasks": [{"id": "a", "template": "empty"}],
        },
        registry=registry,
        policy=GovernancePolicy(),
    )


class TestNotificationCallbacks:
    def test_events_map_to_dag_and_task_callbacks(self, registry):
        callbacks = notification_callbacks(
            spec(
                registry,
                {
                    "on_failure": [
                        {"template": "email", "with": {"to": ["team@example.com"]}},
                        {"template": "webhook", "with": {"conn_id": "chat", "endpoint": "/hooks/airflow"}},
                    ],
                    "on_retry": [{"template": "webhook", "with": {"conn_id": "chat"}}],
                },
            ),
            registry,
        )
        failure = callbacks.dag_kwargs["on_failure_callback"]
        assert [type(c).__name__ for c in failure] == ["SmtpNotifier", "WebhookNotifier"]
        assert failure[0].to == ["team@example.com"]
        assert failure[0].subject == "[Airflow] qa.n failed"
        assert "on_success_callback" not in callbacks.dag_kwargs
        assert [c.event for c in callbacks.default_args["on_retry_callback"]] == ["on_retry"]

    def test_disallowed_later_raises_with_path(self, registry):
        built = spec(registry, {"on_success": [{"template": "webhook", "with": {"conn_id": "chat"}}]})
        registry.disable("webhook")
        with pytest.raises(ValueError, match=r"^notify.on_success\[0\].template: the notification template"):
            notification_callbacks(built, registry)


class TestWebhookNotifier:
    def test_posts_summary_without_conf(self, monkeypatch, requests_mock):
        monkeypatch.setenv("AIRFLOW_CONN_CHAT", '{"conn_type": "http", "host": "https://chat.example.com"}')
        mock = requests_mock.post("https://chat.example.com/hooks/airflow", status_code=200)
        dag_run = SimpleNamespace(
            dag_id="qa.n", run_id="scheduled__1", state="failed", logical_date=None, conf={"token": "x"}
        )
        WebhookNotifier(conn_id="chat", endpoint="/hooks/airflow", event="on_failure").notify(
            {"dag_run": dag_run}
        )
        assert mock.last_request.json() == {
            "event": "on_failure",
            "dag_id": "qa.n",
            "run_id": "scheduled__1",
            "state": "failed",
            "logical_date": None,
            "task_id": None,
            "try_number": None,
        }
