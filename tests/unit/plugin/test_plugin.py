"""The plugin class: registration, what it offers per Airflow version, and what importing it costs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_provider_scheduler.plugin import URL_PREFIX, LazySchedulesApi, SchedulesPlugin, api_supported

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT / "dev"))
from local_airflow import PLUGIN_ENTRY_POINT, plugins_folder  # noqa: E402

if TYPE_CHECKING:
    import pytest

RESERVED = ("/api/v2", "/ui", "/execution", "/auth", "/pluginsv2")


class TestRegistration:
    def test_entry_point_declared_and_resolves_to_the_class(self) -> None:
        project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
        target = project["entry-points"]["airflow.plugins"]["schedules"]
        assert target == PLUGIN_ENTRY_POINT
        module, _, attr = target.partition(":")
        assert getattr(import_module(module), attr) is SchedulesPlugin

    def test_plugins_folder_loads_it_once(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        import local_airflow

        monkeypatch.setattr(local_airflow, "plugin_entry_point_installed", lambda: False)
        folder = plugins_folder(tmp_path / "plugins")
        assert (
            (folder / "schedules_plugin.py")
            .read_text()
            .startswith("from airflow_provider_scheduler.plugin import SchedulesPlugin")
        )
        monkeypatch.setattr(local_airflow, "plugin_entry_point_installed", lambda: True)
        assert list(plugins_folder(folder).iterdir()) == []


class TestWhatItOffers:
    def test_api_on_31_and_later_nothing_before(self) -> None:
        from airflow import __version__

        major, minor = (int(x) for x in __version__.split(".")[:2])
        assert api_supported() is ((major, minor) >= (3, 1))
        if not api_supported():
            assert SchedulesPlugin.fastapi_apps == []
            return
        (entry,) = SchedulesPlugin.fastapi_apps
        assert entry["url_prefix"] == URL_PREFIX == "/schedules"
        assert not URL_PREFIX.startswith(RESERVED)
        assert isinstance(entry["app"], LazySchedulesApi)

    def test_lazy_app_builds_once(self) -> None:
        built: list[object] = []

        def factory() -> object:
            built.append(object())
            return built[-1]

        lazy = LazySchedulesApi(factory)
        assert built == []
        assert lazy.app is lazy.app
        assert len(built) == 1


def _fresh_python(code: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


class TestImportCost:
    def test_importing_the_plugin_builds_nothing(self) -> None:
        """In a process that already imported Airflow, the plugin adds its own module and nothing else."""
        code = (
            "import sys, json, airflow, airflow.plugins_manager\n"
            "before = set(sys.modules)\n"
            "import airflow_provider_scheduler.plugin as p\n"
            "new = sorted(set(sys.modules) - before)\n"
            "print(json.dumps(new))\n"
        )
        new = json.loads(_fresh_python(code))
        assert set(new) <= {
            "airflow_provider_scheduler",
            "airflow_provider_scheduler.plugin",
            "airflow_provider_scheduler.plugin.ui_apps",  # the react_apps entries: paths and names only
        }


class TestLoadedByAirflow:
    def test_airflow_loads_it_without_import_errors(self, tmp_path: Path) -> None:
        """Airflow's own plugin manager (entry point or plugins folder) loads it, in every version."""
        env = {
            "AIRFLOW_HOME": str(tmp_path),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder(tmp_path / "plugins")),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        code = (
            "import json\n"
            "from airflow import plugins_manager as pm\n"
            "pm.ensure_plugins_loaded()\n"
            "plugins = pm._get_plugins()[0] if hasattr(pm, '_get_plugins') else pm.plugins\n"
            "errors = pm.get_import_errors() if hasattr(pm, 'get_import_errors') else pm.import_errors\n"
            "names = [p.name for p in plugins]\n"
            "apps = [a['url_prefix'] for p in plugins for a in getattr(p, 'fastapi_apps', [])]\n"
            "print(json.dumps({'names': names, 'errors': errors, 'apps': apps}))\n"
        )
        loaded = json.loads(_fresh_python(code, env))
        assert loaded["errors"] == {}
        assert loaded["names"].count("schedules") == 1
        assert loaded["apps"] == (["/schedules"] if api_supported() else [])

    def test_airflow_plugins_command_lists_it(self, tmp_path: Path) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "AIRFLOW_HOME": str(tmp_path),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder(tmp_path / "plugins")),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        airflow = Path(sys.executable).with_name("airflow")
        result = subprocess.run(
            [str(airflow), "plugins", "--output", "json"],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        start = result.stdout.index("[")
        plugins = json.loads(result.stdout[start:])
        assert [p["name"] for p in plugins].count("schedules") == 1
        assert "Failed to import plugin" not in result.stderr
        assert "Traceback" not in result.stderr
