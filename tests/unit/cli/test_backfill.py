"""``airflow-scheduler backfill``: its arguments, and the API calls it makes (requests_mock)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_scheduler.cli import main

BASE = "http://airflow.test:8080"


@pytest.fixture
def store(tmp_path, capsys) -> str:
    """A SQLite spec store holding analytics.report, scheduled in Europe/Berlin."""
    uri = f"sqlite:///{tmp_path / 'specs.db'}"
    spec = {
        "version": 1,
        "namespace": "analytics",
        "name": "report",
        "schedule": {"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"},
        "start_date": "2026-01-01",
        "tasks": [{"id": "t", "template": "empty"}],
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(spec))
    assert main(["apply", str(path), "--store", uri, "--author", "seed"]) == 0
    capsys.readouterr()
    return uri


@pytest.fixture
def conn(monkeypatch, requests_mock):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SCHEDULER_DEFAULT",
        json.dumps({"conn_type": "scheduler", "host": BASE, "login": "admin", "password": "pw"}),
    )
    requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2", "git_version": None})
    requests_mock.post(f"{BASE}/auth/token", status_code=201, json={"access_token": "t"})
    return requests_mock


class TestBackfillCommand:
    def test_dry_run_lists_the_runs_plain_dates_in_the_specs_timezone(self, conn, store, capsys):
        answer = {
            "backfills": [{"logical_date": "2026-01-05T05:00:00Z"}, {"logical_date": "2026-01-07T05:00:00Z"}],
            "total_entries": 2,
        }
        post = conn.post(f"{BASE}/api/v2/backfills/dry_run", json=answer)
        argv = ["backfill", "analytics.report", "--from", "2026-01-05", "--to", "2026-01-07", "--dry-run"]
        code = main([*argv, "--store", store])
        out = capsys.readouterr().out
        assert code == 0
        body = post.last_request.json()
        assert (body["from_date"], body["to_date"]) == (
            "2026-01-05T00:00:00+01:00",
            "2026-01-07T23:59:59+01:00",
        )
        assert out.splitlines() == [
            "dry run: a backfill of analytics.report from 2026-01-05T00:00:00+01:00 to "
            "2026-01-07T23:59:59+01:00 (Europe/Berlin) would create 2 run(s):",
            "  2026-01-05T05:00:00Z",
            "  2026-01-07T05:00:00Z",
        ]

    def test_without_the_spec_in_the_store_plain_dates_are_utc_with_a_note(self, conn, tmp_path, capsys):
        post = conn.post(f"{BASE}/api/v2/backfills/dry_run", json={"backfills": [], "total_entries": 0})
        empty = f"sqlite:///{tmp_path / 'empty.db'}"
        argv = ["backfill", "analytics.report", "--from", "2026-01-05", "--to", "2026-01-05", "--dry-run"]
        assert main([*argv, "--store", empty]) == 0
        assert (
            "note: the spec is not in the spec store, so plain dates are read in UTC"
            in capsys.readouterr().err
        )
        assert post.last_request.json()["from_date"] == "2026-01-05T00:00:00+00:00"

    def test_creates_it(self, conn, capsys):
        post = conn.post(f"{BASE}/api/v2/backfills", json={"id": 3, "max_active_runs": 2})
        code = main(
            [
                "backfill",
                "analytics.report",
                "--from",
                "2026-01-05",
                "--to",
                "2026-01-07T06:00:00+01:00",
                "--reprocess",
                "failed",
                "--max-active-runs",
                "2",
            ]
        )
        assert code == 0
        assert post.last_request.json()["reprocess_behavior"] == "failed"
        assert post.last_request.json()["to_date"] == "2026-01-07T06:00:00+01:00"
        assert capsys.readouterr().out.startswith("created backfill 3 of analytics.report from ")

    def test_airflow_refusing_is_one_error_line(self, conn, capsys):
        conn.post(
            f"{BASE}/api/v2/backfills",
            status_code=409,
            json={"detail": "There is already a running backfill"},
        )
        assert main(["backfill", "analytics.report", "--from", "2026-01-05", "--to", "2026-01-06"]) == 1
        err = capsys.readouterr().err.splitlines()
        # (a note first: this test's default store does not hold the spec, so dates are read in UTC)
        assert next(line for line in err if not line.startswith("note: ")).startswith("error: "), err
        assert "already a running backfill" in err[-1]
        assert "Traceback" not in "\n".join(err)

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["Not A Spec", "--from", "2026-01-05", "--to", "2026-01-06"], "is not a spec id"),
            (["analytics.report", "--from", "soon", "--to", "2026-01-06"], "--from 'soon' is not a date"),
            (["analytics.report", "--from", "2026-01-05T06:00:00", "--to", "2026-01-06"], "is not a date"),
            (
                ["analytics.report", "--from", "2026-01-05", "--to", "2026-01-06", "--max-active-runs", "0"],
                "--max-active-runs must be at least 1",
            ),
        ],
    )
    def test_bad_arguments_exit_2_before_any_request(self, argv, message, capsys, requests_mock):
        assert main(["backfill", *argv]) == 2
        assert message in capsys.readouterr().err
        assert requests_mock.request_history == []

    def test_to_before_from(self, conn, capsys):
        assert main(["backfill", "analytics.report", "--from", "2026-01-07", "--to", "2026-01-05"]) == 2
        assert "--to 2026-01-05 is before --from 2026-01-07" in capsys.readouterr().err

    def test_no_connection(self, monkeypatch, capsys, requests_mock):
        monkeypatch.delenv("AIRFLOW_CONN_SCHEDULER_DEFAULT", raising=False)
        code = main(
            [
                "backfill",
                "analytics.report",
                "--from",
                "2026-01-05",
                "--to",
                "2026-01-06",
                "--conn-id",
                "nope",
            ]
        )
        assert code == 2
        assert "no Airflow connection 'nope' here" in capsys.readouterr().err
