"""The ``schedule`` of a spec: parsing, validation and the canonical JSON form (pure data).

Forms (see the README's spec reference):

* ``null`` - manual runs only.
* ``"@once"`` - one run at ``start_date``.
* a cron string or preset (``"0 6 * * 1-5"``, ``"@daily"``) - cron in UTC.
* ``{cron: "...", timezone: "Europe/Berlin"}`` - cron in an IANA timezone.
* ``{crons: ["0 6 * * *", "30 18 * * *"], timezone: "..."}`` - several cron times.
* ``{every: "PT4H", anchor: "2026-01-01T00:30:00Z"}`` - a fixed interval, optionally counted from an anchor.
* ``{assets: ["s3://bucket/key", ...], mode: all|any}`` - data-aware: runs when the assets are updated.
* ``{at: ["2026-03-01T09:00:00+01:00", ...]}`` - explicit instants (date-times with offsets).
* ``{any_of: [<schedule>, ...]}`` - the union of time schedules in any timezones (and at most one
  ``assets`` member: Airflow's asset-or-time schedule).

``cron`` and ``crons`` schedules (also as ``any_of`` members) may skip the public holidays of
calendars (``skip_holidays: DE-BY`` or a list) and local dates (``skip_dates: [2026-12-24]``).

``airflow_provider_scheduler.factory.timetables`` turns them into Airflow timetables.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from airflow_provider_scheduler.spec.calendars import MAX_CALENDARS, check_holiday_code
from airflow_provider_scheduler.spec.cron_gaps import never_fires_reason, shortest_gap
from airflow_provider_scheduler.spec.dates import read_aware_datetime
from airflow_provider_scheduler.spec.durations import DurationError, format_duration, parse_duration
from airflow_provider_scheduler.spec.errors import Problem, join_path

#: Cron presets accepted in ``schedule`` (same expansions as Airflow's).
CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}
PRESET_ALIASES = {"@annually": "@yearly", "@midnight": "@daily"}
_TZ_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}")
ASSET_URI = re.compile(r"[a-z][a-z0-9+.\-]*://\S+")
#: croniter's random values (``R``, ``R(0-30)``, ``R/15``) in one comma-separated part of a field
_RANDOM = re.compile(r"[Rr](?:\(\d+-\d+\))?(?:/\d+)?")
MAX_CRONS = 24
#: why a holiday calendar code is refused, or None
CalendarCheck = Callable[[str], str | None]
MAX_ASSETS = 50
MAX_ASSET_URI = 1500
#: at most this many ``skip_dates`` in one schedule
MAX_SKIP_DATES = 366
#: at most this many members in ``any_of``
MAX_ANY_OF = 12
#: at most this many instants in ``at`` (the admin option ``[schedule_specs] max_at_dates`` may lower it)
MAX_AT_DATES = 500


@functools.lru_cache(maxsize=4096)
def check_cron(expression: str) -> str | None:
    """Return why a five-field cron expression is invalid, or None when it is valid.

    Refused besides croniter's syntax errors: croniter's random values (``R``), which would move the
    run time each time Airflow computes it, and expressions that never fire (``0 0 31 2 *``), which
    Airflow's scheduler cannot compute a next run for.
    """
    fields = expression.split()
    if len(fields) != 5:
        return (
            f"cron expression {expression!r} must have 5 fields "
            f"(minute hour day-of-month month day-of-week), it has {len(fields)}"
        )
    if any(_RANDOM.fullmatch(part) for field in fields for part in field.split(",")):
        return (
            f"cron expression {expression!r} uses a random value (R), which would move the run time "
            f"every time Airflow computes it; write the minute or hour you want"
        )
    from croniter import croniter

    try:
        croniter(expression)
    except Exception as exc:  # croniter raises several unrelated classes for bad input
        return f"invalid cron expression {expression!r}: {exc}"
    never = never_fires_reason(expression)
    if never is not None:
        return f"cron expression {expression!r} never fires: {never}"
    return None


@functools.lru_cache(maxsize=1024)
def check_timezone(name: str) -> str | None:
    """Return why ``name`` is not an IANA timezone name, or None when it is one."""
    import zoneinfo

    if _TZ_NAME.fullmatch(name):
        try:
            zoneinfo.ZoneInfo(name)
            return None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1, cutoff=0.6)
    hint = (
        f" (did you mean {close[0]!r}?)" if close else " (use an IANA name such as 'Europe/Berlin' or 'UTC')"
    )
    return f"unknown timezone {name!r}{hint}"


def cron_min_gap(expressions: tuple[str, ...], tz: str) -> timedelta:
    """Return the shortest time between two consecutive runs of the union of the cron expressions.

    Computed exactly from the cron fields (``spec.cron_gaps``; cached), across the expressions of a
    multi-cron schedule and the daylight-saving changes of ``tz``. Expressions must be valid (a
    schedule that never fires has no gap: ``timedelta.max``).
    """
    gap = shortest_gap(tuple(CRON_PRESETS.get(e, e) for e in expressions), tz)
    return timedelta.max if gap is None else gap


def _parse_aware_datetime(value: Any, path: str, problems: list[Problem]) -> datetime | None:
    result, why = read_aware_datetime(value)
    if why is not None:
        problems.append(Problem(path, why))
    return result


class Schedule:
    """Base of the schedule forms. Immutable; compare by value."""

    kind: ClassVar[str] = ""

    def to_json(self) -> Any:
        """Return the canonical JSON form, which :func:`parse_schedule` accepts back unchanged."""
        raise NotImplementedError

    def min_interval(self) -> timedelta | None:
        """Return the shortest time between two scheduled runs (None: not time-based)."""
        return None

    @property
    def timezone(self) -> str:
        """The IANA timezone the schedule is expressed in (``UTC`` when it has none)."""
        return "UTC"

    def timetable_members(self) -> list[dict[str, Any]]:
        """The members of the provider's ``SpecTimetable`` that run this schedule (none: not time-based)."""
        return []


