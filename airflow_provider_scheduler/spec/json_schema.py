"""The published JSON Schema (draft 2020-12) of a version-1 spec, including the templates' ``with`` schemas.

The schema describes the shape a portal form needs; ``parse_spec`` is the authority and checks more
(cron syntax, timezones, dependencies, cycles, Jinja, allow-lists, governance limits).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.calendars import MAX_CALENDARS
from airflow_provider_scheduler.spec.catalog import default_catalog
from airflow_provider_scheduler.spec.dates import DATE_OR_DATETIME_PATTERN, DATETIME_WITH_OFFSET_PATTERN
from airflow_provider_scheduler.spec.durations import DURATION_PATTERN
from airflow_provider_scheduler.spec.model import DEADLINE_FROM, FOR_EACH_PARAM, MAX_ITEM_KEYS, SPEC_VERSION
from airflow_provider_scheduler.spec.parser import (
    MAX_DESCRIPTION,
    MAX_GROUP_NAME,
    MAX_NOTIFIERS,
    MAX_OUTLETS,
    MAX_OWNER,
    MAX_PARAM_DESCRIPTION,
    MAX_POOL_NAME,
    MAX_PRIORITY_WEIGHT,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MIN_PRIORITY_WEIGHT,
    NOTIFY_KEYS,
    PARAM_KEYS,
    PARAM_NAME,
    PARAM_TYPES,
    ROLES,
    SLUG,
    TASK_ID,
    TASK_NOTIFY_KEYS,
    TRIGGER_RULES,
    json_pattern,
)
from airflow_provider_scheduler.spec.policy import default_policy
from airflow_provider_scheduler.spec.regex_guard import MAX_PATTERN
from airflow_provider_scheduler.spec.schedule import (
    ASSET_URI,
    CRON_PRESETS,
    MAX_ANY_OF,
    MAX_ASSET_URI,
    MAX_ASSETS,
    MAX_AT_DATES,
    MAX_CRONS,
    MAX_SKIP_DATES,
    PRESET_ALIASES,
)

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.policy import GovernancePolicy

SCHEMA_ID = "https://github.com/airflow-provider-scheduler/schemas/schedule-spec-v1.json"

_SLUG = json_pattern(SLUG)
_TASK_ID = json_pattern(TASK_ID)
_PRESETS = "|".join(name.lstrip("@") for name in (*CRON_PRESETS, *PRESET_ALIASES))
_CRON = rf"^\s*(@({_PRESETS})|\S+(\s+\S+){{4}})\s*$"
_NOTIFY_EVENTS = {
    "on_failure": "When a DAG run fails.",
    "on_success": "When a DAG run succeeds.",
    "on_retry": "When a task is retried.",
}
assert tuple(_NOTIFY_EVENTS) == NOTIFY_KEYS
_TASK_NOTIFY_EVENTS = {
    "on_failure": "When the task fails (after its last try).",
    "on_retry": "When the task is retried (besides the spec-level notify.on_retry).",
}
assert tuple(_TASK_NOTIFY_EVENTS) == TASK_NOTIFY_KEYS


def spec_json_schema(
    catalog: TemplateCatalog | None = None,
    policy: GovernancePolicy | None = None,
    *,
    namespace: str | None = None,
    registry: TemplateCatalog | None = None,
) -> dict[str, Any]:
    """Return the JSON Schema of a spec (draft 2020-12) for the catalog's enabled templates.

    :param catalog: templates to describe, e.g. a ``TemplateRegistry`` (default: ``default_catalog()``);
        ``registry`` is its former name.
    :param policy: limits to publish as ``maxItems`` etc. (default: ``default_policy()``).
    :param namespace: describe only what this namespace may use (its allowed templates, and
        ``namespace`` fixed to it), for a team's portal form.
    """
    if catalog is None:
        catalog = registry if registry is not None else default_catalog()
    if policy is None:
        policy = default_policy()
    task_names = [
        n
        for n in catalog.allowed_names(namespace)
        if namespace is None or policy.allows_template(n, namespace)
    ]
    notifier_names = [
        n
        for n in catalog.allowed_names(namespace, notifiers=True)
        if namespace is None or policy.allows_template(n, namespace)
    ]
    defs: dict[str, Any] = {
        "duration": {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "ISO-8601 duration without years/months, e.g. PT30M, PT4H, P1D, P1DT12H.",
            "examples": ["PT5M", "PT1H", "P1D"],
        },
        "date": {
            "type": "string",
            "pattern": DATE_OR_DATETIME_PATTERN,
            "description": "A date (2026-01-01, midnight in the schedule's timezone) "
            "or a date-time with offset.",
            "examples": ["2026-01-01", "2026-01-01T06:00:00Z"],
        },
        "cron": {
            "type": "string",
            "pattern": _CRON,
            "description": "Five-field cron (minute hour day-of-month month day-of-week) or a preset: "
            + ", ".join(CRON_PRESETS),
            "examples": ["0 6 * * 1-5", "@daily"],
        },
        "timezone": {
            "type": "string",
            "description": "IANA timezone name.",
            "examples": ["Europe/Berlin", "UTC"],
        },
        "assetUri": {"type": "string", "pattern": json_pattern(ASSET_URI), "maxLength": MAX_ASSET_URI},
        "assetExpression": {
            "description": "All or any of asset URIs and nested expressions.",
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                op: {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_ASSETS,
                    "items": {"anyOf": [{"$ref": "#/$defs/assetUri"}, {"$ref": "#/$defs/assetExpression"}]},
                }
                for op in ("all", "any")
            },
        },
        "schedule": _schedule_schema(),
        "param": _param_schema(),
        "defaults": {
            "type": "object",
            "additionalProperties": False,
            "description": "Task defaults (Airflow default_args).",
            "properties": {
                "retries": {"type": "integer", "minimum": 0, "maximum": policy.max_retries, "default": 0},
                "retry_delay": {"$ref": "#/$defs/duration", "default": "PT5M"},
                "retry_exponential_backoff": {"type": "boolean", "default": False},
                "execution_timeout": {
                    "anyOf": [{"$ref": "#/$defs/duration"}, {"type": "null"}],
                    "default": None,
                },
                "max_retry_delay": {
                    "anyOf": [{"$ref": "#/$defs/duration"}, {"type": "null"}],
                    "default": None,
                    "description": "Longest wait between retries with backoff (null: Airflow's "
                    "[core] max_task_retry_delay).",
                },
                "depends_on_past": {
                    "type": "boolean",
                    "default": False,
                    "description": "A task runs only when its instance in the previous run succeeded "
                    "or was skipped.",
                },
            },
        },
        "taskNotify": {
            "type": "object",
            "additionalProperties": False,
            "description": "Notifications about this task (its own callbacks).",
            "properties": {
                event: {
                    "type": "array",
                    "maxItems": MAX_NOTIFIERS,
                    "items": {"$ref": "#/$defs/notifier"},
                    "description": description,
                }
                for event, description in _TASK_NOTIFY_EVENTS.items()
            },
        },
        "task": {},  # filled in below, once the template versions are known
        "notifier": {},
        "notify": {
            "type": "object",
            "additionalProperties": False,
            "description": "Notifications when a run fails or succeeds, or a task is retried.",
            "properties": {
                event: {
                    "type": "array",
                    "maxItems": MAX_NOTIFIERS,
                    "items": {"$ref": "#/$defs/notifier"},
                    "description": description,
                }
                for event, description in _NOTIFY_EVENTS.items()
            },
        },
    }
    task_versions = {n: _live_versions(catalog, n, notifiers=False) for n in task_names}
    notifier_versions = {n: _live_versions(catalog, n, notifiers=True) for n in notifier_names}
    task_names = [n for n in task_names if task_versions[n]]  # every version retired: not offered
    notifier_names = [n for n in notifier_names if notifier_versions[n]]
    for prefix, versions_of in (("with.", task_versions), ("notify.with.", notifier_versions)):
        for name, versions in versions_of.items():
            for version, entry, is_default in versions:
                body = {"description": entry.description, **copy.deepcopy(entry.with_schema)}
                defs[f"{prefix}{name}@{version}"] = body
                if is_default:  # NAME without @ means the default version
                    defs[f"{prefix}{name}"] = copy.deepcopy(body)
    task_refs = [f"{n}@{v}" for n in task_names for v, _, _ in task_versions[n]]
    notifier_refs = [f"{n}@{v}" for n in notifier_names for v, _, _ in notifier_versions[n]]
    defs["task"] = _task_schema(task_names, policy, _pool_schema(policy, namespace), task_refs)
    defs["notifier"] = _notifier_schema(notifier_names, notifier_refs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Schedule spec (version 1)",
        "description": "A schedule spec: what runs (approved task templates), when, and how. "
        "The dag_id is '<namespace>.<name>'.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "namespace", "name", "tasks"],
        "properties": {
            # spec.loader.BASE_REVISION_KEY (tests/unit/spec/test_json_schema.py keeps them equal)
            "x-base-revision": {
                "type": "integer",
                "minimum": 0,
                "maximum": 2**31 - 1,
                "description": "The store revision this file was exported at (written by `show` and "
                "`export`): `apply` refuses the file when the spec changed in the store since. Not stored.",
            },
            "version": {"const": SPEC_VERSION, "description": "Spec language version."},
            "namespace": (
                {"const": namespace, "description": "Team or area."}
                if namespace is not None
                else {"type": "string", "pattern": _SLUG, "description": "Team or area (slug)."}
            ),
            "name": {
                "type": "string",
                "pattern": _SLUG,
                "description": "Schedule name, unique in the namespace (slug).",
            },
            "description": {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION, "default": None},
            "owner": {"type": ["string", "null"], "maxLength": MAX_OWNER, "default": None},
            "tags": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH},
                "maxItems": MAX_TAGS,
                "uniqueItems": True,
                "default": [],
            },
            "paused": {"type": "boolean", "default": False, "description": "Create the DAG paused."},
            "schedule": {"$ref": "#/$defs/schedule"},
            "start_date": {
                "anyOf": [{"$ref": "#/$defs/date"}, {"type": "null"}],
                "default": None,
                "description": "First date runs may happen (required unless schedule is null).",
            },
            "end_date": {"anyOf": [{"$ref": "#/$defs/date"}, {"type": "null"}], "default": None},
            "catchup": {
                "type": "boolean",
                "default": False,
                "description": "Run missed intervals since start_date.",
            },
            "max_active_runs": {
                "type": "integer",
                "minimum": 1,
                "maximum": policy.max_active_runs,
                "default": 1,
            },
            "dagrun_timeout": {"anyOf": [{"$ref": "#/$defs/duration"}, {"type": "null"}], "default": None},
            "max_active_tasks": {
                "type": "integer",
                "minimum": 1,
                "maximum": policy.max_active_tasks,
                "description": "Most task instances of this DAG running at once, over all its runs "
                "(absent: Airflow's [core] max_active_tasks_per_dag).",
            },
            "params": {
                "type": "object",
                "maxProperties": policy.max_params,
                "propertyNames": {"pattern": json_pattern(PARAM_NAME)},
                "additionalProperties": {"$ref": "#/$defs/param"},
                "default": {},
                "description": "Run parameters (JSON-Schema typed) shown in Airflow's trigger form.",
            },
            "defaults": {"$ref": "#/$defs/defaults"},
            "notify": {"$ref": "#/$defs/notify"},
            "deadline": {
                "type": "object",
                "additionalProperties": False,
                "required": ["after", "notify"],
                "description": "Airflow 3.1+: notify when a run has not finished this long after it "
                "was queued (or after its logical date).",
                "properties": {
                    "after": {"$ref": "#/$defs/duration", "examples": ["PT2H"]},
                    "from": {"enum": list(DEADLINE_FROM), "default": "queued"},
                    "notify": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_NOTIFIERS,
                        "items": {"$ref": "#/$defs/notifier"},
                    },
                },
            },
            "tasks": {
                "type": "array",
                "minItems": 1,
                "maxItems": policy.max_tasks,
                "items": {"$ref": "#/$defs/task"},
            },
        },
        "$defs": defs,
        "x-limits": policy.describe(),
    }


def _skips() -> dict[str, Any]:
    """``skip_holidays`` and ``skip_dates``, allowed on cron and crons schedules."""
    code = {"type": "string", "pattern": r"^[A-Z]{2,3}(-[A-Z0-9]{1,4})?$", "maxLength": 16}
    return {
        "skip_holidays": {
            "description": "Holiday calendars whose public holidays are skipped: a country code (DE, US) "
            "or country-subdivision (DE-BY, US-NY), or a list of them (the holidays package's calendars).",
            "anyOf": [code, {"type": "array", "minItems": 1, "maxItems": MAX_CALENDARS, "items": code}],
        },
        "skip_dates": {
            "description": "Local dates (in the schedule's timezone) on which no run happens.",
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_SKIP_DATES,
            "items": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        },
    }


def _time_forms() -> list[dict[str, Any]]:
    """The time schedule forms as objects (the members ``any_of`` accepts)."""
    return [
        {
            "title": "Cron in a timezone",
            "type": "object",
            "additionalProperties": False,
            "required": ["cron", "timezone"],
            "properties": {
                "cron": {"$ref": "#/$defs/cron"},
                "timezone": {"$ref": "#/$defs/timezone"},
                **_skips(),
            },
        },
        {
            "title": "Several cron times",
            "type": "object",
            "additionalProperties": False,
            "required": ["crons", "timezone"],
            "properties": {
                "crons": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_CRONS,
                    "items": {"$ref": "#/$defs/cron"},
                },
                "timezone": {"$ref": "#/$defs/timezone"},
                **_skips(),
            },
        },
        {
            "title": "Fixed interval",
            "type": "object",
            "additionalProperties": False,
            "required": ["every"],
            "properties": {
                "every": {"$ref": "#/$defs/duration"},
                "anchor": {
                    "type": ["string", "null"],
                    "pattern": DATE_OR_DATETIME_PATTERN,
                    "description": "Date-time the intervals are counted from.",
                },
            },
        },
        {
            "title": "At explicit date-times",
            "type": "object",
            "additionalProperties": False,
            "required": ["at"],
            "properties": {
                "at": {
                    "description": "Date-times with offsets (2026-03-01T09:00:00+01:00); one run at each.",
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_AT_DATES,
                    "items": {"type": "string", "pattern": DATETIME_WITH_OFFSET_PATTERN},
                },
            },
        },
    ]


def _assets_form() -> dict[str, Any]:
    return {
        "title": "When assets are updated",
        "type": "object",
        "additionalProperties": False,
        "required": ["assets"],
        "properties": {
            "assets": {
                "anyOf": [
                    {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_ASSETS,
                        "uniqueItems": True,
                        "items": {"$ref": "#/$defs/assetUri"},
                    },
                    {"$ref": "#/$defs/assetExpression"},
                ]
            },
            "mode": {"enum": ["all", "any"], "default": "all", "description": "With a list of URIs only."},
        },
    }


def _schedule_schema() -> dict[str, Any]:
    return {
        "description": "When runs happen. null = manual only.",
        "default": None,
        "anyOf": [
            {"type": "null", "title": "Manual only"},
            {"const": "@once", "title": "Once, at start_date"},
            {"$ref": "#/$defs/cron", "title": "Cron in UTC"},
            *_time_forms(),
            _assets_form(),
            {
                "title": "Any of several schedules",
                "description": "A run at every time any member gives (at most one per instant), in any "
                "timezones; at most one assets member (then also when those assets update).",
                "type": "object",
                "additionalProperties": False,
                "required": ["any_of"],
                "properties": {
                    "any_of": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_ANY_OF,
                        "items": {"anyOf": [{"$ref": "#/$defs/cron"}, *_time_forms(), _assets_form()]},
                    }
                },
            },
        ],
    }


#: JSON Schema of each key a param schema may use (the keys are the parser's PARAM_KEYS)
_PARAM_KEY_SCHEMAS: dict[str, Any] = {
    "type": {"anyOf": [{"enum": list(PARAM_TYPES)}, {"type": "array", "items": {"enum": list(PARAM_TYPES)}}]},
    "default": {},
    "description": {"type": "string", "maxLength": MAX_PARAM_DESCRIPTION},
    "title": {"type": "string"},
    "enum": {"type": "array"},
    "const": {},
    "minimum": {"type": "number"},
    "maximum": {"type": "number"},
    "exclusiveMinimum": {"type": "number"},
    "exclusiveMaximum": {"type": "number"},
    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
    "minLength": {"type": "integer", "minimum": 0},
    "maxLength": {"type": "integer", "minimum": 0},
    "pattern": {"type": "string", "maxLength": MAX_PATTERN},
    "format": {"type": "string"},
    "items": {"$ref": "#/$defs/param"},  # the same keywords (parse_spec checks them recursively)
    "minItems": {"type": "integer", "minimum": 0},
    "maxItems": {"type": "integer", "minimum": 0},
    "uniqueItems": {"type": "boolean"},
    "examples": {"type": "array"},
}
assert tuple(_PARAM_KEY_SCHEMAS) == PARAM_KEYS


def _param_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "A JSON-Schema subset describing one param; "
        "'default' is required for scheduled specs.",
        "properties": copy.deepcopy(_PARAM_KEY_SCHEMAS),
    }


def _pool_schema(policy: GovernancePolicy, namespace: str | None) -> dict[str, Any]:
    """A task's ``pool``: for one namespace, the pools listed for it; else any name (the parser checks)."""
    description = "An Airflow pool listed for the namespace in [schedule_specs] pools."
    if namespace is not None:
        return {"enum": list(policy.pool_names(namespace)), "description": description}
    return {"type": "string", "minLength": 1, "maxLength": MAX_POOL_NAME, "description": description}


