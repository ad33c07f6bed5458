"""Triggerer scale: 1,000 SchedulerDagRunTriggers in ONE asyncio loop, as the triggerer runs them.

A local aiohttp server on 127.0.0.1 (a separate process, so it does not share the measured loop) plays
the Airflow REST API v2: ``POST /auth/token`` and ``GET /api/v2/dags/{dag}/dagRuns/{run}``, adding
``--latency`` (50 ms) to every request to model a remote API, answering ``running`` until a flip time and
``success`` after it.

Three strategies run in the same process, one after the other, against the same server:

- ``aiohttp``: the provider's trigger as shipped (``SchedulerAsyncClient``: one shared aiohttp session
  per loop, one shared JWT);
- ``naive``: the same trigger whose client calls the sync ``SchedulerHook.get_dag_run`` through
  ``asgiref.sync_to_async`` with its default ``thread_sensitive=True`` (one hook shared by all triggers,
  so one requests session and one JWT: the most charitable version of that design);
- ``raw-aiohttp``: a bare aiohttp polling loop without any provider code, the floor any trigger can reach
  on this machine (loop-lag figures depend heavily on how busy the CPUs are; compare with this row).

For each it prints: event-loop lag p50/p99 (a ticker task sleeping 10 ms and measuring how late it
wakes), wall time from the flip to the last trigger event, how many triggers fired within 2 poll
intervals of the flip, and the HTTP requests the server saw. Then the ratio of the two wall times.

Targets (issue 7): lag p99 < 50 ms; all fire within 2 poll intervals; >= 10x faster than naive.

Usage::

    .venvs/af33/bin/python benchmarks/triggerer.py [--triggers 1000] [--poll 2] [--latency 0.05]

The connection comes from an ``AIRFLOW_CONN_*`` environment variable in JSON form, set by this script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
from typing import Any

CONN_ID = "scheduler_bench"
#: aiohttp = the provider's trigger; naive = the baseline; raw-aiohttp = a bare aiohttp loop (the floor
#: of what any trigger can reach on this machine, to judge the loop-lag figures)
STRATEGIES = ["aiohttp", "naive", "raw-aiohttp"]
USERNAME = "bench"
PASSWORD = "bench-password"


# -- the fake API server (separate process) --------------------------------------------------------------
def serve(port_pipe: Any, latency: float) -> None:
    """Run the fake Airflow API until killed; report the port through ``port_pipe``."""
    from aiohttp import web

    state: dict[str, Any] = {"flip_at": float("inf"), "runs": 0, "other": 0}

    async def run_state(request: web.Request) -> web.Response:
        state["runs"] += 1
        await asyncio.sleep(latency)
        auth = request.headers.get("Authorization", "")
        if auth != "Bearer bench-jwt":
            return web.json_response({"detail": "Not authenticated"}, status=401)
        dag_id, run_id = request.match_info["dag_id"], request.match_info["run_id"]
        done = time.time() >= state["flip_at"]
        return web.json_response(
            {
                "dag_run_id": run_id,
                "dag_id": dag_id,
                "state": "success" if done else "running",
                "logical_date": None,
                "conf": {},
            }
        )

    async def token(request: web.Request) -> web.Response:
        state["other"] += 1
        await asyncio.sleep(latency)
        body = await request.json()
        if body.get("username") != USERNAME or body.get("password") != PASSWORD:
            return web.json_response({"detail": "Invalid credentials"}, status=401)
        return web.json_response({"access_token": "bench-jwt"}, status=201)

    async def control(request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await request.json()
            state["flip_at"] = float(body["flip_at"])
            state["runs"] = state["other"] = 0
        return web.json_response({"runs": state["runs"], "other": state["other"]})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/api/v2/dags/{dag_id}/dagRuns/{run_id}", run_state)
        app.router.add_post("/auth/token", token)
        app.router.add_route("*", "/control", control)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port_pipe.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


# -- measurement -----------------------------------------------------------------------------------------
async def ticker(samples: list[tuple[float, float]], stop: asyncio.Event, period: float = 0.01) -> None:
    """Record ``(when, lag)``: how late the loop wakes a task that sleeps ``period`` (event-loop lag)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(period)
        samples.append((time.time(), max(0.0, loop.time() - start - period)))


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


