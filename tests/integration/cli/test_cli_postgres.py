"""The CLI against a real PostgreSQL store: lost-update protection, and values over the column limits.

PostgreSQL refuses a ``varchar(250)`` value that is too long (SQLite does not), so this is where an
unchecked ``--author`` used to end in a traceback.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "store"))
from store_contract import for_this_sqlalchemy, make_spec, write_spec_file

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.store import open_store
from airflow_provider_scheduler.store.errors import InvalidAuthorError

if TYPE_CHECKING:
    from local_airflow import PostgresServer

pytestmark = pytest.mark.integration


@pytest.fixture
def uri(postgres: PostgresServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    uri = for_this_sqlalchemy(postgres.new_database(f"cli_{uuid.uuid4().hex[:12]}"))
    path = write_spec_file(tmp_path / "seed" / "a.yaml", make_spec("a"))
    assert main(["apply", str(path), "--store", uri, "--author", "seed"]) == 0
    capsys.readouterr()
    return uri


def test_two_editors_the_second_conflicts(
    uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = []
    for who in ("alice", "bob"):
        assert main(["show", "analytics.a", "--store", uri]) == 0
        path = tmp_path / f"{who}.yaml"
        path.write_text(capsys.readouterr().out)
        files.append(path)
    alice, bob = files
    alice.write_text(alice.read_text().replace("schedule: 0 6 * * *", "schedule: 0 7 * * *"))
    bob.write_text(bob.read_text().replace("catchup: false", "catchup: true"))
    assert main(["apply", str(alice), "--store", uri, "--author", "alice"]) == 0
    assert main(["apply", str(bob), "--store", uri, "--author", "bob"]) == 1
    assert "x-base-revision: the spec changed in the store since revision 1 (now revision 2 by alice" in (
        capsys.readouterr().err
    )
    with open_store(uri) as store:
        stored = store.require("analytics.a")
    assert (stored.revision, stored.spec["schedule"], stored.spec["catchup"]) == (2, "0 7 * * *", False)


def test_an_author_over_the_column_is_a_message(
    uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_spec_file(tmp_path / "a.yaml", make_spec("a", schedule="@daily"))
    with pytest.raises(SystemExit) as info:
        main(["apply", str(path), "--author", "x" * 251, "--store", uri])
    assert info.value.code == 2
    assert (
        "argument --author: the author is too long (251 characters; at most 250)" in capsys.readouterr().err
    )
    monkeypatch.setenv("USER", "u" * 251)
    assert main(["apply", str(path), "--store", uri]) == 1
    assert capsys.readouterr().err == "error: the author is too long (251 characters; at most 250)\n"
    with open_store(uri) as store:
        with pytest.raises(InvalidAuthorError):
            store.pause("analytics.a", author="y" * 251)
        assert store.require("analytics.a").revision == 1
        assert store.put(make_spec("a", schedule="@daily"), author="é" * 250) == 2  # characters, not bytes


def test_ids_and_namespaces_over_the_columns(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    long_id = "a" * 200 + "." + "b" * 200
    for argv in (
        ["show", long_id],
        ["history", long_id],
        ["pause", long_id],
        ["list", "--namespace", "n" * 300],
    ):
        with pytest.raises(SystemExit) as info:
            main([*argv, "--store", uri])
        assert info.value.code == 2
        assert "Traceback" not in capsys.readouterr().err
    with open_store(uri) as store:  # the store API itself: an id longer than the column is just unknown
        assert store.get(long_id) is None
        assert store.list(namespace="n" * 300) == []
