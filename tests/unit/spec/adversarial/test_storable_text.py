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
    @pytest.fixture
    def store_uri(self, tmp_path: Path) -> str:
        return f"file://{tmp_path / 'specs'}"


def test_a_hand_written_file_with_a_surrogate_escape_does_not_freeze_the_file_store(tmp_path: Path) -> None:
    # issue 13 row 1: such a spec used to pass validation and then crash every apply, list and refresh
    from airflow_provider_scheduler.store import open_store

    folder = tmp_path / "specs"
    (folder / "qa").mkdir(parents=True)
    (folder / "qa" / "bad.yaml").write_text(
        'version: 1\nnamespace: qa\nname: bad\ndescription: "a\\ud800b"\ntasks: [{id: a, template: empty}]\n'
    )
    with open_store(f"file://{folder}") as store:
        assert store.list() == []
        good = {
            "version": 1,
            "namespace": "qa",
            "name": "good",
            "schedule": None,
            "tasks": [{"id": "a", "template": "empty"}],
        }
        assert store.put(good, author="t") == 1
        assert [s.id for s in store.list()] == ["qa.good"]
