"""The loader under damage: a damaged snapshot is rebuilt (issue 13 row 6), a spec the store cannot
read costs only itself (row 7), and every spec is re-checked against the current templates and
policy (row 8)."""

from __future__ import annotations

import json
import zlib

import pytest
from factory_helpers import make_spec

from airflow_provider_scheduler.factory import load_schedules
from airflow_provider_scheduler.factory.loader import policy_digest
from airflow_provider_scheduler.factory.snapshot import read_snapshot
from airflow_provider_scheduler.spec.policy import GovernancePolicy
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates
from airflow_provider_scheduler.templates.registry import TemplateRegistry

N = 120


def _load(env, **kwargs):
    kwargs.setdefault("pause_sync_conn_id", None)
    return load_schedules({"__file__": "loader.py"}, store=env.store_uri, home=env.home, **kwargs)


def _ids(n=N):
    return [f"team.s{i:03d}" for i in range(n)]


@pytest.fixture
def loaded(env):
    """N specs in the store, loaded once (so the snapshot exists and is complete)."""
    env.put(*[make_spec(f"s{i:03d}") for i in range(N)])
    result = _load(env)
    assert result.dag_ids == _ids()
    return env


def _break_store(env):
    env.db.rename(env.root / "away.db")
    env.db.mkdir()  # SQLite cannot open a directory: the store is unreachable


def _mend_store(env):
    env.db.rmdir()
    (env.root / "away.db").rename(env.db)


class TestDamagedSnapshot:
    def test_truncated_snapshot_is_rebuilt_from_a_full_read(self, loaded):
        env = loaded
        data = env.snapshot().read_bytes()
        env.snapshot().write_bytes(data[: int(len(data) * 0.6)])
        result = _load(env)
        assert result.dag_ids == _ids()
        assert result.refresh == "ok"
        assert result.snapshot is not None
        assert result.snapshot.startswith("damaged (")
        assert result.snapshot.endswith("rebuilt from a full read of the store")
        [status] = env.statuses()
        assert status["snapshot"] == result.snapshot
        rebuilt = read_snapshot(env.snapshot())
        assert rebuilt is not None
        assert rebuilt.damage == []
        assert sorted(rebuilt.records) == _ids()
        again = _load(env)  # and it stays whole
        assert (again.dag_ids, again.snapshot) == (_ids(), None)

    def test_until_the_store_answers_the_readable_part_is_used_and_not_written_back(self, loaded):
        env = loaded
        data = env.snapshot().read_bytes()
        cut = data[: int(len(data) * 0.6)]
        env.snapshot().write_bytes(cut)
        _break_store(env)
        result = _load(env, bootstrap_timeout=5)
        assert result.refresh.startswith("failed: ")
        assert 0 < len(result.dag_ids) < N
        assert set(result.dag_ids) < set(_ids())
        assert "the store could not be read" in (result.snapshot or "")
        assert env.snapshot().read_bytes() == cut  # never carried forward
        _mend_store(env)
        result = _load(env)
        assert result.dag_ids == _ids()
        assert "rebuilt from a full read" in (result.snapshot or "")

    def test_a_bogus_header_is_rebuilt(self, loaded):
        env = loaded
        data = env.snapshot().read_bytes()
        end = data.index(b"\n")
        header = json.loads(data[9:end])
        header["buckets"] = [999999]
        payload = json.dumps(header).encode()
        # once with the old checksum (a hand edit) and once with a matching one (a buggy writer)
        for crc in (data[:8], b"%08x" % zlib.crc32(payload)):
            env.snapshot().write_bytes(crc + b" " + payload + data[end:])
            result = _load(env)
            assert result.dag_ids == _ids()
            assert "rebuilt from a full read" in (result.snapshot or "")
            assert read_snapshot(env.snapshot()).damage == []

    def test_bogus_header_without_store_salvages_every_record(self, loaded):
        env = loaded
        data = env.snapshot().read_bytes()
        env.snapshot().write_bytes(b"00000000 {}" + data[data.index(b"\n") :])
        _break_store(env)
        result = _load(env, bootstrap_timeout=5)
        assert result.dag_ids == _ids()  # every record line verifies on its own
        assert "its header is damaged" in (result.snapshot or "")

    def test_a_flipped_byte_costs_nothing_once_rebuilt(self, loaded):
        env = loaded
        data = bytearray(env.snapshot().read_bytes())
        at = data.index(b'"id":"team.s007"') + 40
        data[at] ^= 0x01
        env.snapshot().write_bytes(bytes(data))
        _break_store(env)
        result = _load(env, bootstrap_timeout=5)
        assert sorted(result.dag_ids) == [i for i in _ids() if i != "team.s007"]
        assert "1 record(s) are damaged" in (result.snapshot or "")
        _mend_store(env)
        result = _load(env)
        assert result.dag_ids == _ids()

    def test_worker_path_skips_a_damaged_record_and_asks_the_store(self, loaded, monkeypatch):
        env = loaded
        data = bytearray(env.snapshot().read_bytes())
        data[data.index(b'"id":"team.s042"') + 40] ^= 0x01
        env.snapshot().write_bytes(bytes(data))
        monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "team.s042")
        result = _load(env)
        assert result.dag_ids == ["team.s042"]
        assert result.refresh == "ok"  # read from the store


