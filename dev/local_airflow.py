"""A local Airflow deployment and PostgreSQL cluster on 127.0.0.1, without Docker.

Used by the demo (``dev/demo.py``), by the integration tests' session fixtures
(``tests/integration/conftest.py``) and by benchmarks that need a real PostgreSQL. Everything listens
on 127.0.0.1 only, on free ports, in temporary directories, and is torn down by ``stop()``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HungServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a hung database)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.conns: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        for conn in self.conns:
            conn.close()
        self.sock.close()


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (mode 0600), replacing it atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


#: The deployment's keys, kept in ``home`` so a restart can still decrypt connections and sessions.
SECRETS_FILE = "deployment-secrets.json"


def kept_secrets(home: Path) -> dict[str, str]:
    """The Fernet key and signing secrets of the deployment in ``home``: created once, then reused.

    Stored in ``home/deployment-secrets.json`` with mode 0600. A new Fernet key at every start would
    make the connections saved in the UI undecryptable after a restart (Admin -> Connections: 500).
    """
    path = home / SECRETS_FILE
    try:
        kept = json.loads(path.read_text())
    except FileNotFoundError:
        kept = {}
    except ValueError as err:
        raise RuntimeError(
            f"{path} is not valid JSON ({err}); it holds this deployment's Fernet key: restore it, "
            f"or remove {home} to start from scratch"
        ) from None
    wanted = {
        "fernet_key": _fernet_key,
        "api_secret_key": lambda: secrets.token_hex(16),
        "jwt_secret": lambda: secrets.token_hex(32),
        "webserver_secret_key": lambda: secrets.token_hex(16),
    }
    missing = {key: make() for key, make in wanted.items() if not kept.get(key)}
    if missing:
        kept.update(missing)
        write_private(path, json.dumps(kept, indent=2))
    return kept


PLUGIN_ENTRY_POINT = "airflow_provider_scheduler.plugin:SchedulesPlugin"


def plugin_entry_point_installed() -> bool:
    """Whether the installed distribution declares the portal plugin (``airflow.plugins`` entry point)."""
    from importlib.metadata import entry_points

    return any(ep.value == PLUGIN_ENTRY_POINT for ep in entry_points(group="airflow.plugins"))


def plugins_folder(path: Path) -> Path:
    """A plugins folder for a test deployment that loads the portal plugin exactly once.

    Airflow loads the plugin through the entry point when the installed distribution declares it;
    otherwise (a checkout newer than the installed metadata) the folder holds a one-line file that
    imports it.
    """
    path.mkdir(parents=True, exist_ok=True)
    target = path / "schedules_plugin.py"
    if plugin_entry_point_installed():
        target.unlink(missing_ok=True)
    else:
        target.write_text("from airflow_provider_scheduler.plugin import SchedulesPlugin  # noqa: F401\n")
    return path


def find_postgres_bin() -> Path | None:
    """Directory of Debian's PostgreSQL server binaries (initdb, pg_ctl), or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    for cand in reversed(candidates):
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    return None


class PostgresServer:
    """A throwaway PostgreSQL cluster (Debian binaries) on 127.0.0.1 with trust authentication."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_postgres_bin()
        if found is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
                "install Debian's `postgresql` package (.ci/run does this)."
            )
        self.bin_dir = found
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="aps-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            # initdb refuses to run as root: run the server as Debian's `postgres` user.
            os.chmod(self.base, 0o755)
            shutil.chown(self.base, user="postgres", group="postgres")

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self.base)

    def init(self) -> None:
        result = self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr or result.stdout}")

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        result = self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "start"
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stderr or result.stdout}\n{_tail(self.log)}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode`` immediate simulates a crash)."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def running(self) -> bool:
        result = self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "status")
        return result.returncode == 0

    def uri_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def uri(self) -> str:
        """SQLAlchemy URL of the default ``postgres`` database."""
        return self.uri_for("postgres")

    def new_database(self, name: str) -> str:
        """Create database ``name`` (dropping an old one) and return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.uri_for(name)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


