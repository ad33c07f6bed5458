"""Spec schedules -> the running Airflow's timetables (``factory/timetables.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_provider_scheduler.factory.timetables import airflow_schedule
from airflow_provider_scheduler.spec import (
    AssetSchedule,
    CronSchedule,
    EverySchedule,
    ManualSchedule,
    MultiCronSchedule,
    OnceSchedule,
    SpecError,
)

try:
    from airflow.sdk import __version__ as _sdk_version  # noqa: F401

    AIRFLOW_3 = True
except ImportError:
    AIRFLOW_3 = False


def _expression(timetable: Any) -> str:
    # the task-SDK timetable (3.x) has .expression; core's (2.11) has .summary
    return getattr(timetable, "expression", None) or timetable.summary


class TestAirflowSchedule:
    @pytest.mark.parametrize(
        "schedule",
        [
            ManualSchedule(),
            OnceSchedule(),
            CronSchedule("0 6 * * 1-5", "Europe/Berlin"),
            MultiCronSchedule(("0 6 * * *", "0 18 * * *"), "UTC"),
            EverySchedule(timedelta(hours=4)),
            AssetSchedule(("s3://bucket/a", "s3://bucket/b"), "any"),
        ],
    )
    def test_dag_accepts_it(self, schedule):
        from airflow.providers.common.compat.sdk import DAG

        dag = DAG(
            dag_id="spec_schedule_test",
            schedule=airflow_schedule(schedule),
            start_date=datetime(2026, 1, 1, tzinfo=UTC),
        )
        assert dag.timetable is not None

    def test_manual_and_once(self):
        assert airflow_schedule(ManualSchedule()) is None
        assert airflow_schedule(OnceSchedule()) == "@once"

    def test_cron_is_a_trigger_timetable(self):
        timetable = airflow_schedule(CronSchedule("@daily", "Europe/Berlin"))
        assert type(timetable).__name__ == "CronTriggerTimetable"
        assert _expression(timetable) == "0 0 * * *"

    def test_every_is_a_delta_trigger_timetable(self):
        timetable = airflow_schedule(EverySchedule(timedelta(hours=4)))
        assert type(timetable).__name__ == "DeltaTriggerTimetable"

    @pytest.mark.skipif(not AIRFLOW_3, reason="MultipleCronTriggerTimetable exists from Airflow 3.0 on")
    def test_several_crons_on_airflow_3(self):
        timetable = airflow_schedule(MultiCronSchedule(("0 6 * * *", "30 18 * * *"), "UTC"))
        assert type(timetable).__name__ == "MultipleCronTriggerTimetable"

    @pytest.mark.skipif(AIRFLOW_3, reason="Airflow 2.11 has no MultipleCronTriggerTimetable")
    def test_several_crons_on_airflow_2(self):
        merged = airflow_schedule(MultiCronSchedule(("0 6 * * *", "0 18 * * *"), "UTC"))
        assert type(merged).__name__ == "CronTriggerTimetable"
        assert _expression(merged) == "0 6,18 * * *"
        with pytest.raises(SpecError) as info:
            airflow_schedule(MultiCronSchedule(("0 6 * * *", "30 18 * * *"), "UTC"))
        assert info.value.problems[0].path == "schedule.crons"
        assert info.value.problems[0].message.startswith(
            "several cron expressions that differ in more than one field need Airflow 3 "
            "(MultipleCronTriggerTimetable), and this is Airflow 2.11"
        )

    def test_assets(self):
        from airflow.providers.common.compat.sdk import AssetAll, AssetAny

        assert isinstance(airflow_schedule(AssetSchedule(("s3://b/a", "s3://b/b"))), AssetAll)
        assert isinstance(airflow_schedule(AssetSchedule(("s3://b/a",), "any")), AssetAny)
