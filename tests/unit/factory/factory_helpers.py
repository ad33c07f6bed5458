"""Helpers for the factory tests: a SQLite spec store, a temp dags folder with loader files, DagBag."""

from __future__ import annotations

import copy
import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

LOADER = """\
# airflow DAG file: loads schedule specs as DAGs
from airflow_provider_scheduler.factory import load_schedules

load_schedules(globals(), **LOADER_KWARGS)
"""


def make_spec(name: str, namespace: str = "team", **overrides: Any) -> dict[str, Any]:
    """A small valid spec (cron, 4 tasks in a diamond)."""
    spec: dict[str, Any] = {
        "version": 1,
        "namespace": namespace,
        "name": name,
        "owner": "alice@example.com",
        "schedule": "0 6 * * *",
        "start_date": "2026-01-01",
        "defaults": {"retries": 2},
        "tasks": [
            {"id": "extract", "template": "empty"},
            {"id": "left", "template": "empty", "depends_on": ["extract"]},
            {"id": "right", "template": "empty", "depends_on": ["extract"]},
            {"id": "load", "template": "empty", "depends_on": ["left", "right"]},
        ],
    }
    spec.update(copy.deepcopy(overrides))
    return spec


def dagbag(path: Path) -> Any:
    """Airflow's own DagBag on ``path`` (3.x location first, then 2.x)."""
    try:
        from airflow.dag_processing.dagbag import DagBag

        return DagBag(dag_folder=str(path))
    except ImportError:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

        return DagBag(dag_folder=str(path), include_examples=False)  # type: ignore[call-arg]


class Env:
    """A spec store + AIRFLOW_HOME-like folder + dags folder for one test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.dags = root / "dags"
        self.home.mkdir()
        self.dags.mkdir()
        self.db = root / "specs.db"
        self.store_uri = f"sqlite:///{self.db}"

    def store(self) -> Any:
        from airflow_provider_scheduler.store import open_store

        return open_store(self.store_uri)

    def put(self, *specs: dict[str, Any]) -> None:
        store = self.store()
        try:
            store.put_many(list(specs), author="test")
        finally:
            store.close()

    def loader(self, name: str = "schedules.py", **kwargs: Any) -> Path:
        kwargs.setdefault("store", self.store_uri)
        kwargs.setdefault("home", str(self.home))
        path = self.dags / name
        path.write_text(f"LOADER_KWARGS = {kwargs!r}\n" + textwrap.dedent(LOADER))
        return path

    def snapshot(self, store_uri: str | None = None) -> Path:
        from airflow_provider_scheduler.factory.snapshot import snapshot_path

        return snapshot_path(store_uri or self.store_uri, self.home)

    def statuses(self, store_uri: str | None = None) -> list[dict[str, Any]]:
        from airflow_provider_scheduler.factory.status import read_statuses

        return list(read_statuses(store_uri or self.store_uri, self.home))
