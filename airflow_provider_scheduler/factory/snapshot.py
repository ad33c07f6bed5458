"""The loader's local snapshot of a spec store: one file per store, written atomically.

Where: ``$AIRFLOW_HOME/schedule_specs_snapshot/<key>.snapshot`` where ``<key>`` is a hash of the store
URI with its password removed (so no secret is derivable from the file name).

Format (UTF-8, JSON lines, version 2)::

    {"format": 2, "store": "<uri, password hidden>", "token": "<change token>", "written_at": "...",
     "pause_sync": {...}, "count": N, "buckets": [o0, o1, ...], "records_start": R}\\n
    {"<dag_id>": [offset, length, revision, paused], ...}\\n      <- index bucket 0
    ...                                                            <- one line per bucket
    {"id": "<dag_id>", "revision": 3, "paused": false, "author": "...", "updated_at": "...",
     "spec": {<canonical spec>}}\\n
    ...

A spec's index entry lives in bucket ``zlib.crc32(dag_id) % len(buckets)`` (about 64 entries per
bucket); bucket offsets are relative to the end of the header, record offsets to ``records_start``. A
worker that runs one task reads the header, one bucket line and one record, so its cost does not grow
with the number of specs (parsing a 10,000-entry index, and the garbage collection its objects
trigger, would); the dag processor reads the whole file once. Records hold the canonical,
already-validated spec dicts the store returned (``ScheduleStore.changes``), so the loader can build
from them without re-validating.

The file is replaced with ``os.replace`` from a temporary file in the same directory: a reader sees
the old or the new snapshot, never half of one. Concurrent writers (several loader files, shards)
each write a complete, self-consistent snapshot; the last one wins, and a snapshot with an older
token only means the next refresh asks the store for a few more changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.store.atomic_file import write_atomic

if TYPE_CHECKING:
    from collections.abc import Iterable

FORMAT = 2
SNAPSHOT_DIR_NAME = "schedule_specs_snapshot"


class SnapshotError(Exception):
    """The snapshot file exists but cannot be used (corrupt, other format)."""


def airflow_home() -> Path:
    """``$AIRFLOW_HOME`` (default ``~/airflow``) without importing Airflow."""
    return Path(os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow"))


def store_key(store_uri: str) -> str:
    """A stable file-name key for ``store_uri``: sha256 of the URI with its password hidden."""
    from airflow_provider_scheduler.store.uri import redact_uri

    return hashlib.sha256(redact_uri(store_uri).encode()).hexdigest()[:20]


def snapshot_dir(home: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding snapshots and loader status files."""
    return Path(home) / SNAPSHOT_DIR_NAME if home is not None else airflow_home() / SNAPSHOT_DIR_NAME


def snapshot_path(store_uri: str, home: str | os.PathLike[str] | None = None) -> Path:
    """The snapshot file of ``store_uri`` under ``home`` (default ``$AIRFLOW_HOME``)."""
    return snapshot_dir(home) / f"{store_key(store_uri)}.snapshot"


@dataclass
class Record:
    """One spec in a snapshot: its raw JSON line (bytes, without newline) and index data.

    ``spec`` is decoded lazily from ``raw`` so unchanged records are rewritten without a decode.
    """

    id: str
    revision: int
    paused: bool
    raw: bytes

    def decode(self) -> dict[str, Any]:
        """The record's JSON object (``id``, ``revision``, ``paused``, ``spec``; ``author`` and
        ``updated_at`` when the record was written by a version that keeps them)."""
        data = json.loads(self.raw)
        if not isinstance(data, dict) or data.get("id") != self.id:
            raise SnapshotError(f"record of {self.id} is corrupt")
        return data

    @property
    def spec(self) -> dict[str, Any]:
        return self.decode()["spec"]  # type: ignore[no-any-return]

    @classmethod
    def make(
        cls,
        spec_id: str,
        revision: int,
        paused: bool,
        spec: dict[str, Any],
        *,
        author: str | None = None,
        updated_at: str | None = None,
    ) -> Record:
        """A record line; ``author`` and ``updated_at`` (of the revision) feed the DAG's Docs."""
        data: dict[str, Any] = {"id": spec_id, "revision": revision, "paused": paused, "spec": spec}
        if author is not None:
            data["author"] = author
        if updated_at is not None:
            data["updated_at"] = updated_at
        raw = json.dumps(
            data,
            separators=(",", ":"),
            ensure_ascii=True,  # no raw newlines or odd line separators inside a record line
        ).encode()
        return cls(spec_id, revision, paused, raw)


