"""The DAG factory: stored schedule specs become Airflow DAGs.

- :func:`build_dag` (pure): one validated spec -> one ``DAG``.
- :func:`load_schedules`: the dags-folder loader (local snapshot + bounded incremental refresh).

Importing this package is cheap (no Airflow import); Airflow is imported when DAGs are built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.factory.loader import LoadResult, load_schedules, shard_of

if TYPE_CHECKING:
    from airflow_provider_scheduler.factory.build import SpecBuildError, build_dag

__all__ = ["LoadResult", "SpecBuildError", "build_dag", "load_schedules", "shard_of"]


def __getattr__(name: str) -> Any:
    if name in ("build_dag", "SpecBuildError"):
        # build imports the spec package; the loader module is imported on every parse without it
        from airflow_provider_scheduler.factory import build

        return getattr(build, name)
    raise AttributeError(name)
