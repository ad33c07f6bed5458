"""Exact answers about cron expressions: does one ever fire, and how short can the gap between runs be.

Airflow computes cron runs with croniter, so the fields are read as croniter expands them
(``croniter(expression).expanded``): minutes, hours, day-of-month (with ``L`` and ``W``), month and
day-of-week (with ``#``), and croniter's rule for day-of-month *and* day-of-week: when both are
restricted a day matches either of them (the ``#``/``W`` parts stay intersections, as in croniter).

Why this is exact and cheap:

* Which days of a month fire depends only on the month's *type*: its number, length and the weekday
  of its first day (at most 12 x 2 x 7 = 98 types). The Gregorian calendar, weekdays included,
  repeats every 400 years (146,097 days = 20,871 weeks), so one walk over the 4,800 months of one
  cycle (O(1) each, with a summary per month type) sees every pair of consecutive firing days there
  will ever be.
* Within a day the fire times are the minute x hour product of each cron that fires that day; the
  shortest gap of a union of sorted sets is the minimum of each set's own gaps and the gaps between
  pairs of sets. Across days the gap is from the last fire of one firing day to the first of the next.
* In a timezone with daylight-saving changes only the runs next to a change move relative to each
  other. A naive wall-clock time is placed the way Airflow's cron timetable does (a time that does not
  exist moves forward, an ambiguous one is the first occurrence), and the runs around every change in
  the 28 years from 2026 (every weekday / leap-year alignment of the yearly rules) are compared.
  (A wall-clock gap that only ever occurs across a change is still counted: the answer can be lower
  than the real one there, never higher.)
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

MINUTES_PER_DAY = 1440
#: first year of the 400-year calendar cycle walked (any year works; 2000 starts a cycle)
_CYCLE_START = 2000
_CYCLE_YEARS = 400
#: years whose daylight-saving changes are compared (28 years: every weekday x leap alignment)
_DST_FROM, _DST_YEARS = 2026, 28
_NEVER = 10**12  # "no gap": larger than any real gap in minutes


@dataclass(frozen=True)
class CronFields:
    """One five-field cron expression as croniter expands it (see the module docstring)."""

    times: tuple[int, ...]  # minute of the day (hour * 60 + minute), sorted
    months: frozenset[int]
    dom: frozenset[int] | None  # None: '*'
    dom_last: bool  # 'L' in the day-of-month field
    nearest_weekday: frozenset[int]  # 'W' days (croniter then ignores the plain day-of-month values)
    dow: frozenset[int] | None  # 0 = Sunday; None: '*'
    nth: tuple[tuple[int, frozenset[Any]], ...]  # '#': weekday -> {1..5, 'l'}
    day_or: bool  # day-of-month and day-of-week both restricted: a day matches either

    @property
    def uses_extensions(self) -> bool:
        return bool(self.nearest_weekday or self.nth or self.dom_last)


@functools.lru_cache(maxsize=4096)
def cron_fields(expression: str) -> CronFields:
    """Expand a valid five-field expression (croniter raises for an invalid one)."""
    from croniter import croniter

    cron = croniter(expression)
    minute, hour, dom, month, dow = cron.expanded[:5]
    minutes = range(60) if minute == ["*"] else minute
    hours = range(24) if hour == ["*"] else hour
    nth = tuple(
        sorted(
            (int(wd), frozenset(ns)) for wd, ns in _expand_star_nth(dict(cron.nth_weekday_of_month)).items()
        )
    )
    return CronFields(
        times=tuple(sorted({h * 60 + m for h in hours for m in minutes})),
        months=frozenset(range(1, 13)) if month == ["*"] else frozenset(int(m) for m in month),
        dom=None if dom == ["*"] else frozenset(d for d in dom if d != "l"),
        dom_last="l" in dom,
        nearest_weekday=frozenset(int(d) for d in cron.nearest_weekday),
        dow=None if dow == ["*"] else frozenset(int(d) % 7 for d in dow if d != "l"),
        nth=nth,
        day_or=dom[0] != "*" and dow[0] != "*",
    )


def _expand_star_nth(nth: dict[Any, set[Any]]) -> dict[Any, set[Any]]:
    # croniter's '*#n' means "the n-th of every weekday" (see proc_day_of_week_nth)
    if "*" in nth:
        every = nth.pop("*")
        for wd in range(7):
            nth[wd] = set(nth.get(wd, set())) | set(every)
    return nth


# -- days ------------------------------------------------------------------------------------------

MonthType = tuple[int, int, int]  # (month, number of days, weekday of the 1st with 0 = Sunday)


def _month_type(year: int, month: int) -> MonthType:
    return month, calendar.monthrange(year, month)[1], date(year, month, 1).isoweekday() % 7


@functools.lru_cache(maxsize=1)
def _cycle() -> tuple[tuple[MonthType, int], ...]:
    """The 4,800 months of one 400-year cycle: (month type, ordinal of its first day)."""
    out = []
    ordinal = date(_CYCLE_START, 1, 1).toordinal()
    for year in range(_CYCLE_START, _CYCLE_START + _CYCLE_YEARS):
        for month in range(1, 13):
            mt = _month_type(year, month)
            out.append((mt, ordinal))
            ordinal += mt[1]
    return tuple(out)


def _weekday_days(ndays: int, wd1: int, weekdays: frozenset[int]) -> set[int]:
    return {d for d in range(1, ndays + 1) if (wd1 + d - 1) % 7 in weekdays}


def _nearest_weekday(ndays: int, wd1: int, day: int) -> int:
    # croniter's rule: the day itself if Mon-Fri; Saturday -> Friday (Monday on the 1st);
    # Sunday -> Monday (Friday on the last day); a day past the month's end means its last day
    day = min(day, ndays)
    weekday = (wd1 + day - 1) % 7  # 0 = Sunday
    if 1 <= weekday <= 5:
        return day
    if weekday == 6:
        return day - 1 if day > 1 else day + 2
    return day + 1 if day < ndays else day - 2


def _nth_days(f: CronFields, ndays: int, wd1: int) -> set[int]:
    out: set[int] = set()
    for wd, ns in f.nth:
        occurrences = sorted(_weekday_days(ndays, wd1, frozenset({wd})))
        for n in ns:
            if n == "l":
                out.add(occurrences[-1])
            elif int(n) <= len(occurrences):
                out.add(occurrences[int(n) - 1])
    return out


def _sides(f: CronFields, mt: MonthType) -> tuple[set[int] | None, set[int] | None]:
    """The day sets croniter intersects or unites (None: every day), see ``_calc_next``/``_calc``."""
    _, ndays, wd1 = mt
    if f.nearest_weekday:
        dom_side: set[int] | None = {_nearest_weekday(ndays, wd1, d) for d in f.nearest_weekday}
    elif f.dom is None and not f.dom_last:
        dom_side = None
    else:
        dom_side = {d for d in f.dom or () if d <= ndays} | ({ndays} if f.dom_last else set())
    if f.nth:
        dow_side: set[int] | None = _nth_days(f, ndays, wd1)
    elif f.dow is None:
        dow_side = None
    else:
        dow_side = _weekday_days(ndays, wd1, f.dow)
    return dom_side, dow_side


def _and(a: set[int] | None, b: set[int] | None, ndays: int) -> set[int]:
    if a is None and b is None:
        return set(range(1, ndays + 1))
    if a is None:
        return set(b or ())
    if b is None:
        return set(a)
    return a & b


def _or_halves(f: CronFields, mt: MonthType) -> tuple[set[int], set[int]]:
    """croniter's two halves under OR: day-of-month with '*' weekdays, '*' days with day-of-week."""
    _, ndays, wd1 = mt
    dom_side, dow_side = _sides(f, mt)
    # the first half keeps '#' (croniter passes nth_weekday_of_month on), the second keeps 'W'
    first = _and(dom_side, _nth_days(f, ndays, wd1) if f.nth else None, ndays)
    second_dom = {_nearest_weekday(ndays, wd1, d) for d in f.nearest_weekday} if f.nearest_weekday else None
    second = _and(second_dom, dow_side, ndays)
    return first, second


