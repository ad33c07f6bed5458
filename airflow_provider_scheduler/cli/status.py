"""``airflow-scheduler status``: what the dags-folder loaders did on their last parse.

Shows, per loader file (and namespace/shard), when it last parsed, whether the refresh from the
store worked, how many DAGs it loaded, and every spec that could not be built (``spec <id>:
<reason>``: a build error, a spec the store could not read, a spec the current templates or policy
refuse). Specs loaded by more than one loader file are reported as duplicates, and a damaged local
snapshot with whether it was rebuilt. Exit status 1 when any loader reports a spec error, a failed
refresh, a damaged snapshot or a duplicate; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from airflow_provider_scheduler.factory.status import read_statuses
from airflow_provider_scheduler.store.uri import redact_text, redact_uri


def add_status_command(subparsers: Any) -> None:
    """Add ``status`` to ``subparsers`` (``ArgumentParser.add_subparsers()``); sets ``func``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "status",
        help="show what the DAG loaders did on their last parse (loaded DAGs, spec errors, refresh)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--store",
        metavar="URI",
        default=None,
        help="only loaders of this store (default: every store the loaders of this AIRFLOW_HOME read)",
    )
    parser.add_argument("--home", default=None, help="AIRFLOW_HOME holding schedule_specs_snapshot/")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=cmd_status)


def collect_status(store: str | None = None, home: str | None = None) -> dict[str, Any]:
    """Loader statuses plus the cross-loader duplicate check (``{"loaders": [...], "duplicates": {...}}``)."""
    loaders = list(read_statuses(store, home))
    for status in loaders:  # a status file written by an older version may hold a password
        for key in ("store", "message", "refresh"):
            if isinstance(status.get(key), str):
                status[key] = redact_uri(status[key]) if key == "store" else redact_text(status[key])
    owners: dict[str, list[str]] = {}
    for status in loaders:
        label = _label(status)
        for dag_id in status.get("dag_ids") or []:
            owners.setdefault(dag_id, []).append(label)
    duplicates = {dag_id: where for dag_id, where in sorted(owners.items()) if len(where) > 1}
    return {"loaders": loaders, "duplicates": duplicates}


def _label(status: dict[str, Any]) -> str:
    label = str(status.get("loader") or "?")
    if status.get("namespace"):
        label += f" namespace={status['namespace']}"
    if status.get("shard"):
        label += f" shard={status['shard'][0]}/{status['shard'][1]}"
    return label


def cmd_status(args: argparse.Namespace) -> int:
    """``status [--store URI] [--home DIR] [--json]``: 1 when a loader reports a problem."""
    report = collect_status(args.store, args.home)
    loaders, duplicates = report["loaders"], report["duplicates"]
    bad = bool(duplicates) or any(
        s.get("errors") or str(s.get("refresh", "")).startswith("failed") or s.get("snapshot")
        for s in loaders
    )
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 1 if bad else 0
    if not loaders:
        print("No loader has run yet (no status files under $AIRFLOW_HOME/schedule_specs_snapshot).")
        return 0
    for status in loaders:
        print(_label(status))
        print(f"  store:    {status.get('store')}")
        print(f"  parsed:   {status.get('parsed_at')} ({status.get('seconds')} s)")
        written = status.get("snapshot_written_at")
        print(f"  refresh:  {status.get('refresh')}" + (f" (snapshot written {written})" if written else ""))
        print(f"  loaded:   {status.get('loaded')} DAGs")
        if status.get("message"):
            print(f"  message:  {status['message']}")
        if status.get("snapshot"):  # the local snapshot was damaged (see factory/snapshot.py)
            print(f"  snapshot: {status['snapshot']}")
        for dag_id, reason in (status.get("dropped") or {}).items():
            print(f"  dropped:  {dag_id}: {reason}")
        for dag_id, reason in (status.get("errors") or {}).items():
            print(f"  ERROR:    spec {dag_id}: {reason}")
    for dag_id, where in duplicates.items():
        print(f"DUPLICATE: {dag_id} is loaded by {len(where)} loaders: {'; '.join(where)}")
    return 1 if bad else 0
