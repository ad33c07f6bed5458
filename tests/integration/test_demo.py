"""The README's demo command: a real Airflow on 127.0.0.1 with the provider, stopped cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not Path(sys.executable).parent.joinpath("airflow").exists()
    or int(__import__("airflow").__version__.split(".")[0]) < 3,
    reason="the demo runs Airflow 3.3",
)


def test_demo_starts_lists_provider_and_stops_cleanly(tmp_path):
    from local_airflow import free_port

    env = {**os.environ, "DEMO_HOME": str(tmp_path / "demo"), "DEMO_PORT": str(free_port())}
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "dev" / "demo.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(output)
        assert "Airflow is up" in text, text
        url = re.search(r"Airflow is up:\s+(\S+)", text).group(1)
        password = re.search(r"password:\s+(\S+)", text).group(1)
        assert url.startswith("http://127.0.0.1:")
        token = requests.post(
            f"{url}/auth/token", json={"username": "admin", "password": password}, timeout=30
        )
        assert token.status_code == 201, token.text
        providers = requests.get(
            f"{url}/api/v2/providers",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            params={"limit": 100},
            timeout=30,
        ).json()["providers"]
        assert "airflow-provider-scheduler" in {p["package_name"] for p in providers}
        # The example specs were applied to the embedded SQLite store.
        assert (tmp_path / "demo" / "schedule_specs.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=90)
        output.append(rest)
    assert proc.returncode == 0, "".join(output)
    assert "Stopped." in "".join(output)
    time.sleep(1)
    # Every Airflow component ran in its own session; none may survive the demo.
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "demo")], capture_output=True, text=True, check=False
    ).stdout.split()
    assert not leftovers, f"processes left behind: {leftovers}"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/v2/monitor/health", timeout=5)
