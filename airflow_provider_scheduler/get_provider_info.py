"""Provider metadata, the target of the ``apache_airflow_provider`` entry point.

Airflow calls :func:`get_provider_info` while its configuration initialises, so this module (and
everything it imports) must not import Airflow.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_scheduler import __version__
from airflow_provider_scheduler.rest.connection_fields import CONN_FIELDS, UI_FIELD_BEHAVIOUR


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow's ProvidersManager registers."""
    return {
        "package-name": "airflow-provider-scheduler",
        "name": "Scheduler",
        "description": (
            "Schedule specs (validated JSON/YAML) that become Airflow DAGs, a hook that drives an "
            "Airflow deployment through its REST API, operators and a deferrable DAG-run sensor."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Scheduler",
                "external-doc-url": "https://pypi.org/project/airflow-provider-scheduler/",
                "tags": ["software"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Scheduler",
                "python-modules": ["airflow_provider_scheduler.hooks.scheduler"],
            }
        ],
        "operators": [
            {
                "integration-name": "Scheduler",
                "python-modules": [
                    "airflow_provider_scheduler.operators.trigger_dag_run",
                    "airflow_provider_scheduler.operators.pause_dag",
                    "airflow_provider_scheduler.operators.apply_specs",
                    "airflow_provider_scheduler.operators.http_request",
                    "airflow_provider_scheduler.operators.for_each",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Scheduler",
                "python-modules": ["airflow_provider_scheduler.sensors.dag_run"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Scheduler",
                "python-modules": ["airflow_provider_scheduler.triggers.dag_run"],
            }
        ],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_scheduler.hooks.scheduler.SchedulerHook",
                "connection-type": "scheduler",
                "hook-name": "Scheduler",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "extra-links": [
            "airflow_provider_scheduler.operators.trigger_dag_run.SchedulerDagRunLink",
        ],
        "notifications": [
            "airflow_provider_scheduler.notifications.webhook.WebhookNotifier",
        ],
        "config": {
            "schedule_specs": {
                "description": "Where schedule specs are stored and how the DAG loader reads them.",
                "options": {
                    "store": {
                        "description": (
                            "URI of the spec store: sqlite:///PATH (embedded default, "
                            "$AIRFLOW_HOME/schedule_specs.db when empty), postgresql://..., or "
                            "file:///DIR (a folder of YAML/JSON specs)."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "postgresql://user:pass@db:5432/specs",
                        "default": "",
                        "sensitive": True,
                    },
                    # schedule-spec validation and templates (SPEC helper; read by spec/policy.py and
                    # templates/builtins.py)
                    "max_tasks_per_spec": {
                        "description": "Most tasks one schedule spec may have.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "20",
                        "default": "50",
                    },
                    "min_schedule_interval": {
                        "description": (
                            "Shortest allowed time between two scheduled runs of a spec (ISO-8601 duration); "
                            "cron, crons and every schedules that run more often are refused."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "PT15M",
                        "default": "PT5M",
                    },
                    "max_params": {
                        "description": "Most params one spec may declare.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "10",
                        "default": "30",
                    },
                    "max_spec_bytes": {
                        "description": (
                            "Largest spec document or spec file accepted, in bytes; checked before parsing."
                        ),
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "262144",
                        "default": "1048576",
                    },
                    "max_active_runs": {
                        "description": "Highest max_active_runs a spec may ask for.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "4",
                        "default": "16",
                    },
                    "max_retries": {
                        "description": "Highest retries a spec (defaults or task) may ask for.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "5",
                        "default": "10",
                    },
                    "max_at_dates": {
                        "description": "Most date-times one `at` schedule may list (at most 500).",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "20",
                        "default": "100",
                    },
                    "max_map_length": {
                        "description": (
                            "Most items one task's for_each may fan out over (one mapped task instance "
                            "each): checked at validation for a literal list, and when the run starts the "
                            "task for a list from a param."
                        ),
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "16",
                        "default": "64",
                    },
                    "pools": {
                        "description": (
                            "Per-namespace lists of the Airflow pools a namespace's tasks may name in "
                            '`pool`, as JSON; "*" applies to namespaces not listed. Empty: no spec may '
                            "name a pool (tasks run in Airflow's default_pool)."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": '{"analytics": ["warehouse"], "*": ["default_pool"]}',
                        "default": "",
                    },
                    "max_active_tasks": {
                        "description": "The highest top-level `max_active_tasks` a spec may ask for.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "16",
                        "default": "64",
                    },
                    "asset_targets": {
                        "description": (
                            "Per-namespace glob patterns of the asset URIs a namespace's task outlets may "
                            'update, as JSON; {namespace} is the spec\'s namespace, "*" applies to '
                            "namespaces not listed. Empty: any URI (set it on shared deployments)."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": '{"analytics": ["s3://warehouse/{namespace}/*"], "*": []}',
                        "default": "",
                    },
                    "allowed_templates": {
                        "description": (
                            "Per-namespace allow-list of task and notification templates, as JSON; the key "
                            '"*" applies to namespaces not listed. Empty: every enabled template is allowed '
                            "everywhere."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": '{"analytics": ["trigger_dag", "empty", "email"], "*": ["empty"]}',
                        "default": "",
                    },
                    "enabled_templates": {
                        "description": (
                            "Comma-separated opt-in task templates to enable (bash, python); they are "
                            "disabled by default."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "python",
                        "default": "",
                    },
                    "disabled_templates": {
                        "description": "Comma-separated templates to disable for every namespace.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "http_request",
                        "default": "",
                    },
                    "template_versions": {
                        "description": (
                            "JSON: template name -> the version a spec gets when it names the template "
                            "without @ (template: http_request). Unset names default to their highest "
                            "version that is not retired. Stored specs keep the version they were "
                            "validated against."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": '{"http_request": 2}',
                        "default": "",
                    },
                    "retired_templates": {
                        "description": (
                            "Comma-separated template versions (NAME@VERSION) that are retired: a spec "
                            "naming one is refused, and a stored spec pinned to one is not built (the "
                            "loader reports it in airflow-scheduler status)."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "http_request@1",
                        "default": "",
                    },
                    "python_callables": {
                        "description": (
                            "Comma-separated dotted paths of the functions the python template may run (only "
                            "these are ever imported)."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "my_company.jobs.refresh_cache,my_company.jobs.send_report",
                        "default": "",
                    },
                    "http_connections": {
                        "description": "Comma-separated connection ids the http_request template may call.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "reports_api",
                        "default": "",
                    },
                    "webhook_connections": {
                        "description": "Comma-separated connection ids the webhook notification may POST to.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "chat_webhook",
                        "default": "",
                    },
                    "remote_connections": {
                        "description": (
                            "Comma-separated scheduler connection ids the trigger_remote_dag and "
                            "wait_for_dag_run templates may use."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "scheduler_default,scheduler_prod",
                        "default": "scheduler_default",
                    },
                    "spark_applications": {
                        "description": (
                            "Comma-separated glob patterns of the applications (paths or URIs) the "
                            "spark_submit template may submit; '..' segments are refused. Empty: none."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "/opt/spark/jobs/*.py,s3a://spark-jobs/*.jar",
                        "default": "",
                    },
                    "spark_connections": {
                        "description": (
                            "Comma-separated Spark connection ids the spark_submit template may use "
                            "(its default conn_id is spark_default)."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "spark_default",
                        "default": "",
                    },
                    "slack_connections": {
                        "description": (
                            "Comma-separated Slack incoming-webhook connection ids the slack notification "
                            "may post to."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "slack_team",
                        "default": "",
                    },
                    "dag_targets": {
                        "description": (
                            "Which DAGs the trigger_dag, trigger_remote_dag and wait_for_dag_run templates "
                            "may name, as JSON: namespace -> list of dag_id glob patterns ({namespace} "
                            "stands for the spec's namespace; the key * applies to namespaces not "
                            "listed). Empty: any DAG."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": (
                            '{"analytics": ["{namespace}.*", "report_template"], "*": ["{namespace}.*"]}'
                        ),
                        "default": "",
                    },
                    # the portal (plugin/access.py)
                    "namespace_access": {
                        "description": (
                            "Who may read and write the specs of each namespace through the portal (the "
                            "Schedules API in Airflow's api-server), as JSON: namespace -> list of user "
                            "names, role:NAME or group:NAME entries as the auth manager knows them, or * "
                            "(every signed-in user); the key * applies to namespaces not listed, and a "
                            "namespace neither listed nor covered by * is closed. Checked on top of the "
                            "auth manager's DAG permissions. Empty: no namespace restriction."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": '{"analytics": ["alice", "role:analysts"], "*": ["role:admin"]}',
                        "default": "",
                    },
                },
            }
        },
    }
