"""End to end: ``for_each`` fans a task out as Airflow mapped task instances on a real Airflow 3.3
(and, in the Airflow 2.11 virtualenv, on a real Airflow 2.11 through its REST API v1).

A spec applied with the CLI fans out over a param (the run's conf gives three regions) and over a
literal list; each mapped instance renders ``{{ item }}`` itself (the approved QA callable
``qa_checks.run_check`` returns ``"<check>: ok"``), and a downstream task starts only after every
mapped instance ended. Uses the shared ``airflow`` deployment (EXAMPLE_ADMIN_SETTINGS enables
``python`` with the QA callables).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import yaml

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

REGIONS = ["eu", "us", "apac"]


def _spec(ns: str) -> dict[str, Any]:
    return {
        "version": 1,
        "namespace": ns,
        "name": "fanout",
        "schedule": None,
        "params": {"regions": {"type": "array", "default": ["eu"], "items": {"type": "string"}}},
        "tasks": [
            {
                "id": "check-region",
                "template": "python",
                "for_each": "{{ params.regions }}",
                "with": {"callable": "qa_checks.run_check", "kwargs": {"check": "region {{ item }}"}},
            },
            {
                "id": "literal",
                "template": "python",
                "for_each": ["a", "b"],
                "with": {"callable": "qa_checks.run_check", "kwargs": {"check": "{{item | upper}}"}},
            },
            {
                "id": "done",
                "template": "python",
                "depends_on": ["check-region", "literal"],
                "with": {"callable": "qa_checks.run_check", "kwargs": {"check": "done"}},
            },
        ],
    }


def _instances(airflow: Any, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    resp = airflow.api(
        "GET",
        f"{airflow.api_prefix}/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances",
        params={"limit": 100},
    )
    resp.raise_for_status()
    return resp.json()["task_instances"]  # type: ignore[no-any-return]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _xcom(airflow: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> Any:
    resp = airflow.api(
        "GET",
        f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/"
        "return_value",
        params={"map_index": map_index, "deserialize": "true"},
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["value"]


def test_for_each_over_a_param_runs_one_mapped_instance_per_item(airflow: Any, tmp_path: Path) -> None:
    ns = f"fe{uuid.uuid4().hex[:8]}"
    dag_id = f"{ns}.fanout"
    path = tmp_path / "fanout.yaml"
    path.write_text(yaml.safe_dump(_spec(ns), sort_keys=False))
    result = airflow.scheduler_cli("apply", str(path), "--store", airflow.store_uri, "--author", "it")
    assert result.returncode == 0, result.stdout + result.stderr
    airflow.wait_for_dag(dag_id, timeout=180)

    tasks = airflow.api("GET", f"/api/v2/dags/{dag_id}/tasks").json()["tasks"]
    by_id = {t["task_id"]: t for t in tasks}
    assert sorted(by_id) == ["check-region", "check-region__items", "done", "literal"]
    assert by_id["check-region"]["is_mapped"] is True
    assert by_id["literal"]["is_mapped"] is True
    assert by_id["check-region__items"]["downstream_task_ids"] == ["check-region"]

    # A list longer than [schedule_specs] max_map_length (64) is refused when the run is triggered.
    too_long = airflow.api(
        "POST",
        f"/api/v2/dags/{dag_id}/dagRuns",
        json={"logical_date": None, "conf": {"regions": [f"r{i}" for i in range(65)]}},
    )
    assert 400 <= too_long.status_code < 500, too_long.text

    run_id = airflow.trigger(dag_id, conf={"regions": REGIONS})["dag_run_id"]
    run = airflow.wait_for_run(dag_id, run_id, timeout=300)
    instances = _instances(airflow, dag_id, run_id)
    assert run["state"] == "success", instances

    mapped = sorted(
        (ti for ti in instances if ti["task_id"] == "check-region"), key=lambda ti: ti["map_index"]
    )
    assert [ti["map_index"] for ti in mapped] == [0, 1, 2]
    assert [ti["state"] for ti in mapped] == ["success"] * 3
    assert [ti["rendered_map_index"] for ti in mapped] == REGIONS  # the UI labels each instance
    for ti, region in zip(mapped, REGIONS, strict=True):
        assert ti["rendered_fields"]["op_kwargs"] == {"check": f"region {region}"}
        assert _xcom(airflow, dag_id, run_id, "check-region", ti["map_index"]) == f"region {region}: ok"

    literal = sorted((ti for ti in instances if ti["task_id"] == "literal"), key=lambda ti: ti["map_index"])
    assert [ti["map_index"] for ti in literal] == [0, 1]
    assert [_xcom(airflow, dag_id, run_id, "literal", i) for i in (0, 1)] == ["A: ok", "B: ok"]

    (done,) = (ti for ti in instances if ti["task_id"] == "done")
    assert done["state"] == "success"
    assert done["map_index"] == -1
    assert all(_at(done["start_date"]) >= _at(ti["end_date"]) for ti in [*mapped, *literal]), instances


def test_for_each_on_airflow_2(airflow2: Any, tmp_path: Path) -> None:
    """The same spec on Airflow 2.11 (REST API v1): mapped instances per item, then the downstream task."""
    ns = f"fe{uuid.uuid4().hex[:8]}"
    dag_id = f"{ns}.fanout"
    path = tmp_path / "fanout.yaml"
    path.write_text(yaml.safe_dump(_spec(ns), sort_keys=False))
    result = airflow2.scheduler_cli("apply", str(path), "--store", airflow2.store_uri, "--author", "it")
    assert result.returncode == 0, result.stdout + result.stderr
    airflow2.wait_for_dag(dag_id, timeout=240)
    airflow2.api("PATCH", f"/api/v1/dags/{quote(dag_id, safe='')}", json={"is_paused": False})

    run_id = airflow2.trigger(dag_id, conf={"regions": REGIONS})["dag_run_id"]
    run = airflow2.wait_for_run(dag_id, quote(run_id, safe=""), timeout=400)
    instances = _instances(airflow2, dag_id, run_id)
    assert run["state"] == "success", instances
    mapped = sorted(
        (ti for ti in instances if ti["task_id"] == "check-region"), key=lambda ti: ti["map_index"]
    )
    assert [ti["map_index"] for ti in mapped] == [0, 1, 2]
    assert [ti["rendered_map_index"] for ti in mapped] == REGIONS
    for ti, region in zip(mapped, REGIONS, strict=True):
        assert ti["rendered_fields"]["op_kwargs"] == {"check": f"region {region}"}
    literal = [ti for ti in instances if ti["task_id"] == "literal"]
    assert sorted(ti["rendered_fields"]["op_kwargs"]["check"] for ti in literal) == ["A", "B"]
    (done,) = (ti for ti in instances if ti["task_id"] == "done")
    assert done["state"] == "success"
    assert all(_at(done["start_date"]) >= _at(ti["end_date"]) for ti in [*mapped, *literal]), instances
