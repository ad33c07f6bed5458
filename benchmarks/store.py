"""Spec store benchmark: a 10,000-spec batch apply, then an incremental "changed since" read.

For SQLite (a temporary file) and PostgreSQL (a throwaway server started from Debian's binaries, the
same way the test fixture does it), this prints:

- the time to validate 10,000 specs (cron schedule, 4 tasks in a diamond) and to apply them as one
  ``put_many`` batch;
- after changing 10 of them, the time of ``changes(token)`` (returns those 10; target < 50 ms) beside
  a full read of all 10,000 and the ratio between the two (medians of repeated reads), plus the
  same incremental read through a freshly opened store (open + changes + close), which is what the
  DAG factory's loader does on each refresh.

The benchmark's own inputs are moved out of the garbage collector's way (``gc.freeze()``) so the
timings measure the store, not the collector walking 10,000 benchmark specs.

Run: ``.venvs/af33/bin/python benchmarks/store.py [--specs N] [--no-postgres]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def make_spec(i: int) -> dict[str, Any]:
    """Spec ``bench.spec-NNNNN``: a cron schedule and four tasks in a diamond (a -> b, c -> d)."""
    return {
        "version": 1,
        "namespace": "bench",
        "name": f"spec-{i:05d}",
        "description": f"benchmark spec {i}",
        "schedule": {"cron": f"{i % 60} {i % 24} * * *", "timezone": "Europe/Amsterdam"},
        "start_date": "2026-01-01",
        "tags": ["bench"],
        "tasks": [
            {"id": "start", "template": "empty"},
            {"id": "left", "template": "empty", "depends_on": ["start"]},
            {"id": "right", "template": "empty", "depends_on": ["start"]},
            {"id": "finish", "template": "empty", "depends_on": ["left", "right"]},
        ],
    }


def timed(func: Any, repeat: int = 1) -> tuple[float, Any]:
    """Median wall time in seconds over ``repeat`` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_store(label: str, uri: str, parsed: list[Any], raw: list[dict[str, Any]]) -> dict[str, Any]:
    from airflow_provider_scheduler.spec import parse_spec
    from airflow_provider_scheduler.store import open_store

    store = open_store(uri)
    store.changes(None)  # create the schema outside the timings
    gc.collect()
    gc.freeze()
    apply_s, revisions = timed(lambda: store.put_many(parsed, author="bench"))
    assert revisions == [1] * len(parsed)
    full_s, full = timed(lambda: store.changes(None), repeat=3)
    assert len(full.specs) == len(parsed)
    token = full.token
    changed = [parse_spec({**raw[i], "description": "changed"}) for i in range(0, len(raw), len(raw) // 10)][
        :10
    ]
    store.put_many(changed, author="bench")
    store.close()
    reader = open_store(uri)  # a fresh reader, like the DAG processor's loader
    reader.changes(token)  # connect outside the timing
    incr_s, incr = timed(lambda: reader.changes(token), repeat=20)
    assert sorted(s.id for s in incr.specs) == sorted(s.dag_id for s in changed), incr.specs
    assert incr.full is False
    reader.close()

    def cold() -> Any:
        with open_store(uri) as fresh:
            return fresh.changes(token)

    cold_s, cold_result = timed(cold, repeat=10)
    assert len(cold_result.specs) == 10
    return {
        "store": label,
        "specs": len(parsed),
        "apply_s": apply_s,
        "full_ms": full_s * 1000,
        "incr_ms": incr_s * 1000,
        "incr_n": len(incr.specs),
        "cold_ms": cold_s * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)

    import sqlalchemy

    from airflow_provider_scheduler.spec import parse_spec

    raw = [make_spec(i) for i in range(args.specs)]
    parse_spec(raw[0])  # load the template registry outside the timing
    validate_s, parsed = timed(lambda: [parse_spec(d) for d in raw])
    print(
        f"validated {len(parsed)} specs in {validate_s:.2f} s ({validate_s / len(parsed) * 1e6:.0f} us/spec)"
    )

    rows = []
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        rows.append(bench_store("SQLite", f"sqlite:///{tmp}/specs.db", parsed, raw))
    if args.no_postgres:
        pass
    elif int(sqlalchemy.__version__.split(".")[0]) < 2:
        print("PostgreSQL skipped: SQLAlchemy 1.4 has no psycopg 3 dialect (run with the Airflow 3 venv)")
    else:
        sys.path.insert(0, str(REPO / "dev"))
        from local_airflow import PostgresServer, find_postgres_bin

        if find_postgres_bin() is None:
            print("PostgreSQL skipped: no server binaries under /usr/lib/postgresql/*/bin")
        else:
            server = PostgresServer()
            server.init()
            server.start()
            try:
                rows.append(bench_store("PostgreSQL", server.new_database("store_bench"), parsed, raw))
            finally:
                server.destroy()

    header = (
        "store",
        "specs",
        "apply batch",
        "full read",
        "changes(token)",
        "changed",
        "full/incremental",
        "open+changes+close",
    )
    table = [header] + [
        (
            r["store"],
            str(r["specs"]),
            f"{r['apply_s']:.2f} s",
            f"{r['full_ms']:.1f} ms",
            f"{r['incr_ms']:.2f} ms",
            str(r["incr_n"]),
            f"{r['full_ms'] / r['incr_ms']:.0f}x",
            f"{r['cold_ms']:.1f} ms",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print()
    for n, row in enumerate(table):
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))
    target = all(r["incr_ms"] < 50 for r in rows)
    print(f"\nincremental read of 10 changed specs under 50 ms: {'yes' if target else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
