"""``airflow-scheduler schema``: the JSON Schema of a spec, for editors and portal forms."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.cli.deployment import add_builtin_defaults_option, registry_and_policy
from airflow_provider_scheduler.spec.json_schema import spec_json_schema

if TYPE_CHECKING:
    import argparse


def add_schema_command(subparsers: Any) -> None:
    """Add ``schema`` to ``subparsers`` (``ArgumentParser.add_subparsers()``)."""
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
    add_builtin_defaults_option(schema)
    schema.set_defaults(func=cmd_schema, needs_configuration=True)


def cmd_schema(args: argparse.Namespace) -> int:
    """``schema``: print the JSON Schema of a spec."""
    registry, policy = registry_and_policy(args)
    schema = spec_json_schema(registry, policy, namespace=args.namespace)
    json.dump(schema, sys.stdout, indent=args.indent or None)
    sys.stdout.write("\n")
    return 0
