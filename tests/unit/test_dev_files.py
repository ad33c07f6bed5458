"""The Docker files and scripts under dev/ stay consistent with the tested no-Docker path."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEV = Path(__file__).resolve().parents[2] / "dev"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEV / "docker-compose.yaml").read_text())


class TestDockerCompose:
    def test_runs_every_airflow_3_component_and_postgres(self, compose):
        commands = {svc.get("command") for svc in compose["services"].values()}
        assert {"api-server", "scheduler", "dag-processor", "triggerer"} <= commands
        assert "postgres" in compose["services"]

    def test_publishes_ports_on_loopback_only(self, compose):
        for name, svc in compose["services"].items():
            for port in svc.get("ports", []):
                assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond 127.0.0.1"

    def test_spec_store_is_postgres_and_database_is_created(self, compose):
        env = compose["services"]["scheduler"]["environment"]
        assert env["AIRFLOW__SCHEDULE_SPECS__STORE"].endswith("/schedule_specs")
        assert "CREATE DATABASE schedule_specs" in (DEV / "postgres-init.sql").read_text()

    def test_image_matches_the_tested_airflow_version(self):
        dockerfile = (DEV / "Dockerfile").read_text()
        tested = re.search(r'AIRFLOW_33="([\d.]+)"', (DEV / "setup-venvs.sh").read_text()).group(1)
        assert f"apache/airflow:{tested}-python3.11" in dockerfile

    @pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose client not installed")
    def test_compose_file_is_valid(self):
        result = subprocess.run(
            ["docker-compose", "-f", str(DEV / "docker-compose.yaml"), "config", "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
