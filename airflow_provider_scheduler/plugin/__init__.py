"""The Airflow plugin: the portal inside Airflow (the Schedules API and pages; Airflow 3.1+).

Registered through the ``airflow.plugins`` entry point (a provider-info ``plugins`` entry alone is
ignored under Airflow's default lazy provider discovery). Airflow loads plugins in every process
(scheduler, dag-processor, triggerer, task runner), so importing this module builds nothing: the API
app is an ASGI wrapper that imports and builds :func:`.api.create_app` on the api-server's first
request under ``/schedules``. On Airflow 2.11 and 3.0 the plugin loads and offers nothing (the CLI is
the path there), apart from the timetable spec DAGs are scheduled with, which every version needs.

The pages are the ``react_apps`` of :mod:`~airflow_provider_scheduler.plugin.ui_apps` (plain ES
modules, no build); their files are served by the Schedules API app under ``/schedules/static``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION
from airflow.plugins_manager import AirflowPlugin

from airflow_provider_scheduler.plugin.ui_apps import react_apps

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Scope = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
    Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: Where the app is mounted in the api-server (not a reserved prefix, not a UI route name).
URL_PREFIX = "/schedules"
#: The oldest Airflow whose api-server the API is built and tested for.
MIN_API_AIRFLOW = (3, 1)


def airflow_version() -> tuple[int, int]:
    """The running Airflow's (major, minor)."""
    parts = AIRFLOW_VERSION.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):  # pragma: no cover - Airflow always has a x.y version
        return (0, 0)


def api_supported() -> bool:
    return airflow_version() >= MIN_API_AIRFLOW


class LazySchedulesApi:
    """An ASGI app that builds the Schedules API on its first request, once per process.

    Airflow reads ``fastapi_apps`` when the api-server starts and mounts each ``app`` with Starlette's
    ``Mount``, which only needs an ASGI callable; building FastAPI routes (and importing FastAPI and
    Airflow's API modules) is deferred to the first request, so the other processes never pay it.
    """

    def __init__(self, factory: Callable[[], Any] | None = None) -> None:
        self._factory = factory
        self._app: Any = None
        self._lock = threading.Lock()

    @property
    def app(self) -> Any:
        """The built FastAPI app (built now if it was not yet)."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    factory = self._factory
                    if factory is None:
                        # Local: the API module imports FastAPI, SQLAlchemy models and the store
                        # (about 0.3-0.5 s); only the api-server's first /schedules request pays it.
                        from airflow_provider_scheduler.plugin.api import create_app

                        factory = create_app
                    self._app = factory()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class RegisteredTimetables(Sequence):
    """The plugin's ``timetables``: the class spec DAGs are scheduled with, imported on first read.

    Airflow only iterates this list, and only where it serializes or reads back a DAG (dag-processor,
    scheduler, api-server); the other processes that load plugins (triggerer, task runner) never pay
    for importing Airflow's timetable modules (croniter, cron_descriptor: about 15 ms).
    """

    def _classes(self) -> tuple[type, ...]:
        from airflow_provider_scheduler.timetables import SpecTimetable

        return (SpecTimetable,)

    def __getitem__(self, index: Any) -> Any:
        return self._classes()[index]

    def __len__(self) -> int:
        return 1


class SchedulesPlugin(AirflowPlugin):
    """The provider's plugin: the Schedules API at ``/schedules/api/v1`` and the Schedules pages (3.1+)."""

    name = "schedules"
    fastapi_apps = (
        [{"app": LazySchedulesApi(), "url_prefix": URL_PREFIX, "name": "Schedules API"}]
        if api_supported()
        else []
    )
    react_apps = react_apps()  # read by Airflow 3.1+ only; older versions ignore the attribute
    # Every version: Airflow serializes (and its scheduler reads back) only timetables a plugin lists.
    timetables = RegisteredTimetables()  # type: ignore[assignment]  # Airflow only iterates it


__all__ = ["URL_PREFIX", "LazySchedulesApi", "RegisteredTimetables", "SchedulesPlugin", "api_supported"]
