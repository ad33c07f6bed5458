"""Unit tests of SchedulerHook and its shared helpers, against requests_mock (no network, no DB)."""

from __future__ import annotations

import base64
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote

import pytest
import requests
from api_samples import (
    BASE,
    CONN_ID,
    PASSWORD,
    RUN_V1,
    RUN_V2,
    STATIC_TOKEN,
    Sleeps,
    make_jwt,
    record,
    set_conn_env,
)

from airflow_provider_scheduler.hooks.scheduler import (
    SchedulerApiError,
    SchedulerAuthError,
    SchedulerHook,
    SchedulerNotFoundError,
    SchedulerTransientError,
)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_hook(monkeypatch, sleeps):
    """Build a hook on a connection of the given fields; jitter always picks the upper bound."""

    def factory(*, host=BASE, login="admin", password=PASSWORD, extra=None, conn_id=CONN_ID, **hook_kwargs):
        fields = {"host": host, "login": login, "password": password}
        if extra is not None:
            fields["extra"] = extra
        set_conn_env(monkeypatch, conn_id, **{k: v for k, v in fields.items() if v is not None})
        hook_kwargs.setdefault("sleep", sleeps)
        hook_kwargs.setdefault("uniform", lambda low, high: high)
        hook = SchedulerHook(conn_id, **hook_kwargs)
        # Airflow 3 logs through structlog straight to stdout, past caplog: give the hook a stdlib
        # logger so caplog sees every record, at every level, on both Airflow versions.
        hook._log = logging.getLogger("airflow.task.hooks.test_scheduler")  # type: ignore[assignment]
        return hook

    return factory


@pytest.fixture
def v2(requests_mock):
    """A minimal Airflow 3 API: version probe, token exchange."""
    token = make_jwt(time.time() + 3600)
    requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2", "git_version": None})
    requests_mock.post(f"{BASE}/auth/token", status_code=201, json={"access_token": token})
    return token


@pytest.fixture
def v1(requests_mock):
    """A minimal Airflow 2 API: /api/v2 is unknown, /api/v1/version answers."""
    requests_mock.get(f"{BASE}/api/v2/version", status_code=404, json={"detail": "Not Found"})
    requests_mock.get(f"{BASE}/api/v1/version", json={"version": "2.11.2", "git_version": None})


def calls(requests_mock, method: str, path: str) -> list:
    return [r for r in requests_mock.request_history if r.method == method and r.path == path.lower()]


