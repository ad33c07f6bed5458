"""The published JSON Schema: valid draft 2020-12, and the example specs validate against it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from airflow_provider_scheduler.spec import parse_spec, spec_json_schema
from airflow_provider_scheduler.spec.files import find_spec_files
from airflow_provider_scheduler.spec.loader import read_documents

EXAMPLES = Path(__file__).resolve().parents[3] / "example_dags" / "specs"


@pytest.fixture
def schema(registry, policy):
    schema = spec_json_schema(registry, policy)
    Draft202012Validator.check_schema(schema)
    return schema


class TestSchema:
    def test_is_valid_draft_2020_12(self, schema):
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    def test_lists_templates_and_their_with_schemas(self, schema, registry):
        names = registry.allowed_names()
        refs = [f"{n}@1" for n in names]  # every built-in is at version 1
        assert schema["$defs"]["task"]["properties"]["template"]["enum"] == [*names, *refs]
        assert "bash" not in registry.allowed_names()  # disabled by default: not offered to portals
        assert schema["$defs"]["with.trigger_dag"]["required"] == ["dag_id"]
        assert schema["$defs"]["notify.with.email"]["required"] == ["to"]

    def test_valid_spec_and_canonical_form_validate(self, schema, valid, registry, policy):
        validator = Draft202012Validator(schema)
        assert list(validator.iter_errors(valid)) == []
        canonical = parse_spec(valid, registry=registry, policy=policy).to_dict()
        assert list(validator.iter_errors(canonical)) == []

    def test_with_is_checked_per_template(self, schema, valid):
        bad = copy.deepcopy(valid)
        bad["tasks"][0]["with"] = {"dag": "x"}
        errors = list(Draft202012Validator(schema).iter_errors(bad))
        assert errors
        assert any(list(e.absolute_path)[:3] == ["tasks", 0, "with"] for e in errors)

    def test_unknown_top_level_key(self, schema, valid):
        valid["schedul"] = "@daily"
        assert not Draft202012Validator(schema).is_valid(valid)


@pytest.fixture
def example_registry():
    """The deployment the example specs assume: python enabled for the callables in qa_checks.py."""
    from airflow_provider_scheduler.templates import TemplateRegistry
    from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

    settings = TemplateSettings(
        enabled_templates=("python",),
        python_callables=(
            "qa_checks.create_environment",
            "qa_checks.run_check",
            "qa_checks.destroy_environment",
        ),
    )
    return TemplateRegistry(builtin_templates(settings), enabled=settings.enabled_templates)


def test_example_specs_validate_against_the_schema(example_registry, policy):
    schema = spec_json_schema(example_registry, policy)
    files = find_spec_files([EXAMPLES])
    assert files, "no example specs found"
    validator = Draft202012Validator(schema)
    for path in files:
        for document in read_documents(path):
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
            assert errors == [], f"{path.name}: {errors}"
            # and the authority agrees
            parse_spec(document, registry=example_registry, policy=policy)


class TestOneSourceOfTruth:
    """The published schema is built from the parser's own constants, so the two cannot drift."""

    def test_limits_come_from_the_parser(self, schema):
        from airflow_provider_scheduler.spec import parser
        from airflow_provider_scheduler.spec.schedule import MAX_ASSETS, MAX_CRONS

        props = schema["properties"]
        assert props["tags"]["maxItems"] == parser.MAX_TAGS
        assert props["tags"]["items"]["maxLength"] == parser.MAX_TAG_LENGTH
        assert props["description"]["maxLength"] == parser.MAX_DESCRIPTION
        assert props["owner"]["maxLength"] == parser.MAX_OWNER
        notify = schema["$defs"]["notify"]["properties"]
        assert list(notify) == list(parser.NOTIFY_KEYS)
        assert {e["maxItems"] for e in notify.values()} == {parser.MAX_NOTIFIERS}
        task = schema["$defs"]["task"]["properties"]
        assert task["trigger_rule"]["enum"] == list(parser.TRIGGER_RULES)
        assert task["role"]["enum"] == list(parser.ROLES)
        assert list(schema["$defs"]["param"]["properties"]) == list(parser.PARAM_KEYS)
        forms = {f.get("title"): f for f in schema["$defs"]["schedule"]["anyOf"]}
        assert forms["Several cron times"]["properties"]["crons"]["maxItems"] == MAX_CRONS
        assert forms["When assets are updated"]["properties"]["assets"]["anyOf"][0]["maxItems"] == MAX_ASSETS

    def test_limits_follow_a_patched_constant(self, monkeypatch, registry, policy):
        from airflow_provider_scheduler.spec import json_schema

        monkeypatch.setattr(json_schema, "MAX_TAGS", 3)
        assert spec_json_schema(registry, policy)["properties"]["tags"]["maxItems"] == 3

    @pytest.mark.parametrize(
        ("value", "ok"),
        [("a", True), ("team-a_1", True), ("-a", False), ("a-", False), ("A", False), ("a" * 64, True)],
    )
    def test_slug_pattern_matches_the_parser(self, schema, value, ok):
        import re

        from airflow_provider_scheduler.spec.parser import SLUG

        assert bool(re.search(schema["properties"]["name"]["pattern"], value)) is ok
        assert bool(SLUG.fullmatch(value)) is ok

    def test_builtin_templates_use_the_spec_patterns(self, registry):
        from airflow_provider_scheduler.spec.durations import DURATION_PATTERN
        from airflow_provider_scheduler.spec.parser import TASK_ID, json_pattern

        wait = registry.get("wait_for_dag_run").with_schema["properties"]
        assert wait["timeout"]["pattern"] == DURATION_PATTERN
        refs = [
            p["pattern"]
            for t in registry.templates()
            for p in t.with_schema.get("properties", {}).values()
            if isinstance(p, dict) and p.get("pattern") == json_pattern(TASK_ID)
        ]
        assert refs


