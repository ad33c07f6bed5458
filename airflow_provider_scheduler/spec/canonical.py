"""The trusted path: a ScheduleSpec from the canonical dict a store wrote after ``parse_spec``.

:func:`spec_from_canonical` (public as ``ScheduleSpec.from_canonical``) reads exactly the shape
``ScheduleSpec.to_dict()`` writes. It checks names (slugs), the schedule (cached cron/timezone
checks), unique task ids and that dependencies exist and form no cycle, but not template ``with``
schemas, allow-lists, Jinja or governance limits (the factory re-checks templates when it builds).
A dict that does not have that shape goes through the full ``parse_spec``, which reports every
problem with its path.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.calendars import holiday_code_syntax
from airflow_provider_scheduler.spec.catalog import split_template_ref
from airflow_provider_scheduler.spec.dates import SpecDate, date_from_canonical
from airflow_provider_scheduler.spec.durations import parse_duration
from airflow_provider_scheduler.spec.model import (
    DEADLINE_FROM,
    Deadline,
    Defaults,
    NotifierSpec,
    Notify,
    ScheduleSpec,
    TaskNotify,
    TaskSpec,
    for_each_items_task_id,
    for_each_param_name,
    freeze,
    item_refusal,
)
from airflow_provider_scheduler.spec.parser import (
    MAX_PRIORITY_WEIGHT,
    MIN_PRIORITY_WEIGHT,
    ROLES,
    SLUG,
    TASK_ID,
    TRIGGER_RULES,
    parse_spec,
)
from airflow_provider_scheduler.spec.schedule import Schedule, parse_schedule

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.errors import Problem
    from airflow_provider_scheduler.spec.policy import GovernancePolicy


class _NotCanonical(Exception):
    pass


def spec_from_canonical(
    data: Mapping[str, Any],
    *,
    catalog: TemplateCatalog | None = None,
    policy: GovernancePolicy | None = None,
) -> ScheduleSpec:
    """Build a spec from ``ScheduleSpec.to_dict()`` output quickly (see the module docstring).

    :param catalog: used only when ``data`` is not canonical and goes through ``parse_spec``.
    :param policy: likewise.
    :raises SpecError: the dict is not a valid spec.
    """
    try:
        return _build(data)
    except (_NotCanonical, KeyError, TypeError, ValueError, AttributeError):
        # still a stored spec: a template without a version means version 1, not today's default
        return parse_spec(pin_template_versions(data), catalog=catalog, policy=policy)


def pin_template_versions(data: Any) -> Any:
    """A stored spec dict with every ``template`` that names no version pinned to ``@1``.

    Specs stored before templates had versions wrote ``"template": "http_request"``; version 1 was
    the only one there was, so that is what they mean, whatever the default version is now. Returns
    ``data`` itself when nothing needs pinning (and anything that is not a spec dict unchanged).
    """
    if not isinstance(data, Mapping):
        return data
    tasks = data.get("tasks")
    notify = data.get("notify")
    new_tasks = _pinned_list(tasks)
    new_notify: Any = notify
    if isinstance(notify, Mapping):
        events = {event: _pinned_list(items) for event, items in notify.items()}
        if any(events[e] is not notify[e] for e in events):
            new_notify = {**notify, **events}
    deadline = data.get("deadline")
    new_deadline: Any = deadline
    if isinstance(deadline, Mapping):
        pinned_notify = _pinned_list(deadline.get("notify"))
        if pinned_notify is not deadline.get("notify"):
            new_deadline = {**deadline, "notify": pinned_notify}
    if new_tasks is tasks and new_notify is notify and new_deadline is deadline:
        return data
    out = dict(data)
    if "tasks" in data:
        out["tasks"] = new_tasks
    if "notify" in data:
        out["notify"] = new_notify
    if "deadline" in data:
        out["deadline"] = new_deadline
    return out


def _pinned_list(items: Any) -> Any:
    if not isinstance(items, list):
        return items
    out = [_pinned_item(item) for item in items]
    return items if all(a is b for a, b in zip(out, items, strict=True)) else out


def _pinned_item(item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item
    out = item
    name = item.get("template")
    if isinstance(name, str) and "@" not in name:
        out = {**item, "template": f"{name}@1"}
    notify = item.get("notify")  # a task's own notifications
    if isinstance(notify, Mapping):
        events = {event: _pinned_list(items) for event, items in notify.items()}
        if any(events[e] is not notify[e] for e in events):
            out = {**out, "notify": {**notify, **events}}
    return out


def _template(value: Any) -> tuple[str, int]:
    """A canonical ``template`` value: ``name@N``, or a bare name stored before versions (= ``@1``)."""
    text = _str(value)
    ref = split_template_ref(text)
    if ref is None:
        raise _NotCanonical
    name, version = ref
    return name, 1 if version is None else version


def _build(d: Mapping[str, Any]) -> ScheduleSpec:
    if d["version"] != 1 or type(d["version"]) is not int:
        raise _NotCanonical
    namespace, name = d["namespace"], d["name"]
    if not (SLUG.fullmatch(namespace) and SLUG.fullmatch(name)):
        raise _NotCanonical
    description = _opt_str(d["description"])
    if description is not None and description.rstrip().endswith(".md"):
        raise _NotCanonical  # the full parser reports it (Airflow would read it as a file)
    defaults = d["defaults"]
    notify = d["notify"]
    tasks = tuple(_task(t) for t in d["tasks"])
    _check_graph(tasks)
    _check_for_each(tasks, d["params"])
    return ScheduleSpec(
        version=1,
        namespace=namespace,
        name=name,
        description=description,
        owner=_opt_str(d["owner"]),
        tags=tuple(_str(t) for t in d["tags"]),
        paused=_bool(d["paused"]),
        schedule=_schedule(d["schedule"]),
        start_date=_date(d["start_date"]),
        end_date=_date(d["end_date"]),
        catchup=_bool(d["catchup"]),
        max_active_runs=_int(d["max_active_runs"]),
        dagrun_timeout=_duration(d["dagrun_timeout"]),
        params=freeze(_dict(d["params"])),
        defaults=Defaults(
            retries=_int(defaults["retries"]),
            retry_delay=parse_duration(defaults["retry_delay"]),
            retry_exponential_backoff=_bool(defaults["retry_exponential_backoff"]),
            execution_timeout=_duration(defaults["execution_timeout"]),
            max_retry_delay=_duration(defaults.get("max_retry_delay")),
            depends_on_past=_bool(defaults.get("depends_on_past", False)),
        ),
        notify=Notify(
            on_failure=tuple(_notifier(n) for n in notify["on_failure"]),
            on_success=tuple(_notifier(n) for n in notify["on_success"]),
            on_retry=tuple(_notifier(n) for n in notify["on_retry"]),
        ),
        tasks=tasks,
        deadline=_deadline(d.get("deadline")),
        max_active_tasks=_opt_int(d.get("max_active_tasks")),
    )


def _deadline(value: Any) -> Deadline | None:
    if value is None:
        return None
    start = value["from"]
    notify = tuple(_notifier(n) for n in value["notify"])
    if start not in DEADLINE_FROM or not notify:
        raise _NotCanonical
    return Deadline(after=parse_duration(_str(value["after"])), from_=start, notify=notify)


def _task(t: Mapping[str, Any]) -> TaskSpec:
    task_id = t["id"]
    if not TASK_ID.fullmatch(task_id):
        raise _NotCanonical
    trigger_rule = t.get("trigger_rule")
    role = t.get("role")
    if (trigger_rule is not None and trigger_rule not in TRIGGER_RULES) or (
        role is not None and role not in ROLES
    ):
        raise _NotCanonical
    retries = t.get("retries")
    template, version = _template(t["template"])
    return TaskSpec(
        id=task_id,
        template=template,
        with_=freeze(_dict(t["with"])),
        depends_on=tuple(_str(x) for x in t["depends_on"]),
        retries=None if retries is None else _int(retries),
        execution_timeout=_duration(t.get("execution_timeout")),
        trigger_rule=trigger_rule,
        role=role,
        outlets=tuple(_str(x) for x in t.get("outlets") or ()),
        for_each=_for_each(t.get("for_each")),
        **_task_overrides(t),
        template_version=version,
    )


def _for_each(value: Any) -> tuple[Any, ...] | str | None:
    """A task's ``for_each`` as ``to_dict`` writes it: a non-empty list of items or ``{{ params.NAME }}``."""
    if value is None:
        return None
    if type(value) is str:
        name = for_each_param_name(value)
        if name is None or value != f"{{{{ params.{name} }}}}":
            raise _NotCanonical
        return value
    if type(value) is not list or not value or any(item_refusal(item) for item in value):
        raise _NotCanonical
    return freeze(value)


