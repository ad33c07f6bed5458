"""Parse-time benchmark of the DAG factory against a hand-written loop and dag-factory 1.1.0.

For each N (default 100, 1,000 and 10,000) it writes N equivalent schedules (cron schedule,
default_args with retries, 4 tasks in a diamond) in three forms and parses each DAG file through
Airflow's own ``DagBag`` in FRESH Python processes (one process per repetition):

- (a) this provider: a SQLite spec store holding N specs and the two-line loader file
  (``load_schedules(globals(), store=...)``). One untimed warm-up parse writes the local snapshot;
  every timed parse then does what the dag processor does on each pass: read the snapshot, refresh it
  incrementally from the store ("changed since"), build the DAGs.
- (b) a hand-written Python loop that builds the same DAGs from a JSON list (what a platform
  engineer would write without any framework).
- (c) dag-factory 1.1.0 (``load_yaml_dags``) on one YAML file describing the same DAGs. dag-factory
  is NOT a dependency of this project: install it into the benchmark's venv
  (``pip install dag-factory==1.1.0``); without it the benchmark prints a note and skips (c).

Each process imports Airflow and ``DagBag`` first, then ``gc.freeze()``s those objects as Airflow's
dag-processor manager does before it forks a parse process; only the ``DagBag(file)`` call is timed
(it includes importing this provider for (a) and dag-factory for (c)). Without the freeze
(``--no-gc-freeze``) one full collection over the ~200,000 objects of Airflow's imports (about 0.1 s
here, a fifth of a 1,000-DAG parse) falls inside or outside a timed parse depending on where an
allocation threshold is crossed, so one variant may pay it and the other not; the dag processor
never pays it. Printed per N and variant: min and median wall-clock seconds over ``--repeat`` runs,
ms per DAG, the median CPU seconds of the child (``time.process_time``; steadier than wall time on a
shared machine), peak RSS of the child (``VmHWM`` of ``/proc/self/status``, else ``ru_maxrss``), and
the ratios a/b and c/a.

Then, for the largest N:

- worker path: the loader file parsed with Airflow's parsing context set to one dag_id/task_id
  (the ``_AIRFLOW_PARSING_CONTEXT_DAG_ID`` / ``_AIRFLOW_PARSING_CONTEXT_TASK_ID`` environment
  variables that ``airflow.sdk.get_parsing_context()`` reads, as the task runner sets them);
- store down: the same N specs in a real PostgreSQL store (Debian's server binaries; a temporary
  cluster), each parse paired with one while the server is up: server stopped (connection refused),
  and a server that accepts the connection but never answers (a hung database; the refresh time
  bound must cut it). The store-up parses also give a/b for a PostgreSQL store (the driver import
  and a network round trip on top of the SQLite figure). Without the server binaries the SQLite
  store's snapshot is pointed at a closed port and at the hung server instead, and there is no
  PostgreSQL a/b.

The variants are parsed in alternating rounds (a, b, c, a, b, c, ...) so a drift of the machine's
speed reaches each alike; a ratio is printed as the ratio of medians and as the median of the
per-round ratios ("paired").

Targets: a/b <= 1.05 with the SQLite store and <= 1.15 with a PostgreSQL store at N=1,000 (issue
12), a/b <= 1.15 at 10,000, c/a >= 4; worker path < 100 ms after imports; store down adds < 1 s.
Figures are noisy on a shared machine: read the ratios.

Run: ``.venvs/af33/bin/python benchmarks/parse.py`` (several minutes) or smaller:
``.venvs/af33/bin/python benchmarks/parse.py --sizes 100,1000 --repeat 3``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Runs inside each fresh child process: import Airflow and DagBag (untimed), time DagBag(file).
CHILD = r"""
import json, os, resource, sys, time
try:
    from airflow.dag_processing.dagbag import DagBag
    kwargs = {}
except ImportError:  # Airflow 2.x
    from airflow.models.dagbag import DagBag
    kwargs = {"include_examples": False}
from airflow.providers.standard.operators.empty import EmptyOperator  # noqa: F401 (shared import)
try:
    from airflow.sdk import DAG  # noqa: F401
except ImportError:
    from airflow.models.dag import DAG  # noqa: F401
def peak_rss_kb():
    # VmHWM is this process image's own peak (ru_maxrss would include the forking parent's RSS).
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if os.environ.get("BENCH_NO_GC_FREEZE") != "1":
    # What Airflow's DagFileProcessorManager does before it forks a parse process (dag_processing/
    # manager.py, before_run: gc.freeze() "to prevent COW in forked process parsing dag file"): the
    # objects of the imports above move to the permanent generation, so a full collection inside the
    # timed window walks only what the DAG file itself created, as in a real dag processor.
    import gc
    gc.freeze()
