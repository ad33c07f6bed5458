"""`airflow providers widgets` / `behaviours` (Airflow's own CLI) list the scheduler connection's fields.

On Airflow 2.11 the CLI reports the wtforms classes built by ``get_connection_form_widgets``; on 3.x it
reports the JSON-schema types of the provider info's ``conn-fields``. Both come from ``CONN_FIELDS``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_scheduler.hooks.connection_fields import CONN_FIELDS

AIRFLOW_CLI = Path(sys.executable).parent / "airflow"


def _airflow_major() -> int:
    from airflow import __version__

    return int(__version__.split(".")[0])


def run_cli(tmp_path: Path, *args: str) -> list[dict]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIRFLOW__") and not key.startswith("AIRFLOW_CONN_")
    }
    env.update({"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    result = subprocess.run(
        [str(AIRFLOW_CLI), *args, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def widgets(tmp_path_factory) -> dict[str, dict]:
    rows = run_cli(tmp_path_factory.mktemp("airflow-home"), "providers", "widgets")
    return {
        row["connection_parameter_name"]: row
        for row in rows
        if row["connection_parameter_name"].startswith("extra__scheduler__")
    }


class TestProvidersWidgetsCli:
    def test_lists_every_field_of_the_definition(self, widgets):
        assert sorted(widgets) == sorted(f"extra__scheduler__{name}" for name in CONN_FIELDS)
        assert {row["package_name"] for row in widgets.values()} == {"airflow-provider-scheduler"}

    @pytest.mark.skipif(_airflow_major() >= 3, reason="Airflow 2.x reports wtforms field classes")
    def test_airflow_2_field_classes(self, widgets):
        assert {
            name.removeprefix("extra__scheduler__"): row["field_type"] for name, row in widgets.items()
        } == {
            "api_version": "StringField",
            "token": "PasswordField",
            "verify_ssl": "BooleanField",
            "ca_bundle": "StringField",
            "timeout": "StringField",
            "max_retries": "IntegerField",
        }

    @pytest.mark.skipif(_airflow_major() < 3, reason="Airflow 3.x reports the conn-fields schema types")
    def test_airflow_3_schema_types(self, widgets):
        assert {
            name.removeprefix("extra__scheduler__"): row["field_type"] for name, row in widgets.items()
        } == {name: spec["schema"]["type"] for name, spec in CONN_FIELDS.items()}
