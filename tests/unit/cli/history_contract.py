"""``airflow-scheduler show --revision`` and ``rollback``, the same tests on every store kind.

``tests/unit/cli/test_history_commands.py`` runs them on SQLite and the file store,
``tests/integration/cli/test_history_postgres.py`` on a real PostgreSQL server. Subclasses provide a
``uri`` fixture (an empty store) and :meth:`HistoryContract.damage_revision`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from store_contract import canonical, make_spec, write_spec_file

from airflow_provider_scheduler.cli import main, store_commands
from airflow_provider_scheduler.spec.policy import default_policy
from airflow_provider_scheduler.store import open_store

if TYPE_CHECKING:
    from collections.abc import Iterator

#: revision 1 has two tasks (extract -> load), revision 2 one task (extract)
REV1 = make_spec("a")
REV2 = make_spec("a", tasks=[{"id": "extract", "template": "empty"}])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``main(argv)``'s exit code, stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def history(uri: str, spec_id: str = "analytics.a") -> list[tuple[int, str, str]]:
    with open_store(uri) as store:
        return [(r.revision, r.action, r.author) for r in store.history(spec_id)]


class HistoryContract:
    """Two revisions of ``analytics.a`` (by alice, then bob) in the store of ``uri``."""

    def damage_revision(self, uri: str, spec_id: str, revision: int) -> None:
        """Make ``revision`` of ``spec_id`` unreadable behind the store's back."""
        raise NotImplementedError

    def damage_spec(self, uri: str, spec_id: str) -> None:
        """Make the current state of ``spec_id`` unreadable behind the store's back (its history stays)."""
        raise NotImplementedError

    #: what the CLI says about a damaged revision 1 (the file store loses a damaged history line)
    damaged_message = "error: revision 1 of spec analytics.a is damaged in the store: "

    @pytest.fixture
    def stored(self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
        path = tmp_path / "edit" / "a.yaml"
        write_spec_file(path, REV1)
        assert run(capsys, "apply", str(path), "--store", uri, "--author", "alice")[0] == 0
        write_spec_file(path, REV2)
        assert run(capsys, "apply", str(path), "--store", uri, "--author", "bob")[0] == 0
        assert history(uri) == [(1, "create", "alice"), (2, "update", "bob")]
        return uri

    @pytest.fixture
    def tight_policy(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        """Today's policy allows one task per spec: revision 1 no longer validates, revision 2 does."""
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__MAX_TASKS_PER_SPEC", "1")
        default_policy.cache_clear()
        yield
        monkeypatch.delenv("AIRFLOW__SCHEDULE_SPECS__MAX_TASKS_PER_SPEC")
        default_policy.cache_clear()

    # show --revision ---------------------------------------------------------------------------
    def test_show_revision_prints_that_revision_as_show_does(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = run(capsys, "show", "analytics.a", "--revision", "1", "--store", stored)
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[0].startswith("# analytics.a: revision 1 by alice at ")
        assert lines[1] == "# an old revision (the current one is 2); `rollback --to 1` makes it current"
        assert yaml.safe_load(out) == {"x-base-revision": 1, **canonical(REV1)}
        # the current revision, asked by number, is exactly what `show` prints
        code, by_number, _ = run(capsys, "show", "analytics.a", "--revision", "2", "--store", stored)
        assert code == 0
        assert run(capsys, "show", "analytics.a", "--store", stored)[1] == by_number
        assert yaml.safe_load(by_number) == {"x-base-revision": 2, **canonical(REV2)}

    def test_show_revision_output_applied_back_is_refused_while_the_store_moved_on(
        self, stored: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        old = tmp_path / "old.yaml"
        old.write_text(run(capsys, "show", "analytics.a", "--revision", "1", "--store", stored)[1])
        code, _, err = run(capsys, "apply", str(old), "--store", stored)
        assert code == 1
        assert "x-base-revision: the spec changed in the store since revision 1 (now revision 2 by bob" in err
        assert history(stored)[-1] == (2, "update", "bob")

    def test_show_a_revision_that_does_not_exist(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run(capsys, "show", "analytics.a", "--revision", "3", "--store", stored) == (
            1,
            "",
            "error: spec analytics.a has no revision 3; its revisions are 1-2\n",
        )
        assert run(capsys, "show", "analytics.nope", "--revision", "1", "--store", stored) == (
            1,
            "",
            "error: spec analytics.nope is not in the store\n",
        )
        for bad in ("0", "-1", "two"):
            with pytest.raises(SystemExit) as info:
                main(["show", "analytics.a", "--revision", bad, "--store", stored])
            assert info.value.code == 2
            assert f"argument --revision: '{bad}' is not a revision (a whole number, 1 or more)" in (
                capsys.readouterr().err
            )

    def test_show_revisions_of_a_deleted_spec(self, stored: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(capsys, "delete", "analytics.a", "--store", stored, "--author", "carol")[0] == 0
        code, out, _ = run(capsys, "show", "analytics.a", "--revision", "3", "--store", stored)
        assert code == 0
        assert out.startswith("# analytics.a: deleted, revision 3 by carol at ")
        code, out, _ = run(capsys, "show", "analytics.a", "--revision", "1", "--store", stored)
        assert code == 0
        assert yaml.safe_load(out) == {"x-base-revision": 1, **canonical(REV1)}

    # rollback ----------------------------------------------------------------------------------
    def test_rollback_stores_revision_n_as_a_new_revision_by_its_author(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = run(
            capsys, "rollback", "analytics.a", "--to", "1", "--store", stored, "--author", "carol"
        )
        assert (code, err) == (0, "")
        assert out.startswith("--- analytics.a (stored)\n+++ analytics.a (candidate)\n")
        assert "+- id: load\n" in out
        assert out.endswith("rolled back analytics.a to revision 1 as revision 3\n")
        with open_store(stored) as store:
            current = store.require("analytics.a")
            revisions = store.history("analytics.a")
        assert (current.revision, current.author, current.spec) == (3, "carol", canonical(REV1))
        assert revisions[2].spec == revisions[0].spec
        assert history(stored) == [(1, "create", "alice"), (2, "update", "bob"), (3, "update", "carol")]
        code, out, _ = run(capsys, "history", "analytics.a", "--store", stored)
        assert [line.split()[:3] for line in out.splitlines()][-1] == ["3", "update", "carol"]

    def test_the_author_is_resolved_as_apply_resolves_it(
        self, stored: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("USER", "dora")
        assert run(capsys, "rollback", "analytics.a", "--to", "1", "--store", stored)[0] == 0
        assert history(stored)[-1] == (3, "update", "dora")
        with pytest.raises(SystemExit) as info:
            main(["rollback", "analytics.a", "--to", "2", "--author", "x" * 251, "--store", stored])
        assert info.value.code == 2
        assert "argument --author: the author is too long" in capsys.readouterr().err

    def test_a_rollback_to_the_current_content_writes_nothing(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run(capsys, "rollback", "analytics.a", "--to", "2", "--store", stored) == (
            0,
            "unchanged analytics.a at revision 2: it already has the content of revision 2; "
            "nothing rolled back\n",
            "",
        )
        assert run(capsys, "rollback", "analytics.a", "--to", "1", "--store", stored)[0] == 0
        code, out, _ = run(capsys, "rollback", "analytics.a", "--to", "1", "--store", stored)
        assert (code, out.splitlines()[-1]) == (
            0,
            "unchanged analytics.a at revision 3: it already has the content of revision 1; "
            "nothing rolled back",
        )
        assert [r for r, _, _ in history(stored)] == [1, 2, 3]

    def test_dry_run_shows_the_diff_and_stores_nothing(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = run(capsys, "rollback", "analytics.a", "--to", "1", "--dry-run", "--store", stored)
        assert (code, err) == (0, "")
        assert "+- id: load\n" in out
        assert out.endswith(
            "dry run: rolling analytics.a back to revision 1 would store revision 3; nothing stored\n"
        )
        assert [r for r, _, _ in history(stored)] == [1, 2]

    def test_expected_revision_refuses_a_lost_update(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(
            capsys, "rollback", "analytics.a", "--to", "1", "--expected-revision", "1", "--store", stored
        )
        assert code == 1
        lines = err.splitlines()
        assert lines[0].startswith(
            "revision 1: analytics.a: --expected-revision: the spec changed in the store since revision 1 "
            "(now revision 2 by bob at "
        )
        assert lines[1].startswith("nothing rolled back: analytics.a changed since the revision you expected")
        assert [r for r, _, _ in history(stored)] == [1, 2]
        code, out, _ = run(
            capsys, "rollback", "analytics.a", "--to", "1", "--expected-revision", "2", "--store", stored
        )
        assert (code, out.splitlines()[-1]) == (0, "rolled back analytics.a to revision 1 as revision 3")

    def test_a_write_between_plan_and_write_is_not_overwritten(
        self, stored: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        planned = store_commands.plan_rollback

        def plan_then_someone_writes(*args: Any, **kwargs: Any) -> Any:
            plan = planned(*args, **kwargs)
            with open_store(stored) as other:
                other.pause("analytics.a", author="erin")
            return plan

        monkeypatch.setattr(store_commands, "plan_rollback", plan_then_someone_writes)
        code, _, err = run(capsys, "rollback", "analytics.a", "--to", "1", "--store", stored)
        assert code == 1
        assert err == (
            "error: spec analytics.a is at revision 3, your change was based on revision 2; "
            "reload it and apply your change again\n"
        )
        assert history(stored)[-1] == (3, "pause", "erin")
        with open_store(stored) as store:
            assert store.require("analytics.a").paused is True

    def test_a_revision_that_no_longer_validates_is_refused_with_its_problems(
        self, stored: str, tight_policy: None, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, err = run(capsys, "rollback", "analytics.a", "--to", "1", "--store", stored)
        assert (code, out) == (1, "")
        lines = err.splitlines()
        assert lines[0].startswith("revision 1: analytics.a: tasks: ")
        assert "at most 1" in lines[0]
        assert lines[-1] == (
            "nothing rolled back: revision 1 of analytics.a does not pass today's validation "
            "(templates, limits and governance); apply a corrected spec instead"
        )
        assert [r for r, _, _ in history(stored)] == [1, 2]
        # what validates today still rolls back
        assert run(capsys, "rollback", "analytics.a", "--to", "2", "--store", stored)[0] == 0

    def test_a_revision_that_does_not_exist(self, stored: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(capsys, "rollback", "analytics.a", "--to", "9", "--store", stored) == (
            1,
            "",
            "error: spec analytics.a has no revision 9; its revisions are 1-2\n",
        )
        assert run(capsys, "rollback", "analytics.nope", "--to", "1", "--store", stored) == (
            1,
            "",
            "error: spec analytics.nope is not in the store\n",
        )
        with pytest.raises(SystemExit) as info:
            main(["rollback", "analytics.a", "--store", stored])
        assert info.value.code == 2
        assert "the following arguments are required: --to" in capsys.readouterr().err
        assert [r for r, _, _ in history(stored)] == [1, 2]

    def test_a_rollback_of_a_deleted_spec_restores_it(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert run(capsys, "delete", "analytics.a", "--store", stored, "--author", "carol")[0] == 0
        code, out, _ = run(
            capsys, "rollback", "analytics.a", "--to", "1", "--store", stored, "--author", "dan"
        )
        assert (code, out.splitlines()[-1]) == (
            0,
            "rolled back analytics.a to revision 1 as revision 4 (it was deleted: restored)",
        )
        with open_store(stored) as store:
            current = store.require("analytics.a")
        assert (current.revision, current.deleted, current.author, current.spec) == (
            4,
            False,
            "dan",
            canonical(REV1),
        )

    def test_a_damaged_revision_is_named_and_nothing_is_written(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.damage_revision(stored, "analytics.a", 1)
        for argv in (("show", "analytics.a", "--revision", "1"), ("rollback", "analytics.a", "--to", "1")):
            code, out, err = run(capsys, *argv, "--store", stored)
            assert code == 1
            # nothing printed but what Airflow 2 logs to stdout (the file store skipping the line)
            for printed in ("x-base-revision", "rolled back", "---"):
                assert printed not in out
            assert err.startswith(self.damaged_message), err
            assert err.count("\n") == 1
            assert "Traceback" not in err
        with open_store(stored) as store:
            current = store.require("analytics.a")
        assert (current.revision, current.spec) == (2, canonical(REV2))
        # the other revisions are still shown
        assert run(capsys, "show", "analytics.a", "--revision", "2", "--store", stored)[0] == 0

    def test_a_rollback_repairs_a_spec_the_store_cannot_read(
        self, stored: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.damage_spec(stored, "analytics.a")
        code, _, err = run(capsys, "show", "analytics.a", "--store", stored)
        assert code == 1
        assert "is damaged in the store" in err
        code, out, _ = run(capsys, "show", "analytics.a", "--revision", "1", "--store", stored)
        assert code == 0
        out = out[out.index("# analytics.a: revision 1 by alice") :]  # Airflow 2 logs the skipped file first
        assert yaml.safe_load(out) == {"x-base-revision": 1, **canonical(REV1)}
        code, out, _ = run(
            capsys, "rollback", "analytics.a", "--to", "1", "--store", stored, "--author", "fix"
        )
        assert (code, out.splitlines()[-1]) == (0, "rolled back analytics.a to revision 1 as revision 3")
        with open_store(stored) as store:
            current = store.require("analytics.a")
        assert (current.revision, current.author, current.spec) == (3, "fix", canonical(REV1))
