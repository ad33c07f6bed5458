"""``airflow-scheduler validate PATH...``: check spec files without a store."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.cli.deployment import add_builtin_defaults_option, registry_and_policy
from airflow_provider_scheduler.spec.batch import read_spec_batch

if TYPE_CHECKING:
    import argparse


def add_validate_command(subparsers: Any) -> None:
    """Add ``validate`` to ``subparsers`` (``ArgumentParser.add_subparsers()``)."""
    validate = subparsers.add_parser(
        "validate",
        help="check spec files (YAML or JSON); exit 1 if any spec is invalid",
        description="Check spec files. Each problem is printed on stderr as FILE: SPEC-ID: PATH: MESSAGE.",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders ('-' reads stdin)")
    add_builtin_defaults_option(validate)
    validate.set_defaults(func=cmd_validate, needs_configuration=True)


def cmd_validate(args: argparse.Namespace) -> int:
    """``validate PATH...``: 0 when every spec is valid, 1 otherwise (problems on stderr)."""
    registry, policy = registry_and_policy(args)
    batch = read_spec_batch(args.paths, catalog=registry, policy=policy, empty_file_is_error=True)
    for line in batch.problem_lines():
        print(line, file=sys.stderr)
    if not batch.files and batch.ok:
        print("no spec files found (.yaml, .yml, .json)", file=sys.stderr)
        return 1
    valid, invalid = len(batch.specs), len(batch.errors)
    word = "spec" if valid == 1 else "specs"
    print(f"{valid} valid {word}, {invalid} invalid, in {len(batch.files)} file(s)")
    return 1 if invalid else 0
