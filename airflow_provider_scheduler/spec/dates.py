"""Dates in a spec: ``start_date`` / ``end_date`` (a date or an aware date-time) and the every-``anchor``.

One function per concept: reading a value a user wrote (:func:`read_date`, :func:`read_aware_datetime`),
reading the canonical text a store wrote (:func:`date_from_canonical`), writing it
(:func:`date_to_json`), the DAG's datetime (:func:`at_midnight`: a date means midnight in the schedule's
timezone; :func:`end_of_day`: an ``end_date`` that is a date includes that day) and an instant to
compare (:func:`utc_instant`: a date means midnight UTC).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time

#: the canonical form of a plain date (``2026-01-01``)
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: what the published JSON Schema accepts for a date or date-time with offset
DATE_OR_DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$"

#: what the published JSON Schema accepts for a date-time with offset (``at``)
DATETIME_WITH_OFFSET_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$"

SpecDate = date | datetime


def read_date(value: object) -> tuple[SpecDate | None, str | None]:
    """A user's ``start_date`` / ``end_date``: ``(value, None)`` or ``(None, why not)``."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        return value, None
    elif isinstance(value, str) and DATE_ONLY.fullmatch(value):
        try:
            return date.fromisoformat(value), None
        except ValueError:
            return None, f"{value!r} is not a valid date"
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value)
        except ValueError:
            return None, f"{value!r} is not a date (2026-01-01) or date-time (2026-01-01T06:00:00Z)"
    else:
        return None, "must be a date such as 2026-01-01"
    if result.tzinfo is None:
        return None, f"{value!s} has no timezone; add one (2026-01-01T06:00:00Z) or give a date only"
    return result, None


def read_aware_datetime(value: object) -> tuple[datetime | None, str | None]:
    """A user's aware date-time (the every-``anchor``): ``(value, None)`` or ``(None, why not)``."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value)
        except ValueError:
            return None, f"{value!r} is not a date-time; use ISO-8601 such as 2026-01-01T06:00:00Z"
    else:
        return None, "must be an ISO-8601 date-time string such as 2026-01-01T06:00:00Z"
    if result.tzinfo is None:
        return None, f"{value!s} has no timezone; add one, e.g. 2026-01-01T06:00:00Z"
    return result, None


@functools.lru_cache(maxsize=1024)
def date_from_canonical(text: str) -> SpecDate:
    """The date or aware date-time ``date_to_json`` wrote (cached; ValueError for anything else)."""
    if len(text) == 10:
        return date.fromisoformat(text)
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no timezone")
    return value


def date_to_json(value: SpecDate | None) -> str | None:
    """The canonical text of a spec date (ISO-8601)."""
    return None if value is None else value.isoformat()


def at_midnight(value: SpecDate | None, tz: str) -> datetime | None:
    """A spec date as an aware datetime for ``DAG(start_date=...)``: a date is midnight in ``tz``."""
    if value is None or isinstance(value, datetime):
        return value
    import zoneinfo  # only when a DAG is built from a date-only spec

    return datetime.combine(value, time(0, 0), tzinfo=zoneinfo.ZoneInfo(tz))


def end_of_day(value: SpecDate | None, tz: str) -> datetime | None:
    """An ``end_date`` as an aware datetime: a date includes that day (23:59:59 in ``tz``)."""
    if value is None or isinstance(value, datetime):
        return value
    import zoneinfo  # only when a DAG is built from a date-only spec

    return datetime.combine(value, time(23, 59, 59), tzinfo=zoneinfo.ZoneInfo(tz))


def utc_instant(value: SpecDate) -> datetime:
    """A spec date as an instant to compare (a date is midnight UTC; a naive date-time is UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)
