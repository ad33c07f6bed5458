"""The behaviour every spec store must have, run against each backend.

``tests/unit/store/test_store.py`` runs it on SQLite and the file store, and
``tests/integration/store/test_store_postgres.py`` on a real PostgreSQL server: the same tests.
Subclasses provide a ``store_uri`` fixture; class attributes describe what the backend cannot do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from airflow_provider_scheduler.spec import SpecError, parse_spec
from airflow_provider_scheduler.store import (
    ChangeToken,
    ConflictError,
    ScheduleStore,
    SpecBatchError,
    SpecNotFoundError,
    StoreError,
    open_store,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def make_spec(
    name: str, namespace: str = "analytics", schedule: Any = "0 6 * * *", **extra: Any
) -> dict[str, Any]:
    """A valid spec: two tasks (extract -> load) built from the ``empty`` template."""
    spec: dict[str, Any] = {
        "version": 1,
        "namespace": namespace,
        "name": name,
        "schedule": schedule,
        "start_date": "2026-01-01",
        "tasks": [
            {"id": "extract", "template": "empty"},
            {"id": "load", "template": "empty", "depends_on": ["extract"]},
        ],
    }
    spec.update(extra)
    return spec


def write_spec_file(path: Path, spec: object) -> Path:
    """Write ``spec`` as a YAML file at ``path`` (folders created); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def invalid_spec(name: str = "broken") -> dict[str, Any]:
    """A spec whose only task depends on a task that does not exist."""
    return make_spec(name, tasks=[{"id": "load", "template": "empty", "depends_on": ["lod"]}])


def for_this_sqlalchemy(uri: str) -> str:
    """The fixture's ``postgresql+psycopg://`` URI, or its psycopg2 twin on SQLAlchemy 1.4 (Airflow 2.11)."""
    import sqlalchemy

    if int(sqlalchemy.__version__.split(".")[0]) < 2:
        return uri.replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)
    return uri


def canonical(spec: dict[str, Any]) -> dict[str, Any]:
    return parse_spec(spec).to_dict()


