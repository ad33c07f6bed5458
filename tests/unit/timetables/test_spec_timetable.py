"""The provider's timetable (``timetables.py``): skipped holidays and dates, unions across timezones,
its summary, and its round trip through Airflow's own DAG serializer (which needs the plugin)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pendulum
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction

from airflow_provider_scheduler.timetables import SpecTimetable

BERLIN_WEEKDAYS = {
    "cron": "0 6 * * 1-5",
    "timezone": "Europe/Berlin",
    "skip_holidays": ["DE-BY"],
    "skip_dates": ["2026-12-24", "2026-12-31"],
}


def runs(timetable: SpecTimetable, start: datetime, count: int, *, catchup: bool = True) -> list[str]:
    """The next ``count`` scheduled runs from ``start``, as the scheduler asks for them (UTC ISO)."""
    restriction = TimeRestriction(earliest=pendulum.instance(start), latest=None, catchup=catchup)
    last: DataInterval | None = None
    out = []
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None:
            break
        out.append(info.run_after.in_timezone("UTC").isoformat())
        last = info.data_interval
    return out


class TestSkippedDates:
    def test_holidays_and_listed_dates_do_not_run(self):
        timetable = SpecTimetable([BERLIN_WEEKDAYS])
        got = runs(timetable, datetime(2026, 12, 21, tzinfo=UTC), 9)
        # 24th and 31st listed; 25th (Christmas), 1 Jan and 6 Jan (Epiphany, Bavaria) are holidays;
        # 26th/27th and 2nd/3rd are weekends.
        assert [g[:10] for g in got] == [
            "2026-12-21",
            "2026-12-22",
            "2026-12-23",
            "2026-12-28",
            "2026-12-29",
            "2026-12-30",
            "2027-01-04",
            "2027-01-05",
            "2027-01-07",
        ]
        assert got[0] == "2026-12-21T05:00:00+00:00"  # 06:00 in Berlin (winter time)

    def test_without_skips_every_weekday_runs(self):
        timetable = SpecTimetable([{"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"}])
        got = runs(timetable, datetime(2026, 12, 21, tzinfo=UTC), 5)
        assert [g[:10] for g in got] == ["2026-12-21", "2026-12-22", "2026-12-23", "2026-12-24", "2026-12-25"]

    def test_the_local_date_counts_not_the_utc_date(self):
        # 00:30 in Berlin on 2026-12-24 is 23:30 UTC on the 23rd: still the skipped 24th.
        timetable = SpecTimetable(
            [{"cron": "30 0 * * *", "timezone": "Europe/Berlin", "skip_dates": ["2026-12-24"]}]
        )
        got = runs(timetable, datetime(2026, 12, 22, tzinfo=UTC), 3)
        assert got == ["2026-12-22T23:30:00+00:00", "2026-12-24T23:30:00+00:00", "2026-12-25T23:30:00+00:00"]

    def test_without_catchup_a_skipped_day_is_not_run_late(self):
        timetable = SpecTimetable([{"cron": "* * * * *", "timezone": "UTC", "skip_dates": [_today()]}])
        got = runs(timetable, datetime(2026, 1, 1, tzinfo=UTC), 1, catchup=False)
        assert got
        assert got[0][:10] != _today()

    def test_every_date_skipped_gives_up_with_no_next_run(self):
        days = [f"2027-01-{d:02d}" for d in range(1, 32)]
        timetable = SpecTimetable([{"cron": "0 6 * 1 *", "timezone": "UTC", "skip_dates": days}])
        # January only, and every January day of 2027 skipped: the next run is in January 2028
        # (31 skipped in a row is far below the give-up bound).
        assert runs(timetable, datetime(2027, 1, 1, tzinfo=UTC), 1) == ["2028-01-01T06:00:00+00:00"]


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


class TestUnion:
    def test_two_timezones_fire_at_both_local_times(self):
        timetable = SpecTimetable(
            [
                {"cron": "0 9 * * 1-5", "timezone": "Europe/London"},
                {"cron": "0 9 * * 1-5", "timezone": "America/New_York"},
            ]
        )
        got = runs(timetable, datetime(2026, 7, 6, tzinfo=UTC), 4)  # a Monday in summer time
        assert got == [
            "2026-07-06T08:00:00+00:00",  # 09:00 BST
            "2026-07-06T13:00:00+00:00",  # 09:00 EDT
            "2026-07-07T08:00:00+00:00",
            "2026-07-07T13:00:00+00:00",
        ]

    def test_one_instant_from_two_members_is_one_run(self):
        timetable = SpecTimetable(
            [{"cron": "0 12 * * *", "timezone": "UTC"}, {"cron": "0 13 * * *", "timezone": "Europe/Berlin"}]
        )
        got = runs(timetable, datetime(2026, 1, 5, tzinfo=UTC), 3)  # Berlin 13:00 = 12:00 UTC in winter
        assert got == ["2026-01-05T12:00:00+00:00", "2026-01-06T12:00:00+00:00", "2026-01-07T12:00:00+00:00"]

    def test_instants_and_intervals_join_the_union(self):
        timetable = SpecTimetable(
            [{"cron": "0 0 * * *", "timezone": "UTC"}, {"at": ["2026-03-01T09:00:00+01:00"]}]
        )
        got = runs(timetable, datetime(2026, 3, 1, tzinfo=UTC), 3)
        assert got == ["2026-03-01T00:00:00+00:00", "2026-03-01T08:00:00+00:00", "2026-03-02T00:00:00+00:00"]


class TestValidate:
    def test_a_bad_cron_is_airflows_timetable_error(self):
        from airflow.exceptions import AirflowTimetableInvalid

        SpecTimetable([BERLIN_WEEKDAYS]).validate()
        with pytest.raises(AirflowTimetableInvalid):
            SpecTimetable([{"cron": "61 6 * * *", "timezone": "UTC"}]).validate()

    def test_parsing_a_dag_builds_no_cron_description(self):
        """The DagBag path (construct, isinstance against the Timetable protocol, validate) stays cheap."""
        from airflow.timetables.base import Timetable

        timetable = SpecTimetable([BERLIN_WEEKDAYS])
        assert isinstance(timetable, Timetable)
        timetable.validate()
        assert all("timetable" not in vars(m) for m in timetable._members)  # no core timetable built


class TestSummary:
    def test_names_the_timezone_and_what_is_skipped(self):
        assert (
            SpecTimetable([BERLIN_WEEKDAYS]).summary
            == "0 6 * * 1-5 Europe/Berlin except DE-BY holidays and 2 dates"
        )
        plain = SpecTimetable.described([{"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"}])
        assert plain.summary == "0 6 * * 1-5 Europe/Berlin"
        assert "Europe/Berlin" in plain.description
        assert "06:00" in plain.description

    def test_description_lists_the_skipped_dates(self):
        description = SpecTimetable.described([BERLIN_WEEKDAYS]).description
        assert description.endswith(
            "(Europe/Berlin), except public holidays in DE-BY, except on 2026-12-24, 2026-12-31"
        ), description


def _serializer() -> Any:
    from airflow.serialization import serialized_objects as so

    return getattr(so, "DagSerialization", None) or so.SerializedDAG


class TestAirflowSerialization:
    """Airflow serializes a DAG's timetable only when a plugin registers its class (ours does)."""

    def test_registered_by_the_plugin(self):
        from airflow import plugins_manager

        if hasattr(plugins_manager, "get_timetables_plugins"):
            registered = plugins_manager.get_timetables_plugins()
        else:  # Airflow 2.11
            plugins_manager.initialize_timetables_plugins()
            registered = plugins_manager.timetable_classes or {}
        assert registered.get("airflow_provider_scheduler.timetables.SpecTimetable") is SpecTimetable

    @pytest.mark.parametrize(
        "members",
        [
            [BERLIN_WEEKDAYS],
            [{"cron": "0 9 * * 1-5", "timezone": "Europe/London"}, {"at": ["2026-03-01T09:00:00+01:00"]}],
            [{"every": 3600}],
        ],
    )
    def test_a_dag_round_trips(self, members):
        from airflow.providers.common.compat.sdk import DAG

        dag = DAG(
            dag_id="spec_timetable_round_trip",
            schedule=SpecTimetable(members),
            start_date=datetime(2026, 1, 1, tzinfo=UTC),
        )
        serializer = _serializer()
        data = json.loads(json.dumps(serializer.to_dict(dag), default=str))
        assert data["dag"]["timetable"]["__type"] == "airflow_provider_scheduler.timetables.SpecTimetable"
        back = serializer.from_dict(data)
        assert isinstance(back.timetable, SpecTimetable)
        assert back.timetable.serialize() == {"members": members}
        assert back.timetable.summary == SpecTimetable(members).summary
        # Airflow's read-back copy describes itself in words (the DAG list's tooltip); the DAG file's
        # own copy answers with the summary, so parsing a file never pays for the words.
        assert back.timetable.description == SpecTimetable.described(members).description
        assert SpecTimetable(members).description == SpecTimetable(members).summary


def test_a_dag_file_parse_never_imports_the_calendars():
    """The trusted path (a stored spec -> DAG) checks calendar codes by form: no ``holidays`` import."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from airflow_provider_scheduler.spec import ScheduleSpec, parse_spec\n"
        "from airflow_provider_scheduler.factory.timetables import airflow_schedule\n"
        "spec = {'version': 1, 'namespace': 'a', 'name': 'b', 'start_date': '2026-01-01',\n"
        "        'schedule': {'cron': '0 6 * * 1-5', 'timezone': 'Europe/Berlin',\n"
        "                     'skip_holidays': 'DE-BE'},\n"
        "        'tasks': [{'id': 't', 'template': 'empty'}]}\n"
        "canonical = parse_spec(spec).to_dict()\n"
        "for name in [m for m in sys.modules if m == 'holidays' or m.startswith('holidays.')]:\n"
        "    del sys.modules[name]\n"
        "import airflow_provider_scheduler.spec.canonical as c\n"
        "c._schedule_cached.cache_clear()\n"
        "built = airflow_schedule(ScheduleSpec.from_canonical(canonical).schedule)\n"
        "print(built.summary, 'holidays' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "0 6 * * 1-5 Europe/Berlin except DE-BE holidays False"
