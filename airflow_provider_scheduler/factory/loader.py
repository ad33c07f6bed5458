"""The dags-folder loader: stored specs -> DAGs in the module that calls :func:`load_schedules`.

A platform team puts one file in its dags folder::

    from airflow_provider_scheduler.factory import load_schedules

    load_schedules(globals())

What happens on each parse (dag processor):

1. Read the local snapshot of the store (``$AIRFLOW_HOME/schedule_specs_snapshot/``; see
   :mod:`~airflow_provider_scheduler.factory.snapshot`). Every line of it carries a checksum: a damaged
   snapshot (truncated, a flipped byte, a bogus header) is rebuilt from a full read of the store
   (within ``bootstrap_timeout``); until that succeeds the readable part is built and the damaged
   file is never written back, so nothing damaged is carried forward. The status says so.
2. Refresh it incrementally with ``store.changes(token)`` in a worker thread joined with a time bound
   (``refresh_timeout``, default 0.5 s for the database round trips, so an outage adds less than a
   second to a parse; 10 s when there is no snapshot yet). The bound holds even if the
   database hangs: the main thread stops waiting, logs a warning and goes on with the last known good
   snapshot; nothing disappears because of an outage. A successful refresh replaces the snapshot
   atomically.
3. Build one DAG per selected spec (namespace filter, shard, not deleted, not expired) in dag_id
   order. A spec that fails to build is logged as ``spec <id>: <reason>`` and recorded in the loader
   status (``airflow-scheduler status``); every other DAG still loads. So is a spec the store could
   not read (a row with invalid JSON, an unreadable spec file): it costs only itself.
4. Re-check each spec against the deployment's CURRENT templates, allow-lists and governance limits
   (``parse_spec`` with them), because an admin may have tightened them after the spec was stored:
   a spec that no longer passes is not built and is reported with the reason. The outcome is cached
   in the snapshot per record (its revision and bytes) and per digest of the templates and policy
   (:func:`policy_digest`), so a parse re-validates only specs that changed, and every spec once
   after the policy changes.

On a worker that runs one task (Airflow's parsing context names a dag_id), only that spec is read
(one seek into the snapshot, or ``store.get`` when the snapshot lacks it) and only that DAG is built.

Why a status file and not an import error or a placeholder DAG: raising from the loader module would
drop every DAG of the file (Airflow keeps a module's DAGs only when it imports cleanly), and a
placeholder DAG under the broken spec's dag_id would silently replace the last working definition with
an empty one whose runs "succeed". So a broken spec is logged, raised as a Python warning (Airflow
logs those per file), and written to the status file that ``airflow-scheduler status`` prints (exit 1).
Specs loaded by more than one loader file (overlapping namespace filters) are reported there as
duplicates; inside one store a dag_id is the primary key, and shards split by ``zlib.crc32(dag_id)``,
so a spec is in exactly one shard.

Paused specs: ``is_paused_upon_creation`` only acts when Airflow first sees a DAG. When a refresh sees
a spec's ``paused`` flag flip (``airflow-scheduler pause/resume`` or a portal), the loader pushes the
new state to the existing DAG through the Airflow REST API with ``SchedulerHook.set_dag_paused``
(connection ``pause_sync_conn_id``, default ``scheduler_default``; Airflow 3 parse processes have no
database access). A push that fails stays queued in the snapshot and is retried on the next parse.
Only flips are pushed, so an admin who unpauses a DAG in the UI is not overruled on every parse.

Deleted specs drop out with the refresh. Expired specs drop out ``EXPIRY_GRACE`` (1 day, so a last
run can finish) after their ``end_date``. A ``@once`` DAG gets a success and failure callback that
records the end of its run in the store (``ScheduleStore.finish``: a revision by ``airflow`` that sets
``end_date``), because the DAG processor cannot read run history at parse time on Airflow 3; the next
refresh drops a ``@once`` spec whose ``end_date`` has passed, with no grace (its one run is over).

Imports: this module is imported on every DAG-file parse. The spec package and the store's base
(no SQLAlchemy) come with the snapshot module, since every parse that builds a DAG needs them; the
templates, the hook, SQLAlchemy and Airflow are imported inside the functions that need them, so a
parse pays only for what it uses
(``python -X importtime -c "import airflow_provider_scheduler.factory.loader"``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
import warnings
import zlib
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import airflow_provider_scheduler
from airflow_provider_scheduler.factory.snapshot import (
    Record,
    Snapshot,
    SnapshotError,
    read_snapshot,
    snapshot_path,
    write_snapshot,
)
from airflow_provider_scheduler.factory.status import loader_key, status_path, write_status

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Mapping, MutableMapping
    from pathlib import Path

    from airflow_provider_scheduler.spec import GovernancePolicy, ScheduleSpec
    from airflow_provider_scheduler.store.base import ChangeSet, ScheduleStore, StoredSpec
    from airflow_provider_scheduler.templates import TemplateRegistry

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_REFRESH_TIMEOUT = 0.5
PAUSE_SYNC_TIMEOUT = 3.0
DEFAULT_BOOTSTRAP_TIMEOUT = 10.0
EXPIRY_GRACE = timedelta(days=1)


class RefreshTimeoutError(TimeoutError):
    """The store did not answer within the loader's time bound."""


