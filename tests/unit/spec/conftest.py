"""Fixtures for spec tests: a registry and policy that do not depend on the local airflow.cfg."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from spec_samples import VALID

from airflow_provider_scheduler.spec import GovernancePolicy
from airflow_provider_scheduler.templates import TemplateRegistry
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates


@pytest.fixture
def registry() -> TemplateRegistry:
    return TemplateRegistry(
        builtin_templates(
            TemplateSettings(
                http_connections=("reports_api",),
                webhook_connections=("chat",),
                python_callables=("json.dumps",),
            )
        )
    )


@pytest.fixture
def policy() -> GovernancePolicy:
    return GovernancePolicy()


@pytest.fixture
def valid() -> dict[str, Any]:
    return copy.deepcopy(VALID)
