"""The whole story on a real Airflow 3.3 with a real PostgreSQL spec store, as the README tells it.

An end user applies the example specs with the CLI; the DAGs appear; the report runs with params;
the QA suite runs setup -> checks -> teardown (and a failing check still tears down) and then drops
out; the remote-trigger spec's wait is deferred, then succeeds; pausing a spec pauses its DAG;
deleting it removes it; an invalid spec is refused with its path and nothing changes.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

SPECS = Path(__file__).resolve().parents[2] / "example_dags" / "specs"
REPORT = "analytics.weekday-report"
DASHBOARD = "analytics.orders-dashboard"
QA = "qa.release-suite"
QA_FAILING = "qa.release-suite-failing"
REMOTE = "ops.nightly-report-run"


def _runs(airflow, dag_id: str) -> list[dict]:
    resp = airflow.api("GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "-run_after"})
    resp.raise_for_status()
    return resp.json()["dag_runs"]


def _wait_for_first_run(airflow, dag_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(airflow, dag_id)
        if runs:
            return airflow.wait_for_run(dag_id, runs[-1]["dag_run_id"], timeout=timeout)
        time.sleep(2)
    raise AssertionError(f"{dag_id} was never run")


@pytest.fixture(scope="module")
def story(airflow, tmp_path_factory):
    """Apply the example specs (plus a QA variant whose search check fails) through the CLI."""
    work = tmp_path_factory.mktemp("story")
    failing = yaml.safe_load((SPECS / "qa-release-suite.yaml").read_text())
    failing["name"] = "release-suite-failing"
    for task in failing["tasks"]:
        if task["id"] == "check-search":
            task["with"]["kwargs"]["fail"] = True
    (work / "qa-failing.yaml").write_text(yaml.safe_dump(failing))
    paths = [str(p) for p in sorted(SPECS.glob("*.yaml"))] + [str(work / "qa-failing.yaml")]
    result = airflow.scheduler_cli("apply", "--author", "story", *paths)
    assert result.returncode == 0, result.stderr
    for dag_id in (REPORT, DASHBOARD, QA, QA_FAILING, REMOTE):
        assert f"applied {dag_id} as revision 1" in result.stdout, result.stdout[-3000:]
    return work


class TestStory:
    def test_generated_dags_appear_with_their_schedule_params_and_tags(self, airflow, story):
        dag = airflow.wait_for_dag(REPORT, timeout=180)
        # The UI's schedule names the timezone and what the spec skips (the provider's timetable).
        assert dag["timetable_summary"] == "0 6 * * 1-5 Europe/Berlin except DE-BE holidays and 2 dates"
        assert {t["name"] for t in dag["tags"]} >= {"finance", "reports", "namespace:analytics"}
        details = airflow.api("GET", f"/api/v2/dags/{REPORT}/details").json()
        # Airflow 3.3's API reports the global timezone for every DAG; the spec's timezone shows in
        # start_date: 2026-01-01 midnight in Berlin.
        assert details["start_date"].startswith("2025-12-31T23:00:00")
        assert details["params"]["region"]["value"] == "eu"
        assert details["params"]["region"]["schema"]["enum"] == ["eu", "us"]
        assert airflow.wait_for_dag(DASHBOARD)["timetable_summary"]  # asset-scheduled
        airflow.wait_for_dag(REMOTE)

    def test_report_runs_with_params_and_passes_them_on(self, airflow, story):
        airflow.wait_for_dag(REPORT, timeout=180)
        # As the UI's trigger form does: with a logical date, so {{ ds }} in the spec renders.
        now = datetime.now(UTC).isoformat()
        run = airflow.trigger(REPORT, conf={"region": "us"}, logical_date=now)
        done = airflow.wait_for_run(REPORT, run["dag_run_id"], timeout=300)
        assert done["state"] == "success", airflow.task_states(REPORT, run["dag_run_id"])
        assert airflow.task_states(REPORT, run["dag_run_id"]) == {
            "start": "success",
            "build-report": "success",
            "done": "success",
        }
        report_confs = [r["conf"] for r in _runs(airflow, "report_template")]
        assert any(c.get("region") == "us" and c.get("day") for c in report_confs), report_confs

    def test_qa_suite_runs_setup_checks_teardown_then_drops_out(self, airflow, story):
        run = _wait_for_first_run(airflow, QA, timeout=300)
        assert run["state"] == "success"
        assert airflow.task_states(QA, run["dag_run_id"]) == {
            "create-environment": "success",
            "check-login": "success",
            "check-search": "success",
            "check-checkout": "success",
            "destroy-environment": "success",
        }
        airflow.wait_for_dag_gone(QA, timeout=180)
        status = airflow.scheduler_cli("status")
        dropped = [line for line in status.stdout.splitlines() if QA in line]
        assert any("finished" in line for line in dropped), status.stdout

    def test_failing_check_still_tears_down(self, airflow, story):
        run = _wait_for_first_run(airflow, QA_FAILING, timeout=300)
        assert run["state"] == "failed"
        states = airflow.task_states(QA_FAILING, run["dag_run_id"])
        assert states["check-search"] == "failed"
        assert states["check-login"] == "success"
        assert states["destroy-environment"] == "success"

    def test_remote_trigger_waits_deferred_then_succeeds(self, airflow, story):
        airflow.wait_for_dag(REMOTE, timeout=180)
        run = airflow.trigger(REMOTE, conf={"seconds": 25})
        run_id = run["dag_run_id"]
        seen: set[str | None] = set()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            seen.add(airflow.task_states(REMOTE, run_id).get("wait-for-report"))
            if airflow.get_run(REMOTE, run_id)["state"] in ("success", "failed"):
                break
            time.sleep(1)
        done = airflow.wait_for_run(REMOTE, run_id, timeout=60)
        assert done["state"] == "success", airflow.task_states(REMOTE, run_id)
        assert "deferred" in seen, seen
        # The remote run carries the conf rendered from the spec's params and the run's conf.
        report_runs = [r for r in _runs(airflow, "report_template") if r["conf"].get("seconds") == "25"]
        assert report_runs
        assert report_runs[0]["conf"]["region"] == "us"
        assert report_runs[0]["state"] == "success"

    def test_pausing_a_spec_pauses_its_dag(self, airflow, story):
        airflow.wait_for_dag(REMOTE, timeout=180)
        assert airflow.scheduler_cli("pause", REMOTE, "--author", "story").returncode == 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not airflow.wait_for_dag(REMOTE)["is_paused"]:
            time.sleep(2)
        assert airflow.wait_for_dag(REMOTE)["is_paused"] is True
        assert airflow.scheduler_cli("resume", REMOTE, "--author", "story").returncode == 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and airflow.wait_for_dag(REMOTE)["is_paused"]:
            time.sleep(2)
        assert airflow.wait_for_dag(REMOTE)["is_paused"] is False

    def test_deleting_a_spec_removes_its_dag(self, airflow, story):
        airflow.wait_for_dag(DASHBOARD, timeout=180)
        result = airflow.scheduler_cli("delete", DASHBOARD, "--author", "story")
        assert result.returncode == 0, result.stderr
        airflow.wait_for_dag_gone(DASHBOARD, timeout=180)
        history = airflow.scheduler_cli("history", DASHBOARD)
        assert "story" in history.stdout  # the deletion is kept in history

    def test_invalid_spec_is_refused_with_its_path_and_nothing_changes(self, airflow, story):
        before = json.loads(airflow.scheduler_cli("list", "--json").stdout)
        broken = yaml.safe_load((SPECS / "analytics-weekday-report.yaml").read_text())
        broken["tasks"][1]["depends_on"] = ["strat"]
        broken["schedule"]["timezone"] = "Europe/Berlln"
        path = story / "broken.yaml"
        path.write_text(yaml.safe_dump(broken))
        result = airflow.scheduler_cli("apply", "--author", "story", str(path))
        assert result.returncode == 1
        assert f"{path}: {REPORT}: tasks[1].depends_on[0]:" in result.stderr
        assert "did you mean 'start'" in result.stderr
        assert "schedule.timezone" in result.stderr
        after = json.loads(airflow.scheduler_cli("list", "--json").stdout)
        assert after == before
