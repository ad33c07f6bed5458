"""End to end: specs applied with the CLI become DAGs in a real Airflow 3.3 through the loader file.

Uses the LEAD's shared ``airflow`` deployment (dags folder with ``example_dags/schedules.py``, spec
store in PostgreSQL) and ``postgres`` server. Every spec lives in a namespace unique to this run.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = pytest.mark.integration


def _spec(ns: str, name: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": 1,
        "namespace": ns,
        "name": name,
        "description": f"Integration spec {name}",
        "owner": "it@example.com",
        "tags": ["it"],
        "schedule": {"cron": "30 6 * * 1-5", "timezone": "Europe/Berlin"},
        "start_date": "2026-01-01",
        "params": {"region": {"type": "string", "enum": ["eu", "us"], "default": "eu"}},
        "defaults": {"retries": 1},
        "tasks": [
            {"id": "extract", "template": "empty"},
            {"id": "left", "template": "empty", "depends_on": ["extract"]},
            {"id": "right", "template": "empty", "depends_on": ["extract"]},
            {"id": "load", "template": "empty", "depends_on": ["left", "right"]},
        ],
    }
    spec.update(overrides)
    return spec


def _wait(what: str, check: Callable[[], Any], timeout: float = 150, interval: float = 2) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


class Client:
    def __init__(self, airflow: Any, tmp_path: Path) -> None:
        self.airflow = airflow
        self.tmp_path = tmp_path

    def apply(self, *specs: dict[str, Any]) -> None:
        path = self.tmp_path / f"batch-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(yaml.safe_dump(list(specs), sort_keys=False))
        result = self.airflow.scheduler_cli(
            "apply", str(path), "--store", self.airflow.store_uri, "--author", "it"
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def store_cmd(self, *args: str) -> None:
        result = self.airflow.scheduler_cli(*args, "--store", self.airflow.store_uri)
        assert result.returncode == 0, result.stdout + result.stderr

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        resp = self.airflow.api("GET", f"/api/v2/dags/{dag_id}")
        return resp.json() if resp.status_code == 200 else None

    def active(self, dag_id: str) -> bool:
        dag = self.dag(dag_id)
        return dag is not None and not dag.get("is_stale")

    def details(self, dag_id: str) -> dict[str, Any]:
        resp = self.airflow.api("GET", f"/api/v2/dags/{dag_id}/details")
        resp.raise_for_status()
        return resp.json()  # type: ignore[no-any-return]

    def tasks(self, dag_id: str) -> dict[str, list[str]]:
        resp = self.airflow.api("GET", f"/api/v2/dags/{dag_id}/tasks")
        resp.raise_for_status()
        return {t["task_id"]: sorted(t["downstream_task_ids"]) for t in resp.json()["tasks"]}

    def versions(self, dag_id: str) -> int:
        resp = self.airflow.api("GET", f"/api/v2/dags/{dag_id}/dagVersions")
        resp.raise_for_status()
        return int(resp.json()["total_entries"])


@pytest.fixture
def client(airflow: Any, tmp_path: Path) -> Client:
    return Client(airflow, tmp_path)


def test_specs_become_dags_change_delete_pause_and_survive_store_outage(client, airflow, postgres):
    ns = f"fx{uuid.uuid4().hex[:8]}"
    a, b, c = f"{ns}.alpha", f"{ns}.beta", f"{ns}.gamma"
    client.apply(_spec(ns, "alpha"), _spec(ns, "beta"), _spec(ns, "gamma"))
    for dag_id in (a, b, c):
        airflow.wait_for_dag(dag_id, timeout=180)

    # Schedule, params, tags, tasks and owner as the spec says.
    dag = client.dag(a)
    assert dag is not None
    assert sorted(t["name"] for t in dag["tags"]) == sorted(["it", f"namespace:{ns}"])
    assert dag.get("timetable_summary") == "30 6 * * 1-5 Europe/Berlin"  # the UI names the timezone
    assert dag["is_paused"] is False
    details = client.details(a)
    assert details["params"]["region"]["value"] == "eu"
    assert details["params"]["region"]["schema"]["enum"] == ["eu", "us"]
    assert details["owners"] == ["it@example.com"]
    # 06:30 in Europe/Berlin (UTC+1 in winter, +2 in summer) is 05:30 or 04:30 UTC, never 06:30 UTC.
    next_run = _wait("the next run to be scheduled", lambda: client.dag(a).get("next_dagrun_run_after"))
    when = datetime.fromisoformat(next_run.replace("Z", "+00:00")).astimezone(UTC)
    assert (when.hour, when.minute) in ((5, 30), (4, 30)), next_run
    # The Docs dialog: the description, then where the DAG comes from, with the schedule's timezone.
    assert details["doc_md"].startswith("Integration spec alpha\n\n---\n\n"), details["doc_md"]
    assert f"Generated from the schedule spec `{a}`, revision 1 by `it` at `" in details["doc_md"]
    assert "Schedule: `30 6 * * 1-5` Europe/Berlin." in details["doc_md"]
    assert f"`airflow-scheduler apply {a}.yaml`" in details["doc_md"]
    assert client.tasks(a) == {"extract": ["left", "right"], "left": ["load"], "right": ["load"], "load": []}

    # Change one spec: its DAG changes, the others keep their single version.
    versions_before = {d: client.versions(d) for d in (b, c)}
    changed = _spec(ns, "alpha", tags=["it", "changed"])
    changed["tasks"].append({"id": "notify", "template": "empty", "depends_on": ["load"]})
    client.apply(changed)
    _wait("alpha to get its new task", lambda: "notify" in client.tasks(a))
    assert sorted(t["name"] for t in client.dag(a)["tags"]) == sorted(["it", "changed", f"namespace:{ns}"])
    time.sleep(12)  # two more parse cycles
    assert {d: client.versions(d) for d in (b, c)} == versions_before
    assert client.tasks(b) == {"extract": ["left", "right"], "left": ["load"], "right": ["load"], "load": []}

    # Pause in the store: the existing DAG is paused in Airflow (pushed through the REST API).
    client.store_cmd("pause", b)
    _wait("beta to be paused", lambda: client.dag(b)["is_paused"] is True)
    client.store_cmd("resume", b)
    _wait("beta to be resumed", lambda: client.dag(b)["is_paused"] is False)

    # Delete: it goes; the others stay.
    client.store_cmd("delete", c)
    airflow.wait_for_dag_gone(c, timeout=150)
    assert client.active(a)
    assert client.active(b)

    # A broken spec (its template no longer exists on this deployment) leaves the others loaded.
    from airflow_provider_scheduler.store import open_store
    from airflow_provider_scheduler.templates.builtins import builtin_templates
    from airflow_provider_scheduler.templates.registry import TaskTemplate, TemplateRegistry

    gone = TaskTemplate(
        "retired_template", description="x", with_schema={"type": "object"}, builder=lambda **k: None
    )
    store = open_store(airflow.store_uri, registry=TemplateRegistry([*builtin_templates(), gone]))
    try:
        store.put(
            _spec(ns, "broken", tasks=[{"id": "t", "template": "retired_template"}]),
            author="it",
        )
    finally:
        store.close()
    broken = f"{ns}.broken"

    def status_reports_broken() -> dict[str, Any] | None:
        result = airflow.scheduler_cli("status", "--json", "--store", airflow.store_uri)
        report = json.loads(result.stdout)
        for loader in report["loaders"]:
            if broken in loader.get("errors", {}):
                return {
                    "exit": result.returncode,
                    "reason": loader["errors"][broken],
                    "loaded": loader["dag_ids"],
                }
        return None

    seen = _wait("the loader status to report the broken spec", status_reports_broken)
    assert seen["exit"] == 1
    assert seen["reason"] == "tasks[0] (t): no template named 'retired_template' is registered"
    assert a in seen["loaded"]
    assert b in seen["loaded"]
    assert client.dag(broken) is None
    assert client.active(a)
    assert client.active(b)

    # Store outage: stop PostgreSQL; the DAG set stays the same (last known good snapshot).
    postgres.stop()
    try:

        def refresh_failed() -> bool:
            result = airflow.scheduler_cli("status", "--json", "--store", airflow.store_uri)
            return any(
                str(loader.get("refresh", "")).startswith("failed")
                for loader in json.loads(result.stdout)["loaders"]
            )

        _wait("a parse with the store down", refresh_failed, timeout=90)
        time.sleep(12)
        assert client.active(a)
        assert client.active(b)
        assert "notify" in client.tasks(a)
        assert client.dag(c) is None or client.dag(c).get("is_stale")
    finally:
        postgres.start()


def _backfill_runs(airflow: Any, dag_id: str) -> list[dict[str, Any]]:
    runs = airflow.api("GET", f"/api/v2/dags/{dag_id}/dagRuns").json()["dag_runs"]
    return [r for r in runs if r["run_type"] == "backfill"]


def _wait_backfill(airflow: Any, dag_id: str, count: int) -> list[tuple[str, str]]:
    """Wait for ``count`` finished backfill runs; their (logical date in UTC, state), sorted."""

    def finished() -> list[dict[str, Any]] | None:
        runs = _backfill_runs(airflow, dag_id)
        done = [r for r in runs if r["state"] in ("success", "failed")]
        return runs if len(runs) >= count and len(done) == len(runs) else None

    runs = _wait(f"{count} backfill runs of {dag_id} to finish", finished, timeout=300)
    return sorted((r["logical_date"].replace("Z", "+00:00")[:19], r["state"]) for r in runs)


def test_holidays_skipped_and_two_timezones_fire_at_both_local_times(client, airflow):
    """Language 1.1's timetable in the real scheduler and API: next runs, and runs of two timezones."""
    ns = f"tt{uuid.uuid4().hex[:8]}"
    today = datetime.now(UTC).date()
    year = today.year if (today.month, today.day) < (12, 20) else today.year + 1

    def one_task() -> list[dict[str, Any]]:  # a fresh list per spec (a shared one becomes a YAML anchor)
        return [{"id": "work", "template": "empty"}]

    holidays = _spec(
        ns,
        "berlin-working-days",
        schedule={
            "cron": "0 6 * * *",
            "timezone": "Europe/Berlin",
            "skip_holidays": "DE",
            "skip_dates": [f"{year}-12-24"],
        },
        start_date=f"{year}-12-24",
        params={},
        tasks=one_task(),
    )
    two_zones = _spec(
        ns,
        "london-and-new-york",
        schedule={
            "any_of": [
                {"cron": "0 9 * * *", "timezone": "Europe/London"},
                {"cron": "0 9 * * *", "timezone": "America/New_York"},
            ]
        },
        start_date="2025-07-01",
        params={},
        tasks=one_task(),
    )
    client.apply(holidays, two_zones)
    h, t = f"{ns}.berlin-working-days", f"{ns}.london-and-new-york"
    for dag_id in (h, t):
        airflow.wait_for_dag(dag_id, timeout=180)
    assert client.dag(h)["timetable_summary"] == "0 6 * * * Europe/Berlin except DE holidays and 1 date"
    assert client.dag(t)["timetable_summary"] == "0 9 * * * Europe/London; 0 9 * * * America/New_York"
    # The DAG list's tooltip: Airflow's read-back copy of the timetable, in words.
    description = client.dag(h)["timetable_description"]
    assert description.startswith("At 06:00"), description
    assert "(Europe/Berlin), except public holidays in DE" in description, description

    # The 24th is listed, the 25th and 26th are Christmas holidays: the next run is the 27th, 06:00 Berlin.
    next_run = _wait("the next run to be scheduled", lambda: client.dag(h).get("next_dagrun_run_after"))
    assert next_run.replace("Z", "+00:00")[:19] == f"{year}-12-27T05:00:00", next_run

    # One day of London and New York: runs at 09:00 BST and at 09:00 EDT (a backfill: past times).
    made = airflow.scheduler_cli("backfill", t, "--from", "2025-07-07", "--to", "2025-07-07")
    assert made.returncode == 0, made.stdout + made.stderr
    assert _wait_backfill(airflow, t, 2) == [
        ("2025-07-07T08:00:00", "success"),
        ("2025-07-07T13:00:00", "success"),
    ]


