"""The spec store: where portals, CLIs and CI write schedule specs and the DAG factory reads them.

Open one with :func:`open_store`::

    store = open_store("sqlite:////var/lib/airflow/schedule_specs.db")
    revision = store.put(spec_dict, author="alice", expected_revision=3)
    changed, token = store.changes(previous_token)

Backends: ``sqlite:///PATH`` (embedded default), ``postgresql://...`` (SQLAlchemy Core; psycopg2 when
installed, as SQLAlchemy's default, else psycopg 3 on SQLAlchemy 2) and ``file:///DIR`` (a folder of
YAML/JSON specs, optionally ``?mode=ro``). Importing this package imports neither Airflow nor SQLAlchemy.
"""

from __future__ import annotations

from airflow_provider_scheduler.store.base import (
    ChangeSet,
    ChangeToken,
    ScheduleStore,
    SpecRevision,
    StoredSpec,
    default_author,
)
from airflow_provider_scheduler.store.errors import (
    ConflictError,
    DamagedSpecError,
    InvalidStoreUriError,
    ReadOnlyStoreError,
    SpecBatchError,
    SpecNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from airflow_provider_scheduler.store.uri import default_store_uri, open_store, redact_uri

__all__ = [
    "ChangeSet",
    "ChangeToken",
    "ConflictError",
    "DamagedSpecError",
    "InvalidStoreUriError",
    "ReadOnlyStoreError",
    "ScheduleStore",
    "SpecBatchError",
    "SpecNotFoundError",
    "SpecRevision",
    "StoreError",
    "StoreUnavailableError",
    "StoredSpec",
    "default_author",
    "default_store_uri",
    "open_store",
    "redact_uri",
]
