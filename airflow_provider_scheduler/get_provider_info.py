"""Provider metadata, the target of the ``apache_airflow_provider`` entry point.

Airflow calls :func:`get_provider_info` while its configuration initialises, so this module (and
everything it imports) must not import Airflow.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_scheduler import __version__
from airflow_provider_scheduler.hooks.connection_fields import CONN_FIELDS, UI_FIELD_BEHAVIOUR


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
                },
            }
        },
    }
