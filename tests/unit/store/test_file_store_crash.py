"""The file store after crashes of its writers (issue 13 row 15): atomic, durable, consistent.

Deterministic cases stop a write at each step (an exception standing in for a crash); the stress
test kills real writer processes with SIGKILL at random points and then checks the invariants.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from typing import TYPE_CHECKING, Any

import pytest
from store_contract import make_spec

from airflow_provider_scheduler.spec.policy import GovernancePolicy
from airflow_provider_scheduler.store import open_store
from airflow_provider_scheduler.store.files import EXTERNAL_AUTHOR, FileScheduleStore
from airflow_provider_scheduler.templates.builtins import builtin_templates
from airflow_provider_scheduler.templates.registry import TemplateRegistry

if TYPE_CHECKING:
    from pathlib import Path

REGISTRY = TemplateRegistry(builtin_templates())


class Crash(BaseException):
    """Stands in for the process dying at this point (not an Exception: nothing handles it)."""


def _open(folder: Path) -> FileScheduleStore:
    store = open_store(f"file://{folder}", registry=REGISTRY, policy=GovernancePolicy())
    assert isinstance(store, FileScheduleStore)
    return store


def _history_file(folder: Path, spec_id: str) -> Path:
    namespace, _, name = spec_id.partition(".")
    return folder / ".history" / namespace / f"{name}.jsonl"


def _revisions(folder: Path, spec_id: str) -> list[int]:
    lines = _history_file(folder, spec_id).read_text().splitlines()
    return [json.loads(line)["revision"] for line in lines]


def _temp_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.tmp"))


class TestInterruptedWrites:
    @pytest.fixture
    def folder(self, tmp_path: Path) -> Path:
        return tmp_path / "specs"

    def test_a_crash_after_the_rename_shows_no_phantom_external_edit(self, folder, monkeypatch):
        store = _open(folder)
        store.put(make_spec("a"), author="alice")
        monkeypatch.setattr(FileScheduleStore, "_append_history", _crash)
        with pytest.raises(Crash):
            store.put(make_spec("a", schedule="@daily"), author="bob")
        monkeypatch.undo()
        reader = _open(folder)  # another process, before any writer repairs anything
        stored = reader.get("analytics.a")
        assert stored is not None
        assert (stored.revision, stored.author, stored.spec["schedule"]) == (2, "bob", "@daily")
        assert [(r.revision, r.author) for r in reader.history("analytics.a")] == [(1, "alice"), (2, "bob")]
        writer = _open(folder)
        assert writer.put(make_spec("a", schedule="@hourly"), author="carol") == 3
        assert _revisions(folder, "analytics.a") == [1, 2, 3]
        assert [r.author for r in writer.history("analytics.a")] == ["alice", "bob", "carol"]
        assert not (folder / ".history" / "journal.json").exists()

    def test_a_crash_before_the_rename_changes_nothing(self, folder, monkeypatch):
        import airflow_provider_scheduler.store.files as files

        store = _open(folder)
        store.put(make_spec("a"), author="alice")
        real = files.write_atomic

        def crash_on_spec_file(path: Any, data: Any, **kwargs: Any) -> None:
            if str(path).endswith(".yaml"):
                raise Crash
            real(path, data, **kwargs)

        monkeypatch.setattr(files, "write_atomic", crash_on_spec_file)
        with pytest.raises(Crash):
            store.put(make_spec("a", schedule="@daily"), author="bob")
        monkeypatch.undo()
        reader = _open(folder)
        assert (reader.get("analytics.a").revision, reader.get("analytics.a").author) == (1, "alice")  # type: ignore[union-attr]
        assert _open(folder).put(make_spec("b"), author="carol") == 1  # the next writer rolls it forward
        stored = reader.get("analytics.a")
        assert (stored.revision, stored.author, stored.spec["schedule"]) == (2, "bob", "@daily")  # type: ignore[union-attr]
        assert _revisions(folder, "analytics.a") == [1, 2]

    def test_a_crash_before_the_index_is_saved_keeps_revisions_unique(self, folder, monkeypatch):
        store = _open(folder)
        store.put(make_spec("a"), author="alice")
        monkeypatch.setattr(FileScheduleStore, "_save_index", _crash)
        with pytest.raises(Crash):
            store.put(make_spec("a", schedule="@daily"), author="bob")
        monkeypatch.undo()
        assert _open(folder).get("analytics.a").author == "bob"  # type: ignore[union-attr]
        assert _open(folder).put(make_spec("a", schedule="@hourly"), author="carol") == 3
        assert _revisions(folder, "analytics.a") == [1, 2, 3]

    def test_a_crash_in_the_middle_of_a_batch_is_completed(self, folder, monkeypatch):
        import airflow_provider_scheduler.store.files as files

        store = _open(folder)
        real = files.write_atomic
        written: list[str] = []

        def crash_on_second_spec(path: Any, data: Any, **kwargs: Any) -> None:
            if str(path).endswith(".yaml"):
                written.append(str(path))
                if len(written) == 2:
                    raise Crash
            real(path, data, **kwargs)

        monkeypatch.setattr(files, "write_atomic", crash_on_second_spec)
        with pytest.raises(Crash):
            store.put_many([make_spec("a"), make_spec("b"), make_spec("c")], author="bob")
        monkeypatch.undo()
        writer = _open(folder)
        writer.put(make_spec("d"), author="carol")
        assert [(s.id, s.revision, s.author) for s in writer.list()] == [
            ("analytics.a", 1, "bob"),
            ("analytics.b", 1, "bob"),
            ("analytics.c", 1, "bob"),
            ("analytics.d", 1, "carol"),
        ]

    def test_a_torn_last_history_line_is_ignored_then_repaired(self, folder, caplog):
        store = _open(folder)
        store.put(make_spec("a"), author="alice")
        store.put(make_spec("a", schedule="@daily"), author="bob")
        path = _history_file(folder, "analytics.a")
        with open(path, "ab") as handle:
            handle.write(b'{"revision": 3, "action": "upd')  # a crash inside the write
        reader = _open(folder)
        assert [r.revision for r in reader.history("analytics.a")] == [1, 2]
        assert [s.id for s in reader.list()] == ["analytics.a"]
        assert "Ignoring the torn last line 3 of .history/analytics/a.jsonl" in caplog.text
        assert store.pause("analytics.a", author="carol") == 3
        assert path.read_bytes().endswith(b"\n")
        assert _revisions(folder, "analytics.a") == [1, 2, 3]

    def test_leftover_temporary_files_are_ignored_and_removed(self, folder):
        store = _open(folder)
        store.put(make_spec("a"), author="alice")
        for name in ("analytics/.a.yaml.k2j4h5g6.tmp", ".history/.index.json.a_b_c_d1.tmp"):
            (folder / name).write_text("half a file")
        assert [s.id for s in store.list()] == ["analytics.a"]
        store.put(make_spec("b"), author="alice")
        assert _temp_files(folder) == []


def _crash(*_args: Any, **_kwargs: Any) -> None:
    raise Crash


WRITER = textwrap.dedent(
    """
    import os, random, sys
    from airflow_provider_scheduler.spec.policy import GovernancePolicy
    from airflow_provider_scheduler.store import ConflictError, SpecNotFoundError, open_store
    from airflow_provider_scheduler.templates.builtins import builtin_templates
    from airflow_provider_scheduler.templates.registry import TemplateRegistry

    store = open_store(sys.argv[1], registry=TemplateRegistry(builtin_templates()), policy=GovernancePolicy())
    rng = random.Random(int(sys.argv[2]))
    print("ready", flush=True)
    i = 0
    while True:
        name = f"s{rng.randrange(3)}"
        spec = {"version": 1, "namespace": "crash", "name": name, "schedule": None,
                "start_date": "2026-01-01", "description": f"{os.getpid()} {i}",
                "tasks": [{"id": "t", "template": "empty"}]}
        op = rng.choice(["put", "put", "put_many", "pause", "resume", "delete"])
        try:
            if op == "put":
                store.put(spec, author=f"w{os.getpid()}")
            elif op == "put_many":
                other = dict(spec, name=f"s{(int(name[1]) + 1) % 3}")
                store.put_many([spec, other], author=f"w{os.getpid()}")
            else:
                getattr(store, op)(f"crash.{name}", author=f"w{os.getpid()}")
        except (ConflictError, SpecNotFoundError):
            pass
        i += 1
    """
)


class TestKilledWriters:
    KILLS = 20

    def test_kill_9_at_random_points_leaves_a_consistent_store(self, tmp_path):
        folder = tmp_path / "specs"
        uri = f"file://{folder}"
        rng = random.Random(1313)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        deadline = time.monotonic() + 120  # a hang guard, not a speed assertion
        kills = 0
        while kills < self.KILLS:
            writers = [
                subprocess.Popen(
                    [sys.executable, "-c", WRITER, uri, str(rng.randrange(10**6))],
                    stdout=subprocess.PIPE,
                    env=env,
                )
                for _ in range(4)
            ]
            for proc in writers:
                assert proc.stdout is not None
                assert proc.stdout.readline() == b"ready\n"
            for proc in writers:
                time.sleep(rng.uniform(0.02, 0.25))
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                assert proc.returncode == -signal.SIGKILL  # it was still writing when killed
                kills += 1
            assert time.monotonic() < deadline, "the writers hung"

        reader = _open(folder)  # every command works, before any writer repaired anything
        specs = reader.list(include_deleted=True)
        assert specs, "the writers wrote nothing before they were killed"
        self._check(folder, reader, specs)
        writer = _open(folder)
        writer.put(make_spec("after", namespace="crash"), author="final")
        assert _temp_files(folder) == []
        assert not (folder / ".history" / "journal.json").exists()
        self._check(folder, writer, writer.list(include_deleted=True))

    @staticmethod
    def _check(folder: Path, store: FileScheduleStore, specs: list[Any]) -> None:
        assert store.problems == []
        assert store.changes(None).full
        for stored in specs:
            assert stored.author != EXTERNAL_AUTHOR, f"phantom external edit of {stored.id}"
            history = store.history(stored.id)
            revisions = [r.revision for r in history]
            assert revisions == sorted(set(revisions)), f"{stored.id}: revisions {revisions}"
            assert revisions[-1] == stored.revision
            assert all(r.author != EXTERNAL_AUTHOR for r in history), f"phantom revision of {stored.id}"
            if not stored.deleted:
                assert store.get(stored.id) == stored
