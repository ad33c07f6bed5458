"""The apply planner with base revisions: what the CLI's ``x-base-revision`` and ``edit`` rely on.

The CLI, ``ApplyScheduleSpecsOperator`` and the portal plan through ``plan_apply``; a base revision
the store moved on from is a conflict before anything is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from store_contract import canonical, make_spec

from airflow_provider_scheduler.store import ConflictError, open_store
from airflow_provider_scheduler.store.apply import Action, apply_plan, plan_apply

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from airflow_provider_scheduler.store import ScheduleStore


@pytest.fixture(params=["sqlite", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScheduleStore]:
    uri = f"sqlite:///{tmp_path / 'plan.db'}" if request.param == "sqlite" else f"file://{tmp_path / 'specs'}"
    with open_store(uri) as opened:
        opened.put_many([make_spec("a"), make_spec("b")], author="seed")
        opened.pause("analytics.a", author="other")  # a is at revision 2 now
        yield opened


class TestBaseRevisions:
    def test_a_stale_base_is_a_conflict_and_nothing_is_written(self, store: ScheduleStore) -> None:
        plan = plan_apply(
            store,
            [make_spec("a", schedule="@daily"), make_spec("b", schedule="@daily"), make_spec("c")],
            base_revisions={"analytics.a": 1, "analytics.b": 1, "analytics.c": 4},
        )
        assert [
            (c.spec_id, c.action, c.expected_revision, c.current_revision, c.conflict) for c in plan.changes
        ] == [
            ("analytics.a", Action.UPDATE, 1, 2, True),
            ("analytics.b", Action.UPDATE, 1, 1, False),
            ("analytics.c", Action.CREATE, 0, 0, False),  # never held here: nothing to lose
        ]
        assert [c.spec_id for c in plan.conflicts] == ["analytics.a"]
        assert plan.to_dict()["changes"][0]["current_revision"] == 2
        with pytest.raises(ConflictError) as info:
            apply_plan(store, plan, author="bob")
        assert (info.value.spec_id, info.value.current_revision, info.value.expected_revision) == (
            "analytics.a",
            2,
            1,
        )
        assert [(s.id, s.revision) for s in store.list()] == [("analytics.a", 2), ("analytics.b", 1)]
        assert store.require("analytics.b").spec == canonical(make_spec("b"))

    def test_an_unchanged_spec_is_no_conflict(self, store: ScheduleStore) -> None:
        current = store.require("analytics.a").spec
        plan = plan_apply(store, [current], base_revisions={"analytics.a": 1})
        assert (plan.changes[0].action, plan.conflicts) == (Action.UNCHANGED, [])
        assert apply_plan(store, plan) == {"analytics.a": 2}

    def test_the_current_base_applies(self, store: ScheduleStore) -> None:
        plan = plan_apply(store, [make_spec("a", schedule="@daily")], base_revisions={"analytics.a": 2})
        assert plan.conflicts == []
        assert apply_plan(store, plan, author="bob") == {"analytics.a": 3}

    def test_a_write_between_plan_and_apply_is_caught_by_the_store(self, store: ScheduleStore) -> None:
        plan = plan_apply(store, [make_spec("b", schedule="@daily")], base_revisions={"analytics.b": 1})
        store.pause("analytics.b", author="other")
        with pytest.raises(ConflictError):
            apply_plan(store, plan, author="bob")
        assert store.require("analytics.b").revision == 2

    def test_a_deleted_spec_counts_as_held(self, store: ScheduleStore) -> None:
        store.delete("analytics.b", author="other")
        plan = plan_apply(store, [make_spec("b", schedule="@daily")], base_revisions={"analytics.b": 1})
        assert [(c.action, c.expected_revision, c.current_revision) for c in plan.conflicts] == [
            (Action.CREATE, 1, 2)
        ]
