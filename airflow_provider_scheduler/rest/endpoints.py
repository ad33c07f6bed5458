"""What the Airflow REST API's endpoints look like: paths, query parameters, run objects, UI URLs.

The same on both transports; v2 is Airflow 3's API, v1 Airflow 2.x's.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


def api_path(version: str, *segments: str) -> str:
    """``/api/<version>/<segment>/...`` with every segment percent-encoded (run ids contain ``+``, ``:``)."""
    return f"/api/{version}/" + "/".join(quote(str(segment), safe="") for segment in segments)


def health_path(version: str) -> str:
    """The health endpoint (no credentials needed)."""
    return "/api/v2/monitor/health" if version == "v2" else "/api/v1/health"


def reparse_path(file_token: str) -> str:
    """Airflow 3's "reparse this DAG file" endpoint (the UI's Reparse button) for a DAG's ``file_token``."""
    return "/api/v2/parseDagFile/" + quote(file_token, safe="")


def ui_run_url(base_url: str, version: str, dag_id: str, run_id: str) -> str:
    """The web UI page of a DAG run.

    Airflow 3: ``{base}/dags/{dag_id}/runs/{run_id}``; 2.x: ``{base}/dags/{dag_id}/grid?dag_run_id=``.
    """
    if version == "v2":
        return f"{base_url}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
    return f"{base_url}/dags/{quote(dag_id, safe='')}/grid?{urlencode({'dag_run_id': run_id})}"


#: the backfill API's ``reprocess_behavior`` values (what to do with dates that already have a run)
REPROCESS_BEHAVIOURS = ("none", "failed", "completed")


def isoformat(value: datetime | str) -> str:
    """ISO 8601 for the API; a naive datetime is taken as UTC."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def generate_run_id(now: datetime | None = None) -> str:
    """A fresh run id (``scheduler__<UTC ISO time>_<8 hex>``) so a retried trigger cannot run twice."""
    now = now or datetime.now(UTC)
    return f"scheduler__{now.isoformat()}_{secrets.token_hex(4)}"


def list_runs_params(
    version: str,
    *,
    state: str | Iterable[str] | None = None,
    limit: int = 100,
    offset: int = 0,
    order_by: str | None = None,
    logical_date_gte: datetime | str | None = None,
    logical_date_lte: datetime | str | None = None,
) -> list[tuple[str, str]]:
    """Query parameters of list-DAG-runs; newest first unless ``order_by`` says otherwise."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    params: list[tuple[str, str]] = [
        ("limit", str(int(limit))),
        ("offset", str(int(offset))),
        ("order_by", order_by or ("-run_after" if version == "v2" else "-execution_date")),
    ]
    if state is not None:
        params.extend(("state", value) for value in ([state] if isinstance(state, str) else state))
    date_key = "logical_date" if version == "v2" else "execution_date"
    if logical_date_gte is not None:
        params.append((f"{date_key}_gte", isoformat(logical_date_gte)))
    if logical_date_lte is not None:
        params.append((f"{date_key}_lte", isoformat(logical_date_lte)))
    return params


def normalize_dag_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of an API DAG-run object with the same keys on API v1 and v2.

    ``dag_run_id`` (v1/v2 ``dag_run_id``, else ``run_id``), ``dag_id``, ``state`` (lower-case string or
    ``None``), ``logical_date`` (v2 ``logical_date``, v1 ``logical_date`` or ``execution_date``; may be
    ``None`` on Airflow 3), ``conf``, ``start_date``, ``end_date``, ``note`` always exist; every other
    key the server sent is kept unchanged.
    """
    normalized = dict(run)
    normalized["dag_run_id"] = run.get("dag_run_id") or run.get("run_id")
    normalized.setdefault("dag_id", None)
    state = run.get("state")
    normalized["state"] = str(state).lower() if state is not None else None
    if "logical_date" not in run or (run.get("logical_date") is None and run.get("execution_date")):
        normalized["logical_date"] = run.get("execution_date")
    for key in ("conf", "start_date", "end_date", "note"):
        normalized.setdefault(key, None)
    return normalized


def normalize_dag_runs(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Normalise the ``dag_runs`` list of a list-DAG-runs answer (v1 and v2 share that shape)."""
    return [normalize_dag_run(run) for run in payload.get("dag_runs", [])]
