"""A scripted Airflow REST API v2 served by a real aiohttp web server on 127.0.0.1 (port 0).

One server answers both paths under test: the sync ``SchedulerHook`` (requests) and the async
``SchedulerAsyncClient`` (aiohttp) talk real HTTP to it, so no fake response objects are involved.
It runs in a background thread with its own event loop, so sync code and ``asyncio.run`` in the test
can both reach it.

Behaviour follows the real API where the code under test depends on it (see AIRFLOW_FACTS.md):
``POST /auth/token`` -> 201 JWT; 401 without a valid token; unknown DAG/run -> 404 with FastAPI's
``detail``; trigger requires the ``logical_date`` key, answers 409 for an existing run id; a paused
DAG accepts runs, which stay queued.

Scripting:
- ``api.add_dag(dag_id, paused=False, states=[...])``: GETs of a run of that DAG answer the states in
  order (the last one repeats); a run created by the trigger endpoint starts with that script.
- ``api.add_run(dag_id, run_id, states=[...], logical_date=...)``: a run that exists already.
- ``api.fail(method, path_suffix_regex, status, times=..., body=..., headers=...)``: the next ``times``
  matching requests answer ``status`` instead.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

USERNAME = "admin"
PASSWORD = "s3cret-pw"


def make_jwt(exp: float) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'none'})}.{b64({'sub': USERNAME, 'exp': int(exp)})}.sig"


@dataclass
class FakeRun:
    dag_id: str
    run_id: str
    states: list[str]
    conf: dict[str, Any] = field(default_factory=dict)
    logical_date: str | None = None
    note: str | None = None
    polls: int = 0

    def next_state(self) -> str:
        state = self.states[min(self.polls, len(self.states) - 1)]
        self.polls += 1
        return state

    def current_state(self) -> str:
        return self.states[min(max(self.polls - 1, 0), len(self.states) - 1)]

    def as_api(self, state: str) -> dict[str, Any]:
        return {
            "dag_run_id": self.run_id,
            "dag_id": self.dag_id,
            "state": state,
            "logical_date": self.logical_date,
            "run_after": self.logical_date or "2026-01-01T00:00:00Z",
            "conf": self.conf,
            "note": self.note,
            "start_date": None,
            "end_date": None,
        }


@dataclass
class FakeDag:
    dag_id: str
    paused: bool = False
    states: list[str] = field(default_factory=lambda: ["queued", "running", "success"])
    runs: dict[str, FakeRun] = field(default_factory=dict)


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    body: Any
    headers: dict[str, str]


class FakeAirflowApi:
    """The server; use as a context manager or call start()/stop()."""

    def __init__(self, api_version: str = "v2") -> None:
        #: "v2" plays Airflow 3 (JWT from /auth/token); "v1" plays Airflow 2.11 (basic auth, execution_date)
        self.api_version = api_version
        self.dags: dict[str, FakeDag] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.tokens_issued = 0
        self._valid_tokens: set[str] = set()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- scripting -------------------------------------------------------------------------------------
    def add_dag(self, dag_id: str, *, paused: bool = False, states: list[str] | None = None) -> FakeDag:
        dag = FakeDag(dag_id, paused=paused, states=list(states or ["queued", "running", "success"]))
        self.dags[dag_id] = dag
        return dag

    def add_run(
        self, dag_id: str, run_id: str, *, states: list[str], logical_date: str | None = None
    ) -> FakeRun:
        run = FakeRun(dag_id, run_id, list(states), logical_date=logical_date)
        self.dags[dag_id].runs[run_id] = run
        return run

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.faults.append(
            Fault(
                method, re.compile(path_regex), status, times, body or {"detail": "scripted"}, headers or {}
            )
        )

    def revoke_tokens(self) -> None:
        """Make every issued JWT invalid (the next request answers 401)."""
        self._valid_tokens.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def conn_json(self, **extra: Any) -> str:
        """An ``AIRFLOW_CONN_*`` value (JSON form) for this server; extra defaults: no retries."""
        return json.dumps(
            {
                "conn_type": "scheduler",
                "host": self.url,
                "login": USERNAME,
                "password": PASSWORD,
                "extra": {"api_version": "auto", "max_retries": 0, "timeout": 5, **extra},
            }
        )

    def count(self, method: str, path_regex: str) -> int:
        pattern = re.compile(path_regex)
        return sum(1 for m, p in self.requests if m == method and pattern.search(p))

    # -- server ----------------------------------------------------------------------------------------
    def start(self) -> FakeAirflowApi:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-airflow-api", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Airflow API did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeAirflowApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- handlers --------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        method = request.method
        with self._lock:
            self.requests.append((method, path))
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.path.search(path):
                    fault.times -= 1
                    return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        prefix = f"/api/{self.api_version}/"
        if path == f"/api/{self.api_version}/version" and method == "GET":
            version = "3.3.2" if self.api_version == "v2" else "2.11.2"
            return web.json_response({"version": version, "git_version": None})
        if path.endswith("/version"):
            return web.json_response({"detail": "Not Found"}, status=404)
        if path == "/auth/token" and method == "POST" and self.api_version == "v2":
            body = await request.json()
            if body.get("username") != USERNAME or body.get("password") != PASSWORD:
                return web.json_response({"detail": "Invalid credentials"}, status=401)
            token = make_jwt(time.time() + 3600) + str(next(self._counter))
            self._valid_tokens.add(token)
            self.tokens_issued += 1
            return web.json_response({"access_token": token}, status=201)
        if not path.startswith(prefix):
            return web.json_response({"detail": "Not Found"}, status=404)
        auth = request.headers.get("Authorization", "")
        if self.api_version == "v1":
            expected = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
            if auth != f"Basic {expected}":
                return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        elif auth.removeprefix("Bearer ") not in self._valid_tokens:
            return web.json_response({"detail": "Not authenticated"}, status=401)
        return await self._api(method, path.removeprefix(prefix).split("/"), request)

    async def _api(self, method: str, parts: list[str], request: web.Request) -> web.StreamResponse:
        if len(parts) < 2 or parts[0] != "dags":
            return web.json_response({"detail": "Not Found"}, status=404)
        dag = self.dags.get(parts[1])
        if dag is None:
            return web.json_response({"detail": f"The Dag with ID: `{parts[1]}` was not found"}, status=404)
        if len(parts) == 2:
            if method == "PATCH":
                body = await request.json()
                if set(body) != {"is_paused"}:
                    return web.json_response({"detail": "only is_paused may change"}, status=422)
                dag.paused = bool(body["is_paused"])
            return web.json_response({"dag_id": dag.dag_id, "is_paused": dag.paused})
        if len(parts) == 3 and parts[2] == "dagRuns":
            if method == "POST":
                return await self._trigger(dag, request)
            runs = sorted(dag.runs.values(), key=lambda r: r.logical_date or "", reverse=True)
            date_key = "logical_date" if self.api_version == "v2" else "execution_date"
            gte = request.query.get(f"{date_key}_gte")
            lte = request.query.get(f"{date_key}_lte")
            if gte or lte:
                runs = [r for r in runs if r.logical_date and (not gte or r.logical_date >= gte)]
                runs = [r for r in runs if r.logical_date and (not lte or r.logical_date <= lte)]
            limit = int(request.query.get("limit", "100"))
            listed = [self._run_json(r, r.next_state()) for r in runs[:limit]]
            return web.json_response({"dag_runs": listed, "total_entries": len(runs)})
        if len(parts) == 4 and parts[2] == "dagRuns":
            run = dag.runs.get(parts[3])
            if run is None:
                detail = f"The DagRun with dag_id: `{dag.dag_id}` and run_id: `{parts[3]}` was not found"
                return web.json_response({"detail": detail}, status=404)
            state = run.next_state()
            if dag.paused and state not in ("success", "failed"):
                state = "queued"  # a paused DAG never starts its runs
            return web.json_response(self._run_json(run, state))
        return web.json_response({"detail": "Not Found"}, status=404)

    def _run_json(self, run: FakeRun, state: str) -> dict[str, Any]:
        body = run.as_api(state)
        if self.api_version == "v1":  # Airflow 2.x: execution_date always set, no run_after
            body.pop("run_after")
            body["execution_date"] = body["logical_date"] = run.logical_date or "2026-01-01T00:00:00+00:00"
        return body

    async def _trigger(self, dag: FakeDag, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if "logical_date" not in body and self.api_version == "v2":
            return web.json_response(
                {"detail": [{"loc": ["body", "logical_date"], "msg": "Field required"}]}, status=422
            )
        run_id = body.get("dag_run_id") or f"manual__{next(self._counter)}"
        if run_id in dag.runs:
            return web.json_response(
                {"detail": f"DAG Run with run id `{run_id}` already exists for dag `{dag.dag_id}`"},
                status=409,
            )
        run = FakeRun(
            dag.dag_id,
            run_id,
            list(dag.states) if not dag.paused else ["queued"],
            conf=body.get("conf") or {},
            logical_date=body.get("logical_date"),
            note=body.get("note"),
        )
        dag.runs[run_id] = run
        return web.json_response(self._run_json(run, "queued"))
