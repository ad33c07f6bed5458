"""SchedulerHook against a real Airflow 3.3 API server (the shared ``airflow`` session fixture)."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest

from airflow_provider_scheduler.hooks.scheduler import SchedulerHook, SchedulerNotFoundError

pytestmark = pytest.mark.integration

DAG_FILE = """
from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(
    dag_id={dag_id!r},
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["hook-integration"],
):
    EmptyOperator(task_id="work")
"""


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_hook(monkeypatch, airflow):
    """A hook on an AIRFLOW_CONN_* connection to the shared deployment; fields can be overridden."""

    def factory(conn_id: str = "hook_it", **fields):
        conn = {
            "conn_type": "scheduler",
            "host": airflow.base_url,
            "login": airflow.username,
            "password": airflow.password,
            **fields,
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return SchedulerHook(conn_id)

    return factory


@pytest.fixture(scope="module")
def dag_id(airflow) -> str:
    dag_id = f"hook_it_{uuid.uuid4().hex[:8]}"
    airflow.add_dag_file(f"{dag_id}.py", DAG_FILE.format(dag_id=dag_id))
    airflow.wait_for_dag(dag_id)
    return dag_id


def wait_for_terminal_state(hook: SchedulerHook, dag_id: str, run_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    run = hook.get_dag_run(dag_id, run_id)
    while run["state"] not in ("success", "failed") and time.monotonic() < deadline:
        time.sleep(1)
        run = hook.get_dag_run(dag_id, run_id)
    return run


class TestSchedulerHookOnAirflow3:
    def test_trigger_with_conf_and_read_state(self, make_hook, airflow, dag_id):
        hook = make_hook()
        run = hook.trigger_dag_run(dag_id, conf={"region": "eu", "n": 3}, note="from the hook test")
        assert run["dag_id"] == dag_id
        assert run["conf"] == {"region": "eu", "n": 3}
        assert run["note"] == "from the hook test"
        assert run["logical_date"] is None
        assert run["state"] in ("queued", "running", "success")

        finished = wait_for_terminal_state(hook, dag_id, run["dag_run_id"])
        assert finished["state"] == "success", airflow.task_states(dag_id, run["dag_run_id"])
        assert hook.api_version == "v2"

        listed = hook.list_dag_runs(dag_id, state="success")
        assert run["dag_run_id"] in [r["dag_run_id"] for r in listed]

    def test_trigger_is_idempotent_on_run_id(self, make_hook, dag_id):
        hook = make_hook()
        run_id = f"it_{uuid.uuid4().hex[:8]}"
        first = hook.trigger_dag_run(dag_id, run_id=run_id, conf={"a": 1})
        again = hook.trigger_dag_run(dag_id, run_id=run_id, conf={"a": 1})
        assert again["dag_run_id"] == first["dag_run_id"] == run_id
        runs = [r for r in hook.list_dag_runs(dag_id, limit=100) if r["dag_run_id"] == run_id]
        assert len(runs) == 1

    def test_logical_date_is_sent(self, make_hook, dag_id):
        run = make_hook().trigger_dag_run(dag_id, logical_date="2026-02-03T04:05:06+00:00")
        assert run["logical_date"] == "2026-02-03T04:05:06Z"

    def test_pause_and_unpause(self, make_hook, airflow, dag_id):
        hook = make_hook()
        try:
            assert hook.set_dag_paused(dag_id, True)["is_paused"] is True
            assert hook.get_dag(dag_id)["is_paused"] is True
            assert airflow.api("GET", f"/api/v2/dags/{dag_id}").json()["is_paused"] is True
        finally:
            assert hook.set_dag_paused(dag_id, False)["is_paused"] is False
        assert hook.get_dag(dag_id)["is_paused"] is False

    def test_unknown_dag_says_what_to_check(self, make_hook):
        with pytest.raises(SchedulerNotFoundError) as info:
            make_hook().trigger_dag_run("no_such_dag_hook_it")
        message = str(info.value)
        assert "answered 404 Not Found to POST /api/v2/dags/no_such_dag_hook_it/dagRuns" in message
        assert "no_such_dag_hook_it" in message
        assert "Check the DAG id" in message

    def test_health(self, make_hook):
        assert make_hook().health()["metadatabase"]["status"] == "healthy"

    def test_host_without_scheme_and_port_field(self, make_hook, airflow):
        hook = make_hook("hook_it_bare", host="127.0.0.1", port=int(airflow.base_url.rsplit(":", 1)[1]))
        assert hook.settings.base_url == airflow.base_url
        assert hook.health()["metadatabase"]["status"] == "healthy"


class TestTestConnectionOnAirflow3:
    def test_good_credentials(self, make_hook, airflow):
        ok, message = make_hook().test_connection()
        assert ok, message
        assert message.startswith("Connected to Airflow 3.")
        assert f"at {airflow.base_url} (REST API v2) as user '{airflow.username}'." in message

    def test_bad_password(self, make_hook, airflow):
        ok, message = make_hook("hook_it_badpw", password="definitely-wrong").test_connection()
        assert (ok, message) == (
            False,
            f"The Airflow API at {airflow.base_url} rejected the username/password of user "
            f"'{airflow.username}' (401: Invalid credentials). Check the login and password.",
        )
        assert "definitely-wrong" not in message

    def test_wrong_url_closed_port(self, make_hook):
        port = closed_port()
        ok, message = make_hook("hook_it_closed", host=f"http://127.0.0.1:{port}").test_connection()
        assert (ok, message) == (
            False,
            f"Cannot reach the Airflow API at http://127.0.0.1:{port}: GET /api/v2/version failed "
            "(connection refused) after 1 attempt. Check the host and port of the Airflow API URL and that "
            "the API server is running.",
        )

    def test_airflows_own_test_endpoint_calls_the_hook(self, airflow):
        """What the UI's Test button does: POST /api/v2/connections/test -> SchedulerHook.test_connection."""
        body = {
            "connection_id": f"hook_it_button_{uuid.uuid4().hex[:6]}",
            "conn_type": "scheduler",
            "host": airflow.base_url,
            "login": airflow.username,
            "password": airflow.password,
        }
        good = airflow.api("POST", "/api/v2/connections/test", json=body)
        assert good.status_code == 200, good.text
        assert good.json()["status"] is True, good.json()
        assert good.json()["message"].startswith("Connected to Airflow 3.")

        bad = airflow.api("POST", "/api/v2/connections/test", json={**body, "password": "nope-nope"})
        assert bad.json() == {
            "status": False,
            "message": f"The Airflow API at {airflow.base_url} rejected the username/password of user "
            f"'{airflow.username}' (401: Invalid credentials). Check the login and password.",
        }
