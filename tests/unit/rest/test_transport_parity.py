"""The two transports of rest.core answer alike: the same script of answers, the same outcome.

One scripted HTTP server on 127.0.0.1 (aiohttp.web in a thread) plays each case to the ``requests``
hook and to the ``aiohttp`` client in turn; both call ``get_dag``. The outcome compared is the result
or the exception class and message, the requests the server saw, the waits asked for (a recorder:
nothing sleeps) and the tokens fetched. A case lists its expected outcome too, so a drift that both
transports shared would fail as well. A second server (``foreign``, another port) is where the redirect
cases point: it must receive nothing, ever.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from api_samples import PASSWORD, make_jwt

from airflow_provider_scheduler.hooks.async_client import SchedulerAsyncClient
from airflow_provider_scheduler.hooks.scheduler import SchedulerHook
from airflow_provider_scheduler.rest.connection import SchedulerConnectionSettings

DAG = {"dag_id": "d", "is_paused": False}
TIMEOUT = 0.5


@dataclass(frozen=True)
class Step:
    """One scripted answer to ``GET .../dags/d``: a status with a body, a reset, or a too-late answer."""

    status: int = 200
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    reset: bool = False
    delay: float = 0.0
    #: ``Location`` of a redirect answer; ``{port}`` is this server's port, ``{other}`` the foreign one's.
    redirect: str | None = None
    redirect_status: int = 307


OK = Step(200, DAG)


class ScriptedApi:
    """Answers ``POST /auth/token`` with a fresh JWT and the DAG path from a script (then 200)."""

    def __init__(self) -> None:
        self.script: list[Step] = []
        self.seen: list[str] = []
        self.tokens = 0
        self._counter = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.other_port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def play(self, script: list[Step]) -> None:
        self.script, self.seen, self.tokens = list(script), [], 0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/auth/token":
            self.tokens += 1
            token = f"{make_jwt(4_000_000_000)}{next(self._counter)}"
            return web.json_response({"access_token": token}, status=201)
        self.seen.append(f"{request.method} {request.path}")
        if request.path.endswith("/moved"):
            return web.json_response(DAG)
        step = self.script.pop(0) if self.script else OK
        if step.reset:
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if step.delay:
            await asyncio.sleep(step.delay)
        if step.redirect:
            location = step.redirect.format(port=self.port, other=self.other_port)
            raise REDIRECTS[step.redirect_status](location)
        return web.json_response(step.body, status=step.status, headers=dict(step.headers))

    def start(self) -> ScriptedApi:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="scripted-api", daemon=True)
        self._thread.start()
        assert ready.wait(10), "the scripted API did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


REDIRECTS: dict[int, type[web.HTTPRedirection]] = {
    301: web.HTTPMovedPermanently,
    302: web.HTTPFound,
    303: web.HTTPSeeOther,
    307: web.HTTPTemporaryRedirect,
    308: web.HTTPPermanentRedirect,
}


@pytest.fixture(scope="module")
def foreign():
    """Another server on another port: the target of the refused redirects."""
    server = ScriptedApi().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(foreign):
    server = ScriptedApi().start()
    server.other_port = foreign.port
    yield server
    server.stop()


def settings_for(api: ScriptedApi, version: str) -> SchedulerConnectionSettings:
    return SchedulerConnectionSettings(
        base_url=api.url,
        api_version=version,  # type: ignore[arg-type]
        login="admin",
        password=PASSWORD,
        timeout=TIMEOUT,
        max_retries=2,
        conn_id="parity",
    )


def top_of_range(low: float, high: float) -> float:
    return high


def outcome_of(call: Any) -> tuple[str, str]:
    try:
        result = call()
    except Exception as err:
        return type(err).__name__, str(err)
    return "return", repr(result)


def run_sync(api: ScriptedApi, version: str) -> tuple[Any, ...]:
    waits: list[float] = []
    hook = SchedulerHook("parity", sleep=waits.append, uniform=top_of_range)
    hook._settings = settings_for(api, version)
    result = outcome_of(lambda: hook.get_dag("d"))
    hook.close()
    return result, list(api.seen), waits, api.tokens


def run_async(api: ScriptedApi, version: str) -> tuple[Any, ...]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def scenario() -> Any:
        client = SchedulerAsyncClient(settings_for(api, version), sleep=sleep, uniform=top_of_range)
        async with client:
            return await client.get_dag("d")

    result = outcome_of(lambda: asyncio.run(scenario()))
    return result, list(api.seen), waits, api.tokens


V2 = "/api/v2/dags/d"
V1 = "/api/v1/dags/d"
WHERE = "connection 'parity' (http://127.0.0.1:{port})"
OK_RESULT = ("return", repr(DAG))
REFUSED = (
    f"GET {V2} was redirected ({{status}}) from http://127.0.0.1:{{{{port}}}} to another host, {{target}}: "
    "refused, so that no request, credentials or configured headers leave http://127.0.0.1:{{port}}. If "
    "{target} is the right server, set the connection's host to it."
)
SERVER_ERROR = Step(503, {"detail": "restarting"})
RESET = Step(reset=True)
LATE = Step(delay=TIMEOUT * 4)

#: id -> (api version, script, expected outcome, requests seen, waits, tokens fetched)
CASES: dict[str, tuple[str, list[Step], tuple[str, str], int, list[float], int]] = {
    "401 refetches the token once": ("v2", [Step(401, {"detail": "Not authenticated"})], OK_RESULT, 2, [], 2),
    "403 invalid JWT refetches the token": (
        "v2",
        [Step(403, {"detail": "Invalid JWT token"})],
        OK_RESULT,
        2,
        [],
        2,
    ),
    "second 401 is an auth error": (
        "v2",
        [Step(401, {"detail": "Not authenticated"})] * 2,
        (
            "SchedulerAuthError",
            f"Airflow API {WHERE} answered 401 Unauthorized to GET {V2}: Not authenticated. "
            "Check the connection's username and password (or its bearer token).",
        ),
        2,
        [],
        2,
    ),
    "403 permission on v2": (
        "v2",
        [Step(403, {"detail": "Forbidden"})],
        (
            "SchedulerAuthError",
            f"Airflow API {WHERE} answered 403 Forbidden to GET {V2}: Forbidden. The credentials are valid "
            "but the user lacks the permission: check its role on that deployment.",
        ),
        1,
        [],
        1,
    ),
    "403 on v1 gets the Airflow 2.x advice": (
        "v1",
        [Step(403, {"title": "Forbidden", "status": 403})],
        (
            "SchedulerAuthError",
            f"Airflow API {WHERE} answered 403 Forbidden to GET {V1}: Forbidden. Airflow 2.x answers 403 "
            "both to a wrong username/password and to a user without the permission: check the "
            "connection's username and password, then the user's role, and that [api] auth_backends "
            "includes airflow.providers.fab.auth_manager.api.auth.backend.basic_auth.",
        ),
        1,
        [],
        0,
    ),
    "404": (
        "v2",
        [Step(404, {"detail": "Dag with id d was not found"})],
        (
            "SchedulerNotFoundError",
            f"Airflow API {WHERE} answered 404 Not Found to GET {V2}: Dag with id d was not found. Check "
            "the DAG id (and run id) exist on that deployment and that the DAG file parsed without errors; "
            "also check the API URL and path prefix.",
        ),
        1,
        [],
        1,
    ),
    "409": (
        "v2",
        [Step(409, {"detail": "exists"})],
        (
            "SchedulerApiError",
            f"Airflow API {WHERE} answered 409 Conflict to GET {V2}: exists. A conflicting object already "
            "exists (e.g. a DAG run with that run id or logical date).",
        ),
        1,
        [],
        1,
    ),
    "429 with Retry-After": ("v2", [Step(429, {}, (("Retry-After", "7"),))], OK_RESULT, 2, [7.0], 1),
    "408 is retried": ("v2", [Step(408, {})], OK_RESULT, 2, [1.0], 1),
    "5xx then success": ("v2", [SERVER_ERROR, Step(502, {})], OK_RESULT, 3, [1.0, 2.0], 1),
    "5xx exhausted": (
        "v2",
        [SERVER_ERROR] * 3,
        (
            "SchedulerTransientError",
            f"Airflow API {WHERE} answered 503 Service Unavailable to GET {V2}: restarting. Gave up after 3 "
            "attempts; the deployment may be overloaded or restarting: check its health, or raise "
            "max_retries / timeout.",
        ),
        3,
        [1.0, 2.0],
        1,
    ),
    "connection reset then success": ("v2", [RESET], OK_RESULT, 2, [1.0], 1),
    "connection reset exhausted": (
        "v1",
        [RESET] * 3,
        (
            "SchedulerTransientError",
            "Cannot reach the Airflow API at http://127.0.0.1:{port}: GET /api/v1/dags/d failed (connection "
            "closed by the server) after 3 attempts. Check the host and port of the Airflow API URL and "
            "that the API server is running.",
        ),
        3,
        [1.0, 2.0],
        0,
    ),
    "timeout then success": ("v2", [LATE], OK_RESULT, 2, [1.0], 1),
    "redirect is followed": ("v2", [Step(redirect="/api/v2/dags/moved")], OK_RESULT, 2, [], 1),
    "301 within the host is followed for GET": (
        "v2",
        [Step(redirect="http://127.0.0.1:{port}/api/v2/dags/moved", redirect_status=301)],
        OK_RESULT,
        2,
        [],
        1,
    ),
    "redirect to another port is refused": (
        "v2",
        [Step(redirect="http://127.0.0.1:{other}/api/v2/dags/d")],
        ("SchedulerRedirectError", REFUSED.format(status=307, target="http://127.0.0.1:{other}")),
        1,
        [],
        1,
    ),
    "redirect to another host name is refused": (
        "v2",
        [Step(redirect="http://localhost:{port}/api/v2/dags/moved", redirect_status=302)],
        ("SchedulerRedirectError", REFUSED.format(status=302, target="http://localhost:{port}")),
        1,
        [],
        1,
    ),
    "redirect to https on the same port is refused": (
        "v2",
        [Step(redirect="https://127.0.0.1:{port}/api/v2/dags/moved", redirect_status=308)],
        ("SchedulerRedirectError", REFUSED.format(status=308, target="https://127.0.0.1:{port}")),
        1,
        [],
        1,
    ),
    "protocol-relative redirect to another host is refused": (
        "v2",
        [Step(redirect="//127.0.0.1:{other}/api/v2/dags/d")],
        ("SchedulerRedirectError", REFUSED.format(status=307, target="http://127.0.0.1:{other}")),
        1,
        [],
        1,
    ),
    "credentials in the Location are never printed": (
        "v1",
        [
            Step(
                redirect="http://admin:Zq7stolen@127.0.0.1:{other}/api/v1/dags/d?token=Zq7t",
                redirect_status=308,
            )
        ],
        (
            "SchedulerRedirectError",
            REFUSED.format(status=308, target="http://127.0.0.1:{other}").replace("/api/v2/", "/api/v1/"),
        ),
        1,
        [],
        0,
    ),
    "redirects within the host are bounded": (
        "v2",
        [Step(redirect=V2)] * 6,
        (
            "SchedulerRedirectError",
            f"GET {V2} was redirected more than 5 times within http://127.0.0.1:{{port}}: refused. Set the "
            "connection's host and the path to the final URL.",
        ),
        6,
        [],
        1,
    ),
}


@pytest.mark.parametrize(
    ("version", "script", "expected", "requests_seen", "waits", "tokens"),
    list(CASES.values()),
    ids=list(CASES),
)
def test_both_transports_end_alike(api, foreign, version, script, expected, requests_seen, waits, tokens):
    outcomes = {}
    for name, run in (("requests", run_sync), ("aiohttp", run_async)):
        api.play(script)
        foreign.play([])
        outcomes[name] = run(api, version)
        assert (foreign.seen, foreign.tokens) == ([], 0), f"{name} sent a request to the foreign server"
    kind, message = expected
    expected_outcome = (kind, message.replace("{port}", str(api.port)).replace("{other}", str(foreign.port)))
    assert outcomes["requests"] == outcomes["aiohttp"]
    result, seen, waited, fetched = outcomes["requests"]
    assert result == expected_outcome
    assert "Zq7" not in result[1]
    assert (len(seen), waited, fetched) == (requests_seen, waits, tokens)
