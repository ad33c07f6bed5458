"""The provider's timetable: a spec's time schedule as Airflow runs it (registered by the plugin).

:class:`SpecTimetable` fires at the union of its members' times, at most one run per instant:

* a cron member, in its own IANA timezone, that may skip the public holidays of some calendars
  (``skip_holidays``) and some local dates (``skip_dates``): a run whose local date is skipped does
  not happen;
* an explicit-instants member (``at``);
* a fixed-interval member (``every``).

Each member is one of Airflow's own core timetables (``CronTriggerTimetable``, ``EventsTimetable``,
``DeltaTriggerTimetable``), so run times, daylight-saving changes and catchup behave exactly as in a
hand-written DAG. The UI's schedule summary names the timezone (``0 6 * * 1-5 Europe/Berlin``) and
the skipped calendars. Airflow can only serialize a timetable a plugin registers: the provider's
plugin (:mod:`airflow_provider_scheduler.plugin`) lists this class, on Airflow 2.11 and 3.x alike.
"""

from __future__ import annotations

import datetime
import functools
import math
import time
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable
from airflow.timetables.events import EventsTimetable
from airflow.timetables.trigger import CronTriggerTimetable, DeltaTriggerTimetable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow.timetables.base import TimeRestriction
    from pendulum import DateTime

#: a member gives up (no next run) after this many skipped run times in a row (about 3 years daily)
MAX_SKIPPED_IN_A_ROW = 1100


class _Member:
    """One member of the union: an Airflow core timetable and the local dates it skips.

    The core timetable is built on first use: a DAG file parse only needs the member's data (and
    ``serialize()``), as with a hand-written DAG whose cron string Airflow turns into a timetable later;
    building Airflow's cron timetable up front (its human-readable description) doubled parse time.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        if not any(key in data for key in ("cron", "at", "every")):
            raise ValueError(f"unknown schedule member {sorted(data)}")
        self.data = dict(data)
        self.skip_holidays: tuple[str, ...] = tuple(data.get("skip_holidays") or ())
        self.skip_dates: frozenset[datetime.date] = frozenset(
            datetime.date.fromisoformat(d) for d in data.get("skip_dates") or ()
        )

    @functools.cached_property
    def timetable(self) -> Any:
        data = self.data
        if "cron" in data:
            return CronTriggerTimetable(data["cron"], timezone=data.get("timezone", "UTC"))
        if "at" in data:
            instants = sorted(pendulum.instance(datetime.datetime.fromisoformat(t)) for t in data["at"])
            return EventsTimetable(event_dates=instants, presorted=True)
        return DeltaTriggerTimetable(datetime.timedelta(seconds=int(data["every"])))

    @property
    def tz(self) -> Any:
        return self.timetable._timezone

    @property
    def skips(self) -> bool:
        return bool(self.skip_holidays or self.skip_dates)

    def skipped(self, when: DateTime) -> bool:
        """Whether a run at ``when`` falls on a skipped local date."""
        day = when.astimezone(self.tz).date()
        if day in self.skip_dates:
            return True
        if not self.skip_holidays:
            return False
        # Local: the plugin lists this class in every Airflow process, and only a scheduler (or
        # dag-processor) computing the next run of a spec with skip_holidays needs the calendars.
        from airflow_provider_scheduler.spec.calendars import holiday_dates

        return day in holiday_dates(self.skip_holidays)

    def next_info(self, last: DataInterval | None, restriction: TimeRestriction) -> DagRunInfo | None:
        info = self.timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if not self.skips:
            return info
        for _ in range(MAX_SKIPPED_IN_A_ROW):
            if info is None or not self.skipped(info.run_after):
                return info
            # As if the skipped run had happened: the member's next time after it.
            skipped = DataInterval.exact(info.run_after)
            info = self.timetable.next_dagrun_info(
                last_automated_data_interval=skipped, restriction=restriction
            )
        return None

    @property
    def summary(self) -> str:
        return member_summary(self.data)

    @property
    def description(self) -> str:
        base = getattr(self.timetable, "description", "") or self.summary
        if "cron" not in self.data:
            return base
        text = f"{base} ({self.data.get('timezone', 'UTC')})"
        if self.skip_holidays:
            text += f", except public holidays in {', '.join(self.skip_holidays)}"
        if self.skip_dates:
            text += f", except on {', '.join(sorted(d.isoformat() for d in self.skip_dates))}"
        return text


def member_summary(member: Mapping[str, Any]) -> str:
    """One member in a few words, as Airflow's UI shows a schedule (``0 6 * * 1-5 Europe/Berlin``)."""
    if "cron" in member:
        text = f"{member['cron']} {member.get('timezone', 'UTC')}"
        excepted = [f"{', '.join(member['skip_holidays'])} holidays"] if member.get("skip_holidays") else []
        if member.get("skip_dates"):
            count = len(member["skip_dates"])
            excepted.append(f"{count} date{'s' if count != 1 else ''}")
        return f"{text} except {' and '.join(excepted)}" if excepted else text
    if "at" in member:
        instants = list(member["at"])
        return f"at {instants[0]}" if len(instants) == 1 else f"at {len(instants)} times from {min(instants)}"
    return f"every {_seconds_text(int(member['every']))}"


