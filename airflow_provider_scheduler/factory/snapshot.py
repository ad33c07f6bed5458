"""The loader's local snapshot of a spec store: one file per store, written atomically, lines checksummed.

Where: ``$AIRFLOW_HOME/schedule_specs_snapshot/<key>.snapshot`` where ``<key>`` is a hash of the store
URI with its password removed (so no secret is derivable from the file name).

Format (UTF-8, one JSON document per line, version 3). Every line is ``CCCCCCCC JSON``: the
``zlib.crc32`` of the JSON bytes as eight hex digits, a space, the JSON::

    crc {"format": 3, "store": "<uri, password hidden>", "token": "<change token>", "written_at": "...",
         "pause_sync": {...}, "damaged": {...}, "policy": "<digest>", "count": N,
         "buckets": [o0, o1, ...], "records_start": R, "size": S, "records_crc": C}\\n
    crc {"<dag_id>": [offset, length, revision, paused, check], ...}\\n   <- index bucket 0
    ...                                                                  <- one line per bucket
    crc {"id": "<dag_id>", "revision": 3, "paused": false, "author": "...",
         "updated_at": "...", "spec": {<canonical spec>}}\\n
    ...

A spec's index entry lives in bucket ``zlib.crc32(dag_id) % len(buckets)`` (about 64 entries per
bucket); bucket offsets are relative to the end of the header, record offsets (of the whole line,
checksum included) to ``records_start``; ``size`` is the number of bytes after the header and
``records_crc`` the ``zlib.crc32`` of all record lines together (one check on the common path). A worker
that runs one task reads the header, one bucket line and one record, so its cost does not grow with
the number of specs; the dag processor reads the whole file once. Records hold the canonical,
already-validated spec dicts the store returned (``ScheduleStore.changes``).

``damaged`` maps specs the store could not read (a row with invalid JSON, an unreadable file) to the
reason, so every parse reports them, not only the one that saw them arrive. ``policy`` is the digest
of the templates and governance policy the ``check`` of each index entry was computed under (None:
not checked yet, ``""``: passes, else why it does not); see the loader.

Why a checksum on every line: a snapshot damaged on disk (a truncated copy, a flipped bit, a
hand-edited header) must neither lose DAGs for good nor be carried forward. :func:`read_snapshot`
verifies each line (``zlib.crc32``: about a millisecond per megabyte), keeps what verifies and lists
what does not in :attr:`Snapshot.damage`; the loader then rebuilds the file from a full read of the
store and, until that succeeds, builds from the readable part without writing it back.

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

FORMAT = 3
SNAPSHOT_DIR_NAME = "schedule_specs_snapshot"
_CRC_WIDTH = 9  # eight hex digits and a space in front of every line


class SnapshotError(Exception):
    """A record of the snapshot cannot be used (its JSON is not the record it claims to be)."""


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
    """One spec in a snapshot: its raw JSON line (bytes, without checksum and newline) and index data.

    ``spec`` is decoded lazily from ``raw`` so unchanged records are rewritten without a decode.

    :param check: the outcome of re-validating the spec under the snapshot's ``policy`` digest: None
        (not checked), ``""`` (passes) or the reason it does not.
    """

    id: str
    revision: int
    paused: bool
    raw: bytes
    check: str | None = None

    def decode(self) -> dict[str, Any]:
        """The record's JSON object (``id``, ``revision``, ``paused``, ``spec``; ``author`` and
        ``updated_at`` when the record was written by a version that keeps them)."""
        try:
            data = json.loads(self.raw)
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("id") != self.id or not isinstance(data.get("spec"), dict):
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
    :param damaged: spec id (or file, for a file store) -> why the store could not read it.
    :param policy: digest of the templates and policy the records' ``check`` was computed under.
    :param damage: what was wrong with the file when it was read (not written; empty when intact).
    """

    store: str
    token: str | None = None
    records: dict[str, Record] = field(default_factory=dict)
    pause_sync: dict[str, bool] = field(default_factory=dict)
    written_at: str | None = None
    damaged: dict[str, str] = field(default_factory=dict)
    policy: str | None = None
    damage: list[str] = field(default_factory=list)

    def ids(self) -> list[str]:
        return sorted(self.records)


def bucket_of(spec_id: str, buckets: int) -> int:
    """The index bucket of ``spec_id`` (stable across processes: crc32, not ``hash()``)."""
    return zlib.crc32(spec_id.encode()) % buckets