class EmptyStoreError(RuntimeError):
    """A refresh returned an empty full listing for a non-empty snapshot (suspicious; not applied)."""


@dataclass
class LoadResult:
    """What one :func:`load_schedules` call did (also returned to the caller, handy in tests).

    :param dag_ids: the DAGs registered in the module, in build order.
    :param errors: spec id -> reason, for specs that could not be built.
    :param dropped: spec id -> why it was left out (``expired``, ``once finished``).
    :param refresh: ``ok``, ``skipped`` (worker path) or the reason the refresh failed.
    :param snapshot: None when the snapshot was intact (or absent), else what was damaged and whether
        it was rebuilt from the store.
    """

    store: str
    dag_ids: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    refresh: str = "skipped"
    snapshot_written_at: str | None = None
    message: str = ""
    snapshot: str | None = None


def run_bounded(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run ``fn`` in a daemon thread and wait at most ``timeout`` seconds for it.

    If the thread is still busy (a hung database), it is abandoned (it ends with the process) and
    :class:`RefreshTimeoutError` is raised; exceptions of ``fn`` are re-raised.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"schedule-specs-{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise RefreshTimeoutError(f"{what} did not finish within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def parsing_context_dag_id() -> str | None:
    """The dag_id of Airflow's parsing context (set on a worker running one task), else None."""
    try:
        from airflow.sdk import get_parsing_context
    except ImportError:  # Airflow 2.x
        from airflow.utils.dag_parsing_context import get_parsing_context  # type: ignore[no-redef]
    return get_parsing_context().dag_id  # type: ignore[no-any-return]


def shard_of(dag_id: str, count: int) -> int:
    """The shard (0..count-1) that owns ``dag_id``: a stable hash, the same in every process."""
    return zlib.crc32(dag_id.encode()) % count


def _namespace_of(dag_id: str) -> str:
    return dag_id.partition(".")[0]


def _is_once(spec: ScheduleSpec) -> bool:
    return spec.schedule.kind == "once"


def drop_reason(spec: ScheduleSpec, now: datetime) -> str | None:
    """Why ``spec`` no longer belongs to the DAG set, or None."""
    end = spec.end_datetime()  # a plain date includes that day
    if end is not None and _is_once(spec) and now >= end:
        return f"@once finished (its run ended {end.isoformat()})"
    if end is not None and now > end + EXPIRY_GRACE:
        return f"expired (end_date {end.isoformat()} passed)"
    return None


class RecordOnceFinished:
    """DAG callback of a ``@once`` spec: record in the store that its run finished.

    Runs where Airflow runs DAG callbacks (the DAG processor on Airflow 3). The store revision it
    writes is what makes the loader drop the spec; a failure is logged and the spec simply stays.

    :param store: the store URI the loader read the spec from.
    :param spec_id: the spec's id (its dag_id).
    """

    def __init__(self, store: str, spec_id: str) -> None:
        self.store = store
        self.spec_id = spec_id

    def __call__(self, context: Mapping[str, Any]) -> None:
        run = context.get("dag_run")
        author = f"airflow (run {getattr(run, 'run_id', '?')}: {getattr(run, 'state', '?')})"
        try:
            store = _open_store(self.store)
            try:
                store.finish(self.spec_id, author=author)
            finally:
                store.close()
        except Exception:
            log.exception("Could not record the finished @once run of spec %s in the store", self.spec_id)


class _Selection:
    """Which dag_ids this loader is responsible for."""

    def __init__(self, namespace: str | Iterable[str] | None, shard: tuple[int, int] | None) -> None:
        if isinstance(namespace, str):
            self.namespaces: frozenset[str] | None = frozenset([namespace])
        elif namespace is None:
            self.namespaces = None
        else:
            self.namespaces = frozenset(namespace)
        if shard is not None:
            index, count = shard
            if not (isinstance(index, int) and isinstance(count, int) and count >= 1 and 0 <= index < count):
                raise ValueError(f"shard must be (index, count) with 0 <= index < count, got {shard!r}")
        self.shard = shard

    def __contains__(self, dag_id: object) -> bool:
        if not isinstance(dag_id, str):
            return False
        if self.namespaces is not None and _namespace_of(dag_id) not in self.namespaces:
            return False
        if self.shard is not None:
            return shard_of(dag_id, self.shard[1]) == self.shard[0]
        return True


def _open_store(store_uri: str) -> ScheduleStore:
    """Open the store object in the calling thread: imports and engine set-up only, no database I/O.

    Only the database round trips run under the time bound, so a slow import on a busy machine does
    not eat into it.
    """
    from airflow_provider_scheduler.store import open_store

    return open_store(store_uri)


def _fetch_changes(store_obj: ScheduleStore, token: str | None) -> ChangeSet:
    from airflow_provider_scheduler.store.base import ChangeToken

    try:
        return store_obj.changes(ChangeToken(token) if token else None)
    finally:
        store_obj.close()


def _fetch_one(store_obj: ScheduleStore, dag_id: str) -> StoredSpec | None:
    try:
        return store_obj.get(dag_id)
    finally:
        store_obj.close()


def _record_of(stored: StoredSpec) -> Record:
    return Record.make(
        stored.id,
        stored.revision,
        bool(stored.paused),
        dict(stored.spec),
        author=stored.author,
        updated_at=stored.updated_at.isoformat(timespec="seconds"),
    )


def merge_changes(old: Snapshot | None, store: str, changes: ChangeSet) -> tuple[Snapshot, bool]:
    """Apply a ``ChangeSet`` to ``old``; returns the new snapshot and whether anything changed.

    Paused-state flips of specs that already existed are queued in ``pause_sync`` (creation is
    handled by ``is_paused_upon_creation``), and so is the state of a spec that comes back after a
    delete (its DAG is still known to Airflow, paused by the delete).
    """
    specs, token = changes[0], changes[1]
    full = bool(getattr(changes, "full", False))
    old_records = old.records if old is not None else {}
    if full and old_records and not any(not s.deleted for s in specs) and old is not None and old.token:
        # The store did not recognise our token AND is empty: most likely a different or re-created
        # database (a wrong URI, a restore that failed), not a user who deleted everything (that
        # arrives as incremental deletions). Keep the last known good set.
        raise EmptyStoreError(
            f"the store answered with an empty full listing although the snapshot holds {len(old_records)} "
            "specs (a different or re-created database?); keeping the snapshot. Delete the snapshot file "
            "to accept an empty store"
        )
    records: dict[str, Record] = {} if full else dict(old_records)
    pause_sync = dict(old.pause_sync) if old is not None else {}
    # Specs the store could not read: a full listing says which are damaged now; an incremental one
    # only about the specs it lists (a spec that arrives readable is no longer damaged).
    damaged: dict[str, str] = {} if full or old is None else dict(old.damaged)
    new_damage = dict(getattr(changes, "damaged", None) or {})
    changed = old is None or full or str(token) != old.token or bool(new_damage)
    for stored in specs:
        changed = True
        damaged.pop(stored.id, None)
        previous = old_records.get(stored.id)
        if stored.deleted:
            records.pop(stored.id, None)
            pause_sync.pop(stored.id, None)
            continue
        if previous is not None and previous.revision == stored.revision and not full:
            continue
        record = _record_of(stored)
        if previous is not None and previous.raw == record.raw:
            record = previous  # unchanged: keep its cached policy check
        records[stored.id] = record
        if previous is not None and previous.paused != bool(stored.paused):
            pause_sync[stored.id] = bool(stored.paused)
        elif previous is None and old is not None and not full and stored.revision > 1:
            # Back after a delete (which pauses the DAG in Airflow, see cli.reparse): Airflow still
            # knows the DAG, so is_paused_upon_creation does not act; push the spec's own state.
            pause_sync[stored.id] = bool(stored.paused)
    for key, reason in new_damage.items():
        records.pop(key, None)  # never build a stale copy of a spec the store cannot read now
        damaged[key] = reason
    for spec_id in list(pause_sync):
        if spec_id not in records:
            del pause_sync[spec_id]
    snap = Snapshot(
        store=store,
        token=str(token) if token is not None else None,
        records=records,
        pause_sync=pause_sync,
        # An unchanged snapshot is not rewritten: it is still the one written then.
        written_at=old.written_at if old is not None else None,
        damaged=damaged,
        policy=old.policy if old is not None else None,
    )
    return snap, changed


def load_schedules(
    module_globals: MutableMapping[str, Any],
    *,
    store: str | None = None,
    namespace: str | Iterable[str] | None = None,
    shard: tuple[int, int] | None = None,
    refresh_timeout: float | None = None,
    bootstrap_timeout: float | None = None,
    registry: TemplateRegistry | None = None,
    policy: GovernancePolicy | None = None,
    home: str | os.PathLike[str] | None = None,
    pause_sync_conn_id: str | None = "scheduler_default",
) -> LoadResult:
    """Build a DAG for every selected stored spec and put it into ``module_globals``.

    :param module_globals: the loader module's ``globals()``; DAGs are added under their dag_id.
    :param store: store URI; default the ``[schedule_specs] store`` option.
    :param namespace: load only this namespace (or these namespaces).
    :param shard: ``(index, count)``: load only the specs whose ``zlib.crc32(dag_id) % count == index``,
        so ``count`` loader files together load every spec exactly once.
    :param refresh_timeout: seconds the store's round trips may take (default 0.5; the imports and the
        engine set-up happen before the clock starts).
    :param bootstrap_timeout: the same for a full read: no snapshot yet, or a damaged one (default 10).
    :param registry: task-template registry (default: the configured default registry).
    :param policy: governance policy every spec is re-checked against (default: the configured one,
        ``[schedule_specs]``, as ``validate`` uses).
    :param home: folder holding ``schedule_specs_snapshot/`` (default ``$AIRFLOW_HOME``).
    :param pause_sync_conn_id: connection (type ``scheduler``) through which a pause/resume done in the
        store is applied to an existing DAG; None disables it.
    :return: a :class:`LoadResult` describing what was loaded (the DAGs are in ``module_globals``).
    """
    started = time.monotonic()
    selection = _Selection(namespace, shard)
    if store is None or not str(store).strip():
        from airflow_provider_scheduler.store.uri import default_store_uri

        store = default_store_uri()
    from airflow_provider_scheduler.store.uri import redact_text, redact_uri, uri_secrets

    shown = redact_uri(store)
    path = snapshot_path(store, home)
    result = LoadResult(store=shown)
    if registry is None:
        from airflow_provider_scheduler.templates import default_registry

        registry = default_registry()
    if policy is None:
        from airflow_provider_scheduler.spec.policy import default_policy

        # the configured deployment's limits and allowed_templates, as `validate` applies them
        policy = default_policy()
    checks = _PolicyChecks(registry, policy)

    target = parsing_context_dag_id()
    if target is not None:
        _load_one(module_globals, target, selection, store, path, checks, result, refresh_timeout)
        return result

    try:
        snap = read_snapshot(path)
    except (OSError, SnapshotError) as exc:
        log.warning("Ignoring the spec snapshot %s: %s", path, exc)
        snap = None
    damage = list(snap.damage) if snap is not None else []
    if damage:
        log.warning(
            "The spec snapshot %s is damaged (%s); rebuilding it from a full read of the store",
            path,
            "; ".join(damage),
        )

    full_read = snap is None or bool(damage)
    timeout = (
        (bootstrap_timeout if bootstrap_timeout is not None else DEFAULT_BOOTSTRAP_TIMEOUT)
        if full_read
        else (refresh_timeout if refresh_timeout is not None else DEFAULT_REFRESH_TIMEOUT)
    )
    token = snap.token if snap is not None and not damage else None
    changed = False
    try:
        store_obj = _open_store(store)
        changes = run_bounded(lambda: _fetch_changes(store_obj, token), timeout, "refresh")
        merged, changed = merge_changes(
            snap if not damage or snap is None else _readable(snap), shown, changes
        )
        damaged = getattr(changes, "damaged", None) or {}
        for problem in getattr(store_obj, "problems", None) or ():  # e.g. a spec file defined twice
            key = getattr(problem, "spec_id", None) or getattr(problem, "source", None) or "?"
            if key not in damaged and getattr(problem, "source", None) not in damaged:
                result.errors[str(key)] = _describe(problem)
    except Exception as exc:
        reason = redact_text(_describe(exc), uri_secrets(store))  # a driver's text may hold the DSN
        result.refresh = f"failed: {reason}"
        if snap is not None:
            log.warning(
                "Spec store %s unreachable (%s); keeping the last known good snapshot of %s (%d specs)",
                shown,
                reason,
                snap.written_at,
                len(snap.records),
            )
        else:
            result.message = (
                f"no DAGs loaded: there is no snapshot of the spec store {shown} yet and the store "
                f"cannot be read ({reason})"
            )
            log.error("%s", result.message)
        if damage and snap is not None:
            result.snapshot = (
                f"damaged ({'; '.join(damage)}); the store could not be read, so the {len(snap.records)} "
                "readable specs are used; it is rebuilt from the store on the next parse that reaches it"
            )
    else:
        snap = merged
        if damage:
            result.snapshot = f"damaged ({'; '.join(damage)}); rebuilt from a full read of the store"
        if snap.pause_sync and pause_sync_conn_id:
            _sync_pauses(snap, pause_sync_conn_id, timeout)
            changed = True
        result.refresh = "ok"

    if snap is not None:
        result.snapshot_written_at = snap.written_at
        checks.adopt(snap)
        for key, reason in sorted(snap.damaged.items()):
            if key in selection:
                result.errors[key] = f"damaged in the store: {reason}"
        _build_all(module_globals, snap, selection, checks, store, result)
        # A damaged snapshot that was not rebuilt is never written back: the next parse must see the
        # damage again and rebuild it (writing the readable part would make its losses permanent).
        if (changed or checks.computed) and not (damage and result.refresh != "ok"):
            try:
                _write_keeping_checks(path, snap)
                result.snapshot_written_at = snap.written_at
            except OSError as exc:
                log.warning("Could not write the spec snapshot %s: %s", path, exc)
        if not result.message:
            result.message = f"{len(result.dag_ids)} DAGs loaded from {len(snap.records)} stored specs"

    _record_status(module_globals, store, namespace, shard, home, result, time.monotonic() - started)
    return result


def _readable(snap: Snapshot) -> Snapshot:
    """The verified part of a damaged snapshot, as the base of its rebuild (no token: a full read)."""
    return Snapshot(
        store=snap.store, records=dict(snap.records), pause_sync=dict(snap.pause_sync), policy=snap.policy
    )


def _write_keeping_checks(path: Path, snap: Snapshot) -> None:
    """Write ``snap``, first adopting policy checks another loader file wrote meanwhile.

    Several loader files (namespaces, shards) share one snapshot and each checks only its own specs;
    without this, the last writer would drop the others' checks and they would re-check every parse.
    """
    try:
        current = read_snapshot(path)
    except OSError:
        current = None
    if current is not None and not current.damage and current.policy == snap.policy:
        for spec_id, record in snap.records.items():
            theirs = current.records.get(spec_id)
            if record.check is None and theirs is not None and theirs.raw == record.raw:
                record.check = theirs.check
    write_snapshot(path, snap)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]


