"""Issue 13 rows 1, 2, 3 and 14: text no store can hold, caps before costly checks, ReDoS, Jinja filters.

The costly cases run under a hang guard (``hang_guard.answered``, 30 s): a guard against hangs, not
a speed assertion. Before the fixes each of them ran for minutes.
"""

from __future__ import annotations

from typing import Any

import pytest
from hang_guard import answered
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_scheduler.spec import GovernancePolicy, SpecError, parse_spec
from airflow_provider_scheduler.spec.jinja_check import check_template
from airflow_provider_scheduler.spec.loader import read_spec_file


def problems(data: Any, registry, policy=None) -> list[tuple[str, str]]:
    def run() -> list[tuple[str, str]]:
        with pytest.raises(SpecError) as info:
            parse_spec(data, registry=registry, policy=policy or GovernancePolicy())
        return [(p.path, p.message) for p in info.value.problems]

    return answered(run)


def one_problem(data: Any, registry, policy=None) -> tuple[str, str]:
    found = problems(data, registry, policy)
    assert len(found) == 1, found
    return found[0]


def accepted(data: Any, registry, policy=None) -> Any:
    return answered(lambda: parse_spec(data, registry=registry, policy=policy or GovernancePolicy()))


SURROGATE = "contains a lone surrogate (U+D800), not valid Unicode"
NUL = "contains a NUL character (U+0000), which cannot be stored"


class TestTextNoStoreCanHold:
    """Row 1: lone surrogates and NUL are refused with their path, wherever they are."""

    @pytest.mark.parametrize(
        ("place", "path"),
        [
            (lambda s, v: s.update(description=v), "description"),
            (lambda s, v: s.update(owner=v), "owner"),
            (lambda s, v: s["tags"].append(v), "tags[1]"),
            (lambda s, v: s["tasks"][0]["with"]["conf"].update(region=v), "tasks[0].with.conf.region"),
            (
                lambda s, v: s["tasks"][0]["with"]["conf"].update(deep={"a": [1, {"b": v}]}),
                "tasks[0].with.conf.deep.a[1].b",
            ),
            (lambda s, v: s["params"]["region"].update(description=v), "params.region.description"),
            (lambda s, v: s["params"]["region"]["enum"].append(v), "params.region.enum[2]"),
            (
                lambda s, v: s["notify"]["on_failure"][0]["with"].update(subject=v),
                "notify.on_failure[0].with.subject",
            ),
            (lambda s, v: s["tasks"][1].update(depends_on=[v]), "tasks[1].depends_on[0]"),
            (lambda s, v: s.update(schedule={"cron": "0 6 * * *", "timezone": v}), "schedule.timezone"),
        ],
    )
    @pytest.mark.parametrize(("text", "message"), [("a\ud800b", SURROGATE), ("a\x00b", NUL)])
    def test_refused_with_its_path(self, valid, registry, place, path, text, message):
        place(valid, text)
        assert one_problem(valid, registry) == (path, message)

    @pytest.mark.parametrize(("key", "message"), [("re\ud800gion", SURROGATE), ("re\x00gion", NUL)])
    def test_refused_in_a_key(self, valid, registry, key, message):
        valid["tasks"][0]["with"]["conf"] = {key: "eu"}
        assert one_problem(valid, registry) == ("tasks[0].with.conf", f"the key {key!r} {message}")

    def test_every_one_reported(self, valid, registry):
        valid["description"] = "\udfff"
        valid["owner"] = "x\x00"
        assert problems(valid, registry) == [
            ("description", "contains a lone surrogate (U+DFFF), not valid Unicode"),
            ("owner", NUL),
        ]

    def test_surrogate_pair_is_explained(self, valid, registry):
        valid["description"] = "smile \ud83d\ude00"  # YAML "\ud83d\ude00" gives two code points
        assert one_problem(valid, registry) == (
            "description",
            "contains a UTF-16 surrogate pair (U+D83D U+DE00), not valid Unicode here: write the "
            "character itself (U+1F600) or \\U0001F600",
        )

    @pytest.mark.parametrize(
        ("name", "text"),
        [
            (
                "s.json",
                '{"version": 1, "namespace": "qa", "name": "x", "description": "a\\ud800b", '
                '"tasks": [{"id": "a", "template": "empty"}]}',
            ),
            (
                "s.yaml",
                'version: 1\nnamespace: qa\nname: x\ndescription: "a\\ud800b"\n'
                "tasks: [{id: a, template: empty}]\n",
            ),
        ],
    )
    def test_from_json_and_yaml_escapes(self, tmp_path, registry, name, text):
        path = tmp_path / name
        path.write_text(text)
        (result,) = read_spec_file(path, catalog=registry, policy=GovernancePolicy())
        assert isinstance(result, SpecError)
        assert [(p.path, p.message) for p in result.problems] == [("description", SURROGATE)]

    def test_other_unicode_is_accepted(self, valid, registry):
        text = "e\u0301 \u202eRTL\u202c \U0001f600 \u2028 \ufeff \x7f \t"
        valid["description"] = text
        valid["tasks"][0]["with"]["conf"] = {text: text}
        spec = accepted(valid, registry)
        assert spec.description == text


