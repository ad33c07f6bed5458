"""Every corpus case gets its expected answer, through the Python API and the CLI, within a bound.

The bound (``hang_guard``, 30 s per case and path) is a guard against hangs, not a speed assertion;
``benchmarks/validate.py`` measures the times.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from typing import TYPE_CHECKING

import pytest
from adversarial_cases import Case, all_cases
from hang_guard import answered

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.cli.deployment import registry_and_policy
from airflow_provider_scheduler.spec import SpecError
from airflow_provider_scheduler.spec.errors import problem_lines
from airflow_provider_scheduler.spec.loader import read_spec_file

if TYPE_CHECKING:
    from pathlib import Path

CASES = all_cases()


def test_the_corpus_has_both_outcomes_and_unique_names():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert {case.expected for case in CASES} == {"accepted", "refused"}
    assert all(case.expect for case in CASES if case.expected == "refused"), [
        case.name for case in CASES if case.expected == "refused" and not case.expect
    ]


def api_problem_lines(path: Path) -> list[str]:
    """Read and validate ``path`` the way the CLI does (built-in templates and limits); problem lines."""
    registry, policy = registry_and_policy(argparse.Namespace(builtin_defaults=True))
    try:
        results = read_spec_file(path, catalog=registry, policy=policy)
    except SpecError as err:  # a file-level problem (unreadable, too large, not JSON/YAML)
        return problem_lines(err)
    return [line for r in results if isinstance(r, SpecError) for line in problem_lines(r, str(path))]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_python_api(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    lines = answered(lambda: api_problem_lines(path))
    if case.expected == "accepted":
        assert lines == []
        return
    assert lines, "refused case was accepted"
    for line in lines:  # FILE: SPEC: PATH: MESSAGE
        assert line.startswith(f"{path}: "), line
        assert len(line.split(": ", 3)) == 4, line
    text = "\n".join(lines)
    for wanted in case.expect:
        assert wanted in text


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_cli_validate(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(["validate", "--builtin-defaults", str(path)])

    code = answered(run)
    output = out.getvalue() + err.getvalue()
    assert "Traceback" not in output
    if case.expected == "accepted":
        assert (code, err.getvalue()) == (0, "")
        assert " valid spec" in out.getvalue()
        return
    assert code == 1, output
    problems = err.getvalue().splitlines()
    assert problems
    assert all(line.startswith(f"{path}: ") for line in problems), problems[:5]
    for wanted in case.expect:
        assert wanted in err.getvalue()
