"""The one rule for finding spec files (``spec/files.py``), and every reader of spec files keeping to it."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.operators.apply_specs import ApplyScheduleSpecsOperator
from airflow_provider_scheduler.spec import GovernancePolicy, SpecError
from airflow_provider_scheduler.spec.batch import read_spec_batch
from airflow_provider_scheduler.spec.files import find_spec_files, read_stdin, spec_files_under
from airflow_provider_scheduler.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operators"))
from task_runner import make_context


def spec_yaml(name: str) -> str:
    return f"version: 1\nnamespace: qa\nname: {name}\ntasks:\n  - id: a\n    template: empty\n"


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def names(root: Path, paths: list[Path]) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


class TestSpecFilesUnder:
    def test_suffixes_in_any_case_and_nothing_else(self, tmp_path: Path) -> None:
        for name in ("a.yaml", "b.YML", "c.Json", "d.YAML", "notes.txt", "e.yaml.bak", "yaml"):
            touch(tmp_path / name)
        assert names(tmp_path, spec_files_under(tmp_path)) == ["a.yaml", "b.YML", "c.Json", "d.YAML"]

    def test_hidden_files_and_folders_are_skipped(self, tmp_path: Path) -> None:
        touch(tmp_path / ".hidden" / "a.yaml")
        touch(tmp_path / ".history" / "qa" / "x.yaml")
        touch(tmp_path / "team" / ".draft.yaml")
        touch(tmp_path / "team" / "b.yaml")
        assert names(tmp_path, spec_files_under(tmp_path)) == ["team/b.yaml"]

    def test_sorted_folder_by_folder(self, tmp_path: Path) -> None:
        for rel in ("b.yaml", "a/z.yaml", "a.yaml", "a/b/c.yaml", "A.yaml"):
            touch(tmp_path / rel)
        assert names(tmp_path, spec_files_under(tmp_path)) == [
            "A.yaml",
            "a/b/c.yaml",
            "a/z.yaml",
            "a.yaml",
            "b.yaml",
        ]

    def test_symlinked_file_inside_the_folder_is_read(self, tmp_path: Path) -> None:
        target = touch(tmp_path / "real" / "a.yaml")
        (tmp_path / "link.yaml").symlink_to(target)
        assert names(tmp_path, spec_files_under(tmp_path)) == ["link.yaml", "real/a.yaml"]

    def test_symlink_out_of_the_folder_is_not_followed(self, tmp_path: Path) -> None:
        outside = touch(tmp_path / "outside" / "secret.yaml")
        root = tmp_path / "specs"
        touch(root / "a.yaml")
        (root / "escape.yaml").symlink_to(outside)
        (root / "dir").symlink_to(outside.parent, target_is_directory=True)
        (root / "loop").symlink_to(root, target_is_directory=True)
        (root / "dangling.yaml").symlink_to(tmp_path / "missing.yaml")
        assert names(root, spec_files_under(root)) == ["a.yaml"]


class TestFindSpecFiles:
    def test_named_file_is_read_whatever_its_name(self, tmp_path: Path) -> None:
        named = touch(tmp_path / ".spec.txt")
        touch(tmp_path / "folder" / "x.yaml")
        assert find_spec_files([named, tmp_path / "folder", "-"]) == [
            named,
            tmp_path / "folder" / "x.yaml",
            Path("-"),
        ]


class TestReadStdin:
    def test_reads_bytes_up_to_the_cap(self) -> None:
        stream = io.TextIOWrapper(io.BytesIO(b"12345"))
        assert read_stdin(5, stream) == b"12345"

    @pytest.mark.parametrize(
        "stream",
        [io.TextIOWrapper(io.BytesIO(b"x" * 100)), io.StringIO("x" * 100)],
        ids=["binary-buffer", "text-only"],
    )
    def test_more_than_the_cap_is_refused(self, stream: Any) -> None:
        with pytest.raises(SpecError) as info:
            read_stdin(10, stream)
        assert info.value.source == "<stdin>"
        assert str(info.value) == "(root): the input is too large (more than 10 bytes; at most 10 bytes)"

    def test_multibyte_text_is_counted_in_bytes(self) -> None:
        with pytest.raises(SpecError):
            read_stdin(5, io.StringIO("ééé"))  # 3 characters, 6 bytes


class TestReadSpecBatch:
    def test_a_folder_that_cannot_be_listed_is_a_problem_not_a_silent_skip(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        touch(tmp_path / "ok" / "a.yaml", spec_yaml("a"))
        touch(tmp_path / "locked" / "b.yaml", spec_yaml("b"))
        real_scandir = os.scandir

        def scandir(path: str) -> Any:
            if path.endswith("locked"):
                raise PermissionError(13, "Permission denied", path)
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
        batch = read_spec_batch([tmp_path / "ok", tmp_path / "locked"], policy=GovernancePolicy())
        assert [s.dag_id for s in batch.specs] == ["qa.a"]
        assert batch.problem_lines() == [
            f"{tmp_path / 'locked'}: -: (root): cannot read the folder: Permission denied"
        ]
        assert main(["validate", "--builtin-defaults", str(tmp_path)]) == 1
        assert (
            capsys.readouterr().err == f"{tmp_path}: -: (root): cannot read the folder: Permission denied\n"
        )


class TestEveryReaderUsesTheRule:
    """One folder with ``.hidden/a.yaml``, ``B.YAML`` and ``c.yaml``: every reader sees B.YAML and c.yaml."""

    @pytest.fixture
    def folder(self, tmp_path: Path) -> Path:
        root = tmp_path / "specs"
        touch(root / ".hidden" / "a.yaml", spec_yaml("a"))
        touch(root / "B.YAML", spec_yaml("b"))
        touch(root / "c.yaml", spec_yaml("c"))
        return root

    @pytest.fixture
    def uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'store.db'}"

    def stored(self, uri: str) -> list[str]:
        with open_store(uri) as store:
            return [s.id for s in store.list()]

    def test_validate(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["validate", "--builtin-defaults", str(folder)]) == 0
        assert capsys.readouterr().out == "2 valid specs, 0 invalid, in 2 file(s)\n"

    def test_apply(self, folder: Path, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["apply", str(folder), "--store", uri]) == 0
        assert capsys.readouterr().out.endswith("applied qa.b as revision 1\napplied qa.c as revision 1\n")
        assert self.stored(uri) == ["qa.b", "qa.c"]

    def test_diff(self, folder: Path, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["diff", str(folder), "--store", uri]) == 0
        assert capsys.readouterr().out.endswith("2 of 2 spec(s) differ from the store\n")

    def test_operator(self, folder: Path, uri: str) -> None:
        op = ApplyScheduleSpecsOperator(task_id="apply", path=str(folder), store=uri)
        assert op.execute(make_context("apply"))["created"] == ["qa.b", "qa.c"]
        assert self.stored(uri) == ["qa.b", "qa.c"]

    def test_file_store(self, folder: Path) -> None:
        with open_store(f"file://{folder}?mode=ro") as store:
            assert [s.id for s in store.list()] == ["qa.b", "qa.c"]
            assert store.problems == []

    def test_the_first_file_in_order_wins_everywhere(
        self, folder: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        touch(folder / "a" / "b.yaml", spec_yaml("b"))  # "B.YAML" sorts first: upper case before lower
        assert main(["validate", "--builtin-defaults", str(folder)]) == 1
        assert capsys.readouterr().err == (
            f"{folder / 'a' / 'b.yaml'}: qa.b: (root): duplicate spec id; "
            f"also defined in {folder / 'B.YAML'}\n"
        )
        with open_store(f"file://{folder}?mode=ro") as store:
            assert store.require("qa.b").spec["name"] == "b"
            [problem] = store.problems
            assert problem.source == "a/b.yaml"
