"""Schedule forms: validation messages, canonical JSON, mapping to the running Airflow's timetables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_scheduler.spec import (
    AssetSchedule,
    CronSchedule,
    EverySchedule,
    ManualSchedule,
    MultiCronSchedule,
    OnceSchedule,
)
from airflow_provider_scheduler.spec.schedule import cron_min_gap, merge_crons, parse_schedule

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.errors import Problem

try:
    from airflow.sdk import __version__ as _sdk_version  # noqa: F401

    AIRFLOW_3 = True
except ImportError:
    AIRFLOW_3 = False


def parse(value: Any) -> tuple[Any, list[tuple[str, str]]]:
    problems: list[Problem] = []
    result = parse_schedule(value, "schedule", problems)
    return result, [(p.path, p.message) for p in problems]


class TestParse:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (None, ManualSchedule()),
            ("@once", OnceSchedule()),
            ("0 6 * * 1-5", CronSchedule("0 6 * * 1-5")),
            ("  0  6 * * 1-5 ", CronSchedule("0 6 * * 1-5")),
            ("@daily", CronSchedule("@daily")),
            ("@midnight", CronSchedule("@daily")),
            ({"cron": "0 6 * * *", "timezone": "Europe/Berlin"}, CronSchedule("0 6 * * *", "Europe/Berlin")),
            (
                {"crons": ["0 6 * * *", "30 18 * * *"], "timezone": "UTC"},
                MultiCronSchedule(("0 6 * * *", "30 18 * * *"), "UTC"),
            ),
            ({"every": "PT4H"}, EverySchedule(timedelta(hours=4))),
            (
                {"every": "P1D", "anchor": "2026-01-01T06:30:00Z"},
                EverySchedule(timedelta(days=1), datetime(2026, 1, 1, 6, 30, tzinfo=UTC)),
            ),
            ({"assets": ["s3://bucket/orders"]}, AssetSchedule(("s3://bucket/orders",))),
            (
                {"assets": ["s3://b/a", "s3://b/b"], "mode": "any"},
                AssetSchedule(("s3://b/a", "s3://b/b"), "any"),
            ),
        ],
    )
    def test_valid(self, value, expected):
        result, problems = parse(value)
        assert problems == []
        assert result == expected
        again, _ = parse(result.to_json())
        assert again == result

    def test_utc_cron_is_canonically_a_string(self):
        result, _ = parse({"cron": "0 6 * * *", "timezone": "UTC"})
        assert result.to_json() == "0 6 * * *"

    @pytest.mark.parametrize(
        ("value", "problems"),
        [
            (
                "0 6 * *",
                [
                    (
                        "schedule",
                        "cron expression '0 6 * *' must have 5 fields "
                        "(minute hour day-of-month month day-of-week), it has 4",
                    )
                ],
            ),
            ("@dayly", [("schedule", "unknown schedule preset '@dayly' (did you mean '@daily'?)")]),
            (
                "@continuous",
                [
                    (
                        "schedule",
                        "'@continuous' is not supported: it starts a new run as soon as the last one "
                        "ends and bypasses the minimum interval; use a cron expression or {every: PT...}",
                    )
                ],
            ),
            (
                {"cron": "0 6 * * *"},
                [("schedule.timezone", "required with 'cron' (e.g. 'Europe/Berlin' or 'UTC')")],
            ),
            (
                {"cron": "0 6 * * *", "timezone": "Europe/Berln"},
                [("schedule.timezone", "unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?)")],
            ),
            (
                {"cron": "0 6 * * *", "timezone": "CET", "tz": "x"},
                [("schedule.tz", "unknown key 'tz'; allowed here: cron, timezone")],
            ),
            (
                {"cron": "0 6 * * *", "every": "PT1H"},
                [("schedule", "use only one of cron, every in a schedule")],
            ),
            ({"timezone": "UTC"}, [("schedule", "must contain one of: cron, crons, every, assets")]),
            (
                {"every": "PT4H", "timezone": "UTC"},
                [
                    (
                        "schedule.timezone",
                        "'timezone' cannot be used with 'every'; allowed here: every, anchor",
                    )
                ],
            ),
            (
                {"every": "P1M"},
                [
                    (
                        "schedule.every",
                        "'P1M' uses years or months, whose length varies; use days (P30D) or a cron schedule",
                    )
                ],
            ),
            ({"every": "PT0S"}, [("schedule.every", "must be longer than zero")]),
            (
                {"every": "PT1H", "anchor": "2026-01-01T00:00:00"},
                [
                    (
                        "schedule.anchor",
                        "2026-01-01T00:00:00 has no timezone; add one, e.g. 2026-01-01T06:00:00Z",
                    )
                ],
            ),
            (
                {"crons": [], "timezone": "UTC"},
                [("schedule.crons", "must be a non-empty list of cron expressions")],
            ),
            (
                {"crons": ["0 6 * * *", "0 6 * * *"], "timezone": "UTC"},
                [("schedule.crons[1]", "'0 6 * * *' is listed twice")],
            ),
            (
                {"crons": ["0 6 * * *", "61 6 * * *"], "timezone": "UTC"},
                [("schedule.crons[1]", None)],
            ),
            (
                {"assets": ["orders table"]},
                [
                    (
                        "schedule.assets[0]",
                        "must be an asset URI such as 's3://bucket/key' (scheme://..., no spaces)",
                    )
                ],
            ),
            (
                {"assets": ["airflow://x"]},
                [("schedule.assets[0]", "the 'airflow' URI scheme is reserved by Airflow")],
            ),
            (
                {"assets": ["s3://a/b"], "mode": "some"},
                [("schedule.mode", "must be 'all' (every asset updated) or 'any' (one is enough)")],
            ),
            (
                5,
                [
                    (
                        "schedule",
                        "must be null, a cron expression or preset, or an object with one of: "
                        "cron, crons, every, assets",
                    )
                ],
            ),
        ],
    )
    def test_invalid(self, value, problems):
        result, found = parse(value)
        assert result is None
        assert [p for p, _ in found] == [p for p, _ in problems]
        for (_, expected), (_, message) in zip(problems, found, strict=False):
            if expected is not None:
                assert message == expected
            else:
                assert message.startswith("invalid cron expression '61 6 * * *'")


class TestMinInterval:
    @pytest.mark.parametrize(
        ("crons", "gap"),
        [
            (("*/5 * * * *",), timedelta(minutes=5)),
            (("0 6 * * 1-5",), timedelta(days=1)),
            (("0 6,18 * * *",), timedelta(hours=12)),
            (("0 6 * * *", "30 6 * * *"), timedelta(minutes=30)),
            (("0 0 1 * *",), timedelta(days=28)),
        ],
    )
    def test_gap(self, crons, gap):
        assert cron_min_gap(crons, "UTC") == gap

    def test_every(self):
        assert EverySchedule(timedelta(minutes=7)).min_interval() == timedelta(minutes=7)

    def test_not_time_based(self):
        assert ManualSchedule().min_interval() is None
        assert AssetSchedule(("s3://a/b",)).min_interval() is None


class TestMergeCrons:
    def test_differ_in_one_field(self):
        assert merge_crons(["0 6 * * *", "0 18 * * *"]) == "0 6,18 * * *"

    def test_differ_in_two_fields(self):
        assert merge_crons(["0 6 * * *", "30 18 * * *"]) is None

    def test_star_is_not_merged(self):
        assert merge_crons(["0 6 * * *", "0 * * * *"]) is None


class TestEveryAnchor:
    def test_align_start(self):
        schedule = EverySchedule(timedelta(hours=4), datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
        start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
        assert schedule.align_start(start) == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
        assert schedule.align_start(None) == datetime(2026, 1, 1, 0, 30, tzinfo=UTC)
