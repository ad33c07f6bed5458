"""parse_spec: every rule, with the exact path and message a user sees."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_scheduler.spec import (
    CronSchedule,
    GovernancePolicy,
    ManualSchedule,
    ScheduleSpec,
    SpecError,
    parse_spec,
)
from airflow_provider_scheduler.spec.model import thaw

ALLOWED_NAMES = (
    "params.*, ds, ds_nodash, logical_date, data_interval_start, data_interval_end, run_id, dag_run.conf"
)


def problems(data: Any, registry, policy=None) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        parse_spec(data, registry=registry, policy=policy or GovernancePolicy())
    return [(p.path, p.message) for p in info.value.problems]


def one_problem(data: Any, registry, policy=None) -> tuple[str, str]:
    found = problems(data, registry, policy)
    assert len(found) == 1, found
    return found[0]


class TestValidSpec:
    def test_fields(self, valid, registry, policy):
        spec = parse_spec(valid, registry=registry, policy=policy)
        assert spec.dag_id == "analytics.daily-orders"
        assert spec.version == 1
        assert spec.schedule == CronSchedule("0 6 * * 1-5", "Europe/Berlin")
        assert spec.start_date == date(2026, 1, 1)
        assert spec.start_datetime() == datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1)))
        assert spec.dagrun_timeout == timedelta(hours=2)
        assert spec.defaults.retries == 2
        assert spec.defaults.execution_timeout == timedelta(hours=1)
        assert [t.id for t in spec.tasks] == ["refresh", "report", "load", "done"]
        assert spec.task("report").depends_on == ("refresh",)
        assert spec.task("done").trigger_rule == "all_done"
        assert spec.task("refresh").with_dict() == {
            "dag_id": "orders_refresh",
            "conf": {"region": "{{ params.region }}"},
        }
        assert spec.notify.on_failure[0].template == "email"
        assert spec.catchup is False
        assert spec.max_active_runs == 1
        assert spec.paused is False

    def test_round_trip_is_exact_and_json_serialisable(self, valid, registry, policy):
        spec = parse_spec(valid, registry=registry, policy=policy)
        canonical = spec.to_dict()
        text = json.dumps(canonical)
        again = parse_spec(json.loads(text), registry=registry, policy=policy)
        assert again == spec
        assert again.to_dict() == canonical
        assert list(canonical) == [
            "version",
            "namespace",
            "name",
            "description",
            "owner",
            "tags",
            "paused",
            "schedule",
            "start_date",
            "end_date",
            "catchup",
            "max_active_runs",
            "dagrun_timeout",
            "params",
            "defaults",
            "notify",
            "tasks",
        ]

    def test_from_canonical_equals_parse(self, valid, registry, policy):
        spec = parse_spec(valid, registry=registry, policy=policy)
        assert ScheduleSpec.from_canonical(spec.to_dict(), registry=registry) == spec

    def test_from_canonical_reports_problems_like_parse(self, valid, registry, policy):
        canonical = parse_spec(valid, registry=registry, policy=policy).to_dict()
        canonical["tasks"][0]["depends_on"] = ["done"]
        with pytest.raises(SpecError) as info:  # not canonical any more: the full parser reports it
            ScheduleSpec.from_canonical(canonical, catalog=registry, policy=policy)
        assert [(p.path, p.message) for p in info.value.problems] == [
            (
                "tasks[0].depends_on",
                "dependency cycle: refresh -> done -> load -> report -> refresh "
                "(each task depends on the next)",
            )
        ]

    def test_from_canonical_accepts_non_canonical_documents(self, valid, registry, policy):
        # not in canonical shape (keys missing): goes through the full parser with the given catalog
        assert ScheduleSpec.from_canonical(valid, catalog=registry, policy=policy) == parse_spec(
            valid, registry=registry, policy=policy
        )

    def test_from_canonical_skips_deep_checks(self, valid, registry, policy):
        canonical = parse_spec(valid, registry=registry, policy=policy).to_dict()
        canonical["tasks"][0]["template"] = "no_longer_registered"
        spec = ScheduleSpec.from_canonical(canonical)  # the factory re-checks templates when building
        assert spec.tasks[0].template == "no_longer_registered"

    def test_minimal_manual_spec(self, registry, policy):
        spec = parse_spec(
            {"version": 1, "namespace": "qa", "name": "smoke", "tasks": [{"id": "a", "template": "empty"}]},
            registry=registry,
            policy=policy,
        )
        assert spec.schedule == ManualSchedule()
        assert spec.to_dict()["schedule"] is None
        assert spec.start_datetime() is None

    def test_immutable(self, valid, registry, policy):
        spec = parse_spec(valid, registry=registry, policy=policy)
        with pytest.raises(AttributeError):
            spec.name = "other"  # type: ignore[misc]
        with pytest.raises(TypeError):
            spec.task("refresh").with_["dag_id"] = "x"  # type: ignore[index]
        with pytest.raises(TypeError):
            spec.params["region"]["default"] = "us"  # type: ignore[index]

    def test_hashable(self, valid, registry, policy):
        spec = parse_spec(valid, registry=registry, policy=policy)
        assert len({spec, parse_spec(valid, registry=registry, policy=policy)}) == 1

    def test_input_is_not_kept_by_reference(self, valid, registry, policy):
        spec = parse_spec(valid, registry=registry, policy=policy)
        valid["tasks"][0]["with"]["conf"]["region"] = "changed"
        assert spec.task("refresh").with_["conf"]["region"] == "{{ params.region }}"

    def test_spec_error_pickles(self, registry):
        with pytest.raises(SpecError) as info:
            parse_spec({"version": 2}, registry=registry, policy=GovernancePolicy())
        clone = pickle.loads(pickle.dumps(info.value))
        assert clone.problems == info.value.problems
        assert str(clone) == str(info.value)


class TestStructure:
    def test_not_an_object(self, registry):
        assert one_problem(["x"], registry) == ("", "a spec must be an object (key: value pairs), not a list")

    def test_all_problems_in_one_pass(self, valid, registry):
        valid["version"] = 2
        valid["namespace"] = "Analytics"
        valid["schedul"] = "@daily"
        valid["tasks"][1]["depends_on"] = ["refrsh"]
        found = problems(valid, registry)
        assert found == [
            ("schedul", "unknown key 'schedul' (did you mean 'schedule'?)"),
            ("version", "unsupported spec version 2; this provider reads version 1"),
            (
                "namespace",
                "'Analytics' is not a valid namespace: use lowercase letters, digits, '-' and '_', "
                "starting and ending with a letter or digit",
            ),
            ("tasks[1].depends_on[0]", "unknown task 'refrsh' (did you mean 'refresh'?)"),
        ]

    def test_str_of_error_is_one_line_per_problem(self, valid, registry):
        valid.pop("version")
        valid["tasks"][0]["id"] = "Bad Id"
        with pytest.raises(SpecError) as info:
            parse_spec(valid, registry=registry, policy=GovernancePolicy())
        assert str(info.value).splitlines()[0] == "version: is required (use 1)"
        assert info.value.spec_id == "analytics.daily-orders"

    def test_unknown_key_without_close_match(self, valid, registry):
        valid["zzz"] = 1
        path, message = one_problem(valid, registry)
        assert path == "zzz"
        assert message.startswith("unknown key 'zzz'; allowed keys: version, namespace, name,")

    def test_required_fields(self, registry):
        assert problems({"version": 1}, registry) == [
            ("namespace", "is required"),
            ("name", "is required"),
            ("tasks", "is required: list at least one task"),
        ]

    def test_spec_id_unknown_when_name_invalid(self, valid, registry):
        valid["name"] = "x" * 65
        with pytest.raises(SpecError) as info:
            parse_spec(valid, registry=registry, policy=GovernancePolicy())
        assert info.value.spec_id is None
        assert info.value.problems[0].message == "is too long (65 characters; at most 64)"

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("paused", "yes", "must be true or false, not a string"),
            ("catchup", 1, "must be true or false, not a number"),
            ("max_active_runs", 0, "must be between 1 and 16, not 0"),
            ("max_active_runs", True, "must be a whole number, not a boolean"),
            ("description", 5, "must be a string, not a number"),
            ("owner", "x" * 201, "is too long (201 characters; at most 200)"),
            ("tags", "finance", "must be a list of strings, not a string"),
            ("dagrun_timeout", "2h", "'2h' is not an ISO-8601 duration such as PT30M, PT4H, P1D or P1DT12H"),
            ("start_date", "2026-13-01", "'2026-13-01' is not a valid date"),
            (
                "start_date",
                "2026-01-01T06:00:00",
                "2026-01-01T06:00:00 has no timezone; add one (2026-01-01T06:00:00Z) or give a date only",
            ),
            ("defaults", [], "must be an object (key: value pairs), not a list"),
        ],
    )
    def test_field_types(self, valid, registry, field, value, message):
        valid[field] = value
        assert one_problem(valid, registry) == (field, message)

    def test_description_is_never_a_file_name(self, valid, registry):
        valid["description"] = "/etc/airflow/secrets.md"
        assert one_problem(valid, registry) == (
            "description",
            "must not end with '.md' (Airflow would read it as a file name)",
        )

    def test_description_file_name_also_refused_on_the_trusted_path(self, valid, registry, policy):
        canonical = parse_spec(valid, registry=registry, policy=policy).to_dict()
        canonical["description"] = "notes.md"
        with pytest.raises(SpecError, match=r"^description: must not end with '\.md'"):
            ScheduleSpec.from_canonical(canonical)

    def test_duplicate_tag(self, valid, registry):
        valid["tags"] = ["a", "a"]
        assert one_problem(valid, registry) == ("tags[1]", "'a' is listed twice")

    def test_end_before_start(self, valid, registry):
        valid["end_date"] = "2025-12-31"
        assert one_problem(valid, registry) == ("end_date", "must not be before start_date")

    def test_datetime_start_date_round_trips(self, valid, registry, policy):
        valid["start_date"] = "2026-01-01T06:00:00+02:00"
        spec = parse_spec(valid, registry=registry, policy=policy)
        assert spec.start_datetime() == datetime(2026, 1, 1, 4, tzinfo=UTC)
        assert parse_spec(spec.to_dict(), registry=registry, policy=policy) == spec

    def test_yaml_date_objects_accepted(self, valid, registry, policy):
        valid["start_date"] = date(2026, 1, 1)
        spec = parse_spec(valid, registry=registry, policy=policy)
        assert spec.to_dict()["start_date"] == "2026-01-01"

    @pytest.mark.parametrize(
        "schedule", ["@daily", "@once", {"assets": ["s3://bucket/key"]}, {"every": "PT1H"}]
    )
    def test_scheduled_spec_needs_start_date(self, valid, registry, schedule):
        valid.pop("start_date")
        valid["schedule"] = schedule
        assert one_problem(valid, registry) == (
            "start_date",
            "is required for a scheduled spec (e.g. 2026-01-01)",
        )

    def test_defaults_unknown_key(self, valid, registry):
        valid["defaults"]["retry"] = 1
        assert one_problem(valid, registry) == (
            "defaults.retry",
            "unknown key 'retry' (did you mean 'retries'?)",
        )

    def test_retries_over_policy(self, valid, registry):
        valid["defaults"]["retries"] = 11
        assert one_problem(valid, registry) == ("defaults.retries", "must be between 0 and 10, not 11")


class TestTasks:
    def test_empty_task_list(self, valid, registry):
        valid["tasks"] = []
        assert one_problem(valid, registry) == ("tasks", "must list at least one task")

    def test_task_id_slug(self, valid, registry):
        valid["tasks"][2]["id"] = "Load Data"
        valid["tasks"][3]["depends_on"] = []
        assert one_problem(valid, registry) == (
            "tasks[2].id",
            "'Load Data' is not a valid task id: use lowercase letters, digits, '-' and '_', "
            "starting and ending with a letter or digit",
        )

    def test_duplicate_task_id(self, valid, registry):
        valid["tasks"][3]["id"] = "load"
        assert problems(valid, registry) == [
            ("tasks[3].id", "duplicate task id 'load' (also used by tasks[2])"),
            ("tasks[3].depends_on[0]", "a task cannot depend on itself"),
        ]

    def test_unknown_dependency_did_you_mean(self, valid, registry):
        valid["tasks"][3]["depends_on"] = ["lod"]
        assert one_problem(valid, registry) == (
            "tasks[3].depends_on[0]",
            "unknown task 'lod' (did you mean 'load'?)",
        )

    def test_dependency_of_a_broken_task_is_still_known(self, valid, registry):
        valid["tasks"][2]["template"] = "nope"
        found = problems(valid, registry)
        assert [p for p, _ in found] == ["tasks[2].template"]

    def test_self_dependency(self, valid, registry):
        valid["tasks"][0]["depends_on"] = ["refresh"]
        assert one_problem(valid, registry) == ("tasks[0].depends_on[0]", "a task cannot depend on itself")

    def test_cycle_reported_with_its_path(self, valid, registry):
        valid["tasks"][0]["depends_on"] = ["load"]
        assert one_problem(valid, registry) == (
            "tasks[0].depends_on",
            "dependency cycle: refresh -> load -> report -> refresh (each task depends on the next)",
        )

    def test_two_task_cycle(self, registry):
        spec = {
            "version": 1,
            "namespace": "qa",
            "name": "c",
            "tasks": [
                {"id": "a", "template": "empty", "depends_on": ["b"]},
                {"id": "b", "template": "empty", "depends_on": ["a"]},
            ],
        }
        assert one_problem(spec, registry) == (
            "tasks[0].depends_on",
            "dependency cycle: a -> b -> a (each task depends on the next)",
        )

    def test_depends_on_duplicates(self, valid, registry):
        valid["tasks"][1]["depends_on"] = ["refresh", "refresh"]
        assert one_problem(valid, registry) == ("tasks[1].depends_on[1]", "'refresh' is listed twice")

    def test_unknown_template(self, valid, registry):
        valid["tasks"][0]["template"] = "trigger_dagg"
        # approval and spark_submit are listed where their Airflow version / provider is installed
        optional = [n for n in ("approval", "spark_submit") if registry.get(n) is not None]
        available = sorted(["empty", "http_request", "trigger_dag", "trigger_remote_dag", "wait_for_dag_run"])
        assert one_problem(valid, registry) == (
            "tasks[0].template",
            "unknown task template 'trigger_dagg' (did you mean 'trigger_dag'?); "
            f"available: {', '.join(sorted(available + optional))}",
        )

    def test_disabled_template(self, valid, registry):
        valid["tasks"][2] = {
            "id": "load",
            "template": "bash",
            "with": {"command": "echo hi"},
            "depends_on": ["report"],
        }
        assert one_problem(valid, registry) == (
            "tasks[2].template",
            "the task template 'bash' is disabled on this deployment "
            "(an admin can enable it with [schedule_specs] enabled_templates)",
        )

    def test_enabled_bash(self, valid, registry, policy):
        registry.enable("bash")
        valid["tasks"][2] = {
            "id": "load",
            "template": "bash",
            "with": {"command": "echo {{ ds }}"},
            "depends_on": ["report"],
        }
        assert parse_spec(valid, registry=registry, policy=policy).task("load").template == "bash"

    def test_template_not_allowed_in_namespace_by_policy(self, valid, registry):
        policy = GovernancePolicy(allowed_templates={"analytics": ["empty", "trigger_dag", "email"]})
        assert problems(valid, registry, policy) == [
            ("tasks[1].template", "the template 'http_request' is not allowed in namespace 'analytics'")
        ]

    def test_template_not_allowed_in_namespace_by_registry(self, valid):
        from airflow_provider_scheduler.templates import TemplateRegistry
        from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

        registry = TemplateRegistry(
            builtin_templates(TemplateSettings(http_connections=("reports_api",))),
            namespace_allow={"*": ["empty", "email"], "analytics": ["empty", "email", "http_request"]},
        )
        assert problems(valid, registry) == [
            ("tasks[0].template", "the task template 'trigger_dag' is not allowed in namespace 'analytics'")
        ]

    def test_with_unknown_key_and_missing_required(self, valid, registry):
        valid["tasks"][0]["with"] = {"dag": "x"}
        assert problems(valid, registry) == [
            ("tasks[0].with.dag", "unknown key 'dag' (did you mean 'dag_id'?)"),
            ("tasks[0].with.dag_id", "is required"),
        ]

    def test_with_nested_type_error(self, valid, registry):
        valid["tasks"][0]["with"]["poke_interval"] = "fast"
        assert one_problem(valid, registry) == (
            "tasks[0].with.poke_interval",
            "must be a whole number, not a string",
        )

    def test_with_enum_error(self, valid, registry):
        valid["tasks"][1]["with"]["method"] = "FETCH"
        assert one_problem(valid, registry) == (
            "tasks[1].with.method",
            'must be one of: "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"',
        )

    def test_with_list_item_error(self, valid, registry):
        valid["tasks"][0]["with"]["allowed_states"] = ["success", "done"]
        assert one_problem(valid, registry) == (
            "tasks[0].with.allowed_states[1]",
            'must be one of: "queued", "running", "success", "failed"',
        )

    def test_with_must_be_object(self, valid, registry):
        valid["tasks"][0]["with"] = "orders_refresh"
        assert one_problem(valid, registry) == (
            "tasks[0].with",
            "must be an object (key: value pairs), not a string",
        )

    def test_empty_takes_no_arguments(self, valid, registry):
        valid["tasks"][2]["with"] = {"x": 1}
        assert one_problem(valid, registry) == (
            "tasks[2].with.x",
            "unknown key 'x'; this template takes no arguments",
        )

    def test_http_connection_must_be_approved(self, valid, registry):
        valid["tasks"][1]["with"]["conn_id"] = "prod_db"
        assert one_problem(valid, registry) == ("tasks[1].with.conn_id", 'must be one of: "reports_api"')

    def test_http_endpoint_must_be_relative(self, valid, registry):
        valid["tasks"][1]["with"]["endpoint"] = "http://evil.example.com/x"
        path, message = one_problem(valid, registry)
        assert path == "tasks[1].with.endpoint"
        assert message.startswith(
            "'http://evil.example.com/x' does not have the expected form (Path relative"
        )

    def test_unknown_trigger_rule(self, valid, registry):
        valid["tasks"][3]["trigger_rule"] = "all_sucess"
        path, message = one_problem(valid, registry)
        assert path == "tasks[3].trigger_rule"
        assert message.startswith(
            "unknown trigger rule 'all_sucess' (did you mean 'all_success'?); use one of:"
        )

    def test_role(self, valid, registry, policy):
        valid["tasks"][0]["role"] = "setup"
        valid["tasks"][3]["role"] = "teardown"
        valid["tasks"][3].pop("trigger_rule")
        spec = parse_spec(valid, registry=registry, policy=policy)
        assert (spec.tasks[0].role, spec.tasks[3].role) == ("setup", "teardown")
        assert parse_spec(spec.to_dict(), registry=registry, policy=policy) == spec

    def test_bad_role(self, valid, registry):
        valid["tasks"][0]["role"] = "cleanup"
        assert one_problem(valid, registry) == (
            "tasks[0].role",
            "must be 'setup' or 'teardown', not 'cleanup'",
        )

    def test_teardown_with_trigger_rule(self, valid, registry):
        valid["tasks"][3]["role"] = "teardown"
        assert one_problem(valid, registry) == (
            "tasks[3].trigger_rule",
            "a teardown task always runs once its setup tasks are done (trigger rule "
            "all_done_setup_success); remove trigger_rule",
        )

    def test_task_overrides(self, valid, registry, policy):
        valid["tasks"][1].update(retries=0, execution_timeout="PT10M")
        task = parse_spec(valid, registry=registry, policy=policy).task("report")
        assert task.operator_kwargs() == {"retries": 0, "execution_timeout": timedelta(minutes=10)}

    def test_unknown_task_key(self, valid, registry):
        valid["tasks"][0]["dependson"] = []
        assert one_problem(valid, registry) == (
            "tasks[0].dependson",
            "unknown key 'dependson' (did you mean 'depends_on'?)",
        )


class TestJinja:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "{{ conn.x.password }}",
                "'conn' is not available in spec templates (it could expose secrets or internals); "
                f"allowed: {ALLOWED_NAMES}",
            ),
            (
                "{{ var.value.x }}",
                "'var' is not available in spec templates (it could expose secrets or internals); "
                f"allowed: {ALLOWED_NAMES}",
            ),
            (
                "{{ macros.ds_add(ds, 1) }}",
                "calling functions or methods is not allowed in templates "
                "(only logical_date.strftime(...) / .isoformat() and the data_interval_* dates)",
            ),
            (
                "{{ params.__class__ }}",
                "attributes starting with '_' ('__class__') are not allowed in templates",
            ),
            (
                "{{ params.x.__class__.__mro__ }}",
                "attributes starting with '_' ('__mro__') are not allowed in templates",
            ),
            (
                "{{ params['__class__'] }}",
                "attributes starting with '_' ('__class__') are not allowed in templates",
            ),
            ("{{ params|attr('__class__') }}", None),
            (
                "{% set x = 1 %}{{ x }}",
                "{% set %} is not allowed in templates; only {{ ... }} expressions and {% if %}",
            ),
            (
                "{% import 'os' as os %}",
                "{% import %} is not allowed in templates; only {{ ... }} expressions and {% if %}",
            ),
            ("{{ dag_run.get_task_instances() }}", None),
            ("{{ dag_run.id }}", "only 'dag_run.conf' may be used from dag_run, not 'dag_run.id'"),
            ("{{ ti.xcom_pull('a') }}", None),
            ("{{ ds.upper }}", "'ds' is a plain string; attribute or item access on it is not allowed"),
            ("{{ 'x' * 100000000 }}", "the operator '*' is not allowed in templates"),
            (
                "{{ params.region",
                "template syntax error: unexpected end of template, "
                "expected 'end of print statement'. (line 1)",
            ),
        ],
    )
    def test_refused(self, valid, registry, text, message):
        valid["tasks"][0]["with"]["conf"] = {"value": text}
        path, found = one_problem(valid, registry)
        assert path == "tasks[0].with.conf.value"
        if message is not None:
            assert found == message

    @pytest.mark.parametrize(
        "text",
        [
            "{{ params.region }}",
            "{{ params['region'] | upper }}",
            "{{ ds }} {{ ds_nodash }} {{ run_id }}",
            "{{ logical_date.strftime('%Y-%m') }}",
            "{{ data_interval_start.isoformat() }} {{ data_interval_end }}",
            "{{ dag_run.conf.get }}",
            "{{ dag_run.conf['customer'] | default('all') }}",
            "{% if params.region == 'eu' %}EU{% else %}US{% endif %}",
            "{{ params.items | tojson }}",
            "plain text with { braces }",
        ],
    )
    def test_allowed(self, valid, registry, policy, text):
        valid["tasks"][0]["with"]["conf"] = {"value": text}
        parse_spec(valid, registry=registry, policy=policy)

    def test_jinja_in_list_item_path(self, valid, registry):
        valid["notify"]["on_failure"][0]["with"]["subject"] = "{{ var.value.secret }}"
        path, _ = one_problem(valid, registry)
        assert path == "notify.on_failure[0].with.subject"


class TestParams:
    def test_kept_as_json_schema(self, valid, registry, policy):
        # tests/unit/factory/test_params.py: the factory turns them into Airflow Param objects
        params = parse_spec(valid, registry=registry, policy=policy).params
        assert thaw(params["region"]) == {"type": "string", "enum": ["eu", "us"], "default": "eu"}

    def test_default_must_match_schema(self, valid, registry):
        valid["params"]["region"]["default"] = "asia"
        assert one_problem(valid, registry) == (
            "params.region.default",
            "the default does not match the param's own schema: 'asia' is not one of ['eu', 'us']",
        )

    def test_invalid_schema(self, valid, registry):
        valid["params"]["limit"] = {"type": "integer", "minimum": "ten", "default": 5}
        assert one_problem(valid, registry) == (
            "params.limit.minimum",
            "invalid param schema: 'ten' is not of type 'number'",
        )

    def test_unknown_type(self, valid, registry):
        valid["params"]["limit"] = {"type": "int", "default": 5}
        assert one_problem(valid, registry) == (
            "params.limit.type",
            "unknown type 'int' (did you mean 'integer'?); "
            "use one of: string, integer, number, boolean, array, object, null",
        )

    def test_unknown_param_key(self, valid, registry):
        valid["params"]["limit"] = {"type": "integer", "default": 5, "minimun": 1}
        assert one_problem(valid, registry) == (
            "params.limit.minimun",
            "unknown key 'minimun' (did you mean 'minimum'?)",
        )

    @pytest.mark.parametrize("pattern", ["(a+)+$", "^(\\w+\\s?)*$", "(x{1,3}){2,}", "([a-z]*)*"])
    def test_redos_patterns_refused(self, valid, registry, pattern):
        valid["params"]["code"] = {"type": "string", "pattern": pattern, "default": "a"}
        assert one_problem(valid, registry) == (
            "params.code.pattern",
            "is too complex: a repeated group that itself repeats (like (a+)+) can make "
            "checking a value take forever",
        )

    @pytest.mark.parametrize("pattern", ["^[a-z]+$", "^(eu|us)-[0-9]{2}$", "^(ab)+$", "^\\(x+\\)+$"])
    def test_ordinary_patterns_accepted(self, valid, registry, policy, pattern):
        valid["params"]["code"] = {"type": "string", "pattern": pattern}
        valid["schedule"] = None
        parse_spec(valid, registry=registry, policy=policy)

    def test_bad_name(self, valid, registry):
        valid["params"]["my-param"] = {"type": "string", "default": "x"}
        path, _ = one_problem(valid, registry)
        assert path == "params.my-param"

    def test_scheduled_param_needs_default(self, valid, registry):
        valid["params"]["day"] = {"type": "string"}
        assert one_problem(valid, registry) == (
            "params.day",
            "has no default, but scheduled runs need one: add a default, "
            "or use schedule: null (manual runs only)",
        )

    def test_manual_param_without_default(self, valid, registry, policy):
        valid["schedule"] = None
        valid["params"]["day"] = {"type": "string"}
        spec = parse_spec(valid, registry=registry, policy=policy)
        assert "default" not in spec.params["day"]  # factory/test_params.py: no value until triggered

    def test_too_many_params(self, valid, registry):
        valid["params"] = {f"p{i}": {"type": "integer", "default": i} for i in range(4)}
        assert one_problem(valid, registry, GovernancePolicy(max_params=3)) == (
            "params",
            "at most 3 params are allowed, not 4",
        )


class TestDates:
    def test_a_plain_end_date_includes_that_day(self, valid, registry):
        valid["schedule"] = {"cron": "0 6 * * *", "timezone": "Europe/Berlin"}
        valid["end_date"] = "2026-12-31"
        spec = parse_spec(valid, registry=registry)
        assert spec.end_datetime().isoformat() == "2026-12-31T23:59:59+01:00"
        valid["end_date"] = "2026-12-31T06:00:00+01:00"  # a date-time stays exact
        assert parse_spec(valid, registry=registry).end_datetime().isoformat() == "2026-12-31T06:00:00+01:00"

    def test_at_needs_no_start_date(self, valid, registry):
        valid["schedule"] = {"at": ["2026-06-01T09:00:00+02:00", "2026-03-01T09:00:00+01:00"]}
        valid.pop("start_date", None)
        spec = parse_spec(valid, registry=registry)
        assert spec.start_datetime().isoformat() == "2026-03-01T09:00:00+01:00"

    def test_at_dates_are_limited_by_the_deployment(self, valid, registry):
        valid["schedule"] = {"any_of": ["@daily", {"at": ["2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z"]}]}
        assert one_problem(valid, registry, GovernancePolicy(max_at_dates=1)) == (
            "schedule.any_of[1].at",
            "lists 2 date-times; this deployment allows at most 1 ([schedule_specs] max_at_dates)",
        )
        assert GovernancePolicy.from_options({"max_at_dates": "7"}).max_at_dates == 7

    def test_any_of_plain_dates_are_midnight_utc(self, valid, registry):
        valid["schedule"] = {"any_of": ["@daily", {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"}]}
        valid["start_date"] = "2026-01-01"
        spec = parse_spec(valid, registry=registry)
        assert spec.start_datetime() == datetime(2026, 1, 1, tzinfo=UTC)


class TestGovernance:
    def test_max_tasks(self, valid, registry):
        assert one_problem(valid, registry, GovernancePolicy(max_tasks=3)) == (
            "tasks",
            "at most 3 tasks are allowed in one spec, not 4",
        )

    def test_min_interval_cron(self, valid, registry):
        valid["schedule"] = "*/2 * * * *"
        assert one_problem(valid, registry) == (
            "schedule",
            "runs as often as every 2 minutes; this deployment allows at most one run every 5 minutes",
        )

    def test_min_interval_every(self, valid, registry):
        valid["schedule"] = {"every": "PT1M"}
        assert one_problem(valid, registry) == (
            "schedule.every",
            "runs as often as every 1 minute; this deployment allows at most one run every 5 minutes",
        )

    def test_min_interval_over_an_any_of_union(self, valid, registry):
        # each member runs once a day; together 09:00 London and 09:00 New York are 4-5 hours apart
        valid["schedule"] = {
            "any_of": [
                {"cron": "0 9 * * 1-5", "timezone": "Europe/London"},
                {"cron": "0 9 * * 1-5", "timezone": "America/New_York"},
            ]
        }
        assert one_problem(valid, registry, GovernancePolicy(min_interval=timedelta(hours=6))) == (
            "schedule",
            "runs as often as every 4 hours; this deployment allows at most one run every 6 hours",
        )
        assert parse_spec(valid, registry=registry).schedule.kind == "any_of"

    def test_min_interval_crons_close_together(self, valid, registry):
        valid["schedule"] = {"crons": ["0 6 * * *", "2 6 * * *"], "timezone": "UTC"}
        assert one_problem(valid, registry) == (
            "schedule.crons",
            "runs as often as every 2 minutes; this deployment allows at most one run every 5 minutes",
        )

    def test_min_interval_configurable(self, valid, registry, policy):
        valid["schedule"] = "*/2 * * * *"
        parse_spec(valid, registry=registry, policy=GovernancePolicy(min_interval=timedelta(minutes=1)))

    def test_spec_size(self, valid, registry):
        valid["description"] = "x" * 4000
        path, message = one_problem(valid, registry, GovernancePolicy(max_spec_bytes=2000))
        assert path == ""
        assert message.startswith("the spec is too large (")
        assert message.endswith("bytes as JSON; at most 2000 bytes)")

    def test_max_active_runs_limit(self, valid, registry):
        valid["max_active_runs"] = 5
        assert one_problem(valid, registry, GovernancePolicy(max_active_runs=4)) == (
            "max_active_runs",
            "must be between 1 and 4, not 5",
        )

    def test_policy_from_options(self):
        policy = GovernancePolicy.from_options(
            {
                "max_tasks_per_spec": "10",
                "min_schedule_interval": "PT15M",
                "allowed_templates": '{"qa": ["empty"]}',
            }
        )
        assert policy.max_tasks == 10
        assert policy.min_interval == timedelta(minutes=15)
        assert policy.allows_template("empty", "qa")
        assert not policy.allows_template("bash", "qa")
        assert policy.allows_template("bash", "other")

    def test_policy_from_airflow_config(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__MAX_TASKS_PER_SPEC", "3")
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__MIN_SCHEDULE_INTERVAL", "PT1H")
        policy = GovernancePolicy.from_airflow_config()
        assert (policy.max_tasks, policy.min_interval, policy.max_params) == (3, timedelta(hours=1), 30)

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            (
                {"max_tasks_per_spec": "ten"},
                "[schedule_specs] max_tasks_per_spec must be a whole number, not 'ten'",
            ),
            (
                {"min_schedule_interval": "5m"},
                "[schedule_specs] min_schedule_interval: '5m' is not an ISO-8601",
            ),
            ({"allowed_templates": "{"}, "[schedule_specs] allowed_templates is not valid JSON"),
            (
                {"allowed_templates": '{"qa": "empty"}'},
                "[schedule_specs] allowed_templates must map namespaces",
            ),
        ],
    )
    def test_bad_policy_options(self, options, message):
        with pytest.raises(ValueError, match=r"^" + message.replace("[", r"\[").replace("]", r"\]")):
            GovernancePolicy.from_options(options)


class TestNotify:
    def test_unknown_event(self, valid, registry):
        valid["notify"]["on_fail"] = []
        assert one_problem(valid, registry) == (
            "notify.on_fail",
            "unknown key 'on_fail' (did you mean 'on_failure'?)",
        )

    def test_unknown_notifier(self, valid, registry):
        valid["notify"]["on_failure"][0]["template"] = "teams"
        slack = ["slack"] if registry.get_notifier("slack") is not None else []  # with the Slack provider
        assert one_problem(valid, registry) == (
            "notify.on_failure[0].template",
            f"unknown notification template 'teams'; available: {', '.join(['email', *slack, 'webhook'])}",
        )

    def test_email_address_checked(self, valid, registry):
        valid["notify"]["on_failure"][0]["with"]["to"] = ["not-an-address"]
        path, message = one_problem(valid, registry)
        assert path == "notify.on_failure[0].with.to[0]"
        assert message == "'not-an-address' does not have the expected form"

    def test_webhook_connection_must_be_approved(self, valid, registry):
        valid["notify"]["on_success"] = [{"template": "webhook", "with": {"conn_id": "other"}}]
        assert one_problem(valid, registry) == ("notify.on_success[0].with.conn_id", 'must be one of: "chat"')

    def test_notifier_disallowed_by_policy(self, valid, registry):
        policy = GovernancePolicy(allowed_templates={"*": ["empty", "trigger_dag", "http_request"]})
        assert problems(valid, registry, policy) == [
            ("notify.on_failure[0].template", "the template 'email' is not allowed in namespace 'analytics'")
        ]


class TestOutlets:
    def test_a_task_may_update_assets(self, valid, registry):
        valid["tasks"][0]["outlets"] = ["s3://warehouse/orders", "s3://warehouse/customers"]
        spec = parse_spec(valid, registry=registry)
        assert spec.tasks[0].outlets == ("s3://warehouse/orders", "s3://warehouse/customers")
        assert spec.to_dict()["tasks"][0]["outlets"] == ["s3://warehouse/orders", "s3://warehouse/customers"]
        assert ScheduleSpec.from_canonical(spec.to_dict(), registry=registry) == spec
        assert "outlets" not in spec.to_dict()["tasks"][1]

    def test_asset_targets_limit_what_a_namespace_may_update(self, valid, registry):
        policy = GovernancePolicy.from_options(
            {"asset_targets": json.dumps({valid["namespace"]: ["s3://warehouse/{namespace}/*"], "*": []})}
        )
        ns = valid["namespace"]
        valid["tasks"][0]["outlets"] = [f"s3://warehouse/{ns}/orders", "s3://warehouse/other/orders"]
        assert one_problem(valid, registry, policy) == (
            "tasks[0].outlets[1]",
            f"namespace {ns!r} may not update asset 's3://warehouse/other/orders'; allowed: "
            f"s3://warehouse/{ns}/* ([schedule_specs] asset_targets)",
        )
        valid["namespace"] = "elsewhere"
        valid["tasks"][0]["outlets"] = ["s3://warehouse/elsewhere/orders"]
        assert one_problem(valid, registry, policy) == (
            "tasks[0].outlets[0]",
            "namespace 'elsewhere' may not update asset 's3://warehouse/elsewhere/orders'; allowed: none "
            "([schedule_specs] asset_targets)",
        )

    @pytest.mark.parametrize(
        ("outlets", "path", "message"),
        [
            ("s3://a/x", "tasks[0].outlets", "must be a non-empty list of asset URIs"),
            (["no uri"], "tasks[0].outlets[0]", "must be an asset URI"),
            (["airflow://x"], "tasks[0].outlets[0]", "the 'airflow' URI scheme is reserved"),
            (["s3://a/x", "s3://a/x"], "tasks[0].outlets[1]", "'s3://a/x' is listed twice"),
        ],
    )
    def test_refused(self, valid, registry, outlets, path, message):
        valid["tasks"][0]["outlets"] = outlets
        found = one_problem(valid, registry)
        assert found[0] == path
        assert found[1].startswith(message), found

    def test_bad_asset_targets_option(self):
        with pytest.raises(ValueError, match=r"asset_targets must map namespaces to lists"):
            GovernancePolicy.from_options({"asset_targets": '{"a": "s3://x/*"}'})
