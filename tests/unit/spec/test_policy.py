"""GovernancePolicy: equality and hashing cover every field."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from airflow_provider_scheduler.spec import GovernancePolicy

CHANGED = {
    "max_tasks": 7,
    "min_interval": timedelta(minutes=1),
    "max_params": 3,
    "max_spec_bytes": 1000,
    "max_active_runs": 2,
    "max_retries": 1,
    "max_at_dates": 3,
    "allowed_templates": {"qa": ["empty"]},
    "asset_targets": {"qa": ["s3://qa/*"]},
    "airflow_version": (2, 11),
    "max_map_length": 5,
    "pools": {"qa": ["big"]},
    "max_active_tasks": 5,
}


def test_every_field_is_listed_here():
    assert {f.name for f in dataclasses.fields(GovernancePolicy)} == set(CHANGED)


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_each_field_changes_the_hash(name):
    base = GovernancePolicy()
    other = GovernancePolicy(**{name: CHANGED[name]})
    assert other != base
    assert hash(other) != hash(base)
    assert len({base, other}) == 2


def test_equal_policies_hash_equal():
    a = GovernancePolicy(allowed_templates={"qa": ["empty", "bash"]})
    b = GovernancePolicy(allowed_templates={"qa": ("bash", "empty")})
    assert a == b
    assert hash(a) == hash(b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3.1.8", (3, 1)), ("2.11.2", (2, 11)), ("3.2.0rc1", (3, 2)), ("3.10.0.dev0", (3, 10)), ("main", None)],
)
def test_airflow_major_minor(text, expected):
    from airflow_provider_scheduler.spec.policy import airflow_major_minor

    assert airflow_major_minor(text) == expected


def test_needs_airflow_names_both_versions():
    assert GovernancePolicy().needs_airflow((3, 1), "x") is None  # not known: not checked
    assert GovernancePolicy(airflow_version=(3, 1)).needs_airflow((3, 1), "x") is None
    assert GovernancePolicy(airflow_version=(2, 11)).needs_airflow((3, 1), "a deadline") == (
        "a deadline needs Airflow 3.1 or later; this deployment runs Airflow 2.11"
    )


def test_from_airflow_config_knows_the_running_airflow():
    from airflow import __version__

    from airflow_provider_scheduler.spec.policy import airflow_major_minor

    assert GovernancePolicy.from_airflow_config().airflow_version == airflow_major_minor(__version__)