class TestDamagedRow:
    def _damage(self, env, spec_id, text):
        import sqlite3

        with sqlite3.connect(env.db) as conn:
            conn.execute("UPDATE schedule_specs SET spec = ? WHERE id = ?", (text, spec_id))

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ('{"version": 1, "namespace": "te', "its spec is not valid JSON"),
            ("[1, 2]", "its spec is a JSON array, not an object"),
            ('{"namespace": "other", "name": "x"}', "its spec describes 'other.x'"),
        ],
    )
    def test_a_bad_row_costs_only_its_own_spec(self, env, text, reason):
        env.put(*[make_spec(f"s{i:03d}") for i in range(20)])
        self._damage(env, "team.s005", text)
        result = _load(env)  # a fresh loader: full read
        assert result.dag_ids == [i for i in _ids(20) if i != "team.s005"]
        assert result.errors["team.s005"].startswith(f"damaged in the store: {reason}")
        again = _load(env)  # still reported on the next parse (kept in the snapshot)
        assert again.errors["team.s005"] == result.errors["team.s005"]
        env.put(make_spec("s005", tags=["fixed"]))  # a good write repairs it
        fixed = _load(env)
        assert fixed.dag_ids == _ids(20)
        assert fixed.errors == {}

    def test_a_damaged_spec_file_costs_only_its_own_spec(self, env):
        from airflow_provider_scheduler.store import open_store

        folder = env.root / "files"
        uri = f"file://{folder}"
        store = open_store(uri)
        try:
            store.put_many([make_spec("a"), make_spec("b"), make_spec("c")], author="test")
        finally:
            store.close()
        kwargs = {"store": uri, "home": env.home, "pause_sync_conn_id": None}
        assert load_schedules({}, **kwargs).dag_ids == ["team.a", "team.b", "team.c"]
        (folder / "team" / "b.yaml").write_text("version: 1\nname: [torn\n")
        for _ in range(2):  # the parse that sees it, and the next one (nothing changed since)
            result = load_schedules({}, **kwargs)
            assert result.dag_ids == ["team.a", "team.c"]
            assert result.errors["team.b"].startswith("damaged in the store: team/b.yaml: ")
        (folder / "team" / "b.yaml").write_text(
            (folder / "team" / "a.yaml").read_text().replace(": a\n", ": b\n")
        )
        result = load_schedules({}, **kwargs)
        assert (result.dag_ids, result.errors) == (["team.a", "team.b", "team.c"], {})

    def test_a_spec_that_is_not_canonical_is_reported_not_fatal(self, env):
        env.put(make_spec("a"), make_spec("b"))
        self._damage(env, "team.a", json.dumps({"namespace": "team", "name": "a", "tasks": "nope"}))
        result = _load(env)
        assert result.dag_ids == ["team.b"]
        assert "team.a" in result.errors


def _http_registry(*connections):
    settings = TemplateSettings(http_connections=connections)
    return TemplateRegistry(builtin_templates(settings))


def _http_spec(name, conn):
    return make_spec(name, tasks=[{"id": "call", "template": "http_request", "with": {"conn_id": conn}}])


