"""``airflow-scheduler backfill SPEC --from DATE --to DATE``: runs for past dates, through Airflow's API.

The backfill goes through Airflow 3's backfill API (``POST /api/v2/backfills``) with the ``scheduler``
connection (``scheduler_default`` unless ``--conn-id``), as ``SchedulerHook.create_backfill``; Airflow
creates one run per time the DAG's own timetable gives between the dates (so holidays and dates a spec
skips are skipped) and runs them ``--max-active-runs`` at a time. ``--dry-run`` lists the logical
dates it would run and creates nothing. A plain date is read in the spec's schedule timezone, taken
from the spec store (``--store``; Airflow's API reports only the deployment's timezone), else UTC with
a note: ``--from`` at 00:00, ``--to`` through 23:59:59 of that day.
On Airflow 2.x (REST API v1, no backfill API) the command says so and exits 1.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import zoneinfo
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowNotFoundException

from airflow_provider_scheduler.cli.reparse import REPARSE_CONN_ID, quiet_logging
from airflow_provider_scheduler.cli.store_commands import store_option
from airflow_provider_scheduler.hooks.scheduler import SchedulerApiError, SchedulerHook
from airflow_provider_scheduler.rest.endpoints import REPROCESS_BEHAVIOURS

if TYPE_CHECKING:
    import argparse

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPEC_ID = re.compile(r"[a-z0-9][a-z0-9_-]*\.[a-z0-9][a-z0-9_-]*")


def add_backfill_command(subparsers: Any) -> None:
    """Register ``backfill`` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "backfill",
        help="run a spec's DAG for past dates (Airflow 3 backfill API)",
        description=(
            "Create a backfill of a spec's DAG through the Airflow REST API of a 'scheduler' connection: "
            "one run per schedule time between --from and --to (plain dates in the DAG's timezone, "
            "--to inclusive). --dry-run lists the runs and creates nothing."
        ),
    )
    parser.add_argument(
        "spec_id", metavar="SPEC", help="the spec id (its dag_id), e.g. analytics.weekday-report"
    )
    parser.add_argument(
        "--from", dest="from_date", required=True, metavar="DATE", help="first date or date-time"
    )
    parser.add_argument(
        "--to", dest="to_date", required=True, metavar="DATE", help="last date (inclusive) or date-time"
    )
    parser.add_argument(
        "--reprocess",
        choices=REPROCESS_BEHAVIOURS,
        default="none",
        help="dates that already have a run: keep them (none, default), re-run failed ones, or re-run all",
    )
    parser.add_argument(
        "--max-active-runs", type=int, default=None, metavar="N", help="runs at the same time"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list the runs it would create; create nothing"
    )
    parser.add_argument(
        "--conn-id", default=REPARSE_CONN_ID, help=f"the scheduler connection (default {REPARSE_CONN_ID})"
    )
    parser.add_argument("--json", action="store_true", help="print Airflow's answer as JSON")
    store_option(parser)
    parser.set_defaults(func=run_backfill)


def _spec_timezone(spec_id: str, store_uri: str | None) -> tuple[str, str | None]:
    """The spec's schedule timezone from the store, or ``("UTC", why not)``."""
    from airflow_provider_scheduler.store import open_store

    try:
        store = open_store(store_uri)
        try:
            stored = store.get(spec_id)
        finally:
            store.close()
    except Exception as exc:  # any store trouble: the backfill itself does not need the store
        return "UTC", f"the spec store could not be read ({type(exc).__name__})"
    if stored is None:
        return "UTC", "the spec is not in the spec store"
    schedule = stored.spec.get("schedule")
    tz = schedule.get("timezone") if isinstance(schedule, dict) else None
    return (tz if isinstance(tz, str) else "UTC"), None


def _when(text: str, tz: str, *, end: bool) -> datetime | None:
    """A ``--from`` / ``--to`` value: a date in ``tz`` (start or end of that day) or an aware date-time."""
    if _DATE.fullmatch(text):
        day = datetime.strptime(text, "%Y-%m-%d").date()
        return datetime.combine(day, time(23, 59, 59) if end else time(0, 0), tzinfo=zoneinfo.ZoneInfo(tz))
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def run_backfill(args: argparse.Namespace) -> int:
    """The ``backfill`` command (exit 0 done, 1 Airflow refused or failed, 2 bad arguments)."""
    with quiet_logging():  # Airflow's own log lines (2.11 prints them on stdout) stay out of the output
        return _run_backfill(args)


def _run_backfill(args: argparse.Namespace) -> int:
    spec_id = args.spec_id
    if not _SPEC_ID.fullmatch(spec_id):
        print(
            f"error: {spec_id!r} is not a spec id (namespace.name, e.g. analytics.weekday-report)",
            file=sys.stderr,
        )
        return 2
    if args.max_active_runs is not None and args.max_active_runs < 1:
        print("error: --max-active-runs must be at least 1", file=sys.stderr)
        return 2
    for option, text in (("--from", args.from_date), ("--to", args.to_date)):
        if _when(text, "UTC", end=False) is None:
            print(
                f"error: {option} {text!r} is not a date (2026-01-05) or a date-time with an offset "
                "(2026-01-05T06:00:00+01:00)",
                file=sys.stderr,
            )
            return 2
    hook = SchedulerHook(args.conn_id)
    hook._log = logging.getLogger(__name__)  # type: ignore[assignment]  # no structlog lines in the output
    tz, why = _spec_timezone(spec_id, args.store)
    if why and (_DATE.fullmatch(args.from_date) or _DATE.fullmatch(args.to_date)):
        print(f"note: {why}, so plain dates are read in UTC", file=sys.stderr)
    try:
        start = _when(args.from_date, tz, end=False)
        end = _when(args.to_date, tz, end=True)
        assert start is not None
        assert end is not None
        if end < start:
            print(f"error: --to {args.to_date} is before --from {args.from_date}", file=sys.stderr)
            return 2
        result = hook.create_backfill(
            spec_id,
            from_date=start,
            to_date=end,
            reprocess=args.reprocess,
            max_active_runs=args.max_active_runs,
            dry_run=args.dry_run,
        )
    except AirflowNotFoundException:
        print(
            f"error: no Airflow connection {args.conn_id!r} here; add a 'scheduler' connection to the "
            "deployment (or pass --conn-id)",
            file=sys.stderr,
        )
        return 2
    except (SchedulerApiError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    window = f"from {start.isoformat()} to {end.isoformat()} ({tz})"
    if args.dry_run:
        dates = [str(b.get("logical_date")) for b in result.get("backfills", [])]
        print(f"dry run: a backfill of {spec_id} {window} would create {len(dates)} run(s):")
        for date in dates:
            print(f"  {date}")
        return 0
    print(
        f"created backfill {result.get('id')} of {spec_id} {window}, at most "
        f"{result.get('max_active_runs')} run(s) at a time (reprocess: {args.reprocess}); "
        f"see it in Airflow: {hook.settings.base_url}/dags/{spec_id}/backfills"
    )
    return 0
