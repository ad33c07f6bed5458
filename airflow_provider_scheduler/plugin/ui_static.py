"""The Schedules pages' static files, served by the plugin's FastAPI app behind Airflow's sign-in.

``static_router()`` is included by the plugin app under ``/static`` (so the files are at
``/schedules/static/<name>``). A mounted ``StaticFiles`` app would not run the plugin app's
authentication dependency, so the files go through one ordinary route instead, with the same
dependency as every API route: without Airflow's token (bearer header or the UI's ``_token`` cookie)
the answer is 401 and no file.

Only the files present in :data:`~airflow_provider_scheduler.plugin.ui_apps.UI_DIR` when the router
is built can be served: the requested name is looked up in that allow-list, never joined to a path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse

from airflow_provider_scheduler.plugin.ui_apps import UI_DIR

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

#: File types the pages use, and the media type each is served with (ES modules need a JS type).
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


def static_files(folder: Path = UI_DIR) -> dict[str, Path]:
    """The files of ``folder`` that may be served, by name (no subfolders, only known types)."""
    return {
        path.name: path
        for path in sorted(folder.iterdir())
        if path.is_file() and path.suffix in MEDIA_TYPES and not path.name.startswith(".")
    }


def static_router(
    auth_dependency: Callable[..., Any] | None = None,
    *,
    folder: Path = UI_DIR,
    dependencies: Sequence[Any] = (),
) -> APIRouter:
    """An APIRouter with ``GET /static/{name}`` serving the pages' files to signed-in users.

    :param auth_dependency: the dependency that authenticates the request (default: Airflow's
        ``get_user``, which answers 401 without a token and 403 for a bad one).
    :param folder: where the files are (default: the package's ``plugin/ui``).
    :param dependencies: further dependencies for the route.
    """
    if auth_dependency is None:
        auth_dependency = _airflow_get_user()
    files = static_files(folder)
    router = APIRouter(dependencies=[Depends(auth_dependency), *dependencies])

    @router.get("/static/{name}", include_in_schema=False)
    def get_static_file(name: str) -> FileResponse:
        path = files.get(name)
        if path is None:
            raise HTTPException(status_code=404, detail=f"no static file {name!r} in the Schedules pages")
        # no-cache: the browser revalidates (ETag), so an upgraded provider's pages show at once.
        return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})

    return router


def _airflow_get_user() -> Callable[..., Any]:
    # Airflow 3.1+ only (the api-server); the plugin module itself must stay importable on 2.11.
    from airflow.api_fastapi.core_api.security import get_user

    return get_user
