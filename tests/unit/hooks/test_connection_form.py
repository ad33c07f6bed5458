"""The classic connection form of the ``scheduler`` connection, as the hook's classmethods return it."""

from __future__ import annotations

import re

import pytest

from airflow_provider_scheduler.hooks.scheduler import SchedulerHook
from airflow_provider_scheduler.rest.connection_fields import CONN_FIELDS, UI_FIELD_BEHAVIOUR


def _has_flask_appbuilder() -> bool:
    try:
        import flask_appbuilder  # noqa: F401
    except ImportError:
        return False
    return True


class TestConnectionForm:
    def test_hook_contract(self):
        assert (
            SchedulerHook.conn_type,
            SchedulerHook.default_conn_name,
            SchedulerHook.conn_name_attr,
            SchedulerHook.hook_name,
        ) == ("scheduler", "scheduler_default", "scheduler_conn_id", "Scheduler")

    def test_ui_field_behaviour_is_the_snake_case_form_of_the_data(self):
        behaviour = SchedulerHook.get_ui_field_behaviour()
        assert behaviour == {
            "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
            "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
            "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
        }
        behaviour["hidden_fields"].append("x")
        assert "x" not in UI_FIELD_BEHAVIOUR["hidden-fields"]

    def test_field_definitions_are_well_formed(self):
        """A malformed conn-fields entry breaks Airflow 3's connection form for every type."""
        import jsonschema

        allowed_types = {"string", "boolean", "integer", "number", "null"}
        for name, spec in CONN_FIELDS.items():
            assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
            assert set(spec) <= {"label", "description", "schema"}, name
            assert isinstance(spec["label"], str), name
            assert spec["label"], name
            schema = spec["schema"]
            jsonschema.Draft7Validator.check_schema(schema)
            assert set(schema["type"]) <= allowed_types, name
            assert "null" in schema["type"], name
            if "default" in schema:
                jsonschema.validate(schema["default"], schema)
        assert CONN_FIELDS["token"]["schema"]["format"] == "password"

    def test_every_extra_key_the_hook_reads_is_a_form_field(self):
        assert set(CONN_FIELDS) == {
            "api_version",
            "token",
            "verify_ssl",
            "ca_bundle",
            "timeout",
            "max_retries",
        }

    @pytest.mark.skipif(
        _has_flask_appbuilder(), reason="with flask-appbuilder installed the widgets are built (other test)"
    )
    def test_widgets_need_flask_appbuilder(self):
        # Airflow 3.3 without FAB: the method fails with ImportError, which ProvidersManager tolerates.
        with pytest.raises(ImportError):
            SchedulerHook.get_connection_form_widgets()

    @pytest.mark.skipif(
        not _has_flask_appbuilder(), reason="flask-appbuilder/wtforms only on Airflow 2.11 here"
    )
    def test_widgets_match_the_data_definition(self):
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from wtforms import BooleanField, IntegerField, PasswordField, StringField

        widgets = SchedulerHook.get_connection_form_widgets()
        assert list(widgets) == list(CONN_FIELDS)
        expected_classes = {
            "api_version": StringField,
            "token": PasswordField,
            "verify_ssl": BooleanField,
            "ca_bundle": StringField,
            "timeout": StringField,
            "max_retries": IntegerField,
        }
        for name, unbound in widgets.items():
            assert unbound.field_class is expected_classes[name], name
            assert str(unbound.args[0]) == CONN_FIELDS[name]["label"]
            assert unbound.kwargs["description"] == CONN_FIELDS[name]["description"]
            default = CONN_FIELDS[name]["schema"].get("default")
            expected = str(default) if name == "timeout" else default  # a number is a text field here
            assert unbound.kwargs.get("default") == expected, name
        assert isinstance(widgets["token"].kwargs["widget"], BS3PasswordFieldWidget)
        assert isinstance(widgets["ca_bundle"].kwargs["widget"], BS3TextFieldWidget)

    @pytest.mark.skipif(
        not _has_flask_appbuilder(), reason="flask-appbuilder/wtforms only on Airflow 2.11 here"
    )
    @pytest.mark.parametrize(
        ("data", "errors"),
        [
            ({"api_version": "v2", "timeout": "12.5", "max_retries": "3"}, {}),
            ({"api_version": "", "timeout": "", "max_retries": ""}, {}),
            (
                {"api_version": "v3", "timeout": "abc", "max_retries": "99"},
                {
                    "api_version": ["Invalid value, must be one of: auto, v2, v1."],
                    "timeout": ["Enter a number."],
                    "max_retries": ["Number must be between 0 and 10."],
                },
            ),
            ({"timeout": "0.5"}, {"timeout": ["Enter a number between 1 and 600."]}),
        ],
    )
    def test_widgets_validate_like_the_schema(self, data, errors):
        from flask import Flask
        from flask_babel import Babel
        from werkzeug.datastructures import MultiDict
        from wtforms import Form

        widgets = SchedulerHook.get_connection_form_widgets()
        form_class = type("SchedulerForm", (Form,), dict(widgets))
        app = Flask(__name__)
        Babel(app)
        with app.test_request_context():
            form = form_class(MultiDict(data))
            form.validate()
            assert {k: [str(m) for m in v] for k, v in form.errors.items()} == errors

    @pytest.mark.skipif(
        not _has_flask_appbuilder(), reason="Airflow 2.11's FAB UI builds the form from widgets"
    )
    def test_airflow_2_providers_manager_accepts_the_widgets(self):
        from airflow.providers_manager import ProvidersManager

        widgets = ProvidersManager().connection_form_widgets
        ours = {
            key: info for key, info in widgets.items() if info.package_name == "airflow-provider-scheduler"
        }
        assert set(ours) == {f"extra__scheduler__{name}" for name in CONN_FIELDS}
        assert {info.field_name for info in ours.values()} == set(CONN_FIELDS)
        assert ours["extra__scheduler__token"].is_sensitive
        behaviours = ProvidersManager().field_behaviours
        assert behaviours["scheduler"]["hidden_fields"] == ["schema"]

    @pytest.mark.skipif(_has_flask_appbuilder(), reason="Airflow 3.2+ renders conn-fields from provider info")
    def test_airflow_3_providers_manager_exposes_conn_fields(self):
        from airflow.providers_manager import ProvidersManager

        widgets = ProvidersManager().connection_form_widgets
        ours = {
            info.field_name: info for key, info in widgets.items() if key.startswith("extra__scheduler__")
        }
        assert set(ours) == set(CONN_FIELDS)
        for name, info in ours.items():
            assert info.field["schema"]["title"] == CONN_FIELDS[name]["label"]
            assert info.field["value"] == CONN_FIELDS[name]["schema"].get("default")
            assert info.is_sensitive == (name == "token")
        assert ProvidersManager().field_behaviours["scheduler"]["hidden_fields"] == ["schema"]
