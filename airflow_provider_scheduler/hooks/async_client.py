"""Async Airflow REST API client for triggers: one aiohttp session per event loop, shared by all triggers.

The triggerer runs thousands of triggers in ONE asyncio loop. What scales there (see
``benchmarks/triggerer.py`` and the measurements in ``AIRFLOW_FACTS.md``) is one ``aiohttp.ClientSession``
shared by every trigger of the loop: a session per trigger pays connection setup on every poll, and the
sync hook behind ``sync_to_async`` pushes every request of the process through one thread.

So :class:`SchedulerAsyncClient` itself is cheap (settings plus a reference to the loop's shared state);
the loop's state holds

- the ``ClientSession``, created on first use and closed when the last client of the loop leaves
  (``async with client:``), so no session outlives its triggers;
- the JWTs, cached per ``(base_url, login)``, fetched once even when 1,000 triggers start together (one
  lock per key), refreshed before their ``exp`` and once more when a request answers 401;
- the detected API version per base URL when the connection says ``auto``.

Transient failures (connection errors, timeouts, 429, 5xx) are retried with the hook's bounded,
full-jitter exponential backoff, honouring ``Retry-After``; when retries are exhausted the same
``SchedulerTransientError`` as the sync hook is raised. Other answers raise the same error classes with
the same messages as :class:`~airflow_provider_scheduler.hooks.scheduler.SchedulerHook` (both build
them with :func:`~airflow_provider_scheduler.hooks.scheduler.error_for_response`), and run dicts go
through the hook's :func:`~airflow_provider_scheduler.hooks.scheduler.normalize_dag_run`.

Usage::

    client = await SchedulerAsyncClient.for_connection("scheduler_default")
    async with client:
        run = await client.get_dag_run("my_dag", "manual__2026-01-01T00:00:00+00:00")
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import ssl
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_scheduler import __version__

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from datetime import datetime

    import aiohttp

    from airflow_provider_scheduler.hooks.scheduler import SchedulerApiError, SchedulerConnectionSettings

log = logging.getLogger(__name__)

#: HTTP statuses retried as transient (rate limited, server-side trouble).
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: Connections the shared session keeps open to one host (a deployment's API answers them all).
CONNECTION_LIMIT = 100
_DEFAULT_HEADERS = {"Accept": "application/json", "User-Agent": f"airflow-provider-scheduler/{__version__}"}
#: Seconds a loop reuses the settings of a connection it fetched (see ``for_connection``).
SETTINGS_TTL = 30.0


@dataclass
class _Response:
    status: int
    text: str
    content_type: str | None
    retry_after: str | None

    def json(self) -> Any:
        return json.loads(self.text) if self.text else {}


@dataclass
class _LoopState:
    """What every client of one event loop shares."""

    session: aiohttp.ClientSession | None = None
    users: int = 0
    #: (base_url, login) -> (token, refresh-after epoch seconds or None)
    tokens: dict[tuple[str, str], tuple[str, float | None]] = field(default_factory=dict)
    locks: dict[Any, asyncio.Lock] = field(default_factory=dict)
    api_versions: dict[str, str] = field(default_factory=dict)
    ssl_contexts: dict[str, ssl.SSLContext] = field(default_factory=dict)
    #: conn_id -> (settings, monotonic expiry)
    settings: dict[str, tuple[SchedulerConnectionSettings, float]] = field(default_factory=dict)
    sessions_created: int = 0
    #: base_url -> semaphore bounding the requests in preparation or in flight
    slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()


async def _fetch_settings(conn_id: str) -> SchedulerConnectionSettings:
    from airflow_provider_scheduler.hooks.scheduler import SchedulerConnectionSettings, SchedulerHook

    try:
        from airflow.providers.common.compat.connection import get_async_connection
    except ImportError:  # pragma: no cover - common-compat older than 1.7
        from asgiref.sync import sync_to_async

        conn = await sync_to_async(SchedulerHook.get_connection, thread_sensitive=False)(conn_id)
    else:
        conn = await get_async_connection(conn_id, hook=SchedulerHook)
    return SchedulerConnectionSettings.from_connection(conn)


def _lock(state: _LoopState, key: Any) -> asyncio.Lock:
    lock = state.locks.get(key)
    if lock is None:
        lock = state.locks[key] = asyncio.Lock()
    return lock


def loop_state() -> _LoopState:
    """The shared state of the running loop (created on first use; dropped with the loop)."""
    loop = asyncio.get_running_loop()
    state = _STATES.get(loop)
    if state is None:
        state = _STATES[loop] = _LoopState()
    return state


class SchedulerAsyncClient:
    """Async REST client for one ``scheduler`` connection, sharing its HTTP session with the whole loop.

    :param settings: the resolved connection (the sync hook's ``SchedulerConnectionSettings``).
    :param sleep: awaitable used to wait between retries (tests inject a recorder so nothing waits).
    :param uniform: ``random.uniform``-like jitter source.
    """

    def __init__(
        self,
        settings: SchedulerConnectionSettings,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._uniform = uniform
        self._state: _LoopState | None = None

    @classmethod
    async def for_connection(cls, conn_id: str, **kwargs: Any) -> SchedulerAsyncClient:
        """Build a client for the Airflow connection ``conn_id`` without blocking the loop.

        The connection is fetched with ``airflow.providers.common.compat.connection.get_async_connection``
        (portable across 2.11 and 3.x; avoids the pre-3.3.2 secret-masking deadlock of the native async
        getter), or with the sync getter in a worker thread (``sync_to_async(thread_sensitive=False)``)
        when that helper is missing. The resolved settings are cached per loop for
        :data:`SETTINGS_TTL` seconds, and fetched once when many triggers start together: a triggerer
        restarting 1,000 triggers of one connection does one lookup, not 1,000 (an edited connection
        applies to new triggers within that time).
        """
        state = loop_state()
        cached = state.settings.get(conn_id)
        if cached is None or cached[1] <= time.monotonic():
            async with _lock(state, ("connection", conn_id)):
                cached = state.settings.get(conn_id)
                if cached is None or cached[1] <= time.monotonic():
                    cached = (await _fetch_settings(conn_id), time.monotonic() + SETTINGS_TTL)
                    state.settings[conn_id] = cached
        return cls(cached[0], **kwargs)

    # -- lifecycle ------------------------------------------------------------------------------------
    async def __aenter__(self) -> SchedulerAsyncClient:
        if self._state is None:
            self._state = loop_state()
            self._state.users += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Leave the loop's shared state; the last client of the loop closes the shared session."""
        state, self._state = self._state, None
        if state is None:
            return
        state.users = max(0, state.users - 1)
        if state.users == 0 and state.session is not None:
            session, state.session = state.session, None
            if not session.closed:
                await session.close()

    @property
    def state(self) -> _LoopState:
        if self._state is None:
            raise RuntimeError("enter the client first: `async with client:` (it shares the loop's session)")
        return self._state

    def _session(self) -> aiohttp.ClientSession:
        import aiohttp

        state = self.state
        if state.session is None or state.session.closed:
            state.session = aiohttp.ClientSession(
                # Several deployments may share the session: never share cookies between them.
                cookie_jar=aiohttp.DummyCookieJar(),
                connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT, limit_per_host=CONNECTION_LIMIT),
            )
            state.sessions_created += 1
        return state.session

    def _ssl(self) -> ssl.SSLContext | bool:
        verify = self.settings.verify
        if verify is False:
            return False
        if isinstance(verify, str) and verify:
            context = self.state.ssl_contexts.get(verify)
            if context is None:
                context = self.state.ssl_contexts[verify] = ssl.create_default_context(cafile=verify)
            return context
        return True

    # -- public API -----------------------------------------------------------------------------------
    async def api_version(self) -> str:
        """``v2`` or ``v1``: as configured, or detected once per loop and base URL for ``auto``.

        Detection probes ``/api/v2/version`` then ``/api/v1/version`` without credentials, like the sync
        hook: 200 with a version, 401 or 403 mean "this version exists".
        """
        from airflow_provider_scheduler.hooks.scheduler import SchedulerApiError

        if self.settings.api_version in ("v1", "v2"):
            return self.settings.api_version
        base = self.settings.base_url
        if base not in self.state.api_versions:
            async with self._lock(("version", base)):
                if base not in self.state.api_versions:
                    answers = []
                    for version in ("v2", "v1"):
                        path = f"/api/{version}/version"
                        response = await self._send_with_retries("GET", path, authenticate=False)
                        if response.status == 200:
                            try:
                                body = response.json()
                            except ValueError:
                                body = None
                            if isinstance(body, dict) and "version" in body:
                                self.state.api_versions[base] = version
                                break
                            answers.append(f"{path} -> 200 but not an Airflow version answer")
                        elif response.status in (401, 403):
                            self.state.api_versions[base] = version
                            break
                        else:
                            answers.append(f"{path} -> {response.status}")
                    else:
                        raise SchedulerApiError(
                            f"{base} answered, but it is not an Airflow REST API ({'; '.join(answers)}). "
                            "Check the Airflow API URL: scheme, host, port and path prefix (without "
                            "/api/v2), or set api_version explicitly.",
                            status_code=None,
                        )
        return self.state.api_versions[base]

    async def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """Return one DAG run, normalised (``SchedulerNotFoundError`` when the DAG or run is absent)."""
        from airflow_provider_scheduler.hooks.scheduler import api_path, normalize_dag_run

        path = api_path(await self.api_version(), "dags", dag_id, "dagRuns", run_id)
        return normalize_dag_run(await self._request("GET", path))

    async def list_dag_runs(
        self,
        dag_id: str,
        *,
        state: str | list[str] | None = None,
        limit: int = 100,
        offset: int = 0,
        order_by: str | None = None,
        logical_date_gte: datetime | str | None = None,
        logical_date_lte: datetime | str | None = None,
    ) -> list[dict[str, Any]]:
        """Return runs of ``dag_id``, newest first, normalised (same arguments as the sync hook's).

        :param logical_date_gte: only runs whose logical date is at or after this.
        :param logical_date_lte: only runs whose logical date is at or before this.
        """
        from airflow_provider_scheduler.hooks.scheduler import api_path, isoformat, normalize_dag_runs

        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        version = await self.api_version()
        date_key = "logical_date" if version == "v2" else "execution_date"
        params: list[tuple[str, str]] = [
            ("limit", str(int(limit))),
            ("offset", str(int(offset))),
            ("order_by", order_by or ("-run_after" if version == "v2" else "-execution_date")),
        ]
        if state is not None:
            params.extend(("state", value) for value in ([state] if isinstance(state, str) else state))
        if logical_date_gte is not None:
            params.append((f"{date_key}_gte", isoformat(logical_date_gte)))
        if logical_date_lte is not None:
            params.append((f"{date_key}_lte", isoformat(logical_date_lte)))
        path = api_path(version, "dags", dag_id, "dagRuns")
        return normalize_dag_runs(await self._request("GET", path, params=params))

    async def get_dag(self, dag_id: str) -> dict[str, Any]:
        """Return the API's description of ``dag_id`` (``is_paused``, ``tags``, ...)."""
        from airflow_provider_scheduler.hooks.scheduler import api_path

        return dict(await self._request("GET", api_path(await self.api_version(), "dags", dag_id)))

    def ui_url_for_run(self, dag_id: str, run_id: str) -> str:
        """The run's web UI page: the same URL as ``SchedulerHook.ui_url_for_run``.

        Call after a request (or :meth:`api_version`) when the connection says ``auto``.
        """
        from urllib.parse import urlencode

        base = self.settings.base_url
        version = self.settings.api_version
        if version == "auto":
            version = self.state.api_versions.get(base, "v2")  # type: ignore[assignment]
        if version == "v2":
            return f"{base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
        return f"{base}/dags/{quote(dag_id, safe='')}/grid?{urlencode({'dag_run_id': run_id})}"

    # -- transport ------------------------------------------------------------------------------------
    async def _request(
        self, method: str, path: str, *, params: list[tuple[str, str]] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        """Send with auth (JWT refreshed once on 401), retry transient failures, map errors."""
        from airflow_provider_scheduler.hooks.scheduler import SchedulerApiError

        refreshed = False
        while True:
            headers = await self._auth_headers()
            response = await self._send_with_retries(
                method, path, params=params, json_body=json_body, headers=headers
            )
            if response.status == 401 and self._uses_jwt() and not refreshed:
                log.info("The API rejected the cached token (401); fetching a new one")
                refreshed = True
                self._forget_token(headers)
                continue
            if not 200 <= response.status < 300:
                raise self._error(response, method, path)
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise SchedulerApiError(
                    f"{self.settings.describe()} answered {response.status} to {method} {path} but not "
                    "with a JSON object: check the Airflow API URL (and path prefix).",
                    status_code=response.status,
                )
            return body

    def _error(
        self, response: _Response, method: str, path: str, *, transient: bool = False, attempts: int = 1
    ) -> SchedulerApiError:
        from airflow_provider_scheduler.hooks.scheduler import error_for_response

        return error_for_response(
            response.status,
            method=method,
            path=path,
            text=response.text,
            content_type=response.content_type,
            where=self.settings.describe(),
            secrets=self.settings.secrets,
            transient=transient,
            attempts=attempts,
        )

    async def _send_with_retries(self, method: str, path: str, **kwargs: Any) -> _Response:
        """Send; retry connection errors, timeouts, 429 and 5xx (bounded full-jitter backoff,
        ``Retry-After`` honoured) like the sync hook; return any other answer."""
        import aiohttp

        from airflow_provider_scheduler.hooks.scheduler import (
            SchedulerApiError,
            SchedulerTransientError,
            backoff_delay,
            parse_retry_after,
            scrub,
        )

        settings = self.settings
        max_retries = max(0, int(settings.max_retries))
        attempt = 0
        while True:
            try:
                response = await self._send(method, path, **kwargs)
            except (aiohttp.ClientSSLError, ssl.SSLError) as err:
                raise SchedulerApiError(
                    f"TLS verification of {settings.base_url} failed for {method} {path} "
                    f"({scrub(str(err), settings.secrets)[:300]}). Set ca_bundle to the CA that signed the "
                    "server certificate, or turn verify_ssl off for a test deployment."
                ) from err
            except (TimeoutError, aiohttp.ClientError, OSError) as err:
                reason = _network_reason(err, settings.timeout)
                if attempt >= max_retries:
                    raise SchedulerTransientError(
                        f"Cannot reach the Airflow API at {settings.base_url}: {method} {path} failed "
                        f"({reason}) after {attempt + 1} attempt{'s' if attempt else ''}. Check the host and "
                        "port of the Airflow API URL and that the API server is running."
                    ) from err
                delay = backoff_delay(attempt, uniform=self._uniform)
                log.warning(
                    "%s %s failed (%s), attempt %d of %d; retrying in %.2f s",
                    method,
                    path,
                    reason,
                    attempt + 1,
                    max_retries + 1,
                    delay,
                )
            else:
                if response.status != 429 and response.status < 500:
                    return response
                if attempt >= max_retries:
                    raise self._error(response, method, path, transient=True, attempts=attempt + 1)
                retry_after = parse_retry_after(response.retry_after)
                delay = (
                    retry_after if retry_after is not None else backoff_delay(attempt, uniform=self._uniform)
                )
                log.warning(
                    "%s %s answered %s, attempt %d of %d; retrying in %.2f s",
                    method,
                    path,
                    response.status,
                    attempt + 1,
                    max_retries + 1,
                    delay,
                )
            await self._sleep(delay)
            attempt += 1

    async def _send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        params: list[tuple[str, str]] | None = None,
        json_body: Any = None,
        authenticate: bool = True,
    ) -> _Response:
        """One HTTP exchange on the loop's shared session (v1 basic auth added here).

        At most :data:`CONNECTION_LIMIT` exchanges per base URL are prepared at a time: the others wait
        on a semaphore (cheap) instead of all building their requests in the same loop iteration when
        many triggers wake together, which would stall the loop.
        """
        import aiohttp

        settings = self.settings
        auth = None
        all_headers = dict(_DEFAULT_HEADERS)
        if authenticate:
            all_headers.update(headers or {})
            if "Authorization" not in all_headers and settings.login and not settings.token:
                auth = aiohttp.BasicAuth(settings.login, settings.password or "")
        state = self.state
        slots = state.slots.get(settings.base_url)
        if slots is None:
            slots = state.slots[settings.base_url] = asyncio.Semaphore(CONNECTION_LIMIT)
        async with (
            slots,
            self._session().request(
                method,
                f"{settings.base_url}{path}",
                params=params,
                json=json_body,
                headers=all_headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=float(settings.timeout)),
                ssl=self._ssl(),
            ) as response,
        ):
            return _Response(
                status=response.status,
                text=await response.text(),
                content_type=response.headers.get("Content-Type"),
                retry_after=response.headers.get("Retry-After"),
            )

    # -- authentication -------------------------------------------------------------------------------
    def _lock(self, key: Any) -> asyncio.Lock:
        return _lock(self.state, key)

    def _uses_jwt(self) -> bool:
        """True when requests carry a JWT from ``/auth/token`` (API v2, a login, no static token)."""
        if self.settings.token or not self.settings.login:
            return False
        version = self.settings.api_version
        if version == "auto":
            version = self.state.api_versions.get(self.settings.base_url, "v2")  # type: ignore[assignment]
        return version == "v2"

    async def _auth_headers(self) -> dict[str, str]:
        if self.settings.token:
            return {"Authorization": f"Bearer {self.settings.token}"}
        if not self._uses_jwt():
            return {}  # v1: basic auth is added in _send (or no auth at all)
        key = (self.settings.base_url, self.settings.login or "")
        cached = self.state.tokens.get(key)
        if cached is None or (cached[1] is not None and time.time() >= cached[1]):
            async with self._lock(("token", key)):
                cached = self.state.tokens.get(key)
                if cached is None or (cached[1] is not None and time.time() >= cached[1]):
                    cached = self.state.tokens[key] = await self._fetch_token()
        return {"Authorization": f"Bearer {cached[0]}"}

    def _forget_token(self, headers: Mapping[str, str]) -> None:
        key = (self.settings.base_url, self.settings.login or "")
        used = headers.get("Authorization", "").removeprefix("Bearer ")
        cached = self.state.tokens.get(key)
        if cached is not None and cached[0] == used:
            del self.state.tokens[key]

    async def _fetch_token(self) -> tuple[str, float | None]:
        """Exchange login/password for a JWT (same errors as the sync hook's token exchange)."""
        from airflow_provider_scheduler.hooks.scheduler import (
            TOKEN_EXPIRY_LEEWAY,
            SchedulerApiError,
            SchedulerAuthError,
            extract_detail,
            jwt_expiry,
            scrub,
        )

        settings = self.settings
        path = "/auth/token"
        response = await self._send_with_retries(
            "POST",
            path,
            json_body={"username": settings.login, "password": settings.password or ""},
            authenticate=False,
        )
        if response.status in (400, 401, 403, 422):
            detail = extract_detail(response.text, response.content_type)
            detail = scrub(detail, settings.secrets) if detail else None
            raise SchedulerAuthError(
                f"The Airflow API at {settings.base_url} rejected the username/password of user "
                f"{settings.login!r} ({response.status}{': ' + detail if detail else ''}). "
                f"Check the login and password of connection {settings.conn_id!r}.",
                status_code=response.status,
                detail=detail,
            )
        if not 200 <= response.status < 300:
            raise self._error(response, "POST", path)
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise SchedulerApiError(
                f"POST {path} at {settings.base_url} answered {response.status} without an "
                "access_token: is this the API of an Airflow 3 deployment? (Use api_version v1 for 2.x.)",
                status_code=response.status,
            )
        _mask(token)
        expiry = jwt_expiry(token)
        return token, (expiry - TOKEN_EXPIRY_LEEWAY) if expiry is not None else None


def _mask(secret: str) -> None:
    """Register a secret with Airflow's log masker (best effort: outside a task there may be none)."""
    try:
        from airflow.providers.common.compat.sdk import mask_secret

        mask_secret(secret)
    except Exception:  # pragma: no cover - masking must never break a request
        log.debug("could not register the API token with the secrets masker")


def _network_reason(err: BaseException, timeout: float) -> str:
    """The same short reasons as the sync hook gives for a failed connection."""
    import errno

    import aiohttp

    if isinstance(err, asyncio.TimeoutError):
        return f"no answer within {timeout:g} s"
    os_error = getattr(err, "os_error", None) or (err if isinstance(err, OSError) else None)
    code = getattr(os_error, "errno", None)
    text = str(err)
    if code == errno.ECONNREFUSED or "Connection refused" in text:
        return "connection refused"
    if isinstance(os_error, socket.gaierror) or "Name or service not known" in text:
        return "host name not found"
    if isinstance(err, aiohttp.ServerDisconnectedError) or "reset by peer" in text:
        return "connection closed by the server"
    return type(err).__name__