def firing_days(f: CronFields, mt: MonthType) -> frozenset[int]:
    """The days of a month of type ``mt`` on which the cron fires."""
    month, ndays, _ = mt
    if month not in f.months:
        return frozenset()
    if f.day_or:
        first, second = _or_halves(f, mt)
        return frozenset(first | second)
    dom_side, dow_side = _sides(f, mt)
    return frozenset(_and(dom_side, dow_side, ndays))


def _all_month_types() -> list[tuple[int, int, MonthType]]:
    # 28 consecutive years (no skipped leap year inside) hold every month type
    return [(y, m, _month_type(y, m)) for y in range(2001, 2029) for m in range(1, 13)]


@functools.lru_cache(maxsize=4096)
def never_fires_reason(expression: str) -> str | None:
    """Why a valid cron expression can never produce a run, or None when it fires."""
    f = cron_fields(expression)
    if not f.uses_extensions:
        if f.dom is None or f.dow is not None:
            return None  # every month has every weekday
        longest = max(29 if m == 2 else calendar.monthrange(2001, m)[1] for m in f.months)
        first = min(f.dom)
        if first <= longest:
            return None
        names = [calendar.month_name[m] for m in sorted(f.months)]
        return f"day {first} does not occur in {_words(names)}"
    halves_fire = [False, False]
    fires = False
    for _, _, mt in _all_month_types():
        if mt[0] not in f.months:
            continue
        if firing_days(f, mt):
            fires = True
        if f.day_or:
            first_half, second_half = _or_halves(f, mt)
            halves_fire[0] |= bool(first_half)
            halves_fire[1] |= bool(second_half)
    if not fires:
        return "no date matches its day-of-month, month and day-of-week fields"
    if f.day_or and not all(halves_fire):
        # croniter's day-of-month OR day-of-week with '#' or 'W' fails when one half never matches
        return (
            "with '#' or 'W', croniter needs both the day-of-month and the day-of-week part to match "
            "some date, and one of them never does"
        )
    return None


