"""The story on a real Airflow 2.11 (webserver/API v1, scheduler, triggerer; SQLite spec store).

Up to "the DAGs appear and runs succeed": the example specs are applied with the CLI, the generated
DAGs appear through the REST API v1, the QA suite (@once, setup/teardown) runs by itself and the
asset-scheduled dashboard runs when triggered. The report spec waits for another DAG without
deferring, which the SequentialExecutor of a SQLite-backed 2.11 cannot run alongside (its one slot
would wait for a run that needs that slot): it and the remote-trigger spec are applied paused and only
checked to load.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

SPECS = Path(__file__).resolve().parents[2] / "example_dags" / "specs"


def _runs(airflow2, dag_id: str) -> list[dict]:
    resp = airflow2.api("GET", f"/api/v1/dags/{dag_id}/dagRuns")
    resp.raise_for_status()
    return resp.json()["dag_runs"]


def test_specs_become_dags_and_runs_succeed_on_airflow_2(airflow2, tmp_path):
    paths = []
    for source in sorted(SPECS.glob("*.yaml")):
        spec = yaml.safe_load(source.read_text())
        if spec["name"] in ("weekday-report", "nightly-report-run"):
            spec["paused"] = True
        (tmp_path / source.name).write_text(yaml.safe_dump(spec))
        paths.append(str(tmp_path / source.name))
    applied = airflow2.scheduler_cli("apply", "--author", "story", *paths)
    assert applied.returncode == 0, applied.stderr
    assert "applied qa.release-suite as revision 1" in applied.stdout

    report = airflow2.wait_for_dag("analytics.weekday-report", timeout=240)
    # the provider's timetable on 2.11 too: the schedule names its timezone and what it skips
    assert (
        report["schedule_interval"]["value"] == "0 6 * * 1-5 Europe/Berlin except DE-BE holidays and 2 dates"
    )
    assert {t["name"] for t in report["tags"]} >= {"finance", "namespace:analytics"}
    assert report["is_paused"] is True
    airflow2.wait_for_dag("ops.nightly-report-run")
    airflow2.wait_for_dag("analytics.orders-dashboard")

    run = airflow2.trigger("analytics.orders-dashboard")
    done = airflow2.wait_for_run("analytics.orders-dashboard", run["dag_run_id"], timeout=300)
    assert done["state"] == "success"

    # The @once QA suite runs by itself: setup, three checks, teardown.
    deadline = time.monotonic() + 300
    runs: list[dict] = []
    while time.monotonic() < deadline and not runs:
        runs = _runs(airflow2, "qa.release-suite")
        time.sleep(2)
    assert runs, "the @once QA suite never ran"
    qa = airflow2.wait_for_run("qa.release-suite", runs[0]["dag_run_id"], timeout=300)
    assert qa["state"] == "success"
    assert airflow2.task_states("qa.release-suite", runs[0]["dag_run_id"]) == {
        "create-environment": "success",
        "check-login": "success",
        "check-search": "success",
        "check-checkout": "success",
        "destroy-environment": "success",
    }
