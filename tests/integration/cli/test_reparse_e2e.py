"""`airflow-scheduler pause/delete` on the suite's real Airflow 3.3: the change reaches Airflow at once.

The CLI runs with the deployment's environment, where ``scheduler_default`` points at its API, so it
asks for a reparse of the loader file (and pauses a deleted spec's DAG). The measured delays are
printed (``pytest -s``); the bounds are hang guards, not timings.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = pytest.mark.integration


def _spec(ns: str, name: str) -> dict[str, Any]:
    return {
        "version": 1,
        "namespace": ns,
        "name": name,
        "description": f"Reparse spec {name}",
        "schedule": {"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"},
        "start_date": "2026-01-01",
        "tasks": [{"id": "only", "template": "empty"}],
    }


def _wait(what: str, check: Callable[[], Any], timeout: float) -> float:
    """Seconds until ``check()`` is true (polled every 0.5 s); AssertionError after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _dag(airflow: Any, dag_id: str) -> dict[str, Any]:
    resp = airflow.api("GET", f"/api/v2/dags/{dag_id}")
    return resp.json() if resp.status_code == 200 else {}


def test_pause_and_delete_reach_airflow_at_once(airflow, tmp_path: Path) -> None:
    ns = f"rp{uuid.uuid4().hex[:8]}"
    dag_id = f"{ns}.daily"
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec(ns, "daily"), sort_keys=False))
    applied = airflow.scheduler_cli("apply", str(path), "--store", airflow.store_uri, "--author", "it")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    airflow.wait_for_dag(dag_id, timeout=180)

    # What Airflow's UI shows for the schedule and in the Docs dialog.
    details = airflow.api("GET", f"/api/v2/dags/{dag_id}/details").json()
    print(
        f"\ntimetable_summary={details['timetable_summary']!r} "
        f"timetable_description={details['timetable_description']!r} timezone={details.get('timezone')!r}"
    )
    assert f"Generated from the schedule spec `{dag_id}`, revision 1 by `it` at `" in details["doc_md"]
    assert "Schedule: `0 6 * * 1-5` Europe/Berlin." in details["doc_md"]

    paused = airflow.scheduler_cli("pause", dag_id, "--store", airflow.store_uri, "--author", "it")
    assert paused.returncode == 0, paused.stdout + paused.stderr
    assert paused.stdout == f"paused {dag_id} as revision 2\n"
    assert paused.stderr.startswith(f"asked Airflow at {airflow.base_url} to reparse schedules.py"), (
        paused.stderr
    )
    delay = _wait("the pause to reach Airflow", lambda: _dag(airflow, dag_id).get("is_paused"), 60)
    print(f"pause reached Airflow after {delay:.1f} s")

    resumed = airflow.scheduler_cli("resume", dag_id, "--store", airflow.store_uri, "--author", "it")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    delay = _wait("the resume to reach Airflow", lambda: _dag(airflow, dag_id).get("is_paused") is False, 60)
    print(f"resume reached Airflow after {delay:.1f} s")

    deleted = airflow.scheduler_cli("delete", dag_id, "--store", airflow.store_uri, "--author", "it")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert deleted.stderr.startswith(
        f"paused DAG {dag_id} in Airflow at {airflow.base_url} and asked it to reparse schedules.py;"
    ), deleted.stderr
    # Paused by the CLI itself: the scheduler creates no more runs, whatever the parse intervals.
    assert _dag(airflow, dag_id)["is_paused"] is True
    started = time.monotonic()
    airflow.wait_for_dag_gone(dag_id, timeout=240)
    print(
        f"deleted DAG marked stale after {time.monotonic() - started:.1f} s "
        "(Airflow's stale_dag_threshold 50 s + parsing_cleanup_interval up to 60 s)"
    )
