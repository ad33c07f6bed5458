"""TemplateRegistry: registration, enablement, namespace allow-lists, entry points, default registry."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest

from airflow_provider_scheduler.spec import GovernancePolicy, SpecError, default_policy, parse_spec
from airflow_provider_scheduler.templates import (
    NotificationTemplate,
    TaskTemplate,
    TemplateRegistry,
    default_registry,
    load_entry_points,
    register,
)
from airflow_provider_scheduler.templates import registry as registry_module
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

BUILDS: list[dict[str, Any]] = []


def _record(*, task_id: str, with_: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    BUILDS.append({"task_id": task_id, "with_": with_, **kwargs})
    return BUILDS[-1]


CUSTOM = TaskTemplate(
    "refresh_cache",
    description="Refresh a cache",
    with_schema={
        "type": "object",
        "additionalProperties": False,
        "required": ["cache"],
        "properties": {"cache": {"enum": ["orders", "users"]}},
    },
    builder=_record,
)


def spec_with(template: str, with_: dict[str, Any], namespace: str = "analytics") -> dict[str, Any]:
    return {
        "version": 1,
        "namespace": namespace,
        "name": "t",
        "tasks": [{"id": "a", "template": template, "with": with_}],
    }


def _optional_present() -> dict[str, bool]:
    """Which optional built-ins this environment can offer, judged independently of builtins.py."""
    import importlib.util

    import airflow

    def has(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except ImportError:
            return False

    major, minor = (int(p) for p in airflow.__version__.split(".")[:2])
    return {
        "approval": (major, minor) >= (3, 1) and has("airflow.providers.standard.operators.hitl"),
        "spark_submit": has("airflow.providers.apache.spark"),
        "slack": has("airflow.providers.slack"),
    }


class TestRegistry:
    def test_builtins(self):
        registry = TemplateRegistry(builtin_templates())
        # approval, spark_submit and slack are registered where their Airflow / provider is installed
        optional = {name for name, present in _optional_present().items() if present}
        assert registry.names() == sorted(
            {
                "bash",
                "empty",
                "http_request",
                "python",
                "trigger_dag",
                "trigger_remote_dag",
                "wait_for_dag_run",
            }
            | (optional & {"approval", "spark_submit"})
        )
        assert registry.notifier_names() == sorted({"email", "webhook"} | (optional & {"slack"}))
        assert registry.unavailable_names() == sorted(set(_optional_present()) - optional)
        assert registry.allowed_names() == sorted(
            {"empty", "http_request", "trigger_dag", "trigger_remote_dag", "wait_for_dag_run"}
            | (optional & {"approval", "spark_submit"})
        )

    def test_register_custom_and_build(self):
        registry = TemplateRegistry([CUSTOM])
        spec = parse_spec(
            spec_with("refresh_cache", {"cache": "orders"}), registry=registry, policy=GovernancePolicy()
        )
        task = spec.tasks[0]
        built = registry.get("refresh_cache").build(task.id, task.with_, retries=3)
        assert built == {"task_id": "a", "with_": {"cache": "orders"}, "retries": 3}
        assert type(built["with_"]) is dict  # builders get a plain, mutable copy

    def test_custom_schema_errors_have_paths(self):
        registry = TemplateRegistry([CUSTOM])
        with pytest.raises(SpecError) as info:
            parse_spec(
                spec_with("refresh_cache", {"cache": "all"}), registry=registry, policy=GovernancePolicy()
            )
        assert [(p.path, p.message) for p in info.value.problems] == [
            ("tasks[0].with.cache", 'must be one of: "orders", "users"')
        ]

    def test_duplicate_name(self):
        registry = TemplateRegistry([CUSTOM])
        with pytest.raises(ValueError, match="a task template named 'refresh_cache' is already registered"):
            registry.register(CUSTOM)
        registry.register(CUSTOM, replace=True)

    def test_bad_name(self):
        with pytest.raises(ValueError, match="must be letters, digits and underscores"):
            TemplateRegistry().register(TaskTemplate("a.b", description="", with_schema={}, builder=_record))

    def test_disable_and_enable(self):
        registry = TemplateRegistry(builtin_templates())
        assert registry.why_not_allowed("bash") == (
            "the task template 'bash' is disabled on this deployment "
            "(an admin can enable it with [schedule_specs] enabled_templates)"
        )
        registry.enable("bash")
        assert registry.is_allowed("bash", "qa")
        registry.disable("empty")
        assert not registry.is_allowed("empty", "qa")

    def test_namespace_allow_list(self):
        registry = TemplateRegistry(
            builtin_templates(), namespace_allow={"qa": ["empty"], "*": ["trigger_dag"]}
        )
        assert registry.is_allowed("empty", "qa")
        assert not registry.is_allowed("trigger_dag", "qa")
        assert registry.is_allowed("trigger_dag", "analytics")
        assert registry.why_not_allowed("empty", "analytics") == (
            "the task template 'empty' is not allowed in namespace 'analytics'"
        )
        assert registry.why_not_allowed("nope") == "no template named 'nope' is registered"

    def test_broken_schema_is_reported_not_raised(self):
        broken = TaskTemplate("broken", description="", with_schema={"type": "nonsense"}, builder=_record)
        registry = TemplateRegistry([broken])
        with pytest.raises(SpecError) as info:
            parse_spec(spec_with("broken", {"a": 1}), registry=registry, policy=GovernancePolicy())
        assert info.value.problems[0].path == "tasks[0].with"
        assert "has an invalid schema" in info.value.problems[0].message


class TestEntryPoints:
    def test_template_list_and_function(self, monkeypatch):
        notifier = NotificationTemplate(
            "pager", description="", with_schema={"type": "object"}, builder=_record
        )

        def register_fn(registry: TemplateRegistry) -> None:
            registry.register(notifier)

        objects = {"custom:templates": [CUSTOM], "custom:register": register_fn, "custom:broken": 42}
        points = [EntryPoint(name=n, value=n, group="airflow_provider_scheduler.templates") for n in objects]
        monkeypatch.setattr(EntryPoint, "load", lambda self: objects[self.value])
        # the same entry point twice: a distribution found on two sys.path entries loads once
        monkeypatch.setattr(registry_module, "_entry_points", lambda group: [*points, points[0]])
        registry = TemplateRegistry()
        load_entry_points(registry)  # the broken one is logged and skipped
        assert registry.names() == ["refresh_cache"]
        assert registry.notifier_names() == ["pager"]

    def test_reads_installed_entry_points_through_airflows_cached_scan(self):
        # This provider's own distribution declares the catalog entry point (pyproject.toml); it must
        # be found through whichever of Airflow's scans this Airflow version has.
        found = registry_module._entry_points("airflow_provider_scheduler.catalog")
        assert "airflow_provider_scheduler.templates:default_registry" in {ep.value for ep in found}
        assert registry_module._entry_points("airflow_provider_scheduler.no-such-group") == []


class TestDefaultRegistry:
    def test_reads_config_and_python_register(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__ENABLED_TEMPLATES", "python")
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__PYTHON_CALLABLES", "json.dumps")
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__HTTP_CONNECTIONS", "reports_api, other_api")
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__ALLOWED_TEMPLATES", '{"qa": ["empty", "python"]}')
        default_registry.cache_clear()
        try:
            register(CUSTOM)
            registry = default_registry()
            assert registry.is_allowed("python", "qa")
            # allowed_templates is the governance policy's (parsed and enforced there, once)
            assert registry.is_allowed("trigger_dag", "qa")
            default_policy.cache_clear()
            assert not default_policy().allows_template("trigger_dag", "qa")
            assert default_policy().allows_template("python", "qa")
            assert registry.is_allowed("refresh_cache", "analytics")
            assert registry.get("http_request").with_schema["properties"]["conn_id"]["enum"] == [
                "reports_api",
                "other_api",
            ]
            assert registry.get("python").with_schema["properties"]["callable"]["enum"] == ["json.dumps"]
        finally:
            from airflow_provider_scheduler.templates import registry as registry_module

            registry_module._EXTRA.clear()
            default_registry.cache_clear()
            default_policy.cache_clear()


def test_settings_from_options():
    settings = TemplateSettings.from_options({"remote_connections": "a,b", "enabled_templates": " bash "})
    assert settings.remote_connections == ("a", "b")
    assert settings.enabled_templates == ("bash",)
    assert settings.http_connections == ()
