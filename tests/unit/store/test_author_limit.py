"""Every store refuses an author it could not record, the same way, before writing anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from store_contract import make_spec

from airflow_provider_scheduler.store import StoreError, open_store
from airflow_provider_scheduler.store.base import MAX_AUTHOR
from airflow_provider_scheduler.store.errors import InvalidAuthorError

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(params=["sqlite", "file"])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'specs.db'}"
    (tmp_path / "folder").mkdir()
    return f"file://{tmp_path / 'folder'}"


BAD = ["x" * (MAX_AUTHOR + 1), "a\nb", "tab\there", "\udcff", ""]


@pytest.mark.parametrize("author", BAD, ids=["long", "newline", "tab", "surrogate", "empty-is-default"])
def test_writes_refuse_it_and_store_nothing(
    store_uri: str, author: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", author or "y" * (MAX_AUTHOR + 1))  # an empty author means $USER
    with open_store(store_uri) as store:
        store.put(make_spec("a"), author="seed")
        writes = [
            lambda: store.put(make_spec("b"), author=author),
            lambda: store.put_many([make_spec("c")], author=author),
            lambda: store.pause("analytics.a", author=author),
            lambda: store.resume("analytics.a", author=author),
            lambda: store.delete("analytics.a", author=author),
            lambda: store.finish("analytics.a", author=author),
        ]
        for write in writes:
            with pytest.raises(InvalidAuthorError) as info:
                write()
            assert isinstance(info.value, StoreError)
        assert [(s.id, s.revision) for s in store.list(include_deleted=True)] == [("analytics.a", 1)]
        assert [r.revision for r in store.history("analytics.a")] == [1]


def test_the_limit_is_the_sql_column(store_uri: str) -> None:
    from airflow_provider_scheduler.store.sql import revisions_table, specs_table

    assert specs_table.c.author.type.length == revisions_table.c.author.type.length == MAX_AUTHOR
    with open_store(store_uri) as store:
        assert store.put(make_spec("a"), author="é" * MAX_AUTHOR) == 1
        assert store.require("analytics.a").author == "é" * MAX_AUTHOR
