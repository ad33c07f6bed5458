"""The store contract (the same tests as on SQLite and files) on a real PostgreSQL server."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "store"))
from store_contract import SqlStoreContract

if TYPE_CHECKING:
    from local_airflow import PostgresServer

SQLALCHEMY_2 = int(__import__("sqlalchemy").__version__.split(".")[0]) >= 2

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not SQLALCHEMY_2,
        reason="SQLAlchemy 1.4 (Airflow 2.11) needs psycopg2, which the test venv does not ship "
        "(the fixture's URI uses psycopg 3); the PostgreSQL suite runs on the Airflow 3 venv",
    ),
]


class TestPostgresStore(SqlStoreContract):
    @pytest.fixture
    def store_uri(self, postgres: PostgresServer) -> str:
        return postgres.new_database(f"store_{uuid.uuid4().hex[:12]}")
