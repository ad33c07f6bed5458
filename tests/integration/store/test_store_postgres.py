"""The store contract (the same tests as on SQLite and files) on a real PostgreSQL server."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "store"))
from store_contract import SqlStoreContract, for_this_sqlalchemy

if TYPE_CHECKING:
    from local_airflow import PostgresServer

pytestmark = pytest.mark.integration


class TestPostgresStore(SqlStoreContract):
    @pytest.fixture
    def store_uri(self, postgres: PostgresServer) -> str:
        return for_this_sqlalchemy(postgres.new_database(f"store_{uuid.uuid4().hex[:12]}"))


class TestDamagedRowOnPostgres:
    """Issue 13 row 7 on a real PostgreSQL server: one row with invalid JSON costs only its spec."""

    def test_a_fresh_loader_loads_every_other_spec(self, postgres: PostgresServer, tmp_path: Path) -> None:
        import sqlalchemy as sa
        from store_contract import make_spec

        from airflow_provider_scheduler.factory import load_schedules
        from airflow_provider_scheduler.store import open_store

        uri = for_this_sqlalchemy(postgres.new_database(f"store_{uuid.uuid4().hex[:12]}"))
        store = open_store(uri)
        try:
            store.put_many([make_spec(f"s{i:02d}") for i in range(50)], author="test")
            with store.engine.connect() as conn, conn.begin():  # type: ignore[attr-defined]
                conn.execute(
                    sa.text("UPDATE schedule_specs SET spec = '{\"version\": 1, ' WHERE id = 'analytics.s07'")
                )
        finally:
            store.close()
        result = load_schedules({}, store=uri, home=tmp_path, pause_sync_conn_id=None)
        assert result.refresh == "ok"
        assert result.dag_ids == [f"analytics.s{i:02d}" for i in range(50) if i != 7]
        assert result.errors["analytics.s07"].startswith("damaged in the store: its spec is not valid JSON (")
