"""The immutable spec model (version 1): :class:`ScheduleSpec` and its parts.

Objects are built by :func:`~airflow_provider_scheduler.spec.parse_spec`; ``to_dict()`` returns the
canonical JSON-able form that ``parse_spec`` accepts back unchanged (``parse_spec(s.to_dict()) == s``).
Mappings inside the model are read-only (``types.MappingProxyType``) and lists are tuples; ``to_dict()``
and :meth:`TaskSpec.with_dict` return fresh plain ``dict`` / ``list`` copies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.dates import at_midnight, date_to_json, end_of_day
from airflow_provider_scheduler.spec.durations import format_duration
from airflow_provider_scheduler.spec.schedule import AtSchedule, EverySchedule, Schedule

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.policy import GovernancePolicy

SPEC_VERSION = 1
_EMPTY: Mapping[str, Any] = MappingProxyType({})


_SCALARS = (str, int, float, bool, type(None))


def freeze(value: Any) -> Any:
    """Return a read-only deep copy of JSON-like data (dict -> mappingproxy, list -> tuple)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if kind is list or kind is tuple:
        return tuple([freeze(v) for v in value])
    return value


def thaw(value: Any) -> Any:
    """Return a plain, mutable deep copy of frozen data (mappingproxy -> dict, tuple -> list)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Defaults:
    """Task defaults of a spec (Airflow ``default_args``).

    :param retries: how often a failed task is retried.
    :param retry_delay: wait between retries.
    :param retry_exponential_backoff: double the wait after each retry.
    :param execution_timeout: a task running longer than this fails (None: no limit).
    :param max_retry_delay: the longest wait between retries with backoff (None: Airflow's
        ``[core] max_task_retry_delay``).
    :param depends_on_past: a task runs only when its previous run's instance succeeded (or skipped).
    """

    retries: int = 0
    retry_delay: timedelta = timedelta(minutes=5)
    retry_exponential_backoff: bool = False
    execution_timeout: timedelta | None = None
    max_retry_delay: timedelta | None = None
    depends_on_past: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "retries": self.retries,
            "retry_delay": format_duration(self.retry_delay),
            "retry_exponential_backoff": self.retry_exponential_backoff,
            "execution_timeout": None
            if self.execution_timeout is None
            else format_duration(self.execution_timeout),
        }
        # listed only when set, so specs stored before these keys keep their exact canonical form
        if self.max_retry_delay is not None:
            out["max_retry_delay"] = format_duration(self.max_retry_delay)
        if self.depends_on_past:
            out["depends_on_past"] = True
        return out

    def to_default_args(self) -> dict[str, Any]:
        """The values as Airflow ``default_args`` (timedelta objects)."""
        out: dict[str, Any] = {
            "retries": self.retries,
            "retry_delay": self.retry_delay,
            "retry_exponential_backoff": self.retry_exponential_backoff,
            "execution_timeout": self.execution_timeout,
        }
        if self.max_retry_delay is not None:
            out["max_retry_delay"] = self.max_retry_delay
        if self.depends_on_past:
            out["depends_on_past"] = True
        return out


#: ``for_each: "{{ params.NAME }}"``: exactly one reference to a param (spaces inside the braces optional)
FOR_EACH_PARAM = re.compile(r"\{\{\s*params\.([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")


def for_each_param_name(text: str) -> str | None:
    """``NAME`` when ``text`` is ``{{ params.NAME }}``, else None."""
    match = FOR_EACH_PARAM.fullmatch(text)
    return match.group(1) if match else None


#: the task id of the step that reads a ``for_each`` param's list when a run starts (``<id>__items``)
FOR_EACH_ITEMS_SUFFIX = "__items"
#: keys of one flat-object item of a ``for_each`` list
MAX_ITEM_KEYS = 20
_ITEM_SCALARS = (str, int, float, bool)


def for_each_items_task_id(task_id: str) -> str:
    """The id of the list step of a ``for_each`` over a param."""
    return f"{task_id}{FOR_EACH_ITEMS_SUFFIX}"


def _item_word(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def item_refusal(value: Any) -> str | None:
    """Why ``value`` cannot be a ``for_each`` item (None: it can).

    An item is a string, a number, true/false, or a flat object of those (at most ``MAX_ITEM_KEYS``
    keys), so ``{{ item }}`` and ``{{ item.key }}`` render plain text. Used by the parser for literal
    lists and by the list step for a param's list when a run starts.
    """
    if type(value) in _ITEM_SCALARS:
        return None
    if isinstance(value, Mapping):
        if len(value) > MAX_ITEM_KEYS:
            return f"is an object with {len(value)} keys; an item object has at most {MAX_ITEM_KEYS}"
        for key, inner in value.items():
            if type(key) is not str:
                return f"has the key {key!r}; keys of an item object are strings"
            if type(inner) not in _ITEM_SCALARS:
                return (
                    f"holds {_item_word(inner)} under {key!r}; an item object holds only strings, numbers "
                    "and true/false (no nesting)"
                )
        return None
    return f"must be a string, a number, true/false or a flat object of those, not {_item_word(value)}"


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One task: a registered template, its ``with`` arguments, dependencies and overrides.

    :param id: task id (slug, unique in the spec).
    :param template: name of a registered, allowed task template.
    :param with_: arguments for the template (key ``with`` in JSON), validated by its JSON Schema.
    :param depends_on: ids of tasks that must finish first.
    :param retries: override of ``defaults.retries`` (None: inherit).
    :param execution_timeout: override of ``defaults.execution_timeout`` (None: inherit).
    :param trigger_rule: Airflow trigger rule (None: ``all_success``).
    :param role: ``"setup"``, ``"teardown"`` or None.
    :param outlets: asset URIs the task updates: on success Airflow emits an asset event for each,
        so DAGs scheduled on them run.
    :param for_each: fan-out (Airflow dynamic task mapping, one mapped task instance per item, which
        ``{{ item }}`` names in ``with``): the literal items (a tuple of JSON scalars or flat objects),
        or the text ``"{{ params.NAME }}"`` naming an array param; None: one task as usual.
    :param retry_delay: override of ``defaults.retry_delay`` (None: inherit).
    :param retry_exponential_backoff: override of ``defaults.retry_exponential_backoff`` (None: inherit).
    :param max_retry_delay: override of ``defaults.max_retry_delay`` (None: inherit).
    :param notify: notifications when this task fails or is retried (its own callbacks).
    :param pool: the Airflow pool the task runs in (one ``[schedule_specs] pools`` lists for the
        namespace; None: Airflow's ``default_pool``).
    :param priority_weight: the task's priority weight (None: Airflow's default, 1).
    :param group: the Airflow TaskGroup the task belongs to (None: none); the task id stays as written.
    :param template_version: the version of ``template`` the spec was validated against (canonical
        ``"template": "name@version"``); a spec that wrote ``template: name`` got the default version
        of the day, and keeps it when the default moves.
    """

    id: str
    template: str
    with_: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    depends_on: tuple[str, ...] = ()
    retries: int | None = None
    execution_timeout: timedelta | None = None
    trigger_rule: str | None = None
    role: str | None = None
    outlets: tuple[str, ...] = ()
    for_each: tuple[Any, ...] | str | None = None
    retry_delay: timedelta | None = None
    retry_exponential_backoff: bool | None = None
    max_retry_delay: timedelta | None = None
    notify: TaskNotify = field(default_factory=lambda: TaskNotify())
    pool: str | None = None
    priority_weight: int | None = None
    group: str | None = None
    template_version: int = 1

    def __hash__(self) -> int:
        return hash((self.id, self.template))

    @property
    def for_each_param(self) -> str | None:
        """The param name of ``for_each: "{{ params.NAME }}"`` (None for a literal list or none)."""
        if isinstance(self.for_each, str):
            return for_each_param_name(self.for_each)
        return None

    @property
    def template_ref(self) -> str:
        """``name@version``, as the canonical form and messages write it."""
        return f"{self.template}@{self.template_version}"

    def with_dict(self) -> dict[str, Any]:
        """A plain, mutable deep copy of ``with_`` (what a template builder receives)."""
        return thaw(self.with_)

    def operator_kwargs(self) -> dict[str, Any]:
        """The overrides that are set, as BaseOperator keyword arguments."""
        out: dict[str, Any] = {}
        if self.retries is not None:
            out["retries"] = self.retries
        if self.execution_timeout is not None:
            out["execution_timeout"] = self.execution_timeout
        if self.trigger_rule is not None:
            out["trigger_rule"] = self.trigger_rule
        if self.retry_delay is not None:
            out["retry_delay"] = self.retry_delay
        if self.retry_exponential_backoff is not None:
            out["retry_exponential_backoff"] = self.retry_exponential_backoff
        if self.max_retry_delay is not None:
            out["max_retry_delay"] = self.max_retry_delay
        if self.pool is not None:
            out["pool"] = self.pool
        if self.priority_weight is not None:
            out["priority_weight"] = self.priority_weight
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "template": self.template_ref, "with": thaw(self.with_)}
        out["depends_on"] = list(self.depends_on)
        if self.retries is not None:
            out["retries"] = self.retries
        if self.execution_timeout is not None:
            out["execution_timeout"] = format_duration(self.execution_timeout)
        if self.trigger_rule is not None:
            out["trigger_rule"] = self.trigger_rule
        if self.role is not None:
            out["role"] = self.role
        if self.outlets:
            out["outlets"] = list(self.outlets)
        if self.for_each is not None:
            out["for_each"] = self.for_each if isinstance(self.for_each, str) else thaw(self.for_each)
        # the overrides below are listed only when set (specs stored before them keep their form)
        if self.retry_delay is not None:
            out["retry_delay"] = format_duration(self.retry_delay)
        if self.retry_exponential_backoff is not None:
            out["retry_exponential_backoff"] = self.retry_exponential_backoff
        if self.max_retry_delay is not None:
            out["max_retry_delay"] = format_duration(self.max_retry_delay)
        if self.notify:
            out["notify"] = self.notify.to_dict()
        if self.pool is not None:
            out["pool"] = self.pool
        if self.priority_weight is not None:
            out["priority_weight"] = self.priority_weight
        if self.group is not None:
            out["group"] = self.group
        return out


