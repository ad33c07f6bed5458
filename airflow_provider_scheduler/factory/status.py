"""What each loader file did on its last parse, readable by admins (``airflow-scheduler status``).

A loader cannot raise an import error for one bad spec without dropping every other DAG of its file,
so it records per-spec problems here (and logs ``spec <id>: <reason>``). One JSON file per loader
file (and namespace/shard), next to the snapshot:
``$AIRFLOW_HOME/schedule_specs_snapshot/<store key>.status.<loader key>.json``, replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.factory.snapshot import snapshot_dir, store_key
from airflow_provider_scheduler.spec.dates import date_from_canonical, end_of_day
from airflow_provider_scheduler.store.atomic_file import write_atomic

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator, Mapping
    from pathlib import Path


def loader_key(loader_file: str | None, namespace: Any, shard: Any) -> str:
    """A stable key for one loader: its file, namespace filter and shard."""
    text = json.dumps([loader_file, namespace, shard], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def status_path(store_uri: str, key: str, home: str | os.PathLike[str] | None = None) -> Path:
    return snapshot_dir(home) / f"{store_key(store_uri)}.status.{key}.json"


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Write one loader's status atomically."""
    # Rewritten on every parse and only informative: atomic, but not fsynced.
    write_atomic(path, json.dumps(status, indent=1, sort_keys=True), durable=False)


def read_statuses(
    store_uri: str | None = None, home: str | os.PathLike[str] | None = None
) -> Iterator[dict[str, Any]]:
    """The status of every loader (of ``store_uri`` only, when given), oldest file name first."""
    folder = snapshot_dir(home)
    if not folder.is_dir():
        return
    pattern = f"{store_key(store_uri)}.status.*.json" if store_uri else "*.status.*.json"
    for path in sorted(folder.glob(pattern)):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            data["status_file"] = str(path)
            yield data


def spec_state(spec: Mapping[str, Any], paused: bool, now: datetime | None = None) -> str:
    """A stored spec's state in one word, for ``airflow-scheduler list``.

    ``finished``: a ``@once`` spec whose run has ended (``ScheduleStore.finish`` set its ``end_date``);
    ``ended``: another spec whose ``end_date`` has passed (no more runs); else ``paused`` or ``active``.
    The loader drops finished and ended specs (:func:`~.loader.drop_reason`), so their DAGs leave Airflow.

    :param spec: the canonical spec dict (``StoredSpec.spec``).
    :param paused: the stored paused flag.
    :param now: the instant to compare ``end_date`` with (default: now).
    """
    end_text = spec.get("end_date")
    if isinstance(end_text, str):
        try:
            schedule = spec.get("schedule")
            tz = schedule.get("timezone") if isinstance(schedule, dict) else None
            end = end_of_day(date_from_canonical(end_text), tz if isinstance(tz, str) else "UTC")
        except (ValueError, KeyError):  # a damaged row: no end (zoneinfo's not-found is a KeyError)
            end = None
        if end is not None and (now or datetime.now(UTC)) >= end:
            return "finished" if spec.get("schedule") == "@once" else "ended"
    return "paused" if paused else "active"
