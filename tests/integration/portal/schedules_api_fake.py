"""A TEST FAKE of the Schedules API (issue 14's contract), for the browser test of the pages.

Only used while the real API (portal-api's ``plugin/api.py``) is not in the package: the portal
fixture mounts it at ``/schedules`` through a test plugin file. It keeps the paths and shapes the
issue fixes (and the real API's extra routes the pages use), writes through the real store and apply
planner, and asks Airflow's own REST API (with the caller's token) about DAGs and runs. It has no
authorization beyond sign-in and no namespace rules: it is not the product.
"""

from __future__ import annotations

from typing import Any

import httpx
from airflow.api_fastapi.core_api.security import get_user
from airflow.configuration import conf
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from airflow_provider_scheduler.plugin.ui_static import static_router
from airflow_provider_scheduler.spec.errors import SpecError
from airflow_provider_scheduler.spec.json_schema import spec_json_schema
from airflow_provider_scheduler.store import ConflictError, SpecNotFoundError, open_store
from airflow_provider_scheduler.store.apply import apply_plan, plan_apply
from airflow_provider_scheduler.store.errors import SpecBatchError
from airflow_provider_scheduler.templates import default_registry

P = "/api/v1"


def _error(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": status, "detail": detail, **extra}, status_code=status)


def _problems(err: SpecError | SpecBatchError) -> list[dict[str, str]]:
    errors = err.errors if isinstance(err, SpecBatchError) else [err]
    return [{"path": p.path, "message": p.message} for e in errors for p in e.problems]


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else request.cookies.get("_token", "")


async def _airflow(request: Request, method: str, path: str, **kwargs: Any) -> httpx.Response:
    base = conf.get("api", "base_url").rstrip("/")
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.request(
            method, f"{base}/api/v2{path}", headers={"Authorization": f"Bearer {_token(request)}"}, **kwargs
        )


def _summary(stored: Any) -> dict[str, Any]:
    return {
        "spec_id": stored.id,
        "namespace": stored.namespace,
        "name": stored.name,
        "revision": stored.revision,
        "author": stored.author,
        "updated_at": stored.updated_at.isoformat(),
        "paused": stored.paused,
        "deleted": stored.deleted,
        "description": stored.spec.get("description"),
    }


async def _dag_state(request: Request, dag_id: str) -> dict[str, Any]:
    resp = await _airflow(request, "GET", f"/dags/{dag_id}")
    if resp.status_code != 200 or resp.json().get("is_stale"):
        return {"exists": False, "next_run": None, "last_run": None}
    runs = await _airflow(request, "GET", f"/dags/{dag_id}/dagRuns", params={"limit": 1, "order_by": "-id"})
    last = (runs.json().get("dag_runs") or [None])[0] if runs.status_code == 200 else None
    dag = resp.json()
    return {
        "exists": True,
        "is_paused": dag.get("is_paused"),
        "next_run": dag.get("next_dagrun_run_after"),
        "last_run": last and {"run_id": last["dag_run_id"], "state": last["state"]},
    }


def create_fake_app() -> FastAPI:
    """The fake Schedules API app (mounted at ``/schedules``)."""
    app = FastAPI(dependencies=[Depends(get_user)], openapi_url=None, docs_url=None, redoc_url=None)
    registry = default_registry()

    def store() -> Any:
        return open_store(registry=registry)

    async def user_name(user: Any = Depends(get_user)) -> str:
        return str(user.get_name())

    @app.get(f"{P}/specs")
    async def list_specs(request: Request, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        with store() as s:
            specs = s.list()
        rows = []
        for stored in specs[offset : offset + limit]:
            row = _summary(stored)
            row["dag"] = await _dag_state(request, stored.id)
            row["status"] = "paused" if stored.paused else ("loaded" if row["dag"]["exists"] else "pending")
            rows.append(row)
        return {"specs": rows, "total_entries": len(specs)}

    @app.get(f"{P}/specs/{{spec_id}}")
    async def get_spec(request: Request, spec_id: str, revision: int | None = None) -> Any:
        with store() as s:
            stored = s.get(spec_id, include_deleted=True)
            if stored is None:
                return _error(404, f"no spec {spec_id}")
            answer = _summary(stored)
            answer["spec"] = stored.spec
            if revision is not None and revision != stored.revision:
                rev = next((r for r in s.history(spec_id) if r.revision == revision), None)
                if rev is None:
                    return _error(404, f"spec {spec_id} has no revision {revision}")
                answer |= {"revision": rev.revision, "author": rev.author, "spec": rev.spec}
        answer["dag"] = await _dag_state(request, spec_id)
        answer["status"] = "paused" if stored.paused else ("loaded" if answer["dag"]["exists"] else "pending")
        return answer

    @app.get(f"{P}/specs/{{spec_id}}/history")
    def history(spec_id: str) -> Any:
        with store() as s:
            revs = s.history(spec_id)
        if not revs:
            return _error(404, f"no spec {spec_id}")
        items = [
            {
                "revision": r.revision,
                "action": r.action,
                "author": r.author,
                "updated_at": r.updated_at.isoformat(),
            }
            for r in revs
        ]
        return {"spec_id": spec_id, "revisions": items, "total_entries": len(items)}

    @app.post(f"{P}/validate")
    async def validate(request: Request) -> Any:
        with store() as s:
            try:
                s.validate(await request.json())
            except SpecError as err:
                return {"valid": False, "problems": _problems(err)}
        return {"valid": True, "problems": []}

    @app.put(f"{P}/specs/{{spec_id}}")
    async def apply(request: Request, spec_id: str, name: str = Depends(user_name)) -> Any:
        body = await request.json()
        expected = body.get("expected_revision")
        with store() as s:
            try:
                plan = plan_apply(s, [body["spec"]])
            except SpecBatchError as err:
                return _error(422, "the spec is invalid; nothing was stored", problems=_problems(err))
            change = plan.changes[0]
            if change.spec_id != spec_id:
                mismatch = [{"path": "name", "message": "not the URL's spec id"}]
                return _error(422, "spec id mismatch", problems=mismatch)
            if expected is not None and expected != change.expected_revision:
                return _error(
                    409,
                    f"spec {spec_id} is at revision {change.expected_revision}",
                    expected_revision=expected,
                    current_revision=change.expected_revision,
                )
            revision = apply_plan(s, plan, author=name)[spec_id]
        created = change.expected_revision == 0
        return JSONResponse({"spec_id": spec_id, "revision": revision}, status_code=201 if created else 200)

    def state_change(action: str) -> Any:
        def route(spec_id: str, name: str = Depends(user_name)) -> Any:
            with store() as s:
                try:
                    revision = getattr(s, action)(spec_id, author=name)
                except SpecNotFoundError as err:
                    return _error(404, str(err))
                except ConflictError as err:
                    return _error(409, str(err))
            return {"spec_id": spec_id, "revision": revision}

        return route

    for action in ("pause", "resume"):
        app.post(f"{P}/specs/{{spec_id}}/{action}")(state_change(action))
    app.delete(f"{P}/specs/{{spec_id}}")(state_change("delete"))

    @app.post(f"{P}/specs/{{spec_id}}/trigger", status_code=201)
    async def trigger(request: Request, spec_id: str) -> Any:
        body = await request.json()
        run_body = {"logical_date": None, "conf": body.get("conf") or {}}
        resp = await _airflow(request, "POST", f"/dags/{spec_id}/dagRuns", json=run_body)
        if resp.status_code >= 300:
            return _error(409 if resp.status_code == 404 else resp.status_code, f"Airflow: {resp.text[:300]}")
        run = resp.json()
        return {"spec_id": spec_id, "run_id": run["dag_run_id"], "state": run["state"]}

    @app.get(f"{P}/specs/{{spec_id}}/runs")
    async def runs(request: Request, spec_id: str) -> Any:
        query = {"limit": 25, "order_by": "-id"}
        resp = await _airflow(request, "GET", f"/dags/{spec_id}/dagRuns", params=query)
        items = resp.json().get("dag_runs", []) if resp.status_code == 200 else []
        return {"spec_id": spec_id, "dag_runs": [{**r, "run_id": r["dag_run_id"]} for r in items]}

    @app.get(f"{P}/schema")
    def schema(namespace: str | None = None) -> Any:
        return spec_json_schema(registry, namespace=namespace)

    app.include_router(static_router(get_user))
    return app