@dataclass(frozen=True, slots=True)
class NotifierSpec:
    """One notification: a registered notification template, its ``with`` arguments and the version.

    :param template_version: the version of ``template`` validated against (see ``TaskSpec``).
    """

    template: str
    with_: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    template_version: int = 1

    def __hash__(self) -> int:
        return hash(self.template)

    @property
    def template_ref(self) -> str:
        """``name@version``, as the canonical form and messages write it."""
        return f"{self.template}@{self.template_version}"

    def with_dict(self) -> dict[str, Any]:
        return thaw(self.with_)

    def to_dict(self) -> dict[str, Any]:
        return {"template": self.template_ref, "with": thaw(self.with_)}


@dataclass(frozen=True, slots=True)
class Notify:
    """Who hears about a run: notifications on DAG-run failure / success and on task retry."""

    on_failure: tuple[NotifierSpec, ...] = ()
    on_success: tuple[NotifierSpec, ...] = ()
    on_retry: tuple[NotifierSpec, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.on_failure or self.on_success or self.on_retry)

    def to_dict(self) -> dict[str, Any]:
        return {
            "on_failure": [n.to_dict() for n in self.on_failure],
            "on_success": [n.to_dict() for n in self.on_success],
            "on_retry": [n.to_dict() for n in self.on_retry],
        }


