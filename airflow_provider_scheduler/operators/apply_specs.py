"""Operator that applies a folder of schedule-spec files to the spec store (GitOps sync)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_scheduler.spec import ScheduleSpec


class ApplyScheduleSpecsOperator(BaseOperator):
    """Apply the spec files under ``path`` to the spec store: the folder becomes the truth.

    Every ``.yaml`` / ``.yml`` / ``.json`` file below ``path`` (or ``path`` itself when it is a file) is
    loaded with the safe loader and validated first. If any spec is invalid, or a dag id appears twice,
    or (with ``namespace``) a spec belongs to another namespace, the task fails listing EVERY problem as
    ``file: spec id: path: message`` and nothing is written.

    Then new and changed specs are written in one all-or-nothing ``put_many`` (unchanged ones are not
    rewritten, so their revision stays). With ``prune=True`` the stored specs of ``namespace`` whose
    files left the folder are (soft) deleted, each checked against the revision just read so a
    concurrent edit is not lost silently. A spec paused in the store but ``paused: false`` in its file
    counts as updated (the folder wins).

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

    def _load(self) -> list[ScheduleSpec]:
        """Load every spec under ``path``; fail listing every problem of every file."""
        from pathlib import Path

        from airflow_provider_scheduler.rest.run_outcome import fail
        from airflow_provider_scheduler.spec import SpecError, load_spec_file
        from airflow_provider_scheduler.spec.loader import find_spec_files

        root = Path(str(self.path))
        if not root.exists():
            fail(f"spec path {str(root)!r} does not exist (on the worker running this task)")
        problems: list[str] = []
        specs: list[ScheduleSpec] = []
        seen: dict[str, str] = {}
        for file in find_spec_files([root]):
            try:
                loaded = load_spec_file(file)
            except SpecError as err:
                spec_id = err.spec_id or "-"
                problems.extend(
                    f"{err.source or file}: {spec_id}: {p.path or '(root)'}: {p.message}"
                    for p in err.problems
                )
                continue
            for spec in loaded:
                if spec.dag_id in seen:
                    problems.append(f"{file}: {spec.dag_id}: (root): also defined in {seen[spec.dag_id]}")
                    continue
                if self.namespace and spec.namespace != self.namespace:
                    problems.append(
                        f"{file}: {spec.dag_id}: namespace: {spec.namespace!r} is not the namespace this "
                        f"task applies ({self.namespace!r})"
                    )
                    continue
                seen[spec.dag_id] = str(file)
                specs.append(spec)
        if problems:
            fail(
                f"{len(problems)} problem(s) in the specs under {str(root)!r}; nothing was applied:\n"
                + "\n".join(problems)
            )
        return specs

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_scheduler.store import open_store

        specs = self._load()
        summary: dict[str, Any] = {
            "created": [],
            "updated": [],
            "unchanged": [],
            "deleted": [],
            "revisions": {},
            "preview": self.preview,
        }
        with open_store(self.store or None) as store:
            to_write: list[ScheduleSpec] = []
            for spec in specs:
                stored = store.get(spec.dag_id)
                if stored is None:
                    summary["created"].append(spec.dag_id)
                    to_write.append(spec)
                elif stored.spec != spec.to_dict():
                    summary["updated"].append(spec.dag_id)
                    to_write.append(spec)
                else:
                    summary["unchanged"].append(spec.dag_id)
                    summary["revisions"][spec.dag_id] = stored.revision
            stale = []
            if self.prune:
                present = {spec.dag_id for spec in specs}
                stale = [s for s in store.list(namespace=self.namespace) if s.id not in present]
                summary["deleted"] = [s.id for s in stale]
            if not self.preview:
                if to_write:
                    revisions = store.put_many(to_write, author=self.author)
                    summary["revisions"].update(
                        {spec.dag_id: revision for spec, revision in zip(to_write, revisions, strict=True)}
                    )
                for gone in stale:
                    summary["revisions"][gone.id] = store.delete(
                        gone.id, author=self.author, expected_revision=gone.revision
                    )
        self.log.info(
            "%sApplied %s to %s: %d created, %d updated, %d unchanged, %d deleted",
            "[preview] " if self.preview else "",
            self.path,
            store.uri,
            len(summary["created"]),
            len(summary["updated"]),
            len(summary["unchanged"]),
            len(summary["deleted"]),
        )
        for key in ("created", "updated", "deleted"):
            for spec_id in summary[key]:
                self.log.info("  %s: %s (revision %s)", key, spec_id, summary["revisions"].get(spec_id, "-"))
        return summary
