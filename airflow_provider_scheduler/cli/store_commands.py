"""``airflow-scheduler`` commands that work on a spec store: apply, diff, list, show, history, rollback,
pause, resume, delete and export.

Each command's function takes the parsed arguments and returns the exit code (0 success, 1 invalid
input or a failed store operation, 2 a malformed argument). ``apply`` and ``diff`` read their input with
:func:`~airflow_provider_scheduler.spec.batch.read_spec_batch` and plan with
:func:`~airflow_provider_scheduler.store.apply.plan_apply`, as the GitOps operator does.

Lost-update protection: ``export`` and ``show`` write each spec's store revision as the top-level key
``x-base-revision``; ``apply`` (and ``edit``, see :mod:`.edit`) pass it to the planner, which refuses
to overwrite a spec that changed since that revision. ``apply --expected-revision N`` says the same
for a single spec on the command line; ``--ignore-base-revision`` overwrites on purpose.

Old revisions: ``show ID --revision N`` prints revision N as ``show`` prints the current one, and
``rollback ID --to N`` writes revision N's content as a new revision, through the same planner
(:mod:`airflow_provider_scheduler.store.rollback`): validated as today's policy has it, diffed,
checked against ``--expected-revision`` and the revision it was planned against.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

import yaml

from airflow_provider_scheduler.cli.reparse import tell_airflow
from airflow_provider_scheduler.factory.status import spec_state
from airflow_provider_scheduler.spec.batch import SpecBatch, read_spec_batch
from airflow_provider_scheduler.spec.canonical import pin_template_versions
from airflow_provider_scheduler.spec.loader import BASE_REVISION_KEY
from airflow_provider_scheduler.spec.parser import SLUG
from airflow_provider_scheduler.store import open_store
from airflow_provider_scheduler.store.apply import Action, ApplyPlan, apply_plan, plan_apply
from airflow_provider_scheduler.store.base import check_author, default_author, spec_to_yaml
from airflow_provider_scheduler.store.errors import InvalidAuthorError, RevisionInvalidError, StoreError
from airflow_provider_scheduler.store.rollback import apply_rollback, find_revision, plan_rollback

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_scheduler.store.base import ScheduleStore, SpecRevision, StoredSpec

MAX_REVISION = 2**31 - 1  # the SQL store's revision column


# argument types: a malformed argument is a usage error (exit 2) before any store is opened -----------
def _shown(text: str) -> str:
    shown = repr(text)  # escapes newlines and lone surrogates from a non-UTF-8 command line
    return shown if len(shown) <= 80 else shown[:77] + "..."


def spec_id_arg(text: str) -> str:
    """An argparse type: ``NAMESPACE.NAME`` as the parser derives spec ids (so no store is asked in vain)."""
    namespace, dot, name = text.partition(".")
    if not dot or not SLUG.fullmatch(namespace) or not SLUG.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is not a spec id: expected NAMESPACE.NAME, each 1-64 lowercase letters, "
            "digits, '-' or '_'"
        )
    return text


def namespace_arg(text: str) -> str:
    """An argparse type: a namespace slug."""
    if not SLUG.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is not a namespace: 1-64 lowercase letters, digits, '-' or '_'"
        )
    return text


def author_arg(text: str) -> str:
    """An argparse type: an author every store can record (the store checks the same rule)."""
    try:
        return check_author(text)
    except InvalidAuthorError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def revision_arg(text: str) -> int:
    """An argparse type: a revision number (0 = the spec must not exist yet)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_REVISION:
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a revision (a whole number, 0 or more)")
    return value


