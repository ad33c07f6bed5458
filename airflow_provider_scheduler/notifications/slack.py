"""``SpecSlackWebhookNotifier``: the Slack provider's webhook notifier, with rendered text escaped.

Imported only when a spec uses the ``slack`` notification template (it needs
``apache-airflow-providers-slack``: ``pip install 'airflow-provider-scheduler[slack]'``).
"""

from __future__ import annotations

from typing import Any

from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

from airflow_provider_scheduler.notifications.webhook import slack_escape


class SpecSlackWebhookNotifier(SlackWebhookNotifier):
    """``SlackWebhookNotifier`` whose ``text``, once rendered, has Slack's control characters escaped.

    A value a triggering user chose (params, ``dag_run.conf``) cannot mention people
    (``<!channel>``) or add links; Slack still links plain URLs.

    :param slack_webhook_conn_id: Slack incoming-webhook connection id (approved in
        ``[schedule_specs] slack_connections``).
    :param text: message text (templated).
    """

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)
        if isinstance(self.text, str):
            self.text = slack_escape(self.text)
