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
