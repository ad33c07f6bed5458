"""Arguments and stores that used to end in a traceback: a clear one-line error instead.

A malformed argument is a usage error (exit 2) before any store is opened; a store that cannot be
used is one ``error:`` line naming it (exit 1). Nothing stored is touched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from store_contract import make_spec, write_spec_file

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.store import open_store


@pytest.fixture
def uri(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    path = write_spec_file(tmp_path / "seed" / "a.yaml", make_spec("a"))
    assert main(["apply", str(path), "--store", uri, "--author", "seed"]) == 0
    capsys.readouterr()
    return uri


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


class TestNotADatabase:
    @pytest.mark.parametrize(
        "content",
        [b"this is a text file, not a database\n" * 3, bytes(range(256)) * 8],
        ids=["text", "binary"],
    )
    @pytest.mark.parametrize("command", [["list"], ["show", "analytics.a"], ["export"], ["apply"]])
    def test_one_line_naming_the_file_and_the_file_is_untouched(
        self, content: bytes, command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        target = tmp_path / "notadb"
        target.write_bytes(content)
        if command == ["apply"]:
            command = ["apply", str(write_spec_file(tmp_path / "a.yaml", make_spec("a")))]
        assert main([*command, "--store", f"sqlite:///{target}"]) == 1
        captured = capsys.readouterr()
        assert captured.err == (
            f"error: the store at sqlite:///{target} cannot be opened: {target} is not a SQLite database "
            "(file is not a database); give a SQLite file or the path of a new one\n"
        )
        assert target.read_bytes() == content


class TestAuthor:
    def test_too_long_is_refused_before_anything_is_read(
        self, uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write_spec_file(tmp_path / "a.yaml", make_spec("a", schedule="@daily"))
        line = usage_error(["apply", str(path), "--author", "x" * 251, "--store", uri], capsys)
        assert (
            line == "airflow-scheduler apply: error: argument --author: the author is too long "
            "(251 characters; at most 250)"
        )
        with open_store(uri) as store:
            assert store.require("analytics.a").revision == 1

    def test_250_characters_are_fine(self, uri: str, tmp_path: Path) -> None:
        path = write_spec_file(tmp_path / "a.yaml", make_spec("a", schedule="@daily"))
        assert main(["apply", str(path), "--author", "x" * 250, "--store", uri]) == 0
        with open_store(uri) as store:
            assert store.require("analytics.a").author == "x" * 250

    @pytest.mark.parametrize(
        ("author", "message"),
        [
            ("alice\nbob", "the author contains control characters (such as a newline or tab)"),
            ("\udcff", "the author is not valid UTF-8 text"),  # a non-UTF-8 byte on the command line
            ("  ", "the author is empty; give a name (e.g. --author alice)"),
        ],
    )
    def test_unrecordable(
        self, author: str, message: str, uri: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        line = usage_error(["pause", "analytics.a", "--author", author, "--store", uri], capsys)
        assert line.endswith(f"argument --author: {message}")

    def test_a_long_user_name_is_checked_like_an_author(
        self, uri: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("USER", "u" * 300)
        assert main(["pause", "analytics.a", "--store", uri]) == 1
        assert capsys.readouterr().err == "error: the author is too long (300 characters; at most 250)\n"
        with open_store(uri) as store:
            assert store.require("analytics.a").paused is False


class TestIdsAndNamespaces:
    @pytest.mark.parametrize("command", ["show", "history", "pause", "resume", "delete", "edit"])
    @pytest.mark.parametrize(
        "spec_id",
        ["analytics", "a" * 300 + ".b", "Analytics.A", "analytics.a\n", "analytics.\udcff", "a.b.c"],
    )
    def test_a_malformed_spec_id(
        self, command: str, spec_id: str, uri: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        line = usage_error([command, spec_id, "--store", uri], capsys)
        assert f"argument ID: {spec_id!r}"[:60] in line
        assert line.endswith(
            "is not a spec id: expected NAMESPACE.NAME, each 1-64 lowercase letters, digits, '-' or '_'"
        )

    @pytest.mark.parametrize("command", ["list", "export"])
    @pytest.mark.parametrize("namespace", ["n" * 65, "QA", "qa\udcff", ""])
    def test_a_malformed_namespace(
        self, command: str, namespace: str, uri: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        line = usage_error([command, "--namespace", namespace, "--store", uri], capsys)
        assert line.endswith("is not a namespace: 1-64 lowercase letters, digits, '-' or '_'")

    @pytest.mark.parametrize("value", ["-1", "x", "2147483648", "1e3"])
    def test_a_malformed_revision(self, value: str, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        line = usage_error(["pause", "analytics.a", "--revision", value, "--store", uri], capsys)
        assert line.endswith(f"argument --revision: {value!r} is not a revision (a whole number, 0 or more)")
