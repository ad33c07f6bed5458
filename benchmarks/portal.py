"""Portal benchmark: apply -> the new revision visible through ``/api/v2/dags``, with and without reparse.

Starts a real Airflow 3 (api-server, scheduler, dag-processor, triggerer on 127.0.0.1, dev/local_airflow.py)
with Airflow's DEFAULT parse intervals (``[dag_processor] min_file_process_interval`` 30 s,
``refresh_interval`` 300 s), the provider's loader file in the dags folder, a SQLite spec store and the
portal plugin. One spec (``bench.portal``) is applied once and awaited; then, in one run, alternating:

- ``api``: ``PUT /schedules/api/v1/specs/bench.portal`` (the portal: the store write, then a reparse
  request for the loader file, as the UI's Reparse button stores it);
- ``no-reparse``: the same change written to the same store through the CLI's path
  (``plan_apply`` / ``apply_plan``), which asks Airflow for nothing: the DAG changes at the next
  periodic parse of the loader file. Each such apply waits a random part of the parse interval first,
  so the applies land at random points of the DAG processor's cycle, as users' applies do.

Every apply changes the spec's ``description``; the time is from sending the apply to the moment
``GET /api/v2/dags/bench.portal`` returns that description. Prints p50 / p95 / max per variant.

Usage::

    .venvs/af33/bin/python benchmarks/portal.py [--applies 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "dev"))
sys.path.insert(0, str(REPO))

from local_airflow import AirflowServer, plugins_folder  # noqa: E402

SPEC_ID = "bench.portal"
MIN_FILE_PROCESS_INTERVAL = 30.0  # Airflow's default, kept


def spec(description: str) -> dict[str, Any]:
    return {
        "version": 1,
        "namespace": "bench",
        "name": "portal",
        "description": description,
        "schedule": None,
        "start_date": "2026-01-01",
        "tasks": [{"id": "noop", "template": "empty"}],
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class Bench:
    def __init__(self, server: AirflowServer) -> None:
        self.server = server
        self.revision = 0

    def visible(self, description: str, timeout: float = 600) -> float:
        """Seconds until /api/v2/dags shows ``description`` (hang guard ``timeout``)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            resp = self.server.api("GET", f"/api/v2/dags/{SPEC_ID}")
            if resp.status_code == 200 and resp.json().get("description") == description:
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"{description!r} not visible within {timeout} s:\n{self.server.log_tails()}")

    def apply_api(self, description: str) -> float:
        started = time.monotonic()
        resp = self.server.api(
            "PUT",
            f"/schedules/api/v1/specs/{SPEC_ID}",
            json={"spec": spec(description), "expected_revision": self.revision or None},
        )
        if resp.status_code not in (200, 201):
            raise RuntimeError(f"apply answered {resp.status_code}: {resp.text}")
        self.revision = resp.json()["revision"]
        self.visible(description)
        return time.monotonic() - started

    def apply_store(self, description: str) -> float:
        from airflow_provider_scheduler.store import open_store
        from airflow_provider_scheduler.store.apply import apply_plan, plan_apply

        time.sleep(random.uniform(0, MIN_FILE_PROCESS_INTERVAL))
        started = time.monotonic()
        with open_store(self.server.store_uri) as store:
            revisions = apply_plan(store, plan_apply(store, [spec(description)]), author="bench")
        self.revision = revisions[SPEC_ID]
        self.visible(description)
        return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applies", type=int, default=20, help="applies per variant (default 20)")
    args = parser.parse_args()

    server = AirflowServer()
    server.env.update(
        {
            # Airflow's defaults (the test deployment shortens them to 5 s)
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": str(int(MIN_FILE_PROCESS_INTERVAL)),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "300",
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder(server.home / "plugins")),
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        }
    )
    (server.dags_folder / "schedules.py").write_text((REPO / "example_dags" / "schedules.py").read_text())
    os.environ["AIRFLOW__SCHEDULE_SPECS__STORE"] = server.store_uri
    os.environ["AIRFLOW_HOME"] = str(server.home)  # the no-reparse writes read the same configuration
    try:
        print("starting Airflow ...", flush=True)
        server.start()
        bench = Bench(server)
        first = bench.apply_api("revision 1")
        print(f"first apply (new DAG) visible after {first:.1f} s", flush=True)
        times: dict[str, list[float]] = {"api": [], "no-reparse": []}
        for i in range(args.applies):
            for variant in ("api", "no-reparse"):
                description = f"{variant} apply {i + 1}"
                fn = bench.apply_api if variant == "api" else bench.apply_store
                seconds = fn(description)
                times[variant].append(seconds)
                print(f"  {variant:<10} #{i + 1:<2} {seconds:6.2f} s", flush=True)
        print()
        print(f"apply -> new revision visible in /api/v2/dags, {args.applies} applies each,")
        print(f"default parse intervals (min_file_process_interval {MIN_FILE_PROCESS_INTERVAL:g} s):")
        summary = {}
        for variant, values in times.items():
            row = {
                "p50": statistics.median(values),
                "p95": percentile(values, 0.95),
                "max": max(values),
            }
            summary[variant] = row
            print(
                f"  {variant:<10} p50 {row['p50']:6.2f} s   p95 {row['p95']:6.2f} s   max {row['max']:6.2f} s"
            )
        ratio = summary["no-reparse"]["p50"] / summary["api"]["p50"]
        print(f"  median speed-up of the reparse request: {ratio:.1f}x")
        print(json.dumps(summary))
    finally:
        server.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
