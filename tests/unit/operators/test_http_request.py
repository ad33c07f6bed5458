"""SpecHttpRequestOperator: calls only the connection's host, checks the status, keeps credentials out."""

from __future__ import annotations

import pytest

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