class TestPolicyRecheck:
    def _put(self, env, registry, *specs):
        from airflow_provider_scheduler.store import open_store

        store = open_store(env.store_uri, registry=registry, policy=GovernancePolicy())
        try:
            store.put_many(list(specs), author="test")
        finally:
            store.close()

    def test_a_connection_removed_from_the_allow_list_stops_the_specs_using_it(self, env):
        both = _http_registry("api_a", "api_b")
        self._put(env, both, _http_spec("uses-a", "api_a"), _http_spec("uses-b", "api_b"), make_spec("plain"))
        assert _load(env, registry=both).dag_ids == ["team.plain", "team.uses-a", "team.uses-b"]
        only_a = _http_registry("api_a")
        result = _load(env, registry=only_a)
        assert result.dag_ids == ["team.plain", "team.uses-a"]
        reason = result.errors["team.uses-b"]
        assert reason.startswith("no longer passes this deployment's templates and policy: ")
        assert "tasks[0].with.conn_id" in reason
        assert '"api_a"' in reason
        [status] = env.statuses()
        assert status["errors"] == {"team.uses-b": reason}
        assert _load(env, registry=only_a).errors == {"team.uses-b": reason}  # from the cache
        assert _load(env, registry=both).dag_ids == ["team.plain", "team.uses-a", "team.uses-b"]

    def test_a_tightened_limit_stops_the_specs_over_it(self, env):
        env.put(make_spec("four"), make_spec("two", tasks=[{"id": "a", "template": "empty"}]))
        assert _load(env).dag_ids == ["team.four", "team.two"]
        result = _load(env, policy=GovernancePolicy(max_tasks=3))
        assert result.dag_ids == ["team.two"]
        assert "at most 3" in result.errors["team.four"] or "3" in result.errors["team.four"]
        assert result.errors["team.four"].startswith("no longer passes")

    def test_worker_path_applies_the_current_policy_too(self, env, monkeypatch):
        env.put(make_spec("four"))
        _load(env)
        monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "team.four")
        assert _load(env).dag_ids == ["team.four"]
        result = _load(env, policy=GovernancePolicy(max_tasks=3))
        assert result.dag_ids == []
        assert result.errors["team.four"].startswith("no longer passes")

    def test_checks_are_cached_per_revision_and_policy(self, env, monkeypatch):
        import airflow_provider_scheduler.spec as spec_pkg

        calls: list[str] = []
        real = spec_pkg.parse_spec

        def counting(data, **kwargs):
            calls.append(f"{data['namespace']}.{data['name']}")
            return real(data, **kwargs)

        env.put(*[make_spec(f"s{i:03d}") for i in range(10)])
        monkeypatch.setattr(spec_pkg, "parse_spec", counting)
        _load(env)
        assert sorted(calls) == _ids(10)  # each spec once
        calls.clear()
        _load(env)
        assert calls == []  # nothing changed: nothing re-validated
        env.put(make_spec("s003", tags=["new"]))
        _load(env)
        assert calls == ["team.s003"]  # only the changed spec
        calls.clear()
        _load(env, policy=GovernancePolicy(max_retries=5))
        assert sorted(calls) == _ids(10)  # a new policy: every spec once more

    def test_the_digest_follows_every_allow_list_and_limit(self):
        base = policy_digest(_http_registry("a"), GovernancePolicy())
        assert policy_digest(_http_registry("a"), GovernancePolicy()) == base
        assert policy_digest(_http_registry("b"), GovernancePolicy()) != base
        assert policy_digest(_http_registry("a"), GovernancePolicy(max_params=3)) != base
        targets = TemplateRegistry(builtin_templates(TemplateSettings(dag_targets={"*": ("x.*",)})))
        assert policy_digest(targets, GovernancePolicy()) != policy_digest(
            TemplateRegistry(builtin_templates(TemplateSettings())), GovernancePolicy()
        )
        registry = _http_registry("a")
        registry.disable("empty")
        assert policy_digest(registry, GovernancePolicy()) != base
        allowed = GovernancePolicy(allowed_templates={"team": ["empty"]})
        assert policy_digest(_http_registry("a"), allowed) != base
