"""What the portal reads from and writes to Airflow's metadata database (Airflow 3.1+, api-server only).

Each function takes the request's SQLAlchemy session (``SessionDep``) and does a few indexed queries:

- :func:`dag_states`: per DAG id, whether Airflow has the DAG, its paused flag, next run and last run.
- :func:`recent_runs`: a DAG's latest runs with their states.
- :func:`request_reparse`: a ``DagPriorityParsingRequest`` for each loader file that holds (or would
  hold) a spec, the same row the UI's Reparse button stores, so the DAG processor parses those files
  ahead of its periodic queue and an applied spec shows up in seconds.
- :func:`set_dag_paused`: the DAG's paused flag, set with the spec's (the loader's pause sync does the
  same through the REST API later; both are idempotent).
- :func:`audit`: one row of Airflow's audit log (``Log``) per write.
- :func:`trigger_run`: a manual DAG run through Airflow's own ``trigger_dag``.

This module imports Airflow's models at module import; only the API module imports it, and that is
built on the api-server's first request to the portal, never in the other Airflow processes.
"""

from __future__ import annotations

import inspect
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.api.common.trigger_dag import trigger_dag
from airflow.exceptions import DagNotFound, ParamValidationError
from airflow.models.dag import DagModel, DagTag
from airflow.models.dagbag import DagPriorityParsingRequest
from airflow.models.dagrun import DagRun
from airflow.models.log import Log
from airflow.utils.types import DagRunTriggeredByType
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: The tag build_dag puts on every generated DAG (``namespace:<namespace>``).
NAMESPACE_TAG_PREFIX = "namespace:"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class DagState:
    """What Airflow knows about one generated DAG.

    :param exists: Airflow has the DAG and it is not stale (its file still defines it).
    :param next_run: when the next scheduled run will be created (``next_dagrun_create_after``).
    :param last_run: the latest run: ``run_id``, ``state``, ``run_after``, ``logical_date``.
    """

    exists: bool
    is_paused: bool | None = None
    next_run: str | None = None
    last_run: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "exists": self.exists,
            "is_paused": self.is_paused,
            "next_run": self.next_run,
            "last_run": self.last_run,
        }


MISSING = DagState(exists=False)


def dag_states(session: Session, dag_ids: Iterable[str]) -> dict[str, DagState]:
    """Airflow's state of each of ``dag_ids`` (two queries, whatever the number of ids)."""
    ids = sorted(set(dag_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            DagModel.dag_id, DagModel.is_paused, DagModel.is_stale, DagModel.next_dagrun_create_after
        ).where(DagModel.dag_id.in_(ids))
    ).all()
    latest = (
        select(func.max(DagRun.id)).where(DagRun.dag_id.in_(ids)).group_by(DagRun.dag_id).scalar_subquery()
    )
    runs = session.execute(
        select(DagRun.dag_id, DagRun.run_id, DagRun.state, DagRun.run_after, DagRun.logical_date).where(
            DagRun.id.in_(latest)
        )
    ).all()
    last = {
        r.dag_id: {
            "run_id": r.run_id,
            "state": str(r.state) if r.state is not None else None,
            "run_after": _iso(r.run_after),
            "logical_date": _iso(r.logical_date),
        }
        for r in runs
    }
    out = {}
    for row in rows:
        out[row.dag_id] = DagState(
            exists=not row.is_stale,
            is_paused=bool(row.is_paused),
            next_run=_iso(row.next_dagrun_create_after) if not row.is_paused else None,
            last_run=last.get(row.dag_id),
        )
    return out


