"""The ``airflow-scheduler`` command: one front door for specs, the store and the loaders.

Subcommands: ``validate`` and ``schema`` (no store needed), ``apply``, ``diff``, ``list``, ``show``,
``history``, ``rollback``, ``pause``, ``resume``, ``delete``, ``export`` and ``edit`` (a spec store),
``status`` (what the DAG loaders did), ``backfill`` (Airflow's backfill API through a ``scheduler``
connection), ``templates`` (the templates a spec may name, their versions and ``with`` schemas).
Every subcommand sets ``func``, a callable ``(args) -> int`` returning the exit code.
Spec files are found by the rule of :mod:`airflow_provider_scheduler.spec.files`; every problem is
printed as ``FILE: SPEC-ID: PATH: MESSAGE``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from airflow_provider_scheduler.cli.backfill import add_backfill_command
from airflow_provider_scheduler.cli.deployment import registry_and_policy
from airflow_provider_scheduler.cli.edit import add_edit_command
from airflow_provider_scheduler.cli.schema import add_schema_command
from airflow_provider_scheduler.cli.status import add_status_command
from airflow_provider_scheduler.cli.store_commands import add_store_commands
from airflow_provider_scheduler.cli.templates import add_templates_command
from airflow_provider_scheduler.cli.validate import add_validate_command

if TYPE_CHECKING:
    from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="airflow-scheduler",
        description="Validate, publish and manage schedule specs for Airflow.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_validate_command(subparsers)
    add_schema_command(subparsers)
    add_store_commands(subparsers)
    add_edit_command(subparsers)
    add_status_command(subparsers)
    add_backfill_command(subparsers)
    add_templates_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``airflow-scheduler`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    if getattr(args, "needs_configuration", False):
        try:
            registry_and_policy(args)
        except ValueError as exc:  # a malformed [schedule_specs] option: say which, no traceback
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