def test_a_task_with_outlets_triggers_the_asset_scheduled_spec(client, airflow):
    ns = f"as{uuid.uuid4().hex[:8]}"
    uri = f"s3://it-warehouse/{ns}/orders"
    producer = _spec(
        ns,
        "producer",
        schedule=None,
        params={},
        tasks=[{"id": "load", "template": "empty", "outlets": [uri]}],
    )
    consumer = _spec(
        ns,
        "consumer",
        schedule={"assets": {"all": [uri]}},
        params={},
        tasks=[{"id": "refresh", "template": "empty"}],
    )
    client.apply(producer, consumer)
    p, c = f"{ns}.producer", f"{ns}.consumer"
    for dag_id in (p, c):
        airflow.wait_for_dag(dag_id, timeout=180)
    run = airflow.trigger(p)
    assert airflow.wait_for_run(p, run["dag_run_id"], timeout=240)["state"] == "success"

    def consumer_runs() -> list[dict[str, Any]]:
        resp = airflow.api("GET", f"/api/v2/dags/{c}/dagRuns")
        return resp.json()["dag_runs"] if resp.ok else []

    runs = _wait("the consumer's asset-triggered run", consumer_runs, timeout=240)
    assert [r["run_type"] for r in runs] == ["asset_triggered"]


