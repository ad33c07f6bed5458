"""The schedule-spec language (version 1): model, parser, loader, JSON Schema, governance.

Public API::

    from airflow_provider_scheduler.spec import parse_spec, load_spec_file, SpecError, ScheduleSpec

* :func:`parse_spec` validates a document and returns an immutable :class:`ScheduleSpec`, or raises
  :class:`SpecError` listing every :class:`Problem` (JSON path + message).
* :meth:`ScheduleSpec.to_dict` is the canonical JSON form (``parse_spec(s.to_dict()) == s``);
  :meth:`ScheduleSpec.from_canonical` is the fast trusted path for already-validated dicts.
* :func:`load_spec_file` reads YAML or JSON safely (one spec or a list).
* :func:`spec_json_schema` returns the published JSON Schema (draft 2020-12).
* :class:`GovernancePolicy` holds the platform team's limits.
* :class:`TemplateCatalog` is what the parser asks about template names (``TemplateRegistry`` is one);
  this package imports nothing else of the provider.

Importing this package is cheap: no Airflow, jsonschema or jinja2 import happens until needed.
"""

from __future__ import annotations

from airflow_provider_scheduler.spec.catalog import CatalogEntry, TemplateCatalog, default_catalog
from airflow_provider_scheduler.spec.errors import Problem, SpecError
from airflow_provider_scheduler.spec.json_schema import spec_json_schema
from airflow_provider_scheduler.spec.loader import load_spec_file, read_spec_file
from airflow_provider_scheduler.spec.model import (
    Deadline,
    Defaults,
    NotifierSpec,
    Notify,
    ScheduleSpec,
    TaskSpec,
)
from airflow_provider_scheduler.spec.parser import parse_spec
from airflow_provider_scheduler.spec.policy import GovernancePolicy, default_policy
from airflow_provider_scheduler.spec.schedule import (
    AssetSchedule,
    CronSchedule,
    EverySchedule,
    ManualSchedule,
    MultiCronSchedule,
    OnceSchedule,
    Schedule,
)

__all__ = [
    "AssetSchedule",
    "CatalogEntry",
    "CronSchedule",
    "Deadline",
    "Defaults",
    "EverySchedule",
    "GovernancePolicy",
    "ManualSchedule",
    "MultiCronSchedule",
    "NotifierSpec",
    "Notify",
    "OnceSchedule",
    "Problem",
    "Schedule",
    "ScheduleSpec",
    "SpecError",
    "TaskSpec",
    "TemplateCatalog",
    "default_catalog",
    "default_policy",
    "load_spec_file",
    "parse_spec",
    "read_spec_file",
    "spec_json_schema",
]
