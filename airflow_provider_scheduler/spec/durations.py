"""A small, strict ISO-8601 duration parser (no new dependency).

Accepted: ``PnW`` or ``P[nD][T[nH][nM][nS]]`` with whole numbers, e.g. ``PT5M``, ``PT1H30M``, ``P1D``,
``P2W``. Years and months are refused because their length varies (use a cron schedule for monthly
runs); so are fractions, signs and empty durations such as ``P`` or ``PT``.
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from typing import Any

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W|(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?)"
)
#: the accepted forms as a JSON Schema ``pattern`` (weeks, or days/hours/minutes/seconds; no Y or M)
DURATION_PATTERN = r"^P(?!$)(\d+W|(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?)$"
_MAX_DAYS = 3660  # ten years; anything longer is a typo


class DurationError(ValueError):
    """The text is not a duration this parser accepts; the message says why."""


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration such as ``PT1H30M`` into a :class:`~datetime.timedelta` (cached).

    :param text: the duration text.
    :raises DurationError: with a plain-language message when the text is not accepted.
    """
    if type(text) is str:
        return _parse_cached(text)
    return _parse(text)


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> timedelta:
    return _parse(text)


def _parse(text: Any) -> timedelta:
    hint = "an ISO-8601 duration such as PT30M, PT4H, P1D or P1DT12H"
    if not isinstance(text, str):
        raise DurationError(f"must be {hint}")
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        if text.startswith("P") and re.search(r"\d[.,]\d", text):
            raise DurationError(
                f"{_shown(text)} is not a valid duration: use whole numbers, e.g. PT90S not PT1.5M"
            )
        if text[:1] in ("-", "+"):
            raise DurationError(f"{_shown(text)} is not a valid duration: durations cannot be negative")
        raise DurationError(f"{_shown(text)} is not {hint}")
    parts = match.groupdict()
    if parts["years"] or parts["months"]:
        raise DurationError(
            f"{_shown(text)} uses years or months, whose length varies; use days (P30D) or a cron schedule"
        )
    if match.group(0) == "P" or all(v is None for v in parts.values()):
        raise DurationError(f"{_shown(text)} is not {hint}")
    if any(v is not None and len(v.lstrip("0")) > 9 for v in parts.values()):
        # far beyond the limit below (and int() refuses more than 4300 digits)
        raise DurationError(f"{_shown(text)} is longer than ten years")
    days = int(parts["weeks"] or 0) * 7 + int(parts["days"] or 0)
    hours, minutes, seconds = (int(parts[k] or 0) for k in ("hours", "minutes", "seconds"))
    result = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if result > timedelta(days=_MAX_DAYS):  # the parts together, too (P3000DT24000H)
        raise DurationError(f"{_shown(text)} is longer than ten years")
    return result


def _shown(text: str) -> str:
    """The duration as quoted in a message (a 5000-digit one is cut short)."""
    return repr(text) if len(text) <= 40 else repr(text[:20] + "..." + text[-10:])


def format_duration(value: timedelta) -> str:
    """Format a non-negative timedelta as the canonical ISO-8601 duration (``P1DT2H``, ``PT0S``)."""
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P"
    if days:
        out += f"{days}D"
    time = ""
    if hours:
        time += f"{hours}H"
    if minutes:
        time += f"{minutes}M"
    if seconds:
        time += f"{seconds}S"
    if time:
        out += "T" + time
    return out if out != "P" else "PT0S"


def human_duration(value: timedelta) -> str:
    """Say a duration in words for messages (``5 minutes``, ``1 hour 30 minutes``)."""
    total = int(value.total_seconds())
    if total <= 0:
        return "0 seconds"
    units = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
    words = []
    for name, size in units:
        n, total = divmod(total, size)
        if n:
            words.append(f"{n} {name}{'s' if n != 1 else ''}")
    return " ".join(words)
