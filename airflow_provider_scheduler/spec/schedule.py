"""The ``schedule`` of a spec: parsing, validation and the canonical JSON form (pure data).

Forms (see the README's spec reference):

* ``null`` - manual runs only.
* ``"@once"`` - one run at ``start_date``.
* a cron string or preset (``"0 6 * * 1-5"``, ``"@daily"``) - cron in UTC.
* ``{cron: "...", timezone: "Europe/Berlin"}`` - cron in an IANA timezone.
* ``{crons: ["0 6 * * *", "30 18 * * *"], timezone: "..."}`` - several cron times.
* ``{every: "PT4H", anchor: "2026-01-01T00:30:00Z"}`` - a fixed interval, optionally counted from an anchor.
* ``{assets: ["s3://bucket/key", ...], mode: all|any}`` - data-aware: runs when the assets are updated.

``airflow_provider_scheduler.factory.timetables`` turns them into Airflow timetables.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

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
MAX_ASSETS = 50
MAX_ASSET_URI = 1500


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


def parse_schedule(value: Any, path: str, problems: list[Problem]) -> Schedule | None:
    """Parse the ``schedule`` value, appending problems; returns None when it is invalid."""
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
    elif len(assets_value) > MAX_ASSETS:
        problems.append(Problem(f"{path}.assets", f"at most {MAX_ASSETS} assets are allowed"))
        ok = False
    else:
        for i, uri in enumerate(assets_value):
            item_path = f"{path}.assets[{i}]"
            if not isinstance(uri, str) or not ASSET_URI.fullmatch(uri) or len(uri) > MAX_ASSET_URI:
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