path = sys.argv[1]
t0, c0 = time.perf_counter(), time.process_time()
bag = DagBag(dag_folder=path, **kwargs)
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
tasks = sum(len(d.tasks) for d in bag.dags.values())
print("@@RESULT@@" + json.dumps({
    "seconds": elapsed,
    "cpu": cpu,
    "dags": len(bag.dags),
    "tasks": tasks,
    "import_errors": {k: v[-300:] for k, v in bag.import_errors.items()},
    "maxrss_kb": peak_rss_kb(),
}))
"""

HANDWRITTEN = r'''
"""Hand-written baseline: build the benchmark DAGs from a JSON list (airflow DAG file)."""
import json
from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator

try:
    from airflow.sdk import DAG
except ImportError:
    from airflow.models.dag import DAG

FIVE_MINUTES = timedelta(minutes=5)
with open(SPECS_PATH) as f:
    specs = json.load(f)

for s in specs:
    dag_id = s["namespace"] + "." + s["name"]
    y, m, d = (int(x) for x in s["start_date"].split("-"))
    with DAG(
        dag_id,
        schedule=s["schedule"],
        start_date=pendulum.datetime(y, m, d, tz="UTC"),
        catchup=s["catchup"],
        max_active_runs=1,
        default_args={"owner": s["owner"], "retries": s["defaults"]["retries"], "retry_delay": FIVE_MINUTES},
        tags=[*s["tags"], "namespace:" + s["namespace"]],
        description=s["description"],
        doc_md=s["description"],
        is_paused_upon_creation=s["paused"],
    ) as dag:
        ops = {t["id"]: EmptyOperator(task_id=t["id"]) for t in s["tasks"]}
        for t in s["tasks"]:
            for up in t.get("depends_on", ()):
                ops[up] >> ops[t["id"]]
    globals()[dag_id] = dag
'''

DAGFACTORY_LOADER = """
# airflow DAG file for dag-factory
from dagfactory import load_yaml_dags

load_yaml_dags(globals_dict=globals(), config_filepath=CONFIG_PATH)
"""

LOADER = """
# airflow DAG file: the provider's two-line loader
from airflow_provider_scheduler.factory import load_schedules

