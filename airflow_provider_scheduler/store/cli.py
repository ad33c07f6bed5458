"""``airflow-scheduler`` commands that work on a spec store: apply, diff, list, show, history, pause,
resume, delete and export.

:func:`add_store_commands` adds them to the CLI's argparse sub-parsers; each command's handler takes
the parsed arguments and returns the exit code (0 success, 1 invalid input or a failed store operation).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import argparse

    from airflow_provider_scheduler.spec import ScheduleSpec, SpecError
    from airflow_provider_scheduler.store.base import ScheduleStore, StoredSpec

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def add_store_commands(subparsers: Any) -> None:
    """Add the store commands to ``subparsers`` (the result of ``ArgumentParser.add_subparsers()``).

    Each sub-parser sets ``func`` (and ``handler``) to a callable ``(args) -> int``.
    """

    def command(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument(
            "--store",
            metavar="URI",
            default=None,
            help="store URI (default: the [schedule_specs] store option, else SQLite in AIRFLOW_HOME)",
        )
        parser.set_defaults(func=handler, handler=handler)
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
    from airflow_provider_scheduler.store import open_store

    return open_store(args.store)


def _spec_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix in SPEC_SUFFIXES
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            files.append(path)
    return files


def _problem_lines(err: SpecError, source: str) -> list[str]:
    spec_id = err.spec_id or "-"
    return [f"{source}: {spec_id}: {p.path or '(root)'}: {p.message}" for p in err.problems]


def _load_specs(paths: list[str], err_out: TextIO) -> list[ScheduleSpec] | None:
    """Load and validate every spec of ``paths``; print every problem and return None if any.

    Problems are printed like ``validate`` prints them: ``FILE: SPEC-ID: PATH: MESSAGE``.
    """
    from airflow_provider_scheduler.spec import SpecError
    from airflow_provider_scheduler.spec.loader import read_spec_file

    specs: list[ScheduleSpec] = []
    seen: dict[str, str] = {}
    ok = True
    files = _spec_files([p for p in paths if p != "-"])
    for path in files + ([Path("-")] if "-" in paths else []):
        source = "<stdin>" if str(path) == "-" else str(path)
        try:
            results = _read_stdin(read_spec_file) if str(path) == "-" else read_spec_file(path)
        except SpecError as err:
            for line in _problem_lines(err, source):
                print(line, file=err_out)
            ok = False
            continue
        for result in results:
            if isinstance(result, SpecError):
                for line in _problem_lines(result, source):
                    print(line, file=err_out)
                ok = False
                continue
            if result.dag_id in seen:
                print(
                    f"{source}: {result.dag_id}: (root): also defined in {seen[result.dag_id]}", file=err_out
                )
                ok = False
                continue
            seen[result.dag_id] = source
            specs.append(result)
    if not specs and ok:
        print("no specs found in " + " ".join(paths), file=err_out)
        return None
    return specs if ok else None


def _read_stdin(read_spec_file: Any) -> list[Any]:
    text = sys.stdin.read()
    fd, name = tempfile.mkstemp(suffix=".yaml", prefix="airflow-scheduler-stdin-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        return read_spec_file(Path(name))  # type: ignore[no-any-return]
    finally:
        os.unlink(name)


def _run(handler: Any, args: argparse.Namespace) -> int:
    from airflow_provider_scheduler.store.errors import StoreError

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


# commands ------------------------------------------------------------------------------------
def cmd_apply(args: argparse.Namespace) -> int:
    """``apply PATH... [--author NAME] [--dry-run]``: all specs valid or nothing is applied."""
    return _run(_apply, args)


def _apply(args: argparse.Namespace) -> int:
    from airflow_provider_scheduler.store.base import default_author

    specs = _load_specs(args.paths, sys.stderr)
    if specs is None:
        print("nothing applied: fix the problems above", file=sys.stderr)
        return 1
    with _open(args) as store:
        changed = _print_diffs(store, specs)
        if args.dry_run:
            print(f"dry run: {len(changed)} of {len(specs)} spec(s) would change; nothing applied")
            return 0
        revisions = store.put_many(specs, author=args.author or default_author())
    for spec, revision in zip(specs, revisions, strict=True):
        if spec.dag_id in changed:
            print(f"applied {spec.dag_id} as revision {revision}")
        else:
            print(f"unchanged {spec.dag_id} at revision {revision}")
    return 0


def _print_diffs(store: ScheduleStore, specs: list[ScheduleSpec]) -> set[str]:
    changed: set[str] = set()
    for spec in specs:
        text = store.diff(spec)
        if text:
            changed.add(spec.dag_id)
            sys.stdout.write(text)
    return changed


def cmd_diff(args: argparse.Namespace) -> int:
    """``diff PATH...``: unified diff between the files and the store (exit 1 on invalid specs)."""
    return _run(_diff, args)


def _diff(args: argparse.Namespace) -> int:
    specs = _load_specs(args.paths, sys.stderr)
    if specs is None:
        return 1
    with _open(args) as store:
        changed = _print_diffs(store, specs)
    print(f"{len(changed)} of {len(specs)} spec(s) differ from the store")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """``list [--namespace NS] [--json]``."""
    return _run(_list, args)


def _list(args: argparse.Namespace) -> int:
    with _open(args) as store:
        specs = store.list(namespace=args.namespace)
    if args.json:
        print(json.dumps([_stored_json(s) for s in specs], indent=2))
        return 0
    rows = [("ID", "REVISION", "PAUSED", "AUTHOR", "UPDATED")]
    rows += [
        (
            s.id,
            str(s.revision),
            "yes" if s.paused else "no",
            s.author,
            s.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
        for s in specs
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """``show ID``: the stored spec as YAML, with its revision in a comment."""
    return _run(_show, args)


def _show(args: argparse.Namespace) -> int:
    from airflow_provider_scheduler.store.base import spec_to_yaml

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
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _state_command(action: str) -> Any:
    past = {"pause": "paused", "resume": "resumed", "delete": "deleted"}[action]

    def handler(args: argparse.Namespace) -> int:
        def run(args: argparse.Namespace) -> int:
            from airflow_provider_scheduler.store.base import default_author

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
    import yaml

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
