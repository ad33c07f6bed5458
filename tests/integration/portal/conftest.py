"""The Schedules pages' browser test runs on the suite's shared Airflow 3.3 (tests/integration/conftest.py).

That deployment loads the provider's plugin (the ``airflow.plugins`` entry point, else a plugins-folder
one-liner, see ``dev/local_airflow.plugins_folder``), so the pages talk to the package's own
Schedules API; ``admin`` may use every namespace there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from local_airflow import AirflowServer


@pytest.fixture
def portal_airflow(airflow: AirflowServer) -> AirflowServer:
    from airflow import __version__

    if tuple(int(p) for p in __version__.split(".")[:2]) < (3, 1):
        pytest.skip("the Schedules pages are Airflow 3.1+ (react_apps)")
    return airflow
