"""Airflow DAGs built from the schedule specs in the store (see the [schedule_specs] store option)."""

from airflow_provider_scheduler.factory import load_schedules

load_schedules(globals())
