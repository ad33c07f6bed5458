"""The exact cron analysis (spec/cron_gaps.py): never-firing crons, and the shortest gap between runs.

The gap is checked three ways: known answers; for random crons, against croniter (every gap croniter
produces in a window is at least the answer, and croniter fires twice exactly that far apart where
the answer says); and across daylight-saving changes against Airflow's own cron timetable.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_samples import VALID

from airflow_provider_scheduler.spec import GovernancePolicy, SpecError, parse_spec
from airflow_provider_scheduler.spec.cron_gaps import (
    MINUTES_PER_DAY,
    _fast_gap,
    _Union,
    _walk_gap,
    cron_fields,
    gap_and_witness,
    never_fires_reason,
    shortest_gap,
)
from airflow_provider_scheduler.spec.schedule import check_cron


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def problems(schedule, registry, policy=None) -> list[tuple[str, str]]:
    spec = copy.deepcopy(VALID)
    spec["schedule"] = schedule
    try:
        parse_spec(spec, registry=registry, policy=policy or GovernancePolicy())
    except SpecError as err:
        return [(p.path, p.message) for p in err.problems]
    return []


class TestRefusedAtValidation:
    """Issue 13 rows 10 and 12: these passed (or crashed) before the exact analysis."""

    @pytest.mark.parametrize(
        ("schedule", "path"),
        [
            ("* * * 6 *", "schedule"),  # every minute, but only in June
            ("* * 29 2 *", "schedule"),  # every minute of Feb 29
            ({"crons": ["0 6 * * *", "* * * 6 *"], "timezone": "UTC"}, "schedule.crons"),
            ({"cron": "*/2 * * 12 *", "timezone": "Europe/Berlin"}, "schedule.cron"),
            ("0-2 0 1 1 *", "schedule"),  # three runs a year, one minute apart
        ],
    )
    def test_short_gap_in_a_rare_period_is_found(self, schedule, path, registry):
        found = problems(schedule, registry)
        assert len(found) == 1
        assert found[0][0] == path
        assert found[0][1].startswith("runs as often as every ")
        assert found[0][1].endswith("this deployment allows at most one run every 5 minutes")

    @pytest.mark.parametrize(
        ("schedule", "path", "expression", "why"),
        [
            ("0 0 31 2 *", "schedule", "0 0 31 2 *", "day 31 does not occur in February"),
            ("0 0 30 2 *", "schedule", "0 0 30 2 *", "day 30 does not occur in February"),
            (
                "0 0 31 4,6,9,11 *",
                "schedule",
                "0 0 31 4,6,9,11 *",
                "day 31 does not occur in April, June, September or November",
            ),
            (
                {"crons": ["0 6 * * *", "0 0 30 2 *"], "timezone": "UTC"},
                "schedule.crons[1]",
                "0 0 30 2 *",
                "day 30 does not occur in February",
            ),
            (
                {"cron": "0 0 31 2 *", "timezone": "UTC"},
                "schedule.cron",
                "0 0 31 2 *",
                "day 31 does not occur in February",
            ),
        ],
    )
    def test_never_fires(self, schedule, path, expression, why, registry):
        assert problems(schedule, registry) == [(path, f"cron expression {expression!r} never fires: {why}")]

    def test_croniter_extension_that_cannot_be_computed(self, registry):
        # croniter raises "failed to find next date": the 1st is never the second Friday
        [(path, message)] = problems("0 0 1 * 5#2", registry)
        assert path == "schedule"
        assert message.startswith("cron expression '0 0 1 * 5#2' never fires: ")

    @pytest.mark.parametrize("schedule", ["0 0 29 2 *", "30 6 29 2 *", "0,30 12 29 2 *", "0 0 L 2 *"])
    def test_leap_day_crons_are_allowed(self, schedule, registry):
        assert problems(schedule, registry) == []

    def test_leap_day_cron_under_the_minimum_is_refused(self, registry):
        [(path, message)] = problems("*/2 12 29 2 *", registry)
        assert (path, message) == (
            "schedule",
            "runs as often as every 2 minutes; this deployment allows at most one run every 5 minutes",
        )

    @pytest.mark.parametrize("expression", ["R * * * *", "0 R(0-5) * * *", "r/15 * * * *", "0 6,R * * *"])
    def test_random_values_are_refused(self, expression):
        assert check_cron(expression) == (
            f"cron expression {expression!r} uses a random value (R), which would move the run time "
            "every time Airflow computes it; write the minute or hour you want"
        )

    def test_month_and_weekday_names_are_not_random(self):
        assert check_cron("0 6 * MAR,APR FRI") is None


class TestKnownGaps:
    @pytest.mark.parametrize(
        ("crons", "gap"),
        [
            (("* * * 6 *",), minutes(1)),
            (("0 6 * * *",), timedelta(days=1)),
            (("0 6,18 * * *",), timedelta(hours=12)),
            (("0 22 * * *", "0 1 * * *"), timedelta(hours=3)),  # across midnight
            (("58 23 * * 1",), timedelta(days=7)),
            (("0 0 * * 5,1",), timedelta(days=3)),  # Fri -> Mon
            (("0 0 1 * *",), timedelta(days=28)),  # Feb 1 -> Mar 1
            (("0 0 31 * *",), timedelta(days=31)),  # Jul 31 -> Aug 31
            (("0 0 29 2 *",), timedelta(days=1461)),  # every four years
            (("0 0 L * *",), timedelta(days=28)),  # Jan 31 -> Feb 28
            (("0 0 28 2 *", "0 0 1 3 *"), timedelta(days=1)),  # Feb 28 -> Mar 1 in common years
            (("0 12 * 1 *", "0 0 * 2 *"), timedelta(hours=12)),  # Jan 31 12:00 -> Feb 1 00:00
            (("0 0 1 1 *", "0 0 31 12 *"), timedelta(days=1)),  # across the year
            (("0 6 * * *", "0 6 * * 1-5"), timedelta(days=1)),  # the same instant is one run
        ],
    )
    def test_gap(self, crons, gap):
        assert shortest_gap(crons) == gap

    def test_never_fires_has_no_gap(self):
        assert shortest_gap(("0 0 30 2 *",)) is None
        assert never_fires_reason("0 0 30 2 *") == "day 30 does not occur in February"


# -- random crons against croniter -----------------------------------------------------------------


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    def rng(draw_pair: tuple[int, int]) -> str:
        a, b = sorted(draw_pair)
        return f"{a}-{b}"

    return st.one_of(
        st.just("*"),
        st.integers(low, high).map(str),
        st.tuples(st.integers(low, high), st.integers(low, high)).map(rng),
        st.integers(1, max(1, (high - low) // 2)).map(lambda n: f"*/{n}"),
        st.lists(st.integers(low, high), min_size=2, max_size=4, unique=True).map(
            lambda xs: ",".join(map(str, sorted(xs)))
        ),
    )


_DAYS = st.one_of(
    _field(1, 31),
    st.just("L"),
    st.integers(1, 31).map(lambda d: f"{d}W"),
)
_WEEKDAYS = st.one_of(
    _field(0, 6),
    st.tuples(st.integers(0, 6), st.integers(1, 5)).map(lambda t: f"{t[0]}#{t[1]}"),
)
#: minutes and hours sparse enough that a few hundred runs span months (croniter is slow)
_SPARSE_CRON = st.tuples(
    st.one_of(st.integers(0, 59).map(str), _field(0, 59)),
    _field(0, 23),
    _DAYS,
    _field(1, 12),
    _WEEKDAYS,
).map(" ".join)


def _croniter_next(expressions: tuple[str, ...], after: datetime) -> datetime:
    from croniter import croniter

    return min(croniter(e, after).get_next(datetime) for e in expressions)


def _wall(minute: int) -> datetime:
    return datetime(1, 1, 1) + timedelta(minutes=minute - MINUTES_PER_DAY)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    crons=st.lists(_SPARSE_CRON, min_size=1, max_size=3, unique=True),
    start_year=st.integers(2001, 2390),
    start_month=st.integers(1, 12),
)
def test_gap_matches_croniter(crons, start_year, start_month):
    from croniter import croniter

    expressions = tuple(c for c in crons if check_cron(c) is None)
    if not expressions:
        return
    found = gap_and_witness(expressions)
    assert found is not None
    gap, start, _ = found
    # croniter fires exactly there, and next exactly ``gap`` later
    witness = _wall(start)
    assert _croniter_next(expressions, witness - minutes(1)) == witness
    assert _croniter_next(expressions, witness) == witness + minutes(gap)
    # no gap croniter produces from a random point in the 400-year cycle is shorter
    fires: set[datetime] = set()
    first_end = None
    for expression in expressions:
        it = croniter(expression, datetime(start_year, start_month, 1))
        runs = [it.get_next(datetime) for _ in range(150)]
        fires.update(runs)
        first_end = runs[-1] if first_end is None else min(first_end, runs[-1])
    ordered = sorted(f for f in fires if first_end is None or f <= first_end)
    for a, b in pairwise(ordered):
        assert b - a >= minutes(gap), (expressions, a, b, gap)
    assert shortest_gap(expressions) == minutes(gap)


_ANY_CRON = st.tuples(_field(0, 59), _field(0, 23), _DAYS, _field(1, 12), _WEEKDAYS).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(_ANY_CRON)
def test_shortcut_agrees_with_the_calendar_walk(expression):
    """The formula for plain single crons gives what the 400-year walk gives."""
    if check_cron(expression) is not None:
        return
    union = _Union((cron_fields(expression),))
    fast = _fast_gap(union)
    walked = _walk_gap(union)
    assert walked is not None
    if fast is not None:
        assert fast == walked[0]


@settings(max_examples=200, deadline=None)
@given(st.lists(_ANY_CRON, min_size=2, max_size=4, unique=True))
def test_union_gap_is_at_most_each_crons_gap(crons):
    expressions = tuple(c for c in crons if check_cron(c) is None)
    if not expressions:
        return
    union = shortest_gap(expressions)
    assert union is not None
    assert all(union <= shortest_gap((e,)) for e in expressions)


# -- daylight saving against Airflow's timetable ---------------------------------------------------


def _offset_changes(tz: str, years: tuple[int, int]) -> list[datetime]:
    """Days (UTC noon) after which ``tz``'s offset differs, found with zoneinfo day by day."""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(tz)
    day = datetime(years[0], 1, 1, 12, tzinfo=UTC)
    changes = []
    while day.year < years[1]:
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            changes.append(day)
        day = following
    return changes


