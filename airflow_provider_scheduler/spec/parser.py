"""``parse_spec``: validate a spec document and build the immutable model, collecting every problem."""

from __future__ import annotations

import difflib
import functools
import itertools
import json
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.catalog import (
    MAX_VERSION,
    default_catalog,
    resolve_version,
    split_template_ref,
)
from airflow_provider_scheduler.spec.dates import read_date, utc_instant
from airflow_provider_scheduler.spec.durations import DurationError, human_duration, parse_duration
from airflow_provider_scheduler.spec.errors import Problem, SpecError, join_path
from airflow_provider_scheduler.spec.fastcheck import linear_validator
from airflow_provider_scheduler.spec.jinja_check import ITEM_NAMES, check_template, has_template
from airflow_provider_scheduler.spec.model import (
    DEADLINE_FROM,
    SPEC_VERSION,
    Deadline,
    Defaults,
    NotifierSpec,
    Notify,
    ScheduleSpec,
    TaskNotify,
    TaskSpec,
    for_each_items_task_id,
    for_each_param_name,
    freeze,
    item_refusal,
    thaw,
)
from airflow_provider_scheduler.spec.policy import default_policy
from airflow_provider_scheduler.spec.regex_guard import (
    STEP_BUDGET,
    PatternCost,
    pattern_cost,
    pattern_refusal,
)
from airflow_provider_scheduler.spec.schedule import (
    AnyOfSchedule,
    AtSchedule,
    ManualSchedule,
    Schedule,
    check_asset_uri,
    parse_schedule,
)

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.catalog import CatalogEntry, TemplateCatalog
    from airflow_provider_scheduler.spec.policy import GovernancePolicy

SPEC_KEYS = (
    "version",
    "namespace",
    "name",
    "description",
    "owner",
    "tags",
    "paused",
    "schedule",
    "start_date",
    "end_date",
    "catchup",
    "max_active_runs",
    "dagrun_timeout",
    "params",
    "defaults",
    "notify",
    "tasks",
    "deadline",
    "max_active_tasks",
)
TASK_KEYS = (
    "id",
    "template",
    "with",
    "depends_on",
    "retries",
    "execution_timeout",
    "trigger_rule",
    "role",
    "outlets",
    "for_each",
    "retry_delay",
    "retry_exponential_backoff",
    "max_retry_delay",
    "notify",
    "pool",
    "priority_weight",
    "group",
)
#: at most this many ``outlets`` on one task
MAX_OUTLETS = 20
DEFAULTS_KEYS = (
    "retries",
    "retry_delay",
    "retry_exponential_backoff",
    "execution_timeout",
    "max_retry_delay",
    "depends_on_past",
)
#: the events of a task's own ``notify`` (a run's success is the spec-level ``notify.on_success``)
TASK_NOTIFY_KEYS = ("on_failure", "on_retry")
#: a task's ``priority_weight`` is a whole number in this range
MIN_PRIORITY_WEIGHT = 1
MAX_PRIORITY_WEIGHT = 1000
#: characters in a pool name (Airflow's pool column holds 256)
MAX_POOL_NAME = 256
#: characters in a task ``group`` name (a slug, like namespace and name)
MAX_GROUP_NAME = 64
NOTIFY_KEYS = ("on_failure", "on_success", "on_retry")
NOTIFIER_KEYS = ("template", "with")
DEADLINE_KEYS = ("after", "from", "notify")
#: the longest ``deadline.after``
MAX_DEADLINE = timedelta(days=31)
PARAM_KEYS = (
    "type",
    "default",
    "description",
    "title",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "examples",
)
PARAM_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
TRIGGER_RULES = (
    "all_success",
    "all_failed",
    "all_done",
    "all_skipped",
    "one_success",
    "one_failed",
    "one_done",
    "none_failed",
    "none_failed_min_one_success",
    "none_skipped",
    "always",
)
ROLES = ("setup", "teardown")

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")
TASK_ID = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9])?")
PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_PROBLEMS = 200
#: Size caps checked in one linear pass over the whole document before any other check (README
#: "Limits"), so that no later check (JSON Schema, duplicates, dependencies) can take long:
#: items in any list (``tasks`` has the policy's ``max_tasks`` instead), keys in any object, levels of
#: nesting (32 inside a ``with`` or a param, see ``json_values``).
MAX_LIST_ITEMS = 1000
MAX_OBJECT_KEYS = 1000
MAX_DEPTH = 40
#: characters in the strings holding Jinja markers (``{{``, ``{%``, ``{#``), summed over a spec:
#: jinja2 lexes and parses about 10-50 us per token, so this bounds the Jinja check to about a second
MAX_TEMPLATE_TEXT = 50_000
#: items (objects or lists) a param default may list under ``uniqueItems``: Airflow's own jsonschema
#: compares such items pair by pair whenever it checks the param
MAX_UNIQUE_ITEMS = 100
MAX_TAGS = 20
MAX_TAG_LENGTH = 100
MAX_NOTIFIERS = 10
MAX_DESCRIPTION = 5000
MAX_OWNER = 200
MAX_PARAM_DESCRIPTION = 1000
MAX_NAME = 64
MAX_TASK_ID = 100
#: whole numbers must be printable and serialisable (Python converts at most 4300 digits to text)
MAX_INT_DIGITS = 4300
_TOO_LONG_INT = 10**MAX_INT_DIGITS
_TOO_LONG_MESSAGE = (
    f"is a number with more than {MAX_INT_DIGITS} digits; numbers in a spec have at most "
    f"{MAX_INT_DIGITS} digits"
)


def _long_int(value: Any) -> bool:
    """An int too long to print (``str()`` raises) or to write as JSON."""
    return type(value) is int and not -_TOO_LONG_INT < value < _TOO_LONG_INT


def json_pattern(pattern: re.Pattern[str]) -> str:
    """A parser regex (used with ``fullmatch``) as an anchored JSON Schema ``pattern``."""
    return f"^(?:{pattern.pattern})$"


def parse_spec(
    data: Mapping[str, Any],
    *,
    catalog: TemplateCatalog | None = None,
    policy: GovernancePolicy | None = None,
    registry: TemplateCatalog | None = None,
) -> ScheduleSpec:
    """Validate a spec document and return the immutable :class:`ScheduleSpec`.

    :param data: the spec as loaded from JSON/YAML (or ``ScheduleSpec.to_dict()``).
    :param catalog: the templates a spec may name and who may use them, e.g. a ``TemplateRegistry``
        (default: :func:`~airflow_provider_scheduler.spec.catalog.default_catalog`, the installed
        provider's ``default_registry()``, which reads Airflow's configuration).
    :param policy: governance limits (default: ``default_policy()``, from Airflow's configuration).
    :param registry: the former name of ``catalog`` (still accepted).
    :raises SpecError: listing every problem found, each with its JSON path.
    """
    parser = _Parser(catalog if catalog is not None else registry, policy)
    spec = parser.parse(data)
    if parser.problems or spec is None:
        raise SpecError(parser.problems[:MAX_PROBLEMS] + parser.overflow(), spec_id=parser.spec_id)
    parser.stored_size_limit(spec)
    if parser.problems:
        raise SpecError(parser.problems, spec_id=parser.spec_id)
    return spec


