"""Registry of task and notification templates (the spec parser's catalog), with per-deployment enablement.

A *task template* is a name, a JSON Schema for the ``with`` arguments a spec passes, and a builder that
returns the operator. A spec can only name a template; the registry decides what exists and what is
allowed. Nothing is imported because a spec named it: builders import their operator lazily, and only
for templates registered by the platform team.
"""

from __future__ import annotations

import functools
import logging
import re
import types
from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.catalog import CatalogEntry, CheckFn, split_template_ref
from airflow_provider_scheduler.spec.model import thaw

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping

    from airflow_provider_scheduler.spec.catalog import TemplateCatalog, VersionedCatalog

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "airflow_provider_scheduler.templates"


class _Template(CatalogEntry):
    """A catalog entry with a builder (what the factory calls) and an enablement default."""

    def __init__(
        self,
        name: str,
        *,
        description: str,
        with_schema: Mapping[str, Any],
        builder: Callable[..., Any],
        enabled_by_default: bool = True,
        check: CheckFn | None = None,
        task_refs: tuple[str, ...] = (),
        mappable: bool = False,
        version: int = 1,
    ) -> None:
        super().__init__(
            name,
            description=description,
            with_schema=with_schema,
            check=check,
            task_refs=task_refs,
            mappable=mappable,
            version=version,
        )
        self.builder = builder
        self.enabled_by_default = enabled_by_default


class TaskTemplate(_Template):
    """A named task template: JSON Schema for ``with`` plus a builder that returns the operator.

    :param name: the name specs use in ``template:``.
    :param description: one line for docs and the published schema.
    :param with_schema: JSON Schema (draft 2020-12) of the ``with`` object.
    :param builder: ``builder(*, task_id, with_, **operator_kwargs) -> BaseOperator``; called by the factory
        inside an active ``with DAG(...)``; ``with_`` is a plain dict copy.
    :param enabled_by_default: False for templates an admin must enable (``bash``, ``python``).
    :param check: optional extra rules, see :data:`CheckFn`.
    :param task_refs: names of ``with`` fields whose value is the id of another task of the same spec;
        the parser checks that the task exists and runs before this one (is upstream).
    :param mappable: the template supports ``for_each``: its builder accepts a keyword argument
        ``make`` and creates its operator as ``make(OperatorClass, task_id=..., **arguments)``
        (default :func:`construct`, i.e. ``OperatorClass(...)``); for a ``for_each`` task the factory
        passes a ``make`` that builds the mapped operator instead.
    :param version: the version of ``name`` this is (default 1; specs name it ``name@version``).
        Register a new version, e.g. ``TaskTemplate("http_request", version=2, ...)``, for a change
        that alters what an existing spec builds; specs stored against version 1 keep building it.
    """

    kind = "task template"

    def build(
        self, task_id: str, with_: Mapping[str, Any], *, for_each: Any = None, **operator_kwargs: Any
    ) -> Any:
        """Create the operator for one task (inside ``with DAG(...)``).

        :param task_id: the task id.
        :param with_: the task's validated ``with`` arguments.
        :param for_each: None, or what the task fans out over (a list of items, or the ``XComArg`` of
            the step that reads a param's list): the operator is then mapped (Airflow dynamic task
            mapping), one task instance per item, with ``{{ item }}`` rendered by Airflow per instance.
        :param operator_kwargs: already-resolved BaseOperator arguments (retries, retry_delay,
            execution_timeout, trigger_rule, ...).
        """
        if for_each is None:
            return self.builder(task_id=task_id, with_=thaw(with_), **operator_kwargs)
        if not self.mappable:
            raise ValueError(f"the template {self.name!r} cannot fan out (for_each)")
        # Imported only for specs that fan out, like the builders' operator modules (Airflow's
        # BaseOperator, which any DAG file has loaded already).
        from airflow_provider_scheduler.operators.for_each import mapped_maker

        make = mapped_maker(for_each)
        return self.builder(task_id=task_id, with_=thaw(with_), make=make, **operator_kwargs)


