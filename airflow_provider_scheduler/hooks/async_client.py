"""Async Airflow REST API client for triggers: one aiohttp session per event loop, shared by all triggers.

The triggerer runs thousands of triggers in ONE asyncio loop. What scales there (measured by
``benchmarks/triggerer.py``) is one ``aiohttp.ClientSession`` shared by every trigger of the loop: a
session per trigger pays connection setup on every poll, and the sync hook behind ``sync_to_async``
pushes every request of the process through one thread.

So :class:`SchedulerAsyncClient` itself is cheap (settings plus a reference to the loop's shared state);
the loop's state holds

- the ``ClientSession``, created on first use and closed when the last client of the loop leaves
  (``async with client:``), so no session outlives its triggers;
- the JWTs, cached per ``(base_url, login)``, fetched once even when 1,000 triggers start together (one
  lock per key), refreshed before their ``exp`` and once more when the server rejects one;
- the detected API version per base URL when the connection says ``auto``.

The protocol (retries, token refetch, errors, version detection) is
:mod:`airflow_provider_scheduler.rest.core`, the same the sync
:class:`~airflow_provider_scheduler.hooks.scheduler.SchedulerHook` drives.

Usage::

    client = await SchedulerAsyncClient.for_connection("scheduler_default")
    async with client:
        run = await client.get_dag_run("my_dag", "manual__2026-01-01T00:00:00+00:00")
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
import ssl
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from airflow.providers.common.compat.sdk import mask_secret
from asgiref.sync import sync_to_async

from airflow_provider_scheduler import __version__
from airflow_provider_scheduler.hooks.scheduler import SchedulerHook
from airflow_provider_scheduler.rest.connection import SchedulerConnectionSettings
from airflow_provider_scheduler.rest.core import (
    REASON_CLOSED,
    REASON_NAME,
    REASON_REFUSED,
    TOKEN_PATH,
    Answer,
    Exchange,
    VersionProbe,
    auth_mode,
    refresh_after,
    timeout_reason,
    token_from_answer,
    token_is_fresh,
    token_request_body,
)
from airflow_provider_scheduler.rest.endpoints import (
    api_path,
    list_runs_params,
    normalize_dag_run,
    normalize_dag_runs,
    ui_run_url,
)

try:
    from airflow.providers.common.compat.connection import get_async_connection
except ImportError:  # pragma: no cover - common-compat older than 1.7
    get_async_connection = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from datetime import datetime

log = logging.getLogger(__name__)

#: Connections the shared session keeps open to one host (a deployment's API answers them all).
CONNECTION_LIMIT = 100
_DEFAULT_HEADERS = {"Accept": "application/json", "User-Agent": f"airflow-provider-scheduler/{__version__}"}
#: Seconds a loop reuses the settings of a connection it fetched (see ``for_connection``).
SETTINGS_TTL = 30.0


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
    if get_async_connection is None:  # pragma: no cover - common-compat older than 1.7
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
        state = self.state
        if state.session is None or state.session.closed:
            state.session = aiohttp.ClientSession(
                # Several deployments may share the session: never share cookies between them.
                cookie_jar=aiohttp.DummyCookieJar(),
                connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT, limit_per_host=CONNECTION_LIMIT),
            )
            # aiohttp resends an idempotent request once, unseen, when the server drops the connection;
            # requests does not. Turn that off so rest.core's counted, backed-off retries are the only
            # ones on both transports (a private attribute, since aiohttp 3.10; absent before, no-op).
            if hasattr(state.session, "_retry_connection"):
                state.session._retry_connection = False
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
        """``v2`` or ``v1``: as configured, or detected once per loop and base URL for ``auto``
        (:class:`~airflow_provider_scheduler.rest.core.VersionProbe`, like the sync hook)."""
        if self.settings.api_version in ("v1", "v2"):
            return self.settings.api_version
        base = self.settings.base_url
        if base not in self.state.api_versions:
            async with self._lock(("version", base)):
                if base not in self.state.api_versions:
                    probe = VersionProbe(base)
                    for version in probe.versions:
                        answer = await self._send("GET", probe.path(version), authenticate=False)
                        if probe.found(version, answer):
                            self.state.api_versions[base] = version
                            break
                    else:
                        raise probe.failure()
        return self.state.api_versions[base]

    async def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """Return one DAG run, normalised (``SchedulerNotFoundError`` when the DAG or run is absent)."""
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
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        version = await self.api_version()
        params = list_runs_params(
            version,
            state=state,
            limit=limit,
            offset=offset,
            order_by=order_by,
            logical_date_gte=logical_date_gte,
            logical_date_lte=logical_date_lte,
        )
        path = api_path(version, "dags", dag_id, "dagRuns")
        return normalize_dag_runs(await self._request("GET", path, params=params))

    async def get_dag(self, dag_id: str) -> dict[str, Any]:
        """Return the API's description of ``dag_id`` (``is_paused``, ``tags``, ...)."""
        return dict(await self._request("GET", api_path(await self.api_version(), "dags", dag_id)))

    def ui_url_for_run(self, dag_id: str, run_id: str) -> str:
        """The run's web UI page: the same URL as ``SchedulerHook.ui_url_for_run``.

        Call after a request (or :meth:`api_version`) when the connection says ``auto``.
        """
        return ui_run_url(self.settings.base_url, self._known_version(), dag_id, run_id)

    # -- transport ------------------------------------------------------------------------------------
    def _known_version(self) -> str:
        """The configured or detected API version (``v2`` until detected)."""
        version = self.settings.api_version
        if version == "auto":
            return self.state.api_versions.get(self.settings.base_url, "v2")
        return version

    def _exchange(self, method: str, path: str, *, refreshable: bool = False) -> Exchange:
        settings = self.settings
        known = self.state.api_versions.get(settings.base_url) if settings.api_version == "auto" else None
        return Exchange(
            method,
            path,
            where=settings.describe(),
            base_url=settings.base_url,
            max_retries=settings.max_retries,
            timeout=settings.timeout,
            secrets=settings.secrets,
            api_version=known if settings.api_version == "auto" else settings.api_version,
            refreshable=refreshable,
            uniform=self._uniform,
        )

    async def _request(
        self, method: str, path: str, *, params: list[tuple[str, str]] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        """Send with auth through the retry policy; return the JSON object or raise the mapped error."""
        answer = await self._send(method, path, params=params, json_body=json_body)
        return self._exchange(method, path).json_object(answer)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json_body: Any = None,
        authenticate: bool = True,
    ) -> Answer:
        """Send one request through the retry policy of :class:`~.rest.core.Exchange`."""
        settings = self.settings
        mode = auth_mode(settings, self._known_version()) if authenticate else "none"
        exchange = self._exchange(method, path, refreshable=mode == "jwt")
        url = f"{settings.base_url}{path}"
        while True:
            headers = await self._auth_headers(mode)
            exchange.add_secret(headers.get("Authorization", "").removeprefix("Bearer ") or None)
            try:
                answer = await self._exchange_once(
                    method, url, params=params, json_body=json_body, headers=headers, mode=mode
                )
            except (aiohttp.ClientSSLError, ssl.SSLError) as err:
                raise exchange.tls_error(str(err)) from err
            except (TimeoutError, aiohttp.ClientError, OSError) as err:
                decision = exchange.after_network_error(_network_reason(err, settings.timeout))
                cause: BaseException | None = err
            else:
                decision = exchange.after_answer(answer)
                cause = None
            if decision.action == "return":
                return answer
            if decision.action == "raise":
                assert decision.error is not None
                raise decision.error from cause
            if decision.action == "refresh":
                log.info("The API rejected the cached token (%s); fetching a new one", decision.reason)
                self._forget_token(headers)
                continue
            if decision.action == "redirect":
                # Same origin (rest.core checked it); the Location carries its own query.
                log.debug("%s %s %s within %s", method, path, decision.reason, settings.base_url)
                url, params = decision.url, None
                continue
            log.warning(*exchange.retry_log_args(decision))
            await self._sleep(decision.delay)

    async def _exchange_once(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: list[tuple[str, str]] | None,
        json_body: Any,
        mode: str,
    ) -> Answer:
        """One HTTP exchange on the loop's shared session.

        At most :data:`CONNECTION_LIMIT` exchanges per base URL are prepared at a time: the others wait
        on a semaphore (cheap) instead of all building their requests in the same loop iteration when
        many triggers wake together, which would stall the loop.
        """
        settings = self.settings
        auth = aiohttp.BasicAuth(settings.login or "", settings.password or "") if mode == "basic" else None
        state = self.state
        slots = state.slots.get(settings.base_url)
        if slots is None:
            slots = state.slots[settings.base_url] = asyncio.Semaphore(CONNECTION_LIMIT)
        async with (
            slots,
            self._session().request(
                method,
                url,
                params=params,
                json=json_body,
                headers={**_DEFAULT_HEADERS, **headers},
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=float(settings.timeout)),
                ssl=self._ssl(),
                # rest.core decides on redirects: none leaves the approved host (aiohttp would resend
                # the body and custom headers to any host a server names).
                allow_redirects=False,
            ) as response,
        ):
            return Answer(
                status=response.status,
                text=await response.text(),
                content_type=response.headers.get("Content-Type"),
                retry_after=response.headers.get("Retry-After"),
                location=response.headers.get("Location"),
                url=str(response.url),
            )

    # -- authentication -------------------------------------------------------------------------------
    def _lock(self, key: Any) -> asyncio.Lock:
        return _lock(self.state, key)

    async def _auth_headers(self, mode: str) -> dict[str, str]:
        if mode == "static_token":
            return {"Authorization": f"Bearer {self.settings.token}"}
        if mode != "jwt":
            return {}  # basic auth is added in _exchange_once (or no auth at all)
        key = (self.settings.base_url, self.settings.login or "")
        cached = self.state.tokens.get(key)
        if cached is None or not token_is_fresh(cached[1], time.time()):
            async with self._lock(("token", key)):
                cached = self.state.tokens.get(key)
                if cached is None or not token_is_fresh(cached[1], time.time()):
                    cached = self.state.tokens[key] = await self._fetch_token()
        return {"Authorization": f"Bearer {cached[0]}"}

    def _forget_token(self, headers: Mapping[str, str]) -> None:
        key = (self.settings.base_url, self.settings.login or "")
        used = headers.get("Authorization", "").removeprefix("Bearer ")
        cached = self.state.tokens.get(key)
        if cached is not None and cached[0] == used:
            del self.state.tokens[key]

    async def _fetch_token(self) -> tuple[str, float | None]:
        """Exchange login/password for a JWT (the same errors as the sync hook's token exchange)."""
        settings = self.settings
        answer = await self._send(
            "POST", TOKEN_PATH, json_body=token_request_body(settings), authenticate=False
        )
        token = token_from_answer(answer, self._exchange("POST", TOKEN_PATH), settings)
        _mask(token)
        return token, refresh_after(token)


def _mask(secret: str) -> None:
    """Register a secret with Airflow's log masker (best effort: outside a task there may be none)."""
    try:
        mask_secret(secret)
    except Exception:  # pragma: no cover - masking must never break a request
        log.debug("could not register the API token with the secrets masker")


def _network_reason(err: BaseException, timeout: float) -> str:
    """The same short reasons as the sync hook gives for a failed connection."""
    if isinstance(err, asyncio.TimeoutError):
        return timeout_reason(timeout)
    os_error = getattr(err, "os_error", None) or (err if isinstance(err, OSError) else None)
    code = getattr(os_error, "errno", None)
    text = str(err)
    if code == errno.ECONNREFUSED or "Connection refused" in text:
        return REASON_REFUSED
    if isinstance(os_error, socket.gaierror) or "Name or service not known" in text:
        return REASON_NAME
    if isinstance(err, aiohttp.ServerDisconnectedError) or "reset by peer" in text:
        return REASON_CLOSED
    return type(err).__name__
