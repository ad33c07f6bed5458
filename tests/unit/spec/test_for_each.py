"""``for_each`` (issue 16): fan-out over a literal list or an array param, ``{{ item }}`` in ``with``."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from airflow_provider_scheduler.spec import GovernancePolicy, ScheduleSpec, SpecError, parse_spec
from airflow_provider_scheduler.spec.jinja_check import ITEM_NAMES, check_template
from airflow_provider_scheduler.spec.json_schema import spec_json_schema
from airflow_provider_scheduler.spec.model import item_refusal

ITEM_ONLY = (
    "'item' is only defined in the 'with' of a task with for_each (each mapped task instance's item); "
    "allowed here: params.*, ds, ds_nodash, logical_date, data_interval_start, data_interval_end, "
    "run_id, dag_run.conf"
)

BASE: dict[str, Any] = {
    "version": 1,
    "namespace": "team-a",
    "name": "fanout",
    "schedule": None,
    "params": {
        "regions": {"type": "array", "default": ["eu"], "items": {"type": "string"}},
        "region": {"type": "string", "default": "eu"},
    },
    "tasks": [
        {
            "id": "refresh-region",
            "template": "http_request",
            "for_each": ["eu", "us", "apac"],
            "with": {"conn_id": "reports_api", "endpoint": "/refresh/{{ item }}", "method": "POST"},
        },
        {"id": "done", "template": "empty", "depends_on": ["refresh-region"]},
    ],
}


@pytest.fixture
def spec() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def problems(data: Any, registry, policy=None) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        parse_spec(data, registry=registry, policy=policy or GovernancePolicy())
    return [(p.path, p.message) for p in info.value.problems]


def round_trips(data: Any, registry, policy=None) -> ScheduleSpec:
    parsed = parse_spec(data, registry=registry, policy=policy or GovernancePolicy())
    canonical = json.loads(json.dumps(parsed.to_dict()))
    assert parse_spec(canonical, registry=registry) == parsed
    assert ScheduleSpec.from_canonical(canonical) == parsed
    return parsed


class TestAccepted:
    def test_literal_list(self, spec, registry):
        parsed = round_trips(spec, registry)
        task = parsed.task("refresh-region")
        assert task.for_each == ("eu", "us", "apac")
        assert task.for_each_param is None
        assert task.to_dict()["for_each"] == ["eu", "us", "apac"]
        assert task.with_dict()["endpoint"] == "/refresh/{{ item }}"  # as written: Airflow renders it

    @pytest.mark.parametrize("text", ["{{ params.regions }}", "{{params.regions}}", "{{  params.regions\t}}"])
    def test_param_reference_is_stored_in_one_form(self, spec, registry, text):
        spec["tasks"][0]["for_each"] = text
        task = round_trips(spec, registry).task("refresh-region")
        assert task.for_each == "{{ params.regions }}"
        assert task.for_each_param == "regions"

    @pytest.mark.parametrize(
        "endpoint",
        ["/refresh/{{item}}", "/refresh/{{ item }}", "/refresh/{{ item | upper }}", "/r/{{ item.code }}"],
    )
    def test_item_in_templated_strings(self, spec, registry, endpoint):
        spec["tasks"][0]["with"]["endpoint"] = endpoint
        spec["tasks"][0]["with"]["json"] = {"region": "{{ item }}", "day": "{{ ds }}"}
        round_trips(spec, registry)

    def test_numbers_booleans_and_flat_objects(self, spec, registry):
        spec["tasks"][0]["for_each"] = [1, 2.5, True, {"code": "eu", "size": 3, "hot": False}]
        task = round_trips(spec, registry).task("refresh-region")
        assert task.to_dict()["for_each"] == [1, 2.5, True, {"code": "eu", "size": 3, "hot": False}]

    def test_exactly_the_cap(self, spec, registry):
        spec["tasks"][0]["for_each"] = list(range(5))
        round_trips(spec, registry, GovernancePolicy(max_map_length=5))

    def test_every_builtin_task_template_can_fan_out(self, registry):
        assert {t.name for t in registry.templates() if t.mappable} == {
            "empty",
            "trigger_dag",
            "trigger_remote_dag",
            "wait_for_dag_run",
            "http_request",
            "bash",
            "python",
        }

    def test_a_spec_without_for_each_is_stored_as_before(self, spec, registry):
        del spec["tasks"][0]["for_each"]
        spec["tasks"][0]["with"]["endpoint"] = "/refresh/all"
        parsed = round_trips(spec, registry)
        assert "for_each" not in parsed.to_dict()["tasks"][0]
        assert parsed.task("refresh-region").for_each is None


class TestRefused:
    def test_item_outside_a_for_each_task(self, spec, registry):
        spec["tasks"][1] = {
            "id": "done",
            "template": "trigger_dag",
            "depends_on": ["refresh-region"],
            "with": {"dag_id": "report", "conf": {"region": "{{ item }}"}},
        }
        assert problems(spec, registry) == [("tasks[1].with.conf.region", ITEM_ONLY)]

    def test_item_in_a_task_without_for_each(self, spec, registry):
        del spec["tasks"][0]["for_each"]
        assert problems(spec, registry) == [("tasks[0].with.endpoint", ITEM_ONLY)]

    def test_item_in_a_notification(self, spec, registry):
        spec["notify"] = {
            "on_failure": [{"template": "email", "with": {"to": ["a@b.io"], "subject": "{{item}}"}}]
        }
        assert problems(spec, registry) == [("notify.on_failure[0].with.subject", ITEM_ONLY)]

    def test_a_list_over_the_cap(self, spec, registry):
        spec["tasks"][0]["for_each"] = [f"r{i}" for i in range(65)]
        assert problems(spec, registry) == [
            (
                "tasks[0].for_each",
                "lists 65 items; this deployment allows at most 64 ([schedule_specs] max_map_length)",
            )
        ]

    def test_the_admin_option_sets_the_cap(self, spec, registry):
        spec["tasks"][0]["for_each"] = [1, 2, 3]
        policy = GovernancePolicy.from_options({"max_map_length": "2"})
        assert policy.max_map_length == 2
        assert problems(spec, registry, policy) == [
            (
                "tasks[0].for_each",
                "lists 3 items; this deployment allows at most 2 ([schedule_specs] max_map_length)",
            )
        ]

    def test_an_empty_list(self, spec, registry):
        spec["tasks"][0]["for_each"] = []
        assert problems(spec, registry) == [
            ("tasks[0].for_each", "must list at least one item (a fan-out over nothing would run nothing)")
        ]

    def test_a_param_that_is_not_an_array(self, spec, registry):
        spec["tasks"][0]["for_each"] = "{{ params.region }}"
        assert problems(spec, registry) == [
            (
                "tasks[0].for_each",
                "the param 'region' must have type: array to fan out over it, not \"string\"",
            )
        ]

    def test_a_param_that_does_not_exist(self, spec, registry):
        spec["tasks"][0]["for_each"] = "{{ params.regoins }}"
        assert problems(spec, registry) == [
            (
                "tasks[0].for_each",
                "unknown param 'regoins' (did you mean 'regions'?); declared params: regions, region "
                "(declare it under params with type: array)",
            )
        ]

    def test_a_param_when_none_are_declared(self, spec, registry):
        del spec["params"]
        spec["tasks"][0]["for_each"] = "{{ params.regions }}"
        assert problems(spec, registry) == [
            (
                "tasks[0].for_each",
                "unknown param 'regions'; no params are declared (declare it under params with type: array)",
            )
        ]

    def test_a_param_default_over_the_cap(self, spec, registry):
        spec["params"]["regions"]["default"] = ["a", "b", "c"]
        spec["tasks"][0]["for_each"] = "{{ params.regions }}"
        assert problems(spec, registry, GovernancePolicy(max_map_length=2)) == [
            (
                "tasks[0].for_each",
                "the default of param 'regions' lists 3 items; this deployment allows at most 2 "
                "([schedule_specs] max_map_length)",
            )
        ]

    @pytest.mark.parametrize(
        "value",
        ["{{ params.regions }} and more", "{{ params.regions | first }}", "{{ dag_run.conf.regions }}", "eu"],
    )
    def test_other_strings(self, spec, registry, value):
        spec["tasks"][0]["for_each"] = value
        assert problems(spec, registry) == [
            (
                "tasks[0].for_each",
                "must be a list of items or exactly one param reference such as '{{ params.regions }}' "
                "(a param of type array)",
            )
        ]

    def test_not_a_list(self, spec, registry):
        spec["tasks"][0]["for_each"] = {"eu": 1}
        assert problems(spec, registry) == [
            (
                "tasks[0].for_each",
                "must be a list of items or one param reference such as '{{ params.regions }}', "
                "not an object",
            )
        ]

    def test_bad_items_each_with_its_path(self, spec, registry):
        spec["tasks"][0]["for_each"] = ["ok", None, [1], {"a": {"b": 1}}, "{{ ds }}", {"k": "{{ ds }}"}]
        found = problems(spec, registry)
        assert [path for path, _ in found] == [
            "tasks[0].for_each[1]",
            "tasks[0].for_each[2]",
            "tasks[0].for_each[3]",
            "tasks[0].for_each[4]",
            "tasks[0].for_each[5]",
        ]
        assert found[0][1] == "must be a string, a number, true/false or a flat object of those, not null"
        assert "no nesting" in found[2][1]
        assert found[3][1].startswith("holds a {{ }} template; items are passed to the task as they are")

    def test_a_template_that_cannot_fan_out(self, spec, registry):
        from airflow_provider_scheduler.templates import TaskTemplate

        registry.register(
            TaskTemplate("custom", description="x", with_schema={"type": "object"}, builder=lambda **k: None)
        )
        spec["tasks"][1]["template"] = "custom"
        spec["tasks"][1]["for_each"] = [1]
        ((path, message),) = problems(spec, registry)
        assert path == "tasks[1].for_each"
        assert message == (
            "the template 'custom' cannot fan out (for_each); templates that can: empty, http_request, "
            "trigger_dag, trigger_remote_dag, wait_for_dag_run"  # bash and python are not enabled here
        )

    def test_setup_and_teardown_do_not_fan_out(self, spec, registry):
        spec["tasks"][0]["role"] = "setup"
        assert problems(spec, registry) == [
            ("tasks[0].for_each", "a setup or teardown task cannot fan out: remove role or for_each")
        ]

    def test_a_task_may_not_take_the_list_step_id(self, spec, registry):
        spec["tasks"][0]["for_each"] = "{{ params.regions }}"
        spec["tasks"][1]["id"] = "refresh-region__items"
        assert problems(spec, registry) == [
            (
                "tasks[1].id",
                "'refresh-region__items' is the id of the step that reads the list of tasks[0].for_each "
                "when a run starts; rename this task",
            )
        ]

    def test_all_problems_at_once(self, spec, registry):
        spec["tasks"][0]["for_each"] = []
        spec["tasks"][1]["for_each"] = "{{ params.nope }}"
        spec["tasks"][1]["template"] = "trigger_dag"
        spec["tasks"][1]["with"] = {"dag_id": "x", "conf": {"a": "{{ item.code }}"}}
        assert [p for p, _ in problems(spec, registry)] == ["tasks[0].for_each", "tasks[1].for_each"]


class TestTrustedPath:
    def test_a_damaged_for_each_goes_through_the_full_parser(self, spec, registry):
        canonical = parse_spec(spec, registry=registry).to_dict()
        canonical["tasks"][0]["for_each"] = "{{ params.missing }}"
        with pytest.raises(SpecError) as info:
            ScheduleSpec.from_canonical(canonical, catalog=registry, policy=GovernancePolicy())
        assert info.value.problems[0].path == "tasks[0].for_each"

    def test_an_unnormalised_reference_goes_through_the_full_parser(self, spec, registry):
        spec["tasks"][0]["for_each"] = "{{ params.regions }}"
        canonical = parse_spec(spec, registry=registry).to_dict()
        canonical["tasks"][0]["for_each"] = "{{params.regions}}"
        parsed = ScheduleSpec.from_canonical(canonical, catalog=registry, policy=GovernancePolicy())
        assert parsed.task("refresh-region").for_each == "{{ params.regions }}"


class TestJinja:
    @pytest.mark.parametrize(
        "text", ["{{ item }}", "{{item}}", "{{ item | upper }}", "{{ item.code }}", "{{ item['code'] }}"]
    )
    def test_item_is_allowed_with_the_item_names(self, text):
        assert check_template(text, ITEM_NAMES) is None
        assert check_template(text) == ITEM_ONLY

    @pytest.mark.parametrize("text", ["{{ item._secret }}", "{{ item.__class__ }}", "{{ item.keys() }}"])
    def test_item_has_the_params_access_rules(self, text):
        assert check_template(text, ITEM_NAMES) is not None

    def test_item_is_never_a_date(self):
        assert "takes a date" in (check_template("{{ item | ds }}", ITEM_NAMES) or "")


class TestItems:
    @pytest.mark.parametrize("value", ["eu", 1, 2.5, False, {"a": 1, "b": "x"}, {}])
    def test_accepted(self, value):
        assert item_refusal(value) is None

    @pytest.mark.parametrize(
        "value", [None, [1], {"a": [1]}, {"a": None}, {1: "x"}, {f"k{i}": i for i in range(21)}]
    )
    def test_refused(self, value):
        assert item_refusal(value)


class TestJsonSchema:
    def test_published_schema_agrees(self, spec, registry, policy):
        schema = spec_json_schema(registry, policy)
        jsonschema.validate(spec, schema)
        spec["tasks"][0]["for_each"] = "{{ params.regions }}"
        jsonschema.validate(spec, schema)
        for bad in ([], [None], "{{ params.a }} x", list(range(65)), [{"a": {"b": 1}}]):
            spec["tasks"][0]["for_each"] = bad
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(spec, schema)
