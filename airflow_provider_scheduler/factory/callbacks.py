"""Spec ``notify: {on_failure, on_success, on_retry}`` -> Airflow callbacks (notifier objects).

Notification templates live in the template registry (``email``, ``webhook`` and whatever the platform
team registers); :func:`notification_callbacks` is what :func:`~airflow_provider_scheduler.factory.build_dag`
calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.model import ScheduleSpec
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
        callbacks = []
        for i, item in enumerate(getattr(spec.notify, event)):
            template = registry.get_notifier(item.template)
            reason = registry.why_not_allowed(item.template, spec.namespace)
            if (
                reason is None
                and policy is not None
                and not policy.allows_template(item.template, spec.namespace)
            ):
                reason = f"the template {item.template!r} is not allowed in namespace {spec.namespace!r}"
            if template is None or reason:
                raise ValueError(f"notify.{event}[{i}].template: {reason or 'unknown template'}")
            callbacks.append(template.build(item.with_, event=event, spec=spec))
        if callbacks:
            target[key] = callbacks
    return out
