"""``airflow-scheduler edit``, with a fake ``$EDITOR``: a real program the CLI starts on the file.

The fake editor (a Python script) plays a list of steps, one per time it is started: replace text in
the file, optionally change the store first (another editor getting in meanwhile), exit with a code.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from store_contract import make_spec, write_spec_file

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.store import open_store

REPO = Path(__file__).resolve().parents[3]

FAKE_EDITOR = r"""
import json, os, sys
path = sys.argv[-1]
steps = json.loads(os.environ["FAKE_EDITOR_STEPS"])
counter = os.environ["FAKE_EDITOR_COUNTER"]
n = int(open(counter).read()) if os.path.exists(counter) else 0
open(counter, "w").write(str(n + 1))
with open(os.environ["FAKE_EDITOR_ARGS"], "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\n")
step = steps[min(n, len(steps) - 1)]
if step.get("race"):
    from airflow_provider_scheduler.store import open_store
    with open_store(step["race"]["store"]) as store:
        store.pause(step["race"]["id"], author="mallory")
text = open(path).read()
for old, new in step.get("replace", []):
    assert old in text, (old, text)
    text = text.replace(old, new, 1)
open(path, "w").write(text)
sys.exit(step.get("exit", 0))
"""


class FakeEditor:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.script = tmp_path / "fake_editor.py"
        self.script.write_text(FAKE_EDITOR)
        self.counter = tmp_path / "editor-count"
        self.args_log = tmp_path / "editor-args"
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("FAKE_EDITOR_COUNTER", str(self.counter))
        monkeypatch.setenv("FAKE_EDITOR_ARGS", str(self.args_log))
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        monkeypatch.delenv("VISUAL", raising=False)
        monkeypatch.setenv("EDITOR", f"{shlex.quote(sys.executable)} {shlex.quote(str(self.script))}")

    def plays(self, *steps: dict[str, Any]) -> None:
        self.monkeypatch.setenv("FAKE_EDITOR_STEPS", json.dumps(list(steps)))

    @property
    def runs(self) -> int:
        return int(self.counter.read_text()) if self.counter.exists() else 0

    @property
    def files(self) -> list[str]:
        return [json.loads(line)[-1] for line in self.args_log.read_text().splitlines()]


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeEditor:
    return FakeEditor(tmp_path, monkeypatch)


@pytest.fixture
def uri(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    path = write_spec_file(tmp_path / "seed" / "a.yaml", make_spec("a"))
    assert main(["apply", str(path), "--store", uri, "--author", "seed"]) == 0
    capsys.readouterr()
    return uri


def current(uri: str) -> tuple[int, dict[str, Any], str]:
    with open_store(uri) as store:
        spec = store.require("analytics.a")
    return spec.revision, spec.spec, spec.author


SCHEDULE = ["schedule: 0 6 * * *", "schedule: '@daily'"]


class TestEdit:
    def test_an_edit_is_applied_against_the_revision_shown(
        self, editor: FakeEditor, uri: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        editor.plays({"replace": [SCHEDULE]})
        assert main(["edit", "analytics.a", "--store", uri, "--author", "erin"]) == 0
        out = capsys.readouterr().out
        assert "-schedule: 0 6 * * *\n+schedule: '@daily'\n" in out
        assert out.endswith("applied analytics.a as revision 2\n")
        revision, spec, author = current(uri)
        assert (revision, spec["schedule"], author) == (2, "@daily", "erin")
        [edited] = editor.files
        assert not os.path.exists(edited)  # the temporary file is removed once applied

    def test_the_editor_sees_the_spec_with_its_base_revision_in_a_private_file(
        self, editor: FakeEditor, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        editor.plays({"replace": [["x-base-revision: 1\n", "x-base-revision: 1\n"]], "exit": 3})
        assert main(["edit", "analytics.a", "--store", uri]) == 1
        [edited] = editor.files
        assert capsys.readouterr().err == "the editor exited with status 3; nothing applied\n"
        assert not os.path.exists(edited)

    def test_no_change_applies_nothing(
        self, editor: FakeEditor, uri: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        editor.plays({})
        assert main(["edit", "analytics.a", "--store", uri]) == 0
        assert capsys.readouterr().out == "no changes to analytics.a; nothing applied\n"
        assert current(uri)[0] == 1

    def test_a_change_made_meanwhile_is_not_overwritten(
        self, editor: FakeEditor, uri: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        editor.plays({"race": {"store": uri, "id": "analytics.a"}, "replace": [SCHEDULE]})
        assert main(["edit", "analytics.a", "--store", uri]) == 1
        err = capsys.readouterr().err
        [edited] = editor.files
        assert (
            "analytics.a: x-base-revision: the spec changed in the store since revision 1 "
            "(now revision 2 by mallory" in err
        )
        assert err.rstrip().endswith(
            "analytics.a changed in the store while you edited it; `airflow-scheduler show analytics.a` "
            "prints the current version to redo your change on; nothing applied. "
            f"Your edited text is kept in {edited}"
        )
        revision, spec, author = current(uri)
        assert (revision, spec["schedule"], spec["paused"], author) == (2, "0 6 * * *", True, "mallory")
        assert "schedule: '@daily'" in Path(edited).read_text()  # the edit is not lost either
        os.unlink(edited)

    def test_an_invalid_edit_off_a_terminal_is_kept(
        self, editor: FakeEditor, uri: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        editor.plays({"replace": [["- extract\n", "- extrakt\n"]]})
        assert main(["edit", "analytics.a", "--store", uri]) == 1
        [edited] = editor.files
        err = capsys.readouterr().err.splitlines()
        assert err[0].startswith(f"{edited}: analytics.a: tasks[1].depends_on[0]: unknown task 'extrakt'")
        assert (
            err[-1] == f"the edit is not a valid spec; nothing applied. Your edited text is kept in {edited}"
        )
        assert "- extrakt" in Path(edited).read_text()
        assert current(uri)[0] == 1
        os.unlink(edited)

    def test_an_invalid_edit_on_a_terminal_can_be_reopened(
        self,
        editor: FakeEditor,
        uri: str,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
        editor.plays(
            {"replace": [["- extract\n", "- extrakt\n"]]},
            {"replace": [["- extrakt\n", "- extract\n"], SCHEDULE]},  # the second round fixes it
        )
        assert main(["edit", "analytics.a", "--store", uri]) == 0
        assert editor.runs == 2
        assert len(set(editor.files)) == 1  # the same file, with the text as left
        captured = capsys.readouterr()
        assert "unknown task 'extrakt'" in captured.err
        assert "re-open the editor to fix it? [Y/n] " in captured.err
        assert captured.out.endswith("applied analytics.a as revision 2\n")
        assert current(uri)[1]["schedule"] == "@daily"

    def test_renaming_is_refused(
        self, editor: FakeEditor, uri: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        editor.plays({"replace": [["name: a\n", "name: other\n"]]})
        assert main(["edit", "analytics.a", "--store", uri]) == 1
        [edited] = editor.files
        assert (
            f"{edited}: analytics.a: (root): the file must hold the spec analytics.a only "
            "(found analytics.other)" in capsys.readouterr().err
        )
        with open_store(uri) as store:
            assert [s.id for s in store.list()] == ["analytics.a"]
        os.unlink(edited)

    def test_the_editor_is_not_run_through_a_shell(
        self, editor: FakeEditor, uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        marker = tmp_path / "PWNED"
        monkeypatch.setenv("VISUAL", f"{os.environ['EDITOR']} --wait ; touch {marker}")  # VISUAL wins
        editor.plays({"replace": [SCHEDULE]})
        assert main(["edit", "analytics.a", "--store", uri]) == 0
        assert not marker.exists()
        args = json.loads(editor.args_log.read_text().splitlines()[0])
        assert args[:4] == ["--wait", ";", "touch", str(marker)]  # plain arguments of the editor

    def test_a_missing_editor(
        self, uri: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.delenv("VISUAL", raising=False)
        monkeypatch.setenv("EDITOR", "/no/such/editor --flag")
        assert main(["edit", "analytics.a", "--store", uri]) == 1
        assert capsys.readouterr().err == (
            "error: cannot start the editor '/no/such/editor': No such file or directory; "
            "set $VISUAL or $EDITOR\n"
        )

    def test_unknown_and_deleted_specs(self, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["edit", "analytics.nope", "--store", uri]) == 1
        assert capsys.readouterr().err == "error: spec analytics.nope is not in the store\n"
        assert main(["delete", "analytics.a", "--store", uri]) == 0
        capsys.readouterr()
        assert main(["edit", "analytics.a", "--store", uri]) == 1
        assert capsys.readouterr().err == "error: spec analytics.a is deleted\n"