def _words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# -- gaps ------------------------------------------------------------------------------------------


Gap = tuple[int, int]  # (minutes, where the pair starts: a minute of the day or a wall-clock minute)
_NO_GAP: Gap = (_NEVER, 0)


def _inner_gap(times: tuple[int, ...]) -> Gap:
    return min(((b - a, a) for a, b in pairwise(times)), default=_NO_GAP)


def _cross_gap(a: tuple[int, ...], b: tuple[int, ...]) -> Gap:
    """Shortest distance between two different values, one from each tuple.

    The closest such pair is adjacent among the sorted distinct values of both (a value between them
    would belong to one of the tuples and be closer), so only neighbours are compared.
    """
    in_a, in_b = set(a), set(b)
    values = sorted(in_a | in_b)
    best = _NO_GAP
    for v, w in pairwise(values):
        if (v in in_a or w in in_a) and (v in in_b or w in in_b):
            best = min(best, (w - v, v))
    return best


class _Union:
    """The crons of one schedule: per-day masks (bit i = cron i fires), times and gaps per mask."""

    def __init__(self, fields: tuple[CronFields, ...]) -> None:
        self.fields = fields
        self._month: dict[MonthType, tuple[Any, ...]] = {}
        self._mask: dict[int, tuple[int, int, Gap]] = {}
        self._times: dict[int, tuple[int, ...]] = {}
        self._pairs: dict[tuple[int, int], Gap] = {}

    def month(self, mt: MonthType) -> tuple[Any, ...]:
        """(day -> mask, first day, its mask, last day, its mask, shortest gap inside the month).

        The gap's start is counted in minutes from the month's first day.
        """
        cached = self._month.get(mt)
        if cached is not None:
            return cached
        masks: dict[int, int] = {}
        for i, f in enumerate(self.fields):
            for d in firing_days(f, mt):
                masks[d] = masks.get(d, 0) | (1 << i)
        days = sorted(masks)
        best = _NO_GAP
        for d in days:
            gap, start = self.mask_info(masks[d])[2]
            best = min(best, (gap, (d - 1) * MINUTES_PER_DAY + start))
        for d1, d2 in pairwise(days):
            last = self.mask_info(masks[d1])[1]
            gap = (d2 - d1) * MINUTES_PER_DAY + self.mask_info(masks[d2])[0] - last
            best = min(best, (gap, (d1 - 1) * MINUTES_PER_DAY + last))
        if days:
            result: tuple[Any, ...] = (masks, days[0], masks[days[0]], days[-1], masks[days[-1]], best)
        else:
            result = (masks, None, 0, None, 0, best)
        self._month[mt] = result
        return result

    def mask_info(self, mask: int) -> tuple[int, int, Gap]:
        """(first fire time, last fire time, shortest gap inside the day) of the crons in ``mask``."""
        cached = self._mask.get(mask)
        if cached is not None:
            return cached
        members = [i for i in range(len(self.fields)) if mask >> i & 1]
        first = min(self.fields[i].times[0] for i in members)
        last = max(self.fields[i].times[-1] for i in members)
        best = min(_inner_gap(self.fields[i].times) for i in members)
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if (i, j) not in self._pairs:
                    self._pairs[i, j] = _cross_gap(self.fields[i].times, self.fields[j].times)
                best = min(best, self._pairs[i, j])
        info = (first, last, best)
        self._mask[mask] = info
        return info

    def times(self, mask: int) -> tuple[int, ...]:
        cached = self._times.get(mask)
        if cached is None:
            members = [f.times for i, f in enumerate(self.fields) if mask >> i & 1]
            cached = tuple(sorted(set().union(*members)))
            self._times[mask] = cached
        return cached

    def mask_on(self, ordinal: int) -> int:
        day = date.fromordinal(ordinal)
        return self.month(_month_type(day.year, day.month))[0].get(day.day, 0)


