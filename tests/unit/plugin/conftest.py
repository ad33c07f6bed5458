"""Fixtures for the portal API tests: a real metadata DB, real JWTs, the real SimpleAuthManager.

``portal``: the Schedules API mounted at ``/schedules`` in a parent FastAPI app (as the api-server
mounts it), a SQLite spec store, and clients signed in as ``viewer`` (role viewer), ``alice`` and
``bob`` (role user; namespaces ``team-a`` and ``team-b``) and ``admin`` (role admin).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from plugin_helpers import NAMESPACE_ACCESS, USERS

from airflow_provider_scheduler.plugin import api_supported

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="session")
def airflow_metadata() -> None:
    """A migrated Airflow metadata DB (SQLite in the session's AIRFLOW_HOME), once per session."""
    if not api_supported():
        pytest.skip("the Schedules API is Airflow 3.1+ (on older versions the plugin offers no API)")
    os.environ.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", "unit-test-jwt-secret-" + "x" * 64)
    from airflow.utils import db

    db.initdb()


@dataclass
class PortalEnv:
    """The mounted API and one signed-in client per test user."""

    store_uri: str
    home: Path
    clients: dict[str, Any] = field(default_factory=dict)
    anonymous: Any = None
    portal: Any = None

    def __getitem__(self, user: str) -> Any:
        return self.clients[user]


@pytest.fixture
def portal(airflow_metadata: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PortalEnv]:
    from airflow.api_fastapi.app import create_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from airflow_provider_scheduler.plugin import URL_PREFIX, LazySchedulesApi
    from airflow_provider_scheduler.plugin.access import NamespaceAccess
    from airflow_provider_scheduler.plugin.api import Portal, create_app

    monkeypatch.setenv(
        "AIRFLOW__CORE__AUTH_MANAGER",
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    )
    auth_manager = create_auth_manager()
    home = tmp_path / "home"
    home.mkdir()
    store_uri = f"sqlite:///{tmp_path / 'specs.db'}"
    state = Portal(store_uri=store_uri, namespaces=NamespaceAccess(NAMESPACE_ACCESS), home=str(home))
    parent = FastAPI()
    parent.mount(URL_PREFIX, LazySchedulesApi(lambda: create_app(state)))
    env = PortalEnv(store_uri=store_uri, home=home, portal=state)
    env.anonymous = TestClient(parent)
    for name, role in USERS.items():
        token = auth_manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role))
        env.clients[name] = TestClient(parent, headers={"Authorization": f"Bearer {token}"})
    yield env
    state.store().close()