def construct(operator_class: Any, /, **kwargs: Any) -> Any:
    """``operator_class(**kwargs)``: how a mappable template's builder creates its operator by default."""
    return operator_class(**kwargs)


class NotificationTemplate(_Template):
    """A named notification template (``notify.on_failure[i].template``).

    :param builder: ``builder(*, with_, event, spec) -> callable`` returning an Airflow callback
        (usually a ``BaseNotifier``); ``event`` is ``"on_failure"``, ``"on_success"`` or ``"on_retry"``.
    """

    kind = "notification template"

    def build(self, with_: Mapping[str, Any], *, event: str, spec: Any = None) -> Any:
        """Create the callback for one notification."""
        return self.builder(with_=thaw(with_), event=event, spec=spec)


class UnavailableTemplate:
    """A template this deployment cannot offer, and why (a missing provider, an older Airflow).

    It is not registered: a spec naming it is refused with ``the <kind> '<name>' <reason>`` instead of
    "unknown template", so the message says what to install. A registered template of the same name
    (a platform team's own) takes precedence.

    :param name: the template name specs would use.
    :param reason: what it needs, e.g. ``needs the Apache Spark provider: pip install
        'airflow-provider-scheduler[spark]'``.
    :param kind: ``"task template"`` or ``"notification template"`` (for the message).
    """

    def __init__(self, name: str, reason: str, *, kind: str = "task template") -> None:
        self.name = name
        self.reason = reason
        self.kind = kind

    def __repr__(self) -> str:
        return f"UnavailableTemplate({self.name!r}, {self.reason!r})"

    @property
    def message(self) -> str:
        return f"the {self.kind} {self.name!r} {self.reason}"