def _fast_gap(union: _Union) -> int | None:
    """The answer for one cron without walking the calendar, when its fields make it plain."""
    if len(union.fields) != 1:
        return None
    f = union.fields[0]
    inner = _inner_gap(f.times)[0]
    span = f.times[-1] - f.times[0]
    if inner <= MINUTES_PER_DAY - span:
        return inner  # no two firing days are closer than one day
    if f.uses_extensions or f.dom is not None:
        return None
    if f.dow is None:
        return min(inner, MINUTES_PER_DAY - span)  # every day of every month it names
    days = sorted(f.dow)  # weekdays: each month holds every run of consecutive weekdays
    step = min(((b - a) % 7 for a in days for b in days if a != b), default=7)
    return min(inner, step * MINUTES_PER_DAY - span)


def _walk_gap(union: _Union) -> Gap | None:
    """The shortest wall-clock gap over one 400-year cycle, with the wall-clock minute it starts at."""
    best = _NO_GAP
    last_ordinal: int | None = None
    last_mask = 0
    first_seen: tuple[int, int] | None = None
    cycle = _cycle()
    for mt, ordinal in cycle:
        _, d1, m1, d2, m2, (inside, where) = union.month(mt)
        if d1 is None:
            continue
        month_start = ordinal * MINUTES_PER_DAY
        best = min(best, (inside, month_start + where))
        if last_ordinal is not None:
            last = union.mask_info(last_mask)[1]
            gap = (ordinal + d1 - 1 - last_ordinal) * MINUTES_PER_DAY + union.mask_info(m1)[0] - last
            best = min(best, (gap, last_ordinal * MINUTES_PER_DAY + last))
        else:
            first_seen = (ordinal + d1 - 1, m1)
        last_ordinal, last_mask = ordinal + d2 - 1, m2
        if best[0] <= 1:
            return best
    if first_seen is None or last_ordinal is None:
        return None
    # the cycle repeats: from the last firing day of this cycle to the first one of the next
    cycle_days = cycle[-1][1] + cycle[-1][0][1] - cycle[0][1]
    last = union.mask_info(last_mask)[1]
    wrap = (first_seen[0] + cycle_days - last_ordinal) * MINUTES_PER_DAY + union.mask_info(first_seen[1])[0]
    return min(best, (wrap - last, last_ordinal * MINUTES_PER_DAY + last))


