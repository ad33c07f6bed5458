"""Session fixtures that start real servers once per test session and tear them down at the end.

- ``postgres``: a PostgreSQL cluster from Debian's binaries on a free port of 127.0.0.1.
- ``airflow``: a real Airflow 3 (api-server, scheduler, dag-processor, triggerer) on 127.0.0.1 whose
  dags folder holds the provider's loader file and whose spec store is a PostgreSQL database.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "dev"))

from local_airflow import (  # noqa: E402
    Airflow2Server,
    AirflowServer,
    PostgresServer,
    find_postgres_bin,
    plugins_folder,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

AIRFLOW_3 = False
try:
    from airflow import __version__ as _airflow_version

    AIRFLOW_3 = int(_airflow_version.split(".")[0]) >= 3
except ImportError:  # pragma: no cover
    pass


#: What an admin configures for the example specs (the QA suite uses approved python callables).
EXAMPLE_ADMIN_SETTINGS = {
    "AIRFLOW__SCHEDULE_SPECS__ENABLED_TEMPLATES": "python",
    "AIRFLOW__SCHEDULE_SPECS__PYTHON_CALLABLES": (
        "qa_checks.create_environment,qa_checks.run_check,qa_checks.destroy_environment"
    ),
    # the deadline test points it_deadline_hook at a recording HTTP server (test_deadline_e2e.py), the
    # approval test it_chat (operators/test_approval_e2e.py)
    "AIRFLOW__SCHEDULE_SPECS__WEBHOOK_CONNECTIONS": "it_deadline_hook,it_chat",
    # additive: specs may name Airflow's default_pool (tests/integration/factory/test_overrides_e2e.py)
    "AIRFLOW__SCHEDULE_SPECS__POOLS": '{"*": ["default_pool"]}',
}


def _copy_example_dags(dags_folder: Path) -> None:
    """Give a deployment what the demo has: the loader file, the example DAGs and the QA callables."""
    for path in (REPO_ROOT / "example_dags").glob("*.py"):
        shutil.copy(path, dags_folder / path.name)


#: Users and namespaces of the portal tests (tests/integration/plugin): SimpleAuthManager users of
#: each role, and a mapping where team-a and team-b are closed to each other. ``admin`` keeps every
#: other namespace (the example specs), so the other tests see no difference.
PORTAL_USERS = {"admin": "admin", "viewer": "viewer", "alice": "user", "bob": "user"}
PORTAL_NAMESPACE_ACCESS = {
    "team-a": ["alice", "viewer", "role:admin"],
    "team-b": ["bob", "role:admin"],
    "*": ["role:admin"],
}


def portal_env(home: Path) -> dict[str, str]:
    """What the portal tests add to the shared deployment: the plugin, the users, the mapping."""
    return {
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder(home / "plugins")),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in PORTAL_USERS.items()),
        "AIRFLOW__SCHEDULE_SPECS__NAMESPACE_ACCESS": json.dumps(PORTAL_NAMESPACE_ACCESS),
    }


def _postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of Debian's binaries on a free port, destroyed afterwards."""
    if find_postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing; .ci/run must install Debian's postgresql")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    server = PostgresServer()
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    yield from _postgres_server()


@pytest.fixture(scope="session")
def airflow_metadata() -> Iterator[PostgresServer]:
    """A PostgreSQL server of its own for the shared Airflow's metadata DB.

    Not SQLite: with a LocalExecutor and four components on SQLite, Airflow 3.3's api-server now and
    then stalls every component for the lock's whole timeout (then answers "Database error").
    Not the ``postgres`` server: the store-outage tests stop that one, and Airflow must stay up.
    """
    yield from _postgres_server()


@pytest.fixture(scope="session")
def airflow(postgres: PostgresServer, airflow_metadata: PostgresServer) -> Iterator[AirflowServer]:
    if not AIRFLOW_3:
        pytest.skip("the shared end-to-end deployment runs Airflow 3.x")
    store_uri = postgres.new_database("airflow_schedule_specs")
    server = AirflowServer(
        store_uri=store_uri,
        metadata_uri=airflow_metadata.new_database("airflow"),
        extra_env=EXAMPLE_ADMIN_SETTINGS,
    )
    server.env.update(portal_env(server.home))
    _copy_example_dags(server.dags_folder)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def airflow2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Airflow2Server]:
    """A real Airflow 2.11 (webserver with API v1, scheduler, triggerer); SQLite spec store."""
    if AIRFLOW_3:
        pytest.skip("the Airflow 2 deployment runs in the Airflow 2.11 virtualenv")
    server = Airflow2Server(extra_env=EXAMPLE_ADMIN_SETTINGS)
    _copy_example_dags(server.dags_folder)
    try:
        server.start()
        yield server
    finally:
        server.destroy()
