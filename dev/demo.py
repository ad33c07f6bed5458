"""Start the demo: a real Airflow 3.3 on 127.0.0.1 with this provider and the example specs.

Run through ``dev/demo.sh`` (which prepares the virtualenv). The demo keeps its state in
``dev/.demo/`` (Airflow home, metadata DB, the embedded SQLite spec store), uses ``example_dags/`` as
its dags folder, and stops every component on Ctrl-C or SIGTERM. A restart shows the state the demo
stopped with: the Fernet and secret keys stay in the state folder (``local_airflow.kept_secrets``),
and ``example_dags/specs/*.yaml`` are applied to the store on the first start and afterwards only when
a file changed since the demo last applied it, never over later revisions (a pause, the ``finish``
revision of a ``@once`` spec, a change made with the CLI).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_airflow import REPO_ROOT, VENV_BIN, AirflowServer, free_port, write_private

#: In the state folder: the content hash of each example spec file as the demo last applied it.
APPLIED_FILE = "applied-example-specs.json"
_APPLIED_LINE = re.compile(r"^applied (\S+) as revision \d+$", re.MULTILINE)
_UNCHANGED_LINE = re.compile(r"^unchanged (\S+) at revision \d+$", re.MULTILINE)

DEMO_CONFIG = """\
# Written by dev/demo.py at every start.
[schedule_specs]
store = {store_uri}
# The QA example uses the opt-in python template with these approved callables (example_dags/qa_checks.py).
enabled_templates = python
python_callables = qa_checks.create_environment,qa_checks.run_check,qa_checks.destroy_environment
"""


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _applied(home: Path) -> dict[str, str]:
    """File name -> content hash of the example specs as the demo last applied them (none: empty)."""
    try:
        return dict(json.loads((home / APPLIED_FILE).read_text()))
    except (OSError, ValueError):
        return {}


def specs_to_apply(home: Path, spec_files: list[Path]) -> list[Path]:
    """The example spec files that are new or changed since the demo last applied them."""
    applied = _applied(home)
    return [path for path in spec_files if applied.get(path.name) != _digest(path)]


def record_applied(home: Path, spec_files: list[Path]) -> None:
    """Remember the content of ``spec_files`` as applied (merged with what was applied before)."""
    applied = _applied(home)
    applied.update({path.name: _digest(path) for path in spec_files})
    write_private(home / APPLIED_FILE, json.dumps(applied, indent=2, sort_keys=True))


def apply_summary(cli_stdout: str, files: list[Path]) -> str:
    """One line instead of the CLI's full diff: which specs the apply wrote."""
    if not files:
        return "example specs unchanged since the demo last applied them"
    ids = _APPLIED_LINE.findall(cli_stdout)
    same = _UNCHANGED_LINE.findall(cli_stdout)
    parts = []
    if ids:
        parts.append(f"applied {len(ids)} example spec{'s' if len(ids) != 1 else ''}: {', '.join(ids)}")
    if same or not ids:
        parts.append(f"unchanged: {', '.join(same) or ', '.join(p.name for p in files)}")
    return "; ".join(parts)


def main() -> int:
    home = Path(os.environ.get("DEMO_HOME", REPO_ROOT / "dev" / ".demo")).resolve()
    wanted = int(os.environ.get("DEMO_PORT", "8080"))
    port = wanted if _port_free(wanted) else free_port()
    store_uri = f"sqlite:///{home / 'schedule_specs.db'}"
    home.mkdir(parents=True, exist_ok=True)
    # The admin's settings live in the demo's airflow.cfg, so the CLI in another terminal (with
    # AIRFLOW_HOME=dev/.demo) uses the same store and allow-lists as the running Airflow.
    (home / "airflow.cfg").write_text(DEMO_CONFIG.format(store_uri=store_uri))
    server = AirflowServer(
        home=home,
        dags_folder=REPO_ROOT / "example_dags",
        port=port,
        store_uri=store_uri,
    )
    # scheduler_default lives in the metadata DB (saved below once the API answers), not in the
    # environment: so Admin -> Connections lists it, its Test button works, and the CLI in another
    # terminal (AIRFLOW_HOME=dev/.demo) finds it to ask Airflow for a reparse after pause/delete.
    server.env.pop("AIRFLOW_CONN_SCHEDULER_DEFAULT", None)
    cli = str(VENV_BIN / "airflow-scheduler")
    specs = sorted((REPO_ROOT / "example_dags" / "specs").glob("*.y*ml"))
    changed = specs_to_apply(home, specs)
    stdout = ""
    if changed:
        applied = server.scheduler_cli("apply", "--author", "demo", *map(str, changed))
        if applied.returncode != 0:
            print(applied.stdout, applied.stderr, sep="", file=sys.stderr)
            return 1
        stdout = applied.stdout
        record_applied(home, changed)
    print(apply_summary(stdout, changed), flush=True)

    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(f"Starting Airflow 3.3 on {server.base_url} (logs in {server.logs}) ...", flush=True)
    try:
        server.start()
        server.save_connection("scheduler_default", server.scheduler_connection())
        rel = os.path.relpath
        print(
            f"""
Airflow is up:   {server.base_url}
  user:          {server.username}
  password:      {server.password}

The DAGs generated from example_dags/specs appear in the UI within about a minute.
In another terminal, apply your own spec and see what is stored:
  export AIRFLOW_HOME={rel(home)}
  {rel(cli)} apply path/to/my-spec.yaml
  {rel(cli)} list
Press Ctrl-C to stop.""",
            flush=True,
        )
        while not stopping:
            time.sleep(0.5)
            try:
                server.check_alive()
            except RuntimeError as err:
                print(f"A component stopped unexpectedly: {err}", file=sys.stderr)
                return 1
    finally:
        print("Stopping Airflow ...", flush=True)
        server.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