def test_exported_files_validate_against_the_published_schema():
    """`show`/`export` add x-base-revision; an editor checking the file against the schema accepts it."""
    import jsonschema

    from airflow_provider_scheduler.spec.json_schema import spec_json_schema
    from airflow_provider_scheduler.spec.loader import _MAX_REVISION, BASE_REVISION_KEY

    schema = spec_json_schema()
    assert schema["properties"][BASE_REVISION_KEY]["maximum"] == _MAX_REVISION
    exported = {
        BASE_REVISION_KEY: 3,
        "version": 1,
        "namespace": "team",
        "name": "nightly",
        "tasks": [{"id": "a", "template": "empty"}],
    }
    jsonschema.validate(exported, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**exported, BASE_REVISION_KEY: -1}, schema)


LANGUAGE_1_1_SCHEDULES = [
    {
        "cron": "0 6 * * 1-5",
        "timezone": "Europe/Berlin",
        "skip_holidays": "DE-BY",
        "skip_dates": ["2026-12-24"],
    },
    {"crons": ["0 6 * * *", "0 18 * * *"], "timezone": "UTC", "skip_holidays": ["US", "CA-ON"]},
    {"at": ["2026-03-01T09:00:00+01:00", "2026-06-01T09:00:00+02:00"]},
    {
        "any_of": [
            {"cron": "0 9 * * 1-5", "timezone": "Europe/London"},
            {"cron": "0 9 * * 1-5", "timezone": "America/New_York"},
            {"assets": ["s3://warehouse/orders"]},
        ]
    },
    {"assets": {"all": ["s3://a/x", {"any": ["s3://b/x", "s3://c/x"]}]}},
]


class TestLanguage11Schedules:
    @pytest.mark.parametrize("schedule_value", LANGUAGE_1_1_SCHEDULES)
    def test_the_schema_and_the_parser_agree(self, schema, valid, registry, policy, schedule_value):
        valid["schedule"] = schedule_value
        validator = Draft202012Validator(schema)
        assert list(validator.iter_errors(valid)) == []
        canonical = parse_spec(valid, registry=registry, policy=policy).to_dict()
        assert list(validator.iter_errors(canonical)) == []

    @pytest.mark.parametrize(
        "schedule_value",
        [
            {"cron": "0 6 * * *", "timezone": "UTC", "skip_holidays": "de-by"},
            {"at": ["2026-03-01T09:00:00"]},
            {"every": "PT4H", "skip_dates": ["2026-12-24"]},
            {"any_of": [{"any_of": ["@daily"]}]},
            {"assets": {"all": ["s3://a/x"], "any": ["s3://b/x"]}},
        ],
    )
    def test_the_schema_refuses_what_the_parser_refuses(
        self, schema, valid, registry, policy, schedule_value
    ):
        from airflow_provider_scheduler.spec import SpecError

        valid["schedule"] = schedule_value
        assert not Draft202012Validator(schema).is_valid(valid)
        with pytest.raises(SpecError):
            parse_spec(valid, registry=registry, policy=policy)