class TestCapsBeforeCostlyChecks:
    """Row 2: list sizes, object sizes and nesting are capped before any other check."""

    def test_many_distinct_objects_in_allowed_states(self, valid, registry):
        # jsonschema's uniqueItems compared every pair of 70,000 objects: minutes
        valid["tasks"][0]["with"] = {
            "dag_id": "x",
            "wait_for_completion": True,
            "allowed_states": [{"k": i} for i in range(70_000)],
        }
        assert one_problem(valid, registry) == (
            "tasks[0].with.allowed_states",
            "has too many items (70000; at most 1000)",
        )

    def test_objects_at_the_cap_are_checked_linearly(self, valid, registry):
        valid["tasks"][0]["with"] = {
            "dag_id": "x",
            "wait_for_completion": True,
            "allowed_states": [{"k": i} for i in range(1000)],
        }
        found = problems(valid, registry)
        assert found[0] == (
            "tasks[0].with.allowed_states[0]",
            'must be one of: "queued", "running", "success", "failed"',
        )
        assert found[-1][0] == ""
        assert found[-1][1].startswith("... and at least ")
        assert found[-1][1].endswith(" more problems (checking stopped after 200)")

    def test_param_items_type_list_of_objects(self, valid, registry):
        valid["params"]["p"] = {
            "type": "array",
            "items": {"type": [{"a": i} for i in range(5000)]},
            "default": [],
        }
        assert one_problem(valid, registry) == (
            "params.p.items.type",
            "has too many items (5000; at most 1000)",
        )

    def test_param_items_type_list_under_the_cap(self, valid, registry):
        valid["params"]["p"] = {
            "type": "array",
            "items": {"type": [{"a": i} for i in range(900)]},
            "default": [],
        }
        assert one_problem(valid, registry) == ("params.p.items.type", "lists 900 types; there are only 7")

    def test_param_items_use_the_param_keywords(self, valid, registry):
        valid["params"]["p"] = {"type": "array", "items": {"type": "string", "required": ["a"] * 900}}
        assert one_problem(valid, registry)[0] == "params.p.items.required"

    def test_huge_depends_on(self, valid, registry):
        valid["tasks"][3]["depends_on"] = [f"t{i}" for i in range(105_000)]
        assert one_problem(valid, registry) == (
            "tasks[3].depends_on",
            "has too many items (105000; at most 1000)",
        )

    def test_depends_on_longer_than_max_tasks(self, valid, registry):
        valid["tasks"][3]["depends_on"] = [f"t{i}" for i in range(51)]
        assert one_problem(valid, registry) == (
            "tasks[3].depends_on",
            "lists 51 tasks; a spec has at most 50 tasks, so a task can depend on at most that many",
        )

    def test_duplicate_dependencies_still_reported(self, valid, registry):
        valid["tasks"][3]["depends_on"] = ["report", "refresh", "report"]
        assert one_problem(valid, registry) == ("tasks[3].depends_on[2]", "'report' is listed twice")

    def test_too_many_keys(self, valid, registry):
        valid["tasks"][0]["with"]["conf"] = {f"k{i}": i for i in range(1001)}
        assert one_problem(valid, registry) == (
            "tasks[0].with.conf",
            "has too many keys (1001; at most 1000)",
        )

    def test_deep_nesting(self, valid, registry):
        value: Any = "x"
        for _ in range(5000):
            value = [value]
        valid["description"] = value
        path, message = one_problem(valid, registry)
        assert path == "description" + "[0]" * 39
        assert message == "is nested too deeply (at most 40 levels in a spec)"

    def test_many_tasks_beyond_the_policy(self, valid, registry):
        valid["tasks"] = [{"id": f"t{i}", "template": "empty"} for i in range(20_000)]
        assert one_problem(valid, registry) == (
            "tasks",
            "at most 50 tasks are allowed in one spec, not 20000",
        )

    def test_many_unknown_keys(self, valid, registry):
        valid["tasks"] = [
            {"id": f"t{i}", "template": "empty", **{f"x{i}_{k}": 1 for k in range(900)}} for i in range(200)
        ]
        found = problems(valid, registry, GovernancePolicy(max_tasks=200, max_spec_bytes=10**8))
        assert found[0] == (
            "tasks[0].x0_0",
            "unknown key 'x0_0'; allowed keys: id, template, with, depends_on, "
            "retries, execution_timeout, trigger_rule, role, outlets, for_each, retry_delay, "
            "retry_exponential_backoff, max_retry_delay, notify, pool, priority_weight, group",
        )
        assert found[-1] == (
            "",
            f"... and at least {200 * 900 - 200} more problems (checking stopped after 200)",
        )

    def test_long_dependency_cycle_and_many_cycles(self, registry):
        n = 200
        tasks = [
            {"id": f"t{i}", "template": "empty", "depends_on": [f"t{j}" for j in range(n) if j != i][:150]}
            for i in range(n)
        ]
        spec = {"version": 1, "namespace": "qa", "name": "c", "tasks": tasks}
        found = problems(spec, registry, GovernancePolicy(max_tasks=n))
        cycles = [m for _, m in found if m.startswith("dependency cycle: ")]
        assert 1 <= len(cycles) <= 20

    def test_upstream_task_reference_is_transitive(self, valid, registry):
        valid["tasks"] = [
            {"id": "trigger", "template": "trigger_dag", "with": {"dag_id": "r"}},
            {"id": "mid", "template": "empty", "depends_on": ["trigger"]},
            {
                "id": "wait",
                "template": "wait_for_dag_run",
                "with": {"dag_id": "r", "run_of_task": "trigger"},
                "depends_on": ["mid"],
            },
            {"id": "other", "template": "empty"},
            {
                "id": "wait2",
                "template": "wait_for_dag_run",
                "with": {"dag_id": "r", "run_of_task": "other"},
                "depends_on": ["mid"],
            },
        ]
        assert one_problem(valid, registry) == (
            "tasks[4].with.run_of_task",
            "'other' must run before 'wait2': add it to depends_on",
        )

    def test_unique_default_objects_at_most_100(self, valid, registry):
        valid["params"]["p"] = {
            "type": "array",
            "uniqueItems": True,
            "default": [{"a": i} for i in range(100)],
        }
        accepted(valid, registry)
        valid["params"]["p"]["default"].append({"a": 100})
        assert one_problem(valid, registry) == (
            "params.p.default",
            "lists 101 objects or lists under uniqueItems; at most 100 (Airflow compares every pair of them "
            "each time it checks the param)",
        )

    def test_unique_default_duplicates_found_in_json_schema_terms(self, valid, registry):
        valid["params"]["p"] = {
            "type": "array",
            "uniqueItems": True,
            "default": [{"a": 1, "b": [2]}, {"b": [2.0], "a": 1.0}],
        }
        path, message = one_problem(valid, registry)
        assert path == "params.p.default"
        assert message.endswith("has non-unique elements")
        valid["params"]["p"]["default"] = [1, True, "1", [1], {"1": 1}]
        accepted(valid, registry)


