"""The CLI cannot lose an update: ``export``/``show`` carry ``x-base-revision`` and ``apply`` honours it.

In-process through ``main([...])`` on a SQLite store (the planner is the same for every backend).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from store_contract import canonical, make_spec, write_spec_file

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.store import open_store


@pytest.fixture
def uri(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    folder = tmp_path / "seed"
    write_spec_file(folder / "a.yaml", make_spec("a"))
    write_spec_file(folder / "b.yaml", make_spec("b"))
    assert main(["apply", str(folder), "--store", uri, "--author", "seed"]) == 0
    capsys.readouterr()
    return uri


def show_to(path: Path, spec_id: str, uri: str, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["show", spec_id, "--store", uri]) == 0
    path.write_text(capsys.readouterr().out)
    return path


def edit_file(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def stored(uri: str, spec_id: str) -> tuple[int, dict]:
    with open_store(uri) as store:
        spec = store.require(spec_id)
        return spec.revision, spec.spec


class TestTwoEditors:
    def test_the_second_apply_conflicts_and_nothing_is_lost(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        alice = show_to(tmp_path / "alice.yaml", "analytics.a", uri, capsys)
        bob = show_to(tmp_path / "bob.yaml", "analytics.a", uri, capsys)
        assert "x-base-revision: 1\n" in alice.read_text()
        edit_file(alice, "schedule: 0 6 * * *", "schedule: 0 7 * * *")
        edit_file(bob, "catchup: false", "catchup: true")

        assert main(["apply", str(alice), "--store", uri, "--author", "alice"]) == 0
        assert capsys.readouterr().out.endswith("applied analytics.a as revision 2\n")
        assert main(["apply", str(bob), "--store", uri, "--author", "bob"]) == 1
        err = capsys.readouterr().err.splitlines()
        assert err[0].startswith(
            f"{bob}: analytics.a: x-base-revision: the spec changed in the store since revision 1 "
            "(now revision 2 by alice at "
        )
        assert err[0].endswith("); applying would overwrite that change")
        assert err[1].startswith("nothing applied: 1 spec(s) changed since the revision your change")
        revision, spec = stored(uri, "analytics.a")
        assert revision == 2
        assert (spec["schedule"], spec["catchup"]) == ("0 7 * * *", False)  # alice's change kept

    def test_a_conflict_in_a_batch_stores_nothing_of_the_batch(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["export", "--store", uri]) == 0
        exported = tmp_path / "export.yaml"
        exported.write_text(capsys.readouterr().out)
        assert main(["pause", "analytics.b", "--store", uri]) == 0  # someone else, meanwhile
        edit_file(exported, "schedule: 0 6 * * *", "schedule: 0 8 * * *")  # a's schedule
        edit_file(exported, "schedule: 0 6 * * *", "schedule: 0 9 * * *")  # b's schedule
        capsys.readouterr()
        assert main(["apply", str(exported), "--store", uri]) == 1
        assert "analytics.b: x-base-revision: the spec changed in the store since revision 1" in (
            capsys.readouterr().err
        )
        assert stored(uri, "analytics.a") == (1, canonical(make_spec("a")))
        assert stored(uri, "analytics.b")[0] == 2

    def test_dry_run_and_diff_say_so(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bob = show_to(tmp_path / "bob.yaml", "analytics.a", uri, capsys)
        assert main(["pause", "analytics.a", "--store", uri]) == 0
        edit_file(bob, "catchup: false", "catchup: true")
        capsys.readouterr()
        assert main(["apply", str(bob), "--dry-run", "--store", uri]) == 1
        assert "changed in the store since revision 1 (now revision 2" in capsys.readouterr().err
        assert main(["diff", str(bob), "--store", uri]) == 0
        captured = capsys.readouterr()
        assert "+catchup: true" in captured.out
        assert "x-base-revision: the spec changed in the store since revision 1" in captured.err

    def test_a_spec_deleted_meanwhile_is_not_brought_back(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bob = show_to(tmp_path / "bob.yaml", "analytics.a", uri, capsys)
        assert main(["delete", "analytics.a", "--store", uri, "--author", "carol"]) == 0
        capsys.readouterr()
        assert main(["apply", str(bob), "--store", uri]) == 1
        assert "(now deleted at revision 2 by carol at " in capsys.readouterr().err
        with open_store(uri) as store:
            assert store.get("analytics.a") is None

    def test_ignore_base_revision_overwrites_on_purpose(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bob = show_to(tmp_path / "bob.yaml", "analytics.a", uri, capsys)
        assert main(["pause", "analytics.a", "--store", uri]) == 0
        edit_file(bob, "catchup: false", "catchup: true")
        assert main(["apply", str(bob), "--ignore-base-revision", "--store", uri]) == 0
        revision, spec = stored(uri, "analytics.a")
        assert (revision, spec["catchup"], spec["paused"]) == (3, True, False)

    def test_a_file_without_the_key_applies_as_before(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        plain = write_spec_file(tmp_path / "plain.yaml", make_spec("a", schedule="@daily"))
        assert main(["apply", str(plain), "--store", uri]) == 0
        assert stored(uri, "analytics.a")[0] == 2


class TestExportRoundTrip:
    @pytest.mark.parametrize("fmt", ["yaml", "json"])
    def test_export_validate_and_apply_back(
        self, fmt: str, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["export", "--store", uri, *(["--json"] if fmt == "json" else [])]) == 0
        exported = tmp_path / f"export.{fmt}"
        exported.write_text(capsys.readouterr().out)
        documents = (
            json.loads(exported.read_text()) if fmt == "json" else yaml.safe_load(exported.read_text())
        )
        assert [(d["x-base-revision"], d["name"]) for d in documents] == [(1, "a"), (1, "b")]

        assert main(["validate", str(exported)]) == 0
        assert main(["apply", str(exported), "--store", uri]) == 0
        assert capsys.readouterr().out.endswith(
            "unchanged analytics.a at revision 1\nunchanged analytics.b at revision 1\n"
        )
        documents[0]["schedule"] = "@hourly"
        exported.write_text(json.dumps(documents) if fmt == "json" else yaml.safe_dump(documents))
        assert main(["apply", str(exported), "--store", uri]) == 0
        assert capsys.readouterr().out.endswith(
            "applied analytics.a as revision 2\nunchanged analytics.b at revision 1\n"
        )
        # the same file again: a is now equal to the store (unchanged), so no conflict either
        assert main(["apply", str(exported), "--store", uri]) == 0
        assert stored(uri, "analytics.a")[1]["schedule"] == "@hourly"

    def test_a_store_that_never_held_the_spec_takes_it(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["pause", "analytics.a", "--store", uri]) == 0
        capsys.readouterr()
        assert main(["export", "--store", uri]) == 0
        exported = tmp_path / "backup.yaml"
        exported.write_text(capsys.readouterr().out)
        fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
        assert main(["apply", str(exported), "--store", fresh]) == 0
        assert stored(fresh, "analytics.a")[0] == 1

    @pytest.mark.parametrize("value", ["'two'", "-1", "true", "1.5", "[1]"])
    def test_a_bad_base_revision_is_a_problem_with_its_path(
        self, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text(f"x-base-revision: {value}\n" + yaml.safe_dump(make_spec("a")))
        assert main(["validate", str(path)]) == 1
        assert capsys.readouterr().err.startswith(
            f"{path}: analytics.a: x-base-revision: must be a whole number from 0 to 2147483647"
        )


class TestExpectedRevision:
    def test_the_right_revision_applies(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write_spec_file(tmp_path / "a.yaml", make_spec("a", schedule="@daily"))
        assert main(["apply", str(path), "--expected-revision", "1", "--store", uri]) == 0
        assert stored(uri, "analytics.a")[0] == 2

    def test_a_stale_revision_conflicts(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write_spec_file(tmp_path / "a.yaml", make_spec("a", schedule="@daily"))
        assert main(["apply", str(path), "--expected-revision", "3", "--store", uri]) == 1
        assert capsys.readouterr().err.startswith(
            f"{path}: analytics.a: --expected-revision: the spec changed in the store since revision 3 "
            "(now revision 1 by seed at "
        )
        assert stored(uri, "analytics.a") == (1, canonical(make_spec("a")))

    def test_zero_means_it_must_not_exist(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write_spec_file(tmp_path / "a.yaml", make_spec("a", schedule="@daily"))
        assert main(["apply", str(path), "--expected-revision", "0", "--store", uri]) == 1
        new = write_spec_file(tmp_path / "new.yaml", make_spec("new"))
        assert main(["apply", str(new), "--expected-revision", "0", "--store", uri]) == 0

    def test_it_overrides_the_files_base_revision(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bob = show_to(tmp_path / "bob.yaml", "analytics.a", uri, capsys)
        assert main(["pause", "analytics.a", "--store", uri]) == 0
        edit_file(bob, "catchup: false", "catchup: true")
        assert main(["apply", str(bob), "--expected-revision", "2", "--store", uri]) == 0
        assert stored(uri, "analytics.a")[0] == 3

    def test_only_for_one_spec(self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        folder = tmp_path / "two"
        write_spec_file(folder / "a.yaml", make_spec("a", schedule="@daily"))
        write_spec_file(folder / "b.yaml", make_spec("b", schedule="@daily"))
        assert main(["apply", str(folder), "--expected-revision", "1", "--store", uri]) == 1
        assert capsys.readouterr().err == (
            f"--expected-revision needs exactly one spec; {folder} hold 2\n"
            "nothing applied: fix the problems above\n"
        )
        assert stored(uri, "analytics.a")[0] == 1

    def test_not_with_ignore_base_revision(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write_spec_file(tmp_path / "a.yaml", make_spec("a"))
        with pytest.raises(SystemExit) as info:
            main(["apply", str(path), "--expected-revision", "1", "--ignore-base-revision", "--store", uri])
        assert info.value.code == 2
        assert "not allowed with argument" in capsys.readouterr().err