def _task_schema(
    names: list[str], policy: GovernancePolicy, pool: dict[str, Any], refs: list[str]
) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "template"],
        "properties": {
            "id": {
                "type": "string",
                "pattern": _TASK_ID,
                "description": "Task id (slug, unique in the spec).",
            },
            "template": {
                "enum": [*names, *refs],
                "description": "A registered, allowed task template: NAME (its default version) or "
                "NAME@VERSION.",
            },
            "with": {"type": "object", "default": {}, "description": "Arguments of the template."},
            "depends_on": {
                "type": "array",
                "items": {"type": "string", "pattern": _TASK_ID},
                "uniqueItems": True,
                "default": [],
                "description": "Ids of tasks that must finish first.",
            },
            "retries": {"type": "integer", "minimum": 0, "maximum": policy.max_retries},
            "execution_timeout": {"$ref": "#/$defs/duration"},
            "trigger_rule": {"enum": list(TRIGGER_RULES)},
            "role": {"enum": list(ROLES), "description": "Airflow setup/teardown task."},
            "outlets": {
                "description": "Asset URIs the task updates: on success each gets an asset event, so DAGs "
                "scheduled on it run.",
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_OUTLETS,
                "uniqueItems": True,
                "items": {"$ref": "#/$defs/assetUri"},
            },
            "for_each": _for_each_schema(policy),
            "retry_delay": {"$ref": "#/$defs/duration", "description": "Override of defaults.retry_delay."},
            "retry_exponential_backoff": {
                "type": "boolean",
                "description": "Override of defaults.retry_exponential_backoff.",
            },
            "max_retry_delay": {
                "$ref": "#/$defs/duration",
                "description": "Override of defaults.max_retry_delay.",
            },
            "notify": {"$ref": "#/$defs/taskNotify"},
            "pool": pool,
            "priority_weight": {
                "type": "integer",
                "minimum": MIN_PRIORITY_WEIGHT,
                "maximum": MAX_PRIORITY_WEIGHT,
                "description": "Airflow priority weight (default 1); higher runs first when slots are short.",
            },
            "group": {
                "type": "string",
                "pattern": _SLUG,
                "maxLength": MAX_GROUP_NAME,
                "description": "Airflow TaskGroup the task is shown in (slug, not a task id); the task id "
                "stays as written.",
            },
        },
        "allOf": [
            {
                "if": {"properties": {"template": {"const": name}}, "required": ["template"]},
                "then": {"properties": {"with": {"$ref": f"#/$defs/with.{name}"}}},
            }
            for name in [*names, *refs]
        ],
    }


