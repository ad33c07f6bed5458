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

from airflow_provider_scheduler.spec.catalog import CatalogEntry, CheckFn
from airflow_provider_scheduler.spec.model import thaw

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping

    from airflow_provider_scheduler.spec.catalog import TemplateCatalog

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
    ) -> None:
        super().__init__(
            name,
            description=description,
            with_schema=with_schema,
            check=check,
            task_refs=task_refs,
            mappable=mappable,
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


class TemplateRegistry:
    """Named task and notification templates, which of them are enabled, and who may use them.

    Implements :class:`~airflow_provider_scheduler.spec.catalog.TemplateCatalog` for ``parse_spec``.

    :param templates: task and notification templates to register.
    :param enabled: names of opt-in templates (``enabled_by_default=False``) an admin enabled.
    :param disabled: names of templates an admin disabled.
    :param namespace_allow: per-namespace allow-list (``"*"`` = every other namespace); None = all.
        The ``[schedule_specs] allowed_templates`` option is the governance policy's, not this one.
    """

    def __init__(
        self,
        templates: Iterable[_Template] = (),
        *,
        enabled: Collection[str] = (),
        disabled: Collection[str] = (),
        namespace_allow: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self._tasks: dict[str, TaskTemplate] = {}
        self._notifiers: dict[str, NotificationTemplate] = {}
        self._enabled = set(enabled)
        self._disabled = set(disabled)
        self._namespace_allow = (
            None if namespace_allow is None else {k: frozenset(v) for k, v in namespace_allow.items()}
        )
        for template in templates:
            self.register(template)

    # registration
    def register(self, template: _Template, *, replace: bool = False) -> None:
        """Add a task or notification template (ValueError if the name is taken and not ``replace``)."""
        if not isinstance(template, (TaskTemplate, NotificationTemplate)):
            raise TypeError(f"expected a TaskTemplate or NotificationTemplate, got {type(template).__name__}")
        if not template.name or not template.name.replace("_", "a").isalnum():
            raise ValueError(f"template name {template.name!r} must be letters, digits and underscores")
        taken = template.name in (self._tasks if isinstance(template, TaskTemplate) else self._notifiers)
        if taken and not replace:
            raise ValueError(f"a {template.kind} named {template.name!r} is already registered")
        if isinstance(template, TaskTemplate):
            self._tasks[template.name] = template
        else:
            self._notifiers[template.name] = template

    def enable(self, name: str) -> None:
        """Enable an opt-in template (e.g. ``bash``)."""
        self._enabled.add(name)
        self._disabled.discard(name)

    def disable(self, name: str) -> None:
        """Disable a template for every namespace."""
        self._disabled.add(name)
        self._enabled.discard(name)

    # lookup
    def get(self, name: str) -> TaskTemplate | None:
        """The task template with this name, or None."""
        return self._tasks.get(name)

    def get_notifier(self, name: str) -> NotificationTemplate | None:
        """The notification template with this name, or None."""
        return self._notifiers.get(name)

    def names(self) -> list[str]:
        """Names of all registered task templates (enabled or not), sorted."""
        return sorted(self._tasks)

    def notifier_names(self) -> list[str]:
        """Names of all registered notification templates, sorted."""
        return sorted(self._notifiers)

    def templates(self) -> list[TaskTemplate]:
        return [self._tasks[n] for n in self.names()]

    def notifiers(self) -> list[NotificationTemplate]:
        return [self._notifiers[n] for n in self.notifier_names()]

    def is_enabled(self, name: str) -> bool:
        template = self._tasks.get(name) or self._notifiers.get(name)
        if template is None or name in self._disabled:
            return False
        return template.enabled_by_default or name in self._enabled

    def is_allowed(self, name: str, namespace: str | None = None) -> bool:
        """Whether ``namespace`` may use the (task or notification) template ``name``."""
        return self.why_not_allowed(name, namespace) is None

    def why_not_allowed(self, name: str, namespace: str | None = None) -> str | None:
        """None when allowed, else the reason in plain words (for error messages)."""
        template = self._tasks.get(name) or self._notifiers.get(name)
        if template is None:
            return f"no template named {name!r} is registered"
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

        Each template's kind, name, enablement, ``with`` schema (where the connection and callable
        allow-lists live), task references and check function (its code and the values it closes
        over, e.g. ``dag_targets``), and the namespace allow-lists. The loader caches each stored
        spec's re-check under a digest of this, so a change an admin makes is seen on the next parse.
        A check closing over objects without a stable representation only costs re-checks.
        """
        templates: list[_Template] = [*self.templates(), *self.notifiers()]
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
                ]
                for t in templates
            ],
            None if allow is None else {k: sorted(v) for k, v in sorted(allow.items())},
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


def register(template: _Template) -> None:
    """Register a template in the default registry (Python API for platform teams).

    Call it from code the DAG processor imports (e.g. a plugin or the loader file) before specs are
    parsed; it also applies to a default registry that already exists. A template registered this way
    replaces a built-in or entry-point template of the same name.
    """
    _EXTRA[:] = [t for t in _EXTRA if not (t.name == template.name and type(t) is type(template))]
    _EXTRA.append(template)
    if default_registry.cache_info().currsize:
        default_registry().register(template, replace=True)


@functools.lru_cache(maxsize=1)
def default_registry() -> TemplateRegistry:
    """Built-ins + entry point group ``airflow_provider_scheduler.templates`` + admin config (cached).

    Reads ``[schedule_specs]`` options: ``enabled_templates``, ``disabled_templates``,
    ``python_callables``, ``http_connections``, ``webhook_connections``,
    ``remote_connections``. Call ``default_registry.cache_clear()`` after changing them in-process.
    """
    # builtins imports this module for TaskTemplate, so it is imported here, when the registry is built
    from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

    settings = TemplateSettings.from_airflow_config()
    registry = TemplateRegistry(
        builtin_templates(settings),
        enabled=settings.enabled_templates,
        disabled=settings.disabled_templates,
    )
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
