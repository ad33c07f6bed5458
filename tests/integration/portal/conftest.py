"""A real Airflow 3 with the provider's plugin, for the Schedules pages' browser test.

The plugin comes from the ``airflow.plugins`` entry point when the installed distribution declares
it, else from a plugins-folder file importing ``SchedulesPlugin``. When that plugin has no Schedules
API (``fastapi_apps``) yet, the folder also gets the TEST FAKE of the API
(``schedules_api_fake.py``), so the pages can be driven end to end; the test reports which API ran.
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from local_airflow import AirflowServer

if TYPE_CHECKING:
    from collections.abc import Iterator

HERE = Path(__file__).parent
REPO_ROOT = HERE.parents[2]

PLUGIN_FROM_PACKAGE = """\
# The provider's plugin, loaded from the plugins folder (the installed distribution has no entry point).
from airflow_provider_scheduler.plugin import SchedulesPlugin  # noqa: F401
"""
FAKE_API_PLUGIN = """\
# TEST FAKE: the Schedules API's contract, while the package has no API of its own (see the module).
from airflow.plugins_manager import AirflowPlugin

from schedules_api_fake import create_fake_app


class SchedulesApiFakePlugin(AirflowPlugin):
    name = "schedules-api-test-fake"
    fastapi_apps = [
        {"app": create_fake_app(), "url_prefix": "/schedules", "name": "Schedules API (test fake)"}
    ]
"""


def _entry_point_declared() -> bool:
    declared = metadata.entry_points(group="airflow.plugins")
    return any(ep.value.startswith("airflow_provider_scheduler.") for ep in declared)


def package_has_api() -> bool:
    """Whether the package's plugin mounts the real Schedules API."""
    from airflow_provider_scheduler.plugin import SchedulesPlugin

    return bool(getattr(SchedulesPlugin, "fastapi_apps", None))


@pytest.fixture(scope="module")
def portal_airflow() -> Iterator[AirflowServer]:
    from airflow import __version__

    if tuple(int(p) for p in __version__.split(".")[:2]) < (3, 1):
        pytest.skip("the Schedules pages are Airflow 3.1+ (react_apps)")
    server = AirflowServer()
    plugins = server.home / "plugins"
    plugins.mkdir()
    if not _entry_point_declared():
        (plugins / "schedules_plugin.py").write_text(PLUGIN_FROM_PACKAGE)
    server.schedules_api = "the package's"  # type: ignore[attr-defined]
    if not package_has_api():
        server.schedules_api = "the TEST FAKE (the package has no Schedules API yet)"  # type: ignore[attr-defined]
        shutil.copy(HERE / "schedules_api_fake.py", plugins / "schedules_api_fake.py")
        (plugins / "schedules_api_fake_plugin.py").write_text(FAKE_API_PLUGIN)
    server.env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(plugins)
    shutil.copy(REPO_ROOT / "example_dags" / "schedules.py", server.dags_folder / "schedules.py")
    try:
        server.start()
        yield server
    finally:
        server.destroy()
