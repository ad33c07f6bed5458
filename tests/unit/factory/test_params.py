"""Spec params -> Airflow ``Param`` objects (``factory/params.py``)."""

from __future__ import annotations

from airflow_provider_scheduler.factory.params import airflow_params
from airflow_provider_scheduler.spec import ManualSchedule, ScheduleSpec, TaskSpec
from airflow_provider_scheduler.spec.model import freeze


def _spec(params: dict) -> ScheduleSpec:
    return ScheduleSpec(
        namespace="qa",
        name="params",
        schedule=ManualSchedule(),
        tasks=(TaskSpec(id="a", template="empty"),),
        params=freeze(params),
    )


def test_params_become_airflow_params():
    params = airflow_params(
        _spec({"region": {"type": "string", "enum": ["eu", "us"], "default": "eu", "description": "Where"}})
    )
    assert params["region"].value == "eu"
    assert params["region"].description == "Where"
    assert params["region"].schema == {"type": "string", "enum": ["eu", "us"]}


def test_param_without_default_must_be_given_at_trigger_time():
    params = airflow_params(_spec({"day": {"type": "string"}}))
    assert not params["day"].has_value


def test_no_params():
    assert airflow_params(_spec({})) == {}
