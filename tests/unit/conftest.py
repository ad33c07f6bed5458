"""Unit-test fixtures shared by the operator, sensor and trigger tests.

``fake_api`` / ``fake_api_v1``: a scripted Airflow REST API (v2, or v1 like Airflow 2.11) on
127.0.0.1 (see ``fake_airflow_api.py``), with ``scheduler_default`` pointing at it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_airflow_api import FakeAirflowApi

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAirflowApi]:
    with FakeAirflowApi() as api:
        monkeypatch.setenv("AIRFLOW_CONN_SCHEDULER_DEFAULT", api.conn_json())
        yield api


@pytest.fixture
def fake_api_v1(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAirflowApi]:
    """The same scripted API playing an Airflow 2.11 deployment (REST API v1, basic auth)."""
    with FakeAirflowApi(api_version="v1") as api:
        monkeypatch.setenv("AIRFLOW_CONN_SCHEDULER_DEFAULT", api.conn_json())
        yield api