class TemplateRegistry:
    """Named task and notification templates, which of them are enabled, and who may use them.

    Implements :class:`~airflow_provider_scheduler.spec.catalog.TemplateCatalog` (and its versioned
    form, :class:`~airflow_provider_scheduler.spec.catalog.VersionedCatalog`) for ``parse_spec``.

    A name may have several versions (``TaskTemplate(name, version=2, ...)``). A spec naming
    ``name`` without ``@`` gets the name's default version: the one set with ``default_versions`` /
    :meth:`set_default_version`, else the highest version that is not retired. Enablement and the
    allow-lists are per name (every version of an enabled name is enabled).

    :param templates: task and notification templates to register.
    :param enabled: names of opt-in templates (``enabled_by_default=False``) an admin enabled.
    :param disabled: names of templates an admin disabled.
    :param namespace_allow: per-namespace allow-list (``"*"`` = every other namespace); None = all.
        The ``[schedule_specs] allowed_templates`` option is the governance policy's, not this one.
    :param default_versions: name -> the default version (``[schedule_specs] template_versions``);
        a name not listed defaults to its highest version that is not retired.
    :param retired: ``name@version`` references an admin retired (``[schedule_specs]
        retired_templates``): specs using them are refused, and stored ones are not built.
    """

    def __init__(
        self,
        templates: Iterable[_Template | UnavailableTemplate] = (),
        *,
        enabled: Collection[str] = (),
        disabled: Collection[str] = (),
        namespace_allow: Mapping[str, Collection[str]] | None = None,
        default_versions: Mapping[str, int] | None = None,
        retired: Collection[str] = (),
    ) -> None:
        self._tasks: dict[str, dict[int, TaskTemplate]] = {}
        self._notifiers: dict[str, dict[int, NotificationTemplate]] = {}
        self._unavailable: dict[str, UnavailableTemplate] = {}
        self._enabled = set(enabled)
        self._disabled = set(disabled)
        self._namespace_allow = (
            None if namespace_allow is None else {k: frozenset(v) for k, v in namespace_allow.items()}
        )
        self._defaults: dict[str, int] = {}
        self._retired: set[tuple[str, int]] = set()
        #: the defaults the ``[schedule_specs] template_versions`` option set (they win over code)
        self.configured_defaults: dict[str, int] = {}
        for name, version in (default_versions or {}).items():
            self.set_default_version(name, version)
        for ref in retired:
            self.retire(ref)
        for template in templates:
            self.register(template)

    # registration
    def register(self, template: _Template | UnavailableTemplate, *, replace: bool = False) -> None:
        """Add a task or notification template version (ValueError if taken and not ``replace``).

        An :class:`UnavailableTemplate` is recorded for :meth:`unavailable`, not registered.
        """
        if isinstance(template, UnavailableTemplate):
            self._unavailable[template.name] = template
            return
        if not isinstance(template, (TaskTemplate, NotificationTemplate)):
            raise TypeError(f"expected a TaskTemplate or NotificationTemplate, got {type(template).__name__}")
        if not template.name or not template.name.replace("_", "a").isalnum():
            raise ValueError(f"template name {template.name!r} must be letters, digits and underscores")
        table: dict[str, dict[int, Any]] = (
            self._tasks if isinstance(template, TaskTemplate) else self._notifiers
        )
        versions = table.setdefault(template.name, {})
        if template.version in versions and not replace:
            raise ValueError(
                f"a {template.kind} named {template.name!r} is already registered "
                f"(version {template.version})"
            )
        versions[template.version] = template

    def enable(self, name: str) -> None:
        """Enable an opt-in template (e.g. ``bash``)."""
        self._enabled.add(name)
        self._disabled.discard(name)

    def disable(self, name: str) -> None:
        """Disable a template for every namespace."""
        self._disabled.add(name)
        self._enabled.discard(name)

    def set_default_version(self, name: str, version: int | None) -> None:
        """Make ``version`` what ``template: name`` (no ``@``) means; None: back to the highest live one.

        Specs already stored keep the version they were validated against.
        """
        if version is None:
            self._defaults.pop(name, None)
            return
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(
                f"the default version of {name!r} must be a whole number from 1, not {version!r}"
            )
        self._defaults[name] = version

    def retire(self, ref: str) -> None:
        """Retire ``name@version``: specs naming it are refused, stored ones are not built any more."""
        parsed = split_template_ref(ref) if isinstance(ref, str) else None
        if parsed is None or parsed[1] is None:
            raise ValueError(
                f"a retired template is written NAME@VERSION (e.g. 'http_request@1'), not {ref!r}; "
                "to switch off every version use disabled_templates"
            )
        self._retired.add((parsed[0], parsed[1]))

    # versions (spec.catalog.VersionedCatalog)
    def _table(self, notifiers: bool) -> Mapping[str, Mapping[int, _Template]]:
        return self._notifiers if notifiers else self._tasks

    def template_versions(self, name: str, *, notifiers: bool = False) -> list[int]:
        """Every registered version of ``name``, ascending (retired ones included)."""
        return sorted(self._table(notifiers).get(name, ()))

    def is_retired(self, name: str, version: int, *, notifiers: bool = False) -> bool:
        """Whether ``name@version`` is retired on this deployment."""
        return (name, version) in self._retired

    def default_version(self, name: str, *, notifiers: bool = False) -> int | None:
        """What ``template: name`` means: the set default if it is registered and not retired, else
        the highest version that is not retired (None: no version, or all retired)."""
        live = [
            v for v in self.template_versions(name, notifiers=notifiers) if (name, v) not in self._retired
        ]
        chosen = self._defaults.get(name)
        if chosen is not None and chosen in live:
            return chosen
        return live[-1] if live else None

    def default_version_problem(self, name: str, *, notifiers: bool = False) -> str | None:
        """Why the configured default of ``name`` is not used (unregistered or retired), else None."""
        chosen = self._defaults.get(name)
        versions = self.template_versions(name, notifiers=notifiers)
        if chosen is None or not versions:
            return None
        if chosen not in versions:
            return f"the default version {chosen} of {name!r} is not registered (versions: {versions})"
        if (name, chosen) in self._retired:
            return f"the default version {chosen} of {name!r} is retired"
        return None

    def get_version(self, name: str, version: int, *, notifiers: bool = False) -> Any:
        """The template ``name`` at ``version`` (a retired one too), or None."""
        return self._table(notifiers).get(name, {}).get(version)

    # lookup
    def get(self, name: str, version: int | None = None) -> TaskTemplate | None:
        """The task template with this name at ``version`` (None: its default version), or None."""
        versions = self._tasks.get(name)
        if not versions:
            return None
        if version is None:
            version = self.default_version(name) or max(versions)
        return versions.get(version)

    def get_notifier(self, name: str, version: int | None = None) -> NotificationTemplate | None:
        """The notification template with this name at ``version`` (None: its default), or None."""
        versions = self._notifiers.get(name)
        if not versions:
            return None
        if version is None:
            version = self.default_version(name, notifiers=True) or max(versions)
        return versions.get(version)

    def names(self) -> list[str]:
        """Names of all registered task templates (enabled or not), sorted."""
        return sorted(self._tasks)

    def notifier_names(self) -> list[str]:
        """Names of all registered notification templates, sorted."""
        return sorted(self._notifiers)

    def unavailable(self, name: str) -> str | None:
        """Why the template ``name`` is missing on this deployment (what to install), or None.

        None when a template of that name is registered, or when nothing is known about the name.
        """
        entry = self._unavailable.get(name)
        if entry is None or name in self._tasks or name in self._notifiers:
            return None
        return entry.message

    def unavailable_names(self) -> list[str]:
        """Names of the templates this deployment cannot offer (see :meth:`unavailable`), sorted."""
        return sorted(n for n in self._unavailable if self.unavailable(n) is not None)

    def templates(self) -> list[TaskTemplate]:
        """Each task template at its default version (see :meth:`all_versions` for every version)."""
        return [t for t in (self.get(n) for n in self.names()) if t is not None]

    def notifiers(self) -> list[NotificationTemplate]:
        """Each notification template at its default version."""
        return [t for t in (self.get_notifier(n) for n in self.notifier_names()) if t is not None]

    def all_versions(self, *, notifiers: bool = False) -> list[Any]:
        """Every registered version of every task (or notification) template, by name then version."""
        table = self._table(notifiers)
        return [table[n][v] for n in sorted(table) for v in sorted(table[n])]

    def _any(self, name: str) -> _Template | None:
        versions = self._tasks.get(name) or self._notifiers.get(name)
        return next(iter(versions.values())) if versions else None

    def is_enabled(self, name: str) -> bool:
        versions = self._tasks.get(name) or self._notifiers.get(name)
        if not versions or name in self._disabled:
            return False
        return name in self._enabled or any(t.enabled_by_default for t in versions.values())

    def is_allowed(self, name: str, namespace: str | None = None) -> bool:
        """Whether ``namespace`` may use the (task or notification) template ``name``."""
        return self.why_not_allowed(name, namespace) is None

    def why_not_allowed(self, name: str, namespace: str | None = None) -> str | None:
        """None when allowed, else the reason in plain words (for error messages)."""
        template = self._any(name)
        if template is None:
            return self.unavailable(name) or f"no template named {name!r} is registered"
        if not self.is_enabled(name):
            return (
                f"the {template.kind} {name!r} is disabled on this deployment "
                f"(an admin can enable it with [schedule_specs] enabled_templates)"
            )
        if self._namespace_allow is not None and namespace is not None:
            allowed = self._namespace_allow.get(namespace, self._namespace_allow.get("*"))
            if allowed is not None and name not in allowed:
                return f"the {template.kind} {name!r} is not allowed in namespace {namespace!r}"
        return None

    def allowed_names(self, namespace: str | None = None, *, notifiers: bool = False) -> list[str]:
        """Names ``namespace`` may use (all namespaces' union when None)."""
        names = self.notifier_names() if notifiers else self.names()
        return [n for n in names if self.is_allowed(n, namespace)]

    def fingerprint(self) -> list[Any]:
        """What decides whether a spec validates against this registry, as data equal in every process.

        Each template version's kind, name, version, enablement, retirement, ``with`` schema (where
        the connection and callable allow-lists live), task references and check function (its code
        and the values it closes over, e.g. ``dag_targets``), each name's default version, and the
        namespace allow-lists. The loader caches each stored spec's re-check under a digest of this,
        so a change an admin makes is seen on the next parse. A check closing over objects without a
        stable representation only costs re-checks.
        """
        templates: list[_Template] = [*self.all_versions(), *self.all_versions(notifiers=True)]
        allow = self._namespace_allow
        return [
            [
                [
                    t.kind,
                    t.name,
                    self.is_enabled(t.name),
                    t.with_schema,
                    list(t.task_refs),
                    _code_fingerprint(t.check),
                    t.mappable,
                    t.version,
                    (t.name, t.version) in self._retired,
                ]
                for t in templates
            ],
            None if allow is None else {k: sorted(v) for k, v in sorted(allow.items())},
            [
                [kind, name, self.default_version(name, notifiers=kind == "n")]
                for kind, names in (("t", self.names()), ("n", self.notifier_names()))
                for name in names
            ],
        ]