class AirflowServer:
    """A real Airflow 3 deployment: api-server, scheduler, dag-processor and triggerer on 127.0.0.1."""

    components = ("api-server", "scheduler", "dag-processor", "triggerer")

    def __init__(
        self,
        *,
        store_uri: str | None = None,
        extra_env: dict[str, str] | None = None,
        home: Path | None = None,
        dags_folder: Path | None = None,
        port: int | None = None,
        metadata_uri: str | None = None,
    ) -> None:
        """Prepare (not start) a deployment.

        :param store_uri: the spec store the loader reads (default: SQLite file in ``home``).
        :param metadata_uri: Airflow's metadata DB, a ``postgresql+psycopg://`` URL (default: SQLite
            file ``airflow.db`` in ``home``).
        :param extra_env: extra environment for every component and CLI call.
        :param home: AIRFLOW_HOME to use and keep (default: a new temporary directory, removed by destroy).
        :param dags_folder: dags folder (default: ``home/dags``).
        :param port: API server port (default: a free one).
        """
        self.port = port or free_port()
        self.home = home or Path(tempfile.mkdtemp(prefix="aps-airflow-"))
        self.home.mkdir(parents=True, exist_ok=True)
        self.dags_folder = dags_folder or self.home / "dags"
        self.dags_folder.mkdir(exist_ok=True)
        self.logs = self.home / "component-logs"
        self.logs.mkdir(exist_ok=True)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.username = "admin"
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        try:
            self.password = json.loads(passwords.read_text())[self.username]
        except (OSError, ValueError, KeyError):
            self.password = secrets.token_urlsafe(12)
            write_private(passwords, json.dumps({self.username: self.password}))
        kept = kept_secrets(self.home)
        self.store_uri = store_uri or f"sqlite:///{self.home / 'schedule_specs.db'}"
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._token: str | None = None
        self._session = requests.Session()
        conn = self.scheduler_connection()
        self.env: dict[str, str] = {
            **os.environ,
            # Executors start `airflow` by name: make it this virtualenv's.
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__FERNET_KEY": kept["fernet_key"],
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.username}:admin",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": kept["api_secret_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": kept["jwt_secret"],
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW__TRIGGERER__DEFAULT_CAPACITY": "200",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__SCHEDULE_SPECS__STORE": self.store_uri,
            "AIRFLOW_CONN_SCHEDULER_DEFAULT": json.dumps(conn),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)
        # The metadata DB: SQLite in AIRFLOW_HOME, as `airflow standalone` has it, but every process
        # waits up to 60 s for the write lock instead of SQLAlchemy's 5 s (with four components on two
        # busy cores a dag-processor write can hold it longer, and the API answers "Database error").
        self.metadata_db = self.home / "airflow.db"
        self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{self.metadata_db}?timeout=60"
        if metadata_uri:
            # psycopg 3 serves SQLAlchemy's async engine too (the api-server needs no asyncpg).
            self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = metadata_uri
            self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = metadata_uri
        if extra_env:
            self.env.update(extra_env)

    def scheduler_connection(self) -> dict[str, Any]:
        """The ``scheduler_default`` connection to this deployment (the form's fields, port included:
        Airflow 3.3.2's Test button in the connection list needs a stored port)."""
        return {
            "conn_type": "scheduler",
            "host": self.base_url,
            "port": self.port,
            "login": self.username,
            "password": self.password,
            "extra": {"api_version": "v2", "timeout": 30, "max_retries": 3},
        }

    def save_connection(self, conn_id: str, conn: dict[str, Any]) -> bool:
        """Store ``conn`` in the metadata DB through the API unless ``conn_id`` exists; True if created.

        Idempotent: an existing connection (maybe edited in the UI since) is left as it is. The
        password travels in the request body, never on a command line. On a SQLite metadata DB
        Airflow 3.3's api-server now and then stalls a request for the database lock's whole wait
        (60 s) and may then answer "Database error": such a request is waited for and sent again
        (a save that did land then answers 409, which counts as saved).
        """
        body = {**conn, "connection_id": conn_id, "extra": json.dumps(conn.get("extra") or {})}
        last = ""
        for attempt in range(3):
            try:
                resp = self.api("POST", "/api/v2/connections", json=body, timeout=150)
            except (requests.Timeout, requests.ConnectionError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if resp.status_code == 409:
                return attempt > 0  # a retried save that had landed: created by this call
            if resp.status_code == 201:
                return True
            last = f"{resp.status_code} {resp.text[:300]}"
            if resp.status_code < 500:
                break
            time.sleep(2)
        raise RuntimeError(f"could not save connection {conn_id}: {last}")

    # lifecycle -------------------------------------------------------------------------------
    api_prefix = "/api/v2"

    def _prepare(self) -> None:
        migrate = subprocess.run(
            [str(VENV_BIN / "airflow"), "db", "migrate"],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if migrate.returncode != 0:
            raise RuntimeError(
                f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}"
            )
        if self.metadata_db.exists():  # (an extra_env may have pointed Airflow elsewhere)
            # Write-ahead logging (kept in the file): readers no longer block the one writer, nor it them.
            with contextlib.closing(sqlite3.connect(self.metadata_db, timeout=60)) as db:
                db.execute("PRAGMA journal_mode=WAL")

    def _component_args(self, name: str) -> list[str]:
        args = [str(VENV_BIN / "airflow"), name]
        if name == "api-server":
            args += ["-H", "127.0.0.1", "-p", str(self.port)]
        if name in ("scheduler", "triggerer"):
            args += ["--skip-serve-logs"]
        return args

    def _healthy(self) -> bool:
        resp = requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=2)
        return resp.ok and resp.json().get("scheduler", {}).get("status") == "healthy"

    def start(self, timeout: float = 180) -> None:
        """Migrate the metadata DB, start every component and wait until the scheduler is healthy."""
        self._prepare()
        for name in self.components:
            args = self._component_args(name)
            log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            self._procs[name] = subprocess.Popen(
                args,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.home,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if self._healthy():
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(1)
        raise RuntimeError(f"Airflow did not become healthy within {timeout}s:\n{self.log_tails()}")

    def check_alive(self) -> None:
        """Raise RuntimeError naming the component (and its log tail) if one has exited."""
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"airflow {name} exited with {proc.returncode}:\n{_tail(self.logs / f'{name}.log')}"
                )

    def log_tails(self, lines: int = 40) -> str:
        return "\n".join(
            f"--- {name} ---\n{_tail(self.logs / f'{name}.log', lines)}" for name in self.components
        )

    def stop(self) -> None:
        for proc in self._procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self._procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        # Task processes started by LocalExecutor live in the scheduler's group; make sure none is left.
        for proc in self._procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        self._procs.clear()

    # REST API --------------------------------------------------------------------------------
    @property
    def token(self) -> str:
        if self._token is None:
            resp = requests.post(
                f"{self.base_url}/auth/token",
                json={"username": self.username, "password": self.password},
                timeout=30,
            )
            resp.raise_for_status()
            self._token = resp.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Authenticated request to the API server; ``path`` starts with ``/``."""
        kwargs.setdefault("timeout", 30)
        for _ in range(2):
            headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self.token}"}
            resp = self._session.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)
            if resp.status_code != 401:
                return resp
            self._token = None
        return resp

    def add_dag_file(self, name: str, text: str) -> Path:
        """Write a DAG file into the dags folder (atomically, so the processor never sees half a file)."""
        target = self.dags_folder / name
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, target)
        return target

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            resp = self.api("GET", f"{self.api_prefix}/dags/{dag_id}")
            if resp.status_code == 200:
                return resp.json()
            time.sleep(1)
        errors = self.api("GET", f"{self.api_prefix}/importErrors").json()
        raise AssertionError(f"DAG {dag_id} did not appear within {timeout}s; import errors: {errors}")

    def wait_for_dag_gone(self, dag_id: str, timeout: float = 120) -> None:
        """Wait until the DAG is gone or marked stale (no longer in the dags folder)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            resp = self.api("GET", f"{self.api_prefix}/dags/{dag_id}")
            if resp.status_code == 404 or (
                resp.ok and (resp.json().get("is_stale") or resp.json().get("is_active") is False)
            ):
                return
            time.sleep(1)
        raise AssertionError(f"DAG {dag_id} still active after {timeout}s")

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, **body: Any) -> dict[str, Any]:
        resp = self.api(
            "POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}, **body}
        )
        assert resp.status_code in (200, 201), resp.text
        return resp.json()

    def get_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        resp = self.api("GET", f"{self.api_prefix}/dags/{dag_id}/dagRuns/{run_id}")
        resp.raise_for_status()
        return resp.json()

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = self.get_run(dag_id, run_id)
            if run["state"] in ("success", "failed"):
                return run
            time.sleep(1)
        raise AssertionError(
            f"run {dag_id}/{run_id} still {run.get('state')} after {timeout}s; "
            f"tasks: {self.task_instances(dag_id, run_id)}\n{self.log_tails(20)}"
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        resp = self.api("GET", f"{self.api_prefix}/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        resp.raise_for_status()
        return resp.json()["task_instances"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}

    def cli(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``airflow ARGS`` against this deployment."""
        return self._run([str(VENV_BIN / "airflow"), *args], check=check, timeout=timeout)

    def scheduler_cli(
        self, *args: str, check: bool = False, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run this provider's ``airflow-scheduler ARGS`` CLI with this deployment's environment."""
        return self._run([str(VENV_BIN / "airflow-scheduler"), *args], check=check, timeout=timeout)

    def _run(self, cmd: list[str], *, check: bool, timeout: float) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            cmd, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def destroy(self) -> None:
        """Stop every component and remove the home (kept, and named, with APS_KEEP_AIRFLOW_HOME=1)."""
        self.stop()
        if os.environ.get("APS_KEEP_AIRFLOW_HOME") == "1":
            print(f"kept the Airflow home {self.home} (APS_KEEP_AIRFLOW_HOME=1)", file=sys.stderr)
            return
        shutil.rmtree(self.home, ignore_errors=True)


class Airflow2Server(AirflowServer):
    """A real Airflow 2.11 deployment: webserver (REST API v1, basic auth), scheduler and triggerer.

    SQLite metadata, so the scheduler runs tasks with the SequentialExecutor (one at a time) and
    parses the dags folder itself.
    """

    components = ("webserver", "scheduler", "triggerer")
    api_prefix = "/api/v1"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for key in list(self.env):
            if key.startswith(("AIRFLOW__API__", "AIRFLOW__API_AUTH__", "AIRFLOW__DAG_PROCESSOR__")):
                del self.env[key]
        self.env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
                "AIRFLOW__API__AUTH_BACKENDS": (
                    "airflow.providers.fab.auth_manager.api.auth.backend.basic_auth"
                ),
                "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": "127.0.0.1",
                "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(self.port),
                "AIRFLOW__WEBSERVER__BASE_URL": self.base_url,
                "AIRFLOW__WEBSERVER__WORKERS": "1",
                "AIRFLOW__WEBSERVER__SECRET_KEY": kept_secrets(self.home)["webserver_secret_key"],
                "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__CORE__DAG_FILE_PROCESSOR_TIMEOUT": "120",
                "AIRFLOW_CONN_SCHEDULER_DEFAULT": json.dumps(
                    {
                        "conn_type": "scheduler",
                        "host": self.base_url,
                        "login": self.username,
                        "password": self.password,
                        "extra": {"api_version": "v1", "timeout": 30, "max_retries": 3},
                    }
                ),
            }
        )

    def _prepare(self) -> None:
        super()._prepare()
        self._run(
            [
                str(VENV_BIN / "airflow"),
                "users",
                "create",
                "--username",
                self.username,
                "--password",
                self.password,
                "--role",
                "Admin",
                "--email",
                "admin@example.com",
                "--firstname",
                "Ad",
                "--lastname",
                "Min",
            ],
            check=True,
            timeout=300,
        )

    def _component_args(self, name: str) -> list[str]:
        args = [str(VENV_BIN / "airflow"), name]
        if name == "webserver":
            args += ["-H", "127.0.0.1", "-p", str(self.port), "--workers", "1"]
        if name in ("scheduler", "triggerer"):
            args += ["--skip-serve-logs"]
        return args

    def _healthy(self) -> bool:
        resp = requests.get(f"{self.base_url}/health", timeout=2)
        return resp.ok and resp.json().get("scheduler", {}).get("status") == "healthy"

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self._session.request(
            method, f"{self.base_url}{path}", auth=(self.username, self.password), **kwargs
        )

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, **body: Any) -> dict[str, Any]:
        resp = self.api("POST", f"/api/v1/dags/{dag_id}/dagRuns", json={"conf": conf or {}, **body})
        assert resp.status_code in (200, 201), resp.text
        return resp.json()
