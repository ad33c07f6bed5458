"""End to end: a spec's ``deadline`` on a real Airflow (3.1+): a late run notifies a webhook.

The shared deployment approves the ``it_deadline_hook`` webhook connection
(``EXAMPLE_ADMIN_SETTINGS`` in tests/integration/conftest.py); this test points it at a recording HTTP
server on 127.0.0.1. The scheduler finds the missed deadline, the triggerer awaits the provider's
coroutine, which rebuilds the webhook notifier by template name and posts the run.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit"))
from recording_http import RecordingServer

pytestmark = pytest.mark.integration

HOOK_CONN = "it_deadline_hook"


def _apply(airflow: Any, tmp_path: Path, spec: dict[str, Any]) -> None:
    path = tmp_path / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = airflow.scheduler_cli("apply", str(path), "--store", airflow.store_uri, "--author", "it")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_late_run_posts_its_deadline_notification(airflow, tmp_path):
    version = airflow.api("GET", "/api/v2/version").json()["version"]
    if tuple(int(p) for p in version.split(".")[:2]) < (3, 1):
        pytest.skip(f"deadline alerts are Airflow 3.1+; this deployment runs {version}")
    ns = f"it-dl-{uuid.uuid4().hex[:6]}"
    with RecordingServer() as server:
        resp = airflow.api("DELETE", f"/api/v2/connections/{HOOK_CONN}")
        assert resp.status_code in (204, 404), resp.text
        assert airflow.save_connection(HOOK_CONN, {"conn_type": "http", "host": server.url})
        spec = {
            "version": 1,
            "namespace": ns,
            "name": "late",
            "schedule": None,
            # a python task needs a worker process: seconds, so a one-second deadline is missed
            "deadline": {
                "after": "PT1S",
                "from": "queued",
                "notify": [{"template": "webhook", "with": {"conn_id": HOOK_CONN, "endpoint": "/late"}}],
            },
            "tasks": [
                {
                    "id": "check",
                    "template": "python",
                    "with": {"callable": "qa_checks.run_check", "kwargs": {"check": "deadline"}},
                }
            ],
        }
        _apply(airflow, tmp_path, spec)
        dag_id = f"{ns}.late"
        airflow.wait_for_dag(dag_id, timeout=180)
        run = airflow.trigger(dag_id)
        finished = airflow.wait_for_run(dag_id, run["dag_run_id"], timeout=180)
        assert finished["state"] == "success"  # a missed deadline notifies; it does not fail the run
        end = time.monotonic() + 120
        while time.monotonic() < end and not server.received:
            time.sleep(1)
        assert server.received, f"no deadline notification within 120 s\n{airflow.log_tails(40)}"
        [received] = server.received
        assert received.method == "POST"
        assert received.path == "/late"
        body = received.json()
        assert body["event"] == "deadline_missed"
        assert body["dag_id"] == dag_id
        assert body["run_id"] == run["dag_run_id"]
        assert body["state"] in ("queued", "running")  # the run as it was when the deadline passed
