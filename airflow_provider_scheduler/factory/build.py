"""Spec -> DAG: :func:`build_dag` turns one validated :class:`ScheduleSpec` into an Airflow ``DAG``.

Pure and deterministic: no I/O, no network, tasks created in the spec's order, dependencies wired in
the spec's order. Nothing from the spec is ever turned into Python source or imported: templates are
looked up by name in the registry (which also re-checks the allow-list, cheaply, so a template an
admin disabled after the spec was stored stops that one spec from loading).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.factory.callbacks import notification_callbacks, task_callbacks
from airflow_provider_scheduler.factory.params import airflow_params
from airflow_provider_scheduler.factory.timetables import airflow_schedule, schedule_summary
from airflow_provider_scheduler.spec.catalog import resolve_version
from airflow_provider_scheduler.spec.model import for_each_items_task_id, thaw
from airflow_provider_scheduler.spec.schedule import (
    AnyOfSchedule,
    AssetSchedule,
    AtSchedule,
    CronSchedule,
    EverySchedule,
    MultiCronSchedule,
    OnceSchedule,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_scheduler.spec import GovernancePolicy, ScheduleSpec
    from airflow_provider_scheduler.templates import TemplateRegistry


class SpecBuildError(ValueError):
    """A stored spec cannot become a DAG on this deployment (message names the task and the reason)."""


@dataclass(frozen=True, slots=True)
class SpecOrigin:
    """Which stored revision a DAG is built from, for the DAG's Docs (``doc_md``).

    :param revision: the spec's revision in the store.
    :param author: who wrote that revision.
    :param updated_at: when (ISO-8601, as the store recorded it).
    """

    revision: int
    author: str | None = None
    updated_at: str | None = None


def _code(text: object, limit: int = 120) -> str:
    """``text`` as one inline Markdown code span (backticks and line breaks removed, length capped)."""
    flat = " ".join(str(text).replace("`", "'").split())
    return f"`{flat[:limit]}`"


def _schedule_text(spec: ScheduleSpec) -> str:
    """The schedule in words, with its timezone (Airflow's UI shows the cron without it)."""
    schedule = spec.schedule
    if isinstance(schedule, CronSchedule):
        return f"{_code(schedule.cron)} {schedule.tz}{_skips_text(schedule)}"
    if isinstance(schedule, MultiCronSchedule):
        return f"{', '.join(_code(c) for c in schedule.crons)} {schedule.tz}{_skips_text(schedule)}"
    if isinstance(schedule, AtSchedule | AnyOfSchedule):
        return _code(schedule_summary(schedule), 300)
    if isinstance(schedule, EverySchedule):
        return f"every {_code(schedule.to_json()['every'])}"
    if isinstance(schedule, OnceSchedule):
        return "once (`@once`), at the start date"
    if isinstance(schedule, AssetSchedule):
        return f"when {schedule.mode} of {len(schedule.assets)} asset(s) update"
    return "none: triggered runs only"


def _outlets(task: Any) -> dict[str, Any]:
    """``outlets=[Asset(uri), ...]`` for a task that updates assets (nothing otherwise)."""
    if not task.outlets:
        return {}
    from airflow.providers.common.compat.sdk import Asset  # only for specs whose tasks emit assets

    return {"outlets": [Asset(uri) for uri in task.outlets]}


def _task_extras(
    spec: ScheduleSpec,
    index: int,
    registry: TemplateRegistry,
    policy: GovernancePolicy | None,
    default_args: dict[str, Any],
) -> dict[str, Any]:
    """Operator arguments of a task's own ``notify`` (its callbacks; nothing when it has none)."""
    task = spec.tasks[index]
    if not task.notify:
        return {}
    try:
        return task_callbacks(spec, index, registry, policy, inherited=default_args)
    except ValueError as exc:
        raise SpecBuildError(str(exc)) from exc


def _task_group(name: str | None, groups: dict[str, Any]) -> Any:
    """The context a task is built in: its TaskGroup (one per name, created on first use), or none.

    ``prefix_group_id=False``: the Airflow task id is the spec's task id (dependencies, ``with``
    fields naming tasks, the CLI's and the portal's views all use it); the group only shows in the UI.
    """
    if name is None:
        return contextlib.nullcontext()
    group = groups.get(name)
    if group is None:
        from airflow.providers.common.compat.sdk import TaskGroup  # only for specs that use groups

        group = groups[name] = TaskGroup(group_id=name, prefix_group_id=False)
    return group


def _skips_text(schedule: CronSchedule | MultiCronSchedule) -> str:
    parts = []
    if schedule.skip_holidays:
        parts.append(f"public holidays in {', '.join(schedule.skip_holidays)}")
    if schedule.skip_dates:
        parts.append(
            ", ".join(d.isoformat() for d in schedule.skip_dates[:10])
            + (" ..." if len(schedule.skip_dates) > 10 else "")
        )
    return f", except {' and '.join(parts)}" if parts else ""


def origin_doc(spec: ScheduleSpec, origin: SpecOrigin | None) -> str:
    """The DAG's ``doc_md``: the spec's description, then where the DAG comes from and how to change it.

    Short and built by string formatting only (it runs for every DAG on every parse). The spec's own
    ``description`` is Markdown the author wrote; everything added here is the provider's, with the
    stored values in code spans so an author name cannot add links or markup.
    """
    spec_id = spec.dag_id
    where = f"Generated from the schedule spec {_code(spec_id)}"
    if origin is not None:
        where += f", revision {origin.revision}"
        if origin.author:
            where += f" by {_code(origin.author, 80)}"
        if origin.updated_at:
            where += f" at {_code(origin.updated_at, 40)}"
    file_name = f"{spec_id}.yaml"
    lines = [
        f"{where}.",
        "",
        f"Schedule: {_schedule_text(spec)}.",
        "",
        f"Change it through the spec, not here: `airflow-scheduler show {spec_id} > {file_name}`, edit "
        f"the file, then `airflow-scheduler apply {file_name}`; `airflow-scheduler history {spec_id}` "
        "lists every revision.",
    ]
    footer = "\n".join(lines)
    if spec.description:
        return f"{spec.description.rstrip()}\n\n---\n\n{footer}"
    return footer


def _shown(task: Any) -> str:
    """The template as messages name it: ``name``, or ``name@N`` from version 2 on."""
    return task.template if task.template_version == 1 else task.template_ref


def _upstream_closure(spec: ScheduleSpec, task_id: str) -> list[str]:
    """Every task ``task_id`` depends on, directly or not, in spec order."""
    by_id = {t.id: t for t in spec.tasks}
    seen: set[str] = set()
    stack = list(by_id[task_id].depends_on)
    while stack:
        current = stack.pop()
        if current in seen or current not in by_id:
            continue
        seen.add(current)
        stack.extend(by_id[current].depends_on)
    return [t.id for t in spec.tasks if t.id in seen]


@functools.lru_cache(maxsize=1)
def dag_config_defaults() -> dict[str, Any]:
    """DAG arguments whose defaults Airflow reads from its configuration on EVERY ``DAG(...)``.

    Read once per process and passed explicitly: the same values, without three configuration
    look-ups per DAG (about a tenth of building a small DAG on Airflow 3.3). Only arguments the
    running Airflow's ``DAG`` accepts are returned.
    """
    from airflow.providers.common.compat.sdk import DAG

    try:
        accepted = set(inspect.signature(DAG.__init__).parameters)
    except (TypeError, ValueError):  # pragma: no cover - no introspectable signature
        return {}
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 2.x
        from airflow.configuration import conf  # type: ignore[no-redef]
    out: dict[str, Any] = {}
    for argument, section, key, kind in (
        ("max_active_tasks", "core", "max_active_tasks_per_dag", "int"),
        ("max_consecutive_failed_dag_runs", "core", "max_consecutive_failed_dag_runs_per_dag", "int"),
        ("disable_bundle_versioning", "dag_processor", "disable_bundle_versioning", "bool"),
    ):
        if argument not in accepted:
            continue
        try:
            out[argument] = conf.getint(section, key) if kind == "int" else conf.getboolean(section, key)
        except Exception:  # an option this Airflow does not know: leave Airflow's own default
            continue
    return out


def _link(upstream: Any, downstream: Any, dag: Any) -> None:
    """``upstream >> downstream``; for two plain operators of ``dag`` the edge is added directly.

    Airflow's ``>>`` re-checks that both tasks share one DAG by hashing the DAG (every DAG attribute,
    twice per edge); the factory created both tasks inside ``dag``, so the check cannot fail. Anything
    else (task groups, mapped operators, tasks of another DAG) goes through ``>>``.
    """
    if (
        upstream.dag is dag
        and downstream.dag is dag
        and upstream.roots == [upstream]
        and downstream.roots == [downstream]
    ):
        upstream.downstream_task_ids.add(downstream.node_id)
        downstream.upstream_task_ids.add(upstream.node_id)
    else:
        upstream >> downstream


def build_dag(
    spec: ScheduleSpec,
    registry: TemplateRegistry,
    *,
    policy: GovernancePolicy | None = None,
    on_run_finished: Callable[..., Any] | None = None,
    origin: SpecOrigin | None = None,
) -> Any:
    """Build the Airflow DAG described by ``spec``.

    Mapping of spec fields: ``dag_id`` = ``<namespace>.<name>``; ``schedule`` ->
    ``airflow_schedule(spec.schedule)`` (``factory/timetables.py``);
    ``start_date`` / ``end_date`` as aware datetimes in the schedule's
    timezone (which makes it the DAG's timezone); ``catchup``, ``max_active_runs``,
    ``dagrun_timeout`` as is; ``params`` -> ``Param`` objects (``factory/params.py``);
    ``defaults`` + ``owner`` ->
    ``default_args``; per-task ``retries`` / ``execution_timeout`` / ``trigger_rule`` override them;
    ``tags`` + ``namespace:<namespace>``; ``description`` -> ``description`` (first line) and
    ``doc_md`` (all of it, followed by the spec id, revision, author, time, the schedule with its
    timezone and the CLI commands that change it: :func:`origin_doc`);
    ``paused`` -> ``is_paused_upon_creation``; ``role: setup|teardown`` -> ``as_setup()`` /
    ``as_teardown(setups=<its setup tasks upstream>)``; ``notify.on_failure`` / ``on_success`` ->
    DAG ``on_failure_callback`` / ``on_success_callback``, ``notify.on_retry`` -> tasks'
    ``on_retry_callback``; ``deadline`` -> ``DAG(deadline=DeadlineAlert(...))`` (Airflow 3.1+,
    ``factory/deadlines.py``).

    :param spec: a validated spec.
    :param registry: the task-template registry (templates are resolved by name, allow-list applied).
    :param policy: the governance policy whose ``allowed_templates`` is re-checked (None: not checked).
    :param on_run_finished: added to the DAG's success and failure callbacks (the loader passes one
        for ``@once`` specs that records the finished run in the store).
    :param origin: the stored revision the spec comes from (shown in the DAG's Docs).
    :raises SpecBuildError: a template is unknown or not allowed any more, or a builder failed.
    """
    from airflow.providers.common.compat.sdk import DAG

    namespace = spec.namespace
    templates = {}
    for i, task in enumerate(spec.tasks):
        template = registry.get(task.template)
        why = registry.why_not_allowed(task.template, namespace)
        if why is None and policy is not None and not policy.allows_template(task.template, namespace):
            why = f"the template {task.template!r} is not allowed in namespace {namespace!r}"
        if template is not None and why is None:
            # the version the spec was validated against, never the default of the day (a retired
            # or unregistered version is refused here, not replaced by another one)
            _, version, why = resolve_version(registry, task.template, task.template_version)
            template = registry.get(task.template, version) if why is None else None
        if template is None or why is not None:
            raise SpecBuildError(f"tasks[{i}] ({task.id}): {why or 'unknown template'}")
        templates[task.id] = template

    default_args: dict[str, Any] = {"owner": spec.owner or "airflow", **spec.defaults.to_default_args()}
    if spec.defaults.execution_timeout is None:
        default_args.pop("execution_timeout")
    dag_kwargs: dict[str, Any] = {}
    if spec.notify:
        try:
            callbacks = notification_callbacks(spec, registry, policy)
        except ValueError as exc:
            raise SpecBuildError(str(exc)) from exc
        dag_kwargs.update(callbacks.dag_kwargs)
        default_args.update(callbacks.default_args)
    if spec.deadline is not None:
        from airflow_provider_scheduler.factory.deadlines import deadline_alert  # specs with one only

        try:
            dag_kwargs["deadline"] = deadline_alert(spec, registry, policy)
        except ValueError as exc:
            raise SpecBuildError(str(exc)) from exc
    if on_run_finished is not None:
        for key in ("on_success_callback", "on_failure_callback"):
            dag_kwargs[key] = [*dag_kwargs.get(key, ()), on_run_finished]
    if spec.params:
        fans_out = any(t.for_each_param for t in spec.tasks)
        dag_kwargs["params"] = airflow_params(spec, max_map_length=_map_cap(policy) if fans_out else None)
    if spec.description and spec.description.strip():  # stores may hold blank ones (accepted before)
        dag_kwargs["description"] = spec.description.strip().splitlines()[0][:200]
    dag_kwargs["doc_md"] = origin_doc(spec, origin)
    config_defaults = dag_config_defaults()
    if spec.max_active_tasks is not None:  # else Airflow's [core] max_active_tasks_per_dag, as before
        config_defaults = {**config_defaults, "max_active_tasks": spec.max_active_tasks}

    dag = DAG(
        dag_id=spec.dag_id,
        schedule=airflow_schedule(spec.schedule),
        start_date=spec.start_datetime(),
        end_date=spec.end_datetime(),
        catchup=spec.catchup,
        max_active_runs=spec.max_active_runs,
        dagrun_timeout=spec.dagrun_timeout,
        default_args=default_args,
        tags=[*spec.tags, f"namespace:{namespace}"],
        is_paused_upon_creation=spec.paused,
        # The loader registers finished DAGs itself; a DAG whose build failed half-way must not be
        # picked up by Airflow's auto-registration of ``with DAG(...)`` blocks.
        auto_register=False,
        **config_defaults,
        **dag_kwargs,
    )
    entry: dict[str, Any] = {}
    exit_: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    with dag:
        for i, task in enumerate(spec.tasks):
            try:
                extra = _task_extras(spec, i, registry, policy, default_args)
                with _task_group(task.group, groups):
                    if task.for_each is not None:
                        built = _fan_out(task, templates[task.id], policy, extra)
                    else:
                        built = templates[task.id].build(
                            task.id, task.with_, **task.operator_kwargs(), **_outlets(task), **extra
                        )
            except SpecBuildError:
                raise
            except Exception as exc:
                raise SpecBuildError(
                    f"tasks[{i}] ({task.id}): template {_shown(task)!r} failed: {exc}"
                ) from exc
            ops = list(built) if isinstance(built, Sequence) else [built]
            if not ops:
                raise SpecBuildError(f"tasks[{i}] ({task.id}): template {_shown(task)!r} built no operator")
            for upstream, downstream in itertools.pairwise(ops):
                _link(upstream, downstream, dag)
            entry[task.id], exit_[task.id] = ops[0], ops[-1]
        for task in spec.tasks:
            for upstream_id in task.depends_on:
                _link(exit_[upstream_id], entry[task.id], dag)
        for task in spec.tasks:
            if task.role == "setup":
                exit_[task.id].as_setup()
        for task in spec.tasks:
            if task.role == "teardown":
                setups = [exit_[t] for t in _upstream_closure(spec, task.id) if spec.task(t).role == "setup"]
                entry[task.id].as_teardown(setups=setups or None)
    return dag


def _map_cap(policy: GovernancePolicy | None) -> int:
    """``[schedule_specs] max_map_length`` (the policy's, else the deployment's)."""
    if policy is not None:
        return policy.max_map_length
    from airflow_provider_scheduler.spec.policy import default_policy

    return default_policy().max_map_length


def _fan_out(
    task: Any, template: Any, policy: GovernancePolicy | None, extra: dict[str, Any] | None = None
) -> list[Any]:
    """The operators of a ``for_each`` task (Airflow dynamic task mapping, one instance per item).

    A literal list: the mapped operator, expanded over the list. A param's list: first the list step
    ``<id>__items`` (reads and checks the run's list, see ``operators.for_each``), then the mapped
    operator expanded over its XCom; the step takes the task's trigger rule, so it runs whenever the
    task would.
    """
    kwargs = {**task.operator_kwargs(), **_outlets(task), **(extra or {})}
    name = task.for_each_param
    if name is None:
        return [template.build(task.id, task.with_, for_each=thaw(task.for_each), **kwargs)]
    from airflow_provider_scheduler.operators.for_each import ForEachItemsOperator

    step_kwargs: dict[str, Any] = {"retries": 0}  # a list that is too long stays too long
    if task.trigger_rule is not None:
        step_kwargs["trigger_rule"] = task.trigger_rule
    step = ForEachItemsOperator(
        task_id=for_each_items_task_id(task.id), param=name, max_length=_map_cap(policy), **step_kwargs
    )
    return [step, template.build(task.id, task.with_, for_each=step.output, **kwargs)]