class TestPatterns:
    """Row 3: a param pattern must be clearly safe; a bad default never hangs validation."""

    NESTED = (
        "is too complex: a repeated group that itself repeats (like (a+)+) can make checking a value "
        "take forever"
    )
    ALTERNATION = (
        "is too complex: a repeated group with alternatives (like (a|aa)+) can make checking a value take "
        "forever; for single characters use a class such as [ab]+"
    )

    @pytest.mark.parametrize(
        ("pattern", "message"),
        [
            ("^(a|a)*$", ALTERNATION),
            ("^((a+))+$", NESTED),
            ("^((a)+)+$", NESTED),
            ("^(a|aa)+$", ALTERNATION),
            ("(a*)*", NESTED),
            ("^(a?){2,}$", NESTED),
            ("^(?:x|yz)*$", ALTERNATION),
            (
                "^(a)\\1$",
                "uses a backreference (like \\1 or (?P=name)), which can make checking a value take forever; "
                "param patterns cannot use them",
            ),
            ("^(?P<x>a)(?P=x)$", None),
            ("^(a)?(?(1)b|c)$", "uses a conditional group (?(...)...), which param patterns cannot use"),
            (
                "^(?=a)\\w+$",
                "uses a lookahead or lookbehind ((?=...), (?!...), (?<=...), (?<!...)), which param patterns "
                "cannot use",
            ),
            ("^(?!a)b$", None),
            ("(?<=a)b", None),
            ("(?<!a)b", None),
            ("^(?>a+)b$", None),
            ("^a++b$", None),
            ("a" * 201, "is too long (201 characters; at most 200)"),
            ("^[a-", "is not a valid regular expression: unterminated character set at position 1"),
            ("^" + "a?" * 21 + "$", None),
            ("^a*a*a*a*a*$", None),
        ],
    )
    def test_refused_with_the_reason(self, valid, registry, pattern, message):
        valid["params"]["code"] = {"type": "string", "pattern": pattern, "default": "a" * 41 + "!"}
        path, found = one_problem(valid, registry)
        assert path == "params.code.pattern"
        if message is not None:
            assert found == message

    @pytest.mark.parametrize(
        "pattern",
        [
            "(a|b)*",
            "^[a-z]+$",
            "^(eu|us)-[0-9]{2}$",
            "^(ab)+$",
            "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
            "^https?://[^/]+(/[^?]*)?$",
            "^(\\+\\d{1,3} ?)?\\d{3}[- ]?\\d{4}$",
            "^(a+)?$",
        ],
    )
    def test_clearly_safe_accepted(self, valid, registry, pattern):
        valid["params"]["code"] = {"type": "string", "pattern": pattern}
        valid["schedule"] = None
        accepted(valid, registry)

    def test_nested_items_pattern(self, valid, registry):
        valid["params"]["codes"] = {
            "type": "array",
            "items": {"type": "string", "pattern": "^(a|aa)+$"},
            "default": ["a" * 41 + "!"],
        }
        assert one_problem(valid, registry) == ("params.codes.items.pattern", self.ALTERNATION)

    def test_polynomial_pattern_with_a_long_default(self, valid, registry):
        # accepted shape, but cubic: a 3,000-character default took minutes to check
        valid["params"]["code"] = {"type": "string", "pattern": "^a*a*a*b$", "default": "a" * 3000}
        assert one_problem(valid, registry) == (
            "params.code.default",
            "is too long to be checked against the param's pattern quickly (3000 characters; at most 464 "
            "for this pattern: simplify the pattern or shorten the default)",
        )

    def test_polynomial_pattern_with_a_short_default(self, valid, registry):
        valid["params"]["code"] = {"type": "string", "pattern": "^a*a*a*b$", "default": "a" * 400 + "b"}
        accepted(valid, registry)

    def test_long_default_items(self, valid, registry):
        valid["params"]["codes"] = {
            "type": "array",
            "items": {"type": "string", "pattern": "a*b"},
            "default": ["a" * 2000] * 30,
        }
        assert one_problem(valid, registry) == (
            "params.codes.default",
            "holds too much text to be checked against the items' pattern quickly: simplify the pattern "
            "or shorten the default",
        )