class NaiveClient:
    """The naive trigger client: the sync hook through ``sync_to_async`` (thread_sensitive=True)."""

    def __init__(self, hook: Any) -> None:
        from asgiref.sync import sync_to_async

        self.hook = hook
        self._get_dag_run = sync_to_async(hook.get_dag_run)  # default thread_sensitive=True

    async def __aenter__(self) -> NaiveClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return await self._get_dag_run(dag_id, run_id)

    def ui_url_for_run(self, dag_id: str, run_id: str) -> str:
        return f"{self.hook.settings.base_url}/dags/{dag_id}/runs/{run_id}"


async def raw_aiohttp_poller(session: Any, base_url: str, index: int, poll: float) -> dict[str, Any]:
    """Reference floor: a bare aiohttp polling loop with no trigger/client code around it."""
    url = f"{base_url}/api/v2/dags/bench_dag_{index % 50}/dagRuns/manual__bench_{index}"
    while True:
        async with session.get(url, headers={"Authorization": "Bearer bench-jwt"}) as response:
            body = await response.json()
        if body["state"] == "success":
            return {"status": "success"}
        await asyncio.sleep(poll)


async def run_strategy(
    name: str, *, base_url: str, triggers: int, poll: float, flip_delay: float
) -> dict[str, Any]:
    import aiohttp

    from airflow_provider_scheduler.triggers.dag_run import SchedulerDagRunTrigger, deadline_after

    naive_client: NaiveClient | None = None
    if name == "naive":
        from airflow_provider_scheduler.hooks.scheduler import SchedulerHook

        naive_client = NaiveClient(SchedulerHook(CONN_ID))

    async with aiohttp.ClientSession() as control:
        flip_at = time.time() + flip_delay
        async with control.post(f"{base_url}/control", json={"flip_at": flip_at}) as response:
            response.raise_for_status()

        instances = []
        for i in range(triggers):
            trigger = SchedulerDagRunTrigger(
                dag_id=f"bench_dag_{i % 50}",
                run_id=f"manual__bench_{i}",
                scheduler_conn_id=CONN_ID,
                poke_interval=poll,
                timeout_at=deadline_after(600),
            )
            if naive_client is not None:

                async def factory(conn_id: str, client: NaiveClient = naive_client) -> NaiveClient:
                    return client

                trigger._client_factory = factory
            instances.append(trigger)

        fired: list[float] = []
        statuses: dict[str, int] = {}

        async def drive(trigger: SchedulerDagRunTrigger) -> None:
            # What the triggerer does with each trigger: iterate run() until its (single) event.
            async for event in trigger.run():
                fired.append(time.time())
                statuses[event.payload["status"]] = statuses.get(event.payload["status"], 0) + 1

        raw_session = aiohttp.ClientSession() if name == "raw-aiohttp" else None

        async def drive_raw(index: int) -> None:
            payload = await raw_aiohttp_poller(raw_session, base_url, index, poll)
            fired.append(time.time())
            statuses[payload["status"]] = statuses.get(payload["status"], 0) + 1

        samples: list[tuple[float, float]] = []
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(samples, stop))
        started = time.time()
        cpu_started = time.process_time()
        if raw_session is not None:
            async with raw_session:
                await asyncio.gather(*(drive_raw(i) for i in range(triggers)))
        else:
            await asyncio.gather(*(drive(t) for t in instances))
        cpu_used = time.process_time() - cpu_started
        stop.set()
        await tick

        async with control.get(f"{base_url}/control") as response:
            counts = await response.json()

    lag = [value for _, value in samples]
    # After the first poll interval every trigger has started: what a long-running triggerer sees.
    steady = [value for when, value in samples if when >= started + poll]
    last = max(fired) - flip_at
    within = sum(1 for t in fired if t - flip_at <= 2 * poll)
    return {
        "strategy": name,
        "triggers": triggers,
        "statuses": statuses,
        "lag_p50_ms": percentile(lag, 50) * 1000,
        "lag_p99_ms": percentile(lag, 99) * 1000,
        "lag_max_ms": max(lag) * 1000 if lag else float("nan"),
        "steady_lag_p99_ms": percentile(steady, 99) * 1000,
        "flip_to_last_s": last,
        "fired_within_2_polls": within,
        "run_requests": counts["runs"],
        "other_requests": counts["other"],
        "total_s": time.time() - started,
        "cpu_s": cpu_used,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triggers", type=int, default=1000)
    parser.add_argument("--poll", type=float, default=2.0, help="trigger poke_interval (seconds)")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency per request (seconds)")
    parser.add_argument("--flip-delay", type=float, default=6.0, help="seconds from start to the flip")
    parser.add_argument("--only", choices=STRATEGIES, default=None)
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(child, args.latency), daemon=True)
    server.start()
    port = parent.recv()
    base_url = f"http://127.0.0.1:{port}"
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
        {
            "conn_type": "scheduler",
            "host": base_url,
            "login": USERNAME,
            "password": PASSWORD,
            "extra": {"api_version": "v2", "max_retries": 3, "timeout": 30},
        }
    )
    import logging

    logging.getLogger("airflow").setLevel(logging.ERROR)
    logging.getLogger("airflow_provider_scheduler").setLevel(logging.ERROR)

    print(f"load average before the run: {os.getloadavg()} on {os.cpu_count()} CPUs", file=sys.stderr)
    results = []
    try:
        for name in [args.only] if args.only else STRATEGIES:
            print(
                f"running {name}: {args.triggers} triggers, poll {args.poll} s, "
                f"latency {args.latency * 1000:.0f} ms ...",
                file=sys.stderr,
            )
            results.append(
                asyncio.run(
                    run_strategy(
                        name,
                        base_url=base_url,
                        triggers=args.triggers,
                        poll=args.poll,
                        flip_delay=args.flip_delay,
                    )
                )
            )
    finally:
        server.kill()

    header = (
        f"{'strategy':<11} {'events':<16} {'lag p50 ms':>10} {'lag p99 ms':>10} {'lag max ms':>10} "
        f"{'p99 steady':>10} {'CPU s':>6} "
        f"{'flip->last s':>12} {'<=2 polls':>10} {'run GETs':>9} {'other req':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        events = ",".join(f"{k}={v}" for k, v in sorted(r["statuses"].items()))
        print(
            f"{r['strategy']:<11} {events:<16} {r['lag_p50_ms']:>10.2f} {r['lag_p99_ms']:>10.2f} "
            f"{r['lag_max_ms']:>10.2f} {r['steady_lag_p99_ms']:>10.2f} {r['cpu_s']:>6.2f} "
            f"{r['flip_to_last_s']:>12.2f} "
            f"{r['fired_within_2_polls']:>5}/{r['triggers']:<4} "
            f"{r['run_requests']:>9} {r['other_requests']:>9}"
        )
    by_name = {r["strategy"]: r for r in results}
    if "aiohttp" in by_name:
        ours = by_name["aiohttp"]
        print()
        print(
            f"targets: lag p99 < 50 ms: {'yes' if ours['lag_p99_ms'] < 50 else 'NO'} "
            f"({ours['lag_p99_ms']:.2f} ms)"
        )
        all_within = ours["fired_within_2_polls"] == ours["triggers"]
        print(
            f"         all fire within 2 poll intervals ({2 * args.poll:g} s) of the flip: "
            f"{'yes' if all_within else 'NO'} (last after {ours['flip_to_last_s']:.2f} s)"
        )
        if "naive" in by_name:
            naive = by_name["naive"]
            ratio = naive["flip_to_last_s"] / max(ours["flip_to_last_s"], 1e-9)
            print(
                f"         >= 10x faster than naive: {'yes' if ratio >= 10 else 'NO'} "
                f"(naive {naive['flip_to_last_s']:.2f} s / ours {ours['flip_to_last_s']:.2f} s "
                f"= {ratio:.1f}x)"
            )
    print(json.dumps(results, indent=None, default=str), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
