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
from airflow_provider_scheduler.spec.schedule import cron_min_gap, parse_schedule

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
                [
                    (
                        "schedule.tz",
                        "unknown key 'tz'; allowed here: cron, timezone, skip_holidays, skip_dates",
                    )
                ],
            ),
            (
                {"cron": "0 6 * * *", "every": "PT1H"},
                [("schedule", "use only one of cron, every in a schedule")],
            ),
            (
                {"timezone": "UTC"},
                [("schedule", "must contain one of: cron, crons, every, assets, at, any_of")],
            ),
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
                        "cron, crons, every, assets, at, any_of",
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


class TestEveryAnchor:
    def test_align_start(self):
        schedule = EverySchedule(timedelta(hours=4), datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
        start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
        assert schedule.align_start(start) == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
        assert schedule.align_start(None) == datetime(2026, 1, 1, 0, 30, tzinfo=UTC)


class TestSkippedDays:
    def test_holidays_and_dates_on_cron_and_crons(self):
        result, problems = parse(
            {
                "cron": "0 6 * * 1-5",
                "timezone": "Europe/Berlin",
                "skip_holidays": "DE-BY",
                "skip_dates": ["2026-12-31", "2026-12-24"],
            }
        )
        assert problems == []
        assert result.skip_holidays == ("DE-BY",)
        assert [d.isoformat() for d in result.skip_dates] == ["2026-12-24", "2026-12-31"]  # sorted
        assert result.to_json() == {
            "cron": "0 6 * * 1-5",
            "timezone": "Europe/Berlin",
            "skip_holidays": ["DE-BY"],
            "skip_dates": ["2026-12-24", "2026-12-31"],
        }
        assert parse(result.to_json())[0] == result
        crons, problems = parse(
            {"crons": ["0 6 * * *", "0 18 * * *"], "timezone": "UTC", "skip_holidays": ["US", "CA-ON"]}
        )
        assert problems == []
        assert crons.skip_holidays == ("US", "CA-ON")

    def test_a_utc_cron_with_skips_keeps_its_object_form(self):
        result, _ = parse({"cron": "@daily", "timezone": "UTC", "skip_dates": ["2026-12-25"]})
        assert result.to_json() == {"cron": "@daily", "timezone": "UTC", "skip_dates": ["2026-12-25"]}

    @pytest.mark.parametrize(
        ("skip", "path", "message"),
        [
            (
                "DE-XX",
                "schedule.skip_holidays",
                "unknown subdivision 'XX' of DE in holiday calendar 'DE-XX' (DE has: ",
            ),
            (
                ["DE", "GER"],
                "schedule.skip_holidays[1]",
                "unknown holiday calendar 'GER' (did you mean 'GR'?)",
            ),
            (
                ["de-by"],
                "schedule.skip_holidays[0]",
                "unknown holiday calendar 'de-by' (did you mean 'DE-BY'?)",
            ),
            (["DE", "DE"], "schedule.skip_holidays[1]", "'DE' is listed twice"),
            ([], "schedule.skip_holidays", "must be a holiday calendar code"),
            (7, "schedule.skip_holidays", "must be a holiday calendar code"),
        ],
    )
    def test_bad_calendar_codes(self, skip, path, message):
        result, problems = parse({"cron": "0 6 * * *", "timezone": "UTC", "skip_holidays": skip})
        assert result is None
        assert [p for p, _ in problems] == [path]
        assert problems[0][1].startswith(message), problems

    @pytest.mark.parametrize(
        ("dates", "path", "message"),
        [
            (["2026-12-24T00:00:00Z"], "schedule.skip_dates[0]", "must be a date such as 2026-12-24"),
            (["2026-02-30"], "schedule.skip_dates[0]", "must be a date such as 2026-12-24"),
            (["2026-12-24", "2026-12-24"], "schedule.skip_dates[1]", "2026-12-24 is listed twice"),
            ("2026-12-24", "schedule.skip_dates", "must be a non-empty list of dates"),
        ],
    )
    def test_bad_skip_dates(self, dates, path, message):
        result, problems = parse({"cron": "0 6 * * *", "timezone": "UTC", "skip_dates": dates})
        assert result is None
        assert [p for p, _ in problems] == [path]
        assert problems[0][1].startswith(message), problems

    def test_not_on_other_forms(self):
        _, problems = parse({"every": "PT4H", "skip_dates": ["2026-12-24"]})
        assert problems == [
            ("schedule.skip_dates", "'skip_dates' cannot be used with 'every'; allowed here: every, anchor")
        ]


class TestAt:
    def test_instants_with_offsets(self):
        result, problems = parse({"at": ["2026-06-01T09:00:00+02:00", "2026-03-01T09:00:00+01:00"]})
        assert problems == []
        assert result.kind == "at"
        assert result.min_interval() == datetime(2026, 6, 1, 7, tzinfo=UTC) - datetime(
            2026, 3, 1, 8, tzinfo=UTC
        )
        assert parse(result.to_json())[0] == result

    @pytest.mark.parametrize(
        ("value", "path", "message"),
        [
            (["2026-03-01T09:00:00"], "schedule.at[0]", "2026-03-01T09:00:00 has no timezone; add one"),
            (["2026-03-01"], "schedule.at[0]", "2026-03-01 has no timezone; add one"),
            (["soon"], "schedule.at[0]", "'soon' is not a date-time"),
            (
                ["2026-03-01T09:00:00+01:00", "2026-03-01T08:00:00Z"],
                "schedule.at[1]",
                "2026-03-01T08:00:00Z is listed twice (the same instant)",
            ),
            ([], "schedule.at", "must be a non-empty list of date-times with offsets"),
        ],
    )
    def test_refused(self, value, path, message):
        result, problems = parse({"at": value})
        assert result is None
        assert [p for p, _ in problems] == [path]
        assert problems[0][1].startswith(message), problems

    def test_at_most_a_limit(self, monkeypatch):
        from airflow_provider_scheduler.spec import schedule as schedule_module

        monkeypatch.setattr(schedule_module, "MAX_AT_DATES", 2)
        _, problems = parse({"at": ["2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"]})
        assert problems == [("schedule.at", "at most 2 date-times are allowed, not 3")]


class TestAnyOf:
    LONDON_NY = [
        {"cron": "0 9 * * 1-5", "timezone": "Europe/London"},
        {"cron": "0 9 * * 1-5", "timezone": "America/New_York"},
    ]

    def test_timezones_and_one_assets_member(self):
        result, problems = parse({"any_of": [*self.LONDON_NY, {"assets": ["s3://warehouse/orders"]}]})
        assert problems == []
        assert result.kind == "any_of"
        assert result.assets == AssetSchedule(("s3://warehouse/orders",))
        assert len(result.time_members) == 2
        assert result.timezone == "UTC"  # plain start/end dates mean midnight UTC
        assert parse(result.to_json())[0] == result

    def test_the_gap_is_measured_over_the_union(self):
        result, _ = parse({"any_of": self.LONDON_NY})
        # 09:00 London and 09:00 New York are 5 hours apart, 4 in the weeks the US is already on
        # summer time and the UK not yet.
        assert result.min_interval() == timedelta(hours=4)

    def test_a_cron_string_member_is_utc(self):
        result, problems = parse({"any_of": ["@daily", {"at": ["2026-03-01T09:00:00+01:00"]}]})
        assert problems == []
        assert result.to_json()["any_of"][0] == {"cron": "@daily", "timezone": "UTC"}

    @pytest.mark.parametrize(
        ("members", "path", "message"),
        [
            (
                [
                    {"assets": ["s3://a/x"]},
                    {"cron": "0 6 * * *", "timezone": "UTC"},
                    {"assets": ["s3://b/y"]},
                ],
                "schedule.any_of[2]",
                "at most one assets member is allowed in any_of",
            ),
            ([{"assets": ["s3://a/x"]}], "schedule.any_of", "needs at least one time schedule"),
            ([None], "schedule.any_of[0]", "must be a time schedule"),
            (["@once"], "schedule.any_of[0]", "must be a time schedule"),
            ([{"any_of": ["@daily"]}], "schedule.any_of[0]", "an any_of cannot contain another any_of"),
            ([], "schedule.any_of", "must be a non-empty list of schedules"),
            (
                [{"cron": "0 6 * * *", "timezone": "Europe/Berln"}],
                "schedule.any_of[0].timezone",
                "unknown timezone",
            ),
        ],
    )
    def test_refused(self, members, path, message):
        result, problems = parse({"any_of": members})
        assert result is None
        assert [p for p, _ in problems] == [path], problems
        assert problems[0][1].startswith(message), problems


class TestAssetExpressions:
    def test_nested_all_and_any(self):
        value = {"assets": {"all": ["s3://a/x", {"any": ["s3://b/x", "s3://c/x"]}]}}
        result, problems = parse(value)
        assert problems == []
        assert result.assets == ("s3://a/x", "s3://b/x", "s3://c/x")
        assert result.tree == ("all", ("s3://a/x", ("any", ("s3://b/x", "s3://c/x"))))
        assert result.to_json() == value
        assert parse(result.to_json())[0] == result

    def test_built_as_airflows_nested_conditions(self):
        from airflow.providers.common.compat.sdk import AssetAll, AssetAny

        from airflow_provider_scheduler.factory.timetables import airflow_schedule

        built = airflow_schedule(
            parse({"assets": {"any": ["s3://a/x", {"all": ["s3://b/x", "s3://c/x"]}]}})[0]
        )
        assert isinstance(built, AssetAny)
        assert isinstance(built.objects[1], AssetAll)
        assert [a.uri for a in built.objects[1].objects] == ["s3://b/x", "s3://c/x"]

    @pytest.mark.parametrize(
        ("value", "path", "message"),
        [
            (
                {"all": ["s3://a/x", {"one": ["s3://b/x"]}]},
                "schedule.assets.all[1]",
                "an asset expression has exactly one key",
            ),
            ({"all": ["s3://a/x", {"any": []}]}, "schedule.assets.all[1].any", "must be a non-empty list"),
            (
                {"any": ["s3://a/x", {"all": ["s3://a/x"]}]},
                "schedule.assets.any[1].all[0]",
                "'s3://a/x' is listed twice",
            ),
            ({"any": ["not a uri"]}, "schedule.assets.any[0]", "must be an asset URI"),
            (
                {"all": [{"any": [{"all": [{"any": [{"all": ["s3://a/x"]}]}]}]}]},
                "schedule.assets.all[0].any[0].all[0].any[0]",
                "asset expressions nest at most 4 deep",
            ),
        ],
    )
    def test_refused(self, value, path, message):
        result, problems = parse({"assets": value})
        assert result is None
        assert [p for p, _ in problems] == [path], problems
        assert problems[0][1].startswith(message), problems

    def test_mode_is_not_for_expressions(self):
        _, problems = parse({"assets": {"all": ["s3://a/x"]}, "mode": "any"})
        assert problems == [("schedule.mode", "not with an expression: its 'all' or 'any' says it")]
