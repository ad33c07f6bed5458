"""End to end on a real Airflow 3.3: task overrides and a task group, as Airflow's REST API shows them.

Uses the shared ``airflow`` deployment, whose ``[schedule_specs] pools`` lists ``default_pool`` for
every namespace (tests/integration/conftest.py). The spec lives in a namespace unique to this run.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration


def _group_children(node: dict[str, Any], group_id: str) -> list[str] | None:
    """The task ids in the group ``group_id`` of a structure_data node tree (None: no such group)."""
    for child in node.get("children") or []:
        if child.get("id") == group_id and child.get("children") is not None:
            return sorted(c["id"] for c in child["children"] if c.get("type") == "task")
        found = _group_children(child, group_id)
        if found is not None:
            return found
    return None


def _seconds(value: Any) -> float:
    """A REST API duration (``{"__type": "TimeDelta", "days", "seconds", ...}``) in seconds."""
    assert isinstance(value, dict), value
    return value.get("days", 0) * 86400 + value.get("seconds", 0) + value.get("microseconds", 0) / 1e6


def test_overrides_and_group_show_as_built(airflow: Any, tmp_path: Path) -> None:
    ns = f"ov{uuid.uuid4().hex[:8]}"
    dag_id = f"{ns}.overrides"
    spec = {
        "version": 1,
        "namespace": ns,
        "name": "overrides",
        "schedule": None,
        "max_active_tasks": 2,
        "defaults": {"retries": 1, "depends_on_past": True},
        "tasks": [
            {
                "id": "extract-a",
                "template": "empty",
                "group": "extract",
                "pool": "default_pool",
                "priority_weight": 7,
                "retry_delay": "PT1M",
                "retry_exponential_backoff": True,
                "max_retry_delay": "PT10M",
            },
            {"id": "extract-b", "template": "empty", "group": "extract"},
            {"id": "load", "template": "empty", "depends_on": ["extract-a", "extract-b"]},
        ],
    }
    path = tmp_path / "overrides.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = airflow.scheduler_cli("apply", str(path), "--store", airflow.store_uri, "--author", "it")
    assert result.returncode == 0, result.stdout + result.stderr
    airflow.wait_for_dag(dag_id, timeout=180)

    resp = airflow.api("GET", f"/api/v2/dags/{dag_id}/tasks")
    resp.raise_for_status()
    tasks = {t["task_id"]: t for t in resp.json()["tasks"]}
    assert sorted(tasks) == ["extract-a", "extract-b", "load"]  # no "extract." prefix
    a, b = tasks["extract-a"], tasks["extract-b"]
    assert a["pool"] == "default_pool"
    assert a["priority_weight"] == 7
    assert _seconds(a["retry_delay"]) == 60
    assert _seconds(b["retry_delay"]) == 300
    assert a["retry_exponential_backoff"] == 2.0  # Airflow 3.3 reads the flag as a doubling multiplier
    assert b["priority_weight"] == 1
    assert b["retry_exponential_backoff"] == 0
    assert a["depends_on_past"] is True
    assert tasks["load"]["depends_on_past"] is True
    assert sorted(a["downstream_task_ids"]) == ["load"]

    details = airflow.api("GET", f"/api/v2/dags/{dag_id}/details")
    details.raise_for_status()
    assert details.json()["max_active_tasks"] == 2

    structure = airflow.api("GET", "/ui/structure/structure_data", params={"dag_id": dag_id})
    structure.raise_for_status()
    root = {"children": structure.json()["nodes"]}
    assert _group_children(root, "extract") == ["extract-a", "extract-b"]
