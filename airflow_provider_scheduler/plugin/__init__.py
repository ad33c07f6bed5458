"""The provider's Airflow plugin: the Schedules pages in Airflow's UI (Airflow 3.1+).

The pages come from :mod:`~airflow_provider_scheduler.plugin.ui_apps` (``react_apps``); their static
files are served by the Schedules API app (:func:`~airflow_provider_scheduler.plugin.ui_static.static_router`
included under ``/schedules``). Airflow loads plugins in every process, so this module builds nothing
of the API and imports nothing heavy. Older Airflow versions ignore ``react_apps``: the plugin loads
there without errors and the CLI is the way to manage specs.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_scheduler.plugin.ui_apps import react_apps


class SchedulesPlugin(AirflowPlugin):
    """The Schedules portal inside Airflow: navigation page and a tab on every DAG's page."""

    name = "schedules"
    react_apps = react_apps()