def _check_for_each(tasks: tuple[TaskSpec, ...], params: Any) -> None:
    """A ``for_each`` param exists with type array; no task has the id of a list step."""
    ids = {t.id for t in tasks}
    for task in tasks:
        name = task.for_each_param
        if name is None:
            continue
        schema = _dict(params).get(name)
        if not isinstance(schema, Mapping) or schema.get("type") != "array":
            raise _NotCanonical
        if for_each_items_task_id(task.id) in ids:
            raise _NotCanonical


def _task_overrides(t: Mapping[str, Any]) -> dict[str, Any]:
    """The task overrides a canonical task lists (only those set; see ``TaskSpec.to_dict``)."""
    out: dict[str, Any] = {}
    for key in ("retry_delay", "max_retry_delay"):
        if t.get(key) is not None:
            out[key] = parse_duration(t[key])
    if t.get("retry_exponential_backoff") is not None:
        out["retry_exponential_backoff"] = _bool(t["retry_exponential_backoff"])
    notify = t.get("notify")
    if notify is not None:
        out["notify"] = TaskNotify(
            on_failure=tuple(_notifier(n) for n in notify["on_failure"]),
            on_retry=tuple(_notifier(n) for n in notify["on_retry"]),
        )
    if t.get("pool") is not None:
        out["pool"] = _str(t["pool"])
    weight = t.get("priority_weight")
    if weight is not None:
        if not MIN_PRIORITY_WEIGHT <= _int(weight) <= MAX_PRIORITY_WEIGHT:
            raise _NotCanonical
        out["priority_weight"] = weight
    group = t.get("group")
    if group is not None:
        if not SLUG.fullmatch(_str(group)):
            raise _NotCanonical
        out["group"] = group
    return out


