"""SpecHttpRequestOperator: calls only the connection's host, checks the status, keeps credentials out."""

from __future__ import annotations

import pytest

from airflow_provider_scheduler.templates.http_request import (
    SpecHttpRequestOperator,
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

    def test_base_url(self):
        from airflow.providers.common.compat.sdk import Connection

        assert (
            connection_base_url(Connection(conn_id="a", conn_type="http", host="h", port=8080))
            == "http://h:8080"
        )
        assert (
            connection_base_url(Connection(conn_id="a", conn_type="http", host="https://h/")) == "https://h"
        )
