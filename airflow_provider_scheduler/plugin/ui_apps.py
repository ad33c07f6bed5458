"""The Schedules pages in Airflow's own UI: the plugin's ``react_apps`` entries.

Airflow 3.1+ renders a ``react_apps`` entry by importing its ``bundle_url`` (an ES module) and mounting
the component the module leaves in ``globalThis.AirflowPlugin`` inside the UI's own React tree, with
the route's ``dagId`` / ``runId`` / ``taskId`` as props. The UI caches that component under the entry's
``name``; a second entry importing the *same* URL would find the module already evaluated and no new
component, so each page has an entry module of its own (``schedules-nav.js``, ``schedules-dag.js``)
importing the shared ``schedules.js``.

The files are plain ES modules, no build step: React and Chakra UI come from the host page
(``globalThis.React``, ``globalThis.ChakraUI``), so the pages follow Airflow's theme, light and dark,
and there is no lockfile or bundler to keep current. They are served by
:mod:`airflow_provider_scheduler.plugin.ui_static` under ``/schedules/static`` behind Airflow's sign-in.

This module imports nothing heavy: the plugin class reads :func:`react_apps` in every Airflow process.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

#: Where the pages' files live inside the installed package (shipped as package data).
UI_DIR = Path(__file__).resolve().parent / "ui"

#: The mount prefix of the plugin's FastAPI app and, under it, the static files' route.
APP_PREFIX = "/schedules"
STATIC_ROUTE = "/static"

#: ``url_route`` of each page: ``/plugin/schedules`` (navigation) and ``/dags/<dag_id>/plugin/schedule-spec``.
NAV_ROUTE = "schedules"
DAG_TAB_ROUTE = "schedule-spec"


def base_path(base_url: str | None) -> str:
    """The path part of Airflow's ``[api] base_url`` without a trailing slash (``""`` at the root).

    Airflow 3.1 imports ``bundle_url`` as given (relative to its own script), 3.2+ resolves it against
    the page's base URL: an absolute path that includes a deployment's sub-path works on both.
    """
    if not base_url:
        return ""
    return urlsplit(base_url).path.rstrip("/")


def static_url(name: str, base_url: str | None = None) -> str:
    """The URL path of one of the pages' static files, e.g. ``/schedules/static/schedules.js``."""
    return f"{base_path(base_url)}{APP_PREFIX}{STATIC_ROUTE}/{name}"


def react_apps(base_url: str | None = None) -> list[dict[str, str]]:
    """The plugin's ``react_apps``: the "Schedules" navigation entry and the tab on every DAG's page.

    :param base_url: Airflow's ``[api] base_url`` (only its path is used); None reads it from the
        configuration when Airflow is importable, else assumes the root.
    """
    if base_url is None:
        base_url = _configured_base_url()
    icon = static_url("schedules-icon.svg", base_url)
    return [
        {
            "name": "Schedules",
            "bundle_url": static_url("schedules-nav.js", base_url),
            "destination": "nav",
            "url_route": NAV_ROUTE,
            "icon": icon,
        },
        {
            "name": "Schedule spec",
            "bundle_url": static_url("schedules-dag.js", base_url),
            "destination": "dag",
            "url_route": DAG_TAB_ROUTE,
            "icon": icon,
        },
    ]


def _configured_base_url() -> str | None:
    try:
        from airflow.configuration import conf  # the plugin manager has imported Airflow already
    except ImportError:  # pragma: no cover - the plugin only loads inside Airflow
        return None
    return conf.get("api", "base_url", fallback=None)
