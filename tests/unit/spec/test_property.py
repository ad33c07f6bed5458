"""Property test: whatever it is given, parse_spec returns a ScheduleSpec or raises SpecError - nothing else.

And every spec it returns round-trips: ``parse_spec(spec.to_dict()) == spec`` with a JSON-serialisable
``to_dict()``.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_samples import VALID

from airflow_provider_scheduler.spec import GovernancePolicy, ScheduleSpec, SpecError, parse_spec
from airflow_provider_scheduler.templates import TemplateRegistry
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

REGISTRY = TemplateRegistry(
    builtin_templates(TemplateSettings(http_connections=("reports_api",), webhook_connections=("chat",)))
)
POLICY = GovernancePolicy(pools={"*": ["default_pool"]})  # so a task's pool can round-trip

KEYS = st.sampled_from(
    [
        *VALID,
        "id",
        "template",
        "with",
        "depends_on",
        "role",
        "cron",
        "crons",
        "every",
        "timezone",
        "assets",
        "anchor",
        "default",
        "type",
        "retries",
        "for_each",
        "retry_delay",
        "retry_exponential_backoff",
        "max_retry_delay",
        "depends_on_past",
        "notify",
        "on_failure",
        "on_retry",
        "pool",
        "priority_weight",
        "group",
        "max_active_tasks",
        "x",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "@daily",
            "@once",
            "@continuous",
            "0 6 * * 1-5",
            "* * * * *",
            "61 * * * *",
            "PT5M",
            "P1M",
            "PT0S",
            "2026-01-01",
            "2026-01-01T06:00:00Z",
            "Europe/Berlin",
            "Mars/Olympus",
            "{{ params.region }}",
            "{{ item }}",
            "{{ conn.x.password }}",
            "{% for x in y %}{% endfor %}",
            "{{ ",
            "empty",
            "trigger_dag",
            "bash",
            "empty@1",
            "empty@2",
            "trigger_dag@1",
            "email@1",
            "empty@",
            "empty@0",
            "refresh",
            "load",
            "setup",
            "teardown",
            "s3://bucket/key",
            "default_pool",
            "extract",
        ]
    ),
    st.binary(max_size=4),
    st.just(date(2026, 1, 1)),
    st.just(datetime(2026, 1, 1, tzinfo=UTC)),
    st.just(datetime(2026, 1, 1)),
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(KEYS, st.text(max_size=5), st.integers()), children, max_size=4),
        st.tuples(children),
        st.frozensets(st.integers(), max_size=2),
    ),
    max_leaves=12,
)


def check(data: Any) -> None:
    error: SpecError | None = None
    try:
        spec = parse_spec(data, registry=REGISTRY, policy=POLICY)
    except SpecError as exc:  # any other exception fails the test
        error = exc
    if error is not None:
        assert error.problems, "a SpecError must carry at least one problem"
        for problem in error.problems:
            assert isinstance(problem.path, str)
            assert isinstance(problem.message, str)
            assert problem.message
        return
    assert isinstance(spec, ScheduleSpec)
    canonical = json.loads(json.dumps(spec.to_dict(), allow_nan=False))
    assert parse_spec(canonical, registry=REGISTRY, policy=POLICY) == spec
    assert ScheduleSpec.from_canonical(canonical) == spec


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    spec = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        # walk to a random container inside the spec
        node: Any = spec
        for _depth in range(draw(st.integers(min_value=0, max_value=4))):
            if isinstance(node, dict) and node:
                node = node[draw(st.sampled_from(sorted(node, key=str)))]
            elif isinstance(node, list) and node:
                node = node[draw(st.integers(min_value=0, max_value=len(node) - 1))]
            else:
                break
        action = draw(st.sampled_from(["set", "delete", "add"]))
        if isinstance(node, dict):
            if action == "delete" and node:
                node.pop(draw(st.sampled_from(sorted(node, key=str))))
            elif action == "set" and node:
                node[draw(st.sampled_from(sorted(node, key=str)))] = draw(JSONISH)
            else:
                node[draw(KEYS)] = draw(JSONISH)
        elif isinstance(node, list):
            if action == "delete" and node:
                node.pop(draw(st.integers(min_value=0, max_value=len(node) - 1)))
            elif action == "set" and node:
                node[draw(st.integers(min_value=0, max_value=len(node) - 1))] = draw(JSONISH)
            else:
                node.append(draw(JSONISH))
    return spec


COMMON = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestParseSpecProperties:
    @COMMON
    @given(JSONISH)
    def test_random_values(self, data):
        check(data)

    @COMMON
    @given(st.dictionaries(KEYS, JSONISH, max_size=8))
    def test_random_objects(self, data):
        check(data)

    @COMMON
    @given(mutated_specs())
    def test_mutated_valid_specs(self, data):
        check(data)