def bucket_count(records: int) -> int:
    """About 64 index entries per bucket, at least 1, at most 4096."""
    return max(1, min(4096, records // 64))


def _line(payload: bytes) -> bytes:
    """``payload`` framed as a snapshot line (checksum, space, payload), without the newline."""
    return b"%08x %s" % (zlib.crc32(payload), payload)


def _payload(line: bytes) -> bytes | None:
    """The payload of a snapshot line (without its newline), or None when its checksum does not match."""
    if len(line) < _CRC_WIDTH or line[8:9] != b" ":
        return None
    try:
        crc = int(line[:8], 16)
    except ValueError:
        return None
    payload = line[_CRC_WIDTH:]
    return payload if zlib.crc32(payload) == crc else None


def write_snapshot(path: Path, snapshot: Snapshot) -> None:
    """Write ``snapshot`` to ``path`` atomically and durably (:func:`~..store.atomic_file.write_atomic`)."""
    snapshot.written_at = datetime.now(UTC).isoformat(timespec="seconds")
    count = bucket_count(len(snapshot.records))
    buckets: list[dict[str, list[Any]]] = [{} for _ in range(count)]
    records: list[bytes] = []
    offset = 0
    for spec_id in sorted(snapshot.records):
        rec = snapshot.records[spec_id]
        line = _line(rec.raw)
        buckets[bucket_of(spec_id, count)][spec_id] = [offset, len(line), rec.revision, rec.paused, rec.check]
        records.append(line)
        records.append(b"\n")
        offset += len(line) + 1
    bucket_lines = [_line(_dumps(bucket)) + b"\n" for bucket in buckets]
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
        "damaged": snapshot.damaged,
        "policy": snapshot.policy,
        "count": len(snapshot.records),
        "buckets": bucket_offsets,
        "records_start": position,
        "size": position + offset,
        "records_crc": zlib.crc32(b"".join(records)),
    }
    write_atomic(path, b"".join([_line(_dumps(header)), b"\n", *bucket_lines, *records]))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).encode()


