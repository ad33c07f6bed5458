"""An admin-approved HTTP connection as a request target (the ``http_request`` operator, the webhook
notifier): its base URL by the hook's rule, a relative endpoint, and the ``requests`` arguments.

Connection fields used: ``host`` (may include the scheme), ``schema`` (``http``/``https`` when host has
no scheme), ``port``, ``login``/``password`` (HTTP basic auth when login is set), and ``extra``
``{"headers": {...}, "verify": true}``.

No request leaves the connection's host: the callers send with ``allow_redirects=False`` through
:func:`send_within_origin`, which follows a redirect only within the connection's origin (the rule of
:mod:`~airflow_provider_scheduler.rest.redirects`) and refuses any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_scheduler.rest.connection import build_base_url
from airflow_provider_scheduler.rest.redirects import is_redirect, next_hop

if TYPE_CHECKING:
    from collections.abc import Callable


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


def send_within_origin(send: Callable[[str, str], Any], method: str, url: str) -> Any:
    """Send ``method url`` with ``send`` and follow redirects only within the URL's origin.

    :param send: ``send(method, url)`` makes one request without following redirects
        (``requests.request(..., allow_redirects=False)``) and returns the ``requests.Response``.
    :param method: the HTTP method (kept on every followed redirect, see :func:`.redirects.next_hop`).
    :param url: the approved URL (connection base URL plus endpoint).
    :return: the first answer that is not a redirect.
    :raises SchedulerRedirectError: a redirect to another origin (nothing is sent there), more than
        ``MAX_REDIRECTS`` of them, or one that would change the method; the message names both origins
        and carries no credentials.
    """
    what = f"{method} {urlsplit(url).path or '/'}"
    current, followed = url, 0
    while True:
        response = send(method, current)
        location = response.headers.get("Location")
        if not is_redirect(response.status_code, location):
            return response
        hop = next_hop(what, current, response.status_code, location, followed=followed)
        response.close()
        current, followed = hop.url, followed + 1