def _code_fingerprint(value: Any, depth: int = 0) -> Any:
    """A process-independent description of a check function: its code and what it closes over."""
    if depth > 6:
        return "..."
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_code_fingerprint(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_code_fingerprint(v, depth + 1) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): _code_fingerprint(v, depth + 1) for k, v in sorted(value.items(), key=repr)}
    if isinstance(value, functools.partial):
        return [
            _code_fingerprint(value.func, depth + 1),
            _code_fingerprint(value.args, depth + 1),
            _code_fingerprint(value.keywords, depth + 1),
        ]
    code = getattr(value, "__code__", None)
    if code is not None:
        cells = [c.cell_contents for c in (getattr(value, "__closure__", None) or ()) if _filled(c)]
        return [
            getattr(value, "__module__", None),
            getattr(value, "__qualname__", None),
            _code_fingerprint(code, depth + 1),
            [_code_fingerprint(c, depth + 1) for c in cells],
        ]
    if isinstance(value, re.Pattern):
        return ["re", value.pattern, value.flags]
    if isinstance(value, types.CodeType):
        return [value.co_code.hex(), [_code_fingerprint(c, depth + 1) for c in value.co_consts]]
    if callable(value):  # an object with __call__: its class and its attributes
        return [type(value).__qualname__, _code_fingerprint(dict(getattr(value, "__dict__", {})), depth + 1)]
    return type(value).__qualname__


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - raises ValueError for an empty cell
    except ValueError:
        return False
    return True


