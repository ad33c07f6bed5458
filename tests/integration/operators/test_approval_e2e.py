"""End to end on a real Airflow 3.3: a spec's ``approval`` task waits until someone responds.

A spec with an ``approval`` task and a downstream task is applied with the CLI (shared ``airflow``
deployment, its loader file and spec store). A run waits in Airflow's Required Actions (task state
``awaiting_input`` on 3.3, ``deferred`` on 3.1) until it is approved through the REST API's HITL
endpoint (``PATCH .../taskInstances/{task_id}/{map_index}/hitlDetails``): then the downstream task runs
and the run succeeds. A second run is rejected: the downstream task is skipped. The DAG's
``on_success`` webhook with ``format: slack`` posts ``{"text": message}`` to a local HTTP server.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit"))
from recording_http import RecordingServer

if TYPE_CHECKING:
    from collections.abc import Callable

    from local_airflow import AirflowServer

pytestmark = pytest.mark.integration

WAITING = ("awaiting_input", "deferred")


def _wait(what: str, check: Callable[[], Any], timeout: float = 180, interval: float = 2) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def _apply(airflow: AirflowServer, tmp_path: Path, spec: dict[str, Any]) -> None:
    path = tmp_path / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = airflow.scheduler_cli("apply", str(path), "--store", airflow.store_uri, "--author", "it")
    assert result.returncode == 0, result.stdout + result.stderr


def _hitl_path(dag_id: str, run_id: str, task_id: str) -> str:
    return f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails"


def _task_log(airflow: AirflowServer, dag_id: str, run_id: str, task_id: str) -> str:
    """The task's log of every try (for the failure message)."""
    out = []
    for try_number in (1, 2):
        resp = airflow.api(
            "GET",
            f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            headers={"Accept": "text/plain"},
        )
        out.append(f"--- try {try_number}: HTTP {resp.status_code}\n{resp.text[-6000:]}")
    return "\n".join(out)


def _waiting_for_a_person(airflow: AirflowServer, dag_id: str, run_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        states = airflow.task_states(dag_id, run_id)
        if states.get("sign-off") not in WAITING:
            assert states.get("sign-off") not in ("failed", "upstream_failed"), states
            return None
        resp = airflow.api("GET", _hitl_path(dag_id, run_id, "sign-off"))
        return resp.json() if resp.status_code == 200 else None

    return _wait(f"{dag_id}/{run_id} sign-off to wait for a response", check)  # type: ignore[no-any-return]


def test_approval_waits_until_approved_and_reject_skips_downstream(airflow, tmp_path):
    ns = f"ap{uuid.uuid4().hex[:8]}"
    dag_id = f"{ns}.release"
    with RecordingServer() as chat:
        # [schedule_specs] webhook_connections approves it_chat on the shared deployment (conftest)
        airflow.save_connection("it_chat", {"conn_type": "http", "host": chat.url})
        _apply(
            airflow,
            tmp_path,
            {
                "version": 1,
                "namespace": ns,
                "name": "release",
                "schedule": None,
                "start_date": "2026-01-01",
                "params": {"version": {"type": "string", "default": "1.0"}},
                "tasks": [
                    {
                        "id": "sign-off",
                        "template": "approval",
                        "with": {
                            "subject": "Release {{ params.version }}?",
                            "body": "Run {{ run_id }}",
                            "assigned_users": ["admin"],
                            "timeout": "PT1H",
                        },
                    },
                    {"id": "publish", "template": "empty", "depends_on": ["sign-off"]},
                ],
                "notify": {
                    "on_success": [
                        {
                            "template": "webhook",
                            "with": {
                                "conn_id": "it_chat",
                                "endpoint": "/hooks/release",
                                "format": "slack",
                                "message": "{{ run_id }} released",
                            },
                        }
                    ]
                },
            },
        )
        airflow.wait_for_dag(dag_id, timeout=180)

        # Approve: the run waits for a person, then publishes and succeeds.
        approved = airflow.trigger(dag_id, conf={"version": "2.5"})["dag_run_id"]
        detail = _waiting_for_a_person(airflow, dag_id, approved)
        assert detail["subject"] == "Release 2.5?"
        assert detail["body"] == f"Run {approved}"
        assert detail["options"] == ["Approve", "Reject"]
        assert [u["id"] for u in detail["assigned_users"]] == ["admin"]
        time.sleep(5)  # nobody responded yet: it keeps waiting, publish does not run
        states = airflow.task_states(dag_id, approved)
        assert states["sign-off"] in WAITING, states
        assert states["publish"] in (None, "none"), states
        assert airflow.get_run(dag_id, approved)["state"] == "running"
        resp = airflow.api(
            "PATCH", _hitl_path(dag_id, approved, "sign-off"), json={"chosen_options": ["Approve"]}
        )
        assert resp.status_code == 200, resp.text
        run = airflow.wait_for_run(dag_id, approved, timeout=180)
        assert run["state"] == "success", _task_log(airflow, dag_id, approved, "sign-off")
        assert airflow.task_states(dag_id, approved) == {"sign-off": "success", "publish": "success"}

        # Reject: publish is skipped (the run itself succeeds: a person answered).
        rejected = airflow.trigger(dag_id)["dag_run_id"]
        _waiting_for_a_person(airflow, dag_id, rejected)
        resp = airflow.api(
            "PATCH", _hitl_path(dag_id, rejected, "sign-off"), json={"chosen_options": ["Reject"]}
        )
        assert resp.status_code == 200, resp.text
        airflow.wait_for_run(dag_id, rejected, timeout=180)
        states = airflow.task_states(dag_id, rejected)
        assert states == {"sign-off": "success", "publish": "skipped"}, _task_log(
            airflow, dag_id, rejected, "sign-off"
        )

        # The success callbacks (run in the dag processor) posted the chat message of each run.
        posted = _wait(
            "the webhook messages of both runs",
            lambda: len(chat.received) >= 2 and chat.received,
            timeout=120,
        )
        assert {(r.method, r.path) for r in posted} == {("POST", "/hooks/release")}
        assert sorted(r.json()["text"] for r in posted) == sorted(
            [f"{approved} released", f"{rejected} released"]
        )
