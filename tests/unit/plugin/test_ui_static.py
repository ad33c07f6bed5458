"""The pages' static files: served only to signed-in users, only from the package's allow-list."""

from __future__ import annotations

import pytest

fastapi = pytest.importorskip(
    "fastapi", reason="the Schedules pages are Airflow 3.1+ (FastAPI api-server) only"
)

from fastapi import FastAPI, Header, HTTPException  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from airflow_provider_scheduler.plugin.ui_apps import UI_DIR  # noqa: E402
from airflow_provider_scheduler.plugin.ui_static import MEDIA_TYPES, static_files, static_router  # noqa: E402


def fake_auth(authorization: str | None = Header(default=None)) -> str:
    """A stand-in for Airflow's get_user: 401 without a token."""
    if authorization != "Bearer good":
        raise HTTPException(status_code=401, detail="Not authenticated")
    return "alice"


def client(**kwargs) -> TestClient:
    app = FastAPI()
    app.include_router(static_router(**kwargs))
    return TestClient(app)


class TestStaticRouter:
    def test_serves_the_pages_to_signed_in_users(self):
        resp = client(auth_dependency=fake_auth).get(
            "/static/schedules-nav.js", headers={"Authorization": "Bearer good"}
        )
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "text/javascript; charset=utf-8"
        assert resp.headers["cache-control"] == "no-cache"
        assert resp.text == (UI_DIR / "schedules-nav.js").read_text()

    def test_unauthenticated_gets_401_and_no_file(self):
        resp = client(auth_dependency=fake_auth).get("/static/schedules.js")
        assert resp.status_code == 401
        assert "AirflowPlugin" not in resp.text

    def test_unknown_or_escaping_names_are_404(self):
        api = client(auth_dependency=fake_auth)
        headers = {"Authorization": "Bearer good"}
        for name in ("nope.js", "..%2F__init__.py", "static.py", "%2Fetc%2Fpasswd"):
            resp = api.get(f"/static/{name}", headers=headers)
            assert resp.status_code == 404, name
        assert api.get("/static/../static.py", headers=headers).status_code == 404

    def test_only_known_file_types_of_the_folder(self, tmp_path):
        (tmp_path / "page.js").write_text("export {};")
        (tmp_path / "secret.py").write_text("x = 1")
        (tmp_path / ".hidden.js").write_text("")
        (tmp_path / "sub").mkdir()
        assert list(static_files(tmp_path)) == ["page.js"]

    def test_the_package_ships_every_page_file(self):
        names = set(static_files())
        assert {"schedules.js", "schedules-core.js", "schedules-nav.js", "schedules-dag.js"} <= names
        assert all(name.rsplit(".", 1)[1] in {s.lstrip(".") for s in MEDIA_TYPES} for name in names)

    def test_default_dependency_is_airflows_sign_in(self):
        pytest.importorskip("airflow.api_fastapi.core_api.security", reason="Airflow 3.1+ api-server")
        resp = client().get("/static/schedules.js")
        assert resp.status_code == 401
        assert resp.json() == {"detail": "Not authenticated"}


class TestPackageData:
    def test_pyproject_ships_the_page_files_in_the_wheel(self):
        import tomllib
        from pathlib import Path

        root = Path(__file__).resolve().parents[3]
        patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
            "airflow_provider_scheduler"
        ]
        package = root / "airflow_provider_scheduler"
        shipped = {path.resolve() for pattern in patterns for path in package.glob(pattern)}
        missing = [name for name, path in static_files().items() if path.resolve() not in shipped]
        assert missing == []
