"""The spec package stands alone: templates reach it through the TemplateCatalog protocol."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from catalog_stub import Stub

from airflow_provider_scheduler.spec import CatalogEntry, SpecError, default_catalog, parse_spec
from airflow_provider_scheduler.spec.catalog import CATALOG_ENTRY_POINT_GROUP
from airflow_provider_scheduler.templates import TemplateRegistry

ROOT = Path(__file__).resolve().parents[3]

SPEC = {
    "version": 1,
    "namespace": "qa",
    "name": "stub",
    "tasks": [{"id": "a", "template": "noop", "with": {"n": 1}}],
}
ENTRY = {"type": "object", "properties": {"n": {"type": "integer"}}, "additionalProperties": False}


def test_spec_imports_no_other_part_of_the_package():
    """In a fresh interpreter, importing spec and parsing with a stub catalog loads only spec modules."""
    code = textwrap.dedent(
        f"""
        import json, sys
        import airflow_provider_scheduler.spec as spec
        from airflow_provider_scheduler.spec import CatalogEntry, GovernancePolicy, parse_spec
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from catalog_stub import Stub
        entry = CatalogEntry("noop", with_schema={ENTRY!r})
        parsed = parse_spec({SPEC!r}, catalog=Stub(entry), policy=GovernancePolicy())
        parsed = spec.ScheduleSpec.from_canonical(parsed.to_dict())
        spec.spec_json_schema(Stub(entry), GovernancePolicy())
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("airflow_provider_scheduler"))))
        print(json.dumps([m for m in ("airflow", "jinja2") if m in sys.modules]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    modules, heavy = json.loads(out[0]), json.loads(out[1])
    assert "airflow_provider_scheduler.spec.parser" in modules
    others = [
        m
        for m in modules
        if m != "airflow_provider_scheduler" and not m.startswith("airflow_provider_scheduler.spec")
    ]
    assert others == []
    assert heavy == []


def test_spec_import_is_cheap():
    code = (
        "import sys, airflow_provider_scheduler.spec; "
        "print([m for m in ('airflow', 'jsonschema', 'jinja2') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_parse_with_a_stub_catalog():
    entry = CatalogEntry("noop", with_schema=ENTRY)
    spec = parse_spec(SPEC, catalog=Stub(entry))
    assert spec.tasks[0].template == "noop"


def test_stub_catalog_schema_and_refusals_are_used():
    entry = CatalogEntry("noop", with_schema=ENTRY)
    bad = {**SPEC, "namespace": "ops", "tasks": [{"id": "a", "template": "noop", "with": {"n": "x"}}]}
    with pytest.raises(SpecError) as info:
        parse_spec(bad, catalog=Stub(entry))
    assert [(p.path, p.message) for p in info.value.problems] == [("tasks[0].template", "not in ops")]
    wrong = {**SPEC, "tasks": [{"id": "a", "template": "noop", "with": {"n": "x"}}]}
    with pytest.raises(SpecError) as info:
        parse_spec(wrong, catalog=Stub(entry))
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("tasks[0].with.n", "must be a whole number, not a string")
    ]


def test_registry_keyword_still_accepted():
    entry = CatalogEntry("noop", with_schema=ENTRY)
    assert parse_spec(SPEC, registry=Stub(entry)) == parse_spec(SPEC, catalog=Stub(entry))


def test_entry_point_declared_in_pyproject():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"][CATALOG_ENTRY_POINT_GROUP] == {
        "default": "airflow_provider_scheduler.templates:default_registry"
    }


def test_default_catalog_is_the_default_registry():
    from airflow_provider_scheduler.templates import default_registry

    default_catalog.cache_clear()
    try:
        assert isinstance(default_catalog(), TemplateRegistry)
        assert default_catalog() is default_registry()
    finally:
        default_catalog.cache_clear()


def test_canonical_path_never_asks_the_catalog():
    """The loader's trusted path: a canonical dict needs no catalog (the factory re-checks templates)."""
    from airflow_provider_scheduler.spec import ScheduleSpec

    class Refusing:
        def __getattr__(self, name):
            raise AssertionError(f"the canonical path asked the catalog for {name}")

    canonical = parse_spec(SPEC, catalog=Stub(CatalogEntry("noop", with_schema=ENTRY))).to_dict()
    assert ScheduleSpec.from_canonical(canonical, catalog=Refusing()).to_dict() == canonical