def policy_digest(registry: TemplateRegistry, policy: GovernancePolicy) -> str:
    """A digest of what decides whether a stored spec is still valid here: templates and policy.

    It covers every template's name, enablement, ``with`` schema (where the connection and callable
    allow-lists live) and check function (:meth:`TemplateRegistry.fingerprint`), the namespace
    allow-lists, every governance limit, and this provider's version (a newer parser may refuse
    more). Equal digests mean a spec's cached check still holds.
    """
    limits = {f.name: _stable(getattr(policy, f.name)) for f in fields(policy)}
    fingerprint = getattr(registry, "fingerprint", None)
    # a catalog without a fingerprint gets one per process: correct, it only re-checks more often
    templates = fingerprint() if callable(fingerprint) else f"{type(registry).__qualname__}@{id(registry)}"
    text = json.dumps(
        [airflow_provider_scheduler.__version__, templates, limits], sort_keys=True, default=repr
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _stable(value: Any) -> Any:
    """``value`` as JSON-able data that is the same in every process (sets sorted, durations in s)."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (set, frozenset)):
        return sorted(_stable(v) for v in value)
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _stable(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    return value


class _PolicyChecks:
    """Re-checks stored specs against the current templates and policy, cached per digest.

    :param registry: the deployment's templates.
    :param policy: the deployment's governance policy.
    """

    def __init__(self, registry: TemplateRegistry, policy: GovernancePolicy) -> None:
        self.registry = registry
        self.policy = policy
        self.digest = policy_digest(registry, policy)
        #: how many checks this parse computed (the snapshot is written when any was)
        self.computed = 0

    def adopt(self, snap: Snapshot) -> None:
        """Forget the cached checks of ``snap`` if they were made under another digest."""
        if snap.policy != self.digest:
            for record in snap.records.values():
                record.check = None
            snap.policy = self.digest

    def check(self, record: Record) -> str:
        """``""`` when ``record``'s spec passes the current templates and policy, else why not (cached)."""
        if record.check is None:
            # the full validator (jsonschema, Jinja checks) is imported only when a check is due
            from airflow_provider_scheduler.spec import SpecError, parse_spec
            from airflow_provider_scheduler.spec.canonical import pin_template_versions

            try:
                # a template stored without a version means version 1, as on the trusted path
                parse_spec(pin_template_versions(record.spec), catalog=self.registry, policy=self.policy)
            except SpecError as err:
                problems = "; ".join(str(p) for p in err.problems[:3])
                record.check = f"no longer passes this deployment's templates and policy: {problems}"
            else:
                record.check = ""
            self.computed += 1
        return record.check


def _build_one(
    module_globals: MutableMapping[str, Any],
    record: Record,
    checks: _PolicyChecks,
    result: LoadResult,
    now: datetime | None,
    store: str,
) -> None:
    # not at module top: building imports the spec package and Airflow (parse-path cost, measured)
    from airflow_provider_scheduler.factory.build import SpecOrigin, build_dag
    from airflow_provider_scheduler.spec.model import ScheduleSpec

    dag_id = record.id
    try:
        if record.check:  # refused by the current policy before: not even built
            raise ValueError(record.check)
        data = record.decode()
        spec = ScheduleSpec.from_canonical(data["spec"], catalog=checks.registry, policy=checks.policy)
        if spec.dag_id != dag_id:
            raise ValueError(f"the stored spec describes {spec.dag_id!r}, not {dag_id!r}; it was not loaded")
        origin = SpecOrigin(record.revision, data.get("author"), data.get("updated_at"))
        if now is not None:
            reason = drop_reason(spec, now)
            if reason is not None:
                result.dropped[dag_id] = reason
                return
        if dag_id in module_globals:
            raise ValueError(f"the loader module already defines {dag_id!r}; the spec was not loaded")
        on_finished = RecordOnceFinished(store, dag_id) if _is_once(spec) else None
        dag = build_dag(
            spec, checks.registry, policy=checks.policy, on_run_finished=on_finished, origin=origin
        )
        refused = checks.check(record)  # after the build: a build error keeps its own message
        if refused:
            raise ValueError(refused)
    except Exception as exc:
        reason = _describe(exc)
        result.errors[dag_id] = reason
        log.error("spec %s: %s", dag_id, reason)
        warnings.warn(f"spec {dag_id}: {reason}", stacklevel=2)
        return
    module_globals[dag_id] = dag
    result.dag_ids.append(dag_id)


def _build_all(
    module_globals: MutableMapping[str, Any],
    snap: Snapshot,
    selection: _Selection,
    checks: _PolicyChecks,
    store: str,
    result: LoadResult,
) -> None:
    now = datetime.now(UTC)
    for dag_id in sorted(snap.records):
        if dag_id in selection:
            _build_one(module_globals, snap.records[dag_id], checks, result, now, store)


def _load_one(
    module_globals: MutableMapping[str, Any],
    dag_id: str,
    selection: _Selection,
    store: str,
    path: Path,
    checks: _PolicyChecks,
    result: LoadResult,
    refresh_timeout: float | None,
) -> None:
    """Worker path: build only ``dag_id`` (snapshot first: it is what the dag processor built from)."""
    if dag_id not in selection:
        result.message = f"parsing context is {dag_id}, which this loader does not own"
        return
    record = None
    try:
        snap = read_snapshot(path, only=[dag_id])
        if snap is not None:
            if snap.damage:
                log.warning("Ignoring the damaged spec snapshot %s: %s", path, "; ".join(snap.damage))
            checks.adopt(snap)
            record = snap.records.get(dag_id)
    except (OSError, SnapshotError) as exc:
        log.warning("Ignoring the spec snapshot %s: %s", path, exc)
    if record is None:
        timeout = refresh_timeout if refresh_timeout is not None else DEFAULT_REFRESH_TIMEOUT
        try:
            store_obj = _open_store(store)
            stored = run_bounded(lambda: _fetch_one(store_obj, dag_id), timeout, "get")
        except Exception as exc:
            from airflow_provider_scheduler.store.uri import redact_text, uri_secrets

            result.refresh = f"failed: {redact_text(_describe(exc), uri_secrets(store))}"
            log.warning(
                "spec %s: not in the snapshot and the store is unreachable (%s)", dag_id, result.refresh
            )
            return
        if stored is None or stored.deleted:
            result.message = f"spec {dag_id} is not in the store"
            return
        record = _record_of(stored)
        result.refresh = "ok"
    # No expiry check here: a task of a run that already started must still find its DAG.
    _build_one(module_globals, record, checks, result, None, store)


def _sync_pauses(snap: Snapshot, conn_id: str, timeout: float) -> None:
    """Apply pause/resume flips done in the store to the existing DAGs through the Airflow REST API.

    ``is_paused_upon_creation`` only acts when Airflow first sees a DAG, so a spec paused (or resumed)
    later is pushed with ``SchedulerHook.set_dag_paused`` (connection ``conn_id``). Flips that cannot be
    pushed now (no connection, API down) stay queued in the snapshot and are retried on the next parse.
    """
    pending = dict(snap.pause_sync)

    def push() -> list[str]:
        from airflow_provider_scheduler.hooks.scheduler import SchedulerHook, SchedulerNotFoundError

        hook = SchedulerHook(
            scheduler_conn_id=conn_id, timeout=max(timeout, PAUSE_SYNC_TIMEOUT), max_retries=0
        )
        done = []
        for dag_id, paused in sorted(pending.items()):
            # A DAG Airflow has not created yet gets the state from is_paused_upon_creation.
            with contextlib.suppress(SchedulerNotFoundError):
                hook.set_dag_paused(dag_id, paused)
            done.append(dag_id)
        return done

    try:
        done = run_bounded(push, max(timeout, PAUSE_SYNC_TIMEOUT), "pause-sync")
    except Exception as exc:
        log.warning(
            "Could not apply %d pause/resume change(s) from the spec store to Airflow yet (%s); will retry",
            len(pending),
            _describe(exc),
        )
        return
    for dag_id in done:
        snap.pause_sync.pop(dag_id, None)
        log.info("spec %s: DAG %s in Airflow", dag_id, "paused" if pending[dag_id] else "resumed")


def _record_status(
    module_globals: MutableMapping[str, Any],
    store: str,
    namespace: str | Iterable[str] | None,
    shard: tuple[int, int] | None,
    home: str | os.PathLike[str] | None,
    result: LoadResult,
    seconds: float,
) -> None:
    loader_file = module_globals.get("__file__")
    ns = sorted(namespace) if namespace is not None and not isinstance(namespace, str) else namespace
    status = {
        "loader": loader_file,
        "namespace": ns,
        "shard": list(shard) if shard is not None else None,
        "store": result.store,
        "parsed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "refresh": result.refresh,
        "snapshot_written_at": result.snapshot_written_at,
        "loaded": len(result.dag_ids),
        "dag_ids": result.dag_ids,
        "errors": dict(sorted(result.errors.items())),
        "dropped": dict(sorted(result.dropped.items())),
        "message": result.message,
        "snapshot": result.snapshot,
    }
    try:
        write_status(status_path(store, loader_key(loader_file, ns, status["shard"]), home), status)
    except OSError as exc:
        log.warning("Could not write the loader status: %s", exc)