def _for_each_schema(policy: GovernancePolicy) -> dict[str, Any]:
    scalar: dict[str, Any] = {"type": ["string", "number", "boolean"]}
    return {
        "description": "Fan out: one mapped task instance per item (Airflow dynamic task mapping); "
        "{{ item }} in this task's with names the instance's item. A list of items (strings, numbers, "
        "true/false or flat objects of those), or one reference '{{ params.NAME }}' to a param of type "
        "array (its list is checked against [schedule_specs] max_map_length when a run starts).",
        "oneOf": [
            {
                "type": "array",
                "minItems": 1,
                "maxItems": policy.max_map_length,
                "items": {
                    "anyOf": [
                        scalar,
                        {
                            "type": "object",
                            "maxProperties": MAX_ITEM_KEYS,
                            "additionalProperties": scalar,
                        },
                    ]
                },
            },
            {"type": "string", "pattern": f"^{FOR_EACH_PARAM.pattern}$"},
        ],
    }


def _notifier_schema(names: list[str], refs: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["template"],
        "properties": {
            "template": {
                "enum": [*names, *refs],
                "description": "A registered, allowed notification template: NAME (its default "
                "version) or NAME@VERSION.",
            },
            "with": {"type": "object", "default": {}},
        },
        "allOf": [
            {
                "if": {"properties": {"template": {"const": name}}, "required": ["template"]},
                "then": {"properties": {"with": {"$ref": f"#/$defs/notify.with.{name}"}}},
            }
            for name in [*names, *refs]
        ],
    }


def _live_versions(catalog: Any, name: str, *, notifiers: bool) -> list[tuple[int, Any, bool]]:
    """``(version, entry, is_default)`` of each version of ``name`` a spec may name (not retired).

    A catalog without versions has version 1 of each template only.
    """
    if getattr(catalog, "template_versions", None) is None:
        entry = catalog.get_notifier(name) if notifiers else catalog.get(name)
        return [] if entry is None else [(1, entry, True)]
    default = catalog.default_version(name, notifiers=notifiers)
    out = []
    for version in catalog.template_versions(name, notifiers=notifiers):
        if catalog.is_retired(name, version, notifiers=notifiers):
            continue
        entry = catalog.get_version(name, version, notifiers=notifiers)
        if entry is not None:
            out.append((version, entry, version == default))
    return out
