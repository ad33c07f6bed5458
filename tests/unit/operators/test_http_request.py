"""SpecHttpRequestOperator: calls only the connection's host, checks the status, keeps credentials out."""

from __future__ import annotations

import json

import pytest
from recording_http import RecordingServer, Reply

from airflow_provider_scheduler.operators.http_request import SpecHttpRequestOperator
from airflow_provider_scheduler.rest.http_target import (
    connection_base_url,
    join_endpoint,
)


@pytest.fixture
def reports_api(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_REPORTS_API",
        '{"conn_type": "http", "host": "reports.example.com", "schema": "https", "login": "bot", '
        '"password": "s3cret", "extra": {"headers": {"X-Team": "analytics"}}}',
    )


def operator(**kwargs) -> SpecHttpRequestOperator:
    return SpecHttpRequestOperator(task_id="call", http_conn_id="reports_api", **kwargs)


class TestSpecHttpRequestOperator:
    def test_post_json(self, reports_api, requests_mock):
        mock = requests_mock.post("https://reports.example.com/reports/orders", status_code=201, text="ok")
        result = operator(endpoint="/reports/orders", method="POST", json={"region": "eu"}).execute({})
        assert result == {"status_code": 201}
        request = mock.last_request
        assert request.json() == {"region": "eu"}
        assert request.headers["X-Team"] == "analytics"
        assert request.headers["Authorization"].startswith("Basic ")

    def test_unexpected_status_fails_without_leaking_credentials(self, reports_api, requests_mock):
        from airflow.providers.common.compat.sdk import AirflowException

        requests_mock.get("https://reports.example.com/x", status_code=500)
        with pytest.raises(AirflowException) as info:
            operator(endpoint="x").execute({})
        assert str(info.value) == (
            "GET https://reports.example.com/x returned HTTP 500; expected one of 200, 201, 202, 204"
        )
        assert "s3cret" not in str(info.value)

    def test_connection_error(self, reports_api, requests_mock):
        import requests
        from airflow.providers.common.compat.sdk import AirflowException

        requests_mock.get("https://reports.example.com/x", exc=requests.ConnectionError("boom s3cret"))
        with pytest.raises(
            AirflowException, match=r"^GET https://reports.example.com/x failed: ConnectionError$"
        ):
            operator(endpoint="/x").execute({})

    def test_template_fields(self):
        assert set(SpecHttpRequestOperator.template_fields) == {"endpoint", "json", "data", "headers"}


class TestUrls:
    def test_absolute_endpoint_refused(self):
        from airflow.providers.common.compat.sdk import AirflowException

        with pytest.raises(AirflowException, match="relative to the connection"):
            join_endpoint("https://a.example.com", "https://evil.example.com/x")
        with pytest.raises(AirflowException):
            join_endpoint("https://a.example.com", "//evil.example.com/x")

    @pytest.mark.parametrize(
        ("host", "schema", "port", "expected"),
        [
            # The hook's rule (rest.connection.build_base_url): a bare host gets https://.
            ("api.example.com", None, None, "https://api.example.com"),
            ("h", None, 8080, "https://h:8080"),
            ("127.0.0.1", None, 8080, "http://127.0.0.1:8080"),
            ("api.example.com", None, 80, "http://api.example.com"),
            ("api.example.com", "http", None, "http://api.example.com"),
            ("https://h/", None, None, "https://h"),
            ("https://bot:pw@h", None, None, "https://h"),
        ],
    )
    def test_base_url_follows_the_hooks_rule(self, host, schema, port, expected):
        from airflow.providers.common.compat.sdk import Connection

        from airflow_provider_scheduler.rest.connection import build_base_url

        conn = Connection(conn_id="a", conn_type="http", host=host, schema=schema, port=port)
        assert connection_base_url(conn) == expected == build_base_url(host, port=port, schema=schema)

    def test_base_url_without_host(self):
        from airflow.providers.common.compat.sdk import AirflowException, Connection

        with pytest.raises(AirflowException, match="connection 'a' has no host"):
            connection_base_url(Connection(conn_id="a", conn_type="http"))


API_KEY = "Zq7-api-key"


def refused(method_path: str, status: int, source: str, target: str) -> str:
    return (
        f"{method_path} was redirected ({status}) from {source} to another host, {target}: refused, so "
        f"that no request, credentials or configured headers leave {source}. If {target} is the right "
        "server, set the connection's host to it."
    )


