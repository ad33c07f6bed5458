"""Spec schedules -> the running Airflow's timetables (``factory/timetables.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airflow_provider_scheduler.factory.timetables import airflow_schedule
from airflow_provider_scheduler.spec import (
    AssetSchedule,
    CronSchedule,
    EverySchedule,
    ManualSchedule,
    MultiCronSchedule,
    OnceSchedule,
)
from airflow_provider_scheduler.spec.schedule import parse_schedule


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

    def test_cron_is_the_spec_timetable_naming_its_timezone(self):
        timetable = airflow_schedule(CronSchedule("@daily", "Europe/Berlin"))
        assert type(timetable).__name__ == "SpecTimetable"
        assert timetable.summary == "0 0 * * * Europe/Berlin"
        assert timetable.serialize() == {"members": [{"cron": "0 0 * * *", "timezone": "Europe/Berlin"}]}

    def test_every_is_a_delta_trigger_timetable(self):
        timetable = airflow_schedule(EverySchedule(timedelta(hours=4)))
        assert type(timetable).__name__ == "DeltaTriggerTimetable"

    def test_several_crons_on_every_version(self):
        # (Airflow 2.11 has no MultipleCronTriggerTimetable; the provider's timetable is the union)
        timetable = airflow_schedule(MultiCronSchedule(("0 6 * * *", "30 18 * * 1-5"), "Asia/Tokyo"))
        assert timetable.summary == "0 6 * * * Asia/Tokyo; 30 18 * * 1-5 Asia/Tokyo"

    def test_at_is_airflows_events_timetable(self):
        schedule = parse_schedule(
            {"at": ["2026-06-01T09:00:00+02:00", "2026-03-01T09:00:00+01:00"]}, "schedule", []
        )
        timetable = airflow_schedule(schedule)
        assert (
            type(timetable).__module__ + "." + type(timetable).__name__
            == "airflow.timetables.events.EventsTimetable"
        )
        assert [d.astimezone(UTC).isoformat() for d in timetable.event_dates] == [
            "2026-03-01T08:00:00+00:00",
            "2026-06-01T07:00:00+00:00",
        ]

    def test_any_of_with_assets_is_asset_or_time(self):
        schedule = parse_schedule(
            {
                "any_of": [
                    {"cron": "0 9 * * 1-5", "timezone": "Europe/London"},
                    {"cron": "0 9 * * 1-5", "timezone": "America/New_York"},
                    {"assets": ["s3://warehouse/orders"]},
                ]
            },
            "schedule",
            [],
        )
        value = airflow_schedule(schedule)
        assert type(value).__name__ in ("AssetOrTimeSchedule", "DatasetOrTimeSchedule")
        assert value.timetable.summary == "0 9 * * 1-5 Europe/London; 0 9 * * 1-5 America/New_York"

    def test_assets(self):
        from airflow.providers.common.compat.sdk import AssetAll, AssetAny

        assert isinstance(airflow_schedule(AssetSchedule(("s3://b/a", "s3://b/b"))), AssetAll)
        assert isinstance(airflow_schedule(AssetSchedule(("s3://b/a",), "any")), AssetAny)
