"""The one definition of the ``scheduler`` connection's custom form fields.

Plain data, no Airflow imports: :mod:`airflow_provider_scheduler.get_provider_info` reads it while
Airflow initialises (Airflow 3.2+ renders ``conn-fields`` from it) and
:class:`~airflow_provider_scheduler.hooks.scheduler.SchedulerHook` turns the same data into the classic
wtforms widgets that Airflow 2.11, 3.0 and 3.1 render. Values land in the connection's ``extra`` JSON
under the bare field names.
"""

from __future__ import annotations

from typing import Any

#: Field name -> ``conn-fields`` entry (label, description, JSON schema).
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "api_version": {
        "label": "API version",
        "description": "auto detects it; v2 for Airflow 3 (JWT), v1 for Airflow 2.x (basic auth).",
        "schema": {"type": ["string", "null"], "enum": ["auto", "v2", "v1"], "default": "auto"},
    },
    "token": {
        "label": "Bearer token",
        "description": "A static API token to send instead of exchanging login and password.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "verify_ssl": {
        "label": "Verify TLS certificates",
        "description": "Turn off only for a test deployment with a self-signed certificate.",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "ca_bundle": {
        "label": "CA bundle path",
        "description": "Path to a PEM file of CA certificates on the Airflow machines (optional).",
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Request timeout (seconds)",
        "description": "How long one API request may take before it is retried.",
        "schema": {"type": ["number", "null"], "default": 30, "minimum": 1, "maximum": 600},
    },
    "max_retries": {
        "label": "Max retries",
        "description": (
            "Retries of a request that failed transiently (connection error, timeout, 408, 429, 5xx)."
        ),
        "schema": {"type": ["integer", "null"], "default": 3, "minimum": 0, "maximum": 10},
    },
}

#: Standard-field behaviour, in the provider-info (kebab-case) form.
#:
#: The port stays visible: Airflow 3.3.2's Test button in the connection list sends
#: ``port: Number(connection.port)``, which is 0 for a connection saved without a port, and the API
#: then refuses the test ("The host or port to test differs from the stored connection", fixed after
#: 3.3.2 by apache/airflow#73298). A port saved in the form is sent back unchanged, so the test runs.
#: A port in the URL wins over this field; a scheme's default port (443, 80) is not added to the URL.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema"],
    "relabeling": {"host": "Airflow API URL", "login": "Username", "password": "Password", "port": "Port"},
    "placeholders": {
        "host": "https://airflow.example.com (or http://127.0.0.1:8080)",
        "port": "443 for https, 80 for http, or the port of the URL (Airflow 3.3.2's Test button needs it)",
        "login": "admin",
        "password": "password of that user (leave empty when using a bearer token)",
        "description": "Which Airflow deployment this connection drives",
    },
}