class TestRedirects:
    """Two real servers on 127.0.0.1: the approved one redirects, the foreign one must receive nothing."""

    @pytest.fixture
    def foreign(self):
        with RecordingServer() as server:
            yield server

    @staticmethod
    def approve(monkeypatch, url: str) -> None:
        monkeypatch.setenv(
            "AIRFLOW_CONN_APPROVED",
            json.dumps(
                {
                    "conn_type": "http",
                    "host": url,
                    "login": "bot",
                    "password": "Zq7-password",
                    "extra": {"headers": {"X-Api-Key": API_KEY}},
                }
            ),
        )

    @pytest.mark.parametrize(
        ("method", "status"), [("POST", 307), ("POST", 308), ("GET", 301), ("GET", 302), ("GET", 303)]
    )
    def test_redirect_to_another_host_fails_and_sends_nothing_there(
        self, monkeypatch, foreign, method: str, status: int
    ) -> None:
        from airflow.providers.common.compat.sdk import AirflowException

        route = lambda received: RecordingServer.redirect(f"{foreign.url}/steal", status)  # noqa: E731
        with RecordingServer(route) as approved:
            self.approve(monkeypatch, approved.url)
            task = SpecHttpRequestOperator(
                task_id="call", http_conn_id="approved", endpoint="/reports", method=method, json={"a": 1}
            )
            with pytest.raises(AirflowException) as info:
                task.execute({})
        assert str(info.value) == refused(f"{method} /reports", status, approved.url, foreign.url)
        assert "Zq7" not in str(info.value)
        assert foreign.received == []
        assert len(approved.received) == 1

    def test_location_naming_the_approved_host_with_credentials_is_stripped(self, monkeypatch) -> None:
        def route(received):
            if received.path == "/reports":
                return RecordingServer.redirect(f"http://evil:Zq7@127.0.0.1:{approved.port}/final")
            return Reply(200, {})

        with RecordingServer(route) as approved:
            self.approve(monkeypatch, approved.url)
            task = SpecHttpRequestOperator(task_id="call", http_conn_id="approved", endpoint="/reports")
            assert task.execute({}) == {"status_code": 200}
        assert [r.path for r in approved.received] == ["/reports", "/final"]
        assert approved.received[1].headers["Authorization"] == approved.received[0].headers["Authorization"]

    def test_same_host_307_is_followed_with_body_and_headers(self, monkeypatch) -> None:
        def route(received):
            if received.path == "/reports":
                return RecordingServer.redirect("/reports/v2?x=1", 307)
            return Reply(201, {"ok": True})

        with RecordingServer(route) as approved:
            self.approve(monkeypatch, approved.url)
            task = SpecHttpRequestOperator(
                task_id="call", http_conn_id="approved", endpoint="/reports", method="POST", json={"a": 1}
            )
            assert task.execute({}) == {"status_code": 201}
        assert [r.path for r in approved.received] == ["/reports", "/reports/v2?x=1"]
        second = approved.received[1]
        assert (second.method, second.json()) == ("POST", {"a": 1})
        assert second.headers["X-Api-Key"] == API_KEY

    def test_same_host_303_after_post_is_refused(self, monkeypatch) -> None:
        from airflow.providers.common.compat.sdk import AirflowException

        with RecordingServer(lambda received: RecordingServer.redirect("/done", 303)) as approved:
            self.approve(monkeypatch, approved.url)
            task = SpecHttpRequestOperator(
                task_id="call", http_conn_id="approved", endpoint="/r", method="POST"
            )
            with pytest.raises(AirflowException) as info:
                task.execute({})
        assert str(info.value) == (
            f"POST /r was redirected (303) to /done on {approved.url}, which would turn the POST into a GET: "
            "refused. Set the path to the final URL."
        )
        assert len(approved.received) == 1

    def test_redirects_within_the_host_are_bounded(self, monkeypatch) -> None:
        from airflow.providers.common.compat.sdk import AirflowException

        with RecordingServer(lambda received: RecordingServer.redirect("/loop")) as approved:
            self.approve(monkeypatch, approved.url)
            task = SpecHttpRequestOperator(task_id="call", http_conn_id="approved", endpoint="/loop")
            with pytest.raises(AirflowException) as info:
                task.execute({})
        assert str(info.value) == (
            f"GET /loop was redirected more than 5 times within {approved.url}: refused. Set the "
            "connection's host and the path to the final URL."
        )
        assert len(approved.received) == 6
