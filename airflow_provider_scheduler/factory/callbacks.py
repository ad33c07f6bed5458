"""Spec ``notify: {on_failure, on_success, on_retry}`` -> Airflow callbacks (notifier objects).

Notification templates live in the template registry (``email``, ``webhook`` and whatever the platform
team registers); :func:`notification_callbacks` is what :func:`~airflow_provider_scheduler.factory.build_dag`
calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.catalog import resolve_version

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.model import NotifierSpec, ScheduleSpec, TaskSpec
    from airflow_provider_scheduler.spec.policy import GovernancePolicy
    from airflow_provider_scheduler.templates.registry import TemplateRegistry


@dataclass
class NotificationCallbacks:
    """Callbacks for one spec.

    :param dag_kwargs: ``on_failure_callback`` / ``on_success_callback`` for ``DAG(...)`` (lists).
    :param default_args: ``on_retry_callback`` for the DAG's ``default_args`` (a list), since retries
        are a task event.
    """

    dag_kwargs: dict[str, list[Any]] = field(default_factory=dict)
    default_args: dict[str, list[Any]] = field(default_factory=dict)


def notification_callbacks(
    spec: ScheduleSpec, registry: TemplateRegistry, policy: GovernancePolicy | None = None
) -> NotificationCallbacks:
    """Build the Airflow callbacks for ``spec.notify``.

    Templates are looked up by name in the registry and re-checked against its allow-list (and the
    policy's ``allowed_templates`` when given); a notification whose template is missing or no longer
    allowed raises ``ValueError`` naming its path (the factory reports it like any other broken spec).
    """
    out = NotificationCallbacks()
    for event, target, key in (
        ("on_failure", out.dag_kwargs, "on_failure_callback"),
        ("on_success", out.dag_kwargs, "on_success_callback"),
        ("on_retry", out.default_args, "on_retry_callback"),
    ):
        callbacks = [
            _notifier(item, event, f"notify.{event}[{i}]", spec, registry, policy)
            for i, item in enumerate(getattr(spec.notify, event))
        ]
        if callbacks:
            target[key] = callbacks
    return out


def task_callbacks(
    spec: ScheduleSpec,
    index: int,
    registry: TemplateRegistry,
    policy: GovernancePolicy | None = None,
    inherited: dict[str, list[Any]] | None = None,
) -> dict[str, list[Any]]:
    """``on_failure_callback`` / ``on_retry_callback`` for ``spec.tasks[index]``'s own ``notify``.

    A task's ``on_retry`` notifications come in addition to the spec-level ``notify.on_retry`` ones
    (``inherited``, the DAG's ``default_args`` callbacks, which an operator argument would replace).

    :raises ValueError: a template is missing or no longer allowed (the message names its path).
    """
    task: TaskSpec = spec.tasks[index]
    out: dict[str, list[Any]] = {}
    for event, key in (("on_failure", "on_failure_callback"), ("on_retry", "on_retry_callback")):
        callbacks = [
            _notifier(item, event, f"tasks[{index}].notify.{event}[{i}]", spec, registry, policy)
            for i, item in enumerate(getattr(task.notify, event))
        ]
        if callbacks:
            out[key] = [*(inherited or {}).get(key, ()), *callbacks]
    return out


def _notifier(
    item: NotifierSpec,
    event: str,
    path: str,
    spec: ScheduleSpec,
    registry: TemplateRegistry,
    policy: GovernancePolicy | None,
) -> Any:
    """The Airflow callback of one notification (template looked up and its allow-lists re-checked)."""
    template = registry.get_notifier(item.template)
    reason = registry.why_not_allowed(item.template, spec.namespace)
    if reason is None and policy is not None and not policy.allows_template(item.template, spec.namespace):
        reason = f"the template {item.template!r} is not allowed in namespace {spec.namespace!r}"
    if template is not None and reason is None:  # the version the spec was validated against
        _, version, reason = resolve_version(registry, item.template, item.template_version, notifiers=True)
        template = registry.get_notifier(item.template, version) if reason is None else None
    if template is None or reason:
        raise ValueError(f"{path}.template: {reason or 'unknown template'}")
    return template.build(item.with_, event=event, spec=spec)
