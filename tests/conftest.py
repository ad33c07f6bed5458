"""Shared test configuration.

- Every test session gets its own empty AIRFLOW_HOME (set before anything imports Airflow), so tests
  never read or write ~/airflow and the two Airflow versions never see each other's airflow.cfg.
- Everything under tests/integration is marked ``integration``.
- A stale editable install gets pyproject.toml's catalog entry point (see ``entry_point_shim.py``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import entry_point_shim

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="aps-test-airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
for _key in [k for k in os.environ if k.startswith("AIRFLOW__SCHEDULE_SPECS__")]:
    del os.environ[_key]

entry_point_shim.install_if_missing()

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