class TestJinjaFilterArguments:
    """Row 14: a filter argument read as an attribute name is checked like attribute access."""

    @pytest.mark.parametrize(
        ("text", "segment", "argument", "name"),
        [
            (
                "{{ params|join(attribute='__class__.__init__.__globals__') }}",
                "__class__",
                "__class__.__init__.__globals__",
                "join",
            ),
            (
                "{{ params|join(attribute='_ParamsDict__dict') }}",
                "_ParamsDict__dict",
                "_ParamsDict__dict",
                "join",
            ),
            ("{{ params|join(', ', 'region._x') }}", "_x", "region._x", "join"),
            ("{{ params|map(attribute='_x') }}", "_x", "_x", "map"),
            ("{{ params|map('attr', '__class__') }}", "__class__", "__class__", "attr"),
            ("{{ params|map('join', ',', '_x') }}", "_x", "_x", "join"),
            ("{{ params|sort(attribute='a._b') }}", "_b", "a._b", "sort"),
            ("{{ params|sort(false, false, '_b') }}", "_b", "_b", "sort"),
            ("{{ params|groupby('_x') }}", "_x", "_x", "groupby"),
            ("{{ params|groupby(attribute='_x') }}", "_x", "_x", "groupby"),
            ("{{ params|selectattr('_x') }}", "_x", "_x", "selectattr"),
            ("{{ params|rejectattr('_x', 'none') }}", "_x", "_x", "rejectattr"),
            ("{{ params|sum(attribute='_x') }}", "_x", "_x", "sum"),
            ("{{ params|sum('_x') }}", "_x", "_x", "sum"),
            ("{{ params|unique(attribute='_x') }}", "_x", "_x", "unique"),
            ("{{ params|min(attribute='_x') }}", "_x", "_x", "min"),
            ("{{ params|max(false, '_x') }}", "_x", "_x", "max"),
            ("{{ params|attr('_x') }}", "_x", "_x", "attr"),
            ("{{ params|attr(name='__dict__') }}", "__dict__", "__dict__", "attr"),
        ],
    )
    def test_refused(self, valid, registry, text, segment, argument, name):
        message = (
            f"attributes starting with '_' ({segment!r}) are not allowed in templates "
            f"(in the argument {argument!r} of the filter {name!r})"
        )
        assert check_template(text) == message
        valid["tasks"][0]["with"]["conf"] = {"value": text}
        assert one_problem(valid, registry) == ("tasks[0].with.conf.value", message)

    @pytest.mark.parametrize(
        "text",
        [
            "{{ params.region|join(', ') }}",
            "{{ params.region|join('_') }}",
            "{{ ds|replace('-', '_') }}",
            "{{ params.items|join(', ', 'name') }}",
            "{{ params.items|join(attribute='a.b') }}",
        ],
    )
    def test_ordinary_arguments_accepted(self, text):
        assert check_template(text) is None

    def test_computed_attribute_refused(self):
        assert check_template("{{ params|join(attribute=params.name) }}") == (
            "the filter 'join' only takes literal arguments in templates"
        )

    def test_long_template_is_checked_without_caching_it(self):
        text = "{{ params.region }}" + " " * 5000
        assert check_template(text) is None
        assert check_template(text + "{{ params|join(attribute='_x') }}") is not None


def test_published_param_schema_matches_the_parser(registry, policy):
    from airflow_provider_scheduler.spec import spec_json_schema

    param = spec_json_schema(registry, policy)["$defs"]["param"]["properties"]
    assert param["items"] == {"$ref": "#/$defs/param"}  # the same keywords, checked recursively
    assert param["pattern"] == {"type": "string", "maxLength": 200}


_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-3, max_value=3),
        st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0**60]),
        st.sampled_from(["", "a", "1", "true"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "1"]), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_JSON, max_size=6))
def test_linear_unique_items_agrees_with_jsonschema(items):
    from jsonschema import Draft202012Validator

    from airflow_provider_scheduler.spec.fastcheck import items_unique, linear_validator

    stock = Draft202012Validator({"uniqueItems": True}).is_valid(items)
    assert items_unique(items) is stock
    assert linear_validator({"uniqueItems": True}).is_valid(items) is stock
