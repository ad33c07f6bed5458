"""Task overrides and groups (issue 16): retry_delay, retry_exponential_backoff, max_retry_delay,
per-task notify, pool, priority_weight, group, defaults.max_retry_delay / depends_on_past and the
top-level max_active_tasks: what the parser accepts, refuses (path + message), and how each round-trips."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from spec_samples import VALID

from airflow_provider_scheduler.spec import GovernancePolicy, ScheduleSpec, SpecError, parse_spec
from airflow_provider_scheduler.spec.json_schema import spec_json_schema
from airflow_provider_scheduler.spec.model import NotifierSpec, TaskNotify

POOLS = GovernancePolicy(pools={"analytics": ["warehouse", "etl"], "*": ["default_pool"]})


def problems(data: Any, registry, policy=None) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        parse_spec(data, registry=registry, policy=policy or GovernancePolicy())
    return [(p.path, p.message) for p in info.value.problems]


def round_trips(spec: ScheduleSpec, registry, policy) -> None:
    canonical = json.loads(json.dumps(spec.to_dict()))
    assert parse_spec(canonical, registry=registry, policy=policy) == spec
    assert ScheduleSpec.from_canonical(canonical) == spec
    assert ScheduleSpec.from_canonical(canonical).to_dict() == spec.to_dict()


def everything(valid: dict[str, Any]) -> dict[str, Any]:
    valid["max_active_tasks"] = 8
    valid["defaults"].update(max_retry_delay="PT2H", depends_on_past=True)
    valid["tasks"][0].update(
        retry_delay="PT1M",
        retry_exponential_backoff=False,
        max_retry_delay="PT10M",
        pool="warehouse",
        priority_weight=10,
        group="extract",
        notify={
            "on_failure": [{"template": "webhook", "with": {"conn_id": "chat"}}],
            "on_retry": [{"template": "email", "with": {"to": ["oncall@example.com"]}}],
        },
    )
    valid["tasks"][1]["group"] = "extract"
    return valid


class TestStoredSpecsUnchanged:
    def test_a_spec_without_the_new_fields_keeps_its_exact_canonical_form(self, valid, registry):
        canonical = parse_spec(valid, registry=registry, policy=POOLS).to_dict()
        assert "max_active_tasks" not in canonical
        assert list(canonical["defaults"]) == [
            "retries",
            "retry_delay",
            "retry_exponential_backoff",
            "execution_timeout",
        ]
        for task in canonical["tasks"]:
            assert not {
                "retry_delay",
                "retry_exponential_backoff",
                "max_retry_delay",
                "notify",
                "pool",
                "priority_weight",
                "group",
            } & set(task)

    def test_a_canonical_dict_stored_before_loads_on_the_trusted_path(self, valid, registry):
        stored = parse_spec(valid, registry=registry).to_dict()
        spec = ScheduleSpec.from_canonical(copy.deepcopy(stored), catalog=registry)
        assert spec.max_active_tasks is None
        assert spec.defaults.max_retry_delay is None
        assert spec.defaults.depends_on_past is False
        assert spec.defaults.to_default_args() == {
            "retries": 2,
            "retry_delay": timedelta(minutes=5),
            "retry_exponential_backoff": True,
            "execution_timeout": timedelta(hours=1),
        }
        assert all(t.operator_kwargs() == {} for t in spec.tasks[:3])
        assert spec.to_dict() == stored


class TestAllFields:
    def test_parsed(self, valid, registry):
        spec = parse_spec(everything(valid), registry=registry, policy=POOLS)
        assert spec.max_active_tasks == 8
        assert spec.defaults.max_retry_delay == timedelta(hours=2)
        assert spec.defaults.depends_on_past is True
        task = spec.tasks[0]
        assert task.retry_delay == timedelta(minutes=1)
        assert task.retry_exponential_backoff is False
        assert task.max_retry_delay == timedelta(minutes=10)
        assert task.pool == "warehouse"
        assert task.priority_weight == 10
        assert task.group == "extract"
        assert task.notify == TaskNotify(
            on_failure=(NotifierSpec("webhook", {"conn_id": "chat"}),),
            on_retry=(NotifierSpec("email", {"to": ("oncall@example.com",)}),),
        )
        assert spec.tasks[1].group == "extract"
        assert spec.tasks[2].group is None
        assert task.operator_kwargs() == {
            "retry_delay": timedelta(minutes=1),
            "retry_exponential_backoff": False,
            "max_retry_delay": timedelta(minutes=10),
            "pool": "warehouse",
            "priority_weight": 10,
        }
        assert spec.defaults.to_default_args()["max_retry_delay"] == timedelta(hours=2)
        assert spec.defaults.to_default_args()["depends_on_past"] is True

    def test_round_trip(self, valid, registry):
        round_trips(parse_spec(everything(valid), registry=registry, policy=POOLS), registry, POOLS)

    def test_canonical_form(self, valid, registry):
        canonical = parse_spec(everything(valid), registry=registry, policy=POOLS).to_dict()
        keys = list(canonical)
        assert keys.index("max_active_tasks") == keys.index("max_active_runs") + 1
        assert canonical["defaults"]["max_retry_delay"] == "PT2H"
        assert canonical["defaults"]["depends_on_past"] is True
        task = canonical["tasks"][0]
        assert {k: task[k] for k in list(task)[4:]} == {
            "retry_delay": "PT1M",
            "retry_exponential_backoff": False,
            "max_retry_delay": "PT10M",
            "notify": {
                "on_failure": [{"template": "webhook@1", "with": {"conn_id": "chat"}}],
                "on_retry": [{"template": "email@1", "with": {"to": ["oncall@example.com"]}}],
            },
            "pool": "warehouse",
            "priority_weight": 10,
            "group": "extract",
        }

    def test_defaults_depends_on_past_false_is_the_default(self, valid, registry):
        valid["defaults"]["depends_on_past"] = False
        spec = parse_spec(valid, registry=registry)
        assert "depends_on_past" not in spec.to_dict()["defaults"]
        round_trips(spec, registry, GovernancePolicy())

    def test_max_retry_delay_without_backoff_is_accepted(self, valid, registry):
        # Airflow accepts it (the cap only matters with backoff); nothing to warn about
        valid["defaults"]["retry_exponential_backoff"] = False
        valid["tasks"][0]["max_retry_delay"] = "PT30M"
        spec = parse_spec(valid, registry=registry)
        assert spec.tasks[0].max_retry_delay == timedelta(minutes=30)

    def test_empty_task_notify_is_no_notify(self, valid, registry):
        valid["tasks"][0]["notify"] = {}
        spec = parse_spec(valid, registry=registry)
        assert not spec.tasks[0].notify
        assert "notify" not in spec.to_dict()["tasks"][0]
        round_trips(spec, registry, GovernancePolicy())


class TestDurations:
    def test_bad_durations(self, valid, registry):
        valid["tasks"][0].update(retry_delay="5m", max_retry_delay="P1M")
        valid["defaults"]["max_retry_delay"] = "PT1.5M"
        assert problems(valid, registry) == [
            (
                "defaults.max_retry_delay",
                "'PT1.5M' is not a valid duration: use whole numbers, e.g. PT90S not PT1.5M",
            ),
            ("tasks[0].retry_delay", "'5m' is not an ISO-8601 duration such as PT30M, PT4H, P1D or P1DT12H"),
            (
                "tasks[0].max_retry_delay",
                "'P1M' uses years or months, whose length varies; use days (P30D) or a cron schedule",
            ),
        ]

    def test_bad_booleans(self, valid, registry):
        valid["tasks"][0]["retry_exponential_backoff"] = "yes"
        valid["defaults"]["depends_on_past"] = "no"
        assert problems(valid, registry) == [
            ("defaults.depends_on_past", "must be true or false, not a string"),
            ("tasks[0].retry_exponential_backoff", "must be true or false, not a string"),
        ]


class TestPool:
    def test_a_listed_pool(self, valid, registry):
        valid["tasks"][0]["pool"] = "etl"
        assert parse_spec(valid, registry=registry, policy=POOLS).tasks[0].pool == "etl"

    def test_the_star_entry_covers_other_namespaces(self, valid, registry):
        valid["namespace"] = "other"
        valid["tasks"][0]["pool"] = "default_pool"
        assert parse_spec(valid, registry=registry, policy=POOLS).tasks[0].pool == "default_pool"
        valid["tasks"][0]["pool"] = "warehouse"
        assert problems(valid, registry, POOLS) == [
            (
                "tasks[0].pool",
                "the pool 'warehouse' is not allowed in namespace 'other'; allowed: default_pool "
                "([schedule_specs] pools)",
            )
        ]

    def test_a_pool_not_listed(self, valid, registry):
        valid["tasks"][0]["pool"] = "big"
        valid["tasks"][1]["pool"] = "warehous"
        assert problems(valid, registry, POOLS) == [
            (
                "tasks[0].pool",
                "the pool 'big' is not allowed in namespace 'analytics'; allowed: warehouse, etl "
                "([schedule_specs] pools)",
            ),
            (
                "tasks[1].pool",
                "the pool 'warehous' is not allowed in namespace 'analytics' (did you mean 'warehouse'?); "
                "allowed: warehouse, etl ([schedule_specs] pools)",
            ),
        ]

    def test_no_namespace_entry_and_no_star(self, valid, registry):
        policy = GovernancePolicy(pools={"finance": ["ledger"]})
        valid["tasks"][0]["pool"] = "ledger"
        assert problems(valid, registry, policy) == [
            (
                "tasks[0].pool",
                "the pool 'ledger' is not allowed in namespace 'analytics'; allowed: none "
                "([schedule_specs] pools)",
            )
        ]

    def test_pools_option_unset_refuses_every_pool(self, valid, registry):
        valid["tasks"][0]["pool"] = "default_pool"
        assert problems(valid, registry, GovernancePolicy()) == [
            (
                "tasks[0].pool",
                "the pool 'default_pool' cannot be used: this deployment lists no pools for specs; an "
                "admin must list it in [schedule_specs] pools",
            )
        ]

    @pytest.mark.parametrize(
        ("value", "message"),
        [(3, "must be a string, not a number"), ("p" * 257, "is too long (257 characters; at most 256)")],
    )
    def test_not_a_pool_name(self, valid, registry, value, message):
        valid["tasks"][0]["pool"] = value
        assert problems(valid, registry, POOLS) == [("tasks[0].pool", message)]

    def test_pools_option(self):
        policy = GovernancePolicy.from_options(
            {"pools": '{"analytics": ["warehouse"], "*": ["default_pool"]}'}
        )
        assert policy.pool_names("analytics") == ("warehouse",)
        assert policy.pool_names("qa") == ("default_pool",)
        assert GovernancePolicy.from_options({"pools": ""}).pools is None
        assert GovernancePolicy.from_options({}).pool_names("qa") == ()

    def test_bad_pools_option(self):
        with pytest.raises(ValueError, match=r"^\[schedule_specs\] pools must map namespaces to lists"):
            GovernancePolicy.from_options({"pools": '{"analytics": "warehouse"}'})
        with pytest.raises(ValueError, match=r"^\[schedule_specs\] pools is not valid JSON"):
            GovernancePolicy.from_options({"pools": "warehouse"})

    def test_the_policy_from_airflow_config(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__POOLS", '{"*": ["default_pool"]}')
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__MAX_ACTIVE_TASKS", "12")
        policy = GovernancePolicy.from_airflow_config()
        assert policy.pool_names("any") == ("default_pool",)
        assert policy.max_active_tasks == 12


class TestPriorityWeight:
    @pytest.mark.parametrize("value", [1, 1000])
    def test_bounds_accepted(self, valid, registry, value):
        valid["tasks"][0]["priority_weight"] = value
        assert parse_spec(valid, registry=registry).tasks[0].priority_weight == value

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (0, "must be between 1 and 1000, not 0"),
            (1001, "must be between 1 and 1000, not 1001"),
            (-5, "must be between 1 and 1000, not -5"),
            (2.5, "must be a whole number, not a number"),
            (True, "must be a whole number, not a boolean"),
            ("high", "must be a whole number, not a string"),
        ],
    )
    def test_out_of_range(self, valid, registry, value, message):
        valid["tasks"][0]["priority_weight"] = value
        assert problems(valid, registry) == [("tasks[0].priority_weight", message)]


class TestMaxActiveTasks:
    def test_within_the_policy_bound(self, valid, registry):
        valid["max_active_tasks"] = 64
        assert parse_spec(valid, registry=registry).max_active_tasks == 64

    @pytest.mark.parametrize("value", [0, 65])
    def test_out_of_range(self, valid, registry, value):
        valid["max_active_tasks"] = value
        assert problems(valid, registry) == [
            ("max_active_tasks", f"must be between 1 and 64 ([schedule_specs] max_active_tasks), not {value}")
        ]

    def test_the_bound_is_the_policy(self, valid, registry):
        valid["max_active_tasks"] = 5
        assert problems(valid, registry, GovernancePolicy(max_active_tasks=4)) == [
            ("max_active_tasks", "must be between 1 and 4 ([schedule_specs] max_active_tasks), not 5")
        ]


class TestGroup:
    def test_tasks_share_a_group(self, valid, registry):
        for task in valid["tasks"][:2]:
            task["group"] = "extract"
        spec = parse_spec(valid, registry=registry)
        assert [t.group for t in spec.tasks] == ["extract", "extract", None, None]
        assert [t.id for t in spec.tasks] == ["refresh", "report", "load", "done"]  # ids as written

    @pytest.mark.parametrize("name", ["Extract", "extract data", "-x", "x.y", "a" * 65, 3])
    def test_bad_group_names(self, valid, registry, name):
        valid["tasks"][0]["group"] = name
        [(path, message)] = problems(valid, registry)
        assert path == "tasks[0].group"
        if isinstance(name, int):
            assert message == "must be a string, not a number"
        elif len(name) > 64:
            assert message == "is too long (65 characters; at most 64)"
        else:
            assert message == (
                f"{name!r} is not a valid group name: use lowercase letters, digits, '-' and '_', "
                "starting and ending with a letter or digit"
            )

    def test_a_group_named_like_a_task(self, valid, registry):
        valid["tasks"][0]["group"] = "load"
        assert problems(valid, registry) == [
            (
                "tasks[0].group",
                "'load' is also the id of tasks[2]; a group needs a name that no task uses (Airflow keeps "
                "task and group ids in one namespace)",
            )
        ]

    def test_the_trusted_path_sends_such_a_group_to_the_parser(self, valid, registry):
        canonical = parse_spec(valid, registry=registry).to_dict()
        canonical["tasks"][0]["group"] = "load"
        with pytest.raises(SpecError) as info:
            ScheduleSpec.from_canonical(canonical, catalog=registry, policy=GovernancePolicy())
        assert [p.path for p in info.value.problems] == ["tasks[0].group"]


class TestTaskNotify:
    def test_unknown_keys(self, valid, registry):
        valid["tasks"][0]["notify"] = {"on_fail": [], "on_success": []}
        assert problems(valid, registry) == [
            (
                "tasks[0].notify.on_success",
                "a task has no on_success notification; use the spec-level notify.on_success (when the run "
                "succeeds)",
            ),
            ("tasks[0].notify.on_fail", "unknown key 'on_fail' (did you mean 'on_failure'?)"),
        ]

    def test_unknown_template(self, valid, registry):
        valid["tasks"][0]["notify"] = {"on_retry": [{"template": "emial"}]}
        assert problems(valid, registry) == [
            (
                "tasks[0].notify.on_retry[0].template",
                "unknown notification template 'emial' (did you mean 'email'?); available: "
                # slack is there where the Slack provider is installed (the 3.3 test venv)
                + ", ".join(registry.allowed_names("analytics", notifiers=True)),
            )
        ]
        assert {"email", "webhook"} <= set(registry.allowed_names("analytics", notifiers=True))

    def test_allow_lists_apply(self, valid, registry):
        valid["notify"] = {}
        valid["tasks"][0]["notify"] = {"on_failure": [{"template": "webhook", "with": {"conn_id": "other"}}]}
        assert problems(valid, registry) == [
            ("tasks[0].notify.on_failure[0].with.conn_id", 'must be one of: "chat"')
        ]
        valid["tasks"][0]["notify"] = {
            "on_failure": [{"template": "email", "with": {"to": ["a@example.com"]}}]
        }
        policy = GovernancePolicy(allowed_templates={"*": ["empty", "trigger_dag", "http_request"]})
        assert problems(valid, registry, policy) == [
            (
                "tasks[0].notify.on_failure[0].template",
                "the template 'email' is not allowed in namespace 'analytics'",
            )
        ]

    @pytest.mark.parametrize(
        ("value", "path", "message"),
        [
            ([], "tasks[0].notify", "must be an object (key: value pairs), not a list"),
            (
                {"on_failure": {}},
                "tasks[0].notify.on_failure",
                "must be a list of notifications, not an object",
            ),
            (
                {"on_retry": [{"template": "email", "with": {"to": ["a@example.com"]}}] * 11},
                "tasks[0].notify.on_retry",
                "at most 10 notifications are allowed, not 11",
            ),
        ],
    )
    def test_bad_shapes(self, valid, registry, value, path, message):
        valid["tasks"][0]["notify"] = value
        assert problems(valid, registry) == [(path, message)]


class TestJsonSchema:
    def test_published(self, registry):
        schema = spec_json_schema(registry, POOLS)
        task = schema["$defs"]["task"]["properties"]
        assert task["priority_weight"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "description": task["priority_weight"]["description"],
        }
        assert task["pool"]["type"] == "string"
        assert task["notify"] == {"$ref": "#/$defs/taskNotify"}
        assert set(schema["$defs"]["taskNotify"]["properties"]) == {"on_failure", "on_retry"}
        assert task["group"]["pattern"] == "^(?:[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?)$"
        assert {"max_retry_delay", "depends_on_past"} <= set(schema["$defs"]["defaults"]["properties"])
        assert schema["properties"]["max_active_tasks"]["maximum"] == 64

    def test_a_namespace_form_lists_its_pools(self, registry):
        schema = spec_json_schema(registry, POOLS, namespace="analytics")
        assert schema["$defs"]["task"]["properties"]["pool"]["enum"] == ["warehouse", "etl"]
        schema = spec_json_schema(registry, GovernancePolicy(), namespace="analytics")
        assert schema["$defs"]["task"]["properties"]["pool"]["enum"] == []

    def test_a_spec_with_every_field_validates_against_the_schema(self, registry):
        from jsonschema import Draft202012Validator

        document = everything(copy.deepcopy(VALID))
        schema = spec_json_schema(registry, POOLS)
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        assert list(validator.iter_errors(document)) == []
        canonical = parse_spec(document, registry=registry, policy=POOLS).to_dict()
        assert list(validator.iter_errors(canonical)) == []
        document["tasks"][0]["priority_weight"] = 0
        document["tasks"][0]["notify"]["on_success"] = []
        assert len(list(validator.iter_errors(document))) >= 1
