"""rest.endpoints: API paths, run ids and the normalisation of run objects."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from api_samples import RUN_V2

from airflow_provider_scheduler.rest.endpoints import api_path, generate_run_id, normalize_dag_run


class TestNormalizeDagRun:
    def test_v2_run_keeps_its_keys(self):
        assert normalize_dag_run(RUN_V2) == RUN_V2

    def test_v1_run(self):
        run = normalize_dag_run(
            {"dag_run_id": "r", "dag_id": "d", "execution_date": "2020-01-01", "state": "SUCCESS"}
        )
        assert run == {
            "dag_run_id": "r",
            "dag_id": "d",
            "execution_date": "2020-01-01",
            "logical_date": "2020-01-01",
            "state": "success",
            "conf": None,
            "start_date": None,
            "end_date": None,
            "note": None,
        }

    def test_run_id_alias_and_missing_state(self):
        run = normalize_dag_run({"run_id": "r"})
        assert (run["dag_run_id"], run["state"], run["logical_date"]) == ("r", None, None)

    def test_input_not_modified(self):
        original = {"dag_run_id": "r", "execution_date": "x"}
        normalize_dag_run(original)
        assert original == {"dag_run_id": "r", "execution_date": "x"}


class TestPathsAndRunIds:
    def test_api_path_encodes_segments(self):
        assert api_path("v2", "dags", "a.b", "dagRuns", "manual__2026-01-01T00:00:00+00:00") == (
            "/api/v2/dags/a.b/dagRuns/manual__2026-01-01T00%3A00%3A00%2B00%3A00"
        )
        assert api_path("v1", "dags", "x/y") == "/api/v1/dags/x%2Fy"

    def test_generate_run_id(self):
        run_id = generate_run_id(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
        assert re.fullmatch(r"scheduler__2026-01-02T03:04:05\+00:00_[0-9a-f]{8}", run_id)
        assert re.fullmatch(r"^[A-Za-z0-9_.~:+-]+$", run_id)  # Airflow's default allowed_run_id_pattern
        assert generate_run_id() != generate_run_id()