def _check_graph(tasks: tuple[TaskSpec, ...]) -> None:
    ids = {t.id for t in tasks}
    if len(ids) != len(tasks):
        raise _NotCanonical
    if any(t.group in ids for t in tasks if t.group is not None):
        raise _NotCanonical  # a group named like a task: the full parser reports it
    pending = {t.id: set(t.depends_on) for t in tasks}
    for deps in pending.values():
        if not deps <= ids:
            raise _NotCanonical
    done: set[str] = set()
    while pending:  # Kahn: a cycle leaves tasks whose dependencies never finish
        ready = [tid for tid, deps in pending.items() if deps <= done]
        if not ready:
            raise _NotCanonical
        for tid in ready:
            done.add(tid)
            del pending[tid]


def _notifier(n: Mapping[str, Any]) -> NotifierSpec:
    template, version = _template(n["template"])
    return NotifierSpec(template=template, with_=freeze(_dict(n["with"])), template_version=version)


def _schedule(value: Any) -> Schedule:
    key = value if value is None or isinstance(value, str) else _freeze_key(value)
    return _schedule_cached(key)


def _freeze_key(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("__list__", *(_freeze_key(v) for v in value))
    return value


def _thaw_key(key: Any) -> Any:
    if isinstance(key, tuple) and key[:1] == ("__list__",):
        return [_thaw_key(v) for v in key[1:]]
    if isinstance(key, tuple):
        return {k: _thaw_key(v) for k, v in key}
    return key


@functools.lru_cache(maxsize=4096)
def _schedule_cached(key: Any) -> Schedule:
    problems: list[Problem] = []
    schedule = parse_schedule(_thaw_key(key), "schedule", problems, check_calendar=holiday_code_syntax)
    if schedule is None or problems:
        raise _NotCanonical
    return schedule


def _date(value: Any) -> SpecDate | None:
    if value is None:
        return None
    if type(value) is not str:
        raise _NotCanonical
    return date_from_canonical(value)


def _duration(value: Any) -> Any:
    return None if value is None else parse_duration(value)


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _NotCanonical
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _NotCanonical
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _NotCanonical
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _dict(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _NotCanonical
    return value
