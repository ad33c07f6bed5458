"""The strict ISO-8601 duration parser."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_scheduler.spec.durations import (
    DurationError,
    format_duration,
    human_duration,
    parse_duration,
)


class TestParseDuration:
    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("PT5M", timedelta(minutes=5)),
            ("PT1H30M", timedelta(hours=1, minutes=30)),
            ("P1D", timedelta(days=1)),
            ("P1DT12H", timedelta(days=1, hours=12)),
            ("P2W", timedelta(weeks=2)),
            ("PT90S", timedelta(seconds=90)),
            ("PT0S", timedelta(0)),
        ],
    )
    def test_valid(self, text, value):
        assert parse_duration(text) == value

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("5m", "'5m' is not an ISO-8601 duration such as PT30M, PT4H, P1D or P1DT12H"),
            ("P", "'P' is not an ISO-8601 duration such as PT30M, PT4H, P1D or P1DT12H"),
            ("PT", "'PT' is not an ISO-8601 duration such as PT30M, PT4H, P1D or P1DT12H"),
            ("P1DT", "'P1DT' is not an ISO-8601 duration such as PT30M, PT4H, P1D or P1DT12H"),
            ("PT1.5H", "'PT1.5H' is not a valid duration: use whole numbers, e.g. PT90S not PT1.5M"),
            ("-PT5M", "'-PT5M' is not a valid duration: durations cannot be negative"),
            ("P1Y", "'P1Y' uses years or months, whose length varies; use days (P30D) or a cron schedule"),
            ("P99999D", "'P99999D' is longer than ten years"),
            ("pt5m", "'pt5m' is not an ISO-8601 duration such as PT30M, PT4H, P1D or P1DT12H"),
        ],
    )
    def test_invalid(self, text, message):
        with pytest.raises(DurationError) as info:
            parse_duration(text)
        assert str(info.value) == message

    def test_not_a_string(self):
        with pytest.raises(DurationError, match="must be an ISO-8601 duration"):
            parse_duration(300)  # type: ignore[arg-type]


class TestFormat:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (timedelta(0), "PT0S"),
            (timedelta(minutes=90), "PT1H30M"),
            (timedelta(days=8, seconds=5), "P8DT5S"),
            (timedelta(weeks=1), "P7D"),
        ],
    )
    def test_canonical(self, value, text):
        assert format_duration(value) == text
        assert parse_duration(text) == value

    def test_human(self):
        assert human_duration(timedelta(minutes=1)) == "1 minute"
        assert human_duration(timedelta(hours=1, minutes=30)) == "1 hour 30 minutes"
