"""rest.core: the protocol decisions without I/O (waits, token rejection, error answers, version probe)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from api_samples import PASSWORD, make_jwt, record

from airflow_provider_scheduler.rest.connection import SchedulerConnectionSettings
from airflow_provider_scheduler.rest.core import (
    BACKOFF_CAP,
    RETRY_AFTER_CAP,
    TOKEN_EXPIRY_LEEWAY,
    Answer,
    Exchange,
    VersionProbe,
    auth_mode,
    backoff_delay,
    error_for_response,
    jwt_expiry,
    parse_retry_after,
    refresh_after,
    token_from_answer,
    token_is_fresh,
)
from airflow_provider_scheduler.rest.errors import (
    SchedulerApiError,
    SchedulerAuthError,
    SchedulerNotFoundError,
    SchedulerTransientError,
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


def exchange(**kwargs) -> Exchange:
    options = {
        "where": "connection 'c' (https://a.example.com)",
        "base_url": "https://a.example.com",
        "max_retries": 2,
        "timeout": 5.0,
        "uniform": lambda low, high: high,
    }
    options.update(kwargs)
    return Exchange("GET", "/api/v2/dags/d", **options)


class TestExchange:
    @pytest.mark.parametrize("status", [200, 204, 302, 400, 404, 409, 422])
    def test_final_answers_are_returned(self, status):
        assert exchange().after_answer(Answer(status)).action == "return"

    @pytest.mark.parametrize("status", [408, 429, 500, 501, 502, 503, 504])
    def test_transient_answers_are_retried_with_backoff(self, status):
        ex = exchange()
        first, second = ex.after_answer(Answer(status)), ex.after_answer(Answer(status))
        assert (first.action, first.delay, second.action, second.delay) == ("retry", 1.0, "retry", 2.0)
        final = ex.after_answer(Answer(status))
        assert final.action == "raise"
        assert isinstance(final.error, SchedulerTransientError)
        assert "Gave up after 3 attempts" in str(final.error)

    def test_retry_after_wins_and_is_capped(self):
        ex = exchange(max_retries=5)
        assert ex.after_answer(Answer(429, retry_after="7")).delay == 7.0
        assert ex.after_answer(Answer(503, retry_after="99999")).delay == RETRY_AFTER_CAP
        assert ex.after_answer(Answer(503, retry_after="soon")).delay == 4.0  # backoff of attempt 2

    @pytest.mark.parametrize(
        ("status", "text"), [(401, "Not authenticated"), (403, '{"detail": "Invalid JWT token"}')]
    )
    def test_a_rejected_jwt_is_fetched_again_once(self, status, text):
        ex = exchange(refreshable=True)
        assert ex.after_answer(Answer(status, text)).action == "refresh"
        assert ex.after_answer(Answer(status, text)).action == "return"  # the caller maps it to an error
        assert ex.attempt == 0

    def test_no_refresh_without_an_exchanged_token_or_for_a_permission_403(self):
        assert exchange().after_answer(Answer(401)).action == "return"
        assert exchange(refreshable=True).after_answer(Answer(403, "Forbidden")).action == "return"

    def test_network_errors_are_retried_then_raised(self):
        ex = exchange(max_retries=1)
        assert ex.after_network_error("connection refused").delay == 1.0
        final = ex.after_network_error("connection refused")
        assert isinstance(final.error, SchedulerTransientError)
        assert str(final.error) == (
            "Cannot reach the Airflow API at https://a.example.com: GET /api/v2/dags/d failed (connection "
            "refused) after 2 attempts. Check the host and port of the Airflow API URL and that the API "
            "server is running."
        )

    def test_retry_log_line(self):
        ex = exchange()
        decision = ex.after_answer(Answer(503))
        fmt, *args = ex.retry_log_args(decision)
        assert fmt % tuple(args) == "GET /api/v2/dags/d answered 503, attempt 1 of 3; retrying in 1.00 s"

    def test_v1_403_advice_needs_the_version(self):
        assert "Airflow 2.x answers 403" in str(exchange(api_version="v1").error(Answer(403)))
        assert "lacks the permission" in str(exchange(api_version="v2").error(Answer(403)))

    def test_json_object(self):
        assert exchange().json_object(Answer(200, '{"a": 1}')) == {"a": 1}
        with pytest.raises(SchedulerApiError, match="but not with a JSON object"):
            exchange().json_object(Answer(200, "[1]"))
        with pytest.raises(SchedulerNotFoundError):
            exchange().json_object(Answer(404, "{}"))

    def test_tls_error_scrubs_secrets(self):
        error = exchange(secrets=[PASSWORD]).tls_error(f"bad cert {PASSWORD}")
        assert PASSWORD not in str(error)
        assert "Set ca_bundle" in str(error)


def settings(**kwargs) -> SchedulerConnectionSettings:
    return SchedulerConnectionSettings(base_url="https://a.example.com", conn_id="c", **kwargs)


class TestCredentials:
    def test_auth_mode(self):
        assert auth_mode(settings(token="t", login="u"), "v2") == "static_token"
        assert auth_mode(settings(), "v2") == "none"
        assert auth_mode(settings(login="u"), "v2") == "jwt"
        assert auth_mode(settings(login="u"), "v1") == "basic"

    def test_token_freshness(self):
        assert refresh_after(make_jwt(1_000)) == 1_000 - TOKEN_EXPIRY_LEEWAY
        assert refresh_after("opaque") is None
        assert token_is_fresh(None, 10**12)
        assert token_is_fresh(100.0, 99.0)
        assert not token_is_fresh(100.0, 100.0)

    def test_token_answer(self):
        s = settings(login="u", password=PASSWORD)
        assert token_from_answer(Answer(201, '{"access_token": "jwt"}'), exchange(), s) == "jwt"
        with pytest.raises(SchedulerAuthError, match=r"user 'u' \(401: nope\)\. .* of connection 'c'\.$"):
            token_from_answer(Answer(401, '{"detail": "nope"}'), exchange(), s)
        with pytest.raises(SchedulerAuthError, match=r"Check the login and password\.$"):
            token_from_answer(Answer(401), exchange(), s, name_connection=False)
        with pytest.raises(SchedulerApiError, match="without an access_token"):
            token_from_answer(Answer(200, "{}"), exchange(), s)


class TestVersionProbe:
    def test_first_version_that_answers(self):
        probe = VersionProbe("https://a.example.com")
        assert not probe.found("v2", Answer(404))
        assert probe.found("v1", Answer(200, '{"version": "2.11.2"}'))
        assert probe.server_version == "2.11.2"

    def test_credentials_required_means_found(self):
        assert VersionProbe("https://a").found("v2", Answer(403))

    def test_failure_lists_the_answers(self):
        probe = VersionProbe("https://a")
        probe.found("v2", Answer(200, "<html>"))
        probe.found("v1", Answer(404))
        assert str(probe.failure()).startswith(
            "https://a answered, but it is not an Airflow REST API (/api/v2/version -> 200 but not an "
            "Airflow version answer; /api/v1/version -> 404)."
        )
