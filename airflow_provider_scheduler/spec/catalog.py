"""What the parser needs to know about templates: the :class:`TemplateCatalog` protocol.

The spec language names templates; it does not know how they become operators. A catalog answers, for
a template name: does it exist (:class:`CatalogEntry`: its ``with`` JSON Schema, ``task_refs`` and
extra checks), may a namespace use it (and why not), and which names to list in messages and in the
published JSON Schema. ``airflow_provider_scheduler.templates.TemplateRegistry`` implements it.

When ``parse_spec`` is given no catalog, :func:`default_catalog` loads the one an installed package
declares in the entry point group ``airflow_provider_scheduler.catalog`` (this provider declares
``airflow_provider_scheduler.templates:default_registry``), so this package imports nothing above it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_scheduler.spec.fastcheck import (
    check_duration_format,
    compile_fast_check,
    linear_validator_class,
    python_pattern,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

CATALOG_ENTRY_POINT_GROUP = "airflow_provider_scheduler.catalog"

#: the highest template version a spec may name (``name@999999``)
MAX_VERSION = 999_999

#: ``check(with_, namespace) -> [(sub_path, message), ...]``: rules a JSON Schema cannot express
#: (e.g. connection allow-lists). ``sub_path`` is relative to ``with`` (``"conn_id"``).
CheckFn = Callable[[Mapping[str, Any], "str | None"], list[tuple[str, str]]]


class CatalogEntry:
    """One template as the parser sees it: name, ``with`` schema, task references, extra checks.

    :param name: the name specs use in ``template:``.
    :param description: one line for docs and the published schema.
    :param with_schema: JSON Schema (draft 2020-12) of the ``with`` object.
    :param check: optional extra rules, see :data:`CheckFn`.
    :param task_refs: names of ``with`` fields whose value is the id of another task of the same spec;
        the parser checks that the task exists and is upstream.
    :param mappable: whether a task of this template may fan out with ``for_each`` (the template
        builds its operator through the ``make`` seam, see ``TaskTemplate``).
    :param version: which version of the template ``name`` this is (1, 2, ...; specs name it as
        ``name@version``). A new optional ``with`` field may be added to a version; anything that
        changes what an existing spec builds needs a new version.
    """

    kind = "template"

    def __init__(
        self,
        name: str,
        *,
        description: str = "",
        with_schema: Mapping[str, Any] | None = None,
        check: CheckFn | None = None,
        task_refs: tuple[str, ...] = (),
        mappable: bool = False,
        version: int = 1,
    ) -> None:
        self.name = name
        self.description = description
        self.with_schema = dict(with_schema or {})
        self.check = check
        self.task_refs = task_refs
        self.mappable = mappable
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
            raise ValueError(f"template version must be a whole number 1..{MAX_VERSION}, not {version!r}")
        self.version = version

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, version={self.version})"

    @functools.cached_property
    def validator(self) -> Any:
        """A compiled ``jsonschema`` Draft 2020-12 validator for ``with`` (built on first use).

        Two keywords mean what the published schema says rather than what plain ``jsonschema`` does:
        ``pattern`` uses ECMA-262's ``$`` (the end of the text, not before a final newline), and
        ``format: duration`` is checked with this provider's duration parser (whole numbers, no
        years or months, at most ten years), so a value the schema accepts can also be built.
        """
        from jsonschema import Draft202012Validator  # jsonschema is not imported at spec import

        Draft202012Validator.check_schema(self.with_schema)
        return _with_validator_class()(self.with_schema)  # uniqueItems in linear time

    @functools.cached_property
    def fast_check(self) -> Callable[[Any], bool] | None:
        """A conservative fast validity check of ``with`` (None when the schema is not simple enough)."""
        return compile_fast_check(self.with_schema)

    def extra_problems(self, with_: Mapping[str, Any], namespace: str | None) -> list[tuple[str, str]]:
        """Problems the entry's ``check`` function finds (beyond the JSON Schema)."""
        return list(self.check(with_, namespace)) if self.check else []


