"""Applying a batch of specs to a store: plan first (validate, diff), then write all or nothing.

One planner for every way specs are applied: the ``apply`` and ``diff`` commands,
:class:`~airflow_provider_scheduler.operators.apply_specs.ApplyScheduleSpecsOperator` and the portal API::

    plan = plan_apply(store, specs, prune_namespace="qa")   # validates the batch, reads the store
    print(plan.diff_text())
    revisions = apply_plan(store, plan, author="alice")     # writes what the plan says, or nothing

The write carries the revision each change was planned against, so a spec changed by someone else
between planning and writing makes :class:`~airflow_provider_scheduler.store.ConflictError` instead
of overwriting that change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.canonical import pin_template_versions
from airflow_provider_scheduler.store.base import unified_diff
from airflow_provider_scheduler.store.errors import ConflictError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from airflow_provider_scheduler.spec.model import ScheduleSpec
    from airflow_provider_scheduler.store.base import ScheduleStore, SpecInput, StoredSpec


class Action(enum.StrEnum):
    """What applying a plan does to one spec."""

    CREATE = "create"  # not in the store (or deleted there): written as a new or restored spec
    UPDATE = "update"  # stored with other content: written as a new revision
    UNCHANGED = "unchanged"  # stored with the same content: not written, its revision stays
    DELETE = "delete"  # stored in the pruned namespace, absent from the batch: soft-deleted


@dataclass(frozen=True)
class PlannedChange:
    """One spec of a plan.

    :param spec_id: the spec's id (``<namespace>.<name>``).
    :param action: what applying the plan does to it.
    :param diff: unified diff (YAML) from the stored spec to the candidate; empty when unchanged.
    :param expected_revision: the stored revision the change was planned against (0: not stored yet);
        the caller's base revision when one was given.
    :param spec: the validated candidate; None for a deletion.
    :param current_revision: the revision the store held when the plan was made (0: never stored;
        None: not recorded, i.e. the same as ``expected_revision``).
    """

    spec_id: str
    action: Action
    diff: str
    expected_revision: int
    spec: ScheduleSpec | None = None
    current_revision: int | None = None

    @property
    def conflict(self) -> bool:
        """The change writes, and the store moved on from the revision it is based on."""
        if self.current_revision is None or self.action is Action.UNCHANGED:
            return False
        return self.expected_revision != self.current_revision


@dataclass(frozen=True)
class ApplyPlan:
    """What applying a batch would change, spec by spec (batch order, then deletions by id).

    :param store_uri: the store the plan was made against (password hidden).
    :param changes: one entry per spec of the batch, then one per spec to delete.
    """

    store_uri: str
    changes: tuple[PlannedChange, ...]

    def ids(self, action: Action) -> list[str]:
        """The ids of the specs with this action, in plan order."""
        return [change.spec_id for change in self.changes if change.action is action]

    @property
    def conflicts(self) -> list[PlannedChange]:
        """The changes based on a revision that is no longer the stored one (:func:`apply_plan` would
        raise :class:`~airflow_provider_scheduler.store.ConflictError` and write nothing)."""
        return [change for change in self.changes if change.conflict]

    @property
    def changed(self) -> list[PlannedChange]:
        """The changes that write something (create, update, delete)."""
        return [change for change in self.changes if change.action is not Action.UNCHANGED]

    def diff_text(self) -> str:
        """The diffs of every changed spec, concatenated."""
        return "".join(change.diff for change in self.changes)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (for an API answer or an XCom)."""
        return {
            "store": self.store_uri,
            "changes": [
                {
                    "id": change.spec_id,
                    "action": change.action.value,
                    "expected_revision": change.expected_revision,
                    "current_revision": change.current_revision,
                    "diff": change.diff,
                }
                for change in self.changes
            ],
        }


