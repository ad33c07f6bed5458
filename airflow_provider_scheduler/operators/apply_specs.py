"""Operator that applies a folder of schedule-spec files to the spec store (GitOps sync)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator, mask_secret

from airflow_provider_scheduler.rest.run_outcome import fail

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_scheduler.spec.model import ScheduleSpec


class ApplyScheduleSpecsOperator(BaseOperator):
    """Apply the spec files under ``path`` to the spec store: the folder becomes the truth.

    Every spec file below ``path`` (the rule of :mod:`airflow_provider_scheduler.spec.files`), or
    ``path`` itself when it is a file, is loaded with the safe loader and validated first. If any
    spec is invalid, or a dag id appears twice, or (with ``namespace``) a spec belongs to another
    namespace, the task fails listing EVERY problem as ``FILE: SPEC-ID: PATH: MESSAGE`` and nothing
    is written.

    Then the batch is planned and applied by :mod:`airflow_provider_scheduler.store.apply`: new and
    changed specs are written in one all-or-nothing ``put_many`` checked against the revisions just
    read (unchanged ones are not rewritten, so their revision stays). With ``prune=True`` the stored
    specs of ``namespace`` whose files left the folder are (soft) deleted, each checked against the
    revision just read so a concurrent edit is not lost silently. A spec paused in the store but
    ``paused: false`` in its file counts as updated (the folder wins).

    Returns (XCom ``return_value``) and logs a summary::

        {"created": [ids], "updated": [ids], "unchanged": [ids], "deleted": [ids],
         "revisions": {id: revision}, "preview": bool}

    :param path: a spec file or a folder of them (templated).
    :param store: spec store URI (templated); default the ``[schedule_specs] store`` option.
    :param prune: delete stored specs of ``namespace`` that are not in the folder any more.
    :param author: recorded as the author of every revision written (templated).
    :param namespace: only specs of this namespace may be applied (templated); required with ``prune``.
    :param preview: compute and log the summary, write nothing (``BaseOperator.dry_run`` is taken).
    """

    template_fields: Sequence[str] = ("path", "store", "author", "namespace")
    ui_color = "#e4f0c6"

    def __init__(
        self,
        *,
        path: str,
        store: str | None = None,
        prune: bool = False,
        author: str = "airflow:apply_schedule_specs",
        namespace: str | None = None,
        preview: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if prune and not namespace:
            raise ValueError(
                "prune=True needs namespace=...: pruning deletes the stored specs of that namespace whose "
                "files left the folder, and never touches other teams' specs"
            )
        self.path = path
        self.store = store
        self.prune = prune
        self.author = author
        self.namespace = namespace
        self.preview = preview

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render the templated fields, then register the store URI's password with the secrets masker.

        ``store`` is templated, so Airflow keeps and shows its rendered value (the Rendered Template
        page) through the masker: without this a password in the URI would be stored in clear text.
        """
        super().render_template_fields(context, jinja_env)
        if self.store:
            # Local, like execute's: importing the store package costs ~50 ms (measured).
            from airflow_provider_scheduler.store.uri import uri_secrets

            for secret in uri_secrets(str(self.store)):
                mask_secret(secret)

    def _load(self) -> list[ScheduleSpec]:
        """Load every spec under ``path``; fail listing every problem of every file."""
        # Local: the spec package costs ~50 ms to import (measured), paid only by a running task,
        # not by every parse of the DAG file that uses this operator.
        from airflow_provider_scheduler.spec import Problem, SpecError
        from airflow_provider_scheduler.spec.batch import read_spec_batch

        root = Path(str(self.path))
        if not root.exists():
            fail(f"spec path {str(root)!r} does not exist (on the worker running this task)")
        batch = read_spec_batch([root])
        specs: list[ScheduleSpec] = []
        for spec in batch.specs:
            if self.namespace and spec.namespace != self.namespace:
                message = f"{spec.namespace!r} is not the namespace this task applies ({self.namespace!r})"
                batch.add_error(
                    SpecError(
                        [Problem("namespace", message)],
                        spec_id=spec.dag_id,
                        source=batch.sources[spec.dag_id],
                    )
                )
                continue
            specs.append(spec)
        problems = batch.problem_lines()
        if problems:
            fail(
                f"{len(problems)} problem(s) in the specs under {str(root)!r}; nothing was applied:\n"
                + "\n".join(problems)
            )
        return specs

    def execute(self, context: Context) -> dict[str, Any]:
        # Local: the store and its planner import the spec package (~50 ms, measured), see _load.
        from airflow_provider_scheduler.store import open_store
        from airflow_provider_scheduler.store.apply import Action, apply_plan, plan_apply

        specs = self._load()
        with open_store(self.store or None) as store:
            plan = plan_apply(store, specs, prune_namespace=self.namespace if self.prune else None)
            if self.preview:
                revisions = {
                    c.spec_id: c.expected_revision for c in plan.changes if c.action is Action.UNCHANGED
                }
            else:
                revisions = apply_plan(store, plan, author=self.author)
        summary: dict[str, Any] = {
            "created": plan.ids(Action.CREATE),
            "updated": plan.ids(Action.UPDATE),
            "unchanged": plan.ids(Action.UNCHANGED),
            "deleted": plan.ids(Action.DELETE),
            "revisions": revisions,
            "preview": self.preview,
        }
        self.log.info(
            "%sApplied %s to %s: %d created, %d updated, %d unchanged, %d deleted",
            "[preview] " if self.preview else "",
            self.path,
            plan.store_uri,
            len(summary["created"]),
            len(summary["updated"]),
            len(summary["unchanged"]),
            len(summary["deleted"]),
        )
        for key in ("created", "updated", "deleted"):
            for spec_id in summary[key]:
                self.log.info("  %s: %s (revision %s)", key, spec_id, summary["revisions"].get(spec_id, "-"))
        return summary
