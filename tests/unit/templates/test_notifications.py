"""The webhook notifier (notify -> callbacks is tested in tests/unit/factory/test_callbacks.py)."""

from __future__ import annotations

from types import SimpleNamespace

from airflow_provider_scheduler.notifications.webhook import WebhookNotifier


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