@functools.lru_cache(maxsize=256)
def _transitions(tz: str) -> tuple[tuple[int, int, int], ...]:
    """UTC changes of ``tz``'s offset from 2026 on: (instant in minutes, offset before, offset after).

    Minutes count from ``date.toordinal`` day 0, like the wall-clock minutes of :class:`_Union`.
    """
    import zoneinfo

    zone = zoneinfo.ZoneInfo(tz)

    epoch = date(1970, 1, 1).toordinal() * MINUTES_PER_DAY

    def offset(minute: int) -> int:
        delta = datetime.fromtimestamp((minute - epoch) * 60, zone).utcoffset() or timedelta(0)
        return int(delta.total_seconds() // 60)

    start = date(_DST_FROM, 1, 1).toordinal() * MINUTES_PER_DAY
    end = date(_DST_FROM + _DST_YEARS, 1, 1).toordinal() * MINUTES_PER_DAY
    found: list[tuple[int, int, int]] = []
    step = 7 * MINUTES_PER_DAY  # offsets change at most a few times a year, never twice a week
    here, before = start, offset(start)
    while here < end:
        there = here + step
        after = offset(there)
        if after != before:
            low, high = here, there  # offset(low) == before, offset(high) == after
            while high - low > 1:
                mid = (low + high) // 2
                if offset(mid) == before:
                    low = mid
                else:
                    high = mid
            found.append((high, before, after))
        here, before = there, after
    return tuple(found)


def _fires_in(union: _Union, start: int, end: int, cron: int) -> list[int]:
    """Wall-clock fire minutes of the ``cron``-th expression in ``[start, end)``."""
    bit = 1 << cron
    out: list[int] = []
    for ordinal in range(start // MINUTES_PER_DAY, (end - 1) // MINUTES_PER_DAY + 1):
        if union.mask_on(ordinal) & bit:
            base = ordinal * MINUTES_PER_DAY
            out.extend(base + t for t in union.times(bit) if start <= base + t < end)
    return out


def _neighbour(union: _Union, at: int, direction: int, days: int) -> int | None:
    """The last fire before ``at`` (direction -1) or the first at or after it (+1), within ``days``."""
    day = at // MINUTES_PER_DAY
    for k in range(days + 1):
        ordinal = day + direction * k
        mask = union.mask_on(ordinal)
        if not mask:
            continue
        base = ordinal * MINUTES_PER_DAY
        times = [base + t for t in union.times(mask)]
        hits = [t for t in times if t < at] if direction < 0 else [t for t in times if t >= at]
        if hits:
            return max(hits) if direction < 0 else min(hits)
    return None


def _dst_gap(union: _Union, tz: str, wall: int) -> Gap:
    """The shortest gap between runs next to a daylight-saving change of ``tz``, with its UTC start."""
    best = _NO_GAP
    for instant, before, after in _transitions(tz):
        shift = abs(after - before)
        zone_start = instant + min(before, after)  # wall-clock times that do not exist / occur twice
        zone_end = instant + max(before, after)
        reach = (wall + shift) // MINUTES_PER_DAY + 2  # farther neighbours cannot beat ``wall``
        fires: list[int] = []
        for cron in range(len(union.fields)):
            skip_to = None
            for t in _fires_in(union, zone_start, zone_end + shift, cron):
                if skip_to is not None and t <= skip_to:
                    continue
                fires.append(t)
                if after > before and t < zone_end:
                    # a time that does not exist runs at the wall clock ``t + shift``, and Airflow
                    # computes this cron's next run from there: its times up to then are skipped
                    skip_to = t + shift
        previous = _neighbour(union, zone_start, -1, reach)
        following = _neighbour(union, zone_end + shift, +1, reach)
        wall_times = ([previous] if previous is not None else []) + fires
        wall_times += [following] if following is not None else []
        # Airflow places a wall-clock time with the offset before the change until the change is over
        # (a time that does not exist moves forward, an ambiguous one is its first occurrence)
        instants = sorted({t - (before if t < zone_end else after) for t in wall_times})
        for a, b in pairwise(instants):
            best = min(best, (b - a, a))
    return best


def gap_and_witness(expressions: tuple[str, ...], tz: str = "UTC") -> tuple[int, int, bool] | None:
    """(shortest gap in minutes, where a pair that far apart starts, whether that is a UTC minute).

    The start is a minute counted like :meth:`datetime.date.toordinal` days x 1440: a wall-clock
    time in ``tz``, or UTC when the pair lies next to a daylight-saving change. None: never fires.
    For tests and diagnostics; :func:`shortest_gap` is the cached answer.
    """
    firing = tuple(e for e in expressions if never_fires_reason(e) is None)
    if not firing:
        return None
    union = _Union(tuple(cron_fields(e) for e in firing))
    walked = _walk_gap(union)
    if walked is None:
        return None
    gap, start = walked
    if gap > 1 and tz != "UTC":
        dst, where = _dst_gap(union, tz, gap)
        if dst < gap:
            return dst, where, True
    return gap, start, False


@functools.lru_cache(maxsize=4096)
def shortest_gap(expressions: tuple[str, ...], tz: str = "UTC") -> timedelta | None:
    """The shortest time between two runs of the union of the (valid) expressions in ``tz``.

    None when they never fire. See the module docstring for the method.
    """
    firing = tuple(e for e in expressions if never_fires_reason(e) is None)
    if not firing:
        return None
    union = _Union(tuple(cron_fields(e) for e in firing))
    fast = _fast_gap(union)
    if fast is not None:
        gap: int | None = fast
    else:
        walked = _walk_gap(union)
        gap = None if walked is None else walked[0]
    if gap is None:
        return None
    if gap > 1 and tz != "UTC":
        gap = min(gap, _dst_gap(union, tz, gap)[0])
    return timedelta(minutes=gap)