@functools.lru_cache(maxsize=1)
def _with_validator_class() -> Any:
    # jsonschema is not imported at spec import
    from jsonschema import ValidationError, validators

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Any:
        if isinstance(schema, dict) and schema.get("format") == "duration":
            return  # the duration check below says more precisely what is wrong
        if validator.is_type(instance, "string") and not _search(patrn, instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    def format_(validator: Any, fmt: str, instance: Any, schema: Any) -> Any:
        if fmt == "duration":
            why = check_duration_format(instance)
            if why is not None:
                yield ValidationError(why)

    return validators.extend(linear_validator_class(), {"pattern": pattern, "format": format_})


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    import re

    return re.compile(python_pattern(pattern))


def _search(pattern: str, text: str) -> bool:
    return _compiled(pattern).search(text) is not None


class TemplateCatalog(Protocol):
    """The templates a spec may name, and who may use them (implemented by ``TemplateRegistry``)."""

    def get(self, name: str) -> CatalogEntry | None:
        """The task template with this name, or None."""

    def get_notifier(self, name: str) -> CatalogEntry | None:
        """The notification template with this name, or None."""

    def names(self) -> Sequence[str]:
        """Names of all task templates (for "did you mean")."""

    def notifier_names(self) -> Sequence[str]:
        """Names of all notification templates (for "did you mean")."""

    def why_not_allowed(self, name: str, namespace: str | None = None) -> str | None:
        """None when ``namespace`` may use the template ``name``, else the reason in plain words."""

    def allowed_names(self, namespace: str | None = None, *, notifiers: bool = False) -> Sequence[str]:
        """Names ``namespace`` may use (messages and the published JSON Schema)."""

    def unavailable(self, name: str) -> str | None:
        """For a template this deployment cannot offer (a provider or Airflow version it needs is
        missing): the whole message, e.g. ``the task template 'spark_submit' needs the Apache Spark
        provider: pip install 'airflow-provider-scheduler[spark]'``; else None.

        Optional: the parser reports "unknown template" for catalogs without this method.
        """


class VersionedCatalog(TemplateCatalog, Protocol):
    """A catalog whose templates have versions (``TemplateRegistry`` is one).

    The parser uses these methods when a catalog has them; a catalog without them has version 1 of
    each template only (see :func:`resolve_version`).
    """

    def template_versions(self, name: str, *, notifiers: bool = False) -> Sequence[int]:
        """Every registered version of the template ``name``, ascending (retired ones included)."""

    def default_version(self, name: str, *, notifiers: bool = False) -> int | None:
        """The version a spec gets when it names ``name`` without ``@``; None when all are retired."""

    def get_version(self, name: str, version: int, *, notifiers: bool = False) -> CatalogEntry | None:
        """The template ``name`` at ``version`` (also a retired one), or None."""

    def is_retired(self, name: str, version: int, *, notifiers: bool = False) -> bool:
        """Whether an admin retired this version (specs using it are refused)."""


def split_template_ref(text: str) -> tuple[str, int | None] | None:
    """``"http_request@2"`` -> ``("http_request", 2)``, ``"http_request"`` -> ``("http_request", None)``.

    None when the text has an ``@`` but not the form ``NAME@N`` (N a whole number 1..999999).
    """
    name, at, number = text.partition("@")
    if not at:
        return text, None
    # (a DAG-file parse reads every stored task's reference: string checks, no regex, in the common case)
    if not name or not (number.isascii() and number.isdigit()) or number[0] == "0" or len(number) > 6:
        return None
    return name, int(number)


def template_ref(name: str, version: int) -> str:
    """The canonical form of a template reference, ``NAME@VERSION``."""
    return f"{name}@{version}"


def resolve_version(
    catalog: Any, name: str, version: int | None, *, notifiers: bool = False
) -> tuple[CatalogEntry | None, int, str | None]:
    """The entry, version and refusal for ``name`` (known to the catalog) at ``version`` (None: default).

    Returns ``(entry, version, None)`` when the version exists and is not retired, else
    ``(None, version, reason)`` with the reason in plain words (the versions there are, what to use
    instead). A catalog without versions (no ``template_versions`` method) has version 1 only.
    """
    kind = "notification template" if notifiers else "task template"
    versions_of = getattr(catalog, "template_versions", None)
    if versions_of is None:  # a catalog that knows nothing of versions: version 1 is all there is
        entry = catalog.get_notifier(name) if notifiers else catalog.get(name)
        if version in (None, 1) and entry is not None:
            return entry, 1, None
        return None, version or 1, f"the {kind} {name!r} has no version {version}; versions: 1"
    versions = list(versions_of(name, notifiers=notifiers))
    live = [v for v in versions if not catalog.is_retired(name, v, notifiers=notifiers)]
    default = catalog.default_version(name, notifiers=notifiers)
    if version is None:
        if default is None:
            return (
                None,
                0,
                f"every version of the {kind} {name!r} is retired on this deployment"
                + (f" ({', '.join(template_ref(name, v) for v in versions)})" if versions else ""),
            )
        version = default
    if version not in versions:
        return (
            None,
            version,
            (f"the {kind} {name!r} has no version {version}; {_versions_text(name, live, default)}"),
        )
    if version not in live:
        return (
            None,
            version,
            (
                f"{template_ref(name, version)} is retired on this deployment; "
                + (
                    f"use {template_ref(name, default)} (the default version, which '{name}' without @ means)"
                    if default is not None
                    else f"every version of {name!r} is retired"
                )
            ),
        )
    entry = catalog.get_version(name, version, notifiers=notifiers)
    if entry is None:  # pragma: no cover - a catalog listing a version it cannot return
        return None, version, f"the {kind} {name!r} has no version {version}"
    return entry, version, None


def _versions_text(name: str, live: list[int], default: int | None) -> str:
    if not live:
        return f"every version of {name!r} is retired"
    shown = [template_ref(name, v) + (" (default)" if v == default else "") for v in live]
    return f"available: {', '.join(shown)}"


class NoCatalogError(LookupError):
    """No catalog was passed and no installed package declares one."""


@functools.lru_cache(maxsize=1)
def default_catalog() -> TemplateCatalog:
    """The catalog declared in the ``airflow_provider_scheduler.catalog`` entry point group (cached).

    The entry point names a callable returning the catalog. Looked up only when a caller passes none
    (``parse_spec(data)`` in user code, the GitOps operator, which sits below the template layer).

    :raises NoCatalogError: no entry point is installed (re-install the provider).
    """
    from importlib.metadata import entry_points  # only when no catalog is passed

    for ep in sorted(entry_points(group=CATALOG_ENTRY_POINT_GROUP), key=lambda e: e.name):
        factory = ep.load()
        return factory() if callable(factory) else factory
    raise NoCatalogError(
        f"no template catalog: pass catalog=... or install a package declaring the entry point group "
        f"{CATALOG_ENTRY_POINT_GROUP!r} (airflow-provider-scheduler does; re-install it)"
    )