def existing_revision_arg(text: str) -> int:
    """An argparse type: the number of a revision that can exist (1 or more)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_REVISION:
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a revision (a whole number, 1 or more)")
    return value


def store_option(parser: argparse.ArgumentParser) -> None:
    """``--store URI``, as every store command takes it."""
    parser.add_argument(
        "--store",
        metavar="URI",
        default=None,
        help="store URI (default: the [schedule_specs] store option, else SQLite in AIRFLOW_HOME)",
    )


def author_option(parser: argparse.ArgumentParser) -> None:
    """``--author NAME``, checked like the store checks it."""
    parser.add_argument(
        "--author", type=author_arg, default=None, help="who makes the change (default: $USER)"
    )


def add_store_commands(subparsers: Any) -> None:
    """Add the store commands to ``subparsers`` (``ArgumentParser.add_subparsers()``); each sets ``func``."""

    def command(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text, description=help_text)
        store_option(parser)
        parser.set_defaults(func=handler)
        return parser

    apply = command("apply", "validate spec files, show the diff and store them as one batch", cmd_apply)
    apply.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders ('-' reads stdin)")
    author_option(apply)
    apply.add_argument("--dry-run", action="store_true", help="validate and show the diff, store nothing")
    base = apply.add_mutually_exclusive_group()
    base.add_argument(
        "--expected-revision",
        type=revision_arg,
        default=None,
        metavar="N",
        help="the one spec applied must be at revision N in the store (0: must not exist yet)",
    )
    base.add_argument(
        "--ignore-base-revision",
        action="store_true",
        help=f"overwrite specs that changed in the store since their {BASE_REVISION_KEY}",
    )

    diff = command("diff", "show what applying spec files would change", cmd_diff)
    diff.add_argument("paths", nargs="+", metavar="PATH", help="spec files or folders ('-' reads stdin)")

    listing = command("list", "list stored specs", cmd_list)
    listing.add_argument("--namespace", type=namespace_arg, default=None, help="only this namespace")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    show = command("show", "print a stored spec as YAML (with its x-base-revision)", cmd_show)
    show.add_argument("spec_id", metavar="ID", type=spec_id_arg, help="spec id (<namespace>.<name>)")
    show.add_argument(
        "--revision",
        type=existing_revision_arg,
        default=None,
        metavar="N",
        help="print revision N (see `history`) instead of the current one",
    )

    history = command("history", "list every revision of a spec", cmd_history)
    history.add_argument("spec_id", metavar="ID", type=spec_id_arg)

    rollback = command(
        "rollback", "store a new revision equal to an earlier one (validated like apply)", cmd_rollback
    )
    rollback.add_argument("spec_id", metavar="ID", type=spec_id_arg, help="spec id (<namespace>.<name>)")
    rollback.add_argument(
        "--to",
        dest="to_revision",
        type=existing_revision_arg,
        required=True,
        metavar="N",
        help="the revision whose content becomes current (see `history`)",
    )
    author_option(rollback)
    rollback.add_argument("--dry-run", action="store_true", help="validate and show the diff, store nothing")
    rollback.add_argument(
        "--expected-revision",
        type=revision_arg,
        default=None,
        metavar="N",
        help="the spec must be at revision N in the store (the revision you looked at)",
    )

    for name, verb in (
        ("pause", "pause"),
        ("resume", "resume"),
        ("delete", "delete (soft; kept in history)"),
    ):
        parser = command(name, f"{verb} a stored spec", _state_command(name))
        parser.add_argument("spec_id", metavar="ID", type=spec_id_arg)
        author_option(parser)
        parser.add_argument(
            "--revision",
            type=revision_arg,
            default=None,
            metavar="N",
            help="fail unless the spec is at revision N (optimistic concurrency)",
        )

    export = command("export", "print stored specs as YAML that `apply` accepts back", cmd_export)
    export.add_argument("--namespace", type=namespace_arg, default=None, help="only this namespace")
    export.add_argument("--json", action="store_true", help="print JSON instead of YAML")


# helpers -------------------------------------------------------------------------------------
def _open(args: argparse.Namespace) -> ScheduleStore:
    return open_store(args.store)


def _load_specs(paths: list[str]) -> SpecBatch | None:
    """Load and validate every spec of ``paths``; print every problem on stderr and return None if any."""
    batch = read_spec_batch(paths)
    for line in batch.problem_lines():
        print(line, file=sys.stderr)
    if not batch.ok:
        return None
    if not batch.specs:
        print("no specs found in " + " ".join(paths), file=sys.stderr)
        return None
    return batch


def _base_revisions(args: argparse.Namespace, batch: SpecBatch) -> dict[str, int] | None:
    """What each spec of ``batch`` is based on: ``--expected-revision``, else the files' ``x-base-revision``.

    Prints the problem and returns None when ``--expected-revision`` is given for other than one spec.
    """
    expected = getattr(args, "expected_revision", None)
    if expected is not None:
        if len(batch.specs) != 1:
            print(
                f"--expected-revision needs exactly one spec; {' '.join(args.paths)} hold {len(batch.specs)}",
                file=sys.stderr,
            )
            return None
        return {batch.specs[0].dag_id: expected}
    if getattr(args, "ignore_base_revision", False):
        return {}
    return dict(batch.base_revisions)


def report_conflicts(
    store: ScheduleStore, plan: ApplyPlan, sources: Mapping[str, str], *, where: str = BASE_REVISION_KEY
) -> None:
    """One ``FILE: SPEC: x-base-revision: MESSAGE`` line per conflict of ``plan``, on stderr."""
    for change in plan.conflicts:
        stored = store.get(change.spec_id, include_deleted=True)
        now = f"revision {change.current_revision}"
        if stored is not None:
            state = "deleted at " if stored.deleted else ""
            now = (
                f"{state}revision {stored.revision} by {stored.author} "
                f"at {stored.updated_at.isoformat(timespec='seconds')}"
            )
        source = sources.get(change.spec_id, "-")
        print(
            f"{source}: {change.spec_id}: {where}: the spec changed in the store since revision "
            f"{change.expected_revision} (now {now}); applying would overwrite that change",
            file=sys.stderr,
        )


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
        "state": "deleted" if stored.deleted else spec_state(stored.spec, stored.paused),
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
    batch = _load_specs(args.paths)
    bases = _base_revisions(args, batch) if batch is not None else None
    if batch is None or bases is None:
        print("nothing applied: fix the problems above", file=sys.stderr)
        return 1
    specs = batch.specs
    with _open(args) as store:
        plan = plan_apply(store, specs, base_revisions=bases)
        sys.stdout.write(plan.diff_text())
        if plan.conflicts:
            where = "--expected-revision" if args.expected_revision is not None else BASE_REVISION_KEY
            report_conflicts(store, plan, batch.sources, where=where)
            print(
                f"nothing applied: {len(plan.conflicts)} spec(s) changed since the revision your change "
                "is based on; `show` or `export` them again, redo your change there and apply it (or "
                "pass --ignore-base-revision to overwrite)",
                file=sys.stderr,
            )
            return 1
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
    batch = _load_specs(args.paths)
    if batch is None:
        return 1
    with _open(args) as store:
        plan = plan_apply(store, batch.specs, base_revisions=batch.base_revisions)
        sys.stdout.write(plan.diff_text())
        report_conflicts(store, plan, batch.sources)
    print(f"{len(plan.changed)} of {len(batch.specs)} spec(s) differ from the store")
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
    rows = [("ID", "REVISION", "STATE", "AUTHOR", "UPDATED")]
    rows += [
        (
            s.id,
            str(s.revision),
            spec_state(s.spec, s.paused) if s.damaged is None else f"damaged: {s.damaged}",
            s.author,
            s.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
        for s in specs
    ]
    _print_table(rows)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """``show ID``: the stored spec as YAML that ``apply`` accepts back, based on its revision."""
    return _run(_show, args)


def with_base_revision(stored: StoredSpec) -> dict[str, Any]:
    """The stored spec as a document carrying ``x-base-revision`` (what ``apply`` checks).

    Templates stored without a version (before templates had versions) are shown as ``@1``, what
    they mean: applied back, the document keeps building version 1 whatever the default is now.
    """
    return {BASE_REVISION_KEY: stored.revision, **pin_template_versions(stored.spec)}


def show_text(stored: StoredSpec) -> str:
    """``show``'s YAML: a comment saying who wrote the revision, then the spec with its base revision."""
    state = "deleted, " if stored.deleted else ""
    header = (
        f"# {stored.id}: {state}revision {stored.revision} by {_one_line(stored.author)} "
        f"at {stored.updated_at.isoformat(timespec='seconds')}\n"
    )
    return header + spec_to_yaml(with_base_revision(stored))


