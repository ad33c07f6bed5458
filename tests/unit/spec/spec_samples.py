"""A valid spec used by the spec tests (a module, so property tests can import it)."""

from __future__ import annotations

from typing import Any

VALID: dict[str, Any] = {
    "version": 1,
    "namespace": "analytics",
    "name": "daily-orders",
    "description": "Daily orders report",
    "owner": "alice@example.com",
    "tags": ["finance"],
    "schedule": {"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"},
    "start_date": "2026-01-01",
    "dagrun_timeout": "PT2H",
    "params": {"region": {"type": "string", "enum": ["eu", "us"], "default": "eu"}},
    "defaults": {
        "retries": 2,
        "retry_delay": "PT5M",
        "retry_exponential_backoff": True,
        "execution_timeout": "PT1H",
    },
    "notify": {"on_failure": [{"template": "email", "with": {"to": ["team@example.com"]}}]},
    "tasks": [
        {
            "id": "refresh",
            "template": "trigger_dag",
            "with": {"dag_id": "orders_refresh", "conf": {"region": "{{ params.region }}"}},
        },
        {
            "id": "report",
            "template": "http_request",
            "with": {"conn_id": "reports_api", "endpoint": "/reports/orders", "method": "POST"},
            "depends_on": ["refresh"],
        },
        {"id": "load", "template": "empty", "depends_on": ["report"]},
        {"id": "done", "template": "empty", "depends_on": ["load"], "trigger_rule": "all_done"},
    ],
}