load_schedules(globals(), store=STORE_URI)
"""

TASKS = ("extract", "left", "right", "load")


def bench_spec(i: int) -> dict[str, Any]:
    """The i-th benchmark schedule: cron, retries in defaults, 4 tasks in a diamond."""
    return {
        "version": 1,
        "namespace": "bench",
        "name": f"s{i:05d}",
        "description": f"Benchmark schedule {i}",
        "owner": "bench",
        "tags": ["bench"],
        "paused": False,
        "schedule": f"{i % 60} {i % 24} * * *",
        "start_date": "2026-01-01",
        "catchup": False,
        "defaults": {"retries": 2},
        "tasks": [
            {"id": "extract", "template": "empty"},
            {"id": "left", "template": "empty", "depends_on": ["extract"]},
            {"id": "right", "template": "empty", "depends_on": ["extract"]},
            {"id": "load", "template": "empty", "depends_on": ["left", "right"]},
        ],
    }


def dagfactory_yaml(specs: list[dict[str, Any]]) -> str:
    """The same DAGs as one dag-factory 1.x YAML document."""
    import yaml

    empty = "airflow.providers.standard.operators.empty.EmptyOperator"
    doc: dict[str, Any] = {}
    for s in specs:
        doc[f"{s['namespace']}.{s['name']}"] = {
            "default_args": {
                "owner": s["owner"],
                "retries": s["defaults"]["retries"],
                "start_date": s["start_date"],
            },
            "schedule": s["schedule"],
            "catchup": s["catchup"],
            "description": s["description"],
            "tags": [*s["tags"], "namespace:" + s["namespace"]],
            "is_paused_upon_creation": s["paused"],
            "tasks": [
                {
                    "task_id": t["id"],
                    "operator": empty,
                    **({"dependencies": t["depends_on"]} if "depends_on" in t else {}),
                }
                for t in s["tasks"]
            ],
        }
    return yaml.safe_dump(doc, sort_keys=False)


@dataclass
class Result:
    seconds: list[float]
    cpu: list[float]
    dags: int
    tasks: int
    maxrss_kb: int
    errors: dict[str, str]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def child_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE would make every child recompile this (editable) package from source,
    # which a pip-installed provider never does: bytecode is written once by the warm-up parse.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "_AIRFLOW")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "0",  # 10,000 DAGs via dag-factory take > 30 s
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "PYTHONWARNINGS": "ignore",
        }
    )
    env.update(extra or {})
    return env


def parse_once(python: str, path: Path, env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [python, "-c", CHILD, str(path)], env=env, capture_output=True, text=True, check=False
    )
    for line in proc.stdout.splitlines():
        if line.startswith("@@RESULT@@"):
            return json.loads(line[len("@@RESULT@@") :])  # type: ignore[no-any-return]
    raise RuntimeError(f"parsing {path} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def _result(path: Path, runs: list[dict[str, Any]], expect_dags: int) -> Result:
    for run in runs:
        if run["import_errors"] or run["dags"] != expect_dags:
            raise RuntimeError(
                f"{path}: expected {expect_dags} DAGs, got {run['dags']}; "
                f"import errors: {run['import_errors']}"
            )
    return Result(
        seconds=[r["seconds"] for r in runs],
        cpu=[r["cpu"] for r in runs],
        dags=runs[0]["dags"],
        tasks=runs[0]["tasks"],
        maxrss_kb=max(r["maxrss_kb"] for r in runs),
        errors=runs[0]["import_errors"],
    )


def measure(python: str, path: Path, env: dict[str, str], repeat: int, expect_dags: int) -> Result:
    return _result(path, [parse_once(python, path, env) for _ in range(repeat)], expect_dags)


def measure_rounds(
    python: str, paths: list[Path], env: dict[str, str], repeat: int, expect_dags: int
) -> list[Result]:
    """Parse each file once per round, in turn (A B C A B C ...), so a drift of the machine's speed
    during the run reaches every variant alike; ``paired`` ratios compare runs of the same round."""
    runs: list[list[dict[str, Any]]] = [[] for _ in paths]
    for _ in range(repeat):
        for i, path in enumerate(paths):
            runs[i].append(parse_once(python, path, env))
    return [_result(path, r, expect_dags) for path, r in zip(paths, runs, strict=True)]


def ratio_line(label: str, a: Result, b: Result) -> str:
    """``a/b`` as the ratio of medians, the median of the per-round ratios, min/min and CPU."""
    paired = statistics.median(x / y for x, y in zip(a.seconds, b.seconds, strict=True))
    return (
        f"{label} = {a.median / b.median:5.2f} (paired {paired:5.2f}, min/min {a.best / b.best:5.2f}, "
        f"CPU {a.cpu_median / b.cpu_median:5.2f})"
    )


def write_file(path: Path, template: str, **constants: str) -> Path:
    """Write a DAG file; constants are inserted as Python literals (repr), never as code."""
    head = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
    text = textwrap.dedent(template).lstrip("\n")
    first, _, rest = text.partition("\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    if first.startswith('"""') or first.startswith("#"):
        path.write_text(first + "\n" + head + rest)
    else:
        path.write_text(head + text)
    return path


def fmt(r: Result, n: int) -> str:
    return (
        f"min {r.best:8.3f} s  median {r.median:8.3f} s  {1000 * r.median / max(n, 1):7.2f} ms/DAG  "
        f"(CPU median {r.cpu_median:8.3f} s)  peak RSS {r.maxrss_kb / 1024:6.1f} MB"
    )


def _paired(args: argparse.Namespace, label: str, up: Any, down: Any, n: int) -> float:
    """Alternate parses with the store up and down; print the median paired difference.

    Returns the median wall time of the store-up parses.
    """
    up_runs, down_runs = [], []
    for _ in range(args.repeat):
        up_runs.append(up())
        down_runs.append(down())
    for run in (*up_runs, *down_runs):
        if run["dags"] != n or run["import_errors"]:
            raise RuntimeError(f"store down ({label}): {run['dags']} DAGs, {run['import_errors']}")
    pairs = list(zip(up_runs, down_runs, strict=True))
    wall = statistics.median(d["seconds"] - u["seconds"] for u, d in pairs)
    cpu = statistics.median(d["cpu"] - u["cpu"] for u, d in pairs)
    print(
        f"  {label:34s} median {statistics.median(r['seconds'] for r in down_runs):7.3f} s vs store up "
        f"{statistics.median(r['seconds'] for r in up_runs):7.3f} s; added (median of paired differences) "
        f"{wall:+.3f} s wall, {cpu:+.3f} s CPU   (target < 1 s)"
    )
    return statistics.median(r["seconds"] for r in up_runs)


