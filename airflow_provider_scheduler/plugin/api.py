"""The Schedules REST API: a FastAPI app the plugin mounts in Airflow 3.1+'s api-server at ``/schedules``.

Routes (all under ``/schedules/api/v1``; every one needs Airflow's sign-in, see :mod:`.access`):

================================  =============================================================
``GET    /specs``                 list (``namespace``, ``paused``, ``status``, ``q``, ``limit``, ``offset``)
``GET    /specs/{id}``            one spec, current or ``?revision=N``
``PUT    /specs/{id}``            apply ``{"spec": {...}, "expected_revision": N|null}``
``DELETE /specs/{id}``            delete (``?expected_revision=N``); kept in history
``GET    /specs/{id}/history``    every revision, oldest first
``GET    /specs/{id}/diff``       ``?from_revision=N&to_revision=M`` (default: previous -> current)
``POST   /specs/{id}/diff``       current -> the posted ``{"spec": {...}}``
``POST   /specs/{id}/pause``      pause / resume / restore a deleted spec
``POST   /specs/{id}/resume``
``POST   /specs/{id}/restore``
``POST   /specs/{id}/rollback``   ``{"revision": N}``: a new revision equal to revision N
``POST   /specs/{id}/trigger``    a run now, ``{"conf": {...}}`` checked against the spec's params
``GET    /specs/{id}/runs``       the spec's DAG's latest runs
``POST   /validate``              a dry run: ``{"problems": [{"path", "message"}]}``
``GET    /schema``                the JSON Schema (``?namespace=NS``: what that team may use)
``GET    /me``                    the signed-in user and the namespaces they may use
``GET    /openapi.json``          this API's OpenAPI document (signed-in users only)
================================  =============================================================

Errors all have one shape: ``{"status": 409, "title": "Conflict", "detail": "..."}`` plus, on 409
conflicts, ``spec_id``, ``expected_revision`` and ``current_revision``, and on 422 ``problems``
(``[{"path", "message"}]``, as ``airflow-scheduler validate`` prints them). Nothing is stored when
a write answers 409 or 422.

Writes go through the same apply planner as the CLI and ``ApplyScheduleSpecsOperator``
(:func:`~airflow_provider_scheduler.store.apply.plan_apply`), to the store the loader reads
(``[schedule_specs] store``); the author of every revision is the signed-in user. After a write the
API records an audit-log entry and asks the DAG processor to reparse the loader file(s) holding the
spec, so the change reaches Airflow in seconds.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.common.db.common import SessionDep  # noqa: TC002 - FastAPI reads it at runtime
from airflow.api_fastapi.core_api.security import bearer_scheme, get_user, oauth2_scheme
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_scheduler import __version__
from airflow_provider_scheduler.plugin import airflow_db
from airflow_provider_scheduler.plugin.access import Authorizer, NamespaceAccess, NamespaceAccessError
from airflow_provider_scheduler.plugin.loader_view import STATUSES, LoaderView
from airflow_provider_scheduler.plugin.ui_static import static_router
from airflow_provider_scheduler.spec.canonical import pin_template_versions
from airflow_provider_scheduler.spec.errors import Problem, SpecError
from airflow_provider_scheduler.spec.json_schema import spec_json_schema
from airflow_provider_scheduler.spec.loader import parse_document
from airflow_provider_scheduler.spec.policy import default_policy
from airflow_provider_scheduler.store.apply import Action, apply_plan, plan_apply
from airflow_provider_scheduler.store.base import spec_to_yaml, unified_diff
from airflow_provider_scheduler.store.errors import (
    ConflictError,
    DamagedRevisionError,
    ReadOnlyStoreError,
    RevisionNotFoundError,
    SpecBatchError,
    SpecNotFoundError,
    StoreError,
    StoreUnavailableError,
)
from airflow_provider_scheduler.store.rollback import find_revision, plan_rollback
from airflow_provider_scheduler.store.uri import default_store_uri, open_store, redact_uri
from airflow_provider_scheduler.templates import default_registry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from sqlalchemy.orm import Session

    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.policy import GovernancePolicy
    from airflow_provider_scheduler.store.apply import ApplyPlan
    from airflow_provider_scheduler.store.base import ScheduleStore, SpecRevision, StoredSpec

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
MAX_LIMIT = 500


# errors ----------------------------------------------------------------------------------------
class ApiError(Exception):
    """An answer other than 2xx, in the API's one error shape.

    :param status: the HTTP status.
    :param detail: what went wrong and what to do, in words.
    :param extra: more top-level keys (``problems``, ``expected_revision``, ...).
    """

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


def error_body(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    """The one error shape: ``{"status", "title", "detail", ...extra}``."""
    return {"status": status, "title": HTTPStatus(status).phrase, "detail": detail, **extra}


def problems_json(problems: Iterable[Problem]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message} for p in problems]


def invalid(problems: Iterable[Problem], detail: str, *, spec_id: str | None = None) -> ApiError:
    items = problems_json(problems)
    lines = [f"{p['path'] or '(root)'}: {p['message']}" for p in items]
    return ApiError(422, detail + (": " + "; ".join(lines) if lines else ""), problems=items, spec_id=spec_id)


def _conflict(err: ConflictError) -> ApiError:
    return ApiError(
        409,
        str(err),
        spec_id=err.spec_id,
        expected_revision=err.expected_revision,
        current_revision=err.current_revision,
    )


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(error_body(exc.status, exc.detail, **exc.extra), status_code=exc.status)

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return JSONResponse(
            error_body(exc.status_code, detail), status_code=exc.status_code, headers=exc.headers
        )

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            Problem(".".join(str(p) for p in err.get("loc", ())[1:]), str(err.get("msg", "invalid")))
            for err in exc.errors()
        ]
        body = invalid(problems, "invalid request")
        return JSONResponse(error_body(422, body.detail, problems=body.extra["problems"]), status_code=422)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def _store_errors(err: StoreError) -> ApiError:
    if isinstance(err, ConflictError):
        return _conflict(err)
    if isinstance(err, SpecNotFoundError):
        return ApiError(404, str(err), spec_id=err.spec_id)
    if isinstance(err, RevisionNotFoundError):
        return ApiError(404, str(err), spec_id=err.spec_id, revisions=err.available)
    if isinstance(err, DamagedRevisionError):
        return ApiError(
            422, str(err), spec_id=err.spec_id, problems=problems_json([Problem("revision", str(err))])
        )
    if isinstance(err, SpecBatchError):
        first = err.errors[0]
        return invalid(first.problems, "the spec is invalid; nothing was stored", spec_id=first.spec_id)
    if isinstance(err, ReadOnlyStoreError):
        return ApiError(405, str(err))
    if isinstance(err, StoreUnavailableError):
        return ApiError(503, f"{err}; nothing was changed, try again later")
    return ApiError(500, f"the spec store failed: {err}")


# the portal's state ----------------------------------------------------------------------------
class Portal:
    """What every request of one api-server process shares: the store, the namespace mapping.

    Everything is read from Airflow's configuration on first use unless given (tests give them).

    :param store_uri: the spec store (default ``[schedule_specs] store``, the loader's default).
    :param namespaces: the namespace mapping (default ``[schedule_specs] namespace_access``).
    :param registry: template catalog (default: the deployment's default registry).
    :param policy: governance policy (default: ``[schedule_specs]``).
    :param home: folder holding the loaders' status files (default ``$AIRFLOW_HOME``).
    :param auth_manager: the auth manager (default ``airflow.api_fastapi.app.get_auth_manager()``).
    """

    def __init__(
        self,
        *,
        store_uri: str | None = None,
        namespaces: NamespaceAccess | None = None,
        registry: TemplateCatalog | None = None,
        policy: GovernancePolicy | None = None,
        home: str | None = None,
        auth_manager: Any = None,
    ) -> None:
        self._store_uri = store_uri
        self._namespaces = namespaces
        self._registry = registry
        self._policy = policy
        self.home = home
        self._auth_manager = auth_manager
        self._store: ScheduleStore | None = None
        self._lock = threading.Lock()

    @property
    def store_uri(self) -> str:
        if self._store_uri is None:
            self._store_uri = default_store_uri()
        return self._store_uri

    @property
    def registry(self) -> TemplateCatalog:
        if self._registry is None:
            self._registry = default_registry()
        return self._registry

    @property
    def policy(self) -> GovernancePolicy:
        if self._policy is None:
            self._policy = default_policy()
        return self._policy

    def namespaces(self) -> NamespaceAccess:
        """The mapping; a malformed option fails every request with its message (closed, not open)."""
        if self._namespaces is None:
            self._namespaces = NamespaceAccess.from_airflow_config()
        return self._namespaces

    def auth_manager(self) -> Any:
        if self._auth_manager is not None:
            return self._auth_manager
        return get_auth_manager()

    def store(self) -> ScheduleStore:
        """The store, opened once per process (engines are thread-safe; each call is a transaction)."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.store_uri, registry=self.registry, policy=self.policy)
            return self._store

    def loader_view(self) -> LoaderView:
        return LoaderView.read(self.store_uri, self.home)


async def signed_in_user(
    request: Request,
    oauth_token: Annotated[str | None, Depends(oauth2_scheme)],
    bearer: Annotated[Any, Depends(bearer_scheme)],
) -> Any:
    """The signed-in user, exactly as ``/api/v2`` finds them (bearer JWT or the UI's ``_token`` cookie).

    Airflow answers a token it cannot verify with 403; here any token that does not sign a user in
    is a 401 (RFC 9110: the credentials are missing or wrong), 403 stays "signed in, not allowed".
    """
    try:
        return await get_user(request, oauth_token, bearer)
    except HTTPException as exc:
        if exc.status_code == 403:
            raise HTTPException(
                401,
                f"{exc.detail}: sign in again (POST /auth/token or the login page)",
                headers={"WWW-Authenticate": "Bearer"},
            ) from None
        raise


UserDep = Annotated[Any, Depends(signed_in_user)]


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(_portal)]


def _authorizer(portal: PortalDep, user: UserDep) -> Authorizer:
    try:
        namespaces = portal.namespaces()
    except NamespaceAccessError as exc:
        raise ApiError(500, f"the portal is misconfigured: {exc}") from None
    return Authorizer(portal.auth_manager(), user, namespaces)


AuthDep = Annotated[Authorizer, Depends(_authorizer)]


async def _body(request: Request) -> Any:
    """The request body as data: JSON, or YAML with a YAML content type; size-checked before parsing."""
    raw = await request.body()
    portal: Portal = request.app.state.portal
    limit = portal.policy.max_spec_bytes * 2 + 4096  # room for the envelope and JSON escaping
    if len(raw) > limit:
        raise ApiError(413, f"the request body is {len(raw)} bytes; at most {limit} are accepted")
    if not raw.strip():
        raise invalid([Problem("", "the request body is empty; send a JSON object")], "invalid request")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = "yaml" if content_type in YAML_TYPES else "json"
    try:
        return parse_document(raw, source="<request>", fmt=fmt)
    except SpecError as err:
        raise invalid(err.problems, "the request body cannot be read") from None


BodyDep = Annotated[Any, Depends(_body)]


# helpers ---------------------------------------------------------------------------------------
def _iso(value: datetime) -> str:
    return value.isoformat()


def _require_read(authz: Authorizer, spec_id: str) -> None:
    if not authz.can_read(spec_id):
        raise ApiError(403, f"{authz.user_name} may not read spec {spec_id}")


def _require_write(authz: Authorizer, spec_id: str) -> None:
    if not authz.can_write(spec_id):
        raise ApiError(403, f"{authz.user_name} may not change spec {spec_id}")


def _call(fn: Callable[[], Any]) -> Any:
    """Run a store call; its errors become API errors."""
    try:
        return fn()
    except StoreError as err:
        raise _store_errors(err) from None


def _summary(stored: StoredSpec, loader: dict[str, Any]) -> dict[str, Any]:
    spec = stored.spec
    return {
        "spec_id": stored.id,
        "namespace": stored.namespace,
        "name": stored.name,
        "revision": stored.revision,
        "author": stored.author,
        "updated_at": _iso(stored.updated_at),
        "paused": stored.paused,
        "deleted": stored.deleted,
        "description": spec.get("description"),
        "owner": spec.get("owner"),
        "tags": list(spec.get("tags") or []),
        "schedule": spec.get("schedule"),
        "status": loader["status"],
        "status_reason": loader["reason"],
    }


def _matches_text(stored: StoredSpec, text: str) -> bool:
    needle = text.casefold()
    spec = stored.spec
    haystack = [stored.id, str(spec.get("description") or ""), str(spec.get("owner") or "")]
    haystack += [str(t) for t in spec.get("tags") or []]
    haystack += [str(t.get("id", "")) for t in spec.get("tasks") or [] if isinstance(t, dict)]
    return any(needle in item.casefold() for item in haystack)


def _envelope(data: Any, keys: dict[str, bool]) -> dict[str, Any]:
    """``data`` as a JSON object with only ``keys`` (name -> required); else 422 naming the key."""
    if not isinstance(data, dict):
        raise invalid([Problem("", "the request body must be a JSON object")], "invalid request")
    problems = [Problem(k, "unknown key (expected " + ", ".join(keys) + ")") for k in data if k not in keys]
    problems += [Problem(k, "required") for k, required in keys.items() if required and k not in data]
    if problems:
        raise invalid(problems, "invalid request")
    return data


def _expected(data: dict[str, Any], key: str = "expected_revision") -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(
            [Problem(key, "must be a revision number (0: must not exist yet) or null")], "invalid request"
        )
    return value


def _candidate(data: dict[str, Any]) -> Any:
    """The spec of an ``{"spec": {...}}`` or ``{"spec_text": "yaml"}`` envelope."""
    if "spec" in data and "spec_text" in data:
        raise invalid([Problem("spec_text", "give either spec or spec_text, not both")], "invalid request")
    if "spec_text" in data:
        text = data["spec_text"]
        if not isinstance(text, str):
            raise invalid([Problem("spec_text", "must be YAML or JSON text")], "invalid request")
        try:
            return parse_document(text, source="<spec_text>", fmt="yaml")
        except SpecError as err:
            raise invalid([Problem("spec_text", p.message) for p in err.problems], "invalid spec") from None
    if "spec" not in data:
        raise invalid([Problem("spec", "required")], "invalid request")
    return data["spec"]


def _check_spec_id(candidate: Any, spec_id: str) -> None:
    if not isinstance(candidate, dict):
        raise invalid(
            [Problem("", "a spec must be a JSON object")], "the spec is invalid; nothing was stored"
        )
    namespace, name = candidate.get("namespace"), candidate.get("name")
    if isinstance(namespace, str) and isinstance(name, str) and f"{namespace}.{name}" != spec_id:
        raise invalid(
            [Problem("name", f"the spec is {namespace}.{name} (namespace.name) but the URL names {spec_id}")],
            "the spec does not match the URL; nothing was stored",
            spec_id=spec_id,
        )


def _revision(store: ScheduleStore, spec_id: str, number: int) -> SpecRevision:
    """Revision N as stored (a damaged one with ``damaged`` set); 404 naming the revisions there are."""
    return _call(lambda: find_revision(store, spec_id, number, readable=False))  # type: ignore[no-any-return]


def _after_write(
    portal: Portal,
    session: Session,
    authz: Authorizer,
    spec_id: str,
    event: str,
    extra: dict[str, Any],
    *,
    paused: bool | None = None,
) -> dict[str, Any]:
    """Audit log, DAG paused flag and reparse request after a write to the store.

    The store write has committed; a failure here is logged and reported, never undoes it.
    """
    out: dict[str, Any] = {"reparse_requested": [], "warnings": []}
    try:
        airflow_db.audit(
            session, f"schedule_spec.{event}", user=authz.user_name, spec_id=spec_id, extra=extra
        )
        if paused is not None:
            airflow_db.set_dag_paused(session, spec_id, paused)
        files = airflow_db.loader_files(session, spec_id, portal.loader_view().loader_files())
        out["reparse_requested"] = airflow_db.request_reparse(session, files)
        session.commit()
    except Exception as exc:
        session.rollback()
        log.exception("Spec %s was written; recording it in Airflow (audit log, reparse) failed", spec_id)
        out["warnings"].append(
            f"the spec was stored, but Airflow was not told about it ({type(exc).__name__}); "
            "the DAG changes at the next periodic parse"
        )
    return out


def _apply_one(
    portal: Portal,
    session: Session,
    authz: Authorizer,
    spec_id: str,
    candidate: Any,
    expected: int | None,
    event: str,
    plan: ApplyPlan | None = None,
) -> tuple[dict[str, Any], bool]:
    """Plan (unless ``plan`` is given) and apply one spec; return the answer and whether the spec was
    created (or restored)."""
    store = portal.store()
    before = _call(lambda: store.get(spec_id, include_deleted=True))
    if plan is None:
        plan = _call(lambda: plan_apply(store, [candidate]))
    change = plan.changes[0]
    if change.spec_id != spec_id:  # pragma: no cover - _check_spec_id catches it before
        raise invalid([Problem("name", f"the spec is {change.spec_id}, not {spec_id}")], "spec mismatch")
    if expected is not None and expected != change.expected_revision:
        raise _conflict(ConflictError(spec_id, change.expected_revision, expected))
    revisions = _call(lambda: apply_plan(store, plan, author=authz.user_name))
    revision = revisions[spec_id]
    answer: dict[str, Any] = {
        "spec_id": spec_id,
        "revision": revision,
        "action": change.action.value,
        "previous_revision": change.expected_revision,
        "diff": change.diff,
        "author": authz.user_name,
    }
    if change.action is not Action.UNCHANGED:
        # Only a flip is pushed to the DAG (as the loader's pause sync does): an admin who unpaused
        # the DAG in Airflow's UI is not overruled by an unrelated edit.
        paused = change.spec.paused if change.spec is not None else None
        if before is not None and not before.deleted and before.paused == paused:
            paused = None
        answer |= _after_write(
            portal,
            session,
            authz,
            spec_id,
            event,
            {"revision": revision, "action": change.action.value},
            paused=paused,
        )
    return answer, change.action is Action.CREATE


def _state_change(
    portal: Portal, session: Session, authz: Authorizer, spec_id: str, action: str, expected: int | None
) -> dict[str, Any]:
    _require_write(authz, spec_id)
    store = portal.store()
    before = _call(lambda: store.require(spec_id))
    method = getattr(store, action)
    revision = _call(lambda: method(spec_id, author=authz.user_name, expected_revision=expected))
    answer: dict[str, Any] = {
        "spec_id": spec_id,
        "revision": revision,
        "changed": revision != before.revision,
    }
    if answer["changed"]:
        paused = {"pause": True, "resume": False}.get(action)
        answer |= _after_write(portal, session, authz, spec_id, action, {"revision": revision}, paused=paused)
    return answer


def _conf_problems(params: dict[str, Any], conf: Any) -> list[Problem]:
    """Problems of a trigger's ``conf`` against the spec's ``params`` (JSON Schemas)."""
    if not isinstance(conf, dict):
        return [Problem("conf", "must be a JSON object of param values")]
    import jsonschema  # Airflow's dependency; only a trigger needs it

    problems: list[Problem] = []
    names = ", ".join(sorted(params)) or "none"
    for key in conf:
        if key not in params:
            problems.append(Problem(f"conf.{key}", f"unknown param (the spec's params are: {names})"))
    for name, schema in params.items():
        if name not in conf:
            if isinstance(schema, dict) and "default" not in schema:
                problems.append(Problem(f"conf.{name}", "required: the param has no default"))
            continue
        validator_cls = jsonschema.validators.validator_for(schema)
        for err in validator_cls(schema).iter_errors(conf[name]):
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
            problems.append(Problem(f"conf.{name}{where}", err.message))
    return problems


# the app ---------------------------------------------------------------------------------------
def create_app(portal: Portal | None = None) -> FastAPI:
    """Build the Schedules API app (once per api-server process, on its first request).

    :param portal: shared state (default: everything from Airflow's configuration).
    """
    app = FastAPI(
        title="Schedules API",
        version=__version__,
        description=__doc__,
        # Every route needs Airflow's sign-in: the bearer JWT of /auth/token or the UI's cookie.
        dependencies=[Depends(signed_in_user)],
        # FastAPI serves these without the app's dependencies: off, and served behind sign-in below.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.portal = portal or Portal()
    _install_error_handlers(app)
    p = API_PREFIX

    @app.get(f"{p}/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get(f"{p}/specs")
    def list_specs(
        portal: PortalDep,
        authz: AuthDep,
        session: SessionDep,
        namespace: str | None = None,
        paused: bool | None = None,
        status: str | None = None,
        q: Annotated[
            str | None, Query(description="text in the id, description, owner, tags or task ids")
        ] = None,
        include_deleted: bool = False,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        """Specs the signed-in user may read, by id, with what the loader and Airflow did with them."""
        if status is not None and status not in (*STATUSES, "paused"):
            raise invalid(
                [Problem("status", f"unknown status {status!r}; one of {', '.join((*STATUSES, 'paused'))}")],
                "invalid request",
            )
        store = portal.store()
        specs = _call(lambda: store.list(namespace=namespace, paused=paused, include_deleted=include_deleted))
        readable = authz.readable(s.id for s in specs)
        view = portal.loader_view()
        rows = []
        for stored in specs:
            if stored.id not in readable or (q and not _matches_text(stored, q)):
                continue
            loader = view.of(stored)
            if status == "paused" and not stored.paused:
                continue
            if status is not None and status != "paused" and loader["status"] != status:
                continue
            rows.append(_summary(stored, loader))
        page = rows[offset : offset + limit]
        states = airflow_db.dag_states(session, [row["spec_id"] for row in page])
        for row in page:
            row["dag"] = states.get(row["spec_id"], airflow_db.MISSING).to_dict()
        return {"specs": page, "total_entries": len(rows)}

    @app.get(f"{p}/specs/{{spec_id}}")
    def get_spec(
        spec_id: str,
        portal: PortalDep,
        authz: AuthDep,
        session: SessionDep,
        revision: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """One spec: the current revision (deleted ones too, flagged) or revision N."""
        _require_read(authz, spec_id)
        store = portal.store()
        stored = _call(lambda: store.require(spec_id, include_deleted=True))
        answer = _summary(stored, portal.loader_view().of(stored))
        answer["current_revision"] = stored.revision
        answer["can_write"] = authz.can_write(spec_id)
        answer["dag"] = airflow_db.dag_states(session, [spec_id]).get(spec_id, airflow_db.MISSING).to_dict()
        spec = stored.spec
        if revision is not None and revision != stored.revision:
            rev = _revision(store, spec_id, revision)
            spec = rev.spec
            answer |= {
                "revision": rev.revision,
                "author": rev.author,
                "updated_at": _iso(rev.updated_at),
                "paused": rev.paused,
                "deleted": rev.deleted,
                "action": rev.action,
            }
        answer["spec"] = spec
        answer["spec_yaml"] = spec_to_yaml(spec)
        return answer

    @app.get(f"{p}/specs/{{spec_id}}/history")
    def history(
        spec_id: str, portal: PortalDep, authz: AuthDep, include_spec: bool = False
    ) -> dict[str, Any]:
        """Every revision, oldest first: who, when, what it did."""
        _require_read(authz, spec_id)
        store = portal.store()
        revisions = _call(lambda: store.history(spec_id))
        items = []
        for rev in revisions:
            item = {
                "revision": rev.revision,
                "action": rev.action,
                "author": rev.author,
                "updated_at": _iso(rev.updated_at),
                "paused": rev.paused,
                "deleted": rev.deleted,
            }
            if include_spec:
                item["spec"] = rev.spec
            items.append(item)
        return {"spec_id": spec_id, "revisions": items, "total_entries": len(items)}

    @app.get(f"{p}/specs/{{spec_id}}/diff")
    def diff_revisions(
        spec_id: str,
        portal: PortalDep,
        authz: AuthDep,
        from_revision: Annotated[int | None, Query(ge=1)] = None,
        to_revision: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """A unified diff (YAML) between two revisions (default: the previous one and the current one)."""
        _require_read(authz, spec_id)
        store = portal.store()
        revisions = {r.revision: r for r in _call(lambda: store.history(spec_id))}
        to_n = to_revision or max(revisions)
        from_n = from_revision if from_revision is not None else to_n - 1
        for label, number in (("to_revision", to_n), ("from_revision", from_n)):
            if number not in revisions and not (label == "from_revision" and number == 0):
                raise ApiError(404, f"spec {spec_id} has no revision {number}", spec_id=spec_id)
        old = revisions[from_n].spec if from_n in revisions else None
        text = unified_diff(spec_id, old, revisions[to_n].spec)
        return {"spec_id": spec_id, "from_revision": from_n, "to_revision": to_n, "diff": text}

    @app.post(f"{p}/specs/{{spec_id}}/diff")
    def diff_candidate(spec_id: str, portal: PortalDep, authz: AuthDep, body: BodyDep) -> dict[str, Any]:
        """What applying the posted spec would change (the spec is validated; nothing is stored)."""
        _require_read(authz, spec_id)
        data = _envelope(body, {"spec": False, "spec_text": False})
        candidate = _candidate(data)
        _check_spec_id(candidate, spec_id)
        plan = _call(lambda: plan_apply(portal.store(), [candidate]))
        change = plan.changes[0]
        return {
            "spec_id": spec_id,
            "from_revision": change.expected_revision,
            "action": change.action.value,
            "diff": change.diff,
        }

    @app.post(f"{p}/validate")
    def validate(portal: PortalDep, authz: AuthDep, body: BodyDep) -> dict[str, Any]:
        """Validate a spec (JSON, or YAML with a YAML content type) as an apply would; nothing is stored."""
        store = portal.store()
        try:
            spec = store.validate(body)
        except SpecError as err:
            return {"valid": False, "spec_id": err.spec_id, "problems": problems_json(err.problems)}
        problems = []
        if not authz.may_use_namespace(spec.namespace):
            problems.append(
                Problem("namespace", f"{authz.user_name} may not write specs in namespace {spec.namespace!r}")
            )
        return {"valid": not problems, "spec_id": spec.dag_id, "problems": problems_json(problems)}

    @app.put(f"{p}/specs/{{spec_id}}")
    def apply(
        spec_id: str, portal: PortalDep, authz: AuthDep, session: SessionDep, body: BodyDep
    ) -> JSONResponse:
        """Create or update a spec; 201 when created (or restored), 200 when updated or unchanged."""
        _require_write(authz, spec_id)
        data = _envelope(body, {"spec": False, "spec_text": False, "expected_revision": False})
        candidate = _candidate(data)
        expected = _expected(data)
        _check_spec_id(candidate, spec_id)
        answer, created = _apply_one(portal, session, authz, spec_id, candidate, expected, "apply")
        return JSONResponse(answer, status_code=201 if created else 200)

    @app.delete(f"{p}/specs/{{spec_id}}")
    def delete(
        spec_id: str,
        portal: PortalDep,
        authz: AuthDep,
        session: SessionDep,
        expected_revision: Annotated[int | None, Query(ge=0)] = None,
    ) -> dict[str, Any]:
        """Delete a spec (soft: its history stays and ``restore`` brings it back)."""
        return _state_change(portal, session, authz, spec_id, "delete", expected_revision)

    def state_route(action: str) -> Callable[..., dict[str, Any]]:
        def route(
            spec_id: str, portal: PortalDep, authz: AuthDep, session: SessionDep, request: Request
        ) -> dict[str, Any]:
            return _state_change(portal, session, authz, spec_id, action, request.state.expected)

        route.__name__ = action
        route.__doc__ = f"{action.capitalize()} a spec (a new revision; a no-op when it already is)."
        return route

    async def optional_expected(request: Request) -> None:
        raw = await request.body()
        request.state.expected = None
        if raw.strip():
            data = _envelope(parse_json(raw), {"expected_revision": False})
            request.state.expected = _expected(data)

    for action in ("pause", "resume"):
        app.post(f"{p}/specs/{{spec_id}}/{action}", dependencies=[Depends(optional_expected)])(
            state_route(action)
        )

    @app.post(f"{p}/specs/{{spec_id}}/restore", dependencies=[Depends(optional_expected)])
    def restore(
        spec_id: str, portal: PortalDep, authz: AuthDep, session: SessionDep, request: Request
    ) -> dict[str, Any]:
        """Bring a deleted spec back as a new revision with the content it had when deleted."""
        _require_write(authz, spec_id)
        stored = _call(lambda: portal.store().require(spec_id, include_deleted=True))
        if not stored.deleted:
            raise ApiError(
                409,
                f"spec {spec_id} is not deleted (revision {stored.revision})",
                spec_id=spec_id,
                expected_revision=request.state.expected,
                current_revision=stored.revision,
            )
        expected = request.state.expected if request.state.expected is not None else stored.revision
        # a stored spec: a template without "@" was stored before versions and means @1
        spec = pin_template_versions(stored.spec)
        answer, _ = _apply_one(portal, session, authz, spec_id, spec, expected, "restore")
        return answer

    @app.post(f"{p}/specs/{{spec_id}}/rollback")
    def rollback(
        spec_id: str, portal: PortalDep, authz: AuthDep, session: SessionDep, body: BodyDep
    ) -> dict[str, Any]:
        """A new revision equal to revision N (validated against today's templates and limits)."""
        _require_write(authz, spec_id)
        data = _envelope(body, {"revision": True, "expected_revision": False})
        number = data["revision"]
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise invalid([Problem("revision", "must be a revision number")], "invalid request")
        expected = _expected(data)
        # store.rollback: revision N readable, validated under today's policy, planned by plan_apply
        rollback = _call(lambda: plan_rollback(portal.store(), spec_id, number))
        answer, _ = _apply_one(
            portal, session, authz, spec_id, rollback.target.spec, expected, "rollback", rollback.plan
        )
        answer["rolled_back_to"] = number
        return answer

    @app.post(f"{p}/specs/{{spec_id}}/trigger", status_code=201)
    def trigger(
        spec_id: str, portal: PortalDep, authz: AuthDep, session: SessionDep, body: BodyDep
    ) -> dict[str, Any]:
        """Start a run of the spec's DAG now; ``conf`` is checked against the spec's params first."""
        if not authz.can_trigger(spec_id):
            raise ApiError(403, f"{authz.user_name} may not trigger spec {spec_id}")
        data = _envelope(body, {"conf": False, "logical_date": False, "note": False})
        stored = _call(lambda: portal.store().require(spec_id))
        conf = data.get("conf") or {}
        problems = _conf_problems(dict(stored.spec.get("params") or {}), conf)
        logical_date = None
        if data.get("logical_date") is not None:
            try:
                logical_date = datetime.fromisoformat(str(data["logical_date"]))
                if logical_date.tzinfo is None:
                    raise ValueError
            except ValueError:
                problems.append(Problem("logical_date", "must be a date-time with a UTC offset, or null"))
        note = data.get("note")
        if note is not None and not isinstance(note, str):
            problems.append(Problem("note", "must be text"))
        if problems:
            raise invalid(problems, "the run was not started", spec_id=spec_id)
        try:
            run = airflow_db.trigger_run(
                session, spec_id, conf=conf, user=authz.user_name, logical_date=logical_date, note=note
            )
        except airflow_db.DagNotInAirflowError:
            raise ApiError(
                409,
                f"Airflow has no DAG {spec_id} yet (loader status: "
                f"{portal.loader_view().of(stored)['status']}); try again when the loader has parsed it",
                spec_id=spec_id,
            ) from None
        except ValueError as exc:
            raise invalid([Problem("conf", str(exc))], "Airflow refused the run", spec_id=spec_id) from None
        airflow_db.audit(
            session,
            "schedule_spec.trigger",
            user=authz.user_name,
            spec_id=spec_id,
            extra={"run_id": run["run_id"]},
        )
        session.commit()
        return {"spec_id": spec_id, "dag_id": spec_id, **run}

    @app.get(f"{p}/specs/{{spec_id}}/runs")
    def runs(
        spec_id: str,
        authz: AuthDep,
        session: SessionDep,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 25,
    ) -> dict[str, Any]:
        """The latest runs of the spec's DAG, newest first."""
        if not authz.can_read_runs(spec_id):
            raise ApiError(403, f"{authz.user_name} may not read the runs of spec {spec_id}")
        items, total = airflow_db.recent_runs(session, spec_id, limit)
        return {"spec_id": spec_id, "dag_runs": items, "total_entries": total}

    @app.get(f"{p}/schema")
    def schema(portal: PortalDep, authz: AuthDep, namespace: str | None = None) -> dict[str, Any]:
        """The JSON Schema of a spec; with ``namespace``, only what that namespace may use."""
        if namespace is not None and not authz.may_use_namespace(namespace):
            raise ApiError(403, f"{authz.user_name} may not use namespace {namespace!r}")
        return spec_json_schema(portal.registry, portal.policy, namespace=namespace)

    @app.get(f"{p}/me")
    def me(portal: PortalDep, authz: AuthDep) -> dict[str, Any]:
        """The signed-in user, and the namespaces they may use (``all_namespaces``: any namespace)."""
        access = authz.namespaces
        known = {s.namespace for s in _call(lambda: portal.store().list())} | set(access.listed_namespaces())
        return {
            "user": authz.user_name,
            "roles": sorted(authz.principal.roles),
            "groups": sorted(authz.principal.groups),
            "namespace_access_configured": access.restricted,
            "all_namespaces": access.allows_unlisted(authz.principal),
            "namespaces": sorted(ns for ns in known if authz.may_use_namespace(ns)),
            "store": redact_uri(portal.store_uri),
        }

    # The UI pages' files (plugin/ui), behind sign-in like every route; before the catch-all below.
    app.include_router(static_router(signed_in_user))

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def not_found(path: str) -> None:
        """Anything else: 404 after sign-in (and 401 before it), never the UI's HTML."""
        raise ApiError(404, f"no route /schedules/{path}; see /schedules{API_PREFIX}/openapi.json")

    return app


def parse_json(raw: bytes) -> Any:
    try:
        return parse_document(raw, source="<request>", fmt="json")
    except SpecError as err:
        raise invalid(err.problems, "the request body cannot be read") from None