def _airflow_gap(expressions: tuple[str, ...], tz: str, years: tuple[int, int]) -> timedelta:
    """The shortest gap between runs of Airflow's cron timetables, in a normal week and around
    every offset change in ``years``."""
    import pendulum
    from airflow.timetables.trigger import CronTriggerTimetable

    windows = [(datetime(years[0], 1, 5, tzinfo=UTC), datetime(years[0], 1, 12, tzinfo=UTC))]
    windows += [(d - timedelta(days=2), d + timedelta(days=2)) for d in _offset_changes(tz, years)]
    best = timedelta.max
    for start, end in windows:
        fires: set[int] = set()
        for expression in expressions:
            timetable = CronTriggerTimetable(expression, timezone=tz)
            current = pendulum.instance(start)
            while current < end:
                current = timetable._get_next(current)
                fires.add(int(current.timestamp()))
        ordered = sorted(fires)
        for a, b in pairwise(ordered):
            best = min(best, timedelta(seconds=b - a))
    return best


@pytest.mark.parametrize(
    ("crons", "tz", "gap"),
    [
        (("58 1 * * *", "0 3 * * *"), "Europe/Berlin", minutes(2)),  # 01:58 CET -> 03:00 CEST
        (("0 1,3 * * *",), "Europe/Berlin", timedelta(hours=1)),
        (("30 2 * * *",), "Europe/Berlin", timedelta(hours=23)),  # 02:30 does not exist: 03:30
        (("0,30 2 * * *", "45 3 * * *"), "Europe/Berlin", minutes(30)),  # 02:30 skipped after 02:00
        (("15 2 * * *", "0 3 * * *"), "Europe/Berlin", minutes(15)),
        (("0 2 * * *",), "Australia/Lord_Howe", timedelta(hours=23, minutes=30)),  # a 30-minute change
        (("50 23 * * *", "10 0 * * *"), "America/Santiago", minutes(20)),  # the change is at midnight
        (("55 0 * * *", "5 2 * * *"), "Europe/London", minutes(10)),
        (("*/5 * * * *",), "Europe/Berlin", minutes(5)),
    ],
)
def test_daylight_saving_matches_airflow(crons, tz, gap):
    assert shortest_gap(crons, tz) == gap
    assert _airflow_gap(crons, tz, (2026, 2027)) == gap