def store_down(
    args: argparse.Namespace,
    *,
    specs_for: Any,
    n: int,
    home: Path,
    base: Path,
    sqlite_loader: Path,
    hand: Path,
) -> str | None:
    """The cost of a parse whose refresh fails, against the same parse with the store up.

    With PostgreSQL server binaries (Debian's ``postgresql``): a real server holds the N specs; each
    repetition parses with it running, then stopped (connection refused), then against a server that
    accepts connections and never answers (hung; the refresh bound cuts it). Without them: the SQLite
    store's parse against a PostgreSQL URI on a closed port (this also counts the driver import).
    Returns the summary line of a/b with the PostgreSQL store up: the loader on the PostgreSQL store
    and ``hand`` (the hand-written file (b) at the same N) parsed in alternating rounds.
    """
    from airflow_provider_scheduler.factory.snapshot import snapshot_path
    from airflow_provider_scheduler.store import open_store

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dev"))
    from local_airflow import HungServer, PostgresServer, find_postgres_bin, free_port

    env = child_env(home)
    hung = HungServer()
    try:
        hung_uri = f"postgresql+psycopg://bench:secret@127.0.0.1:{hung.port}/specs"
        if find_postgres_bin() is None:
            print(
                f"Store down (N = {n:,}; no PostgreSQL binaries: SQLite store vs a closed PostgreSQL port):"
            )
            refused_uri = f"postgresql+psycopg://bench:secret@127.0.0.1:{free_port()}/specs"
            src = snapshot_path(f"sqlite:///{base / 'specs.db'}", home)
            for label, uri in (
                ("connection refused", refused_uri),
                ("server never answers (hung)", hung_uri),
            ):
                shutil.copyfile(src, snapshot_path(uri, home))
                loader = write_file(base / f"down-{label[:4]}" / "schedules.py", LOADER, STORE_URI=uri)
                _paired(
                    args,
                    label,
                    lambda: parse_once(args.python, sqlite_loader, env),
                    lambda loader=loader: parse_once(args.python, loader, env),
                    n,
                )
            return None
        pg = PostgresServer()
        pg.init()
        pg.start()
        try:
            # The URI as a platform team writes it: plain postgresql://, the store picks the driver.
            uri = pg.new_database("parse_bench").replace("postgresql+psycopg://", "postgresql://", 1)
            store = open_store(uri)
            try:
                store.put_many([specs_for(i) for i in range(n)], author="benchmark")
            finally:
                store.close()
            loader = write_file(base / "pg" / "schedules.py", LOADER, STORE_URI=uri)
            parse_once(args.python, loader, env)  # warm-up: writes the snapshot of this store
            print(f"Store down (N = {n:,}, PostgreSQL store; each run paired with a parse while it is up):")

            def stopped() -> dict[str, Any]:
                pg.stop()
                try:
                    return parse_once(args.python, loader, env)
                finally:
                    pg.start()

            _paired(
                args, "PostgreSQL stopped (refused)", lambda: parse_once(args.python, loader, env), stopped, n
            )
            shutil.copyfile(snapshot_path(uri, home), snapshot_path(hung_uri, home))
            hung_loader = write_file(base / "pg-hung" / "schedules.py", LOADER, STORE_URI=hung_uri)
            _paired(
                args,
                "server never answers (hung)",
                lambda: parse_once(args.python, loader, env),
                lambda: parse_once(args.python, hung_loader, env),
                n,
            )
            a_pg, b = measure_rounds(args.python, [loader, hand], env, args.repeat, n)
            print(f"PostgreSQL store up, alternating with (b) (N = {n:,}):")
            print(f"  (a) load_schedules  {fmt(a_pg, n)}")
            print(f"  (b) hand-written    {fmt(b, n)}")
            print()
            return (
                f"N={n:>6,}: " + ratio_line("a/b", a_pg, b) + " with the PostgreSQL store up "
                "(driver import + round trip)"
            )
        finally:
            pg.destroy()
    finally:
        hung.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated N (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per measurement")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the Airflow venv")
    parser.add_argument("--workdir", default=None, help="keep the generated files here (default: temp)")
    parser.add_argument("--skip-dagfactory", action="store_true", help="do not measure (c)")
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="do not gc.freeze() the imports before timing (a plain fresh interpreter, unlike Airflow's "
        "dag processor; one ~0.1 s full collection then lands in or out of a timed parse at random)",
    )
    args = parser.parse_args(argv)
    os.environ["BENCH_NO_GC_FREEZE"] = "1" if args.no_gc_freeze else "0"  # child_env() passes it on
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]

    from airflow_provider_scheduler.store import open_store

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="parse-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    have_dagfactory = not args.skip_dagfactory and (
        subprocess.run([args.python, "-c", "import dagfactory"], capture_output=True, check=False).returncode
        == 0
    )
    airflow_version = subprocess.run(
        [args.python, "-c", "import airflow; print(airflow.__version__)"],
        capture_output=True,
        text=True,
        check=False,
        env=child_env(workdir / "home-version"),
    ).stdout.strip()
    print(
        f"Airflow {airflow_version}; {args.repeat} fresh processes per figure; imports "
        f"{'not frozen (--no-gc-freeze)' if args.no_gc_freeze else 'gc.freeze()d as in the dag processor'}; "
        f"workdir {workdir}"
    )
    if not have_dagfactory:
        print(
            "NOTE: dag-factory is not installed in this venv, so baseline (c) is skipped. Install it with "
            f"`{args.python} -m pip install dag-factory==1.1.0` (benchmark only; not a project dependency)."
        )
    print()

    last: dict[str, Any] = {}
    summary: list[str] = []
    for n in sizes:
        specs = [bench_spec(i) for i in range(n)]
        base = workdir / f"n{n}"
        home = base / "home"
        home.mkdir(parents=True, exist_ok=True)
        env = child_env(home)

        # (a) the provider: a SQLite store + the loader file, one warm-up parse to write the snapshot.
        store_uri = f"sqlite:///{base / 'specs.db'}"
        store = open_store(store_uri)
        try:
            if not store.list():
                store.put_many(specs, author="benchmark")
        finally:
            store.close()
        loader = write_file(base / "a" / "schedules.py", LOADER, STORE_URI=store_uri)
        parse_once(args.python, loader, env)

        # (b) a hand-written loop over a JSON list.
        (base / "specs.json").write_text(json.dumps(specs))
        hand = write_file(base / "b" / "handwritten.py", HANDWRITTEN, SPECS_PATH=str(base / "specs.json"))
        files = [loader, hand]
        if have_dagfactory:  # (c) dag-factory on one YAML file
            (base / "c").mkdir(parents=True, exist_ok=True)
            (base / "c" / "dags.yml").write_text(dagfactory_yaml(specs))
            files.append(
                write_file(
                    base / "c" / "dagfactory_dags.py",
                    DAGFACTORY_LOADER,
                    CONFIG_PATH=str(base / "c" / "dags.yml"),
                )
            )
        results = measure_rounds(args.python, files, env, args.repeat, n)
        a, b = results[0], results[1]

        print(f"N = {n:,} ({a.tasks:,} tasks)")
        print(f"  (a) load_schedules  {fmt(a, n)}")
        print(f"  (b) hand-written    {fmt(b, n)}")
        line = f"N={n:>6,}: " + ratio_line("a/b", a, b)
        if have_dagfactory:
            c = results[2]
            print(f"  (c) dag-factory     {fmt(c, n)}")
            line += "   " + ratio_line("c/a", c, a)
        print(f"  {line}")
        print()
        summary.append(line)
        last = {"n": n, "home": home, "loader": loader, "hand": hand, "base": base}

    if last:
        n, home = last["n"], last["home"]
        # Worker path: the task runner sets the parsing context to the one task it runs.
        target = f"bench.s{n // 2:05d}"
        wenv = child_env(
            home, {"_AIRFLOW_PARSING_CONTEXT_DAG_ID": target, "_AIRFLOW_PARSING_CONTEXT_TASK_ID": "load"}
        )
        w = measure(args.python, last["loader"], wenv, args.repeat, 1)
        print(f"Worker path (parsing context = {target}, one DAG out of {n:,}):")
        print(f"  {fmt(w, 1)}   (target < 0.100 s)")
        print()

        pg_line = store_down(
            args,
            specs_for=bench_spec,
            n=n,
            home=home,
            base=last["base"],
            sqlite_loader=last["loader"],
            hand=last["hand"],
        )
        if pg_line:
            summary.append(pg_line)

    print(
        "Summary (targets: a/b <= 1.05 with the SQLite store and <= 1.15 with a PostgreSQL store at "
        "N = 1,000, <= 1.15 at 10,000; c/a >= 4):"
    )
    for line in summary:
        print("  " + line)
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