def _header(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The verified header of a snapshot, or None and what is wrong with it."""
    payload = _payload(line)
    if payload is None:
        try:  # an intact header of another version of this provider is not damage
            other = json.loads(line)
        except ValueError:
            other = None
        if isinstance(other, dict) and "format" in other:
            return None, f"it has format {other.get('format')!r} (another version of the provider)"
        return None, "its header is damaged (checksum mismatch)"
    try:
        header = json.loads(payload)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else None
        return None, f"its header has an unknown format {found!r}"
    fields_ok = (
        isinstance(header.get("buckets"), list)
        and header["buckets"]
        and all(type(o) is int and o >= 0 for o in header["buckets"])
        and type(header.get("records_start")) is int
        and type(header.get("size")) is int
        and type(header.get("count")) is int
        and isinstance(header.get("pause_sync") or {}, dict)
        and isinstance(header.get("damaged") or {}, dict)
    )
    if not fields_ok:
        return None, "its header is inconsistent"
    return header, None


def _entry(value: Any) -> tuple[int, int, int, bool, str | None] | None:
    """An index entry ``[offset, length, revision, paused, check]`` with the right types, else None."""
    if not isinstance(value, list) or len(value) != 5:
        return None
    offset, length, revision, paused, check = value
    if type(offset) is not int or type(length) is not int or type(revision) is not int:
        return None
    if type(paused) is not bool or not (check is None or isinstance(check, str)):
        return None
    return offset, length, revision, paused, check


_RECORD_KEYS = frozenset({"id", "revision", "paused", "spec", "author", "updated_at"})


def _salvaged(line: bytes) -> Record | None:
    """A record from a verified line found by scanning (its index entry is lost), else None."""
    payload = _payload(line)
    if payload is None or not payload.startswith(b'{"id":'):
        return None
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not (
        isinstance(data, dict)
        and {"id", "revision", "paused", "spec"} <= set(data) <= _RECORD_KEYS
        and isinstance(data["id"], str)
        and type(data["revision"]) is int
        and type(data["paused"]) is bool
        and isinstance(data["spec"], dict)
    ):
        return None
    return Record(data["id"], data["revision"], data["paused"], payload)


def read_snapshot(path: Path, only: Iterable[str] | None = None) -> Snapshot | None:
    """Read the snapshot at ``path``; None when it does not exist.

    A damaged file is not an error: what verifies is returned, and :attr:`Snapshot.damage` says what
    did not (a damaged or foreign header, index lines or records whose checksum does not match, a
    truncated or extended file). The caller must not write such a snapshot back before rebuilding it.

    :param only: read just these spec ids: the header, one index bucket and one record line per id
        (a few kilobytes whatever the number of specs), instead of the whole file.
    :raises OSError: the file cannot be read.
    """
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        return None
    with f:
        if only is not None:
            return _read_some(f, path, list(only))
        data = f.read()
    return _read_all(data)


def _read_some(f: Any, path: Path, only: list[str]) -> Snapshot:
    header_line = f.readline()
    header, problem = _header(header_line.rstrip(b"\n"))
    if header is None:
        return Snapshot(store="", damage=[problem or "its header is damaged"])
    snap = _from_header(header)
    body_start = f.tell()
    offsets: list[int] = header["buckets"]
    records_start = body_start + header["records_start"]
    for spec_id in only:
        f.seek(body_start + offsets[bucket_of(spec_id, len(offsets))])
        payload = _payload(f.readline().rstrip(b"\n"))
        try:
            bucket = json.loads(payload) if payload is not None else None
        except ValueError:
            bucket = None
        if not isinstance(bucket, dict):
            snap.damage.append(f"index bucket of {spec_id} is damaged")
            continue
        if spec_id not in bucket:
            continue
        entry = _entry(bucket[spec_id])
        if entry is None:
            snap.damage.append(f"index entry of {spec_id} is damaged")
            continue
        offset, length, revision, paused, check = entry
        f.seek(records_start + offset)
        raw = _payload(f.read(length))
        if raw is None:
            snap.damage.append(f"record of {spec_id} is damaged")
            continue
        snap.records[spec_id] = Record(spec_id, revision, paused, raw, check)
    return snap


def _from_header(header: dict[str, Any]) -> Snapshot:
    return Snapshot(
        store=str(header.get("store") or ""),
        token=header.get("token") if isinstance(header.get("token"), str) else None,
        pause_sync={str(k): bool(v) for k, v in (header.get("pause_sync") or {}).items()},
        written_at=header.get("written_at"),
        damaged={str(k): str(v) for k, v in (header.get("damaged") or {}).items()},
        policy=header.get("policy") if isinstance(header.get("policy"), str) else None,
    )


def _read_all(data: bytes) -> Snapshot:
    end = data.find(b"\n")
    header, problem = _header(data[: end if end >= 0 else len(data)])
    if header is None:
        # No usable header: every record line that verifies on its own is the readable part.
        snap = Snapshot(store="", damage=[problem or "its header is damaged"])
        _salvage(snap, data.split(b"\n")[1:], set())
        return snap
    snap = _from_header(header)
    body = data[end + 1 :]
    if len(body) != header["size"]:
        snap.damage.append(f"it is {len(body)} bytes long where its header says {header['size']}")
    offsets: list[int] = header["buckets"]
    index: dict[str, Any] = {}
    lost_buckets = 0
    for offset in offsets:
        stop = body.find(b"\n", offset)
        payload = _payload(body[offset : stop if stop >= 0 else len(body)])
        try:
            bucket = json.loads(payload) if payload is not None else None
        except ValueError:
            bucket = None
        if not isinstance(bucket, dict):
            lost_buckets += 1
            continue
        index.update(bucket)  # its checksum matched: the entries are as the writer wrote them
    if lost_buckets:
        snap.damage.append(f"{lost_buckets} index line(s) are damaged")
    records = body[header["records_start"] :]
    bad = 0
    # One checksum over every record line is the fast path (the dag processor reads the whole file
    # on every parse); only when it does not match is each record verified on its own.
    intact = not lost_buckets and zlib.crc32(records) == header.get("records_crc")
    for spec_id in sorted(index):
        try:
            offset, length, revision, paused, check = index[spec_id]
            raw = (
                records[offset + _CRC_WIDTH : offset + length]
                if intact
                else _payload(records[offset : offset + length])
            )
        except (TypeError, ValueError):  # an entry of another shape (a writer of another version)
            bad += 1
            continue
        if raw is None:
            bad += 1
            continue
        snap.records[spec_id] = Record(spec_id, revision, paused, raw, check)
    if bad:
        snap.damage.append(f"{bad} record(s) are damaged or missing")
    if lost_buckets:
        _salvage(snap, records.split(b"\n"), set(snap.records))
    elif not bad and len(index) != header["count"]:
        snap.damage.append(f"its index lists {len(index)} specs where its header says {header['count']}")
    return snap


def _salvage(snap: Snapshot, lines: list[bytes], known: set[str]) -> None:
    """Add the records among ``lines`` that verify on their own and are not in ``known``."""
    for line in lines:
        record = _salvaged(line)
        if record is not None and record.id not in known:
            snap.records[record.id] = record
            known.add(record.id)
    snap.records = dict(sorted(snap.records.items()))