def did_you_mean(word: str, choices: Any) -> str:
    """`` (did you mean 'x'?)`` when a close choice exists, else ``""``."""
    if len(word) > 100:  # no name is that long; difflib's work grows with the word
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_word(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


class _Parser:
    def __init__(self, catalog: TemplateCatalog | None, policy: GovernancePolicy | None) -> None:
        self._catalog = catalog
        self._policy = policy
        self.problems: list[Problem] = []
        self.spec_id: str | None = None
        self.namespace: str | None = None
        #: (path of the with field, referring task id, referenced task id), see TaskTemplate.task_refs
        self.task_refs: list[tuple[str, str | None, str]] = []
        #: True once a JSON Schema check was skipped or cut short because MAX_PROBLEMS were found
        self.stopped = False
        #: the document's size as compact JSON (see size_limit), 0 until measured
        self.measured_size = 0
        #: the accepted params (name -> schema) and every name declared, for ``for_each`` references
        self.param_schemas: Mapping[str, Mapping[str, Any]] = {}
        self.declared_params: tuple[str, ...] = ()

    # helpers
    @property
    def catalog(self) -> TemplateCatalog:
        if self._catalog is None:
            self._catalog = default_catalog()
        return self._catalog

    @property
    def policy(self) -> GovernancePolicy:
        if self._policy is None:
            self._policy = default_policy()
        return self._policy

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def overflow(self) -> list[Problem]:
        extra = len(self.problems) - MAX_PROBLEMS
        if self.stopped:  # some checks were skipped: the count is a lower bound
            more = f"at least {extra} more problems" if extra > 0 else "possibly more problems"
            return [Problem("", f"... and {more} (checking stopped after {MAX_PROBLEMS})")]
        return [Problem("", f"... and {extra} more problems")] if extra > 0 else []

    def unknown_keys(self, value: Mapping[Any, Any], allowed: tuple[str, ...], path: str) -> None:
        for key in value:
            if key not in allowed:
                sub = f"{path}.{key}" if path else str(key)
                if len(self.problems) >= MAX_PROBLEMS:  # not shown: spare the hint's cost
                    self.add(sub, f"unknown key {key!r}")
                    continue
                hint = did_you_mean(str(key), allowed)
                if not hint:
                    hint = f"; allowed keys: {', '.join(allowed)}"
                self.add(sub, f"unknown key {key!r}{hint}")

    def mapping(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.add(path, f"must be an object (key: value pairs), not {_type_word(value)}")
        return None

    def boolean(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        self.add(path, f"must be true or false, not {_type_word(value)}")
        return default

    def integer(self, value: Any, path: str, low: int, high: int, what: str = "") -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"must be a whole number, not {_type_word(value)}")
            return None
        if _long_int(value):
            self.add(path, _TOO_LONG_MESSAGE)
            return None
        if value < low or value > high:
            self.add(path, f"must be between {low} and {high}{what}, not {value}")
            return None
        return value

    def text(self, value: Any, path: str, max_len: int, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.add(path, "is required")
            return None
        if not isinstance(value, str):
            self.add(path, f"must be a string, not {_type_word(value)}")
            return None
        if len(value) > max_len:
            self.add(path, f"is too long ({len(value)} characters; at most {max_len})")
            return None
        return value

    def duration(self, value: Any, path: str) -> timedelta | None:
        if value is None:
            return None
        try:
            result = parse_duration(value)
        except DurationError as exc:
            self.add(path, str(exc))
            return None
        return result

    def slug(self, value: Any, path: str, pattern: re.Pattern[str], what: str, max_len: int) -> str | None:
        if value is None:
            self.add(path, "is required")
            return None
        if not isinstance(value, str):
            self.add(path, f"must be a string, not {_type_word(value)}")
            return None
        if len(value) > max_len:
            self.add(path, f"is too long ({len(value)} characters; at most {max_len})")
            return None
        if not pattern.fullmatch(value):
            self.add(
                path,
                f"{value!r} is not a valid {what}: use lowercase letters, digits, '-' and '_', "
                f"starting and ending with a letter or digit",
            )
            return None
        return value

    def date_value(self, value: Any, path: str) -> date | datetime | None:
        if value is None:
            return None
        if not isinstance(value, (str, date)):
            self.add(path, f"must be a date such as 2026-01-01, not {_type_word(value)}")
            return None
        result, why = read_date(value)
        if why is not None:
            self.add(path, why)
        return result

    def json_values(self, value: Any, path: str, depth: int = 0) -> bool:
        """Check that ``value`` is plain JSON (so to_dict() can be serialised); report the first offender."""
        if _long_int(value):
            self.add(path, _TOO_LONG_MESSAGE)
            return False
        if value is None or isinstance(value, (str, bool, int)):
            return True
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                self.add(path, "must be a finite number (NaN and infinity are not JSON)")
                return False
            return True
        if depth > 32:
            self.add(path, "is nested too deeply (at most 32 levels)")
            return False
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.add(path, f"keys must be strings, not {_type_word(key)} ({key!r})")
                    return False
                if not self.json_values(item, f"{path}.{key}", depth + 1):
                    return False
            return True
        if isinstance(value, (list, tuple)):
            return all(self.json_values(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
        self.add(
            path,
            f"must be a JSON value (text, number, true/false, null, list or object), not {_type_word(value)}",
        )
        return False

    def templated_strings(self, value: Any, path: str, names: frozenset[str] = frozenset()) -> None:
        """Check Jinja in every string of ``value`` (recursively); ``names``: allowed extra names."""
        if isinstance(value, str):
            if has_template(value):
                reason = check_template(value, names)
                if reason:
                    self.add(path, reason)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                self.templated_strings(item, f"{path}.{key}", names)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                self.templated_strings(item, f"{path}[{i}]", names)

    def schema_problems(self, template: CatalogEntry, value: Any, path: str) -> None:
        fast = template.fast_check
        if fast is not None and fast(value):
            return
        try:
            validator = template.validator
        except Exception as exc:  # a platform team registered a broken schema
            self.add(path, f"the template {template.name!r} has an invalid schema ({exc}); tell your admin")
            return
        room = MAX_PROBLEMS + 1 - len(self.problems)
        if room <= 0:  # refused already, and nobody reads beyond MAX_PROBLEMS: spare the work
            self.stopped = True
            return
        errors = list(itertools.islice(validator.iter_errors(value), room))
        if len(errors) == room:
            self.stopped = True
        for err in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
            sub = path
            for part in err.absolute_path:
                sub = f"{sub}[{part}]" if isinstance(part, int) else f"{sub}.{part}"
            self._schema_error(err, sub)

    def _schema_error(self, err: Any, path: str) -> None:
        kind = err.validator
        schema = err.schema if isinstance(err.schema, Mapping) else {}
        instance = err.instance
        if kind == "additionalProperties" and isinstance(instance, Mapping):
            known = tuple(schema.get("properties", {}))
            for key in instance:
                if key not in known:
                    if len(self.problems) >= MAX_PROBLEMS:  # not shown: spare the hint's cost
                        self.add(f"{path}.{key}", f"unknown key {key!r}")
                        continue
                    hint = did_you_mean(str(key), known) or (
                        f"; allowed keys: {', '.join(known)}"
                        if known
                        else "; this template takes no arguments"
                    )
                    self.add(f"{path}.{key}", f"unknown key {key!r}{hint}")
            return
        if kind == "required":
            match = re.match(r"^'(.+)' is a required property$", err.message)
            name = match.group(1) if match else None
            self.add(f"{path}.{name}" if name else path, "is required")
            return
        messages = {
            "type": lambda: f"must be {_json_type_words(err.validator_value)}, not {_type_word(instance)}",
            "enum": lambda: "must be one of: " + ", ".join(json.dumps(v) for v in err.validator_value),
            "const": lambda: f"must be {json.dumps(err.validator_value)}",
            "minimum": lambda: f"must be at least {err.validator_value}",
            "maximum": lambda: f"must be at most {err.validator_value}",
            "minLength": lambda: f"must be at least {err.validator_value} characters long",
            "maxLength": lambda: f"must be at most {err.validator_value} characters long",
            "minItems": lambda: f"must list at least {err.validator_value} item(s)",
            "maxItems": lambda: f"must list at most {err.validator_value} items",
            "uniqueItems": lambda: "must not list the same item twice",
            "pattern": lambda: (
                f"{instance!r} does not have the expected form"
                + (f" ({schema['description']})" if schema.get("description") else "")
            ),
        }
        make = messages.get(kind)
        self.add(path, make() if make else err.message)

    # the document
    def parse(self, data: Any) -> ScheduleSpec | None:
        if not isinstance(data, Mapping):
            self.add("", f"a spec must be an object (key: value pairs), not {_type_word(data)}")
            return None
        self.size_limit(data)
        if not self.structure(data):
            namespace, name = data.get("namespace"), data.get("name")
            if (
                isinstance(namespace, str)
                and isinstance(name, str)
                and SLUG.fullmatch(namespace)
                and SLUG.fullmatch(name)
            ):  # say which spec it is
                self.spec_id = f"{namespace}.{name}"
            return None  # no later check may see what the structure pass refused
        self.unknown_keys(data, SPEC_KEYS, "")
        version = data.get("version")
        if version is None:
            self.add("version", f"is required (use {SPEC_VERSION})")
        elif _long_int(version):
            self.add("version", _TOO_LONG_MESSAGE)
        elif isinstance(version, bool) or version != SPEC_VERSION:
            self.add(
                "version", f"unsupported spec version {version!r}; this provider reads version {SPEC_VERSION}"
            )
        namespace = self.slug(data.get("namespace"), "namespace", SLUG, "namespace", MAX_NAME)
        name = self.slug(data.get("name"), "name", SLUG, "name", MAX_NAME)
        self.namespace = namespace
        if namespace and name:
            self.spec_id = f"{namespace}.{name}"
        description = self.text(data.get("description"), "description", MAX_DESCRIPTION)
        if description is not None and not description.strip():
            # Airflow shows the first line as the DAG's description: a blank text has none
            self.add("description", "is blank; write a description or leave the key out")
            description = None
        elif description is not None and description.rstrip().endswith(".md"):
            # Airflow reads a doc_md ending in ".md" as a FILE path on the DAG processor
            self.add("description", "must not end with '.md' (Airflow would read it as a file name)")
            description = None
        owner = self.text(data.get("owner"), "owner", MAX_OWNER)
        tags = self.tags(data.get("tags"))
        paused = self.boolean(data.get("paused"), "paused", False)
        catchup = self.boolean(data.get("catchup"), "catchup", False)
        schedule = parse_schedule(data.get("schedule"), "schedule", self.problems)
        start_date = self.date_value(data.get("start_date"), "start_date")
        end_date = self.date_value(data.get("end_date"), "end_date")
        max_active_runs = 1
        if data.get("max_active_runs") is not None:
            value = self.integer(data["max_active_runs"], "max_active_runs", 1, self.policy.max_active_runs)
            max_active_runs = value if value is not None else 1
        max_active_tasks = self.max_active_tasks(data.get("max_active_tasks"))
        dagrun_timeout = self.duration(data.get("dagrun_timeout"), "dagrun_timeout")
        params = self.params(data.get("params"), schedule)
        self.param_schemas = params
        raw_params = data.get("params")
        self.declared_params = tuple(str(k) for k in raw_params) if isinstance(raw_params, Mapping) else ()
        defaults = self.defaults(data.get("defaults"))
        notify = self.notify(data.get("notify"))
        deadline = self.deadline(data.get("deadline"), schedule)
        tasks = self.tasks(data.get("tasks"))

        if schedule is not None and not isinstance(schedule, ManualSchedule):
            # (Airflow 2.11 refuses any schedule, assets included, without a start_date)
            if start_date is None and data.get("start_date") is None and schedule.kind != "at":
                self.add("start_date", "is required for a scheduled spec (e.g. 2026-01-01)")
            self.interval_limit(schedule)
        if (
            start_date is not None
            and end_date is not None
            and utc_instant(end_date) < utc_instant(start_date)
        ):
            self.add("end_date", "must not be before start_date")

        if self.problems:
            return None
        assert namespace
        assert name
        assert schedule is not None
        assert tasks is not None
        return ScheduleSpec(
            version=SPEC_VERSION,
            namespace=namespace,
            name=name,
            description=description,
            owner=owner,
            tags=tags,
            paused=paused,
            schedule=schedule,
            start_date=start_date,
            end_date=end_date,
            catchup=catchup,
            max_active_runs=max_active_runs,
            dagrun_timeout=dagrun_timeout,
            params=params,
            defaults=defaults,
            notify=notify,
            tasks=tasks,
            deadline=deadline,
            max_active_tasks=max_active_tasks,
        )

    def max_active_tasks(self, value: Any) -> int | None:
        """The top-level ``max_active_tasks`` (None: Airflow's configured default)."""
        if value is None:
            return None
        return self.integer(
            value,
            "max_active_tasks",
            1,
            self.policy.max_active_tasks,
            " ([schedule_specs] max_active_tasks)",
        )

    def stored_size_limit(self, spec: ScheduleSpec) -> None:
        """The spec as stored (canonical form, defaults filled in) must fit the limit too.

        Otherwise a store would write what it then refuses to read back. Only measured when the
        document itself was near the limit (the canonical form is at most a little larger).
        """
        limit = self.policy.max_spec_bytes
        if self.measured_size * 2 <= limit:
            return
        size = len(json.dumps(spec.to_dict(), separators=(",", ":")))
        if size > limit:
            self.add(
                "",
                f"the spec is too large as stored ({size} bytes as canonical JSON, with its defaults "
                f"filled in; at most {limit} bytes)",
            )

    def size_limit(self, data: Mapping[str, Any]) -> None:
        limit = self.policy.max_spec_bytes
        try:
            size = len(json.dumps(data, default=str, separators=(",", ":")))
        except (TypeError, ValueError, RecursionError):
            return
        self.measured_size = size
        if size > limit:
            self.add("", f"the spec is too large ({size} bytes as JSON; at most {limit} bytes)")

    def structure(self, data: Mapping[str, Any]) -> bool:
        """One linear pass over the whole document before any other check; False when it refused.

        Refused here: a list longer than ``MAX_LIST_ITEMS`` (``tasks``: the policy's limit, checked
        by ``tasks``), an object with more than ``MAX_OBJECT_KEYS`` keys, nesting deeper than
        ``MAX_DEPTH``, more than ``MAX_TEMPLATE_TEXT`` characters of templated strings, and any
        string or key that no store can hold: a lone surrogate (``\\ud800`` from a JSON or YAML
        escape is not valid Unicode and cannot be encoded as UTF-8) or NUL (PostgreSQL text cannot
        store it). Every later check then runs on bounded input, and no raw unencodable text reaches
        a problem's path.
        """
        before = len(self.problems)
        templated = 0
        # (value, where, depth); ``where`` is a linked (parent, key) pair, rendered only for a problem
        stack: list[tuple[Any, Any, int]] = [(data, None, 0)]
        while stack:
            value, where, depth = stack.pop()
            kind = type(value)
            if kind is str:
                why = text_refusal(value)
                if why:
                    self.add(_render_path(where), why)
                if "{" in value and has_template(value):
                    templated += len(value)
                continue
            if kind is dict or (kind is not list and isinstance(value, Mapping)):
                items: list[tuple[Any, Any]] = list(value.items())
                limit, what = MAX_OBJECT_KEYS, "keys"
            elif kind is list or isinstance(value, tuple):
                items = list(enumerate(value))
                limit, what = MAX_LIST_ITEMS, "items"
                if where == (None, "tasks"):
                    limit = len(items)  # the policy's max_tasks applies (see tasks)
            else:
                continue
            if not items:
                continue
            if depth >= MAX_DEPTH:
                self.add(_render_path(where), f"is nested too deeply (at most {MAX_DEPTH} levels in a spec)")
                continue
            if len(items) > limit:
                self.add(_render_path(where), f"has too many {what} ({len(items)}; at most {limit})")
                continue
            for key, item in reversed(items):  # pushed in reverse: problems come in document order
                if type(key) is str:
                    why = text_refusal(key)
                    if why:
                        self.add(_render_path(where), f"the key {key!r} {why}")
                        continue
                if type(item) in _PLAIN_SCALARS:
                    continue  # nothing to check in a number, a boolean or null
                stack.append((item, (where, key), depth + 1))
        if templated > MAX_TEMPLATE_TEXT:
            self.add(
                "",
                f"has too much templated text ({templated} characters in strings with '{{{{', '{{%' or "
                f"'{{#'; at most {MAX_TEMPLATE_TEXT} in a spec)",
            )
        return len(self.problems) == before

    def interval_limit(self, schedule: Schedule) -> None:
        for path, member in _at_members(schedule):
            if len(member.instants) > self.policy.max_at_dates:
                self.add(
                    path,
                    f"lists {len(member.instants)} date-times; this deployment allows at most "
                    f"{self.policy.max_at_dates} ([schedule_specs] max_at_dates)",
                )
        minimum = self.policy.min_interval
        if minimum <= timedelta(0):
            return
        gap = schedule.min_interval()
        if gap is not None and gap < minimum:
            path = {"every": "schedule.every", "crons": "schedule.crons"}.get(schedule.kind, "schedule")
            if schedule.kind == "cron" and not isinstance(schedule.to_json(), str):
                path = "schedule.cron"
            self.add(
                path,
                f"runs as often as every {human_duration(gap)}; this deployment allows at most one run "
                f"every {human_duration(minimum)}",
            )

    def tags(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add("tags", f"must be a list of strings, not {_type_word(value)}")
            return ()
        if len(value) > MAX_TAGS:
            self.add("tags", f"at most {MAX_TAGS} tags are allowed, not {len(value)}")
            return ()
        out: list[str] = []
        for i, tag in enumerate(value):
            text = self.text(tag, f"tags[{i}]", MAX_TAG_LENGTH, required=True)
            if text is None:
                continue
            if not text.strip():
                self.add(f"tags[{i}]", "must not be empty")
            elif text in out:
                self.add(f"tags[{i}]", f"{text!r} is listed twice")
            else:
                out.append(text)
        return tuple(out)

    def params(self, value: Any, schedule: Schedule | None) -> Mapping[str, Mapping[str, Any]]:
        if value is None:
            return freeze({})
        params = self.mapping(value, "params")
        if params is None:
            return freeze({})
        if len(params) > self.policy.max_params:
            self.add("params", f"at most {self.policy.max_params} params are allowed, not {len(params)}")
            return freeze({})
        out: dict[str, Any] = {}
        for key, schema in params.items():
            path = f"params.{key}"
            if not isinstance(key, str) or not PARAM_NAME.fullmatch(key):
                self.add(
                    path,
                    f"{key!r} is not a valid param name: use letters, digits and '_', "
                    "not starting with a digit",
                )
                continue
            schema_map = self.mapping(schema, path)
            if schema_map is None:
                continue
            if not (self.json_values(schema_map, path) and self.param_schema(schema_map, path)):
                continue
            if (
                "default" not in schema_map
                and schedule is not None
                and not isinstance(schedule, ManualSchedule)
            ):
                self.add(
                    path,
                    "has no default, but scheduled runs need one: add a default, or use schedule: null "
                    "(manual runs only)",
                )
                continue
            out[key] = schema_map
        return freeze(out)

    def param_schema(self, schema: Mapping[str, Any], path: str) -> bool:
        before = len(self.problems)
        self.param_keywords(schema, path)
        if len(self.problems) > before:
            return False
        if "default" in schema:
            self.default_cost(schema, schema["default"], f"{path}.default")
            if len(self.problems) > before:
                return False  # never hand jsonschema a default it would check slowly
        try:
            key = json.dumps(schema, sort_keys=True, default=str)
        except (TypeError, ValueError):
            self.add(path, "must contain only JSON values")
            return False
        problem = _check_param_schema(key)
        if problem is not None:
            sub, message = problem
            self.add(f"{path}.{sub}" if sub else path, message)
            return False
        return True

    def param_keywords(self, schema: Mapping[str, Any], path: str) -> None:
        """The keywords of a param schema and of its ``items`` schemas (the same subset, recursively).

        Checked before jsonschema sees the schema, so that its meta-schema check only ever gets
        short lists (``type`` lists at most the seven types) and safe ``pattern`` regexes.
        """
        self.unknown_keys(schema, PARAM_KEYS, path)
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
        if len(kinds) > len(PARAM_TYPES):
            self.add(f"{path}.type", f"lists {len(kinds)} types; there are only {len(PARAM_TYPES)}")
            kinds = []
        for k in kinds:
            if k not in PARAM_TYPES:
                self.add(
                    f"{path}.type",
                    f"unknown type {k!r}{did_you_mean(str(k), PARAM_TYPES)}; "
                    f"use one of: {', '.join(PARAM_TYPES)}",
                )
        if "description" in schema:
            self.text(schema["description"], f"{path}.description", MAX_PARAM_DESCRIPTION)
        pattern = schema.get("pattern")
        if isinstance(pattern, str):  # (another type: the schema check reports it)
            reason = pattern_refusal(pattern)
            if reason:
                self.add(f"{path}.pattern", reason)
        items = schema.get("items")
        if isinstance(items, Mapping):
            self.param_keywords(items, f"{path}.items")

    def default_cost(self, schema: Mapping[str, Any], value: Any, path: str) -> None:
        """Refuse a default that jsonschema (here, and Airflow on every check) would check slowly.

        Its strings are matched against the schema's accepted ``pattern`` (polynomial time at worst,
        see ``regex_guard.PatternCost``), and ``uniqueItems`` over objects or lists is pairwise in
        Airflow's jsonschema.
        """
        if not isinstance(value, list):
            if isinstance(value, str):
                cost = _pattern_cost_of(schema)
                if cost is not None and cost.steps(len(value)) > STEP_BUDGET:
                    self.add(
                        path,
                        f"is too long to be checked against the param's pattern quickly ({len(value)} "
                        f"characters; at most {cost.max_length()} for this pattern: simplify the "
                        "pattern or shorten the default)",
                    )
            return
        if (
            schema.get("uniqueItems") is True
            and len(value) > MAX_UNIQUE_ITEMS
            and any(isinstance(item, (Mapping, list)) for item in value)
        ):
            self.add(
                path,
                f"lists {len(value)} objects or lists under uniqueItems; at most {MAX_UNIQUE_ITEMS} "
                "(Airflow compares every pair of them each time it checks the param)",
            )
            return
        items = schema.get("items")
        if not isinstance(items, Mapping):
            return
        cost = _pattern_cost_of(items)
        if cost is not None:
            steps = sum(cost.steps(len(v)) for v in value if isinstance(v, str))
            if steps > STEP_BUDGET:
                self.add(
                    path,
                    "holds too much text to be checked against the items' pattern quickly: simplify "
                    "the pattern or shorten the default",
                )
                return
        for i, item in enumerate(value):
            if isinstance(item, list):
                self.default_cost(items, item, f"{path}[{i}]")

    def defaults(self, value: Any) -> Defaults:
        if value is None:
            return Defaults()
        defaults = self.mapping(value, "defaults")
        if defaults is None:
            return Defaults()
        self.unknown_keys(defaults, DEFAULTS_KEYS, "defaults")
        kwargs: dict[str, Any] = {}
        if defaults.get("retries") is not None:
            kwargs["retries"] = self.retries(defaults["retries"], "defaults.retries")
        if defaults.get("retry_delay") is not None:
            kwargs["retry_delay"] = self.duration(defaults["retry_delay"], "defaults.retry_delay")
        kwargs["retry_exponential_backoff"] = self.boolean(
            defaults.get("retry_exponential_backoff"), "defaults.retry_exponential_backoff", False
        )
        kwargs["execution_timeout"] = self.duration(
            defaults.get("execution_timeout"), "defaults.execution_timeout"
        )
        kwargs["max_retry_delay"] = self.duration(defaults.get("max_retry_delay"), "defaults.max_retry_delay")
        kwargs["depends_on_past"] = self.boolean(
            defaults.get("depends_on_past"), "defaults.depends_on_past", False
        )
        kwargs = {
            k: v for k, v in kwargs.items() if v is not None or k in ("execution_timeout", "max_retry_delay")
        }
        return Defaults(**kwargs)

    def retries(self, value: Any, path: str) -> int | None:
        return self.integer(value, path, 0, self.policy.max_retries)

    def notify(self, value: Any) -> Notify:
        if value is None:
            return Notify()
        notify = self.mapping(value, "notify")
        if notify is None:
            return Notify()
        self.unknown_keys(notify, NOTIFY_KEYS, "notify")
        out: dict[str, tuple[NotifierSpec, ...]] = {}
        for event in NOTIFY_KEYS:
            items = notify.get(event)
            if items is None:
                continue
            specs = self.notifiers(items, f"notify.{event}")
            if specs is not None:
                out[event] = specs
        return Notify(**out)

    def notifiers(self, items: Any, path: str) -> tuple[NotifierSpec, ...] | None:
        """A list of notifications (``notify.on_failure``, ``deadline.notify``); None when refused."""
        if not isinstance(items, list):
            self.add(path, f"must be a list of notifications, not {_type_word(items)}")
            return None
        if len(items) > MAX_NOTIFIERS:
            self.add(path, f"at most {MAX_NOTIFIERS} notifications are allowed, not {len(items)}")
            return None
        specs = []
        for i, item in enumerate(items):
            spec = self.notifier(item, f"{path}[{i}]")
            if spec is not None:
                specs.append(spec)
        return tuple(specs)

    def deadline(self, value: Any, schedule: Schedule | None) -> Deadline | None:
        """``deadline: {after, from, notify}``: a run not finished ``after`` its start notifies."""
        if value is None:
            return None
        item = self.mapping(value, "deadline")
        if item is None:
            return None
        before = len(self.problems)
        why = self.policy.needs_airflow((3, 1), "a deadline (Airflow's deadline alerts)")
        if why:
            self.add("deadline", why)
            return None
        self.unknown_keys(item, DEADLINE_KEYS, "deadline")
        after = None
        if item.get("after") is None:
            self.add("deadline.after", "is required: how long a run may take, e.g. PT2H")
        else:
            after = self.duration(item["after"], "deadline.after")
            if after is not None and not timedelta(0) < after <= MAX_DEADLINE:
                self.add(
                    "deadline.after",
                    f"must be more than zero and at most {human_duration(MAX_DEADLINE)}, not "
                    f"{human_duration(after)}",
                )
        start = item.get("from", "queued")
        if _long_int(start):
            self.add("deadline.from", _TOO_LONG_MESSAGE)
        elif start not in DEADLINE_FROM:
            self.add(
                "deadline.from",
                f"must be 'queued' (when the run was queued) or 'logical_date', not {start!r}"
                f"{did_you_mean(str(start), DEADLINE_FROM)}",
            )
        elif start == "logical_date" and schedule is not None and _untimed_runs(schedule):
            self.add(
                "deadline.from",
                f"a {_untimed_runs(schedule)} run may have no logical date; use 'queued'",
            )
        notify: tuple[NotifierSpec, ...] | None = None
        if item.get("notify") is None:
            self.add("deadline.notify", "is required: list who hears of a missed deadline")
        else:
            notify = self.notifiers(item["notify"], "deadline.notify")
            if notify == () and not item["notify"]:
                self.add("deadline.notify", "must list at least one notification")
        if len(self.problems) > before or after is None or not notify:
            return None
        return Deadline(after=after, from_=str(start), notify=notify)

    def notifier(self, value: Any, path: str) -> NotifierSpec | None:
        item = self.mapping(value, path)
        if item is None:
            return None
        self.unknown_keys(item, NOTIFIER_KEYS, path)
        name = self.text(item.get("template"), f"{path}.template", 100, required=True)
        with_ = item.get("with")
        if with_ is None:
            with_ = {}
        if self.mapping(with_, f"{path}.with") is None:
            return None
        if name is None:
            return None
        name, version = self.template_ref(name, f"{path}.template")
        if name is None:
            return None
        template = self.catalog.get_notifier(name)
        if template is None and self.unavailable_template(name, f"{path}.template"):
            return None
        if template is None:
            names = self.catalog.notifier_names()
            self.add(
                f"{path}.template",
                f"unknown notification template {name!r}{did_you_mean(name, names)}; "
                f"available: {', '.join(self.catalog.allowed_names(self.namespace, notifiers=True))}",
            )
            return None
        reason = self.template_refusal(name)
        if reason:
            self.add(f"{path}.template", reason)
            return None
        template, version = self.template_version(name, version, f"{path}.template", notifiers=True)
        if template is None or version is None:
            return None
        self.template_with(template, with_, f"{path}.with")
        return NotifierSpec(template=name, with_=freeze(with_), template_version=version)

    # template versions (``template: name@N``)
    def template_ref(self, text: str, path: str) -> tuple[str | None, int | None]:
        """``name`` or ``name@N`` -> (name, N or None for the default); (None, None) when malformed."""
        ref = split_template_ref(text)
        if ref is None:
            self.add(
                path,
                f"{text!r} is not a template name: write NAME, or NAME@VERSION with a whole version "
                f"number 1..{MAX_VERSION} (e.g. 'http_request@2')",
            )
            return None, None
        return ref

    def template_version(
        self, name: str, version: int | None, path: str, *, notifiers: bool = False
    ) -> tuple[CatalogEntry | None, int | None]:
        """The catalog entry of ``name`` at ``version`` (None: the default); a problem when there is none."""
        entry, resolved, reason = resolve_version(self.catalog, name, version, notifiers=notifiers)
        if reason is not None:
            self.add(path, reason)
            return None, None
        return entry, resolved

    def unavailable_template(self, name: str, path: str) -> bool:
        """Report a template this deployment lacks with what to install (True when reported)."""
        probe = getattr(self.catalog, "unavailable", None)  # optional in TemplateCatalog
        reason = probe(name) if probe is not None else None
        if reason:
            self.add(path, reason)
        return bool(reason)

    def template_refusal(self, name: str) -> str | None:
        reason = self.catalog.why_not_allowed(name, self.namespace)
        if reason is None and not self.policy.allows_template(name, self.namespace):
            reason = f"the template {name!r} is not allowed in namespace {self.namespace!r}"
        return reason

    def template_with(
        self,
        template: CatalogEntry,
        with_: Mapping[str, Any],
        path: str,
        names: frozenset[str] = frozenset(),
    ) -> None:
        """Check ``with`` against the template; ``names``: Jinja names allowed besides the usual ones."""
        before = len(self.problems)
        if before >= MAX_PROBLEMS:  # refused already, and nobody reads beyond MAX_PROBLEMS: spare the work
            self.stopped = True
            return
        clean = _clean(with_, names=names)
        if not clean and not self.json_values(with_, path):
            return
        self.schema_problems(template, with_, path)
        if len(self.problems) == before:
            for sub, message in template.extra_problems(with_, self.namespace):
                self.add(f"{path}.{sub}" if sub else path, message)
        if not clean:
            self.templated_strings(with_, path, names)

    def tasks(self, value: Any) -> tuple[TaskSpec, ...] | None:
        if value is None:
            self.add("tasks", "is required: list at least one task")
            return None
        if not isinstance(value, list):
            self.add("tasks", f"must be a list of tasks, not {_type_word(value)}")
            return None
        if not value:
            self.add("tasks", "must list at least one task")
            return None
        if len(value) > self.policy.max_tasks:
            self.add(
                "tasks", f"at most {self.policy.max_tasks} tasks are allowed in one spec, not {len(value)}"
            )
            if len(value) > self.policy.max_tasks * 4:
                return None
        tasks: list[TaskSpec | None] = []
        ids: list[str | None] = []
        deps: list[tuple[str, ...]] = []
        first_index: dict[str, int] = {}
        for i, item in enumerate(value):
            task_id, depends_on, task = self.task(item, f"tasks[{i}]")
            tasks.append(task)
            ids.append(task_id)
            deps.append(depends_on)
            if task_id is not None:
                if task_id in first_index:
                    self.add(
                        f"tasks[{i}].id",
                        f"duplicate task id {task_id!r} (also used by tasks[{first_index[task_id]}])",
                    )
                else:
                    first_index[task_id] = i
        self.items_step_ids(value, first_index)
        # dependencies (also of tasks with other problems, so every problem shows in one pass)
        valid_ids = list(first_index)
        for i, task_id in enumerate(ids):
            for j, dep in enumerate(deps[i]):
                if dep == task_id:
                    self.add(f"tasks[{i}].depends_on[{j}]", "a task cannot depend on itself")
                elif dep not in first_index:
                    hint = did_you_mean(dep, valid_ids) if len(self.problems) < MAX_PROBLEMS else ""
                    self.add(f"tasks[{i}].depends_on[{j}]", f"unknown task {dep!r}{hint}")
        self.check_groups(value, first_index)
        has_cycle = self.cycles(
            {tid: deps[i] for i, tid in enumerate(ids) if tid is not None and first_index[tid] == i},
            first_index,
        )
        self.check_task_refs(deps, first_index, order_known=not has_cycle)
        if any(t is None for t in tasks):
            return None
        return tuple(t for t in tasks if t is not None)

    def items_step_ids(self, value: list[Any], first_index: dict[str, int]) -> None:
        """No task may take the id of the list step a ``for_each`` over a param adds (``<id>__items``)."""
        for i, item in enumerate(value):
            if not isinstance(item, Mapping) or not isinstance(item.get("for_each"), str):
                continue
            task_id = item.get("id")
            if not isinstance(task_id, str):
                continue
            step = for_each_items_task_id(task_id)
            if step in first_index:
                self.add(
                    f"tasks[{first_index[step]}].id",
                    f"{step!r} is the id of the step that reads the list of tasks[{i}].for_each when a run "
                    "starts; rename this task",
                )

    def check_task_refs(self, deps: list[tuple[str, ...]], index: dict[str, int], order_known: bool) -> None:
        """``with`` fields that name another task must name an upstream task of the same spec.

        :param order_known: False when the dependencies have a cycle (already reported): then only
            unknown names are reported.
        """
        upstream: dict[int, int] | None = None
        for path, task_id, ref in self.task_refs:
            if ref not in index:
                self.add(path, f"unknown task {ref!r}{did_you_mean(ref, list(index))}")
                continue
            if not order_known or task_id is None or task_id not in index:
                continue
            if upstream is None:
                upstream = _upstream_bits(deps, index)
            if not upstream[index[task_id]] >> index[ref] & 1:
                self.add(path, f"{ref!r} must run before {task_id!r}: add it to depends_on")

    def cycles(self, depends: dict[str, tuple[str, ...]], index: dict[str, int]) -> bool:
        """Report dependency cycles (the first ``_MAX_CYCLES`` found); True when there is one.

        One depth-first pass: linear in tasks and dependencies, plus the length of each cycle reported.
        """
        graph = {tid: [d for d in deps if d in index and d != tid] for tid, deps in depends.items()}
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        reported: set[frozenset[str]] = set()
        found = False
        for root in graph:
            if root in state:
                continue
            stack: list[tuple[str, int]] = [(root, 0)]
            path: list[str] = [root]
            on_path: dict[str, int] = {root: 0}  # task -> its position in path
            state[root] = 1
            while stack:
                node, pos = stack[-1]
                deps = graph[node]
                if pos < len(deps):
                    stack[-1] = (node, pos + 1)
                    dep = deps[pos]
                    if state.get(dep) == 1:
                        found = True
                        if len(reported) >= _MAX_CYCLES:
                            continue
                        cycle = path[on_path[dep] :]
                        key = frozenset(cycle)
                        if key not in reported:
                            reported.add(key)
                            # say it in depends_on order, starting at the cycle's first task in the spec
                            start = min(cycle, key=lambda n: index[n])
                            k = cycle.index(start)
                            ring = cycle[k:] + cycle[:k]
                            self.add(
                                f"tasks[{index[start]}].depends_on",
                                "dependency cycle: "
                                + " -> ".join([*ring, start])
                                + " (each task depends on the next)",
                            )
                    elif dep not in state:
                        state[dep] = 1
                        on_path[dep] = len(path)
                        path.append(dep)
                        stack.append((dep, 0))
                else:
                    state[node] = 2
                    stack.pop()
                    path.pop()
                    del on_path[node]
        return found

    def task(self, value: Any, path: str) -> tuple[str | None, tuple[str, ...], TaskSpec | None]:
        item = self.mapping(value, path)
        if item is None:
            return None, (), None
        before = len(self.problems)
        self.unknown_keys(item, TASK_KEYS, path)
        task_id = self.slug(item.get("id"), f"{path}.id", TASK_ID, "task id", MAX_TASK_ID)
        name = self.text(item.get("template"), f"{path}.template", 100, required=True)
        with_ = item.get("with")
        if with_ is None:
            with_ = {}
        with_ok = self.mapping(with_, f"{path}.with") is not None
        depends_on = self.depends_on(item.get("depends_on"), f"{path}.depends_on")
        retries = None
        if item.get("retries") is not None:
            retries = self.retries(item["retries"], f"{path}.retries")
        execution_timeout = self.duration(item.get("execution_timeout"), f"{path}.execution_timeout")
        trigger_rule = item.get("trigger_rule")
        if _long_int(trigger_rule):
            self.add(f"{path}.trigger_rule", _TOO_LONG_MESSAGE)
        elif trigger_rule is not None and trigger_rule not in TRIGGER_RULES:
            self.add(
                f"{path}.trigger_rule",
                f"unknown trigger rule {trigger_rule!r}{did_you_mean(str(trigger_rule), TRIGGER_RULES)}; "
                f"use one of: {', '.join(TRIGGER_RULES)}",
            )
        outlets = self.outlets(item.get("outlets"), f"{path}.outlets")
        overrides = self.task_overrides(item, path)
        role = item.get("role")
        if _long_int(role):
            self.add(f"{path}.role", _TOO_LONG_MESSAGE)
        elif role is not None and role not in ROLES:
            self.add(f"{path}.role", f"must be 'setup' or 'teardown', not {role!r}")
        if role == "teardown" and trigger_rule is not None:
            self.add(
                f"{path}.trigger_rule",
                "a teardown task always runs once its setup tasks are done (trigger rule "
                "all_done_setup_success); remove trigger_rule",
            )
        fans_out = item.get("for_each") is not None
        for_each = self.for_each(item.get("for_each"), f"{path}.for_each") if fans_out else None
        if fans_out and role is not None:
            self.add(f"{path}.for_each", "a setup or teardown task cannot fan out: remove role or for_each")
        version: int | None = 1
        if name is not None:
            name, version = self.template_ref(name, f"{path}.template")
        if name is not None and with_ok:
            template = self.catalog.get(name)
            if template is None and self.unavailable_template(name, f"{path}.template"):
                pass
            elif template is None:
                names = self.catalog.allowed_names(self.namespace)
                self.add(
                    f"{path}.template",
                    f"unknown task template {name!r}{did_you_mean(name, self.catalog.names())}; "
                    f"available: {', '.join(names)}",
                )
            else:
                reason = self.template_refusal(name)
                if reason:
                    self.add(f"{path}.template", reason)
                else:
                    template, version = self.template_version(name, version, f"{path}.template")
                if template is not None and not reason:
                    if fans_out and not getattr(template, "mappable", False):
                        self.add(f"{path}.for_each", self.not_mappable(name))
                    self.template_with(
                        template, with_, f"{path}.with", ITEM_NAMES if fans_out else frozenset()
                    )
                    for field_name in template.task_refs:
                        ref = with_.get(field_name)
                        if isinstance(ref, str):
                            self.task_refs.append((f"{path}.with.{field_name}", task_id, ref))
        if len(self.problems) > before or task_id is None or name is None or version is None:
            return task_id, depends_on, None
        return (
            task_id,
            depends_on,
            TaskSpec(
                id=task_id,
                template=name,
                with_=freeze(with_),
                depends_on=depends_on,
                retries=retries,
                execution_timeout=execution_timeout,
                trigger_rule=trigger_rule,
                role=role,
                outlets=outlets,
                for_each=for_each,
                **overrides,
                template_version=version,
            ),
        )

    def not_mappable(self, name: str) -> str:
        able = []
        for other in self.catalog.allowed_names(self.namespace):
            entry = self.catalog.get(other)
            if entry is not None and getattr(entry, "mappable", False):
                able.append(other)
        return (
            f"the template {name!r} cannot fan out (for_each); templates that can: "
            f"{', '.join(able) if able else 'none'}"
        )

    def for_each(self, value: Any, path: str) -> tuple[Any, ...] | str | None:
        """A task's ``for_each``: a literal list of items, or ``"{{ params.NAME }}"`` (an array param).

        A literal list is checked against ``[schedule_specs] max_map_length`` here; a param's list when
        a run starts (the list step, see the factory), and its default here.
        """
        cap = self.policy.max_map_length
        if isinstance(value, str):
            return self.for_each_param(value, path, cap)
        if not isinstance(value, list):
            self.add(
                path,
                f"must be a list of items or one param reference such as '{{{{ params.regions }}}}', "
                f"not {_type_word(value)}",
            )
            return None
        if not value:
            self.add(path, "must list at least one item (a fan-out over nothing would run nothing)")
            return None
        if len(value) > cap:
            self.add(
                path,
                f"lists {len(value)} items; this deployment allows at most {cap} "
                "([schedule_specs] max_map_length)",
            )
            return None
        if not self.json_values(value, path):
            return None
        before = len(self.problems)
        for j, item in enumerate(value):
            why = item_refusal(item)
            if why is None and _holds_template(item):
                why = (
                    "holds a {{ }} template; items are passed to the task as they are, never rendered "
                    "(use templates in with, where {{ item }} names the item)"
                )
            if why:
                self.add(f"{path}[{j}]", why)
        return freeze(value) if len(self.problems) == before else None

    def for_each_param(self, text: str, path: str, cap: int) -> str | None:
        name = for_each_param_name(text)
        if name is None:
            self.add(
                path,
                "must be a list of items or exactly one param reference such as '{{ params.regions }}' "
                "(a param of type array)",
            )
            return None
        schema = self.param_schemas.get(name)
        if schema is None:
            if name in self.declared_params:
                return None  # the param itself was refused (reported at params)
            declared = list(self.declared_params)
            where = f"declared params: {', '.join(declared)}" if declared else "no params are declared"
            self.add(
                path,
                f"unknown param {name!r}{did_you_mean(name, declared)}; {where} (declare it under params "
                "with type: array)",
            )
            return None
        kind = schema.get("type")
        if kind != "array":
            self.add(
                path,
                f"the param {name!r} must have type: array to fan out over it, not "
                f"{json.dumps(thaw(kind)) if kind is not None else 'no type'}",
            )
            return None
        default = schema.get("default")
        if isinstance(default, (list, tuple)):
            if len(default) > cap:
                self.add(
                    path,
                    f"the default of param {name!r} lists {len(default)} items; this deployment allows at "
                    f"most {cap} ([schedule_specs] max_map_length)",
                )
            for j, item in enumerate(default):
                why = item_refusal(item)
                if why:
                    self.add(f"params.{name}.default[{j}]", f"as a for_each item: {why}")
                    break
        return f"{{{{ params.{name} }}}}"

    def task_overrides(self, item: Mapping[str, Any], path: str) -> dict[str, Any]:
        """A task's ``retry_delay``, ``retry_exponential_backoff``, ``max_retry_delay``, ``notify``,
        ``pool``, ``priority_weight`` and ``group`` (only those set, as TaskSpec keyword arguments)."""
        out: dict[str, Any] = {}
        for key in ("retry_delay", "max_retry_delay"):
            if item.get(key) is not None:
                out[key] = self.duration(item[key], f"{path}.{key}")
        if item.get("retry_exponential_backoff") is not None:
            out["retry_exponential_backoff"] = self.boolean(
                item["retry_exponential_backoff"], f"{path}.retry_exponential_backoff", False
            )
        if item.get("notify") is not None:
            out["notify"] = self.task_notify(item["notify"], f"{path}.notify")
        if item.get("pool") is not None:
            out["pool"] = self.pool(item["pool"], f"{path}.pool")
        if item.get("priority_weight") is not None:
            out["priority_weight"] = self.integer(
                item["priority_weight"], f"{path}.priority_weight", MIN_PRIORITY_WEIGHT, MAX_PRIORITY_WEIGHT
            )
        if item.get("group") is not None:
            out["group"] = self.slug(item["group"], f"{path}.group", SLUG, "group name", MAX_GROUP_NAME)
        return {k: v for k, v in out.items() if v is not None}

    def pool(self, value: Any, path: str) -> str | None:
        """A task's ``pool``: one of the pools ``[schedule_specs] pools`` lists for the namespace."""
        name = self.text(value, path, MAX_POOL_NAME)
        if name is None:
            return None
        if self.policy.pools is None:
            self.add(
                path,
                f"the pool {name!r} cannot be used: this deployment lists no pools for specs; an admin "
                "must list it in [schedule_specs] pools",
            )
            return None
        allowed = self.policy.pool_names(self.namespace)
        if name not in allowed:
            self.add(
                path,
                f"the pool {name!r} is not allowed in namespace {self.namespace!r}"
                f"{did_you_mean(name, allowed)}; allowed: {', '.join(allowed) if allowed else 'none'} "
                "([schedule_specs] pools)",
            )
            return None
        return name

    def task_notify(self, value: Any, path: str) -> TaskNotify | None:
        """A task's own ``notify: {on_failure, on_retry}`` (the spec-level notification items)."""
        notify = self.mapping(value, path)
        if notify is None:
            return None
        before = len(self.problems)
        if "on_success" in notify:
            self.add(
                f"{path}.on_success",
                "a task has no on_success notification; use the spec-level notify.on_success (when "
                "the run succeeds)",
            )
        self.unknown_keys({k: v for k, v in notify.items() if k != "on_success"}, TASK_NOTIFY_KEYS, path)
        out: dict[str, tuple[NotifierSpec, ...]] = {}
        for event in TASK_NOTIFY_KEYS:
            items = notify.get(event)
            if items is None:
                continue
            sub = f"{path}.{event}"
            if not isinstance(items, list):
                self.add(sub, f"must be a list of notifications, not {_type_word(items)}")
                continue
            if len(items) > MAX_NOTIFIERS:
                self.add(sub, f"at most {MAX_NOTIFIERS} notifications are allowed, not {len(items)}")
                continue
            specs = [self.notifier(n, f"{sub}[{i}]") for i, n in enumerate(items)]
            out[event] = tuple(n for n in specs if n is not None)
        if len(self.problems) > before:
            return None
        return TaskNotify(**out)

    def check_groups(self, value: list[Any], first_index: dict[str, int]) -> None:
        """A task ``group`` must not also be a task id (Airflow keeps both in one namespace)."""
        for i, item in enumerate(value):
            group = item.get("group") if isinstance(item, Mapping) else None
            if isinstance(group, str) and group in first_index:
                self.add(
                    f"tasks[{i}].group",
                    f"{group!r} is also the id of tasks[{first_index[group]}]; a group needs a name "
                    "that no task uses (Airflow keeps task and group ids in one namespace)",
                )

    def outlets(self, value: Any, path: str) -> tuple[str, ...]:
        """A task's ``outlets``: asset URIs the namespace may emit (``[schedule_specs] asset_targets``)."""
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            self.add(path, "must be a non-empty list of asset URIs such as 's3://warehouse/orders'")
            return ()
        if len(value) > MAX_OUTLETS:
            self.add(path, f"at most {MAX_OUTLETS} outlets are allowed on one task, not {len(value)}")
            return ()
        seen: list[str] = []
        for i, uri in enumerate(value):
            item_path = f"{path}[{i}]"
            problems: list[Problem] = []
            if not check_asset_uri(uri, item_path, problems, seen):
                self.problems.extend(problems)
            elif not self.policy.allows_asset(uri, self.namespace):
                patterns = self.policy.asset_patterns(self.namespace)
                self.add(
                    item_path,
                    f"namespace {self.namespace!r} may not update asset {uri!r}; allowed: "
                    f"{', '.join(patterns) if patterns else 'none'} ([schedule_specs] asset_targets)",
                )
        return tuple(seen)

    def depends_on(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.add(path, f"must be a list of task ids, not {_type_word(value)}")
            return ()
        if len(value) > self.policy.max_tasks:
            self.add(
                path,
                f"lists {len(value)} tasks; a spec has at most {self.policy.max_tasks} tasks, "
                "so a task can depend on at most that many",
            )
            return ()
        out: list[str] = []
        seen: set[str] = set()
        for j, dep in enumerate(value):
            if not isinstance(dep, str):
                self.add(f"{path}[{j}]", f"must be a task id string, not {_type_word(dep)}")
            elif dep in seen:
                self.add(f"{path}[{j}]", f"{dep!r} is listed twice")
            else:
                seen.add(dep)
                out.append(dep)
        return tuple(out)


_INF = (float("inf"), float("-inf"))
_PLAIN_SCALARS = frozenset({int, float, bool, type(None)})
#: dependency cycles reported per spec (each costs its length; one is enough to act on)
_MAX_CYCLES = 20


def text_refusal(text: str) -> str | None:
    """Why ``text`` cannot be stored (a lone surrogate or NUL), or None when it can."""
    if "\x00" in text:
        return "contains a NUL character (U+0000), which cannot be stored"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        after = text[exc.start + 1 : exc.start + 2]
        if 0xD800 <= code <= 0xDBFF and after and 0xDC00 <= ord(after) <= 0xDFFF:
            joined = 0x10000 + ((code - 0xD800) << 10) + (ord(after) - 0xDC00)
            return (
                f"contains a UTF-16 surrogate pair (U+{code:04X} U+{ord(after):04X}), not valid Unicode "
                f"here: write the character itself (U+{joined:04X}) or \\U{joined:08X}"
            )
        return f"contains a lone surrogate (U+{code:04X}), not valid Unicode"
    return None


def _holds_template(item: Any) -> bool:
    """A ``for_each`` item (a scalar or a flat object) with Jinja markers in a string."""
    if isinstance(item, str):
        return has_template(item)
    if isinstance(item, Mapping):
        return any(isinstance(v, str) and has_template(v) for v in item.values())
    return False


def _render_path(where: Any) -> str:
    """The JSON path of a ``(parent, key)`` chain built by ``_Parser.structure``."""
    keys: list[str | int] = []
    while where is not None:
        where, key = where
        keys.append(key)
    path = ""
    for key in reversed(keys):
        path = join_path(path, key if isinstance(key, (str, int)) else str(key))
    return path


def _upstream_bits(deps: list[tuple[str, ...]], index: dict[str, int]) -> dict[int, int]:
    """For each task's position, a bit set of the positions of every task upstream of it.

    One post-order pass over the (acyclic: cycles are reported first) graph; the sets are Python
    ints, so the work is O(dependencies x tasks / 64) machine words.
    """
    adjacent: dict[int, list[int]] = {}
    bits: dict[int, int] = {}
    for start in index.values():
        if start in bits:
            continue
        stack: list[tuple[int, int]] = [(start, 0)]
        while stack:
            node, pos = stack[-1]
            node_deps = adjacent.get(node)
            if node_deps is None:
                node_deps = adjacent[node] = [index[d] for d in deps[node] if d in index]
            if pos < len(node_deps):
                stack[-1] = (node, pos + 1)
                if node_deps[pos] not in bits:
                    stack.append((node_deps[pos], 0))
                continue
            acc = 0
            for dep in node_deps:
                acc |= (1 << dep) | bits[dep]
            bits[node] = acc
            stack.pop()
    return bits


def _pattern_cost_of(schema: Mapping[str, Any]) -> PatternCost | None:
    """The cost estimate of ``schema``'s accepted ``pattern`` (None: no pattern, or a refused one)."""
    pattern = schema.get("pattern")
    return pattern_cost(pattern) if isinstance(pattern, str) else None


def _clean(value: Any, depth: int = 0, names: frozenset[str] = frozenset()) -> bool:
    """Fast path: True when ``value`` is plain JSON whose templated strings are all allowed."""
    kind = type(value)
    if kind is str:
        return not has_template(value) or check_template(value, names) is None
    if kind is int:
        return -_TOO_LONG_INT < value < _TOO_LONG_INT
    if kind is bool or value is None:
        return True
    if kind is float:
        return value == value and value not in _INF
    if depth > 32:
        return False
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not _clean(item, depth + 1, names):
                return False
        return True
    if kind is list:
        for item in value:  # noqa: SIM110 - faster than all(<generator>)
            if not _clean(item, depth + 1, names):
                return False
        return True
    return False  # anything else takes the detailed path, which reports it with its path


def _check_param_schema(schema_json: str) -> tuple[str, str] | None:
    """Check a param's schema (and its default) with jsonschema; cached by the schema's JSON text.

    Only short texts are cached: the cache holds its keys, and a spec may be a megabyte.
    """
    if len(schema_json) > _CACHED_SCHEMA_TEXT:
        return _param_schema_problem(schema_json)
    return _cached_param_schema_problem(schema_json)


_CACHED_SCHEMA_TEXT = 4096


def _param_schema_problem(schema_json: str) -> tuple[str, str] | None:
    # jsonschema is imported by the first spec with params, not at spec import (the loader never needs it)
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import SchemaError

    schema = json.loads(schema_json)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return ".".join(str(p) for p in exc.absolute_path), f"invalid param schema: {_short(exc.message)}"
    if "default" in schema:
        validator = linear_validator(schema, format_checker=FormatChecker())
        error = next(iter(validator.iter_errors(schema["default"])), None)
        if error is not None:
            return "default", f"the default does not match the param's own schema: {_short(error.message)}"
    return None


_cached_param_schema_problem = functools.lru_cache(maxsize=2048)(_param_schema_problem)


def _short(message: str, limit: int = 500) -> str:
    """A jsonschema message cut to ``limit`` characters (it quotes the whole value it checked)."""
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _json_type_words(kind: Any) -> str:
    words = {
        "string": "a string",
        "integer": "a whole number",
        "number": "a number",
        "boolean": "true or false",
        "object": "an object",
        "array": "a list",
        "null": "null",
    }
    if isinstance(kind, list):
        return " or ".join(words.get(str(k), str(k)) for k in kind)
    return words.get(kind, str(kind))


def _untimed_runs(schedule: Schedule) -> str | None:
    """What kind of this schedule's runs may have no logical date (None: every run has one)."""
    if isinstance(schedule, ManualSchedule):
        return "triggered"
    if schedule.kind == "assets" or (isinstance(schedule, AnyOfSchedule) and schedule.assets is not None):
        return "asset-triggered"
    return None


def _at_members(schedule: Schedule) -> list[tuple[str, AtSchedule]]:
    """The ``at`` schedules in ``schedule`` (itself or ``any_of`` members), with their paths."""
    if isinstance(schedule, AtSchedule):
        return [("schedule.at", schedule)]
    if isinstance(schedule, AnyOfSchedule):
        return [
            (f"schedule.any_of[{i}].at", m)
            for i, m in enumerate(schedule.members)
            if isinstance(m, AtSchedule)
        ]
    return []