@dataclass(frozen=True, slots=True)
class ManualSchedule(Schedule):
    """``schedule: null``: runs only when triggered (UI, API, another DAG)."""

    kind: ClassVar[str] = "manual"

    def to_json(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class OnceSchedule(Schedule):
    """``schedule: "@once"``: a single run at ``start_date``."""

    kind: ClassVar[str] = "once"

    def to_json(self) -> str:
        return "@once"


@dataclass(frozen=True, slots=True)
class CronSchedule(Schedule):
    """A cron expression or preset in an IANA timezone; a run fires at each cron time."""

    cron: str
    tz: str = "UTC"
    skip_holidays: tuple[str, ...] = ()
    skip_dates: tuple[date, ...] = ()
    kind: ClassVar[str] = "cron"

    @property
    def timezone(self) -> str:
        return self.tz

    @property
    def expression(self) -> str:
        """The five-field expression (presets expanded)."""
        return CRON_PRESETS.get(self.cron, self.cron)

    def to_json(self) -> str | dict[str, Any]:
        if self.tz == "UTC" and not self.skip_holidays and not self.skip_dates:
            return self.cron
        return {"cron": self.cron, "timezone": self.tz, **_skips_json(self.skip_holidays, self.skip_dates)}

    def min_interval(self) -> timedelta:
        return cron_min_gap((self.expression,), self.tz)

    def timetable_members(self) -> list[dict[str, Any]]:
        """The members of the provider's ``SpecTimetable`` that run this schedule."""
        return [
            {"cron": self.expression, "timezone": self.tz, **_skips_json(self.skip_holidays, self.skip_dates)}
        ]


@dataclass(frozen=True, slots=True)
class MultiCronSchedule(Schedule):
    """Several cron expressions in one timezone (e.g. 06:00 and 18:30); at most one run per instant."""

    crons: tuple[str, ...]
    tz: str = "UTC"
    skip_holidays: tuple[str, ...] = ()
    skip_dates: tuple[date, ...] = ()
    kind: ClassVar[str] = "crons"

    @property
    def timezone(self) -> str:
        return self.tz

    def to_json(self) -> dict[str, Any]:
        return {
            "crons": list(self.crons),
            "timezone": self.tz,
            **_skips_json(self.skip_holidays, self.skip_dates),
        }

    def min_interval(self) -> timedelta:
        return cron_min_gap(tuple(CRON_PRESETS.get(c, c) for c in self.crons), self.tz)

    def timetable_members(self) -> list[dict[str, Any]]:
        skips = _skips_json(self.skip_holidays, self.skip_dates)
        return [{"cron": CRON_PRESETS.get(c, c), "timezone": self.tz, **skips} for c in self.crons]


def _skips_json(skip_holidays: tuple[str, ...], skip_dates: tuple[date, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if skip_holidays:
        out["skip_holidays"] = list(skip_holidays)
    if skip_dates:
        out["skip_dates"] = [d.isoformat() for d in skip_dates]
    return out


@dataclass(frozen=True, slots=True)
class EverySchedule(Schedule):
    """A fixed interval (``every``), counted from ``anchor`` when given, else from ``start_date``."""

    every: timedelta
    anchor: datetime | None = None
    kind: ClassVar[str] = "every"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"every": format_duration(self.every)}
        if self.anchor is not None:
            out["anchor"] = self.anchor.isoformat()
        return out

    def min_interval(self) -> timedelta:
        return self.every

    def timetable_members(self) -> list[dict[str, Any]]:
        return [{"every": int(self.every.total_seconds())}]

    def align_start(self, start: datetime | None) -> datetime | None:
        """Return the first ``anchor + n * every`` at or after ``start`` (the DAG's effective start)."""
        if self.anchor is None:
            return start
        if start is None or start <= self.anchor:
            return self.anchor
        steps = -((self.anchor - start) // self.every)  # ceiling division
        return self.anchor + steps * self.every


@dataclass(frozen=True, slots=True)
class AssetSchedule(Schedule):
    """Data-aware: a run starts when all (``mode: all``) or any (``mode: any``) of the assets update."""

    assets: tuple[str, ...]
    mode: str = "all"
    #: a nested expression (``{all: [uri, {any: [uri, uri]}]}``) as ``(op, (uri | expression, ...))``;
    #: ``assets`` then lists every URI in it, ``mode`` is its top operator
    expression: tuple[str, tuple[Any, ...]] | None = None
    kind: ClassVar[str] = "assets"

    def to_json(self) -> dict[str, Any]:
        if self.expression is not None:
            return {"assets": _expression_json(self.expression)}
        out: dict[str, Any] = {"assets": list(self.assets)}
        if self.mode != "all":
            out["mode"] = self.mode
        return out

    @property
    def tree(self) -> tuple[str, tuple[Any, ...]]:
        """The condition as ``(op, items)``: the expression, or the flat list with its mode."""
        return self.expression if self.expression is not None else (self.mode, self.assets)


def _expression_json(expression: tuple[str, tuple[Any, ...]]) -> dict[str, Any]:
    op, items = expression
    return {op: [item if isinstance(item, str) else _expression_json(item) for item in items]}


@dataclass(frozen=True, slots=True)
class AtSchedule(Schedule):
    """Explicit instants (date-times with offsets): one run at each."""

    instants: tuple[datetime, ...]
    kind: ClassVar[str] = "at"

    def to_json(self) -> dict[str, Any]:
        return {"at": [i.isoformat() for i in self.instants]}

    def min_interval(self) -> timedelta:
        ordered = sorted(self.instants)
        gaps = [b - a for a, b in itertools.pairwise(ordered)]
        return min(gaps) if gaps else timedelta.max

    def timetable_members(self) -> list[dict[str, Any]]:
        return [{"at": [i.isoformat() for i in sorted(self.instants)]}]


@dataclass(frozen=True, slots=True)
class AnyOfSchedule(Schedule):
    """The union of time schedules (any kinds and timezones), plus at most one ``assets`` member.

    A run fires at every time any member gives (at most one run per instant); with an ``assets``
    member it is Airflow's asset-or-time schedule. A plain-date ``start_date`` / ``end_date`` means
    midnight UTC here.
    """

    members: tuple[Schedule, ...]
    kind: ClassVar[str] = "any_of"

    def to_json(self) -> dict[str, Any]:
        return {"any_of": [_member_json(m) for m in self.members]}

    @property
    def time_members(self) -> tuple[Schedule, ...]:
        return tuple(m for m in self.members if not isinstance(m, AssetSchedule))

    @property
    def assets(self) -> AssetSchedule | None:
        return next((m for m in self.members if isinstance(m, AssetSchedule)), None)

    def timetable_members(self) -> list[dict[str, Any]]:
        return [member for m in self.time_members for member in m.timetable_members()]

    def min_interval(self) -> timedelta | None:
        times = self.time_members
        if not times:
            return None
        gaps = [g for m in times if (g := m.min_interval()) is not None]
        if len(times) > 1:
            gaps.append(union_gap(times))
        return min(gaps) if gaps else None


def _member_json(member: Schedule) -> Any:
    """A member in its object form (a cron member always names its timezone)."""
    value = member.to_json()
    if isinstance(member, CronSchedule) and isinstance(value, str):
        return {"cron": value, "timezone": member.tz}
    return value


#: how far ahead (and how many runs per member) :func:`union_gap` looks
_UNION_HORIZON = timedelta(days=731)
_UNION_RUNS = 4000


def union_gap(members: tuple[Schedule, ...]) -> timedelta:
    """The shortest time between two runs of *different* members, over the next two years of runs.

    Each member's own shortest gap is exact (``min_interval``); the gaps across members (different
    timezones, intervals, instants) are measured on the runs themselves, from 2026-01-01 (at most
    ``_UNION_RUNS`` per member: a member that runs more often has a gap below any sensible limit).
    """
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + _UNION_HORIZON
    times: list[tuple[datetime, int]] = []
    for index, member in enumerate(members):
        times.extend((when, index) for when in _member_runs(member, start, end))
    times.sort()
    best = timedelta.max
    for (a, i), (b, j) in itertools.pairwise(times):
        if i != j and b != a:  # one instant from two members is one run
            best = min(best, b - a)
    return best


def _member_runs(member: Schedule, start: datetime, end: datetime) -> list[datetime]:
    if isinstance(member, AtSchedule):
        return [i for i in member.instants if start <= i <= end] or list(member.instants)
    if isinstance(member, EverySchedule):
        runs: list[datetime] = []
        when = member.anchor or start
        while when <= end and len(runs) < _UNION_RUNS:
            runs.append(when)
            when += member.every
        return runs
    import zoneinfo

    from croniter import croniter

    expressions: tuple[str, ...]
    if isinstance(member, CronSchedule):
        expressions, tz = (member.expression,), member.tz
    elif isinstance(member, MultiCronSchedule):
        expressions, tz = tuple(CRON_PRESETS.get(c, c) for c in member.crons), member.tz
    else:  # pragma: no cover - any_of members are checked when parsed
        return []
    zone = zoneinfo.ZoneInfo(tz)
    runs = []
    for expression in expressions:
        it = croniter(expression, start.astimezone(zone))
        for _ in range(_UNION_RUNS):
            when = it.get_next(datetime)
            if when > end:
                break
            runs.append(when.astimezone(UTC))
    return runs


_SCHEDULE_KEYS = {
    "cron": ("cron", "timezone", "skip_holidays", "skip_dates"),
    "crons": ("crons", "timezone", "skip_holidays", "skip_dates"),
    "every": ("every", "anchor"),
    "assets": ("assets", "mode"),
    "at": ("at",),
    "any_of": ("any_of",),
}
_ALL_SCHEDULE_KEYS = (
    "cron",
    "crons",
    "timezone",
    "skip_holidays",
    "skip_dates",
    "every",
    "anchor",
    "assets",
    "mode",
    "at",
    "any_of",
)


def _check_cron_text(value: Any, path: str, problems: list[Problem]) -> str | None:
    if not isinstance(value, str):
        problems.append(Problem(path, "must be a cron expression string such as '0 6 * * 1-5' or '@daily'"))
        return None
    value = value.strip()
    value = PRESET_ALIASES.get(value, value)
    if value.startswith("@"):
        if value in CRON_PRESETS:
            return value
        if value == "@once":
            problems.append(Problem(path, "'@once' cannot be combined with other cron expressions"))
            return None
        _bad_preset(value, path, problems)
        return None
    reason = check_cron(value)
    if reason:
        problems.append(Problem(path, reason))
        return None
    return " ".join(value.split())


def _bad_preset(value: str, path: str, problems: list[Problem]) -> None:
    if value == "@continuous":
        problems.append(
            Problem(
                path,
                "'@continuous' is not supported: it starts a new run as soon as the last one ends and "
                "bypasses the minimum interval; use a cron expression or {every: PT...}",
            )
        )
        return None
    names = [*CRON_PRESETS, "@once"]
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known presets: {', '.join(names)})"
    problems.append(Problem(path, f"unknown schedule preset {value!r}{hint}"))
    return None


def _check_tz(value: Any, path: str, problems: list[Problem]) -> str | None:
    if not isinstance(value, str):
        problems.append(Problem(path, "must be an IANA timezone name such as 'Europe/Berlin'"))
        return None
    reason = check_timezone(value)
    if reason:
        problems.append(Problem(path, reason))
        return None
    return value


def parse_schedule(
    value: Any, path: str, problems: list[Problem], *, check_calendar: CalendarCheck = check_holiday_code
) -> Schedule | None:
    """Parse the ``schedule`` value, appending problems; returns None when it is invalid.

    :param check_calendar: why a ``skip_holidays`` code is not a calendar, or None (the canonical path
        passes a check of the code's form, so a DAG file parse never imports the calendars).
    """
    if value is None:
        return ManualSchedule()
    if isinstance(value, str):
        stripped = PRESET_ALIASES.get(value.strip(), value.strip())
        if stripped == "@once":
            return OnceSchedule()
        cron = _check_cron_text(value, path, problems)
        return CronSchedule(cron) if cron else None
    if not isinstance(value, Mapping):
        problems.append(
            Problem(
                path,
                "must be null, a cron expression or preset, or an object with one of: "
                "cron, crons, every, assets, at, any_of",
            )
        )
        return None
    return _parse_object(value, path, problems, check_calendar)


def _parse_object(
    value: Mapping[str, Any], path: str, problems: list[Problem], check_calendar: CalendarCheck
) -> Schedule | None:
    forms = [k for k in _SCHEDULE_KEYS if k in value]
    if len(forms) != 1:
        if forms:
            problems.append(Problem(path, f"use only one of {', '.join(forms)} in a schedule"))
        else:
            problems.append(Problem(path, "must contain one of: cron, crons, every, assets, at, any_of"))
        for key in value:
            if key not in _ALL_SCHEDULE_KEYS:
                problems.append(_unknown_key(key, _ALL_SCHEDULE_KEYS, join_path(path, str(key))))
        return None
    form = forms[0]
    allowed = _SCHEDULE_KEYS[form]
    ok = True
    for key in value:
        if key not in allowed:
            problems.append(_unknown_key(key, allowed, join_path(path, str(key)), form=form))
            ok = False
    if form in ("cron", "crons"):
        skip_holidays = _check_skip_holidays(
            value.get("skip_holidays"), f"{path}.skip_holidays", problems, check_calendar
        )
        skip_dates = _check_skip_dates(value.get("skip_dates"), f"{path}.skip_dates", problems)
        ok = ok and skip_holidays is not None and skip_dates is not None
    if form == "cron":
        cron = _check_cron_text(value["cron"], f"{path}.cron", problems)
        if "timezone" not in value:
            problems.append(
                Problem(f"{path}.timezone", "required with 'cron' (e.g. 'Europe/Berlin' or 'UTC')")
            )
            return None
        tz = _check_tz(value["timezone"], f"{path}.timezone", problems)
        if cron == "@once":
            return None
        if not (cron and tz and ok):
            return None
        assert skip_holidays is not None
        assert skip_dates is not None
        return CronSchedule(cron, tz, skip_holidays, skip_dates)
    if form == "crons":
        crons_value = value["crons"]
        crons: list[str] = []
        if not isinstance(crons_value, list) or not crons_value:
            problems.append(Problem(f"{path}.crons", "must be a non-empty list of cron expressions"))
            ok = False
        elif len(crons_value) > MAX_CRONS:
            problems.append(Problem(f"{path}.crons", f"at most {MAX_CRONS} cron expressions are allowed"))
            ok = False
        else:
            for i, item in enumerate(crons_value):
                cron = _check_cron_text(item, f"{path}.crons[{i}]", problems)
                if cron is None:
                    ok = False
                elif cron in crons:
                    problems.append(Problem(f"{path}.crons[{i}]", f"{cron!r} is listed twice"))
                    ok = False
                else:
                    crons.append(cron)
        if "timezone" not in value:
            problems.append(
                Problem(f"{path}.timezone", "required with 'crons' (e.g. 'Europe/Berlin' or 'UTC')")
            )
            return None
        tz = _check_tz(value["timezone"], f"{path}.timezone", problems)
        if not (ok and tz):
            return None
        assert skip_holidays is not None
        assert skip_dates is not None
        return MultiCronSchedule(tuple(crons), tz, skip_holidays, skip_dates)
    if form == "at":
        instants = _check_instants(value["at"], f"{path}.at", problems)
        return AtSchedule(instants) if instants is not None and ok else None
    if form == "any_of":
        return _parse_any_of(value["any_of"], f"{path}.any_of", problems, check_calendar) if ok else None
    if form == "every":
        every = None
        try:
            every = parse_duration(value["every"])
        except DurationError as exc:
            problems.append(Problem(f"{path}.every", str(exc)))
        else:
            if every <= timedelta(0):
                problems.append(Problem(f"{path}.every", "must be longer than zero"))
                every = None
        anchor = None
        if value.get("anchor") is not None:
            anchor = _parse_aware_datetime(value["anchor"], f"{path}.anchor", problems)
            ok = ok and anchor is not None
        return EverySchedule(every, anchor) if every is not None and ok else None
    # assets
    assets_value = value["assets"]
    if isinstance(assets_value, Mapping):
        if "mode" in value:
            problems.append(Problem(f"{path}.mode", "not with an expression: its 'all' or 'any' says it"))
            ok = False
        seen: list[str] = []
        expression = _check_asset_expression(assets_value, f"{path}.assets", problems, seen, 1)
        if expression is None or not ok:
            return None
        return AssetSchedule(tuple(seen), expression[0], expression)
    assets: list[str] = []
    if not isinstance(assets_value, list) or not assets_value:
        problems.append(
            Problem(
                f"{path}.assets",
                "must be a non-empty list of asset URIs, or an expression such as "
                "{all: ['s3://a', {any: ['s3://b', 's3://c']}]}",
            )
        )
        ok = False
    elif len(assets_value) > MAX_ASSETS:
        problems.append(Problem(f"{path}.assets", f"at most {MAX_ASSETS} assets are allowed"))
        ok = False
    else:
        for i, uri in enumerate(assets_value):
            ok = check_asset_uri(uri, f"{path}.assets[{i}]", problems, assets) and ok
    mode = value.get("mode", "all")
    if mode not in ("all", "any"):
        problems.append(
            Problem(f"{path}.mode", "must be 'all' (every asset updated) or 'any' (one is enough)")
        )
        ok = False
    return AssetSchedule(tuple(assets), mode) if ok else None


#: how deep an asset expression may nest
MAX_ASSET_DEPTH = 4


def check_asset_uri(uri: Any, path: str, problems: list[Problem], seen: list[str]) -> bool:
    """Check one asset URI (appended to ``seen`` when good)."""
    if not isinstance(uri, str) or not ASSET_URI.fullmatch(uri) or len(uri) > MAX_ASSET_URI:
        problems.append(
            Problem(path, "must be an asset URI such as 's3://bucket/key' (scheme://..., no spaces)")
        )
        return False
    if uri.lower().startswith("airflow://"):
        problems.append(Problem(path, "the 'airflow' URI scheme is reserved by Airflow"))
        return False
    if uri in seen:
        problems.append(Problem(path, f"{uri!r} is listed twice"))
        return False
    seen.append(uri)
    return True


def _check_asset_expression(
    value: Mapping[str, Any], path: str, problems: list[Problem], seen: list[str], depth: int
) -> tuple[str, tuple[Any, ...]] | None:
    """``{all: [...]}`` or ``{any: [...]}`` whose items are URIs or nested expressions."""
    keys = list(value)
    if len(keys) != 1 or keys[0] not in ("all", "any"):
        problems.append(
            Problem(
                path,
                "an asset expression has exactly one key, 'all' or 'any', with a list of URIs or expressions",
            )
        )
        return None
    op = keys[0]
    items = value[op]
    item_path = f"{path}.{op}"
    if not isinstance(items, list) or not items:
        problems.append(Problem(item_path, "must be a non-empty list of asset URIs or expressions"))
        return None
    out: list[Any] = []
    ok = True
    for i, item in enumerate(items):
        if len(seen) >= MAX_ASSETS:
            problems.append(Problem(path, f"at most {MAX_ASSETS} assets are allowed"))
            return None
        if isinstance(item, Mapping):
            if depth >= MAX_ASSET_DEPTH:
                problems.append(
                    Problem(f"{item_path}[{i}]", f"asset expressions nest at most {MAX_ASSET_DEPTH} deep")
                )
                ok = False
                continue
            nested = _check_asset_expression(item, f"{item_path}[{i}]", problems, seen, depth + 1)
            if nested is None:
                ok = False
            else:
                out.append(nested)
        elif check_asset_uri(item, f"{item_path}[{i}]", problems, seen):
            out.append(item)
        else:
            ok = False
    return (op, tuple(out)) if ok else None


def _check_skip_holidays(
    value: Any, path: str, problems: list[Problem], check_calendar: CalendarCheck
) -> tuple[str, ...] | None:
    """``skip_holidays``: a calendar code or a list of them (None: invalid, reported)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        problems.append(
            Problem(path, "must be a holiday calendar code such as 'DE-BY' or 'US', or a list of them")
        )
        return None
    if len(items) > MAX_CALENDARS:
        problems.append(Problem(path, f"at most {MAX_CALENDARS} holiday calendars are allowed"))
        return None
    codes: list[str] = []
    ok = True
    for i, code in enumerate(items):
        item_path = path if isinstance(value, str) else f"{path}[{i}]"
        if not isinstance(code, str) or len(code) > 16:
            problems.append(Problem(item_path, "must be a holiday calendar code such as 'DE-BY' or 'US'"))
            ok = False
            continue
        reason = check_calendar(code)
        if reason:
            problems.append(Problem(item_path, reason))
            ok = False
        elif code in codes:
            problems.append(Problem(item_path, f"{code!r} is listed twice"))
            ok = False
        else:
            codes.append(code)
    return tuple(codes) if ok else None


def _check_skip_dates(value: Any, path: str, problems: list[Problem]) -> tuple[date, ...] | None:
    """``skip_dates``: local dates (``2026-12-24``) on which no run happens (None: invalid, reported)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        problems.append(Problem(path, "must be a non-empty list of dates such as 2026-12-24"))
        return None
    if len(value) > MAX_SKIP_DATES:
        problems.append(Problem(path, f"at most {MAX_SKIP_DATES} dates are allowed, not {len(value)}"))
        return None
    days: list[date] = []
    ok = True
    for i, item in enumerate(value):
        day = None
        if isinstance(item, date) and not isinstance(item, datetime):
            day = item
        elif isinstance(item, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", item):
            try:
                day = date.fromisoformat(item)
            except ValueError:
                day = None
        if day is None:
            problems.append(
                Problem(f"{path}[{i}]", "must be a date such as 2026-12-24 (in the schedule's timezone)")
            )
            ok = False
        elif day in days:
            problems.append(Problem(f"{path}[{i}]", f"{day.isoformat()} is listed twice"))
            ok = False
        else:
            days.append(day)
    return tuple(sorted(days)) if ok else None


def _check_instants(value: Any, path: str, problems: list[Problem]) -> tuple[datetime, ...] | None:
    """``at``: date-times with offsets (None: invalid, reported)."""
    if not isinstance(value, list) or not value:
        problems.append(
            Problem(
                path, "must be a non-empty list of date-times with offsets such as 2026-03-01T09:00:00+01:00"
            )
        )
        return None
    if len(value) > MAX_AT_DATES:
        problems.append(Problem(path, f"at most {MAX_AT_DATES} date-times are allowed, not {len(value)}"))
        return None
    instants: list[datetime] = []
    ok = True
    for i, item in enumerate(value):
        when = _parse_aware_datetime(item, f"{path}[{i}]", problems)
        if when is None:
            ok = False
        elif any(when == seen for seen in instants):
            problems.append(Problem(f"{path}[{i}]", f"{item} is listed twice (the same instant)"))
            ok = False
        else:
            instants.append(when)
    return tuple(instants) if ok else None


def _parse_any_of(
    value: Any, path: str, problems: list[Problem], check_calendar: CalendarCheck
) -> Schedule | None:
    if not isinstance(value, list) or not value:
        problems.append(
            Problem(path, "must be a non-empty list of schedules (cron, crons, every, at, assets)")
        )
        return None
    if len(value) > MAX_ANY_OF:
        problems.append(Problem(path, f"at most {MAX_ANY_OF} schedules are allowed, not {len(value)}"))
        return None
    members: list[Schedule] = []
    ok = True
    assets_at: list[int] = []
    for i, item in enumerate(value):
        item_path = f"{path}[{i}]"
        if isinstance(item, Mapping) and "any_of" in item:
            problems.append(
                Problem(item_path, "an any_of cannot contain another any_of; list its members here")
            )
            ok = False
            continue
        if item is None or (
            isinstance(item, str) and PRESET_ALIASES.get(item.strip(), item.strip()) == "@once"
        ):
            problems.append(
                Problem(item_path, "must be a time schedule (cron, crons, every, at) or an assets schedule")
            )
            ok = False
            continue
        member = parse_schedule(item, item_path, problems, check_calendar=check_calendar)
        if member is None:
            ok = False
            continue
        if isinstance(member, AssetSchedule):
            assets_at.append(i)
        members.append(member)
    if len(assets_at) > 1:
        problems.append(
            Problem(
                f"{path}[{assets_at[1]}]",
                "at most one assets member is allowed in any_of (list all the assets in that one, with "
                "mode: any or all)",
            )
        )
        ok = False
    if ok and len(assets_at) == len(members):
        problems.append(Problem(path, "needs at least one time schedule (cron, crons, every, at)"))
        ok = False
    return AnyOfSchedule(tuple(members)) if ok else None


def _unknown_key(key: Any, allowed: tuple[str, ...], path: str, form: str | None = None) -> Problem:
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    if close:
        return Problem(path, f"unknown key {key!r} (did you mean {close[0]!r}?)")
    if form and key in _ALL_SCHEDULE_KEYS:
        return Problem(path, f"{key!r} cannot be used with {form!r}; allowed here: {', '.join(allowed)}")
    return Problem(path, f"unknown key {key!r}; allowed here: {', '.join(allowed)}")