# --- the default registry ---------------------------------------------------------------------------

_EXTRA: list[_Template] = []
_DEFAULT_VERSIONS: dict[str, int] = {}


def register(template: _Template) -> None:
    """Register a template (version) in the default registry (Python API for platform teams).

    Call it from code the DAG processor imports (e.g. a plugin or the loader file) before specs are
    parsed; it also applies to a default registry that already exists. A template registered this way
    replaces a built-in or entry-point template of the same name and version; another version is
    added beside them (and, being the highest, becomes the default unless one is set).
    """
    _EXTRA[:] = [
        t
        for t in _EXTRA
        if not (t.name == template.name and t.version == template.version and type(t) is type(template))
    ]
    _EXTRA.append(template)
    if default_registry.cache_info().currsize:
        default_registry().register(template, replace=True)


def set_default_version(name: str, version: int | None) -> None:
    """Set which version ``template: name`` (no ``@``) means in the default registry (None: unset).

    The ``[schedule_specs] template_versions`` option, when it names ``name``, wins over this.
    Specs already stored keep the version they were validated against.
    """
    if version is None:
        _DEFAULT_VERSIONS.pop(name, None)
    else:
        _DEFAULT_VERSIONS[name] = version
    if default_registry.cache_info().currsize:
        registry = default_registry()
        configured = registry.configured_defaults
        registry.set_default_version(name, configured.get(name, version))


