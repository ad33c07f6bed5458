"""The apply planner (``store/apply.py``): plan a batch against a store, then write all or nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from store_contract import invalid_spec, make_spec

from airflow_provider_scheduler.store import ConflictError, SpecBatchError, open_store
from airflow_provider_scheduler.store.apply import Action, apply_plan, plan_apply

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from airflow_provider_scheduler.store import ScheduleStore


@pytest.fixture(params=["sqlite", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScheduleStore]:
    uri = f"sqlite:///{tmp_path / 'plan.db'}" if request.param == "sqlite" else f"file://{tmp_path / 'specs'}"
    with open_store(uri) as opened:
        yield opened


class TestPlanApply:
    def test_every_action_with_its_diff_and_expected_revision(self, store: ScheduleStore) -> None:
        store.put_many(
            [make_spec("same"), make_spec("edit"), make_spec("gone"), make_spec("x", namespace="qa")]
        )
        plan = plan_apply(
            store,
            [make_spec("new"), make_spec("edit", schedule="@daily"), make_spec("same")],
            prune_namespace="analytics",
        )
        assert [(c.spec_id, c.action, c.expected_revision) for c in plan.changes] == [
            ("analytics.new", Action.CREATE, 0),
            ("analytics.edit", Action.UPDATE, 1),
            ("analytics.same", Action.UNCHANGED, 1),
            ("analytics.gone", Action.DELETE, 1),
        ]
        new, edit, same, gone = plan.changes
        assert new.diff.startswith("--- /dev/null\n+++ analytics.new (candidate)\n")
        assert "-schedule: 0 6 * * *\n+schedule: '@daily'\n" in edit.diff
        assert same.diff == ""
        assert gone.diff.startswith("--- analytics.gone (stored)\n+++ /dev/null\n")
        assert gone.spec is None
        assert plan.diff_text() == new.diff + edit.diff + gone.diff
        assert [c.spec_id for c in plan.changed] == ["analytics.new", "analytics.edit", "analytics.gone"]
        assert plan.ids(Action.UNCHANGED) == ["analytics.same"]

    def test_as_data(self, store: ScheduleStore) -> None:
        store.put(make_spec("a"))
        plan = plan_apply(store, [make_spec("a"), make_spec("b")])
        data = plan.to_dict()
        assert data["store"] == store.uri
        assert [(c["id"], c["action"], c["expected_revision"]) for c in data["changes"]] == [
            ("analytics.a", "unchanged", 1),
            ("analytics.b", "create", 0),
        ]
        assert data["changes"][1]["diff"] == plan.changes[1].diff

    def test_planning_writes_nothing(self, store: ScheduleStore) -> None:
        plan_apply(store, [make_spec("a")])
        assert store.list() == []

    def test_the_whole_batch_is_validated(self, store: ScheduleStore) -> None:
        with pytest.raises(SpecBatchError) as info:
            plan_apply(store, [make_spec("a"), invalid_spec("bad"), make_spec("a")])
        assert len(info.value.errors) == 2  # the invalid spec and the repeated id

    def test_a_deleted_spec_is_created_again_against_its_tombstone(self, store: ScheduleStore) -> None:
        store.put(make_spec("a"))
        store.delete("analytics.a")
        [change] = plan_apply(store, [make_spec("a")]).changes
        assert (change.action, change.expected_revision) == (Action.CREATE, 2)
        assert apply_plan(store, plan_apply(store, [make_spec("a")])) == {"analytics.a": 3}


class TestApplyPlan:
    def test_writes_the_plan_and_returns_every_revision(self, store: ScheduleStore) -> None:
        store.put_many([make_spec("same"), make_spec("edit"), make_spec("gone")], author="ci")
        plan = plan_apply(
            store,
            [make_spec("new"), make_spec("edit", schedule="@daily"), make_spec("same")],
            prune_namespace="analytics",
        )
        assert apply_plan(store, plan, author="dora") == {
            "analytics.new": 1,
            "analytics.edit": 2,
            "analytics.same": 1,
            "analytics.gone": 2,
        }
        assert [(s.id, s.revision, s.author) for s in store.list()] == [
            ("analytics.edit", 2, "dora"),
            ("analytics.new", 1, "dora"),
            ("analytics.same", 1, "ci"),
        ]

    def test_a_change_made_after_planning_is_a_conflict_and_nothing_is_written(
        self, store: ScheduleStore
    ) -> None:
        store.put(make_spec("a"))
        plan = plan_apply(store, [make_spec("a", schedule="@daily"), make_spec("b")])
        store.put(make_spec("a", schedule="@hourly"), author="someone else")
        with pytest.raises(ConflictError, match="is at revision 2, your change was based on revision 1"):
            apply_plan(store, plan)
        assert [(s.id, s.spec["schedule"]) for s in store.list()] == [("analytics.a", "@hourly")]

    def test_a_spec_created_after_planning_is_a_conflict(self, store: ScheduleStore) -> None:
        plan = plan_apply(store, [make_spec("a")])
        store.put(make_spec("a", schedule="@hourly"))
        with pytest.raises(ConflictError, match="already exists at revision 1"):
            apply_plan(store, plan)

    def test_a_deletion_checks_its_planned_revision(self, store: ScheduleStore) -> None:
        store.put(make_spec("gone"))
        plan = plan_apply(store, [], prune_namespace="analytics")
        store.pause("analytics.gone")
        with pytest.raises(ConflictError):
            apply_plan(store, plan)
        assert store.require("analytics.gone").paused