def test_backfill_over_three_days_creates_three_runs_that_succeed(client, airflow):
    ns = f"bf{uuid.uuid4().hex[:8]}"
    spec = _spec(
        ns,
        "weekdays",
        schedule={"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin", "skip_holidays": "DE"},
        start_date="2025-01-01",
        params={},
        tasks=[{"id": "work", "template": "empty"}],
    )
    client.apply(spec)
    dag_id = f"{ns}.weekdays"
    airflow.wait_for_dag(dag_id, timeout=180)

    # Easter 2025 in the window: Good Friday (18th) and Easter Monday (21st) are holidays, the 19th
    # and 20th a weekend; the dry run lists what the DAG's own timetable gives, and creates nothing.
    window = ("--from", "2025-04-16", "--to", "2025-04-22")
    dry = airflow.scheduler_cli("backfill", dag_id, *window, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    listed = [line.strip() for line in dry.stdout.splitlines() if line.startswith("  ")]
    assert [d[:10] for d in listed] == ["2025-04-16", "2025-04-17", "2025-04-22"], dry.stdout
    assert _backfill_runs(airflow, dag_id) == []

    made = airflow.scheduler_cli("backfill", dag_id, *window, "--max-active-runs", "3")
    assert made.returncode == 0, made.stdout + made.stderr
    assert made.stdout.startswith("created backfill "), made.stdout
    assert _wait_backfill(airflow, dag_id, 3) == [
        ("2025-04-16T04:00:00", "success"),  # 06:00 in Berlin, summer time
        ("2025-04-17T04:00:00", "success"),
        ("2025-04-22T04:00:00", "success"),
    ]