def _one_line(text: str) -> str:
    return " ".join(text.split())  # an author stored before the author check may hold a newline


def _show(args: argparse.Namespace) -> int:
    with _open(args) as store:
        if args.revision is not None:
            return _show_revision(store, args.spec_id, args.revision)
        stored = store.require(args.spec_id, include_deleted=True)
    sys.stdout.write(show_text(stored))
    return 0


def revision_text(rev: SpecRevision, current: int) -> str:
    """``show --revision``'s YAML: as :func:`show_text`, based on that revision.

    Its ``x-base-revision`` is the revision shown, so applying an edit of an old revision is refused
    while the store holds a later one (nothing after it is lost); ``rollback`` makes it current.
    """
    state = "deleted, " if rev.deleted else ""
    header = (
        f"# {rev.id}: {state}revision {rev.revision} by {_one_line(rev.author)} "
        f"at {rev.updated_at.isoformat(timespec='seconds')}\n"
    )
    if rev.revision != current:
        header += (
            f"# an old revision (the current one is {current}); "
            f"`rollback --to {rev.revision}` makes it current\n"
        )
    return header + spec_to_yaml({BASE_REVISION_KEY: rev.revision, **rev.spec})


def _show_revision(store: ScheduleStore, spec_id: str, number: int) -> int:
    rev = find_revision(store, spec_id, number)
    current = max(r.revision for r in store.history(spec_id))
    sys.stdout.write(revision_text(rev, current))
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


