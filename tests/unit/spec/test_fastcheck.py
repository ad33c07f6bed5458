"""The fast validity pre-check never calls an invalid ``with`` valid (it only ever skips jsonschema)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from airflow_provider_scheduler.spec.fastcheck import compile_fast_check
from airflow_provider_scheduler.templates import UnavailableTemplate
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

TEMPLATES = [
    t  # an UnavailableTemplate (its provider is not installed here) has no schema
    for t in builtin_templates(
        TemplateSettings(http_connections=("reports_api",), python_callables=("json.dumps",))
    )
    if not isinstance(t, UnavailableTemplate)
]
FIELDS = sorted({key for t in TEMPLATES for key in t.with_schema.get("properties", {})} | {"x"})
VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-10, max_value=5000),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(
            [
                "",
                "orders_refresh",
                "a b",
                "/reports/x",
                "http://e.com/x",
                "GET",
                "POST",
                "success",
                "reports_api",
            ]
        ),
        st.text(max_size=8),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(FIELDS), children, max_size=3)
    ),
    max_leaves=8,
)


class TestFastCheck:
    def test_built_in_schemas_are_all_fast(self):
        assert all(compile_fast_check(t.with_schema) is not None for t in TEMPLATES)

    def test_unsupported_keywords_get_no_fast_check(self):
        assert compile_fast_check({"oneOf": [{"type": "string"}]}) is None
        assert compile_fast_check({"$ref": "#/x"}) is None

    @settings(max_examples=400, deadline=None)
    @given(st.sampled_from(TEMPLATES), st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=5))
    def test_fast_valid_implies_jsonschema_valid(self, template, instance):
        fast = compile_fast_check(template.with_schema)
        if fast(instance):
            assert Draft202012Validator(template.with_schema).is_valid(instance)

    def test_numbers_and_booleans(self):
        fast = compile_fast_check({"type": "integer", "enum": [1, 2]})
        assert fast(1)
        assert not fast(True)
        assert not fast(1.0)  # not sure -> jsonschema decides