def plan_apply(
    store: ScheduleStore,
    specs: Iterable[SpecInput],
    *,
    prune_namespace: str | None = None,
    base_revisions: Mapping[str, int] | None = None,
) -> ApplyPlan:
    """Validate ``specs`` as one batch and compare each with the store; nothing is written.

    :param store: the store to compare with (its template catalog and policy validate the batch).
    :param specs: ScheduleSpecs or mappings that ``parse_spec`` accepts.
    :param prune_namespace: also plan to delete the stored specs of this namespace not in the batch.
    :param base_revisions: ``{spec_id: revision}`` the caller's specs were edited from (what
        ``export``/``show``/``edit`` wrote as ``x-base-revision``, or ``apply --expected-revision``).
        A change to a spec the store holds (live or deleted) at another revision is a conflict
        (:attr:`ApplyPlan.conflicts`) and the write checks the base revision, so another editor's
        change is never overwritten. A spec this store never held has nothing to lose and is created
        (a backup restored into a new store); one whose content equals the stored one is unchanged.
    :raises SpecBatchError: a spec is invalid or an id appears twice; the plan is not made.
    """
    parsed = store.validate_batch(specs)
    stored_by_id: dict[str, StoredSpec] = {}
    for namespace in sorted({spec.namespace for spec in parsed}):  # one read per namespace, not per spec
        listed = store.list(namespace=namespace, include_deleted=True, include_damaged=True)
        stored_by_id.update((s.id, s) for s in listed)
    changes: list[PlannedChange] = []
    for spec in parsed:
        stored = stored_by_id.get(spec.dag_id)
        candidate = spec.to_dict()
        if stored is None or stored.deleted:
            action = Action.CREATE
            diff = unified_diff(spec.dag_id, None, candidate)
        elif stored.damaged is not None:  # a good version replaces what the store cannot read
            action = Action.UPDATE
            diff = unified_diff(spec.dag_id, None, candidate)
        else:
            # a spec stored before templates had versions names them without "@" (version 1): the
            # same spec, so re-applying it changes nothing
            before = pin_template_versions(stored.spec)
            diff = unified_diff(spec.dag_id, before, candidate)
            action = Action.UPDATE if before != candidate else Action.UNCHANGED
        revision = stored.revision if stored is not None else 0
        expected = revision
        base = (base_revisions or {}).get(spec.dag_id)
        if base is not None and stored is not None and action is not Action.UNCHANGED:
            expected = base
        changes.append(PlannedChange(spec.dag_id, action, diff, expected, spec, current_revision=revision))
    if prune_namespace is not None:
        present = {spec.dag_id for spec in parsed}
        for stored in store.list(namespace=prune_namespace):
            if stored.id not in present:
                diff = unified_diff(stored.id, stored.spec, None)
                changes.append(
                    PlannedChange(
                        stored.id, Action.DELETE, diff, stored.revision, current_revision=stored.revision
                    )
                )
    return ApplyPlan(store_uri=store.uri, changes=tuple(changes))


def apply_plan(store: ScheduleStore, plan: ApplyPlan, *, author: str | None = None) -> dict[str, int]:
    """Write what ``plan`` says; return ``{spec_id: revision}`` for every spec of the plan.

    Creations and updates are one all-or-nothing ``put_many`` checked against the planned revisions;
    deletions follow, each checked against its planned revision.

    :param author: recorded on every revision written (default: ``$USER``).
    :raises ConflictError: a spec changed in the store since the plan was made; nothing of the
        ``put_many`` is written.
    """
    for change in plan.conflicts:  # known stale before anything is written: write nothing
        raise ConflictError(change.spec_id, change.current_revision or 0, change.expected_revision)
    revisions = {c.spec_id: c.expected_revision for c in plan.changes if c.action is Action.UNCHANGED}
    writes = [c for c in plan.changes if c.action in (Action.CREATE, Action.UPDATE) and c.spec is not None]
    if writes:
        written = store.put_many(
            [c.spec for c in writes if c.spec is not None],
            author=author,
            expected_revisions={c.spec_id: c.expected_revision for c in writes},
        )
        revisions.update({c.spec_id: r for c, r in zip(writes, written, strict=True)})
    for change in plan.changes:
        if change.action is Action.DELETE:
            revisions[change.spec_id] = store.delete(
                change.spec_id, author=author, expected_revision=change.expected_revision
            )
    return {c.spec_id: revisions[c.spec_id] for c in plan.changes}
