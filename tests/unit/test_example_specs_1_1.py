"""The language 1.1 example specs that need admin settings (example_dags/specs-with-settings/).

Each file names the admin settings it needs in its first comment lines; this test makes exactly
those settings. Where the running Airflow (or an optional provider) lacks a feature, the spec must be
refused with a message naming the version or the extra it needs, never built half-way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from airflow_provider_scheduler.factory.build import build_dag
from airflow_provider_scheduler.spec import GovernancePolicy, SpecError, parse_spec
from airflow_provider_scheduler.spec.policy import airflow_major_minor
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates
from airflow_provider_scheduler.templates.registry import registry_from_settings

FOLDER = Path(__file__).resolve().parents[2] / "example_dags" / "specs-with-settings"
SETTINGS = TemplateSettings(
    http_connections=("warehouse", "ledger"),
    webhook_connections=("finance-chat",),
    spark_applications=("/opt/spark/jobs/*.py",),
    spark_connections=("spark_default",),
)


def _airflow() -> tuple[int, int]:
    from airflow import __version__

    version = airflow_major_minor(__version__)
    assert version is not None
    return version


def _registry():
    return registry_from_settings(SETTINGS, builtin_templates(SETTINGS))


def _policy() -> GovernancePolicy:
    return GovernancePolicy(pools={"analytics": ["warehouse"]}, airflow_version=_airflow())


def _spark_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("airflow.providers.apache.spark") is not None
    except ImportError:  # not even the airflow.providers.apache package
        return False


def test_the_folder_holds_the_examples():
    assert sorted(p.name for p in FOLDER.glob("*.yaml")) == [
        "analytics-regional-refresh.yaml",
        "data-nightly-spark-etl.yaml",
        "finance-month-end-close.yaml",
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in FOLDER.glob("*.yaml")))
def test_each_validates_against_the_published_schema(name):
    from jsonschema import Draft202012Validator

    from airflow_provider_scheduler.spec import spec_json_schema

    schema = spec_json_schema(_registry(), GovernancePolicy(pools={"analytics": ["warehouse"]}))
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(_load(name))
    ]
    unavailable = {"spark_submit"} if not _spark_installed() else set()
    if _airflow() < (3, 1):
        unavailable.add("approval")
    if not any(u in str(_load(name)) for u in unavailable):
        assert errors == []


def _load(name: str) -> dict:
    return yaml.safe_load((FOLDER / name).read_text())


def test_regional_refresh_builds_a_mapped_group_with_overrides():
    registry = _registry()
    spec = parse_spec(_load("analytics-regional-refresh.yaml"), catalog=registry, policy=_policy())
    dag = build_dag(spec, registry, policy=_policy())
    refresh = dag.get_task("refresh-region")
    assert type(refresh).__name__ == "MappedOperator"
    assert refresh.partial_kwargs["pool"] == "warehouse"
    assert refresh.partial_kwargs["priority_weight"] == 10
    assert dag.get_task("publish").upstream_task_ids >= {"refresh-region", "refresh-reference-data"}
    assert "refresh" in dag.task_group.children
    assert dag.max_active_tasks == 4


def test_month_end_close_builds_on_3_1_and_is_refused_before():
    registry = _registry()
    document = _load("finance-month-end-close.yaml")
    if _airflow() >= (3, 1):
        spec = parse_spec(document, catalog=registry, policy=_policy())
        dag = build_dag(spec, registry, policy=_policy())
        assert dag.deadline
        assert type(dag.get_task("controller-sign-off")).__name__.endswith("ApprovalOperator")
        return
    with pytest.raises(SpecError) as err:
        parse_spec(document, catalog=registry, policy=_policy())
    messages = {p.path: p.message for p in err.value.problems}
    assert "needs Airflow 3.1 or later" in messages["deadline"]
    assert "needs Airflow 3.1 or later" in messages["tasks[1].template"]


def test_nightly_spark_etl_builds_with_the_provider_and_names_the_extra_without():
    registry = _registry()
    document = _load("data-nightly-spark-etl.yaml")
    if _spark_installed():
        spec = parse_spec(document, catalog=registry, policy=_policy())
        dag = build_dag(spec, registry, policy=_policy())
        assert type(dag.get_task("orders-etl")).__name__ == "SparkSubmitOperator"
        return
    with pytest.raises(SpecError) as err:
        parse_spec(document, catalog=registry, policy=_policy())
    [problem] = err.value.problems
    assert problem.path == "tasks[1].template"
    assert "pip install 'airflow-provider-scheduler[spark]'" in problem.message
