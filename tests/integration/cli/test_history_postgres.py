"""``show --revision`` and ``rollback`` against a real PostgreSQL store: the unit suite's contract."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "store"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "cli"))
from history_contract import HistoryContract
from store_contract import for_this_sqlalchemy

if TYPE_CHECKING:
    from local_airflow import PostgresServer

pytestmark = pytest.mark.integration


class TestPostgres(HistoryContract):
    damaged_message = (
        "error: revision 1 of spec analytics.a is damaged in the store: its spec is not valid JSON ("
    )

    @pytest.fixture
    def uri(self, postgres: PostgresServer) -> str:
        return for_this_sqlalchemy(postgres.new_database(f"hist_{uuid.uuid4().hex[:12]}"))

    def damage_revision(self, uri: str, spec_id: str, revision: int) -> None:
        changed = _execute(
            uri,
            "UPDATE schedule_spec_revisions SET spec = '{\"tru' "
            "WHERE spec_id = :spec_id AND revision = :revision",
            spec_id=spec_id,
            revision=revision,
        )
        assert changed == 1

    def damage_spec(self, uri: str, spec_id: str) -> None:
        assert (
            _execute(uri, "UPDATE schedule_specs SET spec = '{\"tru' WHERE id = :spec_id", spec_id=spec_id)
            == 1
        )


def _execute(uri: str, statement: str, **params: object) -> int:
    """Run one statement on the store's database behind its back; the number of rows it changed."""
    import sqlalchemy as sa

    engine = sa.create_engine(uri)
    try:
        with engine.begin() as conn:
            return int(conn.execute(sa.text(statement), params).rowcount)
    finally:
        engine.dispose()
