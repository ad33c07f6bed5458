"""The file spec store: a folder of YAML/JSON spec files, for teams that keep specs in Git.

Layout (``file:///DIR``; add ``?mode=ro`` for a read-only store)::

    DIR/<namespace>/<name>.yaml        the current spec (written by the store; every spec file below
                                       DIR is read, by the rule of ``spec/files.py``: .yaml, .yml or
                                       .json in any case, hidden names skipped; a file may hold a list)
    DIR/.history/index.json            revision, author, time and hash of every spec the store wrote
    DIR/.history/<namespace>/<name>.jsonl  every revision the store wrote, one JSON object per line

What applies, compared with the SQL stores:

- Revisions and history are recorded for writes made through the store (read-write mode). A file
  changed behind the store's back (``git pull``) counts as one new revision by ``(external edit)``;
  a file the store never wrote is revision 1 by ``(file)``. Read-only stores never write ``.history``.
- Optimistic concurrency holds between processes that write through the store on the same host
  (an exclusive ``flock`` on ``.history/.lock``); revision numbers are given out under that lock.
- ``changes(token)`` compares file names, sizes and modification times: no change costs a directory
  scan and no parsing; modified files are returned incrementally; added or removed files, and any
  change while a file is invalid, yield a full listing (``ChangeSet.full``).
- Invalid files are skipped (they never hide the others) and reported in :attr:`problems` and
  ``ChangeSet.damaged``; ``list(include_damaged=True)`` shows them, ``get`` raises
  :class:`~airflow_provider_scheduler.store.errors.DamagedSpecError`, and writing a good version
  (or deleting the spec) replaces the file.

Crashes (``kill -9``, power loss) of a writer at any point leave a consistent store. A write first
records everything it is about to do in ``.history/journal.json`` (written atomically and fsynced),
then replaces the spec files (temporary file, fsync, rename, fsync of the folder), appends each
history line with one ``write(2)`` on an ``O_APPEND`` descriptor (fsynced), saves ``index.json``
atomically, and removes the journal. Readers take a journal's revision for a file whose content it
names, so a spec renamed into place before its history line never shows as a phantom ``(external
edit)``; the next writer rolls a journal left by a crash forward (each step is idempotent). A torn
last history line (a crash inside that one write) is ignored with a warning and cut off by the next
write; temporary files a crash left behind are hidden names the folder scan skips, and the next write
removes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from airflow_provider_scheduler.spec.errors import Problem, SpecError
from airflow_provider_scheduler.spec.files import spec_files_under
from airflow_provider_scheduler.spec.loader import load_spec_file
from airflow_provider_scheduler.store.atomic_file import _fsync_folder as _fsync_dir
from airflow_provider_scheduler.store.atomic_file import write_atomic
from airflow_provider_scheduler.store.base import (
    ChangeSet,
    ChangeToken,
    ScheduleStore,
    SpecRevision,
    StoredSpec,
    canonical_json,
    spec_to_yaml,
    state_after,
)
from airflow_provider_scheduler.store.errors import (
    ConflictError,
    DamagedSpecError,
    InvalidStoreUriError,
    ReadOnlyStoreError,
    SpecNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from airflow_provider_scheduler.store.uri import redact_uri

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterator, Mapping

    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.model import ScheduleSpec
    from airflow_provider_scheduler.spec.policy import GovernancePolicy

log = logging.getLogger(__name__)

HISTORY_DIR = ".history"
JOURNAL = "journal.json"
EXTERNAL_AUTHOR = "(external edit)"
FILE_AUTHOR = "(file)"
_HISTORY_KEYS = frozenset({"revision", "action", "author", "ns", "paused", "deleted", "spec"})
#: the temporary files of :func:`~..atomic_file.write_atomic`: ``.<name>.<8 random chars>.tmp``
_TEMP_FILE = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _from_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


@dataclass
class _Entry:
    """One spec found in the folder."""

    spec_id: str
    path: Path
    rel: str
    spec: dict[str, Any]
    paused: bool
    namespace: str
    name: str
    mtime_ns: int
    sole: bool  # the file holds only this spec


class FileScheduleStore(ScheduleStore):
    """A spec store backed by a folder of YAML/JSON files; see the module docstring for what applies.

    :param uri: ``file:///DIR`` or ``file:///DIR?mode=ro`` (``mode=rw`` is the default).
    """

    def __init__(
        self, uri: str, *, registry: TemplateCatalog | None = None, policy: GovernancePolicy | None = None
    ) -> None:
        super().__init__(redact_uri(uri), registry=registry, policy=policy)
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise InvalidStoreUriError(f"store URI {self.uri!r}: expected file:///ABSOLUTE/DIR")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - {"mode"})
        if unknown:
            raise InvalidStoreUriError(f"store URI {self.uri!r}: unknown option(s) {', '.join(unknown)}")
        mode = query.get("mode", ["rw"])[-1]
        if mode not in ("ro", "rw"):
            raise InvalidStoreUriError(f"store URI {self.uri!r}: mode must be 'ro' or 'rw', not {mode!r}")
        self.read_only = mode == "ro"
        self.root = Path(unquote(parts.path))
        self.history_root = self.root / HISTORY_DIR
        #: problems found in the folder by the last read (one SpecError per invalid file or duplicate)
        self.problems: builtins.list[SpecError] = []
        self._cache: dict[str, tuple[int, int, builtins.list[Any]]] = {}
        self._store_id = _sha(str(self.root.resolve()))[:16]
        self._rels: dict[str, str] = {}
        #: invalid files found by the last scan (rel -> its SpecError); duplicates are not among them
        self._invalid: dict[str, SpecError] = {}

    # scanning --------------------------------------------------------------------------------
    def _require_root(self) -> None:
        """A read-write store creates its folder; a missing folder of a read-only one is unavailable."""
        if not self.read_only and not self.root.exists():
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreUnavailableError(
                    self.uri, f"cannot create directory {self.root}: {err.strerror}"
                ) from None
        if not self.root.is_dir():
            raise StoreUnavailableError(self.uri, f"directory {self.root} does not exist")

    def _stat_files(self) -> builtins.list[tuple[str, int, int]]:
        """(relative path, mtime_ns, size) of every spec file, in the order of :func:`spec_files_under`."""
        self._require_root()
        found: builtins.list[tuple[str, int, int]] = []
        try:
            for path in spec_files_under(self.root):
                st = path.stat()
                found.append((os.path.relpath(path, self.root), st.st_mtime_ns, st.st_size))
        except OSError as err:
            raise StoreUnavailableError(self.uri, str(err)) from None
        return found

    def _load(self, rel: str, mtime_ns: int, size: int) -> builtins.list[Any]:
        """Specs (or one SpecError) of a file, cached by modification time and size."""
        cached = self._cache.get(rel)
        if cached is not None and cached[0] == mtime_ns and cached[1] == size:
            return cached[2]
        path = self.root / rel
        items: builtins.list[Any]
        try:
            items = list(load_spec_file(path, registry=self.registry, policy=self.policy))
        except SpecError as err:
            err.source = rel  # relative to the store's folder
            items = [err]
            # logged when the file is (re)read, not on every scan of an unchanged folder
            log.warning("Skipping invalid spec file %s: %s", rel, str(err).replace("\n", "; "))
        except OSError as err:
            raise StoreUnavailableError(self.uri, f"cannot read {rel}: {err.strerror}") from None
        self._cache[rel] = (mtime_ns, size, items)
        return items

    def _scan(self, stats: builtins.list[tuple[str, int, int]] | None = None) -> dict[str, _Entry]:
        stats = self._stat_files() if stats is None else stats
        entries: dict[str, _Entry] = {}
        problems: builtins.list[SpecError] = []
        invalid: dict[str, SpecError] = {}
        for rel, mtime_ns, size in stats:
            items = self._load(rel, mtime_ns, size)
            for item in items:
                if isinstance(item, SpecError):
                    problems.append(item)
                    invalid[rel] = item
                    continue
                if item.dag_id in entries:
                    first = entries[item.dag_id].rel
                    problems.append(
                        SpecError(
                            [
                                Problem(
                                    "",
                                    f"spec {item.dag_id} is already defined in {first}; this copy is ignored",
                                )
                            ],
                            spec_id=item.dag_id,
                            source=rel,
                        )
                    )
                    continue
                entries[item.dag_id] = _Entry(
                    spec_id=item.dag_id,
                    path=self.root / rel,
                    rel=rel,
                    spec=item.to_dict(),
                    paused=bool(item.paused),
                    namespace=item.namespace,
                    name=item.name,
                    mtime_ns=mtime_ns,
                    sole=len(items) == 1,
                )
        self.problems = problems
        self._invalid = invalid
        return entries

    def _damaged(
        self, entries: Mapping[str, _Entry], index: Mapping[str, dict[str, Any]]
    ) -> dict[str, tuple[str, str]]:
        """Specs whose file is invalid: key (spec id, else the file) -> (reason, file).

        The spec id comes from the file when its namespace and name were readable, else from the
        index (the file the store last wrote the spec to); a file it names nowhere is keyed by path.
        """
        by_rel = {
            str(record.get("rel") or f"{record['namespace']}/{record['name']}.yaml"): spec_id
            for spec_id, record in index.items()
            if not record.get("deleted")
        }
        damaged: dict[str, tuple[str, str]] = {}
        for rel, err in self._invalid.items():
            key = err.spec_id or by_rel.get(rel) or rel
            if key in entries:  # another file defines it fine; this copy is just a bad extra file
                key = rel
            problems = "; ".join(str(p) for p in err.problems[:3])
            damaged.setdefault(key, (f"{rel}: {problems}", rel))
        return damaged

    # history sidecar -------------------------------------------------------------------------
    def _index(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((self.history_root / "index.json").read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            raise StoreUnavailableError(self.uri, f"cannot read {HISTORY_DIR}/index.json: {err}") from None
        return data if isinstance(data, dict) else {}

    def _journal(self) -> dict[str, Any] | None:
        """The journal of a write in progress or interrupted by a crash, else None."""
        try:
            data = json.loads((self.history_root / JOURNAL).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            # written atomically, so unreadable only through outside damage: the next writer drops it
            log.warning("Ignoring the unreadable write journal %s/%s", HISTORY_DIR, JOURNAL)
            return None
        return data if isinstance(data, dict) and isinstance(data.get("entries"), list) else None

    def _pending(self) -> dict[str, dict[str, Any]]:
        """spec id -> the index record a journaled write gives it (see :meth:`_stored`)."""
        journal = self._journal()
        if journal is None:
            return {}
        return {e["spec_id"]: e["record"] for e in journal["entries"] if isinstance(e, dict)}

    def _history_path(self, spec_id: str, namespace: str, name: str) -> Path:
        return self.history_root / namespace / f"{name}.jsonl"

    def _stored(
        self,
        entry: _Entry,
        index: Mapping[str, dict[str, Any]],
        pending: Mapping[str, dict[str, Any]] | None = None,
    ) -> StoredSpec:
        sha = _sha(canonical_json(entry.spec))
        record = index.get(entry.spec_id)
        planned = (pending or {}).get(entry.spec_id)
        if planned and not planned.get("deleted") and planned.get("sha") == sha:
            record = planned  # a journaled write whose file is in place: its revision, not an external edit
        if record and not record.get("deleted") and record.get("sha") == sha:
            revision, author, updated = record["revision"], record["author"], _from_ns(record["ns"])
        elif record:
            revision, author, updated = record["revision"] + 1, EXTERNAL_AUTHOR, _from_ns(entry.mtime_ns)
        else:
            revision, author, updated = 1, FILE_AUTHOR, _from_ns(entry.mtime_ns)
        return StoredSpec(
            id=entry.spec_id,
            namespace=entry.namespace,
            name=entry.name,
            revision=revision,
            spec=entry.spec,
            paused=entry.paused,
            deleted=False,
            author=author,
            updated_at=updated,
        )

    def _tombstone(self, spec_id: str, record: Mapping[str, Any]) -> StoredSpec | None:
        lines = self._history_lines(record["namespace"], record["name"])
        if not lines:
            return None
        last = lines[-1]
        return StoredSpec(
            id=spec_id,
            namespace=record["namespace"],
            name=record["name"],
            revision=record["revision"],
            spec=last["spec"],
            paused=bool(last["paused"]),
            deleted=True,
            author=record["author"],
            updated_at=_from_ns(record["ns"]),
        )

    def _history_lines(self, namespace: str, name: str) -> builtins.list[dict[str, Any]]:
        """The history lines of a spec; a torn or damaged line is skipped with a warning."""
        path = self.history_root / namespace / f"{name}.jsonl"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return []
        lines: builtins.list[dict[str, Any]] = []
        raw_lines = data.split(b"\n")
        for number, raw in enumerate(raw_lines, 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                line = None
            if not (isinstance(line, dict) and _HISTORY_KEYS.issubset(line)):
                last = raw is raw_lines[-1]  # no newline after it: a write cut short
                log.warning(
                    "Ignoring %s line %d of %s/%s/%s.jsonl%s",
                    "the torn last" if last else "damaged",
                    number,
                    HISTORY_DIR,
                    namespace,
                    name,
                    " (repaired by the next write)" if last else "",
                )
                continue
            lines.append(line)
        return lines

    def _all(self, stats: builtins.list[tuple[str, int, int]] | None = None) -> dict[str, StoredSpec]:
        return self._all_from(self._scan(stats), self._index(), self._pending())

    def _all_from(
        self,
        entries: Mapping[str, _Entry],
        index: Mapping[str, dict[str, Any]],
        pending: Mapping[str, dict[str, Any]] | None = None,
    ) -> dict[str, StoredSpec]:
        result = {spec_id: self._stored(entry, index, pending) for spec_id, entry in entries.items()}
        self._rels = {spec_id: entry.rel for spec_id, entry in entries.items()}
        deleted = {k: v for k, v in index.items() if v.get("deleted")}
        # a journaled delete whose file is gone is a delete (readers during or after a crash)
        deleted.update({k: v for k, v in (pending or {}).items() if v.get("deleted") and k not in entries})
        for spec_id, record in deleted.items():
            if spec_id not in result:
                tomb = self._tombstone(spec_id, record)
                if tomb is not None:
                    result[spec_id] = tomb
        return result

    def _damaged_stored(
        self, entries: Mapping[str, _Entry], index: Mapping[str, dict[str, Any]]
    ) -> dict[str, StoredSpec]:
        """A StoredSpec with ``damaged`` set for every invalid file whose spec id is known."""
        result: dict[str, StoredSpec] = {}
        for key, (reason, rel) in self._damaged(entries, index).items():
            namespace, dot, name = key.partition(".")
            if not dot or key == rel:
                continue
            record = index.get(key) or {}
            try:
                mtime = (self.root / rel).stat().st_mtime_ns
            except OSError:
                mtime = 0
            result[key] = StoredSpec(
                id=key,
                namespace=namespace,
                name=name,
                revision=int(record.get("revision", 0)) if not record.get("deleted") else 0,
                spec={},
                paused=False,
                deleted=False,
                author=str(record.get("author") or FILE_AUTHOR),
                updated_at=_from_ns(mtime),
                damaged=reason,
            )
        return result

    # reads -----------------------------------------------------------------------------------
    def get(self, spec_id: str, *, include_deleted: bool = False) -> StoredSpec | None:
        entries = self._scan()
        index = self._index()
        stored = self._all_from(entries, index, self._pending()).get(spec_id)
        if stored is None:
            damaged = self._damaged_stored(entries, index).get(spec_id)
            if damaged is not None:
                raise DamagedSpecError(spec_id, str(damaged.damaged))
        if stored is None or (stored.deleted and not include_deleted):
            return None
        return stored

    def list(
        self,
        *,
        namespace: str | None = None,
        paused: bool | None = None,
        changed_since: datetime | ChangeToken | str | None = None,
        include_deleted: bool = False,
        include_damaged: bool = False,
    ) -> builtins.list[StoredSpec]:
        if changed_since is not None and not isinstance(changed_since, datetime):
            changed = self.changes(changed_since)
            candidates = changed.specs
        else:
            entries = self._scan()
            index = self._index()
            everything = self._all_from(entries, index, self._pending())
            if include_damaged:
                for spec_id, damaged in self._damaged_stored(entries, index).items():
                    if spec_id not in everything or everything[spec_id].deleted:
                        everything[spec_id] = damaged
            candidates = list(everything.values())
        result = []
        for stored in sorted(candidates, key=lambda s: s.id):
            if namespace is not None and stored.namespace != namespace:
                continue
            if paused is not None and stored.paused != paused:
                continue
            if stored.deleted and not include_deleted:
                continue
            if isinstance(changed_since, datetime) and stored.updated_at <= changed_since:
                continue
            result.append(stored)
        return result

    def _token_state(self, stats: builtins.list[tuple[str, int, int]]) -> tuple[str, str, int]:
        names = _sha("\n".join(rel for rel, _, _ in stats))
        index_path = self.history_root / "index.json"
        try:
            st = index_path.stat()
            index_part = f"{st.st_mtime_ns}/{st.st_size}"
            index_mtime = st.st_mtime_ns
        except FileNotFoundError:
            index_part, index_mtime = "-", 0
        state = _sha("\n".join(f"{rel}\0{m}\0{s}" for rel, m, s in stats) + "\n" + index_part)
        newest = max([m for _, m, _ in stats] + [index_mtime], default=0)
        return names[:16], state[:16], newest

    def changes(self, since: ChangeToken | str | None = None) -> ChangeSet:
        stats = self._stat_files()
        names, state, newest = self._token_state(stats)
        parts = str(since).split(":") if since is not None else []
        valid = len(parts) == 6 and parts[0] == "files" and parts[1] == self._store_id and parts[4].isdigit()
        if valid and parts[3] == state:
            return ChangeSet([], ChangeToken(":".join(parts)))
        entries = self._scan(stats)  # parses only files whose cache entry is stale
        index = self._index()
        everything = self._all_from(entries, index, self._pending())
        damaged = {key: reason for key, (reason, _rel) in self._damaged(entries, index).items()}
        # "1": the folder holds an invalid file; any change then gives a full listing, so a file that
        # becomes valid (or invalid) is always seen with the state of every other file.
        token = ChangeToken(f"files:{self._store_id}:{names}:{state}:{newest}:{1 if damaged else 0}")
        if valid and parts[5] == "0" and not damaged and parts[2] == names:
            old_newest = int(parts[4])
            rels = {rel for rel, mtime, _ in stats if mtime >= old_newest}
            if rels:
                changed = [s for s in everything.values() if self._rels.get(s.id) in rels]
                return ChangeSet(sorted(changed, key=lambda s: s.id), token)
        return ChangeSet(sorted(everything.values(), key=lambda s: s.id), token, full=True, damaged=damaged)

    def history(self, spec_id: str) -> builtins.list[SpecRevision]:
        current = self._all().get(spec_id)
        index = self._index()
        record = index.get(spec_id)
        lines: builtins.list[dict[str, Any]] = []
        if record:
            lines = self._history_lines(record["namespace"], record["name"])
        revisions = [
            SpecRevision(
                id=spec_id,
                revision=line["revision"],
                action=line["action"],
                spec=line["spec"],
                paused=bool(line["paused"]),
                deleted=bool(line["deleted"]),
                author=line["author"],
                updated_at=_from_ns(line["ns"]),
            )
            for line in lines
        ]
        if (
            current is not None
            and not current.deleted
            and (not revisions or current.revision > revisions[-1].revision)
        ):
            revisions.append(
                SpecRevision(
                    id=spec_id,
                    revision=current.revision,
                    action="update" if revisions else "create",
                    spec=current.spec,
                    paused=current.paused,
                    deleted=False,
                    author=current.author,
                    updated_at=current.updated_at,
                )
            )
        if not revisions:
            raise SpecNotFoundError(spec_id)
        return revisions

    # writes ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self.read_only:
            raise ReadOnlyStoreError(self.uri)
        import fcntl  # local: Unix only, and only writers lock; a read-only store works without it

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.history_root.mkdir(exist_ok=True)
            handle = open(self.history_root / ".lock", "a+")  # noqa: SIM115 - closed below
        except OSError as err:
            raise StoreUnavailableError(self.uri, str(err)) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._recover()
            except OSError as err:
                raise StoreUnavailableError(
                    self.uri, f"cannot repair after an interrupted write: {err}"
                ) from None
            yield
        finally:
            handle.close()  # releases the lock

    def _recover(self) -> None:
        """Under the lock: finish a write a crash interrupted, and remove what a crash left behind."""
        journal = self._journal()
        if journal is not None:
            log.warning("Completing a write to %s that was interrupted (a crashed writer)", self.uri)
            self._carry_out(journal, self._scan())
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.history_root / JOURNAL)  # also an unreadable one (outside damage)
        self._remove_leftover_temp_files()

    def _remove_leftover_temp_files(self) -> None:
        """Delete the temporary files of atomic writes that a crash interrupted (hidden names)."""
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if d == HISTORY_DIR or not d.startswith(".")]
            for name in files:
                if _TEMP_FILE.fullmatch(name):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(folder, name))

    def _append_history(self, namespace: str, name: str, line: Mapping[str, Any]) -> None:
        """Append one history line durably with a single ``write(2)`` on an ``O_APPEND`` descriptor.

        A torn last line (a crash inside an earlier write) is cut off first, so the new line starts
        a line of its own. Idempotent: a revision the file already has is not appended again.
        """
        path = self._history_path("", namespace, name)
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            _fsync_dir(path.parent.parent)
        data = json.dumps(dict(line), ensure_ascii=False).encode() + b"\n"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            existing = _read_all_fd(fd)
            if existing and not existing.endswith(b"\n"):
                keep = existing.rfind(b"\n") + 1
                log.warning(
                    "Repairing %s/%s/%s.jsonl: cutting off a torn last line", HISTORY_DIR, namespace, name
                )
                os.ftruncate(fd, keep)
                existing = existing[:keep]
            last = existing.rstrip(b"\n").rpartition(b"\n")[2]
            try:
                last_revision = json.loads(last)["revision"] if last else 0
            except (ValueError, KeyError, TypeError):
                last_revision = 0
            if isinstance(last_revision, int) and last_revision >= int(line["revision"]):
                return  # already there (a journal rolled forward twice)
            written = os.write(fd, data)
            if written != len(data):  # a full disk: never leave a partial line behind
                os.ftruncate(fd, len(existing))
                raise OSError(f"short write to {path} ({written} of {len(data)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _history_line(
        *, revision: int, action: str, author: str, ns: int, paused: bool, deleted: bool, spec: Any
    ) -> dict[str, Any]:
        return {
            "revision": revision,
            "action": action,
            "author": author,
            "ns": ns,
            "paused": paused,
            "deleted": deleted,
            "spec": spec,
        }

    def _journal_entry(
        self,
        *,
        spec_id: str,
        namespace: str,
        name: str,
        rel: str,
        old: dict[str, Any] | None,
        text: str | None,
        lines: builtins.list[dict[str, Any]],
    ) -> dict[str, Any]:
        """What one spec's write does: the file (``text``; None deletes it) and its history lines.

        :param old: the spec the file holds now (None: no readable file), so a roll-forward can tell
            whether the file was replaced already, is still the old one, or was edited since.
        """
        final = lines[-1]
        return {
            "spec_id": spec_id,
            "namespace": namespace,
            "name": name,
            "rel": rel,
            "old_sha": None if old is None else _sha(canonical_json(old)),
            "text": text,
            "lines": lines,
            "record": {
                "namespace": namespace,
                "name": name,
                "rel": rel,
                "revision": final["revision"],
                "author": final["author"],
                "ns": final["ns"],
                "deleted": final["deleted"],
                "sha": _sha(canonical_json(final["spec"])),
            },
        }

    def _commit(self, entries: Mapping[str, _Entry], plan: builtins.list[dict[str, Any]]) -> None:
        """Journal ``plan`` durably, carry it out, then drop the journal (see the module docstring)."""
        write_atomic(self.history_root / JOURNAL, json.dumps({"entries": plan}, ensure_ascii=False))
        self._carry_out({"entries": plan}, entries)
        os.unlink(self.history_root / JOURNAL)
        _fsync_dir(self.history_root)

    def _carry_out(self, journal: Mapping[str, Any], entries: Mapping[str, _Entry]) -> None:
        """Do (or finish) every step of a journaled write; each step is skipped when already done."""
        index = self._index()
        by_rel = {entry.rel: entry for entry in entries.values()}
        for item in journal["entries"]:
            path = self.root / item["rel"]
            entry = by_rel.get(item["rel"])
            current = None if entry is None else _sha(canonical_json(entry.spec))
            wanted = item["record"]["sha"]
            if item["text"] is None:  # delete
                if current == item["old_sha"] or entry is None:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        _fsync_dir(path.parent)
            elif current != wanted and (current == item["old_sha"] or item["rel"] in self._invalid):
                write_atomic(path, item["text"])
            # else: the file was replaced already, or edited since the crash (kept; it shows as an
            # external edit on top of the journaled revision)
            for line in item["lines"]:
                self._append_history(item["namespace"], item["name"], line)
            index[item["spec_id"]] = item["record"]
        self._save_index(index)

    def _save_index(self, index: dict[str, dict[str, Any]]) -> None:
        write_atomic(self.history_root / "index.json", json.dumps(index, sort_keys=True))

    def _target(
        self, spec_id: str, entries: Mapping[str, _Entry], namespace: str, name: str, damaged_rel: str | None
    ) -> Path:
        entry = entries.get(spec_id)
        if entry is None:
            if damaged_rel is not None:  # a good version replaces the file the store cannot read
                if any(e.rel == damaged_rel for e in entries.values()):
                    raise StoreError(
                        f"spec {spec_id} is in {damaged_rel}, which also holds other specs and cannot be "
                        "read; repair that file by hand"
                    )
                return self.root / damaged_rel
            return self.root / namespace / f"{name}.yaml"
        if not entry.sole:
            raise StoreError(
                f"spec {spec_id} is defined in {entry.rel} together with other specs; "
                "edit that file, or move the spec to its own file"
            )
        return entry.path

    def _max_file_bytes(self) -> int:
        """The largest spec file this store reads (what ``load_spec_file`` applies on the read side)."""
        if self.policy is not None:
            return self.policy.max_spec_bytes
        from airflow_provider_scheduler.spec.policy import DEFAULT_MAX_SPEC_BYTES, default_policy

        try:
            return default_policy().max_spec_bytes
        except Exception:  # configuration unreadable: the read side falls back the same way
            return DEFAULT_MAX_SPEC_BYTES

    def _render(self, path: Path, spec: Mapping[str, Any]) -> str:
        if path.suffix.lower() == ".json":
            text = json.dumps(dict(spec), indent=2, ensure_ascii=False) + "\n"
        else:
            text = spec_to_yaml(spec)
        if len(text.encode("utf-8", "surrogatepass")) > self._max_file_bytes():
            # Never write a file this store would then skip as too large: the size limit measured the
            # spec as compact ASCII JSON, which is also valid YAML, so that form always reads back.
            text = json.dumps(dict(spec), separators=(",", ":")) + "\n"
        return text

    def _external_lines(
        self, stored: StoredSpec | None, index: Mapping[str, Any]
    ) -> builtins.list[dict[str, Any]]:
        """The history line of a version the store did not write (an edit behind its back), if any."""
        if stored is None or stored.deleted:
            return []
        record = index.get(stored.id)
        if record is not None and record["revision"] == stored.revision:
            return []
        return [
            self._history_line(
                revision=stored.revision,
                action="update" if record is not None else "create",
                author=stored.author,
                ns=int(stored.updated_at.timestamp() * 1e9),
                paused=stored.paused,
                deleted=False,
                spec=stored.spec,
            )
        ]

    def _write(
        self, specs: builtins.list[ScheduleSpec], *, author: str, expected: Mapping[str, int] | None
    ) -> builtins.list[int]:
        with self._locked():
            self._require_root()
            entries = self._scan()
            index = self._index()
            current = self._all_from(entries, index)
            damaged = self._damaged_stored(entries, index)
            for spec_id, want in (expected or {}).items():
                have = current[spec_id].revision if spec_id in current else 0
                if spec_id not in current and spec_id in damaged:
                    have = damaged[spec_id].revision
                if have != want:
                    raise ConflictError(spec_id, have, want)
            plan: builtins.list[dict[str, Any]] = []
            revisions: builtins.list[int] = []
            ns = int(datetime.now(UTC).timestamp() * 1e9)
            for spec in specs:
                data = spec.to_dict()
                stored = current.get(spec.dag_id)
                if stored is not None and not stored.deleted and stored.spec == data:
                    revisions.append(stored.revision)
                    continue
                broken = damaged.get(spec.dag_id) if stored is None else None
                damaged_rel = None
                if broken is not None:
                    damaged_rel = self._damaged(entries, index)[spec.dag_id][1]
                path = self._target(spec.dag_id, entries, spec.namespace, spec.name, damaged_rel)
                lines = self._external_lines(stored, index)
                if stored is None and broken is not None and broken.revision:
                    revision, action = broken.revision + 1, "update"
                elif stored is None:
                    revision, action = 1, "create"
                else:
                    revision, action = stored.revision + 1, "restore" if stored.deleted else "update"
                lines.append(
                    self._history_line(
                        revision=revision,
                        action=action,
                        author=author,
                        ns=ns,
                        paused=bool(spec.paused),
                        deleted=False,
                        spec=data,
                    )
                )
                old = stored.spec if stored is not None and not stored.deleted else None
                plan.append(
                    self._journal_entry(
                        spec_id=spec.dag_id,
                        namespace=spec.namespace,
                        name=spec.name,
                        rel=os.path.relpath(path, self.root),
                        old=old,
                        text=self._render(path, data),
                        lines=lines,
                    )
                )
                revisions.append(revision)
            if not plan:
                return revisions
            try:
                self._commit(entries, plan)
            except OSError as err:
                raise StoreUnavailableError(self.uri, str(err)) from None
            return revisions

    def _set_state(self, spec_id: str, action: str, author: str, expected_revision: int | None) -> int:
        with self._locked():
            self._require_root()
            entries = self._scan()
            index = self._index()
            entry = entries.get(spec_id)
            if entry is None:
                return self._set_state_of_damaged(spec_id, action, author, expected_revision, entries, index)
            stored = self._stored(entry, index)
            if expected_revision is not None and expected_revision != stored.revision:
                raise ConflictError(spec_id, stored.revision, expected_revision)
            outcome = state_after(action, stored.spec)
            if outcome is None:
                return stored.revision
            spec, paused, deleted = outcome
            path = self._target(spec_id, entries, stored.namespace, stored.name, None)
            revision = stored.revision + 1
            lines = self._external_lines(stored, index)
            lines.append(
                self._history_line(
                    revision=revision,
                    action=action,
                    author=author,
                    ns=int(datetime.now(UTC).timestamp() * 1e9),
                    paused=paused,
                    deleted=deleted,
                    spec=spec,
                )
            )
            item = self._journal_entry(
                spec_id=spec_id,
                namespace=stored.namespace,
                name=stored.name,
                rel=entry.rel,
                old=stored.spec,
                text=None if deleted else self._render(path, spec),
                lines=lines,
            )
            try:
                self._commit(entries, [item])
            except OSError as err:
                raise StoreUnavailableError(self.uri, str(err)) from None
            return revision

    def _set_state_of_damaged(
        self,
        spec_id: str,
        action: str,
        author: str,
        expected_revision: int | None,
        entries: Mapping[str, _Entry],
        index: Mapping[str, dict[str, Any]],
    ) -> int:
        """A state change of a spec without a readable file: only ``delete`` (of its damaged file)."""
        damaged = self._damaged(entries, index).get(spec_id)
        if damaged is None:
            record = index.get(spec_id)
            raise SpecNotFoundError(spec_id, deleted=bool(record and record.get("deleted")))
        reason, rel = damaged
        if action != "delete":
            raise DamagedSpecError(spec_id, reason)
        if any(e.rel == rel for e in entries.values()):
            raise StoreError(
                f"spec {spec_id} is in {rel}, which also holds other specs; repair that file by hand"
            )
        record = index.get(spec_id) or {}
        have = int(record.get("revision", 0)) if not record.get("deleted") else 0
        if expected_revision is not None and expected_revision != have:
            raise ConflictError(spec_id, have, expected_revision)
        namespace, _, name = spec_id.partition(".")
        previous = self._history_lines(namespace, name)
        line = self._history_line(
            revision=have + 1,
            action="delete",
            author=author,
            ns=int(datetime.now(UTC).timestamp() * 1e9),
            paused=bool(previous[-1]["paused"]) if previous else False,
            deleted=True,
            spec=previous[-1]["spec"] if previous else {},
        )
        item = self._journal_entry(
            spec_id=spec_id, namespace=namespace, name=name, rel=rel, old=None, text=None, lines=[line]
        )
        try:
            self._commit(entries, [item])
        except OSError as err:
            raise StoreUnavailableError(self.uri, str(err)) from None
        return have + 1


def _read_all_fd(fd: int) -> bytes:
    """The whole content of the file open as ``fd`` (read from the start; O_APPEND writes are unaffected)."""
    chunks: list[bytes] = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)
