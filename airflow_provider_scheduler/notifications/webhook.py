"""``WebhookNotifier``: POST a JSON summary of a DAG run (or task retry), or a chat message, to an
admin-approved connection."""

from __future__ import annotations

import logging
from typing import Any

from airflow.providers.common.compat.sdk import BaseHook, BaseNotifier

from airflow_provider_scheduler.rest.errors import SchedulerRedirectError
from airflow_provider_scheduler.rest.http_target import (
    connection_base_url,
    connection_session_args,
    join_endpoint,
    send_within_origin,
)

log = logging.getLogger(__name__)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


def run_summary(context: Any, event: str) -> dict[str, Any]:
    """The JSON body: ids, state and dates only (never conf, params or anything secret)."""
    dag_run = context.get("dag_run")
    ti = context.get("task_instance") or context.get("ti")
    dag = context.get("dag")
    return {
        "event": event,
        "dag_id": getattr(dag_run, "dag_id", None) or getattr(dag, "dag_id", None),
        "run_id": getattr(dag_run, "run_id", None) or context.get("run_id"),
        "state": _text(getattr(dag_run, "state", None)),
        "logical_date": _text(getattr(dag_run, "logical_date", None) or context.get("logical_date")),
        "task_id": getattr(ti, "task_id", None) if event == "on_retry" else None,
        "try_number": getattr(ti, "try_number", None) if event == "on_retry" else None,
    }


#: Body shapes: ``json`` = :func:`run_summary` (plus ``message``); ``slack`` = ``{"text": message}``.
FORMATS = ("json", "slack")

_EVENT_WORDS = {"on_failure": "failed", "on_success": "succeeded", "on_retry": "is retrying a task"}


def slack_escape(text: str) -> str:
    """Escape Slack's control characters, so a rendered value cannot mention people or add links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chat_text(context: Any, event: str) -> str:
    """The default chat message: which DAG, what happened, which run."""
    summary = run_summary(context, event)
    text = f"{summary['dag_id'] or 'A DAG'} {_EVENT_WORDS.get(event, event)}"
    if summary["task_id"]:
        text += f" ({summary['task_id']}, try {summary['try_number']})"
    return f"{text}. Run: {summary['run_id']}"


class WebhookNotifier(BaseNotifier):
    """POST the run summary as JSON, or a chat message, to ``connection base URL + endpoint``.

    ``payload_format="json"`` posts :func:`run_summary` (plus ``"message"`` when one is given);
    ``"slack"`` posts ``{"text": message}`` (Slack and Mattermost incoming webhooks), with
    :func:`slack_escape` applied and :func:`chat_text` as the default message.

    No request leaves the connection's host: a redirect to another host is refused and logged as a
    warning (nothing is sent there); one within the host is followed (307/308, at most 5). An error
    answer is logged as a warning too: a notifier never fails the run it reports on.

    :param conn_id: connection id (approved in ``[schedule_specs] webhook_connections``).
    :param endpoint: path relative to the connection's base URL.
    :param event: ``on_failure``, ``on_success`` or ``on_retry`` (included in the body).
    :param timeout: seconds to wait for the receiver.
    :param message: message text (templated).
    :param payload_format: ``json`` (default) or ``slack``, see :data:`FORMATS`.
    """

    template_fields = ("message",)

    def __init__(
        self,
        *,
        conn_id: str,
        endpoint: str = "",
        event: str = "on_failure",
        timeout: float = 30,
        message: str | None = None,
        payload_format: str = "json",
    ) -> None:
        if payload_format not in FORMATS:
            raise ValueError(f"payload_format must be one of {', '.join(FORMATS)}, not {payload_format!r}")
        super().__init__()
        self.conn_id = conn_id
        self.endpoint = endpoint
        self.event = event
        self.timeout = timeout
        self.message = message
        self.payload_format = payload_format

    def body(self, context: Any) -> dict[str, Any]:
        """What is posted (``message`` is rendered by then)."""
        if self.payload_format == "slack":
            return {"text": slack_escape(self.message or chat_text(context, self.event))}
        body = run_summary(context, self.event)
        if self.message is not None:
            body["message"] = self.message
        return body

    def notify(self, context: Any) -> None:
        # Local: requests takes about 60 ms to import (measured) and DAG files import this module.
        import requests

        conn = BaseHook.get_connection(self.conn_id)
        url = join_endpoint(connection_base_url(conn), self.endpoint)
        body = self.body(context)
        args = connection_session_args(conn)

        def send(method: str, target: str) -> requests.Response:
            # allow_redirects=False: send_within_origin decides, and never sends to another host
            return requests.request(
                method, target, json=body, timeout=self.timeout, allow_redirects=False, **args
            )

        try:
            response = send_within_origin(send, "POST", url)
        except SchedulerRedirectError as err:
            log.warning("Webhook %s not notified: %s", url, err)
            return
        if response.status_code >= 400:
            log.warning("Webhook %s answered HTTP %s", url, response.status_code)
        else:
            log.info("Webhook %s notified (%s)", url, self.event)
