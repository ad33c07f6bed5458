"""``show --revision`` and ``rollback`` on SQLite and the file store (the tests: history_contract.py)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from history_contract import HistoryContract, history, run

from airflow_provider_scheduler.store.errors import RevisionInvalidError, revision_ranges


class TestSqlite(HistoryContract):
    damaged_message = (
        "error: revision 1 of spec analytics.a is damaged in the store: its spec is not valid JSON ("
    )

    @pytest.fixture
    def uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'history.db'}"

    def damage_revision(self, uri: str, spec_id: str, revision: int) -> None:
        with sqlite3.connect(uri.removeprefix("sqlite:///")) as conn:
            changed = conn.execute(
                "UPDATE schedule_spec_revisions SET spec = '{\"tru' WHERE spec_id = ? AND revision = ?",
                (spec_id, revision),
            ).rowcount
        assert changed == 1

    def damage_spec(self, uri: str, spec_id: str) -> None:
        with sqlite3.connect(uri.removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE schedule_specs SET spec = '{\"tru' WHERE id = ?", (spec_id,))


class TestFileStore(HistoryContract):
    #: a history line that cannot be read is skipped, so the file store no longer holds that revision
    damaged_message = "error: spec analytics.a has no revision 1; its revisions are 2"

    @pytest.fixture
    def uri(self, tmp_path: Path) -> str:
        return f"file://{tmp_path / 'specs'}"

    def damage_revision(self, uri: str, spec_id: str, revision: int) -> None:
        namespace, name = spec_id.split(".")
        path = Path(uri.removeprefix("file://")) / ".history" / namespace / f"{name}.jsonl"
        lines = path.read_text().splitlines(keepends=True)
        numbers = [json.loads(line)["revision"] for line in lines]
        lines[numbers.index(revision)] = '{"revision": 1, "tru\n'
        path.write_text("".join(lines))

    def damage_spec(self, uri: str, spec_id: str) -> None:
        namespace, name = spec_id.split(".")
        (Path(uri.removeprefix("file://")) / namespace / f"{name}.yaml").write_text("tasks: [\n")

    def test_a_history_line_without_a_spec_object_is_damaged(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """JSON with every key of a history line, but no spec object in it: damaged, not missing."""
        path = Path(stored.removeprefix("file://")) / ".history" / "analytics" / "a.jsonl"
        records = [json.loads(line) for line in path.read_text().splitlines()]
        records[0]["spec"] = "not a spec"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        for argv in (("show", "analytics.a", "--revision", "1"), ("rollback", "analytics.a", "--to", "1")):
            assert run(capsys, *argv, "--store", stored) == (
                1,
                "",
                "error: revision 1 of spec analytics.a is damaged in the store: its spec is not a JSON "
                "object; it cannot be shown or rolled back to\n",
            )
        assert [r for r, _, _ in history(stored)] == [1, 2]


def test_revision_ranges() -> None:
    assert revision_ranges([]) == "none"
    assert revision_ranges([4]) == "4"
    assert revision_ranges([1, 2, 3, 5, 7, 8]) == "1-3, 5, 7-8"
    assert revision_ranges([3, 1, 2, 2]) == "1-3"


def test_the_cli_reads_no_store_for_a_malformed_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:///{tmp_path / 'never.db'}"
    with pytest.raises(SystemExit):
        run(capsys, "rollback", "analytics.a", "--to", "x", "--store", uri)
    assert not (tmp_path / "never.db").exists()


def test_revision_invalid_error_is_a_batch_error_naming_the_revision() -> None:
    from airflow_provider_scheduler.spec.errors import Problem, SpecError
    from airflow_provider_scheduler.store.errors import SpecBatchError

    err = RevisionInvalidError(
        "analytics.a",
        3,
        [SpecError([Problem("tasks", "too many")], spec_id="analytics.a", source="revision 3")],
    )
    assert isinstance(err, SpecBatchError)
    assert str(err).splitlines() == [
        "revision 3 of spec analytics.a does not pass today's validation (templates, limits and governance); "
        "nothing was stored:",
        "revision 3: analytics.a: tasks: too many",
    ]
