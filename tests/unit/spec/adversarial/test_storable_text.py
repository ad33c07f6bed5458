"""Issue 13 row 1: the storable-text contract on SQLite and the file store (PostgreSQL: integration)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from storable_contract import StorableTextContract

if TYPE_CHECKING:
    from pathlib import Path


class TestSqlite(StorableTextContract):
    @pytest.fixture
    def store_uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'specs.db'}"


class TestFiles(StorableTextContract):
    known_failures = {
        "gen/size-under": "store/files.py writes a spec as YAML, which can be larger than the JSON the "
        "size limit measured; it then skips its own file as too large (the spec vanishes from list): "
        "issue 13 row 1, the file store must refuse to write what it cannot read back",
    }

    @pytest.fixture
    def store_uri(self, tmp_path: Path) -> str:
        return f"file://{tmp_path / 'specs'}"
