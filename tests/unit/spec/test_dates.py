"""spec/dates.py: one reader and writer per date concept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_scheduler.spec.dates import (
    at_midnight,
    date_from_canonical,
    date_to_json,
    read_aware_datetime,
    read_date,
    utc_instant,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01", date(2026, 1, 1)),
        ("2026-01-01T06:00:00Z", datetime(2026, 1, 1, 6, tzinfo=UTC)),
        (date(2026, 2, 3), date(2026, 2, 3)),
    ],
)
def test_read_date(value, expected):
    assert read_date(value) == (expected, None)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2026-02-30", "'2026-02-30' is not a valid date"),
        ("soon", "'soon' is not a date (2026-01-01) or date-time (2026-01-01T06:00:00Z)"),
        (
            "2026-01-01T06:00",
            "2026-01-01T06:00 has no timezone; add one (2026-01-01T06:00:00Z) or give a date only",
        ),
    ],
)
def test_read_date_refuses(value, why):
    assert read_date(value) == (None, why)


def test_read_aware_datetime():
    assert read_aware_datetime("2026-01-01T00:30:00+01:00")[0] == datetime(
        2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))
    )
    assert read_aware_datetime("2026-01-01T00:30")[1] == (
        "2026-01-01T00:30 has no timezone; add one, e.g. 2026-01-01T06:00:00Z"
    )
    assert read_aware_datetime(5)[1] == "must be an ISO-8601 date-time string such as 2026-01-01T06:00:00Z"


@pytest.mark.parametrize("value", [date(2026, 1, 1), datetime(2026, 1, 1, 6, tzinfo=UTC)])
def test_canonical_round_trip(value):
    text = date_to_json(value)
    assert date_from_canonical(text) == value


def test_canonical_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="has no timezone"):
        date_from_canonical("2026-01-01T06:00:00")


def test_at_midnight_in_the_schedules_timezone():
    assert at_midnight(date(2026, 1, 1), "Europe/Berlin") == datetime(
        2026, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")
    )
    aware = datetime(2026, 1, 1, 6, tzinfo=UTC)
    assert at_midnight(aware, "Europe/Berlin") is aware
    assert at_midnight(None, "UTC") is None


def test_utc_instant():
    assert utc_instant(date(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert utc_instant(datetime(2026, 1, 1, 6)) == datetime(2026, 1, 1, 6, tzinfo=UTC)
    berlin = datetime(2026, 1, 1, 7, tzinfo=ZoneInfo("Europe/Berlin"))
    assert utc_instant(berlin) == datetime(2026, 1, 1, 6, tzinfo=UTC)
