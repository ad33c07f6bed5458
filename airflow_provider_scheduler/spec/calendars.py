"""Holiday calendars a schedule may skip (``skip_holidays``): codes, their check, their dates.

The calendars are the ``holidays`` package's (a well-kept library with the public holidays of about
250 countries and their subdivisions). A code is a country (``DE``, ``US``) or a country and one of
its subdivisions (``DE-BY``, ``US-NY``), as ISO 3166 writes them. ``holidays`` is imported only when a
spec names a calendar (validation) or a run time is checked against one (the scheduler).
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

#: what a code looks like before it is looked up
_CODE = re.compile(r"([A-Z]{2,3})(?:-([A-Z0-9]{1,4}))?")
#: at most this many calendars in one ``skip_holidays``
MAX_CALENDARS = 10


@functools.cache
def _supported() -> dict[str, tuple[str, ...]]:
    import holidays  # only when a spec names a calendar

    return {country: tuple(subdivs) for country, subdivs in holidays.list_supported_countries().items()}


@functools.cache
def _all_codes() -> tuple[str, ...]:
    return tuple(
        code
        for country, subdivs in sorted(_supported().items())
        for code in (country, *(f"{country}-{s}" for s in subdivs))
    )


@functools.lru_cache(maxsize=512)
def check_holiday_code(code: str) -> str | None:
    """Why ``code`` is not a holiday calendar this provider knows, or None when it is one."""
    match = _CODE.fullmatch(code)
    supported = _supported()
    if match and match.group(1) in supported:
        country, subdiv = match.groups()
        if subdiv is None or subdiv in supported[country]:
            return None
        close = difflib.get_close_matches(
            code, [f"{country}-{s}" for s in supported[country]], n=1, cutoff=0.75
        )
        hint = (
            f"did you mean {close[0]!r}?" if close else f"{country} has: {', '.join(supported[country][:40])}"
        )
        return f"unknown subdivision {subdiv!r} of {country} in holiday calendar {code!r} ({hint})"
    close = difflib.get_close_matches(code.upper(), _all_codes(), n=1, cutoff=0.6)
    hint = (
        f" (did you mean {close[0]!r}?)"
        if close
        else " (use a country code such as 'DE' or 'US', or a country and subdivision such as 'DE-BY')"
    )
    return f"unknown holiday calendar {code!r}{hint}"


def holiday_code_syntax(code: str) -> str | None:
    """Why ``code`` cannot be a calendar code, by its form alone (no ``holidays`` import).

    For the trusted path (a canonical spec a store wrote after :func:`check_holiday_code` accepted
    it): the DAG file parse must not import the calendars' library.
    """
    return None if _CODE.fullmatch(code) else f"{code!r} is not a holiday calendar code"


class HolidayDates:
    """The union of the holidays of some calendars: ``day in dates`` (years are computed on demand)."""

    def __init__(self, codes: Iterable[str]) -> None:
        import holidays  # only where a run time is checked against a calendar

        self.codes = tuple(codes)
        self._calendars = []
        for code in self.codes:
            country, _, subdiv = code.partition("-")
            self._calendars.append(holidays.country_holidays(country, subdiv=subdiv or None))

    def __contains__(self, day: date) -> bool:
        return any(day in calendar for calendar in self._calendars)

    def name(self, day: date) -> str | None:
        """The holiday's name on ``day`` (the first calendar that has one), or None."""
        for calendar in self._calendars:
            found = calendar.get(day)
            if found:
                return str(found)
        return None


@functools.lru_cache(maxsize=64)
def holiday_dates(codes: tuple[str, ...]) -> HolidayDates:
    """The (shared, cached) holiday dates of these calendars."""
    return HolidayDates(codes)
