"""Fixtures for the factory tests (helpers live in factory_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from factory_helpers import Env

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "dev"))
from local_airflow import HungServer

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", raising=False)
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", raising=False)
    return Env(tmp_path)


@pytest.fixture
def hung_server() -> Iterator[HungServer]:
    server = HungServer()
    try:
        yield server
    finally:
        server.close()
