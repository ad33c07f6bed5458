"""Store URIs: the configured default, password redaction, and choosing a backend.

Airflow is imported only when no URI is given (to read ``[schedule_specs] store``).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from airflow_provider_scheduler.store.errors import InvalidStoreUriError

if TYPE_CHECKING:
    from collections.abc import Iterable

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
    """``uri`` with every secret replaced by ``***`` (safe for messages, logs, snapshot and status files).

    The URI is read the way SQLAlchemy reads it (:func:`sqlalchemy.engine.make_url`), not pattern-matched:
    SQLAlchemy takes everything up to the first ``@`` after ``user:`` as the password, so a password may
    hold ``#``, ``/``, ``?`` or ``:``. The password, any query parameter named like a secret
    (``password=``, ``sslpassword=``, ``token=``, ...) and, when the URI is not what SQLAlchemy can
    read, everything between ``://`` and the last ``@`` are hidden. A URI without a secret comes back
    unchanged (the snapshot's file name is derived from this text).
    """
    spans = _secret_spans(uri)
    if not spans:
        return uri
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(uri[last:start])
        out.append("***")
        last = end
    out.append(uri[last:])
    return "".join(out)


def uri_secrets(uri: str) -> tuple[str, ...]:
    """The secret texts of ``uri`` as they may appear in a driver's message: raw, decoded and quoted.

    A store keeps these (never the URI) to scrub the messages of the errors it wraps.
    """
    found: set[str] = set()
    for start, end in _secret_spans(uri):
        raw = uri[start:end]
        # Each "@"-separated piece too: SQLAlchemy gives a driver the tail after a raw "@" as the host.
        pieces = raw.split("@") if "@" in raw else []
        for text in (raw, unquote(raw), unquote_plus(raw), *pieces):
            found.update(
                (
                    text,
                    quote(text, safe=""),
                    quote(text, safe=" +"),  # SQLAlchemy 2 renders a password so
                    re.sub(r"[:@/]", lambda m: f"%{ord(m.group(0)):X}", text),  # and SQLAlchemy 1.4 so
                    quote_plus(text),
                    _libpq_quoted(text),
                )
            )
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` (e.g. a database driver's error message) without secrets.

    Every string of ``secrets`` (see :func:`uri_secrets`) is replaced by ``***``, then every URI in the
    text is redacted by :func:`redact_uri` and every libpq ``password=...`` setting is hidden.
    """
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URI_IN_TEXT.sub(lambda match: redact_uri(match.group(0)), text)
    return _CONNINFO_PASSWORD.sub(r"\1***", text)


#: Query parameters whose value is a secret: any name containing one of these (lower-cased).
_SECRET_QUERY_WORDS = ("password", "passwd", "secret", "token", "apikey", "api_key")
_URI_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*")
_CONNINFO_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|\S+)", re.IGNORECASE)


def _libpq_quoted(text: str) -> str:
    """``text`` as libpq quotes a conninfo value (psycopg builds ``password='...'`` this way)."""
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _secret_spans(uri: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each secret in ``uri``'s text, in order and not overlapping."""
    marker = uri.find("://")
    if marker < 0:
        # Not a URI at all: anything before the last "@" may be "user:password".
        at = uri.rfind("@")
        return [(0, at)] if at > 0 else []
    start = marker + 3
    after = start  # where the host begins
    spans: list[tuple[int, int]] = []
    if "@" in uri:  # without an "@" SQLAlchemy reads no user or password
        url = _sqlalchemy_parse(uri)
        if url is None:
            # Not a URL SQLAlchemy can read: hide everything up to the last "@" but a plain user name.
            at = uri.rfind("@")
            colon = uri.find(":", start, at)
            plain_user = colon >= 0 and not any(c in uri[start:colon] for c in "/@?#")
            spans.append((colon + 1 if plain_user else start, at))
            after = at + 1
        elif url.username is not None:
            # SQLAlchemy's user:password ends at the first "@" (its password is "[^@]*").
            at = uri.index("@", start)
            colon = uri.find(":", start, at)
            after = at + 1
            host_end = _first_of(uri, "/?", after)
            extra_at = uri.rfind("@", after, host_end)
            if extra_at >= 0:
                # A raw "@" inside the password: SQLAlchemy read its tail as the host. Hide that too.
                spans.append((colon + 1 if colon >= 0 else start, extra_at))
                after = extra_at + 1
            elif colon >= 0:
                spans.append((colon + 1, at))
        else:
            # SQLAlchemy reads no user:password, but an "x:y@" before the query may be a mistyped one.
            query_at = _first_of(uri, "?", start)
            at = uri.rfind("@", start, query_at)
            if at >= 0 and ":" in uri[start:at]:
                spans.append((start, at))
                after = at + 1
    query_at = uri.find("?", after)
    if query_at >= 0:
        spans.extend(_secret_query_spans(uri, query_at + 1))
    return spans


def _first_of(text: str, chars: str, start: int) -> int:
    """Index of the first of ``chars`` in ``text`` from ``start``, else ``len(text)``."""
    hits = [i for i in (text.find(c, start) for c in chars) if i >= 0]
    return min(hits) if hits else len(text)


def _secret_query_spans(uri: str, start: int) -> list[tuple[int, int]]:
    """Spans of the values of secret query parameters (names decoded as ``parse_qsl`` decodes them)."""
    spans = []
    position = start
    for pair in uri[start:].split("&"):
        name, sep, _value = pair.partition("=")
        lowered = unquote_plus(name).lower().replace("-", "_")
        if sep and any(word in lowered for word in _SECRET_QUERY_WORDS):
            value_at = position + len(name) + 1
            spans.append((value_at, position + len(pair)))
        position += len(pair) + 1
    return spans


def _sqlalchemy_parse(uri: str) -> Any:
    """SQLAlchemy's reading of ``uri``, or None when it cannot read it."""
    # Local: SQLAlchemy costs ~200 ms to import (measured, cold); only a URI with an "@" needs it, and
    # such a URI names a database server, whose store imports SQLAlchemy anyway.
    try:
        from sqlalchemy.engine import make_url
    except ImportError:  # pragma: no cover - SQLAlchemy comes with Airflow
        return None
    try:
        return make_url(uri)
    except Exception:  # ArgumentError, ValueError (a bad port): not a URL SQLAlchemy reads
        return None


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
