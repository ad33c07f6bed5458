"""SchedulerHook against a real Airflow 2.11 webserver (REST API v1, basic auth; ``airflow2`` fixture).

Runs in the Airflow 2.11 virtualenv (the fixture skips elsewhere).
"""

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
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(
    dag_id={dag_id!r},
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
):
    EmptyOperator(task_id="work")
"""


@pytest.fixture
def make_hook(monkeypatch, airflow2):
    def factory(conn_id: str = "hook_it_v1", **fields):
        conn = {
            "conn_type": "scheduler",
            "host": airflow2.base_url,
            "login": airflow2.username,
            "password": airflow2.password,
            **fields,
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return SchedulerHook(conn_id)

    return factory


@pytest.fixture(scope="module")
def dag_id(airflow2) -> str:
    dag_id = f"hook_it_v1_{uuid.uuid4().hex[:8]}"
    airflow2.add_dag_file(f"{dag_id}.py", DAG_FILE.format(dag_id=dag_id))
    airflow2.wait_for_dag(dag_id, timeout=240)
    return dag_id


class TestSchedulerHookOnAirflow2:
    def test_auto_detects_v1(self, make_hook):
        assert make_hook().api_version == "v1"

    def test_trigger_with_conf_and_read_state(self, make_hook, dag_id):
        hook = make_hook()
        run = hook.trigger_dag_run(dag_id, conf={"region": "eu"}, note="v1 note")
        assert run["conf"] == {"region": "eu"}
        assert run["logical_date"]  # 2.x always sets one
        assert run["dag_run_id"].startswith("scheduler__")
        deadline = time.monotonic() + 240
        while run["state"] not in ("success", "failed") and time.monotonic() < deadline:
            time.sleep(2)
            run = hook.get_dag_run(dag_id, run["dag_run_id"])
        assert run["state"] == "success"
        listed = hook.list_dag_runs(dag_id, state=["success"])
        assert run["dag_run_id"] in [r["dag_run_id"] for r in listed]

    def test_trigger_is_idempotent_on_run_id(self, make_hook, dag_id):
        hook = make_hook()
        run_id = f"it_v1_{uuid.uuid4().hex[:8]}"
        first = hook.trigger_dag_run(dag_id, run_id=run_id)
        again = hook.trigger_dag_run(dag_id, run_id=run_id)
        assert first["dag_run_id"] == again["dag_run_id"] == run_id
        assert [r["dag_run_id"] for r in hook.list_dag_runs(dag_id)].count(run_id) == 1

    def test_pause_and_unpause(self, make_hook, dag_id):
        hook = make_hook()
        try:
            assert hook.set_dag_paused(dag_id, True)["is_paused"] is True
            assert hook.get_dag(dag_id)["is_paused"] is True
        finally:
            assert hook.set_dag_paused(dag_id, False)["is_paused"] is False

    def test_unknown_dag(self, make_hook):
        expected = "answered 404 Not Found to POST /api/v1/dags/nope_v1"
        with pytest.raises(SchedulerNotFoundError, match=expected):
            make_hook().trigger_dag_run("nope_v1")

    def test_health_and_ui_url(self, make_hook, airflow2):
        hook = make_hook()
        assert hook.health()["metadatabase"]["status"] == "healthy"
        assert hook.ui_url_for_run("d", "r+1") == f"{airflow2.base_url}/dags/d/grid?dag_run_id=r%2B1"

    def test_test_connection(self, make_hook, airflow2):
        ok, message = make_hook().test_connection()
        assert ok, message
        assert message == (
            f"Connected to Airflow 2.11.2 at {airflow2.base_url} (REST API v1) as user '{airflow2.username}'."
        )

    def test_test_connection_bad_password(self, make_hook, airflow2):
        ok, message = make_hook("hook_it_v1_bad", password="wrong-password-v1").test_connection()
        assert not ok
        # Airflow 2.11 with FAB basic auth answers 403 (not 401) to a wrong password.
        assert message.startswith(f"Airflow API {airflow2.base_url} answered 403 Forbidden to GET /api/v1/")
        assert "check the connection's username and password" in message
        assert "wrong-password-v1" not in message

    def test_test_connection_closed_port(self, make_hook):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        ok, message = make_hook("hook_it_v1_closed", host=f"http://127.0.0.1:{port}").test_connection()
        assert not ok
        assert message.startswith(f"Cannot reach the Airflow API at http://127.0.0.1:{port}")