def cmd_rollback(args: argparse.Namespace) -> int:
    """``rollback ID --to N [--author NAME] [--expected-revision M] [--dry-run]``: a new revision with
    revision N's content; 0 rolled back or already equal, 1 refused (invalid, conflict, unknown)."""
    return _run(_rollback, args)


def _rollback(args: argparse.Namespace) -> int:
    spec_id, number = args.spec_id, args.to_revision
    with _open(args) as store:
        try:
            rollback = plan_rollback(store, spec_id, number, expected_revision=args.expected_revision)
        except RevisionInvalidError as err:
            for line in str(err).splitlines()[1:]:
                print(line, file=sys.stderr)
            print(
                f"nothing rolled back: revision {number} of {spec_id} does not pass today's validation "
                "(templates, limits and governance); apply a corrected spec instead",
                file=sys.stderr,
            )
            return 1
        change = rollback.change
        sys.stdout.write(rollback.plan.diff_text())
        if rollback.plan.conflicts:
            report_conflicts(
                store, rollback.plan, {spec_id: f"revision {number}"}, where="--expected-revision"
            )
            print(
                f"nothing rolled back: {spec_id} changed since the revision you expected; look at "
                "`history` again and retry with its current revision",
                file=sys.stderr,
            )
            return 1
        if rollback.unchanged:
            print(
                f"unchanged {spec_id} at revision {change.current_revision}: "
                f"it already has the content of revision {number}; nothing rolled back"
            )
            return 0
        if args.dry_run:
            print(
                f"dry run: rolling {spec_id} back to revision {number} would store revision "
                f"{(change.current_revision or 0) + 1}; nothing stored"
            )
            return 0
        revision = apply_rollback(store, rollback, author=args.author or default_author())
    restored = " (it was deleted: restored)" if rollback.restores else ""
    print(f"rolled back {spec_id} to revision {number} as revision {revision}{restored}")
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
                tell_airflow(args.spec_id, action)  # reparse now, not in min_file_process_interval
            return 0

        return _run(run, args)

    handler.__name__ = f"cmd_{action}"
    handler.__doc__ = f"``{action} ID [--author NAME] [--revision N]``."
    return handler


def cmd_export(args: argparse.Namespace) -> int:
    """``export [--namespace NS] [--json]``: the stored specs, each with its ``x-base-revision``;
    ``apply`` accepts the output back and refuses to overwrite what changed since."""
    return _run(_export, args)


def _export(args: argparse.Namespace) -> int:
    with _open(args) as store:
        specs = store.list(namespace=args.namespace)
    documents = [with_base_revision(s) for s in specs]
    if args.json:
        print(json.dumps(documents, indent=2, ensure_ascii=False))
        return 0
    if not documents:
        print("[]")
        return 0
    text = yaml.safe_dump(documents, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
    sys.stdout.write(text)
    return 0
