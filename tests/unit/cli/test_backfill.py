"""``airflow-scheduler backfill``: its arguments, and the API calls it makes (requests_mock)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_scheduler.cli import main

BASE = "http://airflow.test:8080"


@pytest.fixture
def conn(monkeypatch, requests_mock):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SCHEDULER_DEFAULT",
        json.dumps({"conn_type": "scheduler", "host": BASE, "login": "admin", "password": "pw"}),
    )
    requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2", "git_version": None})
    requests_mock.post(f"{BASE}/auth/token", status_code=201, json={"access_token": "t"})
    requests_mock.get(f"{BASE}/api/v2/dags/analytics.report/details", json={"timezone": "Europe/Berlin"})
    return requests_mock


class TestBackfillCommand:
    def test_dry_run_lists_the_runs_plain_dates_in_the_dags_timezone(self, conn, capsys):
        answer = {
            "backfills": [{"logical_date": "2026-01-05T05:00:00Z"}, {"logical_date": "2026-01-07T05:00:00Z"}],
            "total_entries": 2,
        }
        post = conn.post(f"{BASE}/api/v2/backfills/dry_run", json=answer)
        code = main(
            ["backfill", "analytics.report", "--from", "2026-01-05", "--to", "2026-01-07", "--dry-run"]
        )
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
        err = capsys.readouterr().err
        assert err.startswith("error: ")
        assert "already a running backfill" in err
        assert "Traceback" not in err

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
