"""The store contract on SQLite and the file store, plus what is specific to each of them."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from store_contract import SqlStoreContract, StoreContract, canonical, make_spec

from airflow_provider_scheduler.store import (
    ConflictError,
    InvalidStoreUriError,
    ReadOnlyStoreError,
    ScheduleStore,
    StoreError,
    StoreUnavailableError,
    open_store,
    redact_uri,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


class TestSqliteStore(SqlStoreContract):
    @pytest.fixture
    def store_uri(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'specs.db'}"


class TestInMemorySqliteStore(StoreContract):
    @pytest.fixture
    def store_uri(self) -> str:
        return "sqlite://"


class TestFileStore(StoreContract):
    incremental_adds_and_deletes = False

    @pytest.fixture
    def store_uri(self, tmp_path: Path) -> str:
        return f"file://{tmp_path / 'specs'}"


class TestOpenStore:
    def test_default_uri_comes_from_the_airflow_config_option(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__STORE", f"sqlite:///{tmp_path / 'configured.db'}")
        store = open_store()
        try:
            store.put(make_spec("cfg"), author="x")
        finally:
            store.close()
        assert store.uri == f"sqlite:///{tmp_path / 'configured.db'}"
        assert (tmp_path / "configured.db").exists()

    def test_empty_option_means_sqlite_in_airflow_home(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow.configuration import AIRFLOW_HOME

        from airflow_provider_scheduler.store import default_store_uri

        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__STORE", "")
        assert default_store_uri() == f"sqlite:///{Path(AIRFLOW_HOME) / 'schedule_specs.db'}"

    @pytest.mark.parametrize(
        ("uri", "message"),
        [
            (
                "not a uri",
                "store URI 'not a uri' is not a URI; expected sqlite:///PATH, "
                "postgresql://USER@HOST:PORT/DB or file:///DIR",
            ),
            (
                "mysql://u:pw@h/db",
                "store URI 'mysql://u:***@h/db' has an unsupported scheme 'mysql'; expected "
                "sqlite:///PATH, postgresql://USER@HOST:PORT/DB or file:///DIR",
            ),
            ("file://server/share", "store URI 'file://server/share': expected file:///ABSOLUTE/DIR"),
            (
                "file:///tmp/x?mode=rx",
                "store URI 'file:///tmp/x?mode=rx': mode must be 'ro' or 'rw', not 'rx'",
            ),
            ("file:///tmp/x?colour=1", "store URI 'file:///tmp/x?colour=1': unknown option(s) colour"),
            (
                "postgresql://app:s3cret@db:port/specs",
                "store URI 'postgresql://app:***@db:port/specs' is malformed "
                "(check the host, port and database parts)",
            ),
        ],
    )
    def test_malformed_uri(self, uri: str, message: str) -> None:
        with pytest.raises(InvalidStoreUriError) as info:
            open_store(uri)
        assert str(info.value) == message

    def test_unreachable_sqlite(self, tmp_path: Path) -> None:
        store = open_store(f"sqlite:///{tmp_path / 'missing-dir' / 'specs.db'}")
        with pytest.raises(StoreUnavailableError) as info:
            store.list()
        assert str(info.value) == (
            f"the store at sqlite:///{tmp_path / 'missing-dir' / 'specs.db'} is unreachable: "
            "unable to open database file"
        )

    def test_unreachable_postgresql_hides_the_password(self) -> None:
        # postgresql:// picks psycopg 3 on SQLAlchemy 2 and psycopg2 on SQLAlchemy 1.4 (Airflow 2.11)
        store = open_store("postgresql://app:s3cret@127.0.0.1:1/specs")  # nothing listens on port 1
        with pytest.raises(StoreUnavailableError) as info:
            store.put(make_spec("x"), author="x")
        assert str(info.value).startswith(
            "the store at postgresql://app:***@127.0.0.1:1/specs is unreachable: "
        )
        assert "s3cret" not in str(info.value)
        assert "s3cret" not in repr(store)

    def test_a_missing_postgresql_driver_says_what_to_install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from airflow_provider_scheduler.store import sql

        monkeypatch.setattr(sql, "_importable", lambda module: False)
        for module in ("psycopg", "psycopg2"):  # not installed, so not loaded either
            monkeypatch.delitem(sys.modules, module, raising=False)
        with pytest.raises(InvalidStoreUriError) as info:
            open_store("postgresql://app:pw@db/specs")
        if sql.SQLALCHEMY_2:
            assert str(info.value) == (
                "store URI 'postgresql://app:***@db/specs' needs a PostgreSQL driver: "
                "`pip install 'airflow-provider-scheduler[postgres]'` (psycopg 3) or psycopg2-binary"
            )
        else:
            assert str(info.value) == (
                "store URI 'postgresql://app:***@db/specs' needs the psycopg2 driver with SQLAlchemy "
                f"{sql.sa.__version__} (Airflow 2.x): `pip install psycopg2-binary`"
            )

    @pytest.mark.parametrize(
        ("installed", "loaded", "driver"),
        [
            ({"psycopg", "psycopg2"}, set(), "psycopg2"),  # SQLAlchemy's default, the cheaper import
            ({"psycopg", "psycopg2"}, {"psycopg"}, "psycopg"),  # already loaded in this process: free
            ({"psycopg", "psycopg2"}, {"psycopg", "psycopg2"}, "psycopg2"),
            ({"psycopg"}, set(), "psycopg"),
        ],
    )
    def test_plain_postgresql_uri_picks_the_cheapest_installed_driver(
        self, monkeypatch: pytest.MonkeyPatch, installed: set[str], loaded: set[str], driver: str
    ) -> None:
        from airflow_provider_scheduler.store import sql

        if not sql.SQLALCHEMY_2 and driver == "psycopg":
            pytest.skip("SQLAlchemy 1.4 (Airflow 2.11) has no psycopg 3 dialect")
        monkeypatch.setattr(sql, "_importable", lambda module: module in installed)
        for module in ("psycopg", "psycopg2"):
            if module in loaded:
                monkeypatch.setitem(sys.modules, module, sys.modules.get(module) or types.ModuleType(module))
            else:
                monkeypatch.delitem(sys.modules, module, raising=False)
        assert sql._sqlalchemy_url("postgresql://app:pw@db/specs") == f"postgresql+{driver}://app:pw@db/specs"

    def test_redact_uri(self) -> None:
        assert (
            redact_uri("postgresql://u:p%40ss@h:5/d?sslmode=require")
            == "postgresql://u:***@h:5/d?sslmode=require"
        )
        assert redact_uri("postgresql://h/d?user=u&password=x") == "postgresql://h/d?user=u&password=***"
        assert redact_uri("sqlite:////a/b.db") == "sqlite:////a/b.db"

    def test_importing_the_store_imports_neither_airflow_nor_sqlalchemy(self) -> None:
        code = (
            "import sys, airflow_provider_scheduler.store as s; "
            "print(sorted(m for m in ('airflow', 'sqlalchemy') if m in sys.modules))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip() == "[]"


class TestFileStoreSpecifics:
    @pytest.fixture
    def folder(self, tmp_path: Path) -> Path:
        return tmp_path / "specs"

    @pytest.fixture
    def store(self, folder: Path) -> Iterator[ScheduleStore]:
        store = open_store(f"file://{folder}")
        yield store
        store.close()

    def test_writes_one_yaml_file_per_spec(self, store: ScheduleStore, folder: Path) -> None:
        import yaml

        store.put_many([make_spec("a"), make_spec("b", namespace="qa")], author="x")
        assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.yaml")) == [
            "analytics/a.yaml",
            "qa/b.yaml",
        ]
        assert yaml.safe_load((folder / "analytics" / "a.yaml").read_text()) == canonical(make_spec("a"))

    def test_read_only_store_refuses_writes(self, store: ScheduleStore, folder: Path) -> None:
        store.put(make_spec("a"), author="x")
        ro = open_store(f"file://{folder}?mode=ro")
        assert ro.get("analytics.a") is not None
        for call in (
            lambda: ro.put(make_spec("b"), author="x"),
            lambda: ro.put_many([make_spec("b")], author="x"),
            lambda: ro.pause("analytics.a", author="x"),
            lambda: ro.delete("analytics.a", author="x"),
        ):
            with pytest.raises(ReadOnlyStoreError) as info:
                call()
            assert (
                str(info.value)
                == f"the store at file://{folder}?mode=ro is read-only; writes are not allowed"
            )
        assert sorted(p.name for p in folder.rglob("*.yaml")) == ["a.yaml"]

    def test_an_upper_case_json_file_is_read_and_rewritten_as_json(
        self, store: ScheduleStore, folder: Path
    ) -> None:
        path = folder / "team" / "HAND.JSON"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(make_spec("hand", namespace="team")))
        assert store.require("team.hand").revision == 1
        store.put(make_spec("hand", namespace="team", schedule="@daily"), author="x")
        assert json.loads(path.read_text())["schedule"] == "@daily"

    def test_folder_that_cannot_be_listed_makes_the_store_unavailable(
        self, store: ScheduleStore, folder: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import os

        store.put(make_spec("a"), author="x")
        real_scandir = os.scandir

        def scandir(path: str) -> object:
            if path.endswith("analytics"):
                raise PermissionError(13, "Permission denied", path)
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
        with pytest.raises(StoreUnavailableError, match="Permission denied"):
            store.list()

    def test_files_the_store_never_wrote_are_revision_1(self, folder: Path) -> None:
        (folder / "team").mkdir(parents=True)
        (folder / "team" / "hand.json").write_text(json.dumps(make_spec("hand", namespace="team")))
        store = open_store(f"file://{folder}?mode=ro")
        stored = store.get("team.hand")
        assert stored is not None
        assert (stored.revision, stored.author, stored.spec) == (
            1,
            "(file)",
            canonical(make_spec("hand", namespace="team")),
        )
        assert [(r.revision, r.action, r.author) for r in store.history("team.hand")] == [
            (1, "create", "(file)")
        ]

    def test_an_edit_behind_the_stores_back_is_a_revision(self, store: ScheduleStore, folder: Path) -> None:
        import yaml

        store.put(make_spec("a"), author="alice")
        (folder / "analytics" / "a.yaml").write_text(yaml.safe_dump(make_spec("a", schedule="@daily")))
        stored = store.get("analytics.a")
        assert (stored.revision, stored.author) == (2, "(external edit)")  # type: ignore[union-attr]
        with pytest.raises(ConflictError, match="is at revision 2, your change was based on revision 1"):
            store.put(make_spec("a", schedule="@hourly"), author="bob", expected_revision=1)
        assert store.put(make_spec("a", schedule="@hourly"), author="bob", expected_revision=2) == 3
        assert [(r.revision, r.author) for r in store.history("analytics.a")] == [
            (1, "alice"),
            (2, "(external edit)"),
            (3, "bob"),
        ]

    def test_an_invalid_file_is_skipped_and_reported(self, store: ScheduleStore, folder: Path) -> None:
        store.put(make_spec("good"), author="x")
        (folder / "analytics" / "bad.yaml").write_text("namespace: analytics\nname: bad\nschedule: nope\n")
        assert [s.id for s in store.list()] == ["analytics.good"]
        assert [p.source for p in store.problems] == ["analytics/bad.yaml"]  # type: ignore[attr-defined]

    def test_a_damaged_spec_file_costs_only_its_own_spec(self, store: ScheduleStore, folder: Path) -> None:
        from airflow_provider_scheduler.store import DamagedSpecError

        store.put_many([make_spec("a"), make_spec("b")], author="x")
        token = store.changes(None).token
        (folder / "analytics" / "a.yaml").write_text("version: 1\nnamespace: [unclosed\n")  # torn by hand
        assert [s.id for s in store.list()] == ["analytics.b"]
        damaged = store.list(include_damaged=True)[0]
        assert (damaged.id, damaged.revision, damaged.spec) == ("analytics.a", 1, {})
        assert damaged.damaged is not None
        assert damaged.damaged.startswith("analytics/a.yaml: ")
        changes = store.changes(token)
        assert changes.full
        assert [s.id for s in changes.specs] == ["analytics.b"]
        assert list(changes.damaged) == ["analytics.a"]
        with pytest.raises(
            DamagedSpecError, match=r"^spec analytics\.a is damaged in the store: analytics/a\.yaml"
        ):
            store.get("analytics.a")
        with pytest.raises(DamagedSpecError):
            store.pause("analytics.a", author="x")
        assert store.put(make_spec("a", schedule="@daily"), author="fixer", expected_revision=1) == 2
        assert store.get("analytics.a").spec["schedule"] == "@daily"  # type: ignore[union-attr]
        assert [r.revision for r in store.history("analytics.a")] == [1, 2]
        assert store.changes(None).damaged == {}

    def test_deleting_a_spec_whose_file_is_damaged_removes_the_file(
        self, store: ScheduleStore, folder: Path
    ) -> None:
        store.put(make_spec("a"), author="x")
        (folder / "analytics" / "a.yaml").write_text("{{{")
        assert store.delete("analytics.a", author="fixer") == 2
        assert not (folder / "analytics" / "a.yaml").exists()
        assert store.list(include_damaged=True) == []
        assert [(r.revision, r.action) for r in store.history("analytics.a")] == [
            (1, "create"),
            (2, "delete"),
        ]

    def test_a_spec_defined_twice_keeps_the_first_file(self, store: ScheduleStore, folder: Path) -> None:
        store.put(make_spec("dup"), author="x")
        (folder / "zz.json").write_text(json.dumps(make_spec("dup", schedule="@daily")))
        assert store.get("analytics.dup").spec == canonical(make_spec("dup"))  # type: ignore[union-attr]
        problems = store.problems  # type: ignore[attr-defined]
        assert [(p.source, str(p)) for p in problems] == [
            (
                "zz.json",
                "(root): spec analytics.dup is already defined in analytics/dup.yaml; this copy is ignored",
            )
        ]

    def test_a_spec_in_a_multi_spec_file_cannot_be_written(self, store: ScheduleStore, folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "all.json").write_text(json.dumps([make_spec("one"), make_spec("two")]))
        assert [s.id for s in store.list()] == ["analytics.one", "analytics.two"]
        with pytest.raises(StoreError) as info:
            store.pause("analytics.one", author="x")
        assert str(info.value) == (
            "spec analytics.one is defined in all.json together with other specs; "
            "edit that file, or move the spec to its own file"
        )

    def test_a_missing_folder_is_unavailable(self, folder: Path) -> None:
        store = open_store(f"file://{folder}?mode=ro")
        with pytest.raises(StoreUnavailableError) as info:
            store.changes(None)
        assert (
            str(info.value)
            == f"the store at file://{folder}?mode=ro is unreachable: directory {folder} does not exist"
        )

    def test_changes_without_any_change_parses_nothing(self, store: ScheduleStore) -> None:
        store.put_many([make_spec(f"s{i}") for i in range(3)], author="x")
        token = store.changes(None).token
        fresh = open_store(store.uri)  # a new process: no parse cache
        result = fresh.changes(token)
        assert (result.specs, result.full, result.token) == ([], False, token)
        assert fresh._cache == {}  # type: ignore[attr-defined]
