"""`airflow providers widgets` / `behaviours` (Airflow's own CLI) list the scheduler connection's fields.

On Airflow 2.11 the CLI reports the wtforms classes built by ``get_connection_form_widgets``; on 3.x it
reports the JSON-schema types of the provider info's ``conn-fields``. Both come from ``CONN_FIELDS``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_scheduler.rest.connection_fields import CONN_FIELDS

AIRFLOW_CLI = Path(sys.executable).parent / "airflow"


def _airflow_major() -> int:
    from airflow import __version__

    return int(__version__.split(".")[0])


def run_cli(tmp_path: Path, *args: str) -> list[dict]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIRFLOW__") and not key.startswith("AIRFLOW_CONN_")
    }
    env.update({"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    result = subprocess.run(
        [str(AIRFLOW_CLI), *args, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def widgets(tmp_path_factory) -> dict[str, dict]:
    rows = run_cli(tmp_path_factory.mktemp("airflow-home"), "providers", "widgets")
    return {
        row["connection_parameter_name"]: row
        for row in rows
        if row["connection_parameter_name"].startswith("extra__scheduler__")
    }


class TestProvidersWidgetsCli:
    def test_lists_every_field_of_the_definition(self, widgets):
        assert sorted(widgets) == sorted(f"extra__scheduler__{name}" for name in CONN_FIELDS)
        assert {row["package_name"] for row in widgets.values()} == {"airflow-provider-scheduler"}

    @pytest.mark.skipif(_airflow_major() >= 3, reason="Airflow 2.x reports wtforms field classes")
    def test_airflow_2_field_classes(self, widgets):
        assert {
            name.removeprefix("extra__scheduler__"): row["field_type"] for name, row in widgets.items()
        } == {
            "api_version": "StringField",
            "token": "PasswordField",
            "verify_ssl": "BooleanField",
            "ca_bundle": "StringField",
            "timeout": "StringField",
            "max_retries": "IntegerField",
        }

    @pytest.mark.skipif(_airflow_major() < 3, reason="Airflow 3.x reports the conn-fields schema types")
    def test_airflow_3_schema_types(self, widgets):
        assert {
            name.removeprefix("extra__scheduler__"): row["field_type"] for name, row in widgets.items()
        } == {name: spec["schema"]["type"] for name, spec in CONN_FIELDS.items()}


MOCKED_FAB_SCRIPT = """
import json, sys
from unittest import mock
from unittest.mock import MagicMock

from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService as H

for name in ["wtforms", "wtforms.csrf", "wtforms.fields", "wtforms.fields.simple", "wtforms.validators",
             "flask_babel", "flask_appbuilder", "flask_appbuilder.fieldwidgets"]:
    sys.modules[name] = MagicMock()
with (
    mock.patch("wtforms.StringField", H.MockStringField),
    mock.patch("wtforms.IntegerField", H.MockIntegerField),
    mock.patch("wtforms.PasswordField", H.MockPasswordField),
    mock.patch("wtforms.BooleanField", H.MockBooleanField),
    mock.patch("flask_babel.lazy_gettext", lambda text: text),
    mock.patch("flask_appbuilder.fieldwidgets.BS3TextFieldWidget", H.MockAnyWidget),
    mock.patch("flask_appbuilder.fieldwidgets.BS3PasswordFieldWidget", H.MockAnyWidget),
    mock.patch("wtforms.validators.Optional", H.MockOptional),
    mock.patch("wtforms.validators.any_of", H.MockEnum),
):
    from airflow_provider_scheduler.hooks.scheduler import SchedulerHook

    widgets = SchedulerHook.get_connection_form_widgets()
    print(json.dumps({name: field.param.dump() for name, field in widgets.items()}))
"""


def _has_fab() -> bool:
    import importlib.util

    return importlib.util.find_spec("flask_appbuilder") is not None


@pytest.mark.skipif(
    _airflow_major() < 3 or _has_fab(),
    reason="Airflow 3's mocked-FAB form path (used by 3.0/3.1) only runs without flask-appbuilder",
)
def test_widgets_under_airflow_3_0_and_3_1_mocked_wtforms():
    """3.0/3.1 call get_connection_form_widgets with wtforms mocked (the mocks of 3.3's HookMetaService)."""
    result = subprocess.run(
        [sys.executable, "-c", MOCKED_FAB_SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    fields = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(fields) == list(CONN_FIELDS)
    for name, spec in CONN_FIELDS.items():
        schema = fields[name]["schema"]
        assert schema["title"] == spec["label"], name
        assert fields[name]["description"] == spec["description"], name
        default = spec["schema"].get("default")
        # A number is a text field in the classic form, so its default is text there.
        expected = f"{default:g}" if "number" in spec["schema"]["type"] else default
        assert fields[name]["value"] == expected, name
    assert fields["api_version"]["schema"]["enum"] == ["auto", "v2", "v1"]
    assert fields["token"]["schema"]["format"] == "password"
    assert fields["verify_ssl"]["schema"]["type"] == ["boolean", "null"]
    assert fields["max_retries"]["schema"]["type"] == ["integer", "null"]
