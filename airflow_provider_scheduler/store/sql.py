"""The SQL spec store: SQLite (embedded default) and PostgreSQL, through SQLAlchemy Core.

One code path for SQLAlchemy 1.4 (Airflow 2.11, ``future=True`` engines) and 2.x (Airflow 3).
The tables are this store's own (not registered on Airflow's metadata):

``schedule_store_meta``
    one row: ``schema_version``, ``store_id`` (random, identifies the store in change tokens) and
    ``change_seq``, the change counter.
``schedule_specs``
    the current state per spec id, with the ``change_seq`` of its last change (indexed).
``schedule_spec_revisions``
    every revision (unique ``(spec_id, revision)``).

Ordering guard for change tokens: every write transaction starts by incrementing the counter row
(``UPDATE ... SET change_seq = change_seq + 1``). That row lock (PostgreSQL) or the database write
lock (SQLite, ``BEGIN IMMEDIATE``) is held until commit, so writers commit in sequence order. A
reader first reads the committed counter ``k`` and then the rows with ``token < change_seq <= k``:
every transaction numbered ``<= k`` has committed by then, so no change is ever skipped, even under
READ COMMITTED. Optimistic concurrency uses ``UPDATE ... WHERE revision = :expected`` plus the unique
history key, so two writers can never both win.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from airflow_provider_scheduler.spec.errors import Problem, SpecError
from airflow_provider_scheduler.store.base import (
    ChangeSet,
    ChangeToken,
    ScheduleStore,
    SpecRevision,
    StoredSpec,
    canonical_json,
    state_after,
)
from airflow_provider_scheduler.store.errors import (
    ConflictError,
    DamagedSpecError,
    InvalidStoreUriError,
    SpecNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from airflow_provider_scheduler.store.uri import POSTGRES_SCHEMES, redact_text, redact_uri, uri_secrets

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterable, Iterator, Mapping

    from sqlalchemy.engine import Connection, Engine

    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.model import ScheduleSpec
    from airflow_provider_scheduler.spec.policy import GovernancePolicy

SCHEMA_VERSION = 2
SQLALCHEMY_2 = int(sa.__version__.split(".")[0]) >= 2
_ADVISORY_LOCK_KEY = 0x5C4ED0  # serialises schema creation/upgrades on PostgreSQL
_CHUNK = 500  # ids per IN (...) query

metadata = sa.MetaData()

meta_table = sa.Table(
    "schedule_store_meta",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("store_id", sa.String(36), nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False),
)

specs_table = sa.Table(
    "schedule_specs",
    metadata,
    sa.Column("id", sa.String(250), primary_key=True),
    sa.Column("namespace", sa.String(100), nullable=False),
    sa.Column("name", sa.String(150), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("paused", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("deleted", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("author", sa.String(250), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False),
    sa.Index("ix_schedule_specs_change_seq", "change_seq"),
    sa.Index("ix_schedule_specs_namespace", "namespace"),
)

revisions_table = sa.Table(
    "schedule_spec_revisions",
    metadata,
    sa.Column("pk", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("spec_id", sa.String(250), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("paused", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("deleted", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("author", sa.String(250), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("spec_id", "revision", name="uq_schedule_spec_revisions_spec_id_revision"),
)


def _upgrade_1_to_2(conn: Connection) -> None:
    """Version 2 records what each revision did (``action``) and indexes specs by namespace."""
    conn.execute(sa.text("ALTER TABLE schedule_spec_revisions ADD COLUMN action VARCHAR(16)"))
    conn.execute(
        sa.text(
            "UPDATE schedule_spec_revisions SET action = CASE "
            "WHEN deleted THEN 'delete' WHEN revision = 1 THEN 'create' ELSE 'update' END"
        )
    )
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE schedule_spec_revisions ALTER COLUMN action SET NOT NULL"))
    # SQLite cannot add NOT NULL to an existing column; the store always writes it.
    conn.execute(sa.text("CREATE INDEX ix_schedule_specs_namespace ON schedule_specs (namespace)"))


#: ``MIGRATIONS[n]`` upgrades a store from schema version ``n`` to ``n + 1``.
MIGRATIONS = {1: _upgrade_1_to_2}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes (the store only ever writes UTC); PostgreSQL the session's zone.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlalchemy_url(uri: str) -> str:
    """Map a store URI to a SQLAlchemy URL with an installed driver."""
    scheme, _, rest = uri.partition(":")
    scheme = scheme.lower()
    if scheme not in POSTGRES_SCHEMES:
        return uri
    if scheme == "postgresql+psycopg" and not SQLALCHEMY_2:
        raise InvalidStoreUriError(
            f"store URI {redact_uri(uri)!r}: SQLAlchemy {sa.__version__} (Airflow 2.x) has no psycopg 3 "
            "dialect; use postgresql+psycopg2://... and `pip install psycopg2-binary`"
        )
    if scheme in ("postgres", "postgresql"):
        # A driver this process already loaded costs nothing (an Airflow whose metadata DB is PostgreSQL
        # has psycopg2 loaded before it parses a DAG file); else psycopg2, SQLAlchemy's own default for
        # postgresql:// and ~7 ms to import, before psycopg 3 (~37 ms, measured by benchmarks/parse.py).
        if "psycopg" in sys.modules and "psycopg2" not in sys.modules and SQLALCHEMY_2:
            scheme = "postgresql+psycopg"
        elif _importable("psycopg2"):
            scheme = "postgresql+psycopg2"
        elif SQLALCHEMY_2 and _importable("psycopg"):
            scheme = "postgresql+psycopg"
        elif SQLALCHEMY_2:
            raise InvalidStoreUriError(
                f"store URI {redact_uri(uri)!r} needs a PostgreSQL driver: "
                "`pip install 'airflow-provider-scheduler[postgres]'` (psycopg 3) or psycopg2-binary"
            )
        else:
            raise InvalidStoreUriError(
                f"store URI {redact_uri(uri)!r} needs the psycopg2 driver with SQLAlchemy "
                f"{sa.__version__} (Airflow 2.x): `pip install psycopg2-binary`"
            )
    elif scheme == "postgresql+psycopg2" and not _importable("psycopg2"):
        raise InvalidStoreUriError(
            f"store URI {redact_uri(uri)!r} needs the psycopg2 driver: `pip install psycopg2-binary`"
        )
    elif scheme == "postgresql+psycopg" and not _importable("psycopg"):
        raise InvalidStoreUriError(
            f"store URI {redact_uri(uri)!r} needs the psycopg driver: `pip install 'psycopg[binary]'`"
        )
    return f"{scheme}:{rest}"


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def parse_store_url(uri: str) -> sa.engine.URL:
    """The SQLAlchemy URL of a store URI, or :class:`InvalidStoreUriError` (without the password)."""
    try:
        url = sa.engine.make_url(_sqlalchemy_url(uri))
    except (sa_exc.ArgumentError, ValueError) as err:
        if isinstance(err, InvalidStoreUriError):
            raise
        raise InvalidStoreUriError(
            f"store URI {redact_uri(uri)!r} is malformed (check the host, port and database parts)"
        ) from None
    if url.host and "@" in url.host:
        # SQLAlchemy ends the password at the first "@": the rest of it would reach the driver (and its
        # "could not translate host name" message) as the host name.
        raise InvalidStoreUriError(
            f"store URI {redact_uri(uri)!r}: the password (or user name) holds a raw '@'; "
            "write it as %40 (percent-encode @ : / ? # % in the password)"
        )
    return url


def create_store_engine(uri: str) -> Engine:
    """A SQLAlchemy engine for a store URI.

    SQLite: WAL journal (readers never block the writer), 30 s busy timeout, and transactions owned by
    SQLAlchemy (``BEGIN IMMEDIATE`` for writes). PostgreSQL: pre-ping pooled connections, 10 s
    connect timeout.
    """
    url = parse_store_url(uri)
    kwargs: dict[str, Any] = {}
    if not SQLALCHEMY_2:
        kwargs["future"] = True
    is_sqlite = url.get_backend_name() == "sqlite"
    if is_sqlite:
        memory = url.database in (None, "", ":memory:")
        if not memory and url.database and url.database.startswith("file:"):
            raise InvalidStoreUriError(f"store URI {redact_uri(uri)!r}: use sqlite:///PATH")
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        if memory:
            kwargs["poolclass"] = sa.pool.StaticPool
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = sa.create_engine(url, **kwargs)
    except (ImportError, sa_exc.NoSuchModuleError) as err:
        raise InvalidStoreUriError(
            f"store URI {redact_uri(uri)!r}: database driver missing "
            f"({redact_text(_first_line(err), uri_secrets(uri))})"
        ) from None
    except sa_exc.ArgumentError as err:  # e.g. sqlite://user:password@...: SQLAlchemy's text shows the URL
        raise InvalidStoreUriError(
            f"store URI {redact_uri(uri)!r} is not valid for this database "
            f"({redact_text(_first_line(err), uri_secrets(uri))})"
        ) from None
    if is_sqlite:
        _configure_sqlite(engine, wal=not memory)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    """Let SQLAlchemy own the transactions: BEGIN IMMEDIATE for writes takes the write lock up front."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite must not issue its own BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA busy_timeout = 30000")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("aps_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _first_line(err: BaseException) -> str:
    orig = getattr(err, "orig", None) or err
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def _decode_spec(spec_id: str, text: Any) -> tuple[dict[str, Any], str | None]:
    """The spec dict stored for ``spec_id``, or ``({}, reason)`` when the text cannot be that spec.

    Only the shape is checked here (a JSON object naming this spec); the loader validates the rest.
    A row is damaged by whatever writes to the table behind the store's back (a manual UPDATE, a
    faulty migration, a restore of a damaged backup); it must cost only that one spec.
    """
    if not isinstance(text, str):
        return {}, f"its spec is {type(text).__name__}, not JSON text"
    try:
        data = json.loads(text)
    except ValueError as err:  # JSONDecodeError
        return {}, f"its spec is not valid JSON ({err})"
    except RecursionError:
        return {}, "its spec is not valid JSON (nested too deeply)"
    if not isinstance(data, dict):
        kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
        return {}, f"its spec is a JSON {kind.get(type(data), 'null')}, not an object"
    described = f"{data.get('namespace')}.{data.get('name')}"
    if described != spec_id:
        return {}, f"its spec describes {described!r}, not {spec_id!r}"
    return data, None


def _damage_problem(stored: StoredSpec) -> SpecError:
    return SpecError(
        [Problem("", f"damaged in the store: {stored.damaged}")],
        spec_id=stored.id,
        source=f"{specs_table.name} row {stored.id!r} (revision {stored.revision})",
    )


class SqlScheduleStore(ScheduleStore):
    """A spec store in SQLite or PostgreSQL; see the module docstring for tables and guarantees.

    :param uri: ``sqlite:///PATH``, ``sqlite://`` (in memory), ``postgresql://...``,
        ``postgresql+psycopg://...`` or ``postgresql+psycopg2://...``.
    """

    def __init__(
        self, uri: str, *, registry: TemplateCatalog | None = None, policy: GovernancePolicy | None = None
    ) -> None:
        super().__init__(redact_uri(uri), registry=registry, policy=policy)
        #: the URI's secrets as a driver may print them, scrubbed from every wrapped error's message
        self._secrets = uri_secrets(uri)
        self.engine = create_store_engine(uri)
        self._schema_ready = False
        #: test hook: called with the connection between the statements of a write transaction
        self._between_statements: Any = None

    # plumbing --------------------------------------------------------------------------------
    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn connection-level database failures into StoreUnavailableError (without secrets)."""
        try:
            yield
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as err:
            raise self._unavailable(err) from None
        except sa_exc.DatabaseError as err:
            not_sqlite = self._not_a_sqlite_database(err)
            if not_sqlite is not None:
                raise not_sqlite from None
            if err.connection_invalidated:
                raise self._unavailable(err) from None
            raise
        except sa_exc.DBAPIError as err:
            if err.connection_invalidated:
                raise self._unavailable(err) from None
            raise

    def _not_a_sqlite_database(self, err: sa_exc.DatabaseError) -> StoreError | None:
        """The store error for a SQLite path that holds something else (text, a damaged file), or None.

        pysqlite raises its plain ``DatabaseError`` (no subclass) for "file is not a database" and
        "database disk image is malformed"; the user needs the file's name, not a traceback.
        """
        orig = getattr(err, "orig", None)
        if self.engine.dialect.name != "sqlite" or type(orig).__name__ != "DatabaseError":
            return None
        path = self.engine.url.database or ":memory:"
        return StoreError(
            f"the store at {self.uri} cannot be opened: {path} is not a SQLite database "
            f"({_first_line(err)}); give a SQLite file or the path of a new one"
        )

    def _unavailable(self, err: BaseException) -> StoreUnavailableError:
        return StoreUnavailableError(self.uri, redact_text(_first_line(err), self._secrets))

    @contextlib.contextmanager
    def _txn(self, *, write: bool) -> Iterator[Connection]:
        with self._guard():
            if not self._schema_ready:
                self._ensure_schema()
            with self.engine.connect() as conn:
                if write:
                    conn = conn.execution_options(aps_write=True)
                with conn.begin():
                    yield conn

    def _hook(self, conn: Connection, point: str) -> None:
        if self._between_statements is not None:
            self._between_statements(conn, point)

    # schema ----------------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        with self.engine.connect() as conn:
            with conn.begin():
                version = self._schema_version(conn)
            if version == SCHEMA_VERSION:
                self._schema_ready = True
                return
            self._check_not_newer(version)
            conn = conn.execution_options(aps_write=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
                version = self._schema_version(conn)  # another process may have done it meanwhile
                self._check_not_newer(version)
                if version is None:
                    metadata.create_all(conn)
                    conn.execute(
                        meta_table.insert().values(
                            id=1, schema_version=SCHEMA_VERSION, store_id=str(uuid.uuid4()), change_seq=0
                        )
                    )
                else:
                    for step in range(version, SCHEMA_VERSION):
                        MIGRATIONS[step](conn)
                    conn.execute(
                        meta_table.update().where(meta_table.c.id == 1).values(schema_version=SCHEMA_VERSION)
                    )
        self._schema_ready = True

    @staticmethod
    def _schema_version(conn: Connection) -> int | None:
        if not sa.inspect(conn).has_table(meta_table.name):
            return None
        return conn.execute(sa.select(meta_table.c.schema_version).where(meta_table.c.id == 1)).scalar_one()

    @staticmethod
    def _check_not_newer(version: int | None) -> None:
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(
                f"the store's schema version {version} is newer than this airflow-provider-scheduler "
                f"supports ({SCHEMA_VERSION}); upgrade the provider"
            )

    def schema_version(self) -> int:
        """The store's schema version (creating or upgrading the schema first)."""
        with self._txn(write=False) as conn:
            version = self._schema_version(conn)
        assert version is not None
        return version

    # records ---------------------------------------------------------------------------------
    @staticmethod
    def _stored(row: Any, *, damaged_ok: bool = False) -> StoredSpec:
        """The StoredSpec of a ``schedule_specs`` row.

        :param damaged_ok: return a row whose spec cannot be read with ``damaged`` set (``spec={}``)
            instead of raising; a deleted row is always returned so (its spec is not needed).
        :raises DamagedSpecError: the row's spec is not a readable spec of this id.
        """
        spec, damaged = _decode_spec(row.id, row.spec)
        if damaged is not None and not (damaged_ok or row.deleted):
            raise DamagedSpecError(row.id, damaged)
        return StoredSpec(
            id=row.id,
            namespace=row.namespace,
            name=row.name,
            revision=row.revision,
            spec=spec,
            paused=bool(row.paused),
            deleted=bool(row.deleted),
            author=row.author,
            updated_at=_aware(row.updated_at),
            damaged=damaged,
        )

    def _readable(self, rows: Iterable[Any], *, include_damaged: bool) -> builtins.list[StoredSpec]:
        """The rows as StoredSpecs; damaged live rows go to :attr:`problems` (and the result if asked)."""
        result: builtins.list[StoredSpec] = []
        problems: builtins.list[SpecError] = []
        for row in rows:
            stored = self._stored(row, damaged_ok=True)
            if stored.damaged is not None and not stored.deleted:
                problems.append(_damage_problem(stored))
                if not include_damaged:
                    continue
            result.append(stored)
        self.problems = problems
        return result

    def _meta(self, conn: Connection) -> tuple[str, int]:
        row = conn.execute(
            sa.select(meta_table.c.store_id, meta_table.c.change_seq).where(meta_table.c.id == 1)
        ).one()
        return row.store_id, int(row.change_seq)

    def _next_seq(self, conn: Connection) -> int:
        """Increment the change counter: the row lock it takes orders writers' commits by sequence."""
        conn.execute(
            meta_table.update().where(meta_table.c.id == 1).values(change_seq=meta_table.c.change_seq + 1)
        )
        return self._meta(conn)[1]

    def _current_rows(self, conn: Connection, ids: builtins.list[str]) -> dict[str, Any]:
        rows: dict[str, Any] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            for row in conn.execute(sa.select(specs_table).where(specs_table.c.id.in_(chunk))):
                rows[row.id] = row
        return rows

    # reads -----------------------------------------------------------------------------------
    def get(self, spec_id: str, *, include_deleted: bool = False) -> StoredSpec | None:
        with self._txn(write=False) as conn:
            row = conn.execute(sa.select(specs_table).where(specs_table.c.id == spec_id)).first()
        if row is None or (row.deleted and not include_deleted):
            return None
        return self._stored(row)  # raises DamagedSpecError for a live row it cannot read

    def list(
        self,
        *,
        namespace: str | None = None,
        paused: bool | None = None,
        changed_since: datetime | ChangeToken | str | None = None,
        include_deleted: bool = False,
        include_damaged: bool = False,
    ) -> builtins.list[StoredSpec]:
        query = sa.select(specs_table).order_by(specs_table.c.id)
        if namespace is not None:
            query = query.where(specs_table.c.namespace == namespace)
        if paused is not None:
            query = query.where(specs_table.c.paused == paused)
        if not include_deleted:
            query = query.where(specs_table.c.deleted == False)  # noqa: E712 - SQL expression
        with self._txn(write=False) as conn:
            if isinstance(changed_since, datetime):
                query = query.where(specs_table.c.updated_at > changed_since)
            elif changed_since is not None:
                store_id, seq = self._meta(conn)
                since = self._parse_token(changed_since, store_id, seq)
                if since is not None:
                    query = query.where(specs_table.c.change_seq > since)
            return self._readable(conn.execute(query), include_damaged=include_damaged)

    @staticmethod
    def _parse_token(token: str, store_id: str, current: int) -> int | None:
        """The sequence in ``token`` when it belongs to this store and is not ahead of it, else None."""
        owner, _, seq_text = str(token).rpartition(":")
        if owner != store_id or not seq_text.isdigit():
            return None
        seq = int(seq_text)
        return seq if seq <= current else None

    def changes(self, since: ChangeToken | str | None = None) -> ChangeSet:
        with self._txn(write=False) as conn:
            store_id, current = self._meta(conn)  # read the counter FIRST (see module docstring)
            start = self._parse_token(since, store_id, current) if since is not None else None
            query = sa.select(specs_table).where(specs_table.c.change_seq <= current)
            if start is not None:
                query = query.where(specs_table.c.change_seq > start)
            rows = self._readable(
                conn.execute(query.order_by(specs_table.c.change_seq)), include_damaged=True
            )
        # A damaged row is not a spec a reader can use; it travels as ``damaged`` so the reader drops
        # any old copy it holds and reports it, and every other spec still arrives.
        specs = [s for s in rows if s.damaged is None or s.deleted]
        damaged = {s.id: s.damaged for s in rows if s.damaged is not None and not s.deleted}
        return ChangeSet(specs, ChangeToken(f"{store_id}:{current}"), full=start is None, damaged=damaged)

    def history(self, spec_id: str) -> builtins.list[SpecRevision]:
        query = (
            sa.select(revisions_table)
            .where(revisions_table.c.spec_id == spec_id)
            .order_by(revisions_table.c.revision)
        )
        with self._txn(write=False) as conn:
            rows = conn.execute(query).all()
        if not rows:
            raise SpecNotFoundError(spec_id)
        revisions = []
        for row in rows:
            spec, damaged = _decode_spec(row.spec_id, row.spec)
            revisions.append(
                SpecRevision(
                    id=row.spec_id,
                    revision=row.revision,
                    action=row.action,
                    spec=spec,
                    paused=bool(row.paused),
                    deleted=bool(row.deleted),
                    author=row.author,
                    updated_at=_aware(row.created_at),
                    damaged=damaged,
                )
            )
        return revisions

    # writes ----------------------------------------------------------------------------------
    def _write(
        self, specs: builtins.list[ScheduleSpec], *, author: str, expected: Mapping[str, int] | None
    ) -> builtins.list[int]:
        try:
            with self._txn(write=True) as conn:
                seq = self._next_seq(conn)
                now = _utcnow()
                current = self._current_rows(conn, [spec.dag_id for spec in specs])
                for spec_id, want in (expected or {}).items():
                    row = current.get(spec_id)
                    have = row.revision if row is not None else 0
                    if have != want:
                        raise ConflictError(spec_id, have, want)
                revisions: builtins.list[int] = []
                inserts: builtins.list[dict[str, Any]] = []
                updates: builtins.list[dict[str, Any]] = []
                history: builtins.list[dict[str, Any]] = []
                for spec in specs:
                    data = spec.to_dict()
                    text = canonical_json(data)
                    row = current.get(spec.dag_id)
                    values = {
                        "spec": text,
                        "paused": bool(spec.paused),
                        "deleted": False,
                        "author": author,
                        "updated_at": now,
                        "change_seq": seq,
                    }
                    if row is None:
                        revision, action = 1, "create"
                        inserts.append(
                            {
                                "id": spec.dag_id,
                                "namespace": spec.namespace,
                                "name": spec.name,
                                "revision": 1,
                                **values,
                            }
                        )
                    elif not row.deleted and row.spec == text:
                        revisions.append(row.revision)  # unchanged: nothing to write
                        continue
                    else:
                        revision = row.revision + 1
                        action = "restore" if row.deleted else "update"
                        updates.append(
                            {"b_id": spec.dag_id, "b_old": row.revision, "revision": revision, **values}
                        )
                    revisions.append(revision)
                    history.append(
                        {
                            "spec_id": spec.dag_id,
                            "revision": revision,
                            "action": action,
                            "spec": text,
                            "paused": values["paused"],
                            "deleted": False,
                            "author": author,
                            "created_at": now,
                            "change_seq": seq,
                        }
                    )
                if not history:
                    conn.rollback()  # nothing changed: do not burn a change sequence
                    return revisions
                if inserts:
                    conn.execute(specs_table.insert(), inserts)
                    self._hook(conn, "inserted")
                if updates:
                    self._conditional_update(conn, updates)
                    self._hook(conn, "updated")
                conn.execute(revisions_table.insert(), history)
                self._hook(conn, "history")
                return revisions
        except sa_exc.IntegrityError:
            # Another writer got in first despite the counter lock (e.g. an external writer).
            raise self._conflict_after_race(specs, expected) from None

    def _conditional_update(self, conn: Connection, updates: builtins.list[dict[str, Any]]) -> None:
        stmt = (
            specs_table.update()
            .where(specs_table.c.id == sa.bindparam("b_id"))
            .where(specs_table.c.revision == sa.bindparam("b_old"))
            .values(
                revision=sa.bindparam("revision"),
                spec=sa.bindparam("spec"),
                paused=sa.bindparam("paused"),
                deleted=sa.bindparam("deleted"),
                author=sa.bindparam("author"),
                updated_at=sa.bindparam("updated_at"),
                change_seq=sa.bindparam("change_seq"),
            )
        )
        if len(updates) == 1 or not conn.dialect.supports_sane_multi_rowcount:
            for params in updates:
                if conn.execute(stmt, params).rowcount != 1:
                    self._raise_stale(conn, params["b_id"], params["b_old"])
        elif conn.execute(stmt, updates).rowcount != len(updates):
            for params in updates:
                self._raise_stale_if_changed(conn, params["b_id"], params["b_old"])

    def _raise_stale(self, conn: Connection, spec_id: str, based_on: int) -> None:
        have = conn.execute(sa.select(specs_table.c.revision).where(specs_table.c.id == spec_id)).scalar()
        raise ConflictError(spec_id, int(have or 0), based_on)

    def _raise_stale_if_changed(self, conn: Connection, spec_id: str, based_on: int) -> None:
        have = conn.execute(sa.select(specs_table.c.revision).where(specs_table.c.id == spec_id)).scalar()
        if have != based_on:
            raise ConflictError(spec_id, int(have or 0), based_on)

    def _conflict_after_race(
        self, specs: builtins.list[ScheduleSpec], expected: Mapping[str, int] | None
    ) -> StoreError:
        for spec in specs:
            stored = self.get(spec.dag_id, include_deleted=True)
            based_on = (expected or {}).get(spec.dag_id, 0)
            if stored is not None and stored.revision != based_on:
                return ConflictError(spec.dag_id, stored.revision, based_on)
        return StoreError("a concurrent write changed the store; nothing was stored, try again")

    def _set_state(self, spec_id: str, action: str, author: str, expected_revision: int | None) -> int:
        with self._txn(write=True) as conn:
            seq = self._next_seq(conn)
            row = conn.execute(sa.select(specs_table).where(specs_table.c.id == spec_id)).first()
            if row is None:
                raise SpecNotFoundError(spec_id)
            if row.deleted:
                raise SpecNotFoundError(spec_id, deleted=True)
            if expected_revision is not None and expected_revision != row.revision:
                raise ConflictError(spec_id, row.revision, expected_revision)
            current, damaged = _decode_spec(spec_id, row.spec)
            if damaged is not None and action != "delete":
                raise DamagedSpecError(spec_id, damaged)
            outcome = state_after(action, current)
            if outcome is None:
                conn.rollback()
                return int(row.revision)
            spec, paused, deleted = outcome
            # deleting a damaged spec keeps its text as it was (kept in history, nothing invented)
            text = canonical_json(spec) if damaged is None else row.spec
            now = _utcnow()
            revision = row.revision + 1
            values = {
                "spec": text,
                "paused": paused,
                "deleted": deleted,
                "author": author,
                "updated_at": now,
                "change_seq": seq,
            }
            self._conditional_update(
                conn, [{"b_id": spec_id, "b_old": row.revision, "revision": revision, **values}]
            )
            conn.execute(
                revisions_table.insert(),
                {
                    "spec_id": spec_id,
                    "revision": revision,
                    "action": action,
                    "spec": text,
                    "paused": paused,
                    "deleted": deleted,
                    "author": author,
                    "created_at": now,
                    "change_seq": seq,
                },
            )
            return revision
