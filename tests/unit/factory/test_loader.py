"""DagBag-level tests of the dags-folder loader on a temp dags folder with a SQLite spec store."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import pytest
import sqlalchemy
from factory_helpers import dagbag, make_spec

from airflow_provider_scheduler.cli.status import collect_status
from airflow_provider_scheduler.factory import load_schedules, shard_of
from airflow_provider_scheduler.factory.loader import RecordOnceFinished
from airflow_provider_scheduler.factory.snapshot import read_snapshot
from airflow_provider_scheduler.templates.registry import TaskTemplate

SQLALCHEMY_2 = int(sqlalchemy.__version__.split(".")[0]) >= 2


def _pause_sync(env):
    snap = read_snapshot(env.snapshot())
    assert snap is not None
    return snap.pause_sync


def _edges(dag):
    return [(t.task_id, sorted(t.upstream_task_ids)) for t in dag.tasks]


class TestLoadFromStore:
    def test_loads_every_spec_and_writes_snapshot(self, env):
        env.put(make_spec("a"), make_spec("b"), make_spec("c", namespace="other"))
        env.loader()
        bag = dagbag(env.dags)
        assert bag.import_errors == {}
        assert sorted(bag.dags) == ["other.c", "team.a", "team.b"]
        dag = bag.dags["team.a"]
        assert _edges(dag) == [
            ("extract", []),
            ("left", ["extract"]),
            ("right", ["extract"]),
            ("load", ["left", "right"]),
        ]
        snap = read_snapshot(env.snapshot())
        assert snap is not None
        assert sorted(snap.records) == ["other.c", "team.a", "team.b"]
        [status] = env.statuses()
        assert (status["refresh"], status["loaded"], status["errors"]) == ("ok", 3, {})

    def test_docs_name_the_stored_revision_and_its_author(self, env):
        env.put(make_spec("a"))
        store = env.store()
        try:
            store.pause("team.a", author="bob")
            stored = store.get("team.a")
        finally:
            store.close()
        env.loader()
        doc = dagbag(env.dags).dags["team.a"].doc_md
        when = stored.updated_at.isoformat(timespec="seconds")
        assert f"Generated from the schedule spec `team.a`, revision 2 by `bob` at `{when}`." in doc
        assert "`airflow-scheduler apply team.a.yaml`" in doc

    def test_namespace_filter(self, env):
        env.put(make_spec("a"), make_spec("c", namespace="other"))
        env.loader(namespace="other")
        assert sorted(dagbag(env.dags).dags) == ["other.c"]

    def test_change_and_delete_propagate_and_others_stay(self, env):
        env.put(make_spec("a"), make_spec("b"), make_spec("c"))
        env.loader()
        before = dagbag(env.dags)
        env.put(make_spec("a", tags=["changed"]))
        store = env.store()
        try:
            store.delete("team.c", author="test")
        finally:
            store.close()
        after = dagbag(env.dags)
        assert sorted(after.dags) == ["team.a", "team.b"]
        assert "changed" in after.dags["team.a"].tags
        assert "changed" not in before.dags["team.a"].tags
        assert _edges(after.dags["team.b"]) == _edges(before.dags["team.b"])
        assert sorted(after.dags["team.b"].tags) == sorted(before.dags["team.b"].tags)

    def test_paused_spec_is_paused_upon_creation(self, env):
        env.put(make_spec("a", paused=True), make_spec("b"))
        env.loader()
        bag = dagbag(env.dags)
        assert bag.dags["team.a"].is_paused_upon_creation is True
        assert bag.dags["team.b"].is_paused_upon_creation is False

    def test_pause_in_store_is_queued_for_the_existing_dag(self, env):
        env.put(make_spec("a"), make_spec("b"))
        env.loader(pause_sync_conn_id=None)
        dagbag(env.dags)
        store = env.store()
        try:
            store.pause("team.a", author="test")
        finally:
            store.close()
        bag = dagbag(env.dags)
        assert bag.dags["team.a"].is_paused_upon_creation is True
        snap = read_snapshot(env.snapshot())
        assert snap is not None
        assert snap.pause_sync == {"team.a": True}

    def test_a_spec_back_after_a_delete_gets_its_paused_state_pushed(self, env):
        # `delete` pauses the DAG in Airflow; when the spec comes back, is_paused_upon_creation does not
        # act (Airflow still knows the DAG), so the loader pushes the spec's own state.
        env.put(make_spec("a"), make_spec("b"))
        env.loader(pause_sync_conn_id=None)
        dagbag(env.dags)
        store = env.store()
        try:
            store.delete("team.a", author="test")
        finally:
            store.close()
        dagbag(env.dags)
        assert _pause_sync(env) == {}
        env.put(make_spec("a"), make_spec("c"))
        assert sorted(dagbag(env.dags).dags) == ["team.a", "team.b", "team.c"]
        assert _pause_sync(env) == {"team.a": False}


class TestIsolation:
    @pytest.fixture
    def registry(self, monkeypatch):
        """The default registry plus a template whose builder fails when asked to."""
        import airflow_provider_scheduler.templates as templates_pkg
        from airflow_provider_scheduler.templates.builtins import builtin_templates
        from airflow_provider_scheduler.templates.registry import TemplateRegistry

        def build_flaky(*, task_id, with_, **kwargs):
            if with_.get("fail"):
                raise RuntimeError("the flaky builder failed on purpose")
            from airflow.providers.common.compat.sdk import BaseOperator

            return BaseOperator(task_id=task_id, **kwargs)

        flaky = TaskTemplate(
            "flaky",
            description="test",
            with_schema={"type": "object", "properties": {"fail": {"type": "boolean"}}},
            builder=build_flaky,
        )
        registry = TemplateRegistry([*builtin_templates(), flaky])
        monkeypatch.setattr(templates_pkg, "default_registry", lambda: registry)
        return registry

    def test_bad_spec_never_hides_the_others(self, env, registry, capsys):
        from airflow_provider_scheduler.store import open_store

        store = open_store(env.store_uri, registry=registry)
        try:
            store.put_many(
                [
                    make_spec("good"),
                    make_spec("broken", tasks=[{"id": "t", "template": "flaky", "with": {"fail": True}}]),
                    make_spec("fine", tasks=[{"id": "t", "template": "flaky", "with": {"fail": False}}]),
                ],
                author="test",
            )
        finally:
            store.close()
        env.loader()
        bag = dagbag(env.dags)
        assert bag.import_errors == {}
        assert sorted(bag.dags) == ["team.fine", "team.good"]
        [status] = env.statuses()
        assert status["errors"] == {
            "team.broken": "tasks[0] (t): template 'flaky' failed: the flaky builder failed on purpose"
        }
        report = collect_status(env.store_uri, str(env.home))
        assert report["duplicates"] == {}

        registry._tasks.pop("flaky")  # the template is removed from the deployment
        bag = dagbag(env.dags)
        assert sorted(bag.dags) == ["team.good"]
        [status] = env.statuses()
        assert status["errors"] == {
            "team.broken": "tasks[0] (t): no template named 'flaky' is registered",
            "team.fine": "tasks[0] (t): no template named 'flaky' is registered",
        }

    def test_status_command_shows_errors_and_exits_1(self, env, registry, capsys):
        import argparse

        from airflow_provider_scheduler.cli.status import add_status_command

        registry.disable("empty")
        env.put(make_spec("a"))
        env.loader()
        assert dagbag(env.dags).dags == {}
        parser = argparse.ArgumentParser()
        add_status_command(parser.add_subparsers())
        args = parser.parse_args(["status", "--store", env.store_uri, "--home", str(env.home)])
        assert args.func(args) == 1
        out = capsys.readouterr().out
        assert "ERROR:    spec team.a: tasks[0] (extract): the task template 'empty' is disabled" in out
        assert "loaded:   0 DAGs" in out

    def test_status_prints_when_the_snapshot_was_written_never_none(self, env, capsys):
        import argparse

        from airflow_provider_scheduler.cli.status import add_status_command

        env.put(make_spec("a"))
        env.loader()
        dagbag(env.dags)
        written = env.statuses()[0]["snapshot_written_at"]
        dagbag(env.dags)  # nothing changed: the snapshot is not rewritten, and it still has a time
        [status] = env.statuses()
        assert (status["refresh"], status["snapshot_written_at"]) == ("ok", written)
        assert written is not None
        parser = argparse.ArgumentParser()
        add_status_command(parser.add_subparsers())
        args = parser.parse_args(["status", "--store", env.store_uri, "--home", str(env.home)])
        assert args.func(args) == 0
        assert f"  refresh:  ok (snapshot written {written})\n" in capsys.readouterr().out

    def test_existing_name_in_module_is_reported_not_overwritten(self, env):
        env.put(make_spec("a"), make_spec("b"))
        module = {"__file__": "x.py", "team.a": "already here"}
        result = load_schedules(module, store=env.store_uri, home=env.home)
        assert module["team.a"] == "already here"
        assert result.dag_ids == ["team.b"]
        assert result.errors == {
            "team.a": "the loader module already defines 'team.a'; the spec was not loaded"
        }

    def test_duplicate_loaders_are_reported_by_status(self, env):
        env.put(make_spec("a"))
        env.loader("one.py")
        env.loader("two.py")
        bag = dagbag(env.dags)
        assert list(bag.dags) == ["team.a"]
        report = collect_status(env.store_uri, str(env.home))
        assert list(report["duplicates"]) == ["team.a"]
        assert len(report["duplicates"]["team.a"]) == 2


class TestShardsAndContext:
    def test_shards_cover_every_spec_exactly_once(self, env):
        specs = [make_spec(f"s{i:02d}", namespace=f"ns{i % 3}") for i in range(30)]
        env.put(*specs)
        for i in range(3):
            env.loader(f"shard_{i}.py", shard=(i, 3))
        bag = dagbag(env.dags)
        assert sorted(bag.dags) == sorted(f"ns{i % 3}.s{i:02d}" for i in range(30))
        per_file: dict[str, list[str]] = {}
        for dag_id, dag in bag.dags.items():
            per_file.setdefault(dag.fileloc.rsplit("/", 1)[-1], []).append(dag_id)
        assert sorted(per_file) == ["shard_0.py", "shard_1.py", "shard_2.py"]
        for name, ids in per_file.items():
            index = int(name[len("shard_")])
            assert all(shard_of(d, 3) == index for d in ids)
        assert sum(len(v) for v in per_file.values()) == 30

    def test_bad_shard_argument(self, env):
        with pytest.raises(
            ValueError, match=r"shard must be \(index, count\) with 0 <= index < count, got \(3, 3\)"
        ):
            load_schedules({}, store=env.store_uri, home=env.home, shard=(3, 3))

    def test_parsing_context_builds_only_that_dag(self, env, monkeypatch):
        env.put(make_spec("a"), make_spec("b"), make_spec("c"))
        env.loader()
        assert len(dagbag(env.dags).dags) == 3  # writes the snapshot
        monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "team.b")
        monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "load")
        bag = dagbag(env.dags)
        assert list(bag.dags) == ["team.b"]
        assert _edges(bag.dags["team.b"])[-1] == ("load", ["left", "right"])

    def test_parsing_context_without_snapshot_reads_one_spec_from_store(self, env, monkeypatch):
        env.put(make_spec("a"), make_spec("b"))
        env.loader()
        monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "team.a")
        assert list(dagbag(env.dags).dags) == ["team.a"]
        assert not env.snapshot().exists()  # the worker path writes nothing
        monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "team.unknown")
        assert dagbag(env.dags).dags == {}


class TestStoreDown:
    def test_unreachable_store_keeps_last_known_good_set(self, env):
        env.put(make_spec("a"), make_spec("b"))
        env.loader()
        before = sorted(dagbag(env.dags).dags)
        env.db.unlink()
        env.db.mkdir()  # SQLite cannot open a directory: the store is unreachable
        after = dagbag(env.dags)
        assert sorted(after.dags) == before == ["team.a", "team.b"]
        assert after.import_errors == {}
        [status] = env.statuses()
        assert status["refresh"].startswith("failed: ")
        assert status["loaded"] == 2

    def test_hung_postgres_is_cut_by_the_time_bound(self, env, hung_server):
        env.put(make_spec("a"), make_spec("b"))
        env.loader()
        dagbag(env.dags)
        # SQLAlchemy 1.4 (Airflow 2.11) speaks PostgreSQL through psycopg2, SQLAlchemy 2 through psycopg 3.
        driver = "psycopg" if SQLALCHEMY_2 else "psycopg2"
        down_uri = f"postgresql+{driver}://u:secret@127.0.0.1:{hung_server.port}/specs"
        env.snapshot(down_uri).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(env.snapshot(), env.snapshot(down_uri))
        (env.dags / "schedules.py").unlink()
        env.loader("down.py", store=down_uri, refresh_timeout=0.5)
        bag = dagbag(env.dags)
        assert sorted(bag.dags) == ["team.a", "team.b"]
        [status] = env.statuses(down_uri)
        assert status["refresh"] == "failed: refresh did not finish within 0.5 s"
        assert "secret" not in json.dumps(status)

    def test_hung_refresh_is_cut_by_the_time_bound(self, env, monkeypatch):
        import threading

        from airflow_provider_scheduler.factory import loader

        env.put(make_spec("a"), make_spec("b"))
        env.loader(refresh_timeout=0.3)
        dagbag(env.dags)
        release = threading.Event()
        monkeypatch.setattr(loader, "_fetch_changes", lambda uri, token: release.wait(60))
        try:
            bag = dagbag(env.dags)
        finally:
            release.set()
        assert sorted(bag.dags) == ["team.a", "team.b"]
        [status] = env.statuses()
        assert status["refresh"] == "failed: refresh did not finish within 0.3 s"

    def test_no_snapshot_and_no_store_loads_nothing_and_says_why(self, env):
        env.db.mkdir()
        env.loader(bootstrap_timeout=5)
        bag = dagbag(env.dags)
        assert bag.dags == {}
        assert bag.import_errors == {}
        [status] = env.statuses()
        assert status["message"].startswith(
            f"no DAGs loaded: there is no snapshot of the spec store sqlite:///{env.db} yet "
            "and the store cannot be read ("
        )


class TestExpiry:
    def test_expired_and_finished_once_specs_drop_out(self, env):
        today = date.today()
        env.put(
            make_spec("current"),
            make_spec("expired", end_date=(today - timedelta(days=3)).isoformat()),
            make_spec("ending", end_date=(today + timedelta(days=3)).isoformat()),
            # A @once spec whose start_date is long past has not run yet: it must load (and run).
            make_spec("once-old", schedule="@once", start_date=(today - timedelta(days=30)).isoformat()),
            make_spec("once-done", schedule="@once", start_date=(today - timedelta(days=30)).isoformat()),
        )
        store = env.store()
        try:
            store.finish("team.once-done", author="airflow (run r1: failed)")
        finally:
            store.close()
        env.loader()
        assert sorted(dagbag(env.dags).dags) == ["team.current", "team.ending", "team.once-old"]
        [status] = env.statuses()
        assert sorted(status["dropped"]) == ["team.expired", "team.once-done"]
        assert status["dropped"]["team.expired"].startswith("expired (end_date ")
        assert status["dropped"]["team.once-done"].startswith("@once finished (its run ended ")

    def test_once_dag_records_its_finished_run_in_the_store(self, env):
        env.put(make_spec("suite", schedule="@once"), make_spec("daily"))
        env.loader()
        dags = dagbag(env.dags).dags
        assert dags["team.daily"].on_success_callback is None
        callbacks = dags["team.suite"].on_failure_callback
        assert dags["team.suite"].on_success_callback == callbacks
        [record] = [cb for cb in callbacks if isinstance(cb, RecordOnceFinished)]

        class Run:
            run_id, state = "scheduled__2026-01-01", "success"

        record({"dag_run": Run()})
        store = env.store()
        try:
            history = store.history("team.suite")
        finally:
            store.close()
        assert [(r.action, r.author) for r in history][-1] == (
            "finish",
            "airflow (run scheduled__2026-01-01: success)",
        )
        env.loader()  # the next parse drops it
        assert "team.suite" not in dagbag(env.dags).dags

    def test_once_callback_failure_is_logged_not_raised(self, env, caplog):
        RecordOnceFinished(f"sqlite:///{env.root}/missing/dir/specs.db", "team.suite")({})
        assert "Could not record the finished @once run of spec team.suite" in caplog.text


class TestPauseSync:
    """A pause/resume done in the store is pushed to the existing DAG through the REST API."""

    @pytest.fixture
    def api(self, monkeypatch, requests_mock):
        conn = {
            "conn_type": "scheduler",
            "host": "http://airflow.test:8080",
            "login": "admin",
            "password": "pw",
            "extra": {"api_version": "v2"},
        }
        monkeypatch.setenv("AIRFLOW_CONN_SCHEDULER_DEFAULT", json.dumps(conn))
        requests_mock.post(
            "http://airflow.test:8080/auth/token", status_code=201, json={"access_token": "jwt"}
        )
        return requests_mock

    def _pause_a(self, env):
        env.put(make_spec("a"), make_spec("b"))
        load_schedules({"__file__": "x.py"}, store=env.store_uri, home=env.home)
        store = env.store()
        try:
            store.pause("team.a", author="test")
        finally:
            store.close()

    def test_flip_is_pushed_once(self, env, api):
        patch = api.patch(
            "http://airflow.test:8080/api/v2/dags/team.a", json={"dag_id": "team.a", "is_paused": True}
        )
        self._pause_a(env)
        result = load_schedules({"__file__": "x.py"}, store=env.store_uri, home=env.home)
        assert result.dag_ids == ["team.a", "team.b"]
        assert patch.call_count == 1
        assert patch.last_request.json() == {"is_paused": True}
        assert patch.last_request.headers["Authorization"] == "Bearer jwt"
        assert _pause_sync(env) == {}
        load_schedules({"__file__": "x.py"}, store=env.store_uri, home=env.home)
        assert patch.call_count == 1  # not pushed again

    def test_failed_push_stays_queued_and_is_retried(self, env, api):
        patch = api.patch(
            "http://airflow.test:8080/api/v2/dags/team.a", status_code=503, json={"detail": "down"}
        )
        self._pause_a(env)
        result = load_schedules({"__file__": "x.py"}, store=env.store_uri, home=env.home)
        assert result.dag_ids == ["team.a", "team.b"]
        assert _pause_sync(env) == {"team.a": True}
        assert patch.call_count == 1
        retry = api.patch(
            "http://airflow.test:8080/api/v2/dags/team.a", json={"dag_id": "team.a", "is_paused": True}
        )
        load_schedules({"__file__": "x.py"}, store=env.store_uri, home=env.home)
        assert _pause_sync(env) == {}
        assert retry.call_count == 1

    def test_dag_not_created_yet_is_not_retried(self, env, api):
        api.patch(
            "http://airflow.test:8080/api/v2/dags/team.a", status_code=404, json={"detail": "not found"}
        )
        self._pause_a(env)
        load_schedules({"__file__": "x.py"}, store=env.store_uri, home=env.home)
        assert _pause_sync(env) == {}
