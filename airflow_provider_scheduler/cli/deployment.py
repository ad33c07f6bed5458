"""The templates and limits a command validates against: the deployment's, or the built-in ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_scheduler.spec.policy import GovernancePolicy, default_policy
from airflow_provider_scheduler.templates.builtins import builtin_templates
from airflow_provider_scheduler.templates.registry import (
    TemplateRegistry,
    default_registry,
    load_entry_points,
)

if TYPE_CHECKING:
    import argparse


def add_builtin_defaults_option(parser: argparse.ArgumentParser) -> None:
    """``--builtin-defaults``: validate without the deployment's ``[schedule_specs]`` configuration."""
    parser.add_argument(
        "--builtin-defaults",
        action="store_true",
        help="ignore the [schedule_specs] configuration: built-in templates and default limits only "
        "(for CI machines without the deployment's airflow.cfg)",
    )


def registry_and_policy(args: argparse.Namespace) -> tuple[TemplateRegistry, GovernancePolicy]:
    """The template registry and policy ``args`` select.

    :raises ValueError: a ``[schedule_specs]`` option is malformed.
    """
    if getattr(args, "builtin_defaults", False):
        registry = TemplateRegistry(builtin_templates())
        load_entry_points(registry)
        return registry, GovernancePolicy()
    return default_registry(), default_policy()
