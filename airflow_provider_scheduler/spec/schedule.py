"""The ``schedule`` of a spec: parsing, validation, and mapping to Airflow's ``schedule=`` argument.

Forms (see the README's spec reference):

* ``null`` - manual runs only.
* ``"@once"`` - one run at ``start_date``.
* a cron string or preset (``"0 6 * * 1-5"``, ``"@daily"``) - cron in UTC.
* ``{cron: "...", timezone: "Europe/Berlin"}`` - cron in an IANA timezone.
* ``{crons: ["0 6 * * *", "30 18 * * *"], timezone: "..."}`` - several cron times.
* ``{every: "PT4H", anchor: "2026-01-01T00:30:00Z"}`` - a fixed interval, optionally counted from an anchor.
* ``{assets: ["s3://bucket/key", ...], mode: all|any}`` - data-aware: runs when the assets are updated.

Cron-based forms become *trigger* timetables on every Airflow version (a run fires at the cron time,
like POSIX cron), so the same spec behaves the same on 2.11 and 3.x.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from airflow_provider_scheduler.spec.durations import DurationError, format_duration, parse_duration
from airflow_provider_scheduler.spec.errors import Problem, SpecError, join_path

#: Cron presets accepted in ``schedule`` (same expansions as Airflow's).
CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}
_PRESET_ALIASES = {"@annually": "@yearly", "@midnight": "@daily"}
_TZ_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}")
_ASSET_URI = re.compile(r"[a-z][a-z0-9+.\-]*://\S+")
_MAX_CRONS = 24
_MAX_ASSETS = 50


@functools.lru_cache(maxsize=4096)
def check_cron(expression: str) -> str | None:
    """Return why a five-field cron expression is invalid, or None when it is valid."""
    fields = expression.split()
    if len(fields) != 5:
        return (
            f"cron expression {expression!r} must have 5 fields "
            f"(minute hour day-of-month month day-of-week), it has {len(fields)}"
        )
    from croniter import croniter

    try:
        croniter(expression)
    except Exception as exc:  # croniter raises several unrelated classes for bad input
        return f"invalid cron expression {expression!r}: {exc}"
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


@functools.lru_cache(maxsize=4096)
def cron_min_gap(expressions: tuple[str, ...], tz: str) -> timedelta:
    """Return the shortest time between two consecutive runs of the union of the cron expressions.

    Sampled over at most 62 days / 2000 runs from a fixed reference time (cached), which finds the
    smallest gap of any realistic expression. Expressions must be valid.
    """
    import heapq
    import zoneinfo

    from croniter import croniter

    start = datetime(2026, 1, 1, tzinfo=zoneinfo.ZoneInfo(tz))
    horizon = start + timedelta(days=62)
    iters = [croniter(CRON_PRESETS.get(e, e), start) for e in expressions]
    fires = heapq.merge(*(_take(it, horizon) for it in iters))
    best = timedelta(days=366)
    previous = None
    for n, fire in enumerate(fires):
        if previous is not None and fire != previous:
            best = min(best, fire - previous)
            if best <= timedelta(minutes=1):
                break
        previous = fire
        if n > 2000:
            break
    return best


def _take(it: Any, horizon: datetime):
    while True:
        nxt = it.get_next(datetime)
        if nxt > horizon:
            return
        yield nxt.astimezone(UTC)


def _parse_aware_datetime(value: Any, path: str, problems: list[Problem]) -> datetime | None:
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value)
        except ValueError:
            problems.append(
                Problem(path, f"{value!r} is not a date-time; use ISO-8601 such as 2026-01-01T06:00:00Z")
            )
            return None
    else:
        problems.append(Problem(path, "must be an ISO-8601 date-time string such as 2026-01-01T06:00:00Z"))
        return None
    if result.tzinfo is None:
        problems.append(Problem(path, f"{value!s} has no timezone; add one, e.g. 2026-01-01T06:00:00Z"))
        return None
    return result


def _airflow_import(name: str, *modules: str) -> Any:
    """Import ``name`` from the first module that has it (newest location first)."""
    import importlib

    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return None


class Schedule:
    """Base of the schedule forms. Immutable; compare by value."""

    kind: ClassVar[str] = ""

    def to_json(self) -> Any:
        """Return the canonical JSON form, which :func:`parse_schedule` accepts back unchanged."""
        raise NotImplementedError

    def to_airflow(self) -> Any:
        """Return the value for ``DAG(schedule=...)`` on the running Airflow (3.x or 2.11)."""
        raise NotImplementedError

    def min_interval(self) -> timedelta | None:
        """Return the shortest time between two scheduled runs (None: not time-based)."""
        return None

    @property
    def timezone(self) -> str:
        """The IANA timezone the schedule is expressed in (``UTC`` when it has none)."""
        return "UTC"


@dataclass(frozen=True, slots=True)
class ManualSchedule(Schedule):
    """``schedule: null``: runs only when triggered (UI, API, another DAG)."""

    kind: ClassVar[str] = "manual"

    def to_json(self) -> None:
        return None

    def to_airflow(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class OnceSchedule(Schedule):
    """``schedule: "@once"``: a single run at ``start_date``."""

    kind: ClassVar[str] = "once"

    def to_json(self) -> str:
        return "@once"

    def to_airflow(self) -> str:
        return "@once"


@dataclass(frozen=True, slots=True)
class CronSchedule(Schedule):
    """A cron expression or preset in an IANA timezone; a run fires at each cron time."""

    cron: str
    tz: str = "UTC"
    kind: ClassVar[str] = "cron"

    @property
    def timezone(self) -> str:
        return self.tz

    @property
    def expression(self) -> str:
        """The five-field expression (presets expanded)."""
        return CRON_PRESETS.get(self.cron, self.cron)

    def to_json(self) -> str | dict[str, str]:
        if self.tz == "UTC":
            return self.cron
        return {"cron": self.cron, "timezone": self.tz}

    def to_airflow(self) -> Any:
        cls = _airflow_import("CronTriggerTimetable", "airflow.sdk", "airflow.timetables.trigger")
        return cls(self.expression, timezone=self.tz)

    def min_interval(self) -> timedelta:
        return cron_min_gap((self.expression,), self.tz)


@dataclass(frozen=True, slots=True)
class MultiCronSchedule(Schedule):
    """Several cron expressions in one timezone (e.g. 06:00 and 18:30); at most one run per instant."""

    crons: tuple[str, ...]
    tz: str = "UTC"
    kind: ClassVar[str] = "crons"

    @property
    def timezone(self) -> str:
        return self.tz

    def to_json(self) -> dict[str, Any]:
        return {"crons": list(self.crons), "timezone": self.tz}

    def to_airflow(self) -> Any:
        expressions = [CRON_PRESETS.get(c, c) for c in self.crons]
        cls = _airflow_import("MultipleCronTriggerTimetable", "airflow.sdk", "airflow.timetables.trigger")
        if cls is not None:
            return cls(*expressions, timezone=self.tz)
        # Airflow 2.11 has no MultipleCronTriggerTimetable. When the expressions differ in one field
        # only, one cron with that field comma-joined fires at exactly the union of their times.
        merged = merge_crons(expressions)
        if merged is None:
            from airflow import __version__ as airflow_version

            raise SpecError(
                [
                    Problem(
                        "schedule.crons",
                        "several cron expressions that differ in more than one field need Airflow 3 "
                        f"(MultipleCronTriggerTimetable), and this is Airflow {airflow_version}; use crons "
                        "that differ in one field only (e.g. '0 6 * * *' and '0 18 * * *') or one cron "
                        "expression",
                    )
                ]
            )
        cron_cls = _airflow_import("CronTriggerTimetable", "airflow.timetables.trigger")
        return cron_cls(merged, timezone=self.tz)

    def min_interval(self) -> timedelta:
        return cron_min_gap(tuple(CRON_PRESETS.get(c, c) for c in self.crons), self.tz)


def merge_crons(expressions: list[str]) -> str | None:
    """Merge cron expressions that differ in at most one field into one expression, else None."""
    split = [e.split() for e in expressions]
    differing = [i for i in range(5) if len({fields[i] for fields in split}) > 1]
    if len(differing) > 1:
        return None
    merged = list(split[0])
    if differing:
        i = differing[0]
        values: list[str] = []
        for fields in split:
            for part in fields[i].split(","):
                if part not in values:
                    values.append(part)
        if "*" in values:
            return None
        merged[i] = ",".join(values)
    result = " ".join(merged)
    return result if check_cron(result) is None else None


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

    def to_airflow(self) -> Any:
        cls = _airflow_import("DeltaTriggerTimetable", "airflow.sdk", "airflow.timetables.trigger")
        return cls(self.every)

    def min_interval(self) -> timedelta:
        return self.every

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
    kind: ClassVar[str] = "assets"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"assets": list(self.assets)}
        if self.mode != "all":
            out["mode"] = self.mode
        return out

    def to_airflow(self) -> Any:
        from airflow.providers.common.compat.sdk import Asset, AssetAll, AssetAny

        objects = [Asset(uri) for uri in self.assets]
        return AssetAny(*objects) if self.mode == "any" else AssetAll(*objects)


_SCHEDULE_KEYS = {
    "cron": ("cron", "timezone"),
    "crons": ("crons", "timezone"),
    "every": ("every", "anchor"),
    "assets": ("assets", "mode"),
}
_ALL_SCHEDULE_KEYS = ("cron", "crons", "timezone", "every", "anchor", "assets", "mode")


def _check_cron_text(value: Any, path: str, problems: list[Problem]) -> str | None:
    if not isinstance(value, str):
        problems.append(Problem(path, "must be a cron expression string such as '0 6 * * 1-5' or '@daily'"))
        return None
    value = value.strip()
    value = _PRESET_ALIASES.get(value, value)
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


def parse_schedule(value: Any, path: str, problems: list[Problem]) -> Schedule | None:
    """Parse the ``schedule`` value, appending problems; returns None when it is invalid."""
    if value is None:
        return ManualSchedule()
    if isinstance(value, str):
        stripped = _PRESET_ALIASES.get(value.strip(), value.strip())
        if stripped == "@once":
            return OnceSchedule()
        cron = _check_cron_text(value, path, problems)
        return CronSchedule(cron) if cron else None
    if not isinstance(value, Mapping):
        problems.append(
            Problem(
                path,
                "must be null, a cron expression or preset, or an object with one of: "
                "cron, crons, every, assets",
            )
        )
        return None
    forms = [k for k in _SCHEDULE_KEYS if k in value]
    if len(forms) != 1:
        if forms:
            problems.append(Problem(path, f"use only one of {', '.join(forms)} in a schedule"))
        else:
            problems.append(Problem(path, "must contain one of: cron, crons, every, assets"))
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
        return CronSchedule(cron, tz) if cron and tz and ok else None
    if form == "crons":
        crons_value = value["crons"]
        crons: list[str] = []
        if not isinstance(crons_value, list) or not crons_value:
            problems.append(Problem(f"{path}.crons", "must be a non-empty list of cron expressions"))
            ok = False
        elif len(crons_value) > _MAX_CRONS:
            problems.append(Problem(f"{path}.crons", f"at most {_MAX_CRONS} cron expressions are allowed"))
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
        return MultiCronSchedule(tuple(crons), tz) if ok and tz else None
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
    assets: list[str] = []
    if not isinstance(assets_value, list) or not assets_value:
        problems.append(Problem(f"{path}.assets", "must be a non-empty list of asset URIs"))
        ok = False
    elif len(assets_value) > _MAX_ASSETS:
        problems.append(Problem(f"{path}.assets", f"at most {_MAX_ASSETS} assets are allowed"))
        ok = False
    else:
        for i, uri in enumerate(assets_value):
            item_path = f"{path}.assets[{i}]"
            if not isinstance(uri, str) or not _ASSET_URI.fullmatch(uri) or len(uri) > 1500:
                problems.append(
                    Problem(
                        item_path, "must be an asset URI such as 's3://bucket/key' (scheme://..., no spaces)"
                    )
                )
                ok = False
            elif uri.lower().startswith("airflow://"):
                problems.append(Problem(item_path, "the 'airflow' URI scheme is reserved by Airflow"))
                ok = False
            elif uri in assets:
                problems.append(Problem(item_path, f"{uri!r} is listed twice"))
                ok = False
            else:
                assets.append(uri)
    mode = value.get("mode", "all")
    if mode not in ("all", "any"):
        problems.append(
            Problem(f"{path}.mode", "must be 'all' (every asset updated) or 'any' (one is enough)")
        )
        ok = False
    return AssetSchedule(tuple(assets), mode) if ok else None


def _unknown_key(key: Any, allowed: tuple[str, ...], path: str, form: str | None = None) -> Problem:
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    if close:
        return Problem(path, f"unknown key {key!r} (did you mean {close[0]!r}?)")
    if form and key in _ALL_SCHEDULE_KEYS:
        return Problem(path, f"{key!r} cannot be used with {form!r}; allowed here: {', '.join(allowed)}")
    return Problem(path, f"unknown key {key!r}; allowed here: {', '.join(allowed)}")
