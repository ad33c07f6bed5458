"""``airflow-scheduler`` commands that work on a spec store: apply, diff, list, show, history, pause,
resume, delete and export.

Each command's function takes the parsed arguments and returns the exit code (0 success, 1 invalid
input or a failed store operation). ``apply`` and ``diff`` read their input with
:func:`~airflow_provider_scheduler.spec.batch.read_spec_batch` and plan with
:func:`~airflow_provider_scheduler.store.apply.plan_apply`, as the GitOps operator does.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import yaml

from airflow_provider_scheduler.spec.batch import read_spec_batch
from airflow_provider_scheduler.store import open_store
from airflow_provider_scheduler.store.apply import Action, ApplyPlan, apply_plan, plan_apply
from airflow_provider_scheduler.store.base import default_author, spec_to_yaml
from airflow_provider_scheduler.store.errors import StoreError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from airflow_provider_scheduler.spec.model import ScheduleSpec
    from airflow_provider_scheduler.store.base import ScheduleStore, StoredSpec


def add_store_commands(subparsers: Any) -> None:
    """Add the store commands to ``subparsers`` (``ArgumentParser.add_subparsers()``); each sets ``func``."""

    def command(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument(
            "--store",
            metavar="URI",
            default=None,
            help="store URI (default: the [schedule_specs] store option, else SQLite in AIRFLOW_HOME)",
        )
        parser.set_defaults(func=handler)
        return parser

    def author_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--author", default=None, help="who makes the change (default: $USER)")

    apply = command("apply", "validate spec files, show the diff and store them as one batch", cmd_apply)
    apply.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders ('-' reads stdin)")
    author_option(apply)
    apply.add_argument("--dry-run", action="store_true", help="validate and show the diff, store nothing")

    diff = command("diff", "show what applying spec files would change", cmd_diff)
    diff.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders ('-' reads stdin)")

    listing = command("list", "list stored specs", cmd_list)
    listing.add_argument("--namespace", default=None, help="only this namespace")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    show = command("show", "print a stored spec as YAML", cmd_show)
    show.add_argument("spec_id", metavar="ID", help="spec id (<namespace>.<name>)")

    history = command("history", "list every revision of a spec", cmd_history)
    history.add_argument("spec_id", metavar="ID")

    for name, verb in (
        ("pause", "pause"),
        ("resume", "resume"),
        ("delete", "delete (soft; kept in history)"),
    ):
        parser = command(name, f"{verb} a stored spec", _state_command(name))
        parser.add_argument("spec_id", metavar="ID")
        author_option(parser)
        parser.add_argument(
            "--revision",
            type=int,
            default=None,
            metavar="N",
            help="fail unless the spec is at revision N (optimistic concurrency)",
        )

    export = command("export", "print stored specs as YAML that `apply` accepts back", cmd_export)
    export.add_argument("--namespace", default=None, help="only this namespace")


# helpers -------------------------------------------------------------------------------------
def _open(args: argparse.Namespace) -> ScheduleStore:
    return open_store(args.store)


def _load_specs(paths: list[str]) -> list[ScheduleSpec] | None:
    """Load and validate every spec of ``paths``; print every problem on stderr and return None if any."""
    batch = read_spec_batch(paths)
    for line in batch.problem_lines():
        print(line, file=sys.stderr)
    if not batch.ok:
        return None
    if not batch.specs:
        print("no specs found in " + " ".join(paths), file=sys.stderr)
        return None
    return batch.specs


def _run(handler: Any, args: argparse.Namespace) -> int:
    try:
        return int(handler(args))
    except StoreError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def _stored_json(stored: StoredSpec) -> dict[str, Any]:
    return {
        "id": stored.id,
        "namespace": stored.namespace,
        "name": stored.name,
        "revision": stored.revision,
        "paused": stored.paused,
        "deleted": stored.deleted,
        "author": stored.author,
        "updated_at": stored.updated_at.isoformat(),
        "spec": stored.spec,
    }


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


# commands ------------------------------------------------------------------------------------
def cmd_apply(args: argparse.Namespace) -> int:
    """``apply PATH... [--author NAME] [--dry-run]``: all specs valid or nothing is applied."""
    return _run(_apply, args)


def _apply(args: argparse.Namespace) -> int:
    specs = _load_specs(args.paths)
    if specs is None:
        print("nothing applied: fix the problems above", file=sys.stderr)
        return 1
    with _open(args) as store:
        plan = plan_apply(store, specs)
        sys.stdout.write(plan.diff_text())
        changed = len(plan.changed)
        if args.dry_run:
            print(f"dry run: {changed} of {len(specs)} spec(s) would change; nothing applied")
            return 0
        revisions = apply_plan(store, plan, author=args.author or default_author())
    _print_applied(plan, revisions)
    return 0


def _print_applied(plan: ApplyPlan, revisions: dict[str, int]) -> None:
    for change in plan.changes:
        if change.action is Action.UNCHANGED:
            print(f"unchanged {change.spec_id} at revision {revisions[change.spec_id]}")
        else:
            print(f"applied {change.spec_id} as revision {revisions[change.spec_id]}")


def cmd_diff(args: argparse.Namespace) -> int:
    """``diff PATH...``: unified diff between the files and the store (exit 1 on invalid specs)."""
    return _run(_diff, args)


def _diff(args: argparse.Namespace) -> int:
    specs = _load_specs(args.paths)
    if specs is None:
        return 1
    with _open(args) as store:
        plan = plan_apply(store, specs)
    sys.stdout.write(plan.diff_text())
    print(f"{len(plan.changed)} of {len(specs)} spec(s) differ from the store")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """``list [--namespace NS] [--json]``."""
    return _run(_list, args)


def _list(args: argparse.Namespace) -> int:
    with _open(args) as store:
        # a spec the store cannot read is listed as damaged (with why), never a traceback
        specs = store.list(namespace=args.namespace, include_damaged=True)
    if args.json:
        print(json.dumps([{**_stored_json(s), "damaged": s.damaged} for s in specs], indent=2))
        return 0
    rows = [("ID", "REVISION", "PAUSED", "AUTHOR", "UPDATED")]
    rows += [
        (
            s.id,
            str(s.revision),
            ("yes" if s.paused else "no") if s.damaged is None else f"damaged: {s.damaged}",
            s.author,
            s.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
        for s in specs
    ]
    _print_table(rows)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """``show ID``: the stored spec as YAML, with its revision in a comment."""
    return _run(_show, args)


def _show(args: argparse.Namespace) -> int:
    with _open(args) as store:
        stored = store.require(args.spec_id, include_deleted=True)
    state = "deleted, " if stored.deleted else ""
    print(
        f"# {stored.id}: {state}revision {stored.revision} by {stored.author} "
        f"at {stored.updated_at.isoformat(timespec='seconds')}"
    )
    sys.stdout.write(spec_to_yaml(stored.spec))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """``history ID``: every revision, oldest first."""
    return _run(_history, args)


def _history(args: argparse.Namespace) -> int:
    with _open(args) as store:
        revisions = store.history(args.spec_id)
    rows = [("REVISION", "ACTION", "AUTHOR", "TIME")]
    rows += [
        (str(r.revision), r.action, r.author, r.updated_at.isoformat(timespec="seconds")) for r in revisions
    ]
    _print_table(rows)
    return 0


def _state_command(action: str) -> Any:
    past = {"pause": "paused", "resume": "resumed", "delete": "deleted"}[action]

    def handler(args: argparse.Namespace) -> int:
        def run(args: argparse.Namespace) -> int:
            with _open(args) as store:
                before = store.require(args.spec_id)
                method = getattr(store, action)
                revision = method(
                    args.spec_id, author=args.author or default_author(), expected_revision=args.revision
                )
            if revision == before.revision:
                print(f"{args.spec_id} is already {past} (revision {revision})")
            else:
                print(f"{past} {args.spec_id} as revision {revision}")
            return 0

        return _run(run, args)

    handler.__name__ = f"cmd_{action}"
    handler.__doc__ = f"``{action} ID [--author NAME] [--revision N]``."
    return handler


def cmd_export(args: argparse.Namespace) -> int:
    """``export [--namespace NS]``: a YAML list of the stored specs; ``apply`` accepts it back."""
    return _run(_export, args)


def _export(args: argparse.Namespace) -> int:
    with _open(args) as store:
        specs = store.list(namespace=args.namespace)
    if not specs:
        print("[]")
        return 0
    text = yaml.safe_dump(
        [s.spec for s in specs], sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )
    sys.stdout.write(text)
    return 0
