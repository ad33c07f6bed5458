"""Issue 13 row 1: the storable-text contract (tests/unit/spec/adversarial) on a real PostgreSQL server."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "spec" / "adversarial"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "store"))
from storable_contract import StorableTextContract
from store_contract import for_this_sqlalchemy

if TYPE_CHECKING:
    from local_airflow import PostgresServer

pytestmark = pytest.mark.integration


class TestPostgresStorableText(StorableTextContract):
    @pytest.fixture
    def store_uri(self, postgres: PostgresServer) -> str:
        return for_this_sqlalchemy(postgres.new_database(f"text_{uuid.uuid4().hex[:12]}"))
