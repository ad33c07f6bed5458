"""Spec notify -> Airflow callbacks (email through SmtpNotifier, webhook POST)."""

from __future__ import annotations

import pytest

from airflow_provider_scheduler.factory.callbacks import notification_callbacks
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

    def test_policy_allow_list_rechecked(self, registry):
        built = spec(registry, {"on_success": [{"template": "webhook", "with": {"conn_id": "chat"}}]})
        assert notification_callbacks(built, registry, GovernancePolicy()).dag_kwargs
        policy = GovernancePolicy(allowed_templates={"qa": ["empty"]})
        with pytest.raises(
            ValueError, match=r"^notify.on_success\[0\].template: the template 'webhook' is not"
        ):
            notification_callbacks(built, registry, policy)
