"""An admin-approved HTTP connection as a request target (the ``http_request`` operator, the webhook
notifier): its base URL by the hook's rule, a relative endpoint, and the ``requests`` arguments.

Connection fields used: ``host`` (may include the scheme), ``schema`` (``http``/``https`` when host has
no scheme), ``port``, ``login``/``password`` (HTTP basic auth when login is set), and ``extra``
``{"headers": {...}, "verify": true}``.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_scheduler.rest.connection import build_base_url


def connection_base_url(conn: Any) -> str:
    """Base URL of an Airflow connection without credentials, by :func:`~.connection.build_base_url`
    (a bare host gets ``https://``; loopback hosts and port 80 get ``http://``)."""
    if not (conn.host or "").strip():
        raise AirflowException(f"connection {conn.conn_id!r} has no host")
    try:
        return build_base_url(conn.host, port=conn.port, schema=conn.schema)
    except ValueError as err:
        raise AirflowException(f"connection {conn.conn_id!r}: {err}") from None


def join_endpoint(base: str, endpoint: str) -> str:
    """Join a base URL and a relative endpoint; refuses absolute URLs (they could leave the host)."""
    endpoint = endpoint or ""
    if "://" in endpoint or endpoint.startswith("//"):
        raise AirflowException("the endpoint must be a path relative to the connection, not a URL")
    return f"{base}/{endpoint.lstrip('/')}" if endpoint else base


def connection_session_args(conn: Any) -> dict[str, Any]:
    """``requests`` arguments from a connection: auth, headers and verify (a copy, never mutated)."""
    extra = dict(conn.extra_dejson or {})
    headers = dict(extra.get("headers") or {})
    args: dict[str, Any] = {"headers": headers, "verify": extra.get("verify", True)}
    if conn.login:
        args["auth"] = (conn.login, conn.password or "")
    return args
