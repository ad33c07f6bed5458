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


class TestWebhookMessage:
    """``message`` (templated) and ``format``: json (the run summary, as before) or slack ({"text"})."""

    @staticmethod
    def approve(monkeypatch, url: str) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_CHAT", json.dumps({"conn_type": "http", "host": url}))

    @staticmethod
    def context(**extra):
        from datetime import UTC, datetime

        from airflow.providers.common.compat.sdk import DAG

        dag = DAG(dag_id="qa.n", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC))
        params = {"who": "<!channel> & co"}
        return {"dag": dag, "dag_run": DAG_RUN, "run_id": DAG_RUN.run_id, "params": params, **extra}

    def test_slack_format_posts_the_rendered_text_escaped(self, monkeypatch):
        with RecordingServer() as server:
            self.approve(monkeypatch, server.url)
            notifier = WebhookNotifier(
                conn_id="chat",
                endpoint="/hooks/x",
                message="{{ run_id }} failed for {{ params.who }}",
                payload_format="slack",
            )
            notifier(self.context())  # as Airflow calls a callback: render, then notify
        [request] = server.received
        assert request.json() == {"text": "scheduled__1 failed for &lt;!channel&gt; &amp; co"}

    def test_slack_format_default_text(self, monkeypatch):
        with RecordingServer() as server:
            self.approve(monkeypatch, server.url)
            WebhookNotifier(conn_id="chat", payload_format="slack", event="on_failure")(self.context())
        assert server.received[0].json() == {"text": "qa.n failed. Run: scheduled__1"}

    def test_json_format_adds_the_message(self, monkeypatch):
        with RecordingServer() as server:
            self.approve(monkeypatch, server.url)
            WebhookNotifier(conn_id="chat", message="run {{ run_id }}")(self.context())
        body = server.received[0].json()
        assert body["message"] == "run scheduled__1"
        assert body["run_id"] == "scheduled__1"
        assert set(body) == {
            "event",
            "dag_id",
            "run_id",
            "state",
            "logical_date",
            "task_id",
            "try_number",
            "message",
        }

    def test_json_without_message_is_the_body_of_before(self, monkeypatch):
        with RecordingServer() as server:
            self.approve(monkeypatch, server.url)
            WebhookNotifier(conn_id="chat")(self.context())
        assert "message" not in server.received[0].json()

    def test_unknown_format_is_refused(self):
        with pytest.raises(ValueError, match="payload_format must be one of json, slack, not 'xml'"):
            WebhookNotifier(conn_id="chat", payload_format="xml")

    def test_the_template_offers_the_notifiers_formats(self):
        from airflow_provider_scheduler.notifications.webhook import FORMATS
        from airflow_provider_scheduler.templates.builtins import WEBHOOK_FORMATS

        assert WEBHOOK_FORMATS == FORMATS


class TestWebhookTemplate:
    """What a spec may write in ``notify: [{template: webhook, with: ...}]`` and what it builds."""

    @pytest.fixture
    def registry(self):
        from airflow_provider_scheduler.templates import TemplateRegistry
        from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

        return TemplateRegistry(builtin_templates(TemplateSettings(webhook_connections=("chat",))))

    @staticmethod
    def spec(with_):
        return {
            "version": 1,
            "namespace": "qa",
            "name": "n",
            "tasks": [{"id": "a", "template": "empty"}],
            "notify": {"on_failure": [{"template": "webhook", "with": with_}]},
        }

    def test_builds_the_notifier(self, registry):
        from airflow_provider_scheduler.spec import GovernancePolicy, parse_spec

        parsed = parse_spec(
            self.spec({"conn_id": "chat", "message": "{{ run_id }}", "format": "slack"}),
            catalog=registry,
            policy=GovernancePolicy(),
        )
        notifier = registry.get_notifier("webhook").build(
            parsed.notify.on_failure[0].with_, event="on_failure"
        )
        assert (notifier.message, notifier.payload_format) == ("{{ run_id }}", "slack")
        assert notifier.template_fields == ("message",)

    def test_a_spec_without_format_keeps_json(self, registry):
        from airflow_provider_scheduler.spec import GovernancePolicy, parse_spec

        parsed = parse_spec(self.spec({"conn_id": "chat"}), catalog=registry, policy=GovernancePolicy())
        assert dict(parsed.notify.on_failure[0].with_) == {"conn_id": "chat"}  # canonical form unchanged
        notifier = registry.get_notifier("webhook").build(
            parsed.notify.on_failure[0].with_, event="on_failure"
        )
        assert (notifier.message, notifier.payload_format) == (None, "json")

    @pytest.mark.parametrize(
        ("with_", "problem"),
        [
            (
                {"conn_id": "chat", "format": "teams"},
                ("notify.on_failure[0].with.format", 'must be one of: "json", "slack"'),
            ),
            (
                {"conn_id": "chat", "message": ""},
                ("notify.on_failure[0].with.message", "must be at least 1 characters long"),
            ),
            (
                {"conn_id": "chat", "message": "{{ var.value.token }}"},
                ("notify.on_failure[0].with.message", "'var' is not available"),
            ),
        ],
    )
    def test_refusals(self, registry, with_, problem):
        from airflow_provider_scheduler.spec import GovernancePolicy, SpecError, parse_spec

        with pytest.raises(SpecError) as info:
            parse_spec(self.spec(with_), catalog=registry, policy=GovernancePolicy())
        [(path, message)] = [(p.path, p.message) for p in info.value.problems]
        assert path == problem[0]
        assert (
            message.startswith(problem[1])
            if problem[1] == message[: len(problem[1])]
            else problem[1] in message
        )