class StoreContract:
    """Tests shared by every backend."""

    #: False when changes() answers additions/removals with a full listing (file store)
    incremental_adds_and_deletes = True

    @pytest.fixture
    def store(self, store_uri: str) -> Iterator[ScheduleStore]:
        store = open_store(store_uri)
        try:
            yield store
        finally:
            store.close()

    # put / get -------------------------------------------------------------------------------
    def test_put_returns_revision_1_and_get_returns_the_canonical_spec(self, store: ScheduleStore) -> None:
        before = datetime.now(UTC) - timedelta(seconds=2)
        assert store.put(make_spec("daily-orders"), author="alice") == 1
        stored = store.get("analytics.daily-orders")
        assert stored is not None
        assert (stored.id, stored.namespace, stored.name, stored.revision) == (
            "analytics.daily-orders",
            "analytics",
            "daily-orders",
            1,
        )
        assert stored.spec == canonical(make_spec("daily-orders"))
        assert (stored.paused, stored.deleted, stored.author) == (False, False, "alice")
        assert stored.updated_at.tzinfo is not None
        assert stored.updated_at >= before

    def test_put_accepts_a_parsed_spec(self, store: ScheduleStore) -> None:
        assert store.put(parse_spec(make_spec("parsed")), author="alice") == 1
        assert store.get("analytics.parsed").spec == canonical(make_spec("parsed"))  # type: ignore[union-attr]

    def test_every_change_is_a_new_revision_and_unchanged_writes_nothing(self, store: ScheduleStore) -> None:
        assert store.put(make_spec("orders"), author="alice") == 1
        assert store.put(make_spec("orders"), author="bob") == 1  # identical: no new revision
        assert store.put(make_spec("orders", schedule="0 7 * * *"), author="bob") == 2
        history = store.history("analytics.orders")
        assert [(r.revision, r.action, r.author) for r in history] == [
            (1, "create", "alice"),
            (2, "update", "bob"),
        ]
        assert history[0].spec["schedule"] != history[1].spec["schedule"]
        assert history[1].spec == store.get("analytics.orders").spec  # type: ignore[union-attr]

    def test_stale_expected_revision_is_a_conflict_naming_both_revisions(self, store: ScheduleStore) -> None:
        store.put(make_spec("daily-orders"), author="alice")
        store.put(make_spec("daily-orders", schedule="0 7 * * *"), author="alice", expected_revision=1)
        with pytest.raises(ConflictError) as info:
            store.put(make_spec("daily-orders", schedule="0 8 * * *"), author="bob", expected_revision=1)
        assert str(info.value) == (
            "spec analytics.daily-orders is at revision 2, your change was based on revision 1; "
            "reload it and apply your change again"
        )
        assert (info.value.current_revision, info.value.expected_revision) == (2, 1)
        stored = store.get("analytics.daily-orders")
        assert stored is not None
        assert (stored.revision, stored.spec["schedule"]) == (
            2,
            canonical(make_spec("x", schedule="0 7 * * *"))["schedule"],
        )

    def test_expected_revision_0_means_must_not_exist(self, store: ScheduleStore) -> None:
        assert store.put(make_spec("new"), author="a", expected_revision=0) == 1
        with pytest.raises(ConflictError, match=r"^spec analytics\.new already exists at revision 1"):
            store.put(make_spec("new", schedule="@daily"), author="a", expected_revision=0)
        with pytest.raises(
            ConflictError,
            match=r"^spec analytics\.other does not exist yet, your change was based on revision 3",
        ):
            store.put(make_spec("other"), author="a", expected_revision=3)
        assert store.get("analytics.other") is None

    def test_invalid_spec_is_refused_and_nothing_changes(self, store: ScheduleStore) -> None:
        store.put(make_spec("broken"), author="alice")
        with pytest.raises(SpecError) as info:
            store.put(invalid_spec("broken"), author="mallory")
        with pytest.raises(SpecError) as direct:
            parse_spec(invalid_spec("broken"))
        assert info.value.problems == direct.value.problems
        assert [p.path for p in info.value.problems] == ["tasks[0].depends_on[0]"]
        assert "lod" in info.value.problems[0].message
        stored = store.get("analytics.broken")
        assert stored is not None
        assert (stored.revision, stored.author, stored.spec) == (1, "alice", canonical(make_spec("broken")))
        assert len(store.history("analytics.broken")) == 1

    def test_author_defaults_to_the_user(self, store: ScheduleStore, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("USER", "carol")
        store.put(make_spec("who"))
        assert store.get("analytics.who").author == "carol"  # type: ignore[union-attr]

    # batches ---------------------------------------------------------------------------------
    def test_put_many_stores_the_batch(self, store: ScheduleStore) -> None:
        store.put(make_spec("b"), author="alice")
        revisions = store.put_many(
            [make_spec("a"), make_spec("b", schedule="@daily"), make_spec("c", namespace="qa")], author="ci"
        )
        assert revisions == [1, 2, 1]
        assert [s.id for s in store.list()] == ["analytics.a", "analytics.b", "qa.c"]

    def test_put_many_updates_many_existing_specs(self, store: ScheduleStore) -> None:
        store.put_many([make_spec(f"u{i}") for i in range(5)], author="a")
        changed = [make_spec(f"u{i}", schedule="@daily") for i in range(4)]
        assert store.put_many(changed, author="b", expected_revisions={"analytics.u0": 1}) == [2, 2, 2, 2]
        assert [(s.id, s.revision, s.author) for s in store.list()] == [
            *[(f"analytics.u{i}", 2, "b") for i in range(4)],
            ("analytics.u4", 1, "a"),
        ]

    def test_put_many_with_one_invalid_spec_stores_nothing(self, store: ScheduleStore) -> None:
        store.put(make_spec("kept"), author="alice")
        with pytest.raises(SpecBatchError) as info:
            store.put_many(
                [make_spec("new-one"), make_spec("kept", schedule="@daily"), invalid_spec()], author="ci"
            )
        assert len(info.value.errors) == 1
        assert [p.path for p in info.value.errors[0].problems] == ["tasks[0].depends_on[0]"]
        assert str(info.value).startswith("1 invalid spec(s) in the batch; nothing was stored:\n")
        assert [(s.id, s.revision) for s in store.list()] == [("analytics.kept", 1)]

    def test_put_many_rejects_the_same_spec_twice(self, store: ScheduleStore) -> None:
        with pytest.raises(SpecBatchError) as info:
            store.put_many([make_spec("twice"), make_spec("other"), make_spec("twice")], author="ci")
        assert (
            str(info.value).splitlines()[1]
            == "-: analytics.twice: (root): appears twice in the batch (items 0 and 2)"
        )
        assert store.list() == []

    def test_put_many_conflict_stores_nothing(self, store: ScheduleStore) -> None:
        store.put(make_spec("x"), author="a")
        store.put(make_spec("x", schedule="@daily"), author="a")
        with pytest.raises(ConflictError, match="is at revision 2, your change was based on revision 1"):
            store.put_many(
                [make_spec("y"), make_spec("x", schedule="@hourly")],
                author="b",
                expected_revisions={"analytics.x": 1},
            )
        assert [(s.id, s.revision) for s in store.list()] == [("analytics.x", 2)]

    # list ------------------------------------------------------------------------------------
    def test_list_filters(self, store: ScheduleStore) -> None:
        store.put_many(
            [make_spec("a"), make_spec("b"), make_spec("c", namespace="qa"), make_spec("d")], author="x"
        )
        store.pause("analytics.b", author="x")
        store.delete("analytics.d", author="x")
        assert [s.id for s in store.list()] == ["analytics.a", "analytics.b", "qa.c"]
        assert [s.id for s in store.list(namespace="qa")] == ["qa.c"]
        assert [s.id for s in store.list(paused=True)] == ["analytics.b"]
        assert [s.id for s in store.list(paused=False)] == ["analytics.a", "qa.c"]
        assert [s.id for s in store.list(include_deleted=True)] == [
            "analytics.a",
            "analytics.b",
            "analytics.d",
            "qa.c",
        ]

    def test_list_changed_since(self, store: ScheduleStore) -> None:
        store.put_many([make_spec("a"), make_spec("b")], author="x")
        token = store.changes().token
        cutoff = store.get("analytics.b").updated_at  # type: ignore[union-attr]
        store.put(make_spec("b", schedule="@daily"), author="x")
        assert [s.id for s in store.list(changed_since=token)] == ["analytics.b"]
        assert [s.id for s in store.list(changed_since=cutoff)] == ["analytics.b"]

    # pause / resume / delete -----------------------------------------------------------------
    def test_pause_and_resume_are_revisions(self, store: ScheduleStore) -> None:
        store.put(make_spec("p"), author="alice")
        assert store.pause("analytics.p", author="bob") == 2
        stored = store.get("analytics.p")
        assert stored is not None
        assert (stored.paused, stored.spec["paused"], stored.author) == (True, True, "bob")
        assert store.pause("analytics.p", author="bob") == 2  # already paused: no new revision
        assert store.resume("analytics.p", author="carol") == 3
        assert store.get("analytics.p").paused is False  # type: ignore[union-attr]
        assert [(r.revision, r.action, r.author, r.paused) for r in store.history("analytics.p")] == [
            (1, "create", "alice", False),
            (2, "pause", "bob", True),
            (3, "resume", "carol", False),
        ]

    def test_finish_records_the_end_of_a_once_run_as_a_revision(self, store: ScheduleStore) -> None:
        store.put(make_spec("suite", schedule="@once"), author="alice")
        _, token = store.changes(None)
        assert store.finish("analytics.suite", author="airflow (run r1: success)") == 2
        stored = store.get("analytics.suite")
        assert stored is not None
        end = datetime.fromisoformat(stored.spec["end_date"])
        assert abs((datetime.now(UTC) - end).total_seconds()) < 60
        assert parse_spec(stored.spec).end_date == end  # still a valid spec
        changed, _ = store.changes(token)
        assert [c.id for c in changed] == ["analytics.suite"]  # loaders see it
        assert store.finish("analytics.suite", author="airflow") == 2  # already ended: no-op
        assert [(r.action, r.author) for r in store.history("analytics.suite")] == [
            ("create", "alice"),
            ("finish", "airflow (run r1: success)"),
        ]

    def test_pause_with_stale_revision_conflicts(self, store: ScheduleStore) -> None:
        store.put(make_spec("p"), author="alice")
        store.put(make_spec("p", schedule="@daily"), author="alice")
        with pytest.raises(
            ConflictError, match=r"^spec analytics\.p is at revision 2, your change was based on revision 1"
        ):
            store.pause("analytics.p", author="bob", expected_revision=1)
        assert store.get("analytics.p").paused is False  # type: ignore[union-attr]

    def test_delete_is_soft_and_kept_in_history(self, store: ScheduleStore) -> None:
        store.put(make_spec("gone"), author="alice")
        assert store.delete("analytics.gone", author="bob") == 2
        assert store.get("analytics.gone") is None
        tomb = store.get("analytics.gone", include_deleted=True)
        assert tomb is not None
        assert (tomb.deleted, tomb.revision, tomb.author, tomb.spec) == (
            True,
            2,
            "bob",
            canonical(make_spec("gone")),
        )
        assert [(r.revision, r.action, r.deleted) for r in store.history("analytics.gone")] == [
            (1, "create", False),
            (2, "delete", True),
        ]
        with pytest.raises(SpecNotFoundError, match=r"^spec analytics\.gone is deleted$"):
            store.pause("analytics.gone", author="bob")
        with pytest.raises(SpecNotFoundError, match=r"^spec analytics\.gone is deleted$"):
            store.delete("analytics.gone", author="bob")
        assert store.put(make_spec("gone"), author="carol") == 3  # writing it again restores it
        assert store.history("analytics.gone")[-1].action == "restore"
        assert store.get("analytics.gone").deleted is False  # type: ignore[union-attr]

    def test_unknown_id(self, store: ScheduleStore) -> None:
        assert store.get("analytics.nope") is None
        for call in (
            lambda: store.history("analytics.nope"),
            lambda: store.pause("analytics.nope", author="x"),
            lambda: store.resume("analytics.nope", author="x"),
            lambda: store.delete("analytics.nope", author="x"),
            lambda: store.require("analytics.nope"),
        ):
            with pytest.raises(SpecNotFoundError) as info:
                call()
            assert str(info.value) == "spec analytics.nope is not in the store"

    # diff ------------------------------------------------------------------------------------
    def test_diff(self, store: ScheduleStore) -> None:
        new = store.diff(make_spec("d"))
        assert new.startswith("--- /dev/null\n+++ analytics.d (candidate)\n")
        assert "+name: d\n" in new
        store.put(make_spec("d"), author="a")
        assert store.diff(make_spec("d")) == ""
        changed = store.diff(make_spec("d", schedule="@daily"))
        assert changed.startswith("--- analytics.d (stored)\n+++ analytics.d (candidate)\n")
        assert "-schedule: 0 6 * * *\n" in changed
        assert "+schedule: '@daily'\n" in changed
        with pytest.raises(SpecError):
            store.diff(invalid_spec())

    # changes ---------------------------------------------------------------------------------
    def test_changes_first_read_is_full(self, store: ScheduleStore) -> None:
        store.put_many([make_spec("a"), make_spec("b")], author="x")
        result = store.changes(None)
        specs, token = result
        assert result.full is True
        assert [s.id for s in specs] == ["analytics.a", "analytics.b"]
        assert isinstance(token, ChangeToken)

    def test_changes_returns_only_modified_specs(self, store: ScheduleStore) -> None:
        store.put_many([make_spec(f"s{i}") for i in range(6)], author="x")
        first = store.changes(None)
        empty = store.changes(first.token)
        assert (empty.specs, empty.full) == ([], False)
        store.put(make_spec("s1", schedule="@daily"), author="x")
        store.pause("analytics.s4", author="x")
        second = store.changes(first.token)
        assert second.full is False
        assert sorted((s.id, s.revision) for s in second.specs) == [("analytics.s1", 2), ("analytics.s4", 2)]
        assert store.changes(second.token).specs == []

    def test_changes_reports_new_and_deleted_specs(self, store: ScheduleStore) -> None:
        store.put_many([make_spec("a"), make_spec("b")], author="x")
        token = store.changes(None).token
        store.put(make_spec("c"), author="x")
        store.delete("analytics.a", author="x")
        result = store.changes(token)
        by_id = {s.id: s for s in result.specs}
        if self.incremental_adds_and_deletes:
            assert result.full is False
            assert sorted(by_id) == ["analytics.a", "analytics.c"]
        else:
            assert result.full is True
        assert by_id["analytics.a"].deleted is True
        assert by_id["analytics.c"].deleted is False

    def test_a_token_from_elsewhere_gives_a_full_listing(self, store: ScheduleStore) -> None:
        store.put_many([make_spec("a"), make_spec("b")], author="x")
        result = store.changes(ChangeToken("some-other-store:12"))
        assert result.full is True
        assert [s.id for s in result.specs] == ["analytics.a", "analytics.b"]


def create_v1_schema(uri: str, specs: list[dict[str, Any]]) -> None:
    """Build a store as schema version 1 wrote it (by hand, not with the store's code).

    Version 1 had no ``action`` column in ``schedule_spec_revisions`` and no namespace index. Each
    spec gets two revisions (the second one identical), ``change_seq`` 1 and 2.
    """
    import json

    import sqlalchemy as sa

    from airflow_provider_scheduler.store.sql import create_store_engine

    engine = create_store_engine(uri)
    pg = engine.dialect.name == "postgresql"
    pk = "pk BIGSERIAL PRIMARY KEY" if pg else "pk INTEGER PRIMARY KEY AUTOINCREMENT"
    ts = "TIMESTAMP WITH TIME ZONE" if pg else "DATETIME"
    ddl = [
        "CREATE TABLE schedule_store_meta (id INTEGER PRIMARY KEY, schema_version INTEGER NOT NULL, "
        "store_id VARCHAR(36) NOT NULL, change_seq BIGINT NOT NULL)",
        "CREATE TABLE schedule_specs (id VARCHAR(250) PRIMARY KEY, namespace VARCHAR(100) NOT NULL, "
        "name VARCHAR(150) NOT NULL, revision INTEGER NOT NULL, spec TEXT NOT NULL, paused BOOLEAN NOT NULL, "
        f"deleted BOOLEAN NOT NULL, author VARCHAR(250) NOT NULL, updated_at {ts} NOT NULL, "
        "change_seq BIGINT NOT NULL)",
        "CREATE INDEX ix_schedule_specs_change_seq ON schedule_specs (change_seq)",
        f"CREATE TABLE schedule_spec_revisions ({pk}, spec_id VARCHAR(250) NOT NULL, "
        "revision INTEGER NOT NULL, spec TEXT NOT NULL, paused BOOLEAN NOT NULL, "
        "deleted BOOLEAN NOT NULL, author VARCHAR(250) NOT NULL, "
        f"created_at {ts} NOT NULL, change_seq BIGINT NOT NULL, "
        "CONSTRAINT uq_schedule_spec_revisions_spec_id_revision UNIQUE (spec_id, revision))",
    ]
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with engine.connect() as conn, conn.begin():
        for statement in ddl:
            conn.execute(sa.text(statement))
        conn.execute(
            sa.text("INSERT INTO schedule_store_meta VALUES (1, 1, 'v1-store', 2)"),
        )
        for spec in specs:
            text = json.dumps(canonical(spec), separators=(",", ":"))
            spec_id = f"{spec['namespace']}.{spec['name']}"
            conn.execute(
                sa.text(
                    "INSERT INTO schedule_specs VALUES "
                    "(:id, :ns, :name, 2, :spec, false, false, 'v1-user', :ts, 2)"
                ),
                {"id": spec_id, "ns": spec["namespace"], "name": spec["name"], "spec": text, "ts": when},
            )
            for revision in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO schedule_spec_revisions (spec_id, revision, spec, paused, deleted, "
                        "author, created_at, change_seq) "
                        "VALUES (:id, :rev, :spec, false, false, 'v1-user', :ts, :rev)"
                    ),
                    {"id": spec_id, "rev": revision, "spec": text, "ts": when},
                )
    engine.dispose()