def _seconds_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class SpecTimetable(Timetable):
    """A spec's time schedule: the union of cron (with skipped dates), instant and interval members.

    :param members: the members as :meth:`serialize` writes them, e.g.
        ``{"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin", "skip_holidays": ["DE-BY"],
        "skip_dates": ["2026-12-24"]}``, ``{"at": ["2026-03-01T09:00:00+01:00"]}``, ``{"every": 3600}``.
    """

    def __init__(self, members: Sequence[Mapping[str, Any]]) -> None:
        if not members:
            raise ValueError("a SpecTimetable needs at least one member")
        self._members = [_Member(m) for m in members]
        self._described = False

    # Airflow's base class declares a plain attribute. The words (cron_descriptor's "At 06:00, Monday
    # through Friday") cost about 0.5 ms per cron, and the task SDK's DAG reads every attribute of
    # the Timetable protocol (an isinstance check) while a DAG file is parsed: so a timetable built in
    # a DAG file answers with its summary, and one Airflow read back from a serialized DAG (where the
    # scheduler and the DAG list take the description from) with the full words.
    @property
    def description(self) -> str:  # type: ignore[override]
        if not self._described:
            return self.summary
        return "; ".join(m.description for m in self._members)

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        timetable = cls(data["members"])
        timetable._described = True
        return timetable

    @classmethod
    def described(cls, members: Sequence[Mapping[str, Any]]) -> SpecTimetable:
        """A timetable whose ``description`` is the full words (as Airflow's read-back copy has)."""
        timetable = cls(members)
        timetable._described = True
        return timetable

    def serialize(self) -> dict[str, Any]:
        return {"members": [dict(m.data) for m in self._members]}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpecTimetable):
            return NotImplemented
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(repr(self.serialize()))

    @property
    def summary(self) -> str:
        return "; ".join(m.summary for m in self._members)

    def validate(self) -> None:
        """Check the cron expressions (what Airflow's DagBag asks of every DAG it parses).

        With croniter directly: building Airflow's cron timetable here would compute its description.
        """
        from airflow.exceptions import AirflowTimetableInvalid
        from croniter import croniter

        for member in self._members:
            if "cron" in member.data:
                try:
                    croniter(member.data["cron"])
                except Exception as exc:  # croniter raises several unrelated classes for bad input
                    raise AirflowTimetableInvalid(str(exc)) from exc

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        return DataInterval.exact(run_after)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        infos = [m.next_info(last_automated_data_interval, restriction) for m in self._members]
        if len(infos) == 1:
            return infos[0]
        if restriction.catchup:
            return min(infos, key=_catchup_key)
        return min(infos, key=functools.partial(_no_catchup_key, now=time.time()))


def _catchup_key(info: DagRunInfo | None) -> float:
    """The earliest next run first (no run: last)."""
    return math.inf if info is None else info.run_after.timestamp()


def _no_catchup_key(info: DagRunInfo | None, *, now: float) -> float:
    """Without catchup the latest run due now (skipping older ones), else the earliest one to come."""
    if info is None:
        return math.inf
    ts = info.run_after.timestamp()
    return -ts if ts <= now else ts
