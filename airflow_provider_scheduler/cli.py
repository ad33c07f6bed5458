"""The ``airflow-scheduler`` command.

Subcommands here: ``validate PATH...`` (exit 0 when every spec is valid, else 1; each problem on stderr as
``FILE: SPEC-ID: PATH: MESSAGE``) and ``schema`` (the JSON Schema of a spec, draft 2020-12, with the
registered templates' ``with`` schemas). The spec store adds apply/diff/list/show/history/pause/resume/
delete/export (``store/cli.py``), the DAG factory adds ``status`` (``factory/cli.py``).

Every subcommand sets ``func``: a callable ``(args) -> int`` returning the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_scheduler.spec.policy import GovernancePolicy
    from airflow_provider_scheduler.templates.registry import TemplateRegistry


def _optional_commands(subparsers: Any) -> None:
    """Commands of other parts of the package (each guarded so a missing part never breaks the CLI)."""
    for module, function in (
        ("airflow_provider_scheduler.store.cli", "add_store_commands"),  # STORE helper's commands
        ("airflow_provider_scheduler.factory.cli", "add_factory_commands"),  # FACTORY helper's commands
    ):
        import importlib

        try:
            add = getattr(importlib.import_module(module), function)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        add(subparsers)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="airflow-scheduler",
        description="Validate, publish and manage schedule specs for Airflow.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = subparsers.add_parser(
        "validate",
        help="check spec files (YAML or JSON); exit 1 if any spec is invalid",
        description="Check spec files. Each problem is printed on stderr as FILE: SPEC-ID: PATH: MESSAGE.",
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders ('-' reads stdin)")
    _config_option(validate)
    validate.set_defaults(func=cmd_validate, handler=cmd_validate)

    schema = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of a spec (with the registered templates' 'with' schemas)",
        description="Print the JSON Schema (draft 2020-12) of a version-1 spec.",
    )
    schema.add_argument("--indent", type=int, default=2, help="JSON indentation (default 2)")
    schema.add_argument(
        "--namespace",
        default=None,
        help="only the templates this namespace may use (and namespace fixed), for one team's portal form",
    )
    _config_option(schema)
    schema.set_defaults(func=cmd_schema, handler=cmd_schema)

    _optional_commands(subparsers)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--builtin-defaults",
        action="store_true",
        help="ignore the [schedule_specs] configuration: built-in templates and default limits only "
        "(for CI machines without the deployment's airflow.cfg)",
    )


def _registry_and_policy(args: argparse.Namespace) -> tuple[TemplateRegistry, GovernancePolicy]:
    if getattr(args, "builtin_defaults", False):
        from airflow_provider_scheduler.spec.policy import GovernancePolicy
        from airflow_provider_scheduler.templates.builtins import builtin_templates
        from airflow_provider_scheduler.templates.registry import TemplateRegistry, load_entry_points

        registry = TemplateRegistry(builtin_templates())
        load_entry_points(registry)
        return registry, GovernancePolicy()
    from airflow_provider_scheduler.spec.policy import default_policy
    from airflow_provider_scheduler.templates.registry import default_registry

    return default_registry(), default_policy()


def cmd_validate(args: argparse.Namespace) -> int:
    """``validate PATH...``: 0 when every spec is valid, 1 otherwise (problems on stderr)."""
    import os
    import tempfile

    from airflow_provider_scheduler.spec.errors import SpecError
    from airflow_provider_scheduler.spec.loader import find_spec_files, read_spec_file

    registry, policy = _registry_and_policy(args)
    err = sys.stderr
    paths: list[Any] = []
    stdin_file = None
    for item in args.paths:
        if item == "-":
            data = sys.stdin.buffer.read(policy.max_spec_bytes + 1)
            with tempfile.NamedTemporaryFile("wb", suffix=".yaml", delete=False) as fh:
                fh.write(data)
                stdin_file = fh.name
            paths.append(stdin_file)
        else:
            paths.append(item)
    files = find_spec_files(paths)
    valid = invalid = 0
    seen: dict[str, str] = {}
    try:
        for path in files:
            label = "<stdin>" if str(path) == stdin_file else str(path)
            try:
                results = read_spec_file(path, registry=registry, policy=policy)
            except SpecError as exc:
                for problem in exc.problems:
                    print(f"{label}: -: {problem.path or '(root)'}: {problem.message}", file=err)
                invalid += 1
                continue
            if not results:
                print(f"{label}: -: (root): the file holds an empty list", file=err)
                invalid += 1
            for result in results:
                if isinstance(result, SpecError):
                    invalid += 1
                    spec_id = result.spec_id or "-"
                    for problem in result.problems:
                        print(f"{label}: {spec_id}: {problem.path or '(root)'}: {problem.message}", file=err)
                    continue
                if result.dag_id in seen:
                    invalid += 1
                    other = seen[result.dag_id]
                    print(
                        f"{label}: {result.dag_id}: (root): duplicate spec id; also defined in {other}",
                        file=err,
                    )
                    continue
                seen[result.dag_id] = label
                valid += 1
    finally:
        if stdin_file:
            os.unlink(stdin_file)
    if not files:
        print("no spec files found (.yaml, .yml, .json)", file=err)
        return 1
    word = "spec" if valid == 1 else "specs"
    print(f"{valid} valid {word}, {invalid} invalid, in {len(files)} file(s)")
    return 1 if invalid else 0


def cmd_schema(args: argparse.Namespace) -> int:
    """``schema``: print the JSON Schema of a spec."""
    from airflow_provider_scheduler.spec.json_schema import spec_json_schema

    registry, policy = _registry_and_policy(args)
    schema = spec_json_schema(registry, policy, namespace=args.namespace)
    json.dump(schema, sys.stdout, indent=args.indent or None)
    sys.stdout.write("\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``airflow-scheduler`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    if func in (cmd_validate, cmd_schema):
        try:
            _registry_and_policy(args)
        except ValueError as exc:  # a malformed [schedule_specs] option: say which, no traceback
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
    return int(func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
