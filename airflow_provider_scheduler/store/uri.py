"""Store URIs: the configured default, password redaction, and choosing a backend.

Airflow is imported only when no URI is given (to read ``[schedule_specs] store``).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from airflow_provider_scheduler.store.errors import InvalidStoreUriError

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.policy import GovernancePolicy
    from airflow_provider_scheduler.store.base import ScheduleStore

SQLITE_SCHEMES = {"sqlite", "sqlite+pysqlite"}
POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}
FILE_SCHEMES = {"file"}
SUPPORTED = "sqlite:///PATH, postgresql://USER@HOST:PORT/DB or file:///DIR"


def default_store_uri() -> str:
    """``[schedule_specs] store`` (env ``AIRFLOW__SCHEDULE_SPECS__STORE``), else SQLite in AIRFLOW_HOME."""
    # Local: importing Airflow's configuration costs ~2 s (measured); only a missing URI needs it.
    from airflow.configuration import AIRFLOW_HOME, conf

    configured = (conf.get("schedule_specs", "store", fallback="") or "").strip()
    if configured:
        return configured
    return f"sqlite:///{os.path.join(AIRFLOW_HOME, 'schedule_specs.db')}"


def redact_uri(uri: str) -> str:
    """``uri`` with its password replaced by ``***`` (safe for messages and logs)."""
    try:
        netloc = urlsplit(uri).netloc
    except ValueError:
        return "<malformed store URI>"
    redacted = uri
    if "@" in netloc:
        userinfo = netloc.rpartition("@")[0]
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            redacted = redacted.replace(f"//{userinfo}@", f"//{user}:***@", 1)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", redacted)


def uri_scheme(uri: str) -> str:
    """The lower-cased scheme of ``uri``, or raise :class:`InvalidStoreUriError`."""
    scheme, sep, rest = uri.partition(":")
    if not sep or not scheme or not rest.startswith("//"):
        raise InvalidStoreUriError(f"store URI {redact_uri(uri)!r} is not a URI; expected {SUPPORTED}")
    return scheme.lower()


def open_store(
    uri: str | None = None, *, registry: TemplateCatalog | None = None, policy: GovernancePolicy | None = None
) -> ScheduleStore:
    """Open the spec store at ``uri`` (default: the ``[schedule_specs] store`` option).

    :param uri: ``sqlite:///PATH`` (``sqlite://`` is an in-memory store), ``postgresql://...``
        (``postgresql+psycopg://`` / ``postgresql+psycopg2://`` pick the driver) or ``file:///DIR``
        (``file:///DIR?mode=ro`` for a read-only folder).
    :param registry: template catalog used to validate writes (default catalog when None).
    :param policy: governance policy used to validate writes (default policy when None).
    :raises InvalidStoreUriError: the URI is malformed, has an unknown scheme, or its driver is missing.
    """
    if uri is None or not uri.strip():
        uri = default_store_uri()
    uri = uri.strip()
    scheme = uri_scheme(uri)
    if scheme in SQLITE_SCHEMES or scheme in POSTGRES_SCHEMES:
        # Local: SQLAlchemy costs ~200 ms to import (measured, cold); a file store never pays it.
        from airflow_provider_scheduler.store.sql import SqlScheduleStore

        return SqlScheduleStore(uri, registry=registry, policy=policy)
    if scheme in FILE_SCHEMES:
        # Local, like the SQL store: each backend's imports are paid only by its users.
        from airflow_provider_scheduler.store.files import FileScheduleStore

        return FileScheduleStore(uri, registry=registry, policy=policy)
    raise InvalidStoreUriError(
        f"store URI {redact_uri(uri)!r} has an unsupported scheme {scheme!r}; expected {SUPPORTED}"
    )
