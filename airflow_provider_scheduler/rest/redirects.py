"""The redirect rule of every outgoing request: no request leaves the approved host.

The hook, the async client, the ``http_request`` operator and the webhook notifier send with their
library's redirect following turned off and ask :func:`next_hop` what a redirect answer means:

- a redirect to another origin (scheme, host or port differ, ``localhost`` vs ``127.0.0.1`` included)
  is refused with a :class:`SchedulerRedirectError` that names both origins (never credentials, paths
  or queries of the target); nothing is sent there, so neither the connection's credentials nor its
  configured headers nor the body ever reach another host;
- a redirect within the approved origin is followed, up to :data:`MAX_REDIRECTS` times, with the same
  method, body, credentials and headers; 307/308 always, 301/302/303 only for GET and HEAD (for another
  method the redirect would turn it into a GET: refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from airflow_provider_scheduler.rest.errors import SchedulerRedirectError

#: The statuses that redirect a request.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Redirects within the approved origin followed for one request.
MAX_REDIRECTS = 5
_KEEPS_METHOD = frozenset({307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Hop:
    """The request to send after a followed redirect: the same method to ``url`` (same origin)."""

    method: str
    url: str


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased, default port omitted, without credentials."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
        host = f"{host}:?"  # an unreadable port never matches a readable one
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def is_redirect(status: int, location: str | None) -> bool:
    """Whether an answer redirects (a redirect status with a ``Location``)."""
    return status in REDIRECT_STATUSES and bool(location and location.strip())


def next_hop(what: str, url: str, status: int, location: str, *, followed: int) -> Hop:
    """The request that follows a redirect answer, or raise :class:`SchedulerRedirectError`.

    :param what: ``METHOD PATH`` of the request, for the message (no query, no credentials).
    :param url: the URL that answered.
    :param status: the redirect status.
    :param location: the answer's ``Location`` header (absolute or relative).
    :param followed: redirects already followed for this request.
    """
    method = what.split(" ", 1)[0].upper()
    source = origin(url)
    target_url = urljoin(url, location.strip())
    target = origin(target_url)
    if target != source:
        raise SchedulerRedirectError(
            f"{what} was redirected ({status}) from {source} to another host, {target}: refused, so that "
            f"no request, credentials or configured headers leave {source}. If {target} is the right "
            "server, set the connection's host to it.",
            status_code=status,
        )
    if followed >= MAX_REDIRECTS:
        raise SchedulerRedirectError(
            f"{what} was redirected more than {MAX_REDIRECTS} times within {source}: refused. Set the "
            "connection's host and the path to the final URL.",
            status_code=status,
        )
    parts = urlsplit(target_url)
    if status not in _KEEPS_METHOD and method not in ("GET", "HEAD"):
        raise SchedulerRedirectError(
            f"{what} was redirected ({status}) to {parts.path or '/'} on {source}, which would turn the "
            f"{method} into a GET: refused. Set the path to the final URL.",
            status_code=status,
        )
    # Same origin; never send userinfo a Location may carry, and drop a fragment (never sent).
    netloc = parts.netloc.rpartition("@")[2]
    return Hop(method, urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")))