class SqlStoreContract(StoreContract):
    """Tests for the SQL backends only: schema creation and upgrades."""

    def test_a_new_store_is_at_the_current_schema_version(self, store: ScheduleStore) -> None:
        from airflow_provider_scheduler.store.sql import SCHEMA_VERSION

        assert store.schema_version() == SCHEMA_VERSION == 2  # type: ignore[attr-defined]

    def test_a_version_1_store_is_upgraded_and_keeps_its_specs(self, store_uri: str) -> None:
        create_v1_schema(store_uri, [make_spec("old-a"), make_spec("old-b", namespace="qa")])
        store = open_store(store_uri)
        try:
            assert store.schema_version() == 2  # type: ignore[attr-defined]
            assert [(s.id, s.revision, s.author) for s in store.list()] == [
                ("analytics.old-a", 2, "v1-user"),
                ("qa.old-b", 2, "v1-user"),
            ]
            assert [(r.revision, r.action) for r in store.history("analytics.old-a")] == [
                (1, "create"),
                (2, "update"),
            ]
            token = store.changes(None).token
            assert token.endswith(":2")
            assert store.put(make_spec("old-a", schedule="@daily"), author="new", expected_revision=2) == 3
            assert store.history("analytics.old-a")[-1].action == "update"
            assert [s.id for s in store.changes(token).specs] == ["analytics.old-a"]
        finally:
            store.close()

    def test_a_failure_in_the_middle_of_a_batch_stores_nothing(self, store: ScheduleStore) -> None:
        store.put(make_spec("kept"), author="a")
        token = store.changes(None).token

        def fail_after_update(_conn: Any, point: str) -> None:
            if point == "updated":  # the new spec is inserted and the old one updated, history not yet
                raise RuntimeError("disk on fire")

        store._between_statements = fail_after_update  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError, match="disk on fire"):
            store.put_many([make_spec("new"), make_spec("kept", schedule="@daily")], author="b")
        store._between_statements = None  # type: ignore[attr-defined]
        assert [(s.id, s.revision, s.author) for s in store.list()] == [("analytics.kept", 1, "a")]
        assert store.changes(token).specs == []
        assert [r.revision for r in store.history("analytics.kept")] == [1]
        assert store.put_many([make_spec("new")], author="b") == [1]  # the store is fine afterwards

    def test_a_token_ahead_of_the_store_gives_a_full_listing(self, store: ScheduleStore) -> None:
        store.put_many([make_spec("a"), make_spec("b")], author="x")
        token = store.changes(None).token
        store_id, _, seq = token.rpartition(":")
        ahead = store.changes(f"{store_id}:{int(seq) + 50}")  # e.g. the database was restored from a backup
        assert (ahead.full, [s.id for s in ahead.specs]) == (True, ["analytics.a", "analytics.b"])
        assert ahead.token == token

    def test_a_store_newer_than_the_provider_is_refused(self, store: ScheduleStore, store_uri: str) -> None:
        import sqlalchemy as sa

        store.put(make_spec("a"), author="x")
        store.close()
        engine = sa.create_engine(store.engine.url)  # type: ignore[attr-defined]
        with engine.connect() as conn, conn.begin():
            conn.execute(sa.text("UPDATE schedule_store_meta SET schema_version = 99"))
        engine.dispose()
        newer = open_store(store_uri)
        with pytest.raises(StoreError) as info:
            newer.list()
        assert str(info.value) == (
            "the store's schema version 99 is newer than this airflow-provider-scheduler supports (2); "
            "upgrade the provider"
        )
        newer.close()

    # damaged rows (issue 13 row 7) -------------------------------------------------------------
    @staticmethod
    def _damage(store: ScheduleStore, spec_id: str, text: str, table: str = "schedule_specs") -> None:
        import sqlalchemy as sa

        column = "id" if table == "schedule_specs" else "spec_id"
        with store.engine.connect() as conn, conn.begin():  # type: ignore[attr-defined]
            conn.execute(
                sa.text(f"UPDATE {table} SET spec = :t WHERE {column} = :i"), {"t": text, "i": spec_id}
            )

    def test_a_row_with_invalid_json_costs_only_its_own_spec(self, store: ScheduleStore) -> None:
        from airflow_provider_scheduler.store import DamagedSpecError

        store.put_many([make_spec("a"), make_spec("b"), make_spec("c")], author="x")
        token = store.changes(None).token
        self._damage(store, "analytics.b", '{"version": 1, "namesp')
        assert [s.id for s in store.list()] == ["analytics.a", "analytics.c"]
        [problem] = store.problems
        assert problem.spec_id == "analytics.b"
        assert str(problem).startswith("(root): damaged in the store: its spec is not valid JSON (")
        listed = store.list(include_damaged=True)
        assert [(s.id, s.damaged is not None, s.spec) for s in listed][1] == ("analytics.b", True, {})
        full = store.changes(None)
        assert [s.id for s in full.specs] == ["analytics.a", "analytics.c"]
        assert list(full.damaged) == ["analytics.b"]
        assert full.damaged["analytics.b"].startswith("its spec is not valid JSON (")
        assert store.changes(token).specs == []  # a write behind the store's back is no change
        with pytest.raises(DamagedSpecError, match=r"^spec analytics.b is damaged in the store: its spec"):
            store.get("analytics.b")
        with pytest.raises(DamagedSpecError):
            store.pause("analytics.b", author="x")

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("[1, 2]", "its spec is a JSON array, not an object"),
            ('"text"', "its spec is a JSON string, not an object"),
            ("null", "its spec is a JSON null, not an object"),
            (
                '{"namespace": "analytics", "name": "zzz"}',
                "its spec describes 'analytics.zzz', not 'analytics.a'",
            ),
        ],
    )
    def test_a_row_of_the_wrong_shape_is_damaged(self, store: ScheduleStore, text: str, reason: str) -> None:
        store.put_many([make_spec("a"), make_spec("b")], author="x")
        self._damage(store, "analytics.a", text)
        assert [s.id for s in store.list()] == ["analytics.b"]
        assert store.changes(None).damaged == {"analytics.a": reason}

    def test_applying_a_good_version_or_deleting_repairs_a_damaged_spec(self, store: ScheduleStore) -> None:
        from airflow_provider_scheduler.store.apply import Action, apply_plan, plan_apply

        store.put_many([make_spec("a"), make_spec("b")], author="x")
        self._damage(store, "analytics.a", "{")
        self._damage(store, "analytics.b", "{")
        plan = plan_apply(store, [make_spec("a")])
        assert [(c.spec_id, c.action, c.expected_revision) for c in plan.changes] == [
            ("analytics.a", Action.UPDATE, 1)
        ]
        assert apply_plan(store, plan, author="fixer") == {"analytics.a": 2}
        assert store.get("analytics.a").spec == canonical(make_spec("a"))  # type: ignore[union-attr]
        assert store.delete("analytics.b", author="fixer") == 2
        assert [s.id for s in store.list()] == ["analytics.a"]
        assert store.problems == []
        history = store.history("analytics.b")
        assert [(r.revision, r.action, r.damaged is not None) for r in history] == [
            (1, "create", False),
            (2, "delete", True),
        ]

    def test_a_damaged_history_row_does_not_break_history(self, store: ScheduleStore) -> None:
        store.put(make_spec("a"), author="x")
        store.put(make_spec("a", schedule="@daily"), author="x")
        self._damage(store, "analytics.a", "not json", table="schedule_spec_revisions")
        revisions = store.history("analytics.a")
        assert [r.revision for r in revisions] == [1, 2]
        assert all(r.damaged and r.damaged.startswith("its spec is not valid JSON") for r in revisions)
