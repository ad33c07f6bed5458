"""The connection form as the Airflow 3 UI gets it: Airflow's own HookMetaService, in process.

Airflow 3.0/3.1 build the form by calling the hook's classic widget methods with wtforms and
flask-appbuilder mocked; 3.2+ read ``conn-fields`` from the provider info. Either way the admin must
see every field of the one definition, with its label, type and default, and the relabelled host.
"""

from __future__ import annotations

import pytest

from airflow_provider_scheduler.rest.connection_fields import CONN_FIELDS, UI_FIELD_BEHAVIOUR

connections_ui = pytest.importorskip(
    "airflow.api_fastapi.core_api.services.ui.connections", reason="Airflow 2.x renders the FAB form"
)


@pytest.fixture(scope="module")
def scheduler_meta():
    metas = connections_ui.HookMetaService.hook_meta_data()
    [meta] = [m for m in metas if m.connection_type == "scheduler"]
    return meta


def _field(meta, name: str) -> dict:
    field = meta.extra_fields[name]
    return field if isinstance(field, dict) else field.dump()


class TestHookMetaService:
    def test_every_custom_field_is_offered(self, scheduler_meta):
        assert scheduler_meta.hook_name == "Scheduler"
        assert set(scheduler_meta.extra_fields) == set(CONN_FIELDS)

    def test_fields_carry_label_type_and_default(self, scheduler_meta):
        for name, definition in CONN_FIELDS.items():
            field = _field(scheduler_meta, name)
            schema = field["schema"]
            assert schema["title"] == definition["label"], name
            assert field["description"] == definition["description"], name
            if "enum" in definition["schema"]:
                assert schema["enum"] == definition["schema"]["enum"], name
            if definition["schema"].get("format") == "password":
                assert schema.get("format") == "password", name
            default = definition["schema"].get("default")
            if default is not None:
                assert field["value"] in (default, str(default)), name

    def test_standard_fields_are_relabelled_and_hidden(self, scheduler_meta):
        standard = scheduler_meta.standard_fields
        assert standard.host.title == UI_FIELD_BEHAVIOUR["relabeling"]["host"]
        assert standard.host.placeholder == UI_FIELD_BEHAVIOUR["placeholders"]["host"]
        # Shown: Airflow 3.3.2's Test button in the connection list works only for a saved port.
        assert standard.port.hidden is False
        assert standard.port.title == "Port"
        assert standard.port.placeholder == UI_FIELD_BEHAVIOUR["placeholders"]["port"]
        assert standard.url_schema.hidden is True
