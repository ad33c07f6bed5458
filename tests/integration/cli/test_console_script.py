"""One real subprocess of the ``airflow-scheduler`` console script against the store configured through
``AIRFLOW__SCHEDULE_SPECS__STORE`` (the in-process CLI tests are in tests/unit/cli/test_store_commands.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "store"))
from store_contract import invalid_spec, make_spec, write_spec_file

pytestmark = pytest.mark.integration


@pytest.fixture
def specs_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    write_spec_file(folder / "a.yaml", make_spec("a"))
    write_spec_file(folder / "sub" / "b.yml", make_spec("b", namespace="qa"))
    return folder


def test_console_script_uses_the_configured_store(tmp_path: Path, specs_dir: Path) -> None:
    script = Path(sys.executable).parent / "airflow-scheduler"
    db = tmp_path / "configured.db"
    env = {**os.environ, "AIRFLOW__SCHEDULE_SPECS__STORE": f"sqlite:///{db}", "USER": "ci-bot"}
    applied = subprocess.run(
        [str(script), "apply", str(specs_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.endswith("applied analytics.a as revision 1\napplied qa.b as revision 1\n")
    listed = subprocess.run(
        [str(script), "list", "--json"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert listed.returncode == 0, listed.stderr
    assert [(d["id"], d["author"]) for d in json.loads(listed.stdout)] == [
        ("analytics.a", "ci-bot"),
        ("qa.b", "ci-bot"),
    ]
    invalid = write_spec_file(specs_dir / "bad.yaml", invalid_spec("bad"))
    refused = subprocess.run(
        [str(script), "apply", str(invalid)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1
    assert f"{invalid}: analytics.bad: tasks[0].depends_on[0]: " in refused.stderr