#: where a deadline is measured from: ``queued`` (when the run was queued) or ``logical_date``
DEADLINE_FROM = ("queued", "logical_date")


@dataclass(frozen=True, slots=True)
class Deadline:
    """A DAG-run deadline (Airflow 3.1+ deadline alert): a run not finished ``after`` its start notifies.

    :param after: how long after ``from_`` the run must have finished.
    :param from_: ``"queued"`` (when the run was queued) or ``"logical_date"`` (key ``from`` in JSON).
    :param notify: the notifications sent when a run misses the deadline.
    """

    after: timedelta
    from_: str = "queued"
    notify: tuple[NotifierSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "after": format_duration(self.after),
            "from": self.from_,
            "notify": [n.to_dict() for n in self.notify],
        }


@dataclass(frozen=True, slots=True)
class TaskNotify:
    """Who hears about one task: notifications when it fails and when it is retried."""

    on_failure: tuple[NotifierSpec, ...] = ()
    on_retry: tuple[NotifierSpec, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.on_failure or self.on_retry)

    def to_dict(self) -> dict[str, Any]:
        return {
            "on_failure": [n.to_dict() for n in self.on_failure],
            "on_retry": [n.to_dict() for n in self.on_retry],
        }


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A validated schedule spec (version 1). Build it with ``parse_spec``; never mutate it.

    ``dag_id`` is ``"<namespace>.<name>"``. ``params`` maps each param name to its JSON Schema
    (read-only); the factory turns them into Airflow ``Param`` objects.
    """

    namespace: str
    name: str
    schedule: Schedule
    tasks: tuple[TaskSpec, ...]
    version: int = SPEC_VERSION
    description: str | None = None
    owner: str | None = None
    tags: tuple[str, ...] = ()
    paused: bool = False
    start_date: date | datetime | None = None
    end_date: date | datetime | None = None
    catchup: bool = False
    max_active_runs: int = 1
    dagrun_timeout: timedelta | None = None
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: _EMPTY)
    defaults: Defaults = field(default_factory=Defaults)
    notify: Notify = field(default_factory=Notify)
    deadline: Deadline | None = None
    #: the DAG's ``max_active_tasks`` (None: Airflow's ``[core] max_active_tasks_per_dag``)
    max_active_tasks: int | None = None

    @property
    def dag_id(self) -> str:
        return f"{self.namespace}.{self.name}"

    def __hash__(self) -> int:  # the read-only mappings inside are not hashable; equal specs share a dag_id
        return hash((self.namespace, self.name))

    @property
    def timezone(self) -> str:
        """The IANA timezone of the schedule (``UTC`` when the schedule has none)."""
        return self.schedule.timezone

    def task(self, task_id: str) -> TaskSpec:
        """Return the task with this id (KeyError when there is none)."""
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def start_datetime(self) -> datetime | None:
        """``start_date`` as an aware datetime for ``DAG(start_date=...)``.

        A date means midnight in the schedule's timezone; with ``{every, anchor}`` the start is moved
        to the first ``anchor + n * every`` at or after it, so runs happen at the anchor's times.
        """
        start = at_midnight(self.start_date, self.timezone)
        if start is None and isinstance(self.schedule, AtSchedule):
            return min(self.schedule.instants)  # explicit instants need no start_date
        if isinstance(self.schedule, EverySchedule):
            return self.schedule.align_start(start)
        return start

    def end_datetime(self) -> datetime | None:
        """``end_date`` as an aware datetime (a date includes that day, in the schedule's timezone)."""
        return end_of_day(self.end_date, self.timezone)

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON-able form (stable key order); ``parse_spec`` accepts it back unchanged.

        Keys of later language additions (``deadline``) appear only when set, so a spec stored before
        them keeps its exact canonical form.
        """
        out: dict[str, Any] = {
            "version": self.version,
            "namespace": self.namespace,
            "name": self.name,
            "description": self.description,
            "owner": self.owner,
            "tags": list(self.tags),
            "paused": self.paused,
            "schedule": self.schedule.to_json(),
            "start_date": date_to_json(self.start_date),
            "end_date": date_to_json(self.end_date),
            "catchup": self.catchup,
            "max_active_runs": self.max_active_runs,
            **({} if self.max_active_tasks is None else {"max_active_tasks": self.max_active_tasks}),
            "dagrun_timeout": None if self.dagrun_timeout is None else format_duration(self.dagrun_timeout),
            "params": thaw(self.params),
            "defaults": self.defaults.to_dict(),
            "notify": self.notify.to_dict(),
            "tasks": [t.to_dict() for t in self.tasks],
        }
        if self.deadline is not None:
            out["deadline"] = self.deadline.to_dict()
        return out

    @classmethod
    def from_canonical(
        cls,
        data: Mapping[str, Any],
        *,
        catalog: TemplateCatalog | None = None,
        policy: GovernancePolicy | None = None,
        registry: TemplateCatalog | None = None,
    ) -> ScheduleSpec:
        """Fast trusted path for dicts a store already validated with ``parse_spec``.

        Checks structure, names and dependencies but skips the deep checks (template ``with`` schemas,
        allow-lists, Jinja, governance limits). Use ``parse_spec`` for anything a user wrote. A dict
        not in canonical shape goes through ``parse_spec(data, catalog=..., policy=...)``
        (``registry`` is the former name of ``catalog``).
        """
        # canonical.py builds ScheduleSpec objects, so it imports this module (not the other way round)
        from airflow_provider_scheduler.spec.canonical import spec_from_canonical

        return spec_from_canonical(data, catalog=catalog if catalog is not None else registry, policy=policy)
