from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from airflow_provider_scheduler.factory.loader import (
    EmptyStoreError,
    RefreshTimeoutError,
    merge_changes,
    run_bounded,
    shard_of,
)
from airflow_provider_scheduler.factory.snapshot import (
    Record,
    Snapshot,
    read_snapshot,
    snapshot_path,
    store_key,
    write_snapshot,
)
from airflow_provider_scheduler.store.base import ChangeSet, ChangeToken, StoredSpec


def _stored(spec_id: str, revision: int = 1, *, paused: bool = False, deleted: bool = False) -> StoredSpec:
    ns, _, name = spec_id.partition(".")
    return StoredSpec(
        id=spec_id,
        namespace=ns,
        name=name,
        revision=revision,
        spec={"namespace": ns, "name": name, "rev": revision, "text": "ünï\u2028code"},
        paused=paused,
        deleted=deleted,
        author="test",
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


class TestSnapshotFile:
    def test_round_trip_and_single_record_read(self, tmp_path):
        path = tmp_path / "snap" / "x.snapshot"
        snap = Snapshot(store="sqlite:///x.db", token="abc:3", pause_sync={"a.one": True})
        for i in range(500):  # several index buckets
            snap.records[f"a.s{i:02d}"] = Record.make(f"a.s{i:02d}", i + 1, i % 2 == 0, {"i": i, "s": "é\n"})
        write_snapshot(path, snap)

        full = read_snapshot(path)
        assert full is not None
        assert full.token == "abc:3"
        assert full.pause_sync == {"a.one": True}
        assert sorted(full.records) == sorted(snap.records)
        assert full.records["a.s07"].spec == {"i": 7, "s": "é\n"}
        assert (full.records["a.s07"].revision, full.records["a.s07"].paused) == (8, False)

        one = read_snapshot(path, only=["a.s33", "missing.x", "a.s499"])
        assert one is not None
        assert list(one.records) == ["a.s33", "a.s499"]
        assert one.records["a.s499"].spec == {"i": 499, "s": "é\n"}
        header = json.loads(path.read_bytes().split(b"\n", 1)[0][9:])  # after "CRC32HEX "
        assert len(header["buckets"]) == 7
        assert header["count"] == 500
        assert one.records["a.s33"].decode() == {
            "id": "a.s33",
            "revision": 34,
            "paused": False,
            "spec": {"i": 33, "s": "é\n"},
        }
        assert [p.name for p in path.parent.iterdir()] == ["x.snapshot"]  # no temporary file left

    def test_missing_file_is_none(self, tmp_path):
        assert read_snapshot(tmp_path / "nope.snapshot") is None

    def test_corrupt_or_foreign_files_are_read_as_damaged_and_empty(self, tmp_path):
        path = tmp_path / "bad.snapshot"
        path.write_text("not json\n")
        snap = read_snapshot(path)
        assert snap is not None
        assert (snap.records, snap.token) == ({}, None)
        assert snap.damage == ["its header is damaged (checksum mismatch)"]
        path.write_text(json.dumps({"format": 2, "buckets": [0]}) + "\n")
        snap = read_snapshot(path)
        assert snap is not None
        assert snap.damage == ["it has format 2 (another version of the provider)"]

    def test_failed_write_keeps_old_snapshot(self, tmp_path, monkeypatch):
        path = tmp_path / "s.snapshot"
        write_snapshot(
            path, Snapshot(store="s", token="t1", records={"a.b": Record.make("a.b", 1, False, {})})
        )

        def boom(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", boom)
        with pytest.raises(OSError, match="disk full"):
            write_snapshot(path, Snapshot(store="s", token="t2"))
        snap = read_snapshot(path)
        assert snap is not None
        assert (snap.token, list(snap.records)) == ("t1", ["a.b"])
        assert [p.name for p in tmp_path.iterdir()] == ["s.snapshot"]

    def test_path_is_keyed_without_password(self, tmp_path):
        a = snapshot_path("postgresql://u:secret1@h/db", tmp_path)
        b = snapshot_path("postgresql://u:other@h/db", tmp_path)
        assert a == b
        assert "secret" not in str(a)
        assert a.parent == tmp_path / "schedule_specs_snapshot"
        assert store_key("sqlite:////a.db") != store_key("sqlite:////b.db")


class TestMergeChanges:
    def test_first_full_listing(self):
        snap, changed = merge_changes(
            None, "s", ChangeSet([_stored("a.x"), _stored("a.y")], ChangeToken("id:2"), True)
        )
        assert changed
        assert sorted(snap.records) == ["a.x", "a.y"]
        assert snap.token == "id:2"
        assert snap.pause_sync == {}

    def test_incremental_update_delete_and_pause_flip(self):
        old, _ = merge_changes(
            None, "s", ChangeSet([_stored("a.x"), _stored("a.y"), _stored("a.z")], ChangeToken("id:3"), True)
        )
        changes = ChangeSet(
            [_stored("a.x", 2), _stored("a.y", deleted=True), _stored("a.z", 2, paused=True), _stored("a.n")],
            ChangeToken("id:7"),
        )
        snap, changed = merge_changes(old, "s", changes)
        assert changed
        assert sorted(snap.records) == ["a.n", "a.x", "a.z"]
        assert snap.records["a.x"].revision == 2
        assert snap.records["a.x"].spec["rev"] == 2
        assert snap.pause_sync == {"a.z": True}  # a.n is new: is_paused_upon_creation covers it

    def test_no_changes_same_token_is_unchanged(self):
        old, _ = merge_changes(None, "s", ChangeSet([_stored("a.x")], ChangeToken("id:1"), True))
        snap, changed = merge_changes(old, "s", ChangeSet([], ChangeToken("id:1")))
        assert not changed
        assert snap.records["a.x"].raw == old.records["a.x"].raw

    def test_full_listing_drops_specs_it_does_not_contain(self):
        old, _ = merge_changes(
            None, "s", ChangeSet([_stored("a.x"), _stored("a.y")], ChangeToken("id:2"), True)
        )
        snap, _ = merge_changes(old, "s", ChangeSet([_stored("a.y", 3)], ChangeToken("id:9"), True))
        assert sorted(snap.records) == ["a.y"]

    def test_empty_full_listing_for_a_full_snapshot_is_refused(self):
        old, _ = merge_changes(None, "s", ChangeSet([_stored("a.x")], ChangeToken("id:1"), True))
        with pytest.raises(EmptyStoreError, match="empty full listing although the snapshot holds 1 specs"):
            merge_changes(old, "s", ChangeSet([], ChangeToken("other:0"), True))


class TestBoundsAndShards:
    def test_run_bounded_returns_and_reraises(self):
        assert run_bounded(lambda: 42, 5, "x") == 42
        with pytest.raises(ZeroDivisionError):
            run_bounded(lambda: 1 / 0, 5, "x")

    def test_run_bounded_gives_up_on_a_hung_call(self):
        import threading

        release = threading.Event()
        try:
            with pytest.raises(RefreshTimeoutError, match=r"refresh did not finish within 0\.2 s"):
                run_bounded(release.wait, 0.2, "refresh")
        finally:
            release.set()

    def test_shards_partition_ids(self):
        ids = [f"ns{i % 3}.spec-{i}" for i in range(500)]
        owners = [[i for i in range(4) if shard_of(d, 4) == i] for d in ids]
        assert all(len(o) == 1 for o in owners)
        assert {o[0] for o in owners} == {0, 1, 2, 3}
        assert shard_of("a.b", 7) == shard_of("a.b", 7)  # stable (crc32, not hash())


class TestSnapshotDamage:
    """Every line is checksummed: damage is found, what verifies is kept (issue 13 row 6)."""

    def _write(self, tmp_path, n=300):
        path = tmp_path / "s.snapshot"
        snap = Snapshot(store="s", token="t:1")
        for i in range(n):
            snap.records[f"a.s{i:03d}"] = Record.make(f"a.s{i:03d}", 1, False, {"i": i})
        write_snapshot(path, snap)
        return path

    def test_an_intact_file_has_no_damage(self, tmp_path):
        snap = read_snapshot(self._write(tmp_path))
        assert (snap.damage, len(snap.records), snap.token) == ([], 300, "t:1")

    def test_a_damaged_index_line_is_found_and_its_records_salvaged(self, tmp_path):
        path = self._write(tmp_path)
        data = bytearray(path.read_bytes())
        second_line = data.index(b"\n") + 1
        data[second_line + 20] ^= 0x04  # inside index bucket 0
        path.write_bytes(bytes(data))
        snap = read_snapshot(path)
        assert snap.damage == ["1 index line(s) are damaged"]
        assert len(snap.records) == 300  # the record lines verify on their own
        assert snap.records["a.s042"].spec == {"i": 42}

    def test_an_appended_tail_is_found(self, tmp_path):
        path = self._write(tmp_path)
        path.write_bytes(path.read_bytes() + b"junk\n")
        snap = read_snapshot(path)
        assert len(snap.records) == 300
        assert snap.damage[0].startswith("it is ")

    def test_a_damaged_record_is_left_out_in_a_single_read(self, tmp_path):
        path = self._write(tmp_path)
        data = bytearray(path.read_bytes())
        data[data.index(b'"id":"a.s007"') + 20] ^= 0x01
        path.write_bytes(bytes(data))
        one = read_snapshot(path, only=["a.s007", "a.s008"])
        assert list(one.records) == ["a.s008"]
        assert one.damage == ["record of a.s007 is damaged"]
        full = read_snapshot(path)
        assert "a.s007" not in full.records
        assert full.damage == ["1 record(s) are damaged or missing"]
