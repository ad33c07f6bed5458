"""The webhook notifier (notify -> callbacks is tested in tests/unit/factory/test_callbacks.py)."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
from recording_http import RecordingServer, Reply

from airflow_provider_scheduler.notifications.webhook import WebhookNotifier

API_KEY = "Zq7-webhook-key"
DAG_RUN = SimpleNamespace(dag_id="qa.n", run_id="scheduled__1", state="failed", logical_date=None, conf={})


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


class TestWebhookRedirects:
    """Two real servers on 127.0.0.1: the approved receiver redirects, the foreign one gets nothing."""

    @pytest.fixture
    def foreign(self):
        with RecordingServer() as server:
            yield server

    @staticmethod
    def approve(monkeypatch, url: str) -> None:
        monkeypatch.setenv(
            "AIRFLOW_CONN_CHAT",
            json.dumps({"conn_type": "http", "host": url, "extra": {"headers": {"X-Api-Key": API_KEY}}}),
        )

    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    def test_redirect_to_another_host_is_refused_and_logged(
        self, monkeypatch, caplog, foreign, status
    ) -> None:
        route = lambda received: RecordingServer.redirect(f"{foreign.url}/collect", status)  # noqa: E731
        caplog.set_level(logging.INFO, logger="airflow_provider_scheduler.notifications.webhook")
        with RecordingServer(route) as approved:
            self.approve(monkeypatch, approved.url)
            WebhookNotifier(conn_id="chat", endpoint="/hooks/airflow").notify({"dag_run": DAG_RUN})
        assert foreign.received == []
        assert len(approved.received) == 1
        [record] = [r for r in caplog.records if r.name.endswith("webhook")]
        assert record.levelno == logging.WARNING
        assert record.getMessage() == (
            f"Webhook {approved.url}/hooks/airflow not notified: POST /hooks/airflow was redirected "
            f"({status}) from {approved.url} to another host, {foreign.url}: refused, so that no request, "
            f"credentials or configured headers leave {approved.url}. If {foreign.url} is the right "
            "server, set the connection's host to it."
        )
        assert "Zq7" not in caplog.text

    def test_same_host_308_is_followed_with_body_and_headers(self, monkeypatch) -> None:
        def route(received):
            if received.path == "/hooks/airflow":
                return RecordingServer.redirect("/hooks/v2", 308)
            return Reply(204, {})

        with RecordingServer(route) as approved:
            self.approve(monkeypatch, approved.url)
            WebhookNotifier(conn_id="chat", endpoint="/hooks/airflow").notify({"dag_run": DAG_RUN})
        first, second = approved.received
        assert (second.method, second.path) == ("POST", "/hooks/v2")
        assert second.json() == first.json()
        assert second.json()["run_id"] == "scheduled__1"
        assert second.headers["X-Api-Key"] == API_KEY
