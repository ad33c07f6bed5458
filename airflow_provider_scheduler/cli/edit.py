"""``airflow-scheduler edit ID``: change a stored spec in ``$VISUAL`` / ``$EDITOR``, safely.

The spec is written to a private temporary file as ``show`` prints it (with ``x-base-revision``), the
editor is started on that file, and the result is applied through the shared planner
(:func:`~airflow_provider_scheduler.store.apply.plan_apply`) against the revision that was shown. So:

* another editor's change made meanwhile is never overwritten: the apply is refused with both
  revisions and the edited text is kept in the file, whose name is printed;
* an invalid edit stores nothing: the problems are printed, and on a terminal the editor can be
  re-opened on the same text; otherwise the text is kept in the file;
* the editor is run as an argument list (``$EDITOR`` split like a shell would split words, plus the
  file name), never through a shell.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.cli.store_commands import (
    author_option,
    report_conflicts,
    show_text,
    spec_id_arg,
    store_option,
)
from airflow_provider_scheduler.spec.batch import read_spec_batch
from airflow_provider_scheduler.store import open_store
from airflow_provider_scheduler.store.apply import apply_plan, plan_apply
from airflow_provider_scheduler.store.base import default_author
from airflow_provider_scheduler.store.errors import ConflictError, StoreError

if TYPE_CHECKING:
    import argparse

    from airflow_provider_scheduler.spec.batch import SpecBatch

DEFAULT_EDITOR = "vi"


def add_edit_command(subparsers: Any) -> None:
    """Add ``edit`` to ``subparsers`` (``ArgumentParser.add_subparsers()``); sets ``func``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "edit",
        help="edit a stored spec in $VISUAL/$EDITOR and apply it against the revision shown",
        description=(
            "Open a stored spec in $VISUAL or $EDITOR (default vi) and apply the edit; refused, "
            "with the edited text kept, when the spec changed in the store meanwhile."
        ),
    )
    parser.add_argument("spec_id", metavar="ID", type=spec_id_arg, help="spec id (<namespace>.<name>)")
    store_option(parser)
    author_option(parser)
    parser.set_defaults(func=cmd_edit)


def editor_command() -> list[str]:
    """The editor as an argument list: ``$VISUAL``, else ``$EDITOR``, else ``vi`` (split, not a shell)."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError:  # an unbalanced quote: take the value as one program name
                words = [value]
            if words:
                return words
    return [DEFAULT_EDITOR]


def cmd_edit(args: argparse.Namespace) -> int:
    """``edit ID [--author NAME]``: 0 applied or unchanged, 1 invalid edit, conflict or store error."""
    try:
        with open_store(args.store) as store:
            stored = store.require(args.spec_id)
    except StoreError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    original = show_text(stored)
    fd, path = tempfile.mkstemp(prefix=f"{stored.id}.", suffix=".yaml")  # 0600: only this user reads it
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(original)
    session = _Session(args, stored.id, stored.revision, path)
    keep = True
    try:
        code, keep = session.run(original)
    finally:
        if not keep:
            os.unlink(path)
    return code


class _Session:
    """One ``edit``: editor rounds until the text is applied, unchanged, or kept for later."""

    def __init__(self, args: argparse.Namespace, spec_id: str, revision: int, path: str) -> None:
        self.args = args
        self.spec_id = spec_id
        self.revision = revision
        self.path = path

    def kept(self, why: str) -> tuple[int, bool]:
        print(
            f"{why}; nothing applied. Your edited text is kept in {self.path}",
            file=sys.stderr,
        )
        return 1, True

    def run(self, original: str) -> tuple[int, bool]:
        """``(exit code, keep the file)``."""
        while True:
            command = [*editor_command(), self.path]
            try:
                finished = subprocess.run(command, check=False)  # an argument list: no shell parses it
            except OSError as exc:
                print(
                    f"error: cannot start the editor {command[0]!r}: {exc.strerror or exc}; "
                    "set $VISUAL or $EDITOR",
                    file=sys.stderr,
                )
                return 1, False
            try:
                with open(self.path, encoding="utf-8", errors="surrogateescape") as fh:
                    edited = fh.read()
            except OSError as exc:  # the editor removed or replaced the file unreadably
                print(
                    f"error: cannot read the edited file {self.path}: {exc.strerror or exc}; nothing applied",
                    file=sys.stderr,
                )
                return 1, False
            if finished.returncode != 0:
                if edited == original:
                    print(
                        f"the editor exited with status {finished.returncode}; nothing applied",
                        file=sys.stderr,
                    )
                    return 1, False
                return self.kept(f"the editor exited with status {finished.returncode}")
            if edited == original:
                print(f"no changes to {self.spec_id}; nothing applied")
                return 0, False
            batch = read_spec_batch([self.path])
            problems = batch.problem_lines() + self._identity_problems(batch)
            if not problems:
                return self.apply(batch)
            for line in problems:
                print(line, file=sys.stderr)
            if not self._reopen():
                return self.kept("the edit is not a valid spec")

    def _identity_problems(self, batch: SpecBatch) -> list[str]:
        """An edit changes one spec: the file must still hold exactly that spec."""
        if not batch.ok:
            return []
        ids = [spec.dag_id for spec in batch.specs]
        if ids == [self.spec_id]:
            return []
        found = ", ".join(ids) if ids else "no spec"
        return [
            f"{self.path}: {self.spec_id}: (root): the file must hold the spec {self.spec_id} only "
            f"(found {found}); `edit` cannot rename or add specs, use `apply` for that"
        ]

    @staticmethod
    def _reopen() -> bool:
        """Ask on a terminal whether to fix the text in the editor (default yes); never off a terminal."""
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            return False
        print("re-open the editor to fix it? [Y/n] ", end="", file=sys.stderr, flush=True)
        try:
            answer = sys.stdin.readline()
        except (OSError, UnicodeDecodeError):
            return False
        return answer.strip().lower() in ("", "y", "yes")

    def apply(self, batch: SpecBatch) -> tuple[int, bool]:
        try:
            with open_store(self.args.store) as store:
                plan = plan_apply(store, batch.specs, base_revisions={self.spec_id: self.revision})
                if not plan.changed:
                    print(f"no changes to {self.spec_id}; nothing applied")
                    return 0, False
                sys.stdout.write(plan.diff_text())
                if plan.conflicts:
                    report_conflicts(store, plan, {self.spec_id: self.path})
                    return self.kept(
                        f"{self.spec_id} changed in the store while you edited it; `airflow-scheduler "
                        f"show {self.spec_id}` prints the current version to redo your change on"
                    )
                revisions = apply_plan(store, plan, author=self.args.author or default_author())
        except ConflictError as err:
            return self.kept(f"error: {err}")
        except StoreError as err:
            return self.kept(f"error: {err}")
        print(f"applied {self.spec_id} as revision {revisions[self.spec_id]}")
        return 0, False
