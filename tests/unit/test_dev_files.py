"""The files under dev/: Docker files consistent with the tested no-Docker path; the demo keeps its state."""

from __future__ import annotations

import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEV = Path(__file__).resolve().parents[2] / "dev"
sys.path.insert(0, str(DEV))


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

    def test_init_applies_the_example_specs_only_to_an_empty_store(self, compose):
        argv = shlex.split(compose["services"]["airflow-init"]["command"])
        assert argv[:2] == ["bash", "-c"]
        script = argv[2]
        check = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stderr
        assert re.search(
            r"if airflow-scheduler list --json .*; then\s+echo [^;]*;\s+else\s+airflow-scheduler apply",
            script,
        )

    @pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose client not installed")
    def test_compose_file_is_valid(self):
        result = subprocess.run(
            ["docker-compose", "-f", str(DEV / "docker-compose.yaml"), "config", "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr


class TestDemoKeepsState:
    """A restart of the demo finds the keys and the example specs as it left them."""

    def test_keys_are_created_once_private_and_reused(self, tmp_path):
        from local_airflow import SECRETS_FILE, AirflowServer

        first = AirflowServer(home=tmp_path)
        again = AirflowServer(home=tmp_path)
        for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
            assert first.env[key] == again.env[key]
        assert first.password == again.password
        for name in (SECRETS_FILE, "simple_auth_manager_passwords.json.generated"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        other = AirflowServer(home=tmp_path / "other")
        assert other.env["AIRFLOW__CORE__FERNET_KEY"] != first.env["AIRFLOW__CORE__FERNET_KEY"]

    def test_the_fernet_key_decrypts_after_a_restart(self, tmp_path):
        from cryptography.fernet import Fernet
        from local_airflow import AirflowServer

        token = Fernet(AirflowServer(home=tmp_path).env["AIRFLOW__CORE__FERNET_KEY"]).encrypt(b"pw")
        assert Fernet(AirflowServer(home=tmp_path).env["AIRFLOW__CORE__FERNET_KEY"]).decrypt(token) == b"pw"

    def test_example_specs_are_applied_only_when_new_or_changed(self, tmp_path):
        import demo

        specs = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
        for path in specs:
            path.write_text(f"name: {path.stem}\n")
        home = tmp_path / "home"
        home.mkdir()
        assert demo.specs_to_apply(home, specs) == specs
        demo.record_applied(home, specs)
        assert demo.specs_to_apply(home, specs) == []
        specs[1].write_text("name: b\ndescription: changed\n")
        assert demo.specs_to_apply(home, specs) == [specs[1]]
        demo.record_applied(home, [specs[1]])
        assert demo.specs_to_apply(home, specs) == []

    def test_summary_is_one_line_without_the_diff(self):
        import demo

        cli = (
            "--- stored\n+++ a.yaml\n+name: a\n"
            "applied analytics.a as revision 1\napplied ops.b as revision 3\nunchanged qa.c at revision 2\n"
        )
        files = [Path("a.yaml"), Path("b.yaml"), Path("c.yaml")]
        assert demo.apply_summary(cli, files) == (
            "applied 2 example specs: analytics.a, ops.b; unchanged: qa.c"
        )
        assert demo.apply_summary("", []) == "example specs unchanged since the demo last applied them"
