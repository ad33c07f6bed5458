"""What the dags-folder loaders did with each spec, as the portal reports it.

The loaders write one status file per loader file on every parse (:mod:`..factory.status`); the
api-server reads them from ``$AIRFLOW_HOME/schedule_specs_snapshot/`` (the same folder when the
components share AIRFLOW_HOME, as on one machine or a shared volume). Per spec the answer is one of:

``loaded``      a loader built its DAG on its last parse (after the spec's latest revision);
``pending``     the spec changed after the loaders' last parse: the next parse picks it up;
``failed``      a loader could not build it (``reason`` says why, e.g. a template disabled since);
``dropped``     a loader left it out on purpose (``reason``: expired, ``@once`` finished);
``not_loaded``  no loader selects it (namespace filters or shards leave it out);
``deleted``     the spec is deleted;
``unknown``     no loader status is readable here (no loader has run, or another machine's disk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.factory.status import read_statuses

if TYPE_CHECKING:
    import os

    from airflow_provider_scheduler.store.base import StoredSpec

STATUSES = ("loaded", "pending", "failed", "dropped", "not_loaded", "deleted", "unknown")


def _parsed_at(status: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(status.get("parsed_at")))
    except ValueError:
        return None


@dataclass(frozen=True)
class LoaderView:
    """The loader statuses of one store, read once per request.

    :param statuses: the status dicts (``read_statuses``).
    """

    statuses: tuple[dict[str, Any], ...]

    @classmethod
    def read(cls, store_uri: str, home: str | os.PathLike[str] | None = None) -> LoaderView:
        return cls(tuple(read_statuses(store_uri, home)))

    def loader_files(self) -> list[str]:
        """The loader files (absolute paths) that reported on this store."""
        return sorted({str(s["loader"]) for s in self.statuses if s.get("loader")})

    def of(self, stored: StoredSpec) -> dict[str, Any]:
        """``{"status", "reason", "loaders"}`` for one stored spec."""
        if stored.deleted:
            return {"status": "deleted", "reason": None, "loaders": []}
        if not self.statuses:
            return {
                "status": "unknown",
                "reason": "no loader status is readable on this api-server (no loader has parsed yet, "
                "or the DAG processor runs with another AIRFLOW_HOME)",
                "loaders": [],
            }
        spec_id = stored.id
        written = stored.updated_at.replace(microsecond=0)
        for status in self.statuses:
            reason = (status.get("errors") or {}).get(spec_id)
            if reason is not None:
                return {"status": "failed", "reason": str(reason), "loaders": [status.get("loader")]}
        loaders = [s for s in self.statuses if spec_id in (s.get("dag_ids") or [])]
        dropped = [s for s in self.statuses if spec_id in (s.get("dropped") or {})]
        latest = max((p for p in map(_parsed_at, self.statuses) if p is not None), default=None)
        if latest is not None and written > latest:
            return {
                "status": "pending",
                "reason": f"revision {stored.revision} was written after the loaders' last parse "
                f"({latest.isoformat()})",
                "loaders": [s.get("loader") for s in loaders],
            }
        if loaders:
            return {"status": "loaded", "reason": None, "loaders": [s.get("loader") for s in loaders]}
        if dropped:
            status = dropped[0]
            return {
                "status": "dropped",
                "reason": str(status["dropped"][spec_id]),
                "loaders": [status.get("loader")],
            }
        return {
            "status": "not_loaded",
            "reason": "no loader file selects this spec (check the loaders' namespace and shard filters)",
            "loaders": [],
        }
