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
  (an exclusive ``flock`` on ``.history/.lock``).
- ``put_many`` validates and checks every revision before writing anything, then replaces files
  atomically one by one; a crash in the middle of the renames can leave part of a batch applied.
- ``changes(token)`` compares file names, sizes and modification times: no change costs a directory
  scan and no parsing; modified files are returned incrementally; added or removed files yield a
  full listing (``ChangeSet.full``).
- Invalid files are skipped (they never hide the others) and reported in :attr:`problems`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from airflow_provider_scheduler.spec.errors import Problem, SpecError
from airflow_provider_scheduler.spec.files import spec_files_under
from airflow_provider_scheduler.spec.loader import load_spec_file
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
EXTERNAL_AUTHOR = "(external edit)"
FILE_AUTHOR = "(file)"


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
        for rel, mtime_ns, size in stats:
            items = self._load(rel, mtime_ns, size)
            for item in items:
                if isinstance(item, SpecError):
                    problems.append(item)
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
        return entries

    # history sidecar -------------------------------------------------------------------------
    def _index(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((self.history_root / "index.json").read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            raise StoreUnavailableError(self.uri, f"cannot read {HISTORY_DIR}/index.json: {err}") from None
        return data if isinstance(data, dict) else {}

    def _history_path(self, spec_id: str, namespace: str, name: str) -> Path:
        return self.history_root / namespace / f"{name}.jsonl"

    def _stored(self, entry: _Entry, index: Mapping[str, dict[str, Any]]) -> StoredSpec:
        record = index.get(entry.spec_id)
        sha = _sha(canonical_json(entry.spec))
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
        path = self.history_root / namespace / f"{name}.jsonl"
        try:
            text = path.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def _all(self, stats: builtins.list[tuple[str, int, int]] | None = None) -> dict[str, StoredSpec]:
        return self._all_from(self._scan(stats), self._index())

    def _all_from(
        self, entries: Mapping[str, _Entry], index: Mapping[str, dict[str, Any]]
    ) -> dict[str, StoredSpec]:
        result = {spec_id: self._stored(entry, index) for spec_id, entry in entries.items()}
        self._rels = {spec_id: entry.rel for spec_id, entry in entries.items()}
        for spec_id, record in index.items():
            if spec_id not in result and record.get("deleted"):
                tomb = self._tombstone(spec_id, record)
                if tomb is not None:
                    result[spec_id] = tomb
        return result

    # reads -----------------------------------------------------------------------------------
    def get(self, spec_id: str, *, include_deleted: bool = False) -> StoredSpec | None:
        stored = self._all().get(spec_id)
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
    ) -> builtins.list[StoredSpec]:
        if changed_since is not None and not isinstance(changed_since, datetime):
            changed = self.changes(changed_since)
            candidates = changed.specs
        else:
            candidates = list(self._all().values())
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
        token = ChangeToken(f"files:{self._store_id}:{names}:{state}:{newest}")
        parts = str(since).split(":") if since is not None else []
        if len(parts) == 5 and parts[0] == "files" and parts[1] == self._store_id and parts[4].isdigit():
            if parts[3] == state:
                return ChangeSet([], token)
            old_newest = int(parts[4])
            modified = [item for item in stats if item[1] >= old_newest]
            if parts[2] == names and modified:
                everything = self._all(stats)  # parses only files whose cache entry is stale
                rels = {rel for rel, _, _ in modified}
                changed = [s for s in everything.values() if self._rels.get(s.id) in rels]
                return ChangeSet(sorted(changed, key=lambda s: s.id), token)
        return ChangeSet(sorted(self._all(stats).values(), key=lambda s: s.id), token, full=True)

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
            yield
        finally:
            handle.close()  # releases the lock

    def _record(
        self,
        index: dict[str, dict[str, Any]],
        *,
        spec_id: str,
        namespace: str,
        name: str,
        revision: int,
        action: str,
        spec: dict[str, Any],
        paused: bool,
        deleted: bool,
        author: str,
        ns: int,
    ) -> None:
        line = {
            "revision": revision,
            "action": action,
            "author": author,
            "ns": ns,
            "paused": paused,
            "deleted": deleted,
            "spec": spec,
        }
        path = self._history_path(spec_id, namespace, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        index[spec_id] = {
            "namespace": namespace,
            "name": name,
            "revision": revision,
            "author": author,
            "ns": ns,
            "deleted": deleted,
            "sha": _sha(canonical_json(spec)),
        }

    def _record_external(self, index: dict[str, dict[str, Any]], stored: StoredSpec) -> None:
        """Put a version the store did not write (a file edited or added behind its back) into history."""
        record = index.get(stored.id)
        if stored.deleted or (record is not None and record["revision"] == stored.revision):
            return
        self._record(
            index,
            spec_id=stored.id,
            namespace=stored.namespace,
            name=stored.name,
            revision=stored.revision,
            action="update" if record is not None else "create",
            spec=stored.spec,
            paused=stored.paused,
            deleted=False,
            author=stored.author,
            ns=int(stored.updated_at.timestamp() * 1e9),
        )

    def _save_index(self, index: dict[str, dict[str, Any]]) -> None:
        write_atomic(self.history_root / "index.json", json.dumps(index, sort_keys=True))

    def _target(self, spec_id: str, entries: Mapping[str, _Entry], namespace: str, name: str) -> Path:
        entry = entries.get(spec_id)
        if entry is None:
            return self.root / namespace / f"{name}.yaml"
        if not entry.sole:
            raise StoreError(
                f"spec {spec_id} is defined in {entry.rel} together with other specs; "
                "edit that file, or move the spec to its own file"
            )
        return entry.path

    @staticmethod
    def _render(path: Path, spec: Mapping[str, Any]) -> str:
        if path.suffix.lower() == ".json":
            return json.dumps(dict(spec), indent=2, ensure_ascii=False) + "\n"
        return spec_to_yaml(spec)

    def _write(
        self, specs: builtins.list[ScheduleSpec], *, author: str, expected: Mapping[str, int] | None
    ) -> builtins.list[int]:
        with self._locked():
            self._require_root()
            entries = self._scan()
            index = self._index()
            current = self._all_from(entries, index)
            for spec_id, want in (expected or {}).items():
                have = current[spec_id].revision if spec_id in current else 0
                if have != want:
                    raise ConflictError(spec_id, have, want)
            plan: builtins.list[tuple[ScheduleSpec, dict[str, Any], Path, int, str, StoredSpec | None]] = []
            revisions: builtins.list[int] = []
            for spec in specs:
                data = spec.to_dict()
                stored = current.get(spec.dag_id)
                if stored is not None and not stored.deleted and stored.spec == data:
                    revisions.append(stored.revision)
                    continue
                path = self._target(spec.dag_id, entries, spec.namespace, spec.name)
                if stored is None:
                    revision, action = 1, "create"
                else:
                    revision, action = stored.revision + 1, "restore" if stored.deleted else "update"
                plan.append((spec, data, path, revision, action, stored))
                revisions.append(revision)
            if not plan:
                return revisions
            try:
                for _spec, data, path, _rev, _act, _stored in plan:
                    write_atomic(path, self._render(path, data))
                ns = datetime.now(UTC).timestamp()
                for spec, data, _path, revision, action, stored in plan:
                    if stored is not None:
                        self._record_external(index, stored)
                    self._record(
                        index,
                        spec_id=spec.dag_id,
                        namespace=spec.namespace,
                        name=spec.name,
                        revision=revision,
                        action=action,
                        spec=data,
                        paused=bool(spec.paused),
                        deleted=False,
                        author=author,
                        ns=int(ns * 1e9),
                    )
                self._save_index(index)
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
                record = index.get(spec_id)
                raise SpecNotFoundError(spec_id, deleted=bool(record and record.get("deleted")))
            stored = self._stored(entry, index)
            if expected_revision is not None and expected_revision != stored.revision:
                raise ConflictError(spec_id, stored.revision, expected_revision)
            outcome = state_after(action, stored.spec)
            if outcome is None:
                return stored.revision
            spec, paused, deleted = outcome
            path = self._target(spec_id, entries, stored.namespace, stored.name)
            try:
                if deleted:
                    path.unlink()
                else:
                    write_atomic(path, self._render(path, spec))
                self._record_external(index, stored)
                revision = stored.revision + 1
                self._record(
                    index,
                    spec_id=spec_id,
                    namespace=stored.namespace,
                    name=stored.name,
                    revision=revision,
                    action=action,
                    spec=spec,
                    paused=paused,
                    deleted=deleted,
                    author=author,
                    ns=int(datetime.now(UTC).timestamp() * 1e9),
                )
                self._save_index(index)
            except OSError as err:
                raise StoreUnavailableError(self.uri, str(err)) from None
            return revision
