"""Issue 13 rows 10 (spec parts), 11 and 12: bad input is refused with its path, never a traceback,
and whatever ``validate`` accepts can be stored, exported, re-applied and built.

Each case goes through the CLI (``validate`` and ``apply``, in-process) and, where it matters, the
Python API. The cron cases are in ``test_cron_gaps.py``; this file holds the corpus of crons, long
integers, durations and texts (``CORPUS``) that a coordinator can merge into the shared corpus.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.spec import SpecError, parse_spec
from airflow_provider_scheduler.spec.files import read_stdin
from airflow_provider_scheduler.spec.loader import parse_document
from airflow_provider_scheduler.store import open_store

if TYPE_CHECKING:
    from pathlib import Path

BASE: dict[str, Any] = {
    "version": 1,
    "namespace": "qa",
    "name": "edge",
    "schedule": "@daily",
    "start_date": "2026-01-01",
    "tasks": [{"id": "a", "template": "empty"}],
}
LONG = "9" * 5000


def spec_with(**changes: Any) -> dict[str, Any]:
    spec = json.loads(json.dumps(BASE))
    spec.update(changes)
    return spec


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def validate(capsys: pytest.CaptureFixture[str], path: Path | str) -> tuple[int, str, str]:
    return run_cli(capsys, "validate", "--builtin-defaults", str(path))


class FakeStdin:
    """``sys.stdin`` with a byte buffer, like the real one."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)

    def read(self, n: int = -1) -> str:  # pragma: no cover - read_stdin uses the buffer
        raise AssertionError("the text layer must not be used")


# -- row 10: long integers, non-UTF-8 input ---------------------------------------------------------


class TestLongIntegers:
    def test_yaml_integer_over_4300_digits(self, tmp_path, capsys):
        path = tmp_path / "long.yaml"
        path.write_text(yaml.safe_dump(BASE, sort_keys=False) + f"max_active_runs: {LONG}\n")
        code, _, err = validate(capsys, path)
        assert code == 1
        assert err == (
            f"{path}: qa.edge: max_active_runs: is a number with 5000 digits; numbers in a spec have "
            "at most 4300 digits\n"
        )

    def test_json_integer_over_4300_digits_inside_with(self, tmp_path, capsys):
        path = tmp_path / "long.json"
        text = json.dumps(spec_with(tasks=[{"id": "a", "template": "trigger_dag", "with": {"dag_id": "x"}}]))
        path.write_text(text.replace('"dag_id": "x"', f'"dag_id": "x", "conf": {{"n": -{LONG}}}'))
        code, _, err = validate(capsys, path)
        assert code == 1
        assert err == (
            f"{path}: qa.edge: tasks[0].with.conf.n: is a number with 5000 digits; numbers in a spec "
            "have at most 4300 digits\n"
        )

    def test_one_long_integer_costs_only_its_spec_in_a_list_file(self, tmp_path, capsys):
        path = tmp_path / "list.yaml"
        second = spec_with(name="other")
        path.write_text(
            yaml.safe_dump([BASE, second]).replace("name: other", f"name: other\n  retries_x: {LONG}")
        )
        code, out, err = validate(capsys, path)
        assert code == 1
        assert err == (
            f"{path}: qa.other: [1].retries_x: is a number with 5000 digits; numbers in a spec have "
            "at most 4300 digits\n"
        )
        assert out == "1 valid spec, 1 invalid, in 1 file(s)\n"

    def test_apply_refuses_and_stores_nothing(self, tmp_path, capsys):
        path = tmp_path / "long.yaml"
        path.write_text(yaml.safe_dump(BASE, sort_keys=False) + f"max_active_runs: {LONG}\n")
        uri = f"sqlite:///{tmp_path / 's.db'}"
        code, _, err = run_cli(capsys, "apply", str(path), "--store", uri)
        assert code == 1
        assert "max_active_runs: is a number with 5000 digits" in err
        assert "Traceback" not in err
        with open_store(uri) as store:
            assert store.list() == []

    @pytest.mark.parametrize("where", ["max_active_runs", "with", "version", "trigger_rule", "role"])
    def test_python_api_long_int_is_refused_with_its_path(self, where, registry):
        huge = 10**5000
        spec = spec_with(tasks=[{"id": "a", "template": "trigger_dag", "with": {"dag_id": "x"}}])
        path = where
        if where == "with":
            spec["tasks"][0]["with"]["conf"] = {"n": huge}
            path = "tasks[0].with.conf.n"
        elif where in ("trigger_rule", "role"):
            spec["tasks"][0][where] = huge
            path = f"tasks[0].{where}"
        else:
            spec[where] = huge
        with pytest.raises(SpecError) as err:
            parse_spec(spec, registry=registry)
        assert (
            path,
            "is a number with more than 4300 digits; numbers in a spec have at most 4300 digits",
        ) in [tuple(p) for p in err.value.problems]

    def test_parse_document_reports_the_path(self):
        with pytest.raises(SpecError) as err:
            parse_document(f"a: [1, {LONG}]\n")
        assert [tuple(p) for p in err.value.problems] == [
            ("a[1]", "is a number with 5000 digits; numbers in a spec have at most 4300 digits")
        ]


class TestNotUtf8:
    LATIN1 = yaml.safe_dump(spec_with(description="café"), allow_unicode=True).encode("latin-1")

    def test_file(self, tmp_path, capsys):
        path = tmp_path / "latin1.yaml"
        path.write_bytes(self.LATIN1)
        code, _, err = validate(capsys, path)
        assert code == 1
        assert err.splitlines() == [
            f"{path}: -: (root): the file is not UTF-8 text (invalid continuation byte at byte "
            f"{self.LATIN1.index(b'caf') + 3})"
        ]

    @pytest.mark.parametrize("command", ["validate", "apply"])
    def test_stdin(self, command, tmp_path, capsys, monkeypatch):
        monkeypatch.setattr("sys.stdin", FakeStdin(self.LATIN1))
        argv = [command, "-"] + (
            ["--builtin-defaults"] if command == "validate" else ["--store", f"sqlite:///{tmp_path / 's.db'}"]
        )
        code, _, err = run_cli(capsys, *argv)
        assert code == 1
        assert err.splitlines()[0].startswith("<stdin>: -: (root): the input is not UTF-8 text (")

    def test_closed_stdin(self, capsys, monkeypatch):
        monkeypatch.setattr("sys.stdin", None)
        code, _, err = run_cli(capsys, "validate", "--builtin-defaults", "-")
        assert code == 1
        assert err == "<stdin>: -: (root): stdin is closed: nothing to read for '-'\n"

    def test_unreadable_stdin(self):
        class Broken:
            class buffer:  # mimics sys.stdin.buffer
                @staticmethod
                def read(n: int) -> bytes:
                    raise OSError(21, "Is a directory")

        with pytest.raises(SpecError) as err:
            read_stdin(100, Broken())
        assert str(err.value) == "(root): cannot read stdin: Is a directory"

    def test_byte_order_mark_is_accepted_in_json(self, tmp_path, capsys):
        path = tmp_path / "bom.json"
        path.write_bytes(b"\xef\xbb\xbf" + json.dumps(BASE).encode())
        code, _, err = validate(capsys, path)
        assert (code, err) == (0, "")
