"""rest.core: the protocol decisions without I/O (waits, token rejection, error answers, version probe)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from api_samples import PASSWORD, make_jwt, record

from airflow_provider_scheduler.rest.core import (
    BACKOFF_CAP,
    RETRY_AFTER_CAP,
    Answer,
    backoff_delay,
    error_for_response,
    jwt_expiry,
    parse_retry_after,
)
from airflow_provider_scheduler.rest.errors import (
    SchedulerApiError,
    SchedulerAuthError,
    SchedulerNotFoundError,
)


class TestWaitingAndTokens:
    def test_jwt_expiry(self):
        assert jwt_expiry(make_jwt(1_900_000_000)) == 1_900_000_000.0
        assert jwt_expiry(make_jwt(None)) is None
        assert jwt_expiry("not-a-jwt") is None
        assert jwt_expiry("a.!!!.c") is None

    def test_parse_retry_after(self):
        now = 1_800_000_000.0
        http_date = format_datetime(datetime.fromtimestamp(now + 7, tz=UTC), usegmt=True)
        assert parse_retry_after("3") == 3.0
        assert parse_retry_after("1.5") == 1.5
        assert parse_retry_after(http_date, now=now) == 7.0
        assert parse_retry_after("-4") == 0.0
        assert parse_retry_after("99999") == RETRY_AFTER_CAP
        assert parse_retry_after("soon") is None
        assert parse_retry_after(None) is None

    def test_backoff_delay_is_full_jitter_with_a_cap(self):
        bounds: list[tuple[float, float]] = []
        for attempt in range(8):
            backoff_delay(attempt, uniform=lambda low, high: record(bounds, low, high, 0.0))
        assert (
            bounds == [(0.0, 1.0), (0.0, 2.0), (0.0, 4.0), (0.0, 8.0), (0.0, 16.0)] + [(0.0, BACKOFF_CAP)] * 3
        )
        assert 0.0 <= backoff_delay(3) <= 8.0


class TestErrorForResponse:
    @pytest.mark.parametrize(
        ("status", "body", "cls", "expected"),
        [
            (
                404,
                {"detail": "Dag with dag_id: 'nope' not found"},
                SchedulerNotFoundError,
                "Airflow API answered 404 Not Found to POST /api/v2/dags/nope/dagRuns: Dag with dag_id: "
                "'nope' not found. Check the DAG id (and run id) exist on that deployment and that the DAG "
                "file parsed without errors; also check the API URL and path prefix.",
            ),
            (
                401,
                {"detail": "Not authenticated"},
                SchedulerAuthError,
                "Airflow API answered 401 Unauthorized to POST /api/v2/dags/nope/dagRuns: Not authenticated. "
                "Check the connection's username and password (or its bearer token).",
            ),
            (
                403,
                {"detail": "Forbidden"},
                SchedulerAuthError,
                "Airflow API answered 403 Forbidden to POST /api/v2/dags/nope/dagRuns: Forbidden. The "
                "credentials are valid but the user lacks the permission: check its role on that deployment.",
            ),
            (
                422,
                {"detail": [{"loc": ["body", "logical_date"], "msg": "Field required", "type": "missing"}]},
                SchedulerApiError,
                "Airflow API answered 422 Unprocessable Entity to POST /api/v2/dags/nope/dagRuns: "
                "body.logical_date: Field required. The server rejected the request body: check conf is a "
                "JSON object, dates are ISO 8601 with a timezone, and the api_version matches the deployment "
                "(v2 for Airflow 3, v1 for Airflow 2.x).",
            ),
            (
                400,
                {"detail": "DAG with dag_id: 'd' has import errors", "status": 400, "title": "Bad Request"},
                SchedulerApiError,
                "Airflow API answered 400 Bad Request to POST /api/v2/dags/nope/dagRuns: DAG with dag_id: "
                "'d' has import errors. The request was invalid: check the arguments (conf must be a JSON "
                "object, dates ISO 8601 with a timezone) and that the DAG has no import errors.",
            ),
        ],
    )
    def test_messages(self, status, body, cls, expected):
        err = error_for_response(
            Answer(status, json.dumps(body)), method="POST", path="/api/v2/dags/nope/dagRuns"
        )
        assert type(err) is cls
        assert str(err) == expected
        assert err.status_code == status

    def test_html_body_and_secrets_scrubbed(self):
        html = error_for_response(Answer(404, "<html>nginx</html>", "text/html"), method="GET", path="/x")
        assert "answered 404 Not Found to GET /x: an HTML page, not JSON." in str(html)
        echoed = error_for_response(
            Answer(422, json.dumps({"detail": f"bad input {PASSWORD}"})),
            method="POST",
            path="/auth/token",
            secrets=[PASSWORD],
        )
        assert PASSWORD not in str(echoed)
        assert "bad input ***" in str(echoed)

    def test_long_detail_is_truncated(self):
        err = error_for_response(Answer(400, "y" * 5000), method="GET", path="/x")
        assert err.detail is not None
        assert len(err.detail) == 500
        assert err.detail.endswith("...")
