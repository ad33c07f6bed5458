"""Shared test configuration.

- Every test session gets its own empty AIRFLOW_HOME (set before anything imports Airflow), so tests
  never read or write ~/airflow and the two Airflow versions never see each other's airflow.cfg.
- Everything under tests/integration is marked ``integration``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="aps-test-airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
for _key in [k for k in os.environ if k.startswith("AIRFLOW__SCHEDULE_SPECS__")]:
    del os.environ[_key]

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
