"""Spec ``deadline`` -> Airflow's deadline alert (Airflow 3.1+), and what the triggerer runs on a miss.

A spec's deadline becomes ``DAG(deadline=DeadlineAlert(...))`` whose callback is one coroutine of this
provider, :func:`deadline_missed`, with the spec's notifications as plain data (template name and
``with``). Airflow stores that data with the serialized DAG; when a run misses its deadline the
scheduler queues the callback and the triggerer calls the coroutine, which looks each template up by
name in the deployment's registry (allow-lists applied again, so a template an admin disabled since
sends nothing) and runs the notifier it builds. Nothing from the spec is imported by name: the
callback path is always this module's coroutine.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.catalog import resolve_version, split_template_ref

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.model import ScheduleSpec
    from airflow_provider_scheduler.spec.policy import GovernancePolicy
    from airflow_provider_scheduler.templates.registry import TemplateRegistry

log = logging.getLogger(__name__)

#: the event name notification builders receive for a missed deadline
DEADLINE_EVENT = "deadline_missed"


def _refusal(
    name: str, namespace: str, registry: TemplateRegistry, policy: GovernancePolicy | None
) -> str | None:
    """Why ``namespace`` may not use the notification template ``name`` now (None: it may)."""
    if registry.get_notifier(name) is None:
        return f"no notification template named {name!r} is registered"
    reason = registry.why_not_allowed(name, namespace)
    if reason is None and policy is not None and not policy.allows_template(name, namespace):
        reason = f"the template {name!r} is not allowed in namespace {namespace!r}"
    return reason


def deadline_alert(spec: ScheduleSpec, registry: TemplateRegistry, policy: GovernancePolicy | None) -> Any:
    """The ``DeadlineAlert`` for ``spec.deadline``.

    :raises ValueError: the running Airflow has no deadline alerts (before 3.1), or a notification's
        template is missing or no longer allowed (the message names its path).
    """
    deadline = spec.deadline
    assert deadline is not None
    try:  # Airflow 3.1+ (3.3 also exports them elsewhere; this module has them on both)
        from airflow.sdk.definitions.deadline import AsyncCallback, DeadlineAlert, DeadlineReference
    except ImportError:
        from airflow import __version__

        raise ValueError(
            f"deadline: a deadline (Airflow's deadline alerts) needs Airflow 3.1 or later; this "
            f"deployment runs Airflow {__version__}"
        ) from None
    for i, item in enumerate(deadline.notify):
        reason = _refusal(item.template, spec.namespace, registry, policy)
        if reason is None:  # the version the spec was validated against (retired: refused)
            _, _, reason = resolve_version(registry, item.template, item.template_version, notifiers=True)
        if reason:
            raise ValueError(f"deadline.notify[{i}].template: {reason}")
    reference = (
        DeadlineReference.DAGRUN_QUEUED_AT
        if deadline.from_ == "queued"
        else DeadlineReference.DAGRUN_LOGICAL_DATE
    )
    callback = AsyncCallback(
        deadline_missed,
        kwargs={
            "dag_id": spec.dag_id,
            "namespace": spec.namespace,
            "notify": [n.to_dict() for n in deadline.notify],
        },
    )
    return DeadlineAlert(reference=reference, interval=deadline.after, callback=callback)


def _run_context(dag_id: str, context: Any) -> dict[str, Any]:
    """What a notifier renders and reads: the run's ids, state and dates (Airflow sends it as JSON)."""
    context = context if isinstance(context, dict) else {}
    run = context.get("dag_run") if isinstance(context.get("dag_run"), dict) else {}
    run_id = run.get("dag_run_id") or run.get("run_id")
    dag_run = SimpleNamespace(
        dag_id=run.get("dag_id") or dag_id,
        run_id=run_id,
        state=run.get("state"),
        logical_date=run.get("logical_date"),
        queued_at=run.get("queued_at"),
    )
    deadline = context.get("deadline") if isinstance(context.get("deadline"), dict) else {}
    return {
        "dag_run": dag_run,
        "dag_id": dag_run.dag_id,
        "run_id": run_id,
        "logical_date": dag_run.logical_date,
        "deadline_time": deadline.get("deadline_time"),
    }


async def deadline_missed(
    *, dag_id: str, namespace: str, notify: list[dict[str, Any]], context: Any = None
) -> str:
    """Send a spec's deadline notifications (Airflow's triggerer awaits this when a run is late).

    :param dag_id: the spec's DAG.
    :param namespace: the spec's namespace (the allow-lists are checked for it).
    :param notify: the notifications, as ``NotifierSpec.to_dict()`` wrote them.
    :param context: what Airflow passes: the run (as the REST API shows it) and the deadline.
    :returns: one line saying what was sent (Airflow records it as the callback's result).
    :raises RuntimeError: no notification could be sent (Airflow marks the callback failed).
    """
    # Imported here: the triggerer imports this module only to run the callback.
    from asgiref.sync import sync_to_async

    from airflow_provider_scheduler.spec.policy import default_policy
    from airflow_provider_scheduler.templates.registry import default_registry

    registry, policy = default_registry(), default_policy()
    run_context = _run_context(dag_id, context)
    spec = SimpleNamespace(dag_id=dag_id, namespace=namespace)
    sent: list[str] = []
    failed: list[str] = []
    for i, item in enumerate(notify):
        shown = str(item.get("template"))
        where = f"{dag_id}: deadline.notify[{i}] ({shown})"
        # NAME@VERSION as NotifierSpec.to_dict() writes it (no "@": written before versions, i.e. @1)
        ref = split_template_ref(shown)
        name, version = ref if ref is not None else (shown, None)
        reason = _refusal(name, namespace, registry, policy)
        if reason is None:
            _, version, reason = resolve_version(registry, name, version or 1, notifiers=True)
        if reason:
            log.warning("%s not sent: %s", where, reason)
            failed.append(where)
            continue
        template = registry.get_notifier(name, version)
        assert template is not None
        try:
            notifier = template.build(item.get("with") or {}, event=DEADLINE_EVENT, spec=spec)
            # A notifier is synchronous (SMTP, requests) and reads its connection through the
            # triggerer's supervisor channel: asgiref runs it off the event loop and routes that
            # channel's calls back to the loop (a plain thread would read the channel's answers out of
            # order, which kills Airflow 3.1's trigger runner).
            await sync_to_async(notifier)(dict(run_context))
        except Exception as exc:  # one failing notification must not keep the others from being sent
            log.warning("%s failed: %s", where, type(exc).__name__)
            failed.append(where)
            continue
        sent.append(name)
    if not sent and failed:
        raise RuntimeError(f"no deadline notification was sent: {', '.join(failed)}")
    return f"{dag_id} missed its deadline (run {run_context['run_id']}): notified {', '.join(sent)}"
