"""The CLI on a store holding a damaged spec (issue 13 row 7): reported, never a traceback."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from store_contract import make_spec

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.store import open_store


@pytest.fixture(params=["sqlite", "files"])
def damaged(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store with analytics.a, analytics.b (damaged) and analytics.c."""
    uri = f"sqlite:///{tmp_path / 'cli.db'}" if request.param == "sqlite" else f"file://{tmp_path / 'files'}"
    with open_store(uri) as store:
        store.put_many([make_spec("a"), make_spec("b"), make_spec("c")], author="alice")
    if request.param == "sqlite":
        with sqlite3.connect(tmp_path / "cli.db") as conn:
            conn.execute("UPDATE schedule_specs SET spec = '{\"tru' WHERE id = 'analytics.b'")
    else:
        (tmp_path / "files" / "analytics" / "b.yaml").write_text("tasks: [\n")
    return uri


def test_list_shows_the_damaged_spec_with_its_reason(
    damaged: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--store", damaged]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    lines = lines[[line.split()[:1] for line in lines].index(["ID"]) :]  # Airflow 2 logs to stdout
    assert [line.split()[:2] for line in lines[1:]] == [
        ["analytics.a", "1"],
        ["analytics.b", "1"],
        ["analytics.c", "1"],
    ]
    assert "damaged: " in lines[2]
    assert "damaged" not in lines[1] + lines[3]
    assert "Traceback" not in captured.out + captured.err
    assert main(["list", "--json", "--store", damaged]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.index("[\n") :])  # Airflow 2 logs the skipped file to stdout first
    assert [(d["id"], d["damaged"] is not None) for d in data] == [
        ("analytics.a", False),
        ("analytics.b", True),
        ("analytics.c", False),
    ]


def test_show_and_pause_say_what_is_wrong_and_how_to_repair(
    damaged: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("show", "pause"):
        assert main([command, "analytics.b", "--store", damaged]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: spec analytics.b is damaged in the store: ")
        assert err.endswith("; apply a good version of it or delete it\n")
    assert main(["export", "--store", damaged]) == 0  # the readable specs
    assert "name: b" not in capsys.readouterr().out
