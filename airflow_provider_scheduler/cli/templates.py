"""``airflow-scheduler templates [NAME]``: the task and notification templates a spec may name.

Lists every registered template with its versions (the default marked, retired ones marked), its
description and whether it is enabled on this deployment and where the ``allowed_templates`` policy
lets it be used. ``NAME`` (or ``NAME@VERSION``) shows one template in full, with each version's
``with`` JSON Schema. ``--json`` prints the same as JSON for machines. Exit 1 for an unknown NAME.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.cli.deployment import add_builtin_defaults_option, registry_and_policy
from airflow_provider_scheduler.spec.catalog import split_template_ref
from airflow_provider_scheduler.spec.parser import did_you_mean

if TYPE_CHECKING:
    import argparse

    from airflow_provider_scheduler.spec.policy import GovernancePolicy
    from airflow_provider_scheduler.templates.registry import TemplateRegistry

_KINDS = (("task", False), ("notification", True))


def add_templates_command(subparsers: Any) -> None:
    """Add ``templates`` to ``subparsers`` (``ArgumentParser.add_subparsers()``); sets ``func``."""
    parser = subparsers.add_parser(
        "templates",
        help="list the task and notification templates, their versions and 'with' schemas",
        description=__doc__,
    )
    parser.add_argument("name", nargs="?", default=None, help="one template (NAME or NAME@VERSION) in full")
    parser.add_argument(
        "--namespace", default=None, help="also say whether this namespace may use each template"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_builtin_defaults_option(parser)
    parser.set_defaults(func=cmd_templates, needs_configuration=True)


def describe_templates(
    registry: TemplateRegistry, policy: GovernancePolicy, namespace: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every template as data: ``{"task_templates": [...], "notification_templates": [...]}``.

    Each entry: ``name``, ``kind``, ``enabled`` (and ``why_not`` when a namespace may not use it),
    ``allowed_in`` (the ``allowed_templates`` namespaces listing it; None: no allow-list),
    ``default_version`` (None: every version retired), ``default_version_problem`` (a configured
    default that is not used) and ``versions``: ``version``, ``default``, ``retired``,
    ``description``, ``with_schema``.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    allow = policy.allowed_templates
    for kind, notifiers in _KINDS:
        entries = []
        for name in registry.notifier_names() if notifiers else registry.names():
            default = registry.default_version(name, notifiers=notifiers)
            why = registry.why_not_allowed(name, namespace)
            if why is None and namespace is not None and not policy.allows_template(name, namespace):
                why = f"the template {name!r} is not allowed in namespace {namespace!r} (allowed_templates)"
            entry: dict[str, Any] = {
                "name": name,
                "kind": kind,
                "enabled": registry.is_enabled(name),
                "allowed_in": None
                if allow is None
                else sorted(ns for ns, names in allow.items() if name in names),
                "default_version": default,
                "default_version_problem": registry.default_version_problem(name, notifiers=notifiers),
                "versions": [
                    {
                        "version": version,
                        "default": version == default,
                        "retired": registry.is_retired(name, version, notifiers=notifiers),
                        "description": template.description,
                        "with_schema": template.with_schema,
                    }
                    for version in registry.template_versions(name, notifiers=notifiers)
                    if (template := registry.get_version(name, version, notifiers=notifiers)) is not None
                ],
            }
            if namespace is not None:
                entry["namespace"] = namespace
                entry["allowed"] = why is None
            if why is not None:
                entry["why_not"] = why
            entries.append(entry)
        out[f"{kind}_templates"] = entries
    return out


def _versions_text(entry: dict[str, Any]) -> str:
    parts = []
    for v in entry["versions"]:
        marks = [m for m, on in (("default", v["default"]), ("retired", v["retired"])) if on]
        parts.append(f"@{v['version']}" + (f" ({', '.join(marks)})" if marks else ""))
    return ", ".join(parts)


def _state_text(entry: dict[str, Any]) -> str:
    if not entry["enabled"]:
        return "disabled"
    if "allowed" in entry:
        return "allowed" if entry["allowed"] else "not allowed"
    if entry["allowed_in"] is not None:
        return f"enabled; allowed in: {', '.join(entry['allowed_in']) or 'no namespace'}"
    return "enabled"


def cmd_templates(args: argparse.Namespace) -> int:
    """``templates [NAME] [--namespace NS] [--json]``: 1 when NAME is not a registered template."""
    registry, policy = registry_and_policy(args)
    report = describe_templates(registry, policy, args.namespace)
    entries = [*report["task_templates"], *report["notification_templates"]]
    if args.name is None:
        if args.json:
            print(json.dumps(report, indent=2, sort_keys=True))
            return 0
        for kind, _ in _KINDS:
            listed = report[f"{kind}_templates"]
            print(f"{kind.capitalize()} templates:")
            width = max((len(e["name"]) for e in listed), default=0)
            for entry in listed:
                default = next((v for v in entry["versions"] if v["default"]), None)
                description = (default or entry["versions"][-1])["description"] if entry["versions"] else ""
                print(f"  {entry['name']:<{width}}  {_versions_text(entry)}  [{_state_text(entry)}]")
                if description:
                    print(f"  {'':<{width}}  {description}")
                if entry["default_version_problem"]:
                    print(f"  {'':<{width}}  note: {entry['default_version_problem']}")
            print()
        print(
            "NAME without @ means the default version; "
            "`airflow-scheduler templates NAME` shows its 'with' schemas."
        )
        return 0
    ref = split_template_ref(args.name)
    name, version = ref if ref is not None else (args.name, None)
    matches = [e for e in entries if e["name"] == name]
    if version is not None:
        matches = [
            {**e, "versions": [v for v in e["versions"] if v["version"] == version]}
            for e in matches
            if any(v["version"] == version for v in e["versions"])
        ]
    if not matches:
        names = sorted({e["name"] for e in entries})
        known = [e for e in entries if e["name"] == name]
        if known:
            versions = ", ".join(str(v["version"]) for e in known for v in e["versions"])
            print(
                f"error: the template {name!r} has no version {version}; versions: {versions}",
                file=sys.stderr,
            )
        else:
            print(
                f"error: no template named {name!r}{did_you_mean(name, names)}; "
                f"templates: {', '.join(names)}",
                file=sys.stderr,
            )
        return 1
    if args.json:
        print(json.dumps(matches[0] if len(matches) == 1 else matches, indent=2, sort_keys=True))
        return 0
    for entry in matches:
        print(f"{entry['name']} ({entry['kind']} template): {_state_text(entry)}")
        if entry.get("why_not"):
            print(f"  {entry['why_not']}")
        default = entry["default_version"]
        print(f"  default version: {default if default is not None else 'none (every version is retired)'}")
        if entry["default_version_problem"]:
            print(f"  note: {entry['default_version_problem']}")
        for v in entry["versions"]:
            marks = [m for m, on in (("default", v["default"]), ("retired", v["retired"])) if on]
            print()
            print(f"  {entry['name']}@{v['version']}" + (f" ({', '.join(marks)})" if marks else ""))
            if v["description"]:
                print(f"    {v['description']}")
            print("    with:")
            for line in json.dumps(v["with_schema"], indent=2, sort_keys=True).splitlines():
                print(f"      {line}")
        print()
    return 0