def recent_runs(session: Session, dag_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The latest ``limit`` runs of ``dag_id`` (newest first) and how many runs it has."""
    total = session.scalar(select(func.count()).select_from(DagRun).where(DagRun.dag_id == dag_id)) or 0
    rows = session.scalars(
        select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(limit)
    ).all()
    return [run_dict(run) for run in rows], int(total)


def run_dict(run: Any) -> dict[str, Any]:
    """The JSON shape of one DAG run in the portal's answers."""
    return {
        "run_id": run.run_id,
        "state": str(run.state) if run.state is not None else None,
        "run_type": str(run.run_type) if run.run_type is not None else None,
        "logical_date": _iso(run.logical_date),
        "run_after": _iso(run.run_after),
        "start_date": _iso(run.start_date),
        "end_date": _iso(run.end_date),
        "conf": run.conf,
        "triggering_user_name": getattr(run, "triggering_user_name", None),
    }


def _bundle_relative(path: str) -> tuple[str, str] | None:
    """``(bundle_name, relative_fileloc)`` of an absolute loader path inside a local DAG bundle."""
    try:
        from airflow.dag_processing.bundles.manager import DagBundlesManager

        bundles = list(DagBundlesManager().get_all_dag_bundles())
    except Exception:  # bundles this process cannot construct: no file from the bundles then
        log.debug("Could not list the DAG bundles", exc_info=True)
        return None
    target = Path(path)
    for bundle in bundles:
        try:
            root = Path(bundle.path)
            return bundle.name, str(target.relative_to(root))
        except Exception:  # not under this bundle, or a bundle without a local path
            continue
    return None


def loader_files(session: Session, spec_id: str, status_loader_paths: Iterable[str]) -> set[tuple[str, str]]:
    """The ``(bundle_name, relative_fileloc)`` of the loader files that hold, or would hold, ``spec_id``.

    The spec's DAG when Airflow has it; else every file that defines DAGs of the spec's namespace; else
    every file that defines generated DAGs plus the loader files named in the loader status files
    (a loader that has loaded nothing yet has no DAG row to find it by).
    """
    row = session.execute(
        select(DagModel.bundle_name, DagModel.relative_fileloc).where(DagModel.dag_id == spec_id)
    ).first()
    if row is not None and row.relative_fileloc:
        return {(row.bundle_name, row.relative_fileloc)}
    namespace = spec_id.partition(".")[0]

    def files_tagged(condition: Any) -> set[tuple[str, str]]:
        rows = session.execute(
            select(DagModel.bundle_name, DagModel.relative_fileloc)
            .distinct()
            .join(DagTag, DagTag.dag_id == DagModel.dag_id)
            .where(condition, DagModel.relative_fileloc.is_not(None))
        ).all()
        return {(r.bundle_name, r.relative_fileloc) for r in rows}

    same_namespace = files_tagged(DagTag.name == NAMESPACE_TAG_PREFIX + namespace)
    if same_namespace:
        return same_namespace
    files = files_tagged(DagTag.name.like(NAMESPACE_TAG_PREFIX + "%"))
    paths = sorted({p for p in status_loader_paths if p})
    if paths:
        known = session.execute(
            select(DagModel.fileloc, DagModel.bundle_name, DagModel.relative_fileloc).where(
                DagModel.fileloc.in_(paths)
            )
        ).all()
        found = {r.fileloc: (r.bundle_name, r.relative_fileloc) for r in known if r.relative_fileloc}
        for path in paths:
            entry = found.get(path) or _bundle_relative(path)
            if entry is not None:
                files.add(entry)
    return files


def request_reparse(session: Session, files: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """Store a parsing request for each file not already requested; return the files requested.

    The DAG processor deletes a request when it has queued the file, so at most one per file exists;
    a concurrent request for the same file (unique key) is the same request and is ignored.
    """
    requested = []
    for bundle_name, relative_fileloc in sorted(set(files)):
        exists = session.scalar(
            select(func.count())
            .select_from(DagPriorityParsingRequest)
            .where(
                DagPriorityParsingRequest.bundle_name == bundle_name,
                DagPriorityParsingRequest.relative_fileloc == relative_fileloc,
            )
        )
        if not exists:
            try:
                with session.begin_nested():
                    session.add(
                        DagPriorityParsingRequest(bundle_name=bundle_name, relative_fileloc=relative_fileloc)
                    )
            except IntegrityError:  # another request stored the same row meanwhile
                pass
        requested.append({"bundle_name": bundle_name, "relative_fileloc": relative_fileloc})
    return requested


def set_dag_paused(session: Session, dag_id: str, paused: bool) -> bool:
    """Set the DAG's paused flag if Airflow has the DAG; return whether it had it."""
    dag = session.get(DagModel, dag_id)
    if dag is None:
        return False
    dag.is_paused = paused
    return True


def audit(session: Session, event: str, *, user: str, spec_id: str, extra: dict[str, Any]) -> None:
    """Add an audit-log row (Browse > Audit Log in the UI) for a write through the portal."""
    session.add(Log(event=event, owner=user, dag_id=spec_id, extra=json.dumps(extra, default=str)))


class DagNotInAirflowError(LookupError):
    """The spec's DAG is not (yet) in Airflow, so it cannot be triggered."""


def trigger_run(
    session: Session,
    dag_id: str,
    *,
    conf: dict[str, Any],
    user: str,
    logical_date: datetime | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Create a manual run of ``dag_id`` the way ``POST /api/v2/dags/{dag_id}/dagRuns`` does.

    :raises DagNotInAirflowError: Airflow has no (serialized) DAG of that id yet.
    :raises ValueError: Airflow refused the conf (its own Param validation).
    """
    dag = session.get(DagModel, dag_id)
    if dag is None or dag.is_stale:
        raise DagNotInAirflowError(dag_id)
    kwargs: dict[str, Any] = {}
    if note and "note" in inspect.signature(trigger_dag).parameters:  # Airflow 3.2+
        kwargs["note"] = note
    try:
        run = trigger_dag(
            dag_id,
            triggered_by=DagRunTriggeredByType.REST_API,
            triggering_user_name=user,
            conf=conf,
            logical_date=logical_date,
            session=session,
            **kwargs,
        )
    except DagNotFound:
        raise DagNotInAirflowError(dag_id) from None
    except ParamValidationError as exc:
        raise ValueError(str(exc)) from None
    if run is None:  # pragma: no cover - trigger_dag returns None only for an unknown DAG
        raise DagNotInAirflowError(dag_id)
    return run_dict(run)
