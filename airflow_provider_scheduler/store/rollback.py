"""Old revisions of a spec: read one back, and roll a spec back to one through the apply planner.

One implementation for every front door: ``airflow-scheduler show --revision`` / ``rollback`` and the
portal's ``GET /specs/{id}?revision=N`` / ``POST /specs/{id}/rollback``::

    rev = find_revision(store, "analytics.daily", 3)              # SpecRevision, readable
    rollback = plan_rollback(store, "analytics.daily", 3, expected_revision=5)
    print(rollback.change.diff)                                    # current -> revision 3
    revision = apply_rollback(store, rollback, author="alice")     # a new revision, or the current one

A rollback is an apply of revision N's content: :func:`~airflow_provider_scheduler.store.apply.plan_apply`
validates it with the store's templates and policy as they are today (a revision that no longer
passes is refused with every problem, nothing written), diffs it against the stored spec (content
equal to the stored one writes nothing), and the write carries the revision it was planned against,
so a change made meanwhile is never overwritten. Rolling a deleted spec back restores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_scheduler.spec.canonical import pin_template_versions
from airflow_provider_scheduler.spec.errors import SpecError
from airflow_provider_scheduler.store.apply import Action, apply_plan, plan_apply
from airflow_provider_scheduler.store.errors import (
    DamagedRevisionError,
    RevisionInvalidError,
    RevisionNotFoundError,
    SpecBatchError,
)

if TYPE_CHECKING:
    from airflow_provider_scheduler.store.apply import ApplyPlan, PlannedChange
    from airflow_provider_scheduler.store.base import ScheduleStore, SpecRevision


def find_revision(store: ScheduleStore, spec_id: str, number: int, *, readable: bool = True) -> SpecRevision:
    """Revision ``number`` of ``spec_id`` as the store holds it.

    :param readable: raise :class:`DamagedRevisionError` when the revision's spec cannot be read
        (with False the revision is returned with ``damaged`` set and ``spec={}``).
    :raises SpecNotFoundError: the store never held the spec.
    :raises RevisionNotFoundError: the store holds no such revision (the message lists those it holds).
    """
    revisions = store.history(spec_id)
    for rev in revisions:
        if rev.revision == number:
            if readable:
                if rev.damaged is not None:
                    raise DamagedRevisionError(spec_id, number, rev.damaged)
                if not isinstance(rev.spec, dict) or not rev.spec:
                    raise DamagedRevisionError(spec_id, number, "its spec is not a JSON object")
            return rev
    raise RevisionNotFoundError(spec_id, number, [rev.revision for rev in revisions])


@dataclass(frozen=True)
class RollbackPlan:
    """What rolling ``spec_id`` back to revision ``target.revision`` would do.

    :param spec_id: the spec's id.
    :param target: the revision rolled back to.
    :param plan: the apply plan of the target's content (one change).
    """

    spec_id: str
    target: SpecRevision
    plan: ApplyPlan

    @property
    def change(self) -> PlannedChange:
        """The plan's one change: ``unchanged`` when the stored content equals the target's."""
        return self.plan.changes[0]

    @property
    def unchanged(self) -> bool:
        """The stored spec already has the target's content: applying writes nothing."""
        return self.change.action is Action.UNCHANGED

    @property
    def restores(self) -> bool:
        """The spec is deleted (or damaged past reading): applying brings it back."""
        return self.change.action is Action.CREATE


def plan_rollback(
    store: ScheduleStore, spec_id: str, to_revision: int, *, expected_revision: int | None = None
) -> RollbackPlan:
    """Plan a new revision of ``spec_id`` equal to revision ``to_revision``; nothing is written.

    :param expected_revision: the revision the caller saw as current (``--expected-revision``):
        when the store holds another one and the rollback would change the spec, the plan has a
        conflict (:attr:`ApplyPlan.conflicts`) and :func:`apply_rollback` refuses it.
    :raises SpecNotFoundError: the store never held the spec.
    :raises RevisionNotFoundError: no such revision.
    :raises DamagedRevisionError: the revision cannot be read.
    :raises RevisionInvalidError: the revision does not pass today's validation (every problem).
    """
    target = find_revision(store, spec_id, to_revision)
    bases = {spec_id: expected_revision} if expected_revision is not None else None
    try:
        # an old revision's templates without "@" were stored before versions: they mean @1
        plan = plan_apply(store, [pin_template_versions(target.spec)], base_revisions=bases)
    except SpecBatchError as err:
        errors = [
            SpecError(e.problems, spec_id=e.spec_id or spec_id, source=f"revision {to_revision}")
            for e in err.errors
        ]
        raise RevisionInvalidError(spec_id, to_revision, errors) from None
    if [change.spec_id for change in plan.changes] != [spec_id]:  # a record naming another spec
        raise DamagedRevisionError(
            spec_id, to_revision, f"its spec describes {plan.changes[0].spec_id!r}, not {spec_id!r}"
        )
    return RollbackPlan(spec_id=spec_id, target=target, plan=plan)


def apply_rollback(store: ScheduleStore, rollback: RollbackPlan, *, author: str | None = None) -> int:
    """Write the rollback; return the spec's revision (the current one when unchanged).

    :param author: recorded on the new revision (default: ``$USER``).
    :raises ConflictError: the spec changed since the plan's expected revision; nothing written.
    """
    return apply_plan(store, rollback.plan, author=author)[rollback.spec_id]