@functools.lru_cache(maxsize=1)
def default_registry() -> TemplateRegistry:
    """Built-ins + entry point group ``airflow_provider_scheduler.templates`` + admin config (cached).

    Reads ``[schedule_specs]`` options: ``enabled_templates``, ``disabled_templates``,
    ``python_callables``, ``http_connections``, ``webhook_connections``,
    ``remote_connections``, ``template_versions``, ``retired_templates``. Call
    ``default_registry.cache_clear()`` after changing them in-process.
    """
    # builtins imports this module for TaskTemplate, so it is imported here, when the registry is built
    from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

    settings = TemplateSettings.from_airflow_config()
    return registry_from_settings(settings, builtin_templates(settings))


def registry_from_settings(
    settings: Any, builtins: Iterable[_Template | UnavailableTemplate]
) -> TemplateRegistry:
    """A registry of ``builtins``, the entry points' and the registered templates, with ``settings``
    (a ``TemplateSettings``) applied: enablement, default versions (the option wins over
    :func:`set_default_version`) and retired versions."""
    configured = dict(settings.template_versions or {})
    registry = TemplateRegistry(
        builtins,
        enabled=settings.enabled_templates,
        disabled=settings.disabled_templates,
        default_versions={**_DEFAULT_VERSIONS, **configured},
        retired=settings.retired_templates,
    )
    registry.configured_defaults = configured
    load_entry_points(registry)
    for template in _EXTRA:
        registry.register(template, replace=True)
    return registry


def load_entry_points(registry: TemplateRegistry) -> None:
    """Register templates from installed packages' ``airflow_provider_scheduler.templates`` entry points.

    An entry point may name a TaskTemplate / NotificationTemplate, a list of them, or a function that
    takes the registry and registers what it wants. A broken entry point is logged and skipped.
    """
    seen: set[str] = set()
    for ep in _entry_points(ENTRY_POINT_GROUP):
        if ep.value in seen:  # the same distribution found on two sys.path entries
            continue
        seen.add(ep.value)
        try:
            obj = ep.load()
            if isinstance(obj, _Template):
                registry.register(obj, replace=True)
            elif isinstance(obj, (list, tuple)):
                for item in obj:
                    registry.register(item, replace=True)
            elif callable(obj):
                obj(registry)
            else:
                raise TypeError(f"unsupported object {type(obj).__name__}")
        except Exception:
            log.exception("Could not load schedule-spec templates from entry point %s", ep.name)


if TYPE_CHECKING:

    def _is_a_catalog(registry: TemplateRegistry) -> TemplateCatalog:
        """mypy checks that a registry is a catalog ``parse_spec`` accepts."""
        return registry

    def _is_a_versioned_catalog(registry: TemplateRegistry) -> VersionedCatalog:
        """... and one whose templates have versions."""
        return registry


def _entry_points(group: str) -> list[Any]:
    """The entry points of ``group``, from Airflow's own cached scan of installed distributions.

    Airflow scans every distribution's entry points once per process (providers, plugins) and caches
    the result; on Airflow 3.3 that scan has already run when a DAG file is parsed, so reading our group
    from it costs microseconds where ``importlib.metadata.entry_points`` would rescan ~160 distributions
    (5-10 ms) on every parse. The module moved in Airflow 3.3 (``airflow.utils.entry_points`` is a
    deprecated alias there); both are tested on 3.3, 3.1 and 2.11.
    """
    try:  # Airflow >= 3.3 (a function-local import: ``airflow`` is not loaded at registry import)
        from airflow._shared.module_loading import entry_points_with_dist
    except ImportError:
        try:  # Airflow 2.11 - 3.2
            from airflow.utils.entry_points import entry_points_with_dist  # type: ignore[no-redef]
        except ImportError:  # no Airflow: the standard library's (uncached) scan
            from importlib.metadata import entry_points

            return list(entry_points(group=group))
    return [ep for ep, _dist in entry_points_with_dist(group)]
