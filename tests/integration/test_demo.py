"""The README's demo command: a real Airflow on 127.0.0.1 with the provider, stopped cleanly, restarted.

One test, two starts of the demo on the same state folder (each start takes a minute or two): the
second start must show the state the first one stopped with.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not Path(sys.executable).parent.joinpath("airflow").exists()
    or int(__import__("airflow").__version__.split(".")[0]) < 3,
    reason="the demo runs Airflow 3.3",
)


QA = "qa.release-suite"
CONNECTION = "demo_restart_check"


class Demo:
    """One run of dev/demo.py on a given state folder, read through its output and REST API."""

    def __init__(self, home: Path, port: int) -> None:
        env = {**os.environ, "DEMO_HOME": str(home), "DEMO_PORT": str(port)}
        self.home = home
        self.proc = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "dev" / "demo.py")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        try:
            self._wait_until_up()
        except BaseException:
            self.proc.send_signal(signal.SIGTERM)  # the demo stops its components on SIGTERM
            self.proc.communicate(timeout=90)
            raise

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        self.text = "".join(self.output)
        assert "Airflow is up" in self.text, self.text
        self.url = re.search(r"Airflow is up:\s+(\S+)", self.text).group(1)
        password = re.search(r"password:\s+(\S+)", self.text).group(1)
        token = requests.post(
            f"{self.url}/auth/token", json={"username": "admin", "password": password}, timeout=30
        )
        assert token.status_code == 201, token.text
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    @property
    def prelude(self) -> list[str]:
        """What the demo printed before starting Airflow."""
        return self.text.split("Starting Airflow", 1)[0].splitlines()

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", headers=self.headers, timeout=30, **kwargs)

    def active_dags(self) -> dict[str, dict]:
        dags = self.api("GET", "/api/v2/dags", params={"limit": 100}).json()["dags"]
        return {d["dag_id"]: d for d in dags if not d.get("is_stale")}

    def stored(self) -> dict[str, dict]:
        """The demo's spec store as `airflow-scheduler list --json` prints it."""
        result = subprocess.run(
            [str(Path(sys.executable).parent / "airflow-scheduler"), "list", "--json"],
            env={**os.environ, "AIRFLOW_HOME": str(self.home)},
            capture_output=True,
            text=True,
            check=True,
        )
        return {s["id"]: s for s in json.loads(result.stdout)}

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        rest, _ = self.proc.communicate(timeout=90)
        self.output.append(rest)
        text = "".join(self.output)
        assert self.proc.returncode == 0, text
        assert "Stopped." in text


def _wait(what: str, check, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_demo_starts_stops_cleanly_and_restarts_with_the_same_state(tmp_path):
    from local_airflow import free_port

    home = tmp_path / "demo"
    port = free_port()
    demo = Demo(home, port)
    try:
        providers = demo.api("GET", "/api/v2/providers", params={"limit": 100}).json()["providers"]
        assert "airflow-provider-scheduler" in {p["package_name"] for p in providers}
        # The example specs were applied to the embedded SQLite store, announced in one line.
        assert (
            "applied 4 example specs: analytics.orders-dashboard, analytics.weekday-report, "
            "ops.nightly-report-run, qa.release-suite"
        ) in demo.prelude, demo.prelude
        assert len(demo.prelude) < 5, demo.prelude  # no diff of the applied YAML
        # scheduler_default is a stored connection: Admin -> Connections lists it, and its Test button
        # works with exactly what Airflow 3.3.2's list sends (port as a number, the masked password).
        listed = demo.api("GET", "/api/v2/connections", params={"limit": 100}).json()["connections"]
        [default] = [c for c in listed if c["connection_id"] == "scheduler_default"]
        assert default["port"] == port, default
        ui_body = {
            key: default.get(key) or "" for key in ("conn_type", "connection_id", "host", "login", "schema")
        }
        ui_body.update(
            password=default.get("password") or "", port=default["port"], extra=default["extra"] or "{}"
        )
        ui_body["description"] = default.get("description") or ""
        tested = demo.api("POST", "/api/v2/connections/test", json=ui_body)
        assert tested.status_code == 200, tested.text
        assert tested.json()["status"] is True, tested.json()
        # A connection saved through the API (as the UI does), encrypted with the demo's Fernet key.
        created = demo.api(
            "POST",
            "/api/v2/connections",
            json={"connection_id": CONNECTION, "conn_type": "http", "host": "example.com", "password": "pw"},
        )
        assert created.status_code == 201, created.text
        # The @once QA suite runs, Airflow records its `finish` revision and the DAG leaves the list.
        _wait("the finish revision of qa.release-suite", lambda: demo.stored()[QA]["revision"] >= 2, 300)
        _wait("qa.release-suite to leave the DAG list", lambda: QA not in demo.active_dags())
        before_dags = set(demo.active_dags())
        before_store = {sid: s["revision"] for sid, s in demo.stored().items()}
    finally:
        demo.stop()
    assert {"analytics.weekday-report", "report_template", "example_scheduler_operators"} <= before_dags
    time.sleep(1)
    # Every Airflow component ran in its own session; none may survive the demo.
    leftovers = subprocess.run(["pgrep", "-f", str(home)], capture_output=True, text=True, check=False)
    assert not leftovers.stdout.split(), f"processes left behind: {leftovers.stdout}"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{demo.url}/api/v2/monitor/health", timeout=5)

    restarted_at = time.time()
    again = Demo(home, port)
    try:
        assert "example specs unchanged since the demo last applied them" in again.prelude, again.prelude
        assert len(again.prelude) < 5, again.prelude
        # The specs were not re-applied over the finish revision: the store is as it was.
        assert {sid: s["revision"] for sid, s in again.stored().items()} == before_store
        # The saved connection still decrypts (a new Fernet key made this a 500).
        assert again.api("GET", f"/api/v2/connections/{CONNECTION}").status_code == 200
        assert again.api("GET", "/api/v2/connections").status_code == 200

        def parsed_after_restart() -> bool:
            dag = again.api("GET", "/api/v2/dags/analytics.weekday-report").json()
            parsed = dag.get("last_parsed_time")
            return bool(parsed) and datetime.fromisoformat(parsed).timestamp() > restarted_at

        _wait("the loader file to be parsed after the restart", parsed_after_restart)
        time.sleep(6)  # one more parse cycle, so a re-activated DAG would show
        assert set(again.active_dags()) == before_dags
    finally:
        again.stop()
