"""The store commands of ``airflow-scheduler``, in-process through ``main([...])``.

The real console-script subprocess test lives in ``tests/integration/cli/test_console_script.py``
(each run imports Airflow's configuration: seconds, too slow for the unit suite).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from store_contract import canonical, invalid_spec, make_spec, write_spec_file

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.store import open_store


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def specs_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    write_spec_file(folder / "a.yaml", make_spec("a"))
    write_spec_file(folder / "sub" / "b.yml", make_spec("b", namespace="qa"))
    return folder


def ids(uri: str) -> list[tuple[str, int]]:
    with open_store(uri) as store:
        return [(s.id, s.revision) for s in store.list()]


class TestApply:
    def test_apply_shows_the_diff_and_stores_the_batch(
        self, uri: str, specs_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("USER", "dora")
        assert main(["apply", str(specs_dir), "--store", uri]) == 0
        out = capsys.readouterr().out
        assert "--- /dev/null\n+++ analytics.a (candidate)\n" in out
        assert out.endswith("applied analytics.a as revision 1\napplied qa.b as revision 1\n")
        assert ids(uri) == [("analytics.a", 1), ("qa.b", 1)]
        with open_store(uri) as store:
            assert store.get("analytics.a").author == "dora"  # type: ignore[union-attr]

    def test_applying_again_changes_nothing_and_a_change_is_a_new_revision(
        self, uri: str, specs_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["apply", str(specs_dir), "--store", uri, "--author", "ci"])
        capsys.readouterr()
        assert main(["apply", str(specs_dir), "--store", uri]) == 0
        assert (
            capsys.readouterr().out == "unchanged analytics.a at revision 1\nunchanged qa.b at revision 1\n"
        )
        write_spec_file(specs_dir / "a.yaml", make_spec("a", schedule="@daily"))
        assert main(["apply", str(specs_dir / "a.yaml"), "--store", uri, "--author", "erin"]) == 0
        out = capsys.readouterr().out
        assert "-schedule: 0 6 * * *\n+schedule: '@daily'\n" in out
        assert out.endswith("applied analytics.a as revision 2\n")
        with open_store(uri) as store:
            assert [(r.revision, r.author) for r in store.history("analytics.a")] == [(1, "ci"), (2, "erin")]

    def test_one_invalid_spec_applies_nothing(
        self, uri: str, specs_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bad = write_spec_file(specs_dir / "zz-bad.yaml", invalid_spec("bad"))
        assert main(["apply", str(specs_dir), "--store", uri]) == 1
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        assert lines[0].startswith(f"{bad}: analytics.bad: tasks[0].depends_on[0]: unknown task 'lod'")
        assert lines[-1] == "nothing applied: fix the problems above"
        assert "applied" not in captured.out
        assert ids(uri) == []

    def test_dry_run_stores_nothing(
        self, uri: str, specs_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["apply", str(specs_dir), "--store", uri, "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "+++ qa.b (candidate)" in out
        assert out.endswith("dry run: 2 of 2 spec(s) would change; nothing applied\n")
        assert ids(uri) == []

    def test_read_only_store(
        self, tmp_path: Path, specs_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        folder = tmp_path / "gitops"
        folder.mkdir()
        store = f"file://{folder}?mode=ro"
        assert main(["apply", str(specs_dir), "--store", store]) == 1
        assert (
            capsys.readouterr().err == f"error: the store at {store} is read-only; writes are not allowed\n"
        )
        assert list(folder.iterdir()) == []

    def test_apply_from_stdin(
        self, uri: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(yaml.safe_dump([make_spec("x"), make_spec("y")])))
        assert main(["apply", "-", "--store", uri]) == 0
        assert ids(uri) == [("analytics.x", 1), ("analytics.y", 1)]

    def test_stdin_is_capped_like_validate(
        self, uri: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import io

        big = yaml.safe_dump(make_spec("x")) + "# " + "x" * (1024 * 1024) + "\n"
        monkeypatch.setattr(sys, "stdin", io.StringIO(big))
        assert main(["apply", "-", "--store", uri]) == 1
        assert capsys.readouterr().err == (
            "<stdin>: -: (root): the input is too large (more than 1048576 bytes; at most 1048576 bytes)\n"
            "nothing applied: fix the problems above\n"
        )
        assert ids(uri) == []


class TestReadCommands:
    @pytest.fixture(autouse=True)
    def _stored(self, uri: str, specs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["apply", str(specs_dir), "--store", uri, "--author", "alice"]) == 0
        capsys.readouterr()

    def test_diff(self, uri: str, specs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write_spec_file(specs_dir / "a.yaml", make_spec("a", schedule="@hourly"))
        assert main(["diff", str(specs_dir), "--store", uri]) == 0
        out = capsys.readouterr().out
        assert out.startswith("--- analytics.a (stored)\n+++ analytics.a (candidate)\n")
        assert out.endswith("1 of 2 spec(s) differ from the store\n")
        assert ids(uri) == [("analytics.a", 1), ("qa.b", 1)]

    def test_list(self, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["list", "--store", uri]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split() == ["ID", "REVISION", "STATE", "AUTHOR", "UPDATED"]
        assert [line.split()[:4] for line in lines[1:]] == [
            ["analytics.a", "1", "active", "alice"],
            ["qa.b", "1", "active", "alice"],
        ]
        assert main(["list", "--namespace", "qa", "--json", "--store", uri]) == 0
        data = json.loads(capsys.readouterr().out)
        assert [(d["id"], d["revision"], d["author"], d["spec"]) for d in data] == [
            ("qa.b", 1, "alice", canonical(make_spec("b", namespace="qa")))
        ]

    def test_list_says_paused_finished_and_ended(
        self, uri: str, specs_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_spec_file(specs_dir / "once.yaml", make_spec("once", schedule="@once"))
        write_spec_file(specs_dir / "old.yaml", make_spec("old", end_date="2026-01-02"))
        assert main(["apply", str(specs_dir), "--store", uri, "--author", "alice"]) == 0
        with open_store(uri) as store:
            store.pause("qa.b", author="bob")
            store.finish("analytics.once", author="airflow (run manual__1: success)")
        capsys.readouterr()
        assert main(["list", "--store", uri]) == 0
        states = {line.split()[0]: line.split()[2] for line in capsys.readouterr().out.splitlines()[1:]}
        assert states == {
            "analytics.a": "active",
            "analytics.old": "ended",
            "analytics.once": "finished",
            "qa.b": "paused",
        }
        assert main(["list", "--json", "--store", uri]) == 0
        data = {d["id"]: d["state"] for d in json.loads(capsys.readouterr().out)}
        assert data == states

    def test_show(self, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["show", "analytics.a", "--store", uri]) == 0
        out = capsys.readouterr().out
        assert out.startswith("# analytics.a: revision 1 by alice at ")
        assert yaml.safe_load(out) == {"x-base-revision": 1, **canonical(make_spec("a"))}

    def test_unknown_id(self, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        for command in ("show", "history", "pause", "resume", "delete"):
            assert main([command, "analytics.nope", "--store", uri]) == 1
            assert capsys.readouterr().err == "error: spec analytics.nope is not in the store\n"

    def test_pause_resume_delete_history(self, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["pause", "analytics.a", "--store", uri, "--author", "bob"]) == 0
        assert main(["pause", "analytics.a", "--store", uri]) == 0
        assert main(["resume", "analytics.a", "--store", uri, "--author", "bob"]) == 0
        assert main(["delete", "analytics.a", "--store", uri, "--author", "carol", "--revision", "3"]) == 0
        assert capsys.readouterr().out == (
            "paused analytics.a as revision 2\n"
            "analytics.a is already paused (revision 2)\n"
            "resumed analytics.a as revision 3\n"
            "deleted analytics.a as revision 4\n"
        )
        assert main(["history", "analytics.a", "--store", uri]) == 0
        rows = [line.split()[:3] for line in capsys.readouterr().out.splitlines()]
        assert rows == [
            ["REVISION", "ACTION", "AUTHOR"],
            ["1", "create", "alice"],
            ["2", "pause", "bob"],
            ["3", "resume", "bob"],
            ["4", "delete", "carol"],
        ]
        assert ids(uri) == [("qa.b", 1)]

    def test_stale_revision(self, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["pause", "qa.b", "--revision", "7", "--store", uri]) == 1
        assert capsys.readouterr().err == (
            "error: spec qa.b is at revision 1, your change was based on revision 7; "
            "reload it and apply your change again\n"
        )

    def test_export_round_trips_through_apply(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        main(["pause", "qa.b", "--store", uri])
        capsys.readouterr()
        assert main(["export", "--store", uri]) == 0
        exported = tmp_path / "export.yaml"
        exported.write_text(capsys.readouterr().out)
        other = f"sqlite:///{tmp_path / 'other.db'}"
        assert main(["apply", str(exported), "--store", other]) == 0
        with open_store(uri) as a, open_store(other) as b:
            assert [s.spec for s in a.list()] == [s.spec for s in b.list()]
            assert b.get("qa.b").paused is True  # type: ignore[union-attr]
        capsys.readouterr()
        assert main(["apply", str(exported), "--store", uri]) == 0  # into the same store: no change
        assert (
            capsys.readouterr().out == "unchanged analytics.a at revision 1\nunchanged qa.b at revision 2\n"
        )
        assert main(["export", "--namespace", "qa", "--store", uri]) == 0
        assert [d["name"] for d in yaml.safe_load(capsys.readouterr().out)] == ["b"]


class TestStoreErrors:
    def test_unreachable_store(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        store = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
        assert main(["list", "--store", store]) == 1
        assert (
            capsys.readouterr().err
            == f"error: the store at {store} is unreachable: unable to open database file\n"
        )

    def test_malformed_store_uri(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["list", "--store", "redis://:hunter2@cache/0"]) == 1
        assert capsys.readouterr().err == (
            "error: store URI 'redis://:***@cache/0' has an unsupported scheme 'redis'; expected "
            "sqlite:///PATH, postgresql://USER@HOST:PORT/DB or file:///DIR\n"
        )