# ------------------------------------------------------------------------------------------------
# ------------------------------------------------------------------------------------------------
class TestApiVersionDetection:
    def test_auto_detects_v2_once(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/d", json={"dag_id": "d", "is_paused": False})
        hook = make_hook()
        hook.get_dag("d")
        hook.get_dag("d")
        assert hook.api_version == "v2"
        assert len(calls(requests_mock, "GET", "/api/v2/version")) == 1
        assert not calls(requests_mock, "GET", "/api/v1/version")

    def test_auto_detects_v1_after_v2_is_missing(self, make_hook, requests_mock, v1):
        hook = make_hook()
        assert hook.api_version == "v1"
        assert hook.api_version == "v1"
        assert len(calls(requests_mock, "GET", "/api/v2/version")) == 1
        assert len(calls(requests_mock, "GET", "/api/v1/version")) == 1

    def test_version_endpoint_behind_auth_counts(self, make_hook, requests_mock):
        requests_mock.get(f"{BASE}/api/v2/version", status_code=401, json={"detail": "Not authenticated"})
        assert make_hook().api_version == "v2"

    def test_explicit_version_does_not_probe(self, make_hook, requests_mock):
        hook = make_hook(extra={"api_version": "v1"})
        assert hook.api_version == "v1"
        assert requests_mock.request_history == []

    def test_not_an_airflow_api(self, make_hook, requests_mock):
        requests_mock.get(f"{BASE}/api/v2/version", status_code=404, text="<html>Not found</html>")
        requests_mock.get(f"{BASE}/api/v1/version", status_code=200, text="<html>SPA</html>")
        with pytest.raises(SchedulerApiError) as info:
            make_hook().api_version  # noqa: B018
        assert str(info.value) == (
            f"{BASE} answered, but it is not an Airflow REST API (/api/v2/version -> 404; /api/v1/version -> "
            "200 but not an Airflow version answer). Check the Airflow API URL: scheme, host, port and path "
            "prefix (without /api/v2), or set api_version explicitly."
        )


class TestV2Methods:
    def test_trigger_dag_run_body_and_token(self, make_hook, requests_mock, v2):
        post = requests_mock.post(f"{BASE}/api/v2/dags/d/dagRuns", status_code=200, json=RUN_V2)
        hook = make_hook()
        run = hook.trigger_dag_run("d", conf={"a": 1}, run_id="r1", note="why")
        assert run == RUN_V2
        assert post.last_request.json() == {
            "dag_run_id": "r1",
            "conf": {"a": 1},
            "logical_date": None,
            "note": "why",
        }
        assert post.last_request.headers["Authorization"] == f"Bearer {v2}"
        token_request = calls(requests_mock, "POST", "/auth/token")[0]
        assert token_request.json() == {"username": "admin", "password": PASSWORD}

    def test_trigger_with_logical_date_and_generated_run_id(self, make_hook, requests_mock, v2):
        post = requests_mock.post(f"{BASE}/api/v2/dags/d/dagRuns", json=RUN_V2)
        make_hook().trigger_dag_run("d", logical_date=datetime(2026, 1, 1, 6, 0))
        body = post.last_request.json()
        assert body["logical_date"] == "2026-01-01T06:00:00+00:00"
        assert body["conf"] == {}
        assert "note" not in body
        assert body["dag_run_id"].startswith("scheduler__")

    @pytest.mark.parametrize(
        ("conf", "message"),
        [
            ([1, 2], "conf must be a dict (a JSON object), got list"),
            ({"when": datetime(2026, 1, 1)}, "conf must be JSON-serialisable: Object of type datetime"),
        ],
    )
    def test_trigger_rejects_bad_conf_before_calling(self, make_hook, requests_mock, conf, message):
        with pytest.raises(TypeError, match=re.escape(message)):
            make_hook().trigger_dag_run("d", conf=conf)
        assert requests_mock.request_history == []

    def test_get_dag_run(self, make_hook, requests_mock, v2):
        requests_mock.get(
            f"{BASE}/api/v2/dags/d/dagRuns/manual__2026-01-01T00%3A00%3A00%2B00%3A00", json=RUN_V2
        )
        assert make_hook().get_dag_run("d", "manual__2026-01-01T00:00:00+00:00")["state"] == "queued"

    def test_list_dag_runs(self, make_hook, requests_mock, v2):
        listing = requests_mock.get(
            f"{BASE}/api/v2/dags/d/dagRuns",
            json={"dag_runs": [RUN_V2, {**RUN_V2, "dag_run_id": "r0"}], "total_entries": 2},
        )
        runs = make_hook().list_dag_runs("d", state=["queued", "running"], limit=2)
        assert [r["dag_run_id"] for r in runs] == ["r1", "r0"]
        assert listing.last_request.qs == {
            "limit": ["2"],
            "offset": ["0"],
            "order_by": ["-run_after"],
            "state": ["queued", "running"],
        }

    def test_list_dag_runs_single_state_and_bad_limit(self, make_hook, requests_mock, v2):
        listing = requests_mock.get(f"{BASE}/api/v2/dags/d/dagRuns", json={"dag_runs": []})
        hook = make_hook()
        assert hook.list_dag_runs("d", state="success") == []
        assert listing.last_request.qs["state"] == ["success"]
        with pytest.raises(ValueError, match="limit must be at least 1, got 0"):
            hook.list_dag_runs("d", limit=0)

    def test_get_dag_and_set_paused(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/d", json={"dag_id": "d", "is_paused": False})
        patch = requests_mock.patch(f"{BASE}/api/v2/dags/d", json={"dag_id": "d", "is_paused": True})
        hook = make_hook()
        assert hook.get_dag("d")["is_paused"] is False
        assert hook.set_dag_paused("d", True)["is_paused"] is True
        assert patch.last_request.json() == {"is_paused": True}
        assert patch.last_request.qs == {}

    def test_health_needs_no_credentials(self, make_hook, requests_mock, v2):
        health = requests_mock.get(
            f"{BASE}/api/v2/monitor/health", json={"metadatabase": {"status": "healthy"}}
        )
        assert make_hook().health() == {"metadatabase": {"status": "healthy"}}
        assert "Authorization" not in health.last_request.headers
        assert not calls(requests_mock, "POST", "/auth/token")

    def test_ui_url_for_run(self, make_hook, v2):
        prefixed = make_hook(host=f"{BASE}/af/", extra={"api_version": "v2"}, conn_id="prefixed")
        assert prefixed.ui_url_for_run("d", "r1") == f"{BASE}/af/dags/d/runs/r1"
        assert make_hook().ui_url_for_run("my.dag", "manual__2026-01-01T00:00:00+00:00") == (
            f"{BASE}/dags/my.dag/runs/manual__2026-01-01T00%3A00%3A00%2B00%3A00"
        )

    def test_session_is_reused(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/d", json={"dag_id": "d"})
        hook = make_hook()
        session = hook.get_conn()
        hook.get_dag("d")
        hook.get_dag("d")
        assert hook.get_conn() is session
        hook.close()
        assert hook.get_conn() is not session


class TestV1Methods:
    def test_trigger_uses_basic_auth_and_v1_body(self, make_hook, requests_mock, v1):
        post = requests_mock.post(f"{BASE}/api/v1/dags/d/dagRuns", json=RUN_V1)
        hook = make_hook()
        run = hook.trigger_dag_run("d", conf={"x": 1}, run_id="r1")
        assert post.last_request.json() == {"dag_run_id": "r1", "conf": {"x": 1}}
        expected_auth = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        assert post.last_request.headers["Authorization"] == expected_auth
        assert not calls(requests_mock, "POST", "/auth/token")
        assert (run["dag_run_id"], run["state"], run["logical_date"]) == (
            "r1",
            "running",
            "2026-11-22T04:00:00+00:00",
        )

    def test_trigger_with_logical_date_and_note(self, make_hook, requests_mock, v1):
        post = requests_mock.post(f"{BASE}/api/v1/dags/d/dagRuns", json=RUN_V1)
        make_hook().trigger_dag_run("d", run_id="r1", logical_date="2026-01-01T00:00:00+00:00", note="n")
        assert post.last_request.json() == {
            "dag_run_id": "r1",
            "conf": {},
            "logical_date": "2026-01-01T00:00:00+00:00",
            "note": "n",
        }

    def test_old_v1_run_without_logical_date_is_normalised(self, make_hook, requests_mock, v1):
        old = {k: v for k, v in RUN_V1.items() if k != "logical_date"}
        requests_mock.get(f"{BASE}/api/v1/dags/d/dagRuns/r1", json=old)
        assert make_hook().get_dag_run("d", "r1")["logical_date"] == "2026-11-22T04:00:00+00:00"

    def test_list_pause_health_and_ui_url(self, make_hook, requests_mock, v1):
        listing = requests_mock.get(
            f"{BASE}/api/v1/dags/d/dagRuns", json={"dag_runs": [RUN_V1], "total_entries": 1}
        )
        patch = requests_mock.patch(f"{BASE}/api/v1/dags/d", json={"dag_id": "d", "is_paused": False})
        requests_mock.get(f"{BASE}/api/v1/dags/d", json={"dag_id": "d", "is_paused": False})
        requests_mock.get(f"{BASE}/api/v1/health", json={"scheduler": {"status": "healthy"}})
        hook = make_hook()
        assert [r["dag_run_id"] for r in hook.list_dag_runs("d", limit=5)] == ["r1"]
        assert listing.last_request.qs == {"limit": ["5"], "offset": ["0"], "order_by": ["-execution_date"]}
        assert hook.set_dag_paused("d", False) == {"dag_id": "d", "is_paused": False}
        assert patch.last_request.json() == {"is_paused": False}
        assert patch.last_request.qs == {"update_mask": ["is_paused"]}
        assert hook.get_dag("d")["dag_id"] == "d"
        assert hook.health() == {"scheduler": {"status": "healthy"}}
        assert hook.ui_url_for_run("d", "manual__2026-01-01T00:00:00+00:00") == (
            f"{BASE}/dags/d/grid?dag_run_id=manual__2026-01-01T00%3A00%3A00%2B00%3A00"
        )


class TestTokens:
    def test_token_fetched_once_and_reused(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/d", json={"dag_id": "d"})
        hook = make_hook()
        for _ in range(3):
            hook.get_dag("d")
        assert len(calls(requests_mock, "POST", "/auth/token")) == 1

    def test_refresh_once_on_401(self, make_hook, requests_mock, sleeps):
        old, new = make_jwt(time.time() + 3600, "old"), make_jwt(time.time() + 3600, "new")
        requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2"})
        requests_mock.post(
            f"{BASE}/auth/token", [{"status_code": 201, "json": {"access_token": t}} for t in (old, new)]
        )

        def answer(request, context):
            if request.headers["Authorization"] == f"Bearer {old}":
                context.status_code = 401
                return {"detail": "Token expired"}
            return {"dag_id": "d"}

        requests_mock.get(f"{BASE}/api/v2/dags/d", json=answer)
        hook = make_hook()
        assert hook.get_dag("d") == {"dag_id": "d"}
        assert [r.headers["Authorization"] for r in calls(requests_mock, "GET", "/api/v2/dags/d")] == [
            f"Bearer {old}",
            f"Bearer {new}",
        ]
        assert sleeps == []

    def test_refresh_once_on_403_invalid_jwt(self, make_hook, requests_mock, sleeps):
        # Airflow 3 answers 403 "Invalid JWT token" when the signing key changed (e.g. a redeploy).
        old, new = make_jwt(time.time() + 3600, "old"), make_jwt(time.time() + 3600, "new")
        requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2"})
        requests_mock.post(
            f"{BASE}/auth/token", [{"status_code": 201, "json": {"access_token": t}} for t in (old, new)]
        )
        requests_mock.get(
            f"{BASE}/api/v2/dags/d",
            [{"status_code": 403, "json": {"detail": "Invalid JWT token"}}, {"json": {"dag_id": "d"}}],
        )
        assert make_hook().get_dag("d") == {"dag_id": "d"}
        assert len(calls(requests_mock, "POST", "/auth/token")) == 2
        assert sleeps == []

    def test_plain_403_is_not_a_token_problem(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/d", status_code=403, json={"detail": "Forbidden"})
        with pytest.raises(SchedulerAuthError, match="the user lacks the permission"):
            make_hook().get_dag("d")
        assert len(calls(requests_mock, "POST", "/auth/token")) == 1

    def test_invalid_static_token(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/d", status_code=403, json={"detail": "Invalid JWT token"})
        with pytest.raises(SchedulerAuthError) as info:
            make_hook(login=None, password=None, extra={"token": STATIC_TOKEN}).get_dag("d")
        assert str(info.value) == (
            f"Airflow API connection '{CONN_ID}' ({BASE}) answered 403 Forbidden to GET /api/v2/dags/d: "
            "Invalid JWT token. The server could not validate the token: check the bearer token (it may be "
            "expired or issued by another deployment) or the connection's username and password."
        )

    def test_second_401_fails_with_auth_error(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/d", status_code=401, json={"detail": "Invalid JWT"})
        with pytest.raises(
            SchedulerAuthError, match="answered 401 Unauthorized to GET /api/v2/dags/d: Invalid JWT"
        ):
            make_hook().get_dag("d")
        assert len(calls(requests_mock, "POST", "/auth/token")) == 2
        assert len(calls(requests_mock, "GET", "/api/v2/dags/d")) == 2

    def test_expired_jwt_is_refreshed_before_use(self, make_hook, requests_mock):
        first, second = make_jwt(1000.0, "first"), make_jwt(1_000_000.0, "second")
        requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2"})
        requests_mock.post(
            f"{BASE}/auth/token", [{"status_code": 201, "json": {"access_token": t}} for t in (first, second)]
        )
        dag = requests_mock.get(f"{BASE}/api/v2/dags/d", json={"dag_id": "d"})
        hook = make_hook()
        hook._clock = lambda: 900.0  # 100 s before exp: still valid
        hook.get_dag("d")
        hook.get_dag("d")
        assert dag.last_request.headers["Authorization"] == f"Bearer {first}"
        hook._clock = lambda: 980.0  # within the 30 s leeway: refresh before sending
        hook.get_dag("d")
        assert dag.last_request.headers["Authorization"] == f"Bearer {second}"
        assert len(calls(requests_mock, "POST", "/auth/token")) == 2

    def test_static_token_is_sent_and_never_exchanged(self, make_hook, requests_mock, v2):
        dag = requests_mock.get(f"{BASE}/api/v2/dags/d", status_code=401, json={"detail": "bad token"})
        hook = make_hook(login=None, password=None, extra={"token": STATIC_TOKEN})
        with pytest.raises(SchedulerAuthError):
            hook.get_dag("d")
        assert dag.call_count == 1
        assert dag.last_request.headers["Authorization"] == f"Bearer {STATIC_TOKEN}"
        assert not calls(requests_mock, "POST", "/auth/token")

    def test_bad_password(self, make_hook, requests_mock):
        requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2"})
        requests_mock.post(f"{BASE}/auth/token", status_code=401, json={"detail": "Invalid credentials"})
        with pytest.raises(SchedulerAuthError) as info:
            make_hook().get_dag("d")
        assert str(info.value) == (
            f"The Airflow API at {BASE} rejected the username/password of user 'admin' (401: Invalid "
            f"credentials). Check the login and password of connection '{CONN_ID}'."
        )

    def test_token_answer_without_access_token(self, make_hook, requests_mock):
        requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2"})
        requests_mock.post(f"{BASE}/auth/token", status_code=201, json={"token": "x"})
        with pytest.raises(SchedulerApiError, match="answered 201 without an access_token"):
            make_hook().get_dag("d")

    def test_no_credentials_sends_no_authorization(self, make_hook, requests_mock, v2):
        dag = requests_mock.get(f"{BASE}/api/v2/dags/d", json={"dag_id": "d"})
        make_hook(login=None, password=None).get_dag("d")
        assert "Authorization" not in dag.last_request.headers


class TestRetries:
    def test_5xx_is_retried_with_growing_bounded_backoff(self, make_hook, requests_mock, v2, sleeps):
        bounds: list[tuple[float, float]] = []
        requests_mock.get(
            f"{BASE}/api/v2/dags/d",
            [
                {"status_code": 503, "text": "busy"},
                {"status_code": 502},
                {"status_code": 500},
                {"json": {"dag_id": "d"}},
            ],
        )
        hook = make_hook(uniform=lambda low, high: record(bounds, low, high, high / 2))
        assert hook.get_dag("d") == {"dag_id": "d"}
        assert bounds == [(0.0, 1.0), (0.0, 2.0), (0.0, 4.0)]
        assert sleeps == [0.5, 1.0, 2.0]

    def test_retries_exhausted(self, make_hook, requests_mock, v2, sleeps):
        requests_mock.get(f"{BASE}/api/v2/dags/d", status_code=503, json={"detail": "overloaded"})
        with pytest.raises(SchedulerTransientError) as info:
            make_hook(extra={"max_retries": 2}).get_dag("d")
        assert len(sleeps) == 2
        assert len(calls(requests_mock, "GET", "/api/v2/dags/d")) == 3
        assert str(info.value) == (
            f"Airflow API connection '{CONN_ID}' ({BASE}) answered 503 Service Unavailable to GET "
            "/api/v2/dags/d: overloaded. Gave up after 3 attempts; the deployment may be overloaded or "
            "restarting: check its health, or raise max_retries / timeout."
        )
        assert info.value.status_code == 503

    def test_retry_after_seconds_is_honoured(self, make_hook, requests_mock, v2, sleeps):
        requests_mock.get(
            f"{BASE}/api/v2/dags/d",
            [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": {"dag_id": "d"}}],
        )
        make_hook().get_dag("d")
        assert sleeps == [7.0]

    def test_retry_after_http_date_is_honoured(self, make_hook, requests_mock, v2, sleeps):
        when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
        requests_mock.get(
            f"{BASE}/api/v2/dags/d",
            [{"status_code": 503, "headers": {"Retry-After": when}}, {"json": {"dag_id": "d"}}],
        )
        make_hook().get_dag("d")
        assert len(sleeps) == 1
        assert 115 <= sleeps[0] <= 120

    def test_connection_errors_and_timeouts_are_retried(self, make_hook, requests_mock, v2, sleeps):
        requests_mock.get(
            f"{BASE}/api/v2/dags/d",
            [
                {"exc": requests.exceptions.ConnectionError("Connection refused")},
                {"exc": requests.exceptions.ReadTimeout("read timed out")},
                {"json": {"dag_id": "d"}},
            ],
        )
        assert make_hook().get_dag("d") == {"dag_id": "d"}
        assert sleeps == [1.0, 2.0]

    def test_unreachable_after_retries(self, make_hook, requests_mock, sleeps):
        requests_mock.get(
            f"{BASE}/api/v2/version",
            exc=requests.exceptions.ConnectionError("[Errno 111] Connection refused"),
        )
        with pytest.raises(SchedulerTransientError) as info:
            make_hook(extra={"max_retries": 1}).get_dag("d")
        assert str(info.value) == (
            f"Cannot reach the Airflow API at {BASE}: GET /api/v2/version failed (connection refused) "
            "after 2 attempts. Check the host and port of the Airflow API URL and that the API server is "
            "running."
        )
        assert info.value.status_code is None
        assert sleeps == [1.0]

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
    def test_4xx_fails_at_once(self, make_hook, requests_mock, v2, sleeps, status):
        requests_mock.get(f"{BASE}/api/v2/dags/d", status_code=status, json={"detail": "no"})
        with pytest.raises(SchedulerApiError) as info:
            make_hook(token=STATIC_TOKEN).get_dag("d")
        assert info.value.status_code == status
        assert sleeps == []
        assert len(calls(requests_mock, "GET", "/api/v2/dags/d")) == 1

    def test_tls_errors_are_not_retried(self, make_hook, requests_mock, v2, sleeps):
        requests_mock.get(
            f"{BASE}/api/v2/dags/d", exc=requests.exceptions.SSLError("certificate verify failed")
        )
        with pytest.raises(
            SchedulerApiError, match="Set ca_bundle to the CA that signed the server certificate"
        ):
            make_hook().get_dag("d")
        assert sleeps == []

    def test_verify_and_timeout_reach_requests(self, make_hook, requests_mock, v2, monkeypatch):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
        requests_mock.get(f"{BASE}/api/v2/dags/d", json={"dag_id": "d"})
        make_hook(extra={"ca_bundle": "/ca.pem", "timeout": 4}).get_dag("d")
        request = calls(requests_mock, "GET", "/api/v2/dags/d")[0]
        assert (request.verify, request.timeout) == ("/ca.pem", 4.0)


class TestIdempotentTrigger:
    def test_409_returns_the_existing_run(self, make_hook, requests_mock, v2, caplog):
        requests_mock.post(f"{BASE}/api/v2/dags/d/dagRuns", status_code=409, json={"detail": "exists"})
        requests_mock.get(f"{BASE}/api/v2/dags/d/dagRuns/r1", json={**RUN_V2, "state": "success"})
        with caplog.at_level(logging.INFO):
            run = make_hook().trigger_dag_run("d", run_id="r1", conf={"a": 1})
        assert run["state"] == "success"
        assert "DAG run r1 of d already exists; returning it" in caplog.text

    def test_409_with_different_conf_warns(self, make_hook, requests_mock, v2, caplog):
        requests_mock.post(f"{BASE}/api/v2/dags/d/dagRuns", status_code=409, json={"detail": "exists"})
        requests_mock.get(f"{BASE}/api/v2/dags/d/dagRuns/r1", json=RUN_V2)
        with caplog.at_level(logging.INFO):
            make_hook().trigger_dag_run("d", run_id="r1", conf={"a": 2})
        assert "DAG run r1 of d already exists with a different conf; returning it unchanged" in caplog.text

    def test_retried_post_that_had_succeeded_returns_the_run(self, make_hook, requests_mock, v2, sleeps):
        requests_mock.post(
            f"{BASE}/api/v2/dags/d/dagRuns",
            [
                {"exc": requests.exceptions.ReadTimeout("timed out")},
                {"status_code": 409, "json": {"detail": "exists"}},
            ],
        )
        get = requests_mock.get(re.compile(rf"{BASE}/api/v2/dags/d/dagRuns/scheduler__.*"), json=RUN_V2)
        run = make_hook().trigger_dag_run("d", conf={"a": 1})
        assert run == RUN_V2
        first_post = calls(requests_mock, "POST", "/api/v2/dags/d/dagRuns")[0]
        assert get.last_request.path.endswith(quote(first_post.json()["dag_run_id"], safe="").lower())
        assert sleeps == [1.0]

    def test_409_for_another_run_is_an_error(self, make_hook, requests_mock, v2):
        requests_mock.post(
            f"{BASE}/api/v2/dags/d/dagRuns",
            status_code=409,
            json={"detail": {"reason": "Unique constraint violation", "statement": "hidden"}},
        )
        requests_mock.get(f"{BASE}/api/v2/dags/d/dagRuns/r9", status_code=404, json={"detail": "not found"})
        with pytest.raises(SchedulerApiError) as info:
            make_hook().trigger_dag_run("d", run_id="r9", logical_date="2026-01-01T00:00:00Z")
        assert info.value.status_code == 409
        assert "answered 409 Conflict to POST /api/v2/dags/d/dagRuns: Unique constraint violation." in str(
            info.value
        )
        assert "a DAG run with that run id or logical date" in str(info.value)


class TestSecrets:
    def test_secrets_never_logged_nor_in_errors(self, make_hook, requests_mock, caplog, sleeps):
        token = make_jwt(time.time() + 3600, "jwt-subject")
        requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2"})
        requests_mock.post(f"{BASE}/auth/token", status_code=201, json={"access_token": token})
        # A server that echoes the request (like FastAPI's validation errors) must not leak it either.
        requests_mock.post(
            f"{BASE}/api/v2/dags/d/dagRuns",
            [
                {"status_code": 503, "json": {"detail": f"down; saw {PASSWORD} and Bearer {token}"}},
                {"status_code": 422, "json": {"detail": f"input_value={PASSWORD} {token}"}},
            ],
        )
        hook = make_hook()
        with caplog.at_level(logging.DEBUG), pytest.raises(SchedulerApiError) as info:
            hook.trigger_dag_run("d", run_id="r1")
        text = caplog.text + str(info.value) + repr(info.value) + str(info.value.detail)
        assert "***" in str(info.value)
        for secret in (PASSWORD, token):
            assert secret not in text
        assert "Authorization" not in caplog.text

    def test_bad_password_error_does_not_contain_it(self, make_hook, requests_mock, caplog):
        requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2"})
        requests_mock.post(
            f"{BASE}/auth/token",
            status_code=422,
            json={"detail": f"input_value={{'password': '{PASSWORD}'}}"},
        )
        with caplog.at_level(logging.DEBUG), pytest.raises(SchedulerAuthError) as info:
            make_hook().get_dag("d")
        assert PASSWORD not in str(info.value) + caplog.text

    def test_secrets_are_registered_with_airflows_masker(self, make_hook, requests_mock, v2):
        from airflow.providers.common.compat.sdk import redact

        requests_mock.get(f"{BASE}/api/v2/dags/d", json={"dag_id": "d"})
        hook = make_hook(extra={"token": STATIC_TOKEN})
        hook.get_dag("d")
        # The masker is process-global (other tests add secrets too): check only ours are gone.
        redacted = str(redact(f"p={PASSWORD} t={STATIC_TOKEN}"))
        assert PASSWORD not in redacted
        assert STATIC_TOKEN not in redacted
        assert redacted.count("***") >= 2

    def test_exchanged_jwt_is_registered_with_airflows_masker(self, make_hook, requests_mock, v2):
        from airflow.providers.common.compat.sdk import redact

        requests_mock.get(f"{BASE}/api/v2/dags/d", json={"dag_id": "d"})
        make_hook().get_dag("d")
        redacted = str(redact(f"jwt {v2}"))
        assert v2 not in redacted
        assert "***" in redacted


class TestRequestReparse:
    TOKEN = "eyJidW5kbGVfbmFtZSI6ImRhZ3MtZm9sZGVyIn0.sig/+="

    def test_asks_for_the_dags_file_with_its_token(self, make_hook, requests_mock, v2):
        requests_mock.get(
            f"{BASE}/api/v2/dags/team.a",
            json={"dag_id": "team.a", "file_token": self.TOKEN, "relative_fileloc": "schedules.py"},
        )
        requests_mock.put(f"{BASE}/api/v2/parseDagFile/{quote(self.TOKEN, safe='')}", status_code=201)
        assert make_hook().request_reparse("team.a") == "schedules.py"
        [put] = [r for r in requests_mock.request_history if r.method == "PUT"]
        assert put.url == f"{BASE}/api/v2/parseDagFile/{quote(self.TOKEN, safe='')}"
        assert put.headers["Authorization"] == f"Bearer {v2}"

    def test_a_pending_request_counts_as_done(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/team.a", json={"file_token": "t", "fileloc": "/d/s.py"})
        requests_mock.put(f"{BASE}/api/v2/parseDagFile/t", status_code=409, json={"detail": "exists"})
        assert make_hook().request_reparse("team.a") == "/d/s.py"

    def test_unknown_dag(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/team.x", status_code=404, json={"detail": "not found"})
        with pytest.raises(SchedulerNotFoundError):
            make_hook().request_reparse("team.x")

    def test_refused_reparse_is_an_error(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags/team.a", json={"file_token": "t"})
        requests_mock.put(f"{BASE}/api/v2/parseDagFile/t", status_code=403, json={"detail": "Forbidden"})
        with pytest.raises(SchedulerAuthError, match="403"):
            make_hook().request_reparse("team.a")

    def test_airflow_2_has_no_reparse_endpoint(self, make_hook, requests_mock, v1):
        with pytest.raises(SchedulerApiError, match=r"REST API v1 \(Airflow 2.x\), which has no endpoint"):
            make_hook().request_reparse("team.a")
        assert [r.method for r in requests_mock.request_history] == ["GET", "GET"]  # the version probes


class TestTestConnection:
    def test_success(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags", json={"dags": [], "total_entries": 0})
        assert make_hook().test_connection() == (
            True,
            f"Connected to Airflow 3.3.2 at {BASE} (REST API v2) as user 'admin'.",
        )

    def test_success_v1_with_explicit_version(self, make_hook, requests_mock):
        requests_mock.get(f"{BASE}/api/v1/dags", json={"dags": [], "total_entries": 0})
        requests_mock.get(f"{BASE}/api/v1/version", json={"version": "2.11.2"})
        assert make_hook(extra={"api_version": "v1"}).test_connection() == (
            True,
            f"Connected to Airflow 2.11.2 at {BASE} (REST API v1) as user 'admin'.",
        )

    def test_bad_password(self, make_hook, requests_mock):
        requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2"})
        requests_mock.post(f"{BASE}/auth/token", status_code=401, json={"detail": "Invalid credentials"})
        ok, message = make_hook().test_connection()
        assert (ok, message) == (
            False,
            # Airflow's Test button runs the hook under a random conn id: the message names none.
            f"The Airflow API at {BASE} rejected the username/password of user 'admin' (401: Invalid "
            "credentials). Check the login and password.",
        )

    def test_bad_basic_auth_on_v1(self, make_hook, requests_mock, v1):
        requests_mock.get(
            f"{BASE}/api/v1/dags", status_code=401, json={"detail": "Unauthorized", "status": 401}
        )
        ok, message = make_hook().test_connection()
        assert not ok
        assert "answered 401 Unauthorized to GET /api/v1/dags" in message
        assert "Check the connection's username and password" in message

    def test_unreachable_is_not_retried(self, make_hook, requests_mock, sleeps):
        requests_mock.get(
            f"{BASE}/api/v2/version", exc=requests.exceptions.ConnectionError("Connection refused")
        )
        ok, message = make_hook(extra={"max_retries": 5}).test_connection()
        assert not ok
        assert message.startswith(f"Cannot reach the Airflow API at {BASE}")
        assert sleeps == []
        assert len(requests_mock.request_history) == 1

    def test_not_an_airflow_api(self, make_hook, requests_mock):
        requests_mock.get(f"{BASE}/api/v2/version", status_code=404)
        requests_mock.get(f"{BASE}/api/v1/version", status_code=404)
        ok, message = make_hook().test_connection()
        assert not ok
        assert "answered, but it is not an Airflow REST API" in message

    def test_airflow_2_forbidden_may_be_bad_credentials(self, make_hook, requests_mock, v1):
        # Airflow 2.11 + FAB basic auth answers 403 (not 401) to a wrong password: say both causes.
        requests_mock.get(
            f"{BASE}/api/v1/dags",
            status_code=403,
            json={"detail": None, "status": 403, "title": "Forbidden", "type": "...#PermissionDenied"},
        )
        ok, message = make_hook().test_connection()
        assert (ok, message) == (
            False,
            f"Airflow API {BASE} answered 403 Forbidden to GET /api/v1/dags. Airflow 2.x answers 403 both "
            "to a wrong username/password and to a user without the permission: check the "
            "connection's username and password, then the user's role, and that [api] auth_backends "
            "includes airflow.providers.fab.auth_manager.api.auth.backend.basic_auth.",
        )

    def test_missing_permission(self, make_hook, requests_mock, v2):
        requests_mock.get(f"{BASE}/api/v2/dags", status_code=403, json={"detail": "Forbidden"})
        ok, message = make_hook().test_connection()
        assert not ok
        assert "the user lacks the permission" in message

    def test_invalid_settings(self, make_hook):
        ok, message = make_hook(extra={"api_version": "v9"}).test_connection()
        assert (ok, message) == (
            False,
            f"Invalid connection settings: connection '{CONN_ID}' (type scheduler): api_version must be one "
            "of auto, v2, v1, got 'v9'",
        )

    def test_retries_restored_after_test(self, make_hook, requests_mock, v2, sleeps):
        requests_mock.get(f"{BASE}/api/v2/dags", json={"dags": []})
        requests_mock.get(f"{BASE}/api/v2/dags/d", [{"status_code": 503}, {"json": {"dag_id": "d"}}])
        hook = make_hook()
        hook.test_connection()
        hook.get_dag("d")
        assert sleeps == [1.0]


# ------------------------------------------------------------------------------------------------


class TestCreateBackfill:
    BODY = {
        "id": 7,
        "dag_id": "d",
        "from_date": "2026-01-05T00:00:00Z",
        "to_date": "2026-01-07T23:59:59Z",
        "max_active_runs": 2,
    }

    def test_posts_the_window_and_options(self, make_hook, requests_mock, v2):
        post = requests_mock.post(f"{BASE}/api/v2/backfills", json=self.BODY)
        hook = make_hook()
        from datetime import UTC, datetime

        result = hook.create_backfill(
            "d",
            from_date=datetime(2026, 1, 5, tzinfo=UTC),
            to_date="2026-01-07T23:59:59+00:00",
            reprocess="failed",
            max_active_runs=2,
            conf={"region": "eu"},
        )
        assert result["id"] == 7
        assert post.last_request.json() == {
            "dag_id": "d",
            "from_date": "2026-01-05T00:00:00+00:00",
            "to_date": "2026-01-07T23:59:59+00:00",
            "run_backwards": False,
            "reprocess_behavior": "failed",
            "max_active_runs": 2,
            "dag_run_conf": {"region": "eu"},
        }

    def test_dry_run_uses_the_dry_run_route(self, make_hook, requests_mock, v2):
        answer = {"backfills": [{"logical_date": "2026-01-05T05:00:00Z"}], "total_entries": 1}
        post = requests_mock.post(f"{BASE}/api/v2/backfills/dry_run", json=answer)
        assert (
            make_hook().create_backfill("d", from_date="2026-01-05", to_date="2026-01-05", dry_run=True)
            == answer
        )
        assert post.called

    def test_a_running_backfill_is_a_clear_error(self, make_hook, requests_mock, v2):
        requests_mock.post(
            f"{BASE}/api/v2/backfills",
            status_code=409,
            json={"detail": "There is already a running backfill for dag d"},
        )
        with pytest.raises(SchedulerApiError, match="already a running backfill"):
            make_hook().create_backfill("d", from_date="2026-01-05", to_date="2026-01-06")

    def test_airflow_2_has_no_backfill_api(self, make_hook, requests_mock, v1):
        with pytest.raises(
            SchedulerApiError, match=r"REST API v1 \(Airflow 2.x\), which has no backfill API"
        ):
            make_hook().create_backfill("d", from_date="2026-01-05", to_date="2026-01-06")
        assert not [r for r in requests_mock.request_history if "backfills" in r.path]

    def test_unknown_reprocess_is_refused_before_any_request(self, make_hook, requests_mock):
        with pytest.raises(SchedulerApiError, match="reprocess must be one of none, failed, completed"):
            make_hook().create_backfill("d", from_date="2026-01-05", to_date="2026-01-06", reprocess="all")
        assert requests_mock.request_history == []