@dataclass
class Snapshot:
    """The specs of one store as of ``token``.

    :param store: the store URI with its password hidden.
    :param token: the store's change token this snapshot is current to (None: never refreshed).
    :param records: spec id -> record, in id order when written.
    :param pause_sync: spec id -> paused state not yet pushed to Airflow (see the loader).
    :param written_at: when the file was written (ISO-8601 UTC), informational.
    """

    store: str
    token: str | None = None
    records: dict[str, Record] = field(default_factory=dict)
    pause_sync: dict[str, bool] = field(default_factory=dict)
    written_at: str | None = None

    def ids(self) -> list[str]:
        return sorted(self.records)


def bucket_of(spec_id: str, buckets: int) -> int:
    """The index bucket of ``spec_id`` (stable across processes: crc32, not ``hash()``)."""
    return zlib.crc32(spec_id.encode()) % buckets


def bucket_count(records: int) -> int:
    """About 64 index entries per bucket, at least 1, at most 4096."""
    return max(1, min(4096, records // 64))


def write_snapshot(path: Path, snapshot: Snapshot) -> None:
    """Write ``snapshot`` to ``path`` atomically and durably (:func:`~..store.atomic_file.write_atomic`)."""
    snapshot.written_at = datetime.now(UTC).isoformat(timespec="seconds")
    count = bucket_count(len(snapshot.records))
    buckets: list[dict[str, list[Any]]] = [{} for _ in range(count)]
    records: list[bytes] = []
    offset = 0
    for spec_id in sorted(snapshot.records):
        rec = snapshot.records[spec_id]
        buckets[bucket_of(spec_id, count)][spec_id] = [offset, len(rec.raw), rec.revision, rec.paused]
        records.append(rec.raw)
        records.append(b"\n")
        offset += len(rec.raw) + 1
    bucket_lines = [_dumps(bucket) + b"\n" for bucket in buckets]
    bucket_offsets = []
    position = 0
    for line in bucket_lines:
        bucket_offsets.append(position)
        position += len(line)
    header = {
        "format": FORMAT,
        "store": snapshot.store,
        "token": snapshot.token,
        "written_at": snapshot.written_at,
        "pause_sync": snapshot.pause_sync,
        "count": len(snapshot.records),
        "buckets": bucket_offsets,
        "records_start": position,
    }
    write_atomic(path, b"".join([_dumps(header), b"\n", *bucket_lines, *records]))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).encode()


def _read_header(f: Any, path: Path) -> dict[str, Any]:
    line = f.readline()
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise SnapshotError(f"snapshot {path} is corrupt (header: {exc})") from None
    if (
        not isinstance(header, dict)
        or header.get("format") != FORMAT
        or not isinstance(header.get("buckets"), list)
        or not header["buckets"]
        or not isinstance(header.get("records_start"), int)
    ):
        raise SnapshotError(f"snapshot {path} has an unknown format; it will be rebuilt from the store")
    return header


def read_snapshot(path: Path, only: Iterable[str] | None = None) -> Snapshot | None:
    """Read the snapshot at ``path``; None when it does not exist.

    :param only: read just these spec ids: the header, one index bucket and one record line per id
        (a few kilobytes whatever the number of specs), instead of the whole file.
    :raises SnapshotError: the file is corrupt or of another format.
    """
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        return None
    with f:
        header = _read_header(f, path)
        body_start = f.tell()
        offsets: list[int] = header["buckets"]
        records_start = body_start + header["records_start"]
        snap = Snapshot(
            store=str(header.get("store") or ""),
            token=header.get("token"),
            pause_sync=dict(header.get("pause_sync") or {}),
            written_at=header.get("written_at"),
        )
        try:
            if only is not None:
                for spec_id in only:
                    f.seek(body_start + offsets[bucket_of(spec_id, len(offsets))])
                    entry = json.loads(f.readline()).get(spec_id)
                    if entry is None:
                        continue
                    offset, length, revision, paused = entry
                    f.seek(records_start + offset)
                    snap.records[spec_id] = Record(spec_id, revision, paused, f.read(length))
            else:
                index: dict[str, list[Any]] = {}
                for _ in offsets:
                    index.update(json.loads(f.readline()))
                body = f.read()
                for spec_id in sorted(index):
                    offset, length, revision, paused = index[spec_id]
                    snap.records[spec_id] = Record(spec_id, revision, paused, body[offset : offset + length])
        except (TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"snapshot {path} is corrupt (index: {exc})") from None
    return snap
