"""`airflow-scheduler rollback` on the suite's real Airflow 3.3: the DAG goes back to the old revision.

The spec lives in the deployment's PostgreSQL store (``airflow.store_uri``), the loader file in its
dags folder builds the DAG, and the CLI runs as a subprocess with the deployment's environment, as
``tests/integration/cli/test_reparse_e2e.py`` runs it. The namespace is unique to this run.
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


def _spec(ns: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": 1,
        "namespace": ns,
        "name": "daily",
        "description": "Rollback spec",
        "schedule": {"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"},
        "start_date": "2026-01-01",
        "tasks": tasks,
    }


REV1_TASKS = [
    {"id": "extract", "template": "empty"},
    {"id": "load", "template": "empty", "depends_on": ["extract"]},
]
REV2_TASKS = [
    {"id": "extract", "template": "empty"},
    {"id": "transform", "template": "empty", "depends_on": ["extract"]},
    {"id": "publish", "template": "empty", "depends_on": ["transform"]},
]


def _wait(what: str, check: Callable[[], Any], timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def _tasks(airflow: Any, dag_id: str) -> dict[str, list[str]]:
    """The DAG's tasks as Airflow serves them: task id -> sorted downstream ids."""
    resp = airflow.api("GET", f"/api/v2/dags/{dag_id}/tasks")
    if resp.status_code != 200:
        return {}
    return {t["task_id"]: sorted(t["downstream_task_ids"]) for t in resp.json()["tasks"]}


def _doc_md(airflow: Any, dag_id: str) -> str:
    resp = airflow.api("GET", f"/api/v2/dags/{dag_id}/details")
    return str(resp.json().get("doc_md") or "") if resp.status_code == 200 else ""


def _cli(airflow: Any, *args: str) -> Any:
    result = airflow.scheduler_cli(*args, "--store", airflow.store_uri)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def test_rollback_brings_the_dag_back_to_revision_1(airflow: Any, tmp_path: Path) -> None:
    ns = f"rb{uuid.uuid4().hex[:8]}"
    dag_id = f"{ns}.daily"
    path = tmp_path / "daily.yaml"
    rev1 = {"extract": ["load"], "load": []}
    rev2 = {"extract": ["transform"], "transform": ["publish"], "publish": []}

    path.write_text(yaml.safe_dump(_spec(ns, REV1_TASKS), sort_keys=False))
    applied = _cli(airflow, "apply", str(path), "--author", "it-alice")
    assert applied.stdout.endswith(f"applied {dag_id} as revision 1\n")
    airflow.wait_for_dag(dag_id, timeout=180)
    _wait("revision 1's tasks", lambda: _tasks(airflow, dag_id) == rev1)

    path.write_text(yaml.safe_dump(_spec(ns, REV2_TASKS), sort_keys=False))
    applied = _cli(airflow, "apply", str(path), "--author", "it-bob")
    assert applied.stdout.endswith(f"applied {dag_id} as revision 2\n")
    _wait("revision 2's tasks", lambda: _tasks(airflow, dag_id) == rev2)

    shown = _cli(airflow, "show", dag_id, "--revision", "1")
    assert shown.stdout.startswith(f"# {dag_id}: revision 1 by it-alice at ")
    assert [t["id"] for t in yaml.safe_load(shown.stdout)["tasks"]] == ["extract", "load"]

    # a stale --expected-revision is refused and writes nothing
    stale = airflow.scheduler_cli(
        "rollback", dag_id, "--to", "1", "--expected-revision", "1", "--store", airflow.store_uri
    )
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "nothing rolled back" in stale.stderr

    rolled = _cli(
        airflow, "rollback", dag_id, "--to", "1", "--expected-revision", "2", "--author", "it-carol"
    )
    assert "+- id: load\n" in rolled.stdout
    assert rolled.stdout.endswith(f"rolled back {dag_id} to revision 1 as revision 3\n"), rolled.stdout
    started = time.monotonic()
    _wait("revision 1's tasks again", lambda: _tasks(airflow, dag_id) == rev1)
    print(f"\nthe rollback reached Airflow after {time.monotonic() - started:.1f} s")
    _wait(
        "the DAG's docs to name revision 3",
        lambda: f"spec `{dag_id}`, revision 3 by `it-carol` at `" in _doc_md(airflow, dag_id),
        timeout=60,
    )

    history = _cli(airflow, "history", dag_id)
    rows = [line.split()[:3] for line in history.stdout.splitlines()]
    assert rows == [
        ["REVISION", "ACTION", "AUTHOR"],
        ["1", "create", "it-alice"],
        ["2", "update", "it-bob"],
        ["3", "update", "it-carol"],
    ], history.stdout
