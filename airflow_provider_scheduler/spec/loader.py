"""Read spec files safely: JSON or YAML, one spec or a list, size-checked before parsing.

The YAML loader is PyYAML's safe loader with more refused: explicit tags of any kind (``!!python/...``,
``!!binary``, ``!custom``), anchors and aliases (no "billion laughs"), and duplicate keys. Dates stay
strings (the spec parser reads them), ``yes``/``no``/``on``/``off`` stay strings (only ``true``/``false``
are booleans), and nothing is expanded from the environment.
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any

import yaml

from airflow_provider_scheduler.spec.errors import Problem, SpecError
from airflow_provider_scheduler.spec.files import STDIN_SOURCE, read_stdin
from airflow_provider_scheduler.spec.parser import MAX_DEPTH, parse_spec
from airflow_provider_scheduler.spec.policy import DEFAULT_MAX_SPEC_BYTES, default_policy

if TYPE_CHECKING:
    from typing import IO

    from airflow_provider_scheduler.spec.catalog import TemplateCatalog
    from airflow_provider_scheduler.spec.model import ScheduleSpec
    from airflow_provider_scheduler.spec.policy import GovernancePolicy


#: YAML nesting refused while loading: the parser's cap, plus a list of specs and a scalar
MAX_YAML_DEPTH = MAX_DEPTH + 2


class _Refused(yaml.YAMLError):
    def __init__(self, message: str, mark: Any) -> None:
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        super().__init__(message + where)


class SpecYamlLoader(yaml.SafeLoader):
    """PyYAML safe loader that refuses tags, aliases and duplicate keys (see the module docstring)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        # nesting is capped while composing: PyYAML's scanner does work per token for every open flow
        # level ([[[[...: quadratic), and its recursion would end only at Python's recursion limit
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            return self._compose_checked(parent, index)
        finally:
            self._depth -= 1

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        # the scanner looks ahead up to 1024 characters per open "[" / "{", each step over all of them
        if self.flow_level >= MAX_YAML_DEPTH:
            raise _Refused(
                f"the document is nested too deeply (at most {MAX_DEPTH} levels in a spec)", self.get_mark()
            )
        super().fetch_flow_collection_start(TokenClass)

    def _compose_checked(self, parent: Any, index: Any) -> Any:
        if self._depth > MAX_YAML_DEPTH:
            raise _Refused(
                f"the document is nested too deeply (at most {MAX_DEPTH} levels in a spec)",
                self.peek_event().start_mark,
            )
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                "YAML aliases (*name) are not allowed in specs; repeat the value instead", event.start_mark
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused("YAML anchors (&name) are not allowed in specs", event.start_mark)
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            raise _Refused(
                f"YAML tags such as {tag!r} are not allowed in specs; a spec is plain data "
                f"(strings, numbers, true/false, lists, objects)",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise _Refused(f"keys must be strings, not {key!r}", key_node.start_mark)
            if key in seen:
                raise _Refused(f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


SpecYamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in specs")


def parse_document(text: str | bytes, *, source: str = "<input>", fmt: str | None = None) -> Any:
    """Parse JSON or YAML text into plain data (no size check; see :func:`read_documents`).

    :param fmt: ``"json"`` or ``"yaml"``; guessed from ``source``'s suffix, YAML otherwise (JSON is YAML).
    :raises SpecError: the text is not valid / allowed JSON or YAML.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(
                [Problem("", f"the file is not UTF-8 text ({exc.reason})")], source=source
            ) from None
    if fmt is None:
        fmt = "json" if source.lower().endswith(".json") else "yaml"
    if fmt == "json":
        try:
            return json.loads(text, object_pairs_hook=_json_pairs, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise SpecError(
                [Problem("", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")],
                source=source,
            ) from None
        except (ValueError, RecursionError) as exc:
            raise SpecError([Problem("", f"not valid JSON: {exc}")], source=source) from None
    try:
        return yaml.load(text, Loader=SpecYamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise SpecError([Problem("", f"not valid YAML: {exc.problem}{where}")], source=source) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem("", str(exc))], source=source) from None
    except RecursionError:
        raise SpecError([Problem("", "the document is nested too deeply")], source=source) from None


def read_documents(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> list[Any]:
    """Read a spec file into a list of raw spec documents (a file may hold one spec or a list).

    The size limit is checked before anything is parsed.

    :param max_bytes: largest accepted file (default: the governance policy's ``max_spec_bytes``).
    :raises SpecError: unreadable, too large, not JSON/YAML, or not an object / list of objects.
    """
    return _read(path, max_bytes)[0]


def _read(path: str | os.PathLike[str], max_bytes: int | None) -> tuple[list[Any], bool]:
    source = os.fspath(path)
    limit = max_bytes if max_bytes is not None else _default_max_bytes()
    try:
        with open(source, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise SpecError(
            [Problem("", f"cannot read the file: {exc.strerror or exc}")], source=source
        ) from None
    if len(raw) > limit:
        size = os.path.getsize(source)
        raise SpecError(
            [Problem("", f"the file is too large ({size} bytes; at most {limit} bytes per spec file)")],
            source=source,
        )
    return _documents(raw, source)


def _documents(raw: bytes, source: str) -> tuple[list[Any], bool]:
    """The raw spec documents of a file's bytes, and whether the file held a list."""
    data = parse_document(raw, source=source)
    if isinstance(data, dict):
        return [data], False
    if isinstance(data, list):
        return data, True
    if data is None:
        raise SpecError([Problem("", "the file is empty")], source=source)
    raise SpecError(
        [Problem("", "a spec file must hold a spec (an object) or a list of specs")], source=source
    )


def read_spec_file(
    path: str | os.PathLike[str],
    *,
    catalog: TemplateCatalog | None = None,
    policy: GovernancePolicy | None = None,
    registry: TemplateCatalog | None = None,
) -> list[ScheduleSpec | SpecError]:
    """Parse every spec in a file, returning each spec or its own SpecError (for reporting all of them).

    A file-level problem (unreadable, too large, bad YAML) raises SpecError instead. In a list file,
    problem paths of the i-th spec are prefixed with ``[i].``. ``registry`` is the former name of
    ``catalog`` (see ``parse_spec``).
    """
    source = os.fspath(path)
    max_bytes = policy.max_spec_bytes if policy is not None else None
    return _parse_documents(*_read(source, max_bytes), source, catalog or registry, policy)


def read_spec_stdin(
    *,
    catalog: TemplateCatalog | None = None,
    policy: GovernancePolicy | None = None,
    stream: IO[Any] | None = None,
) -> list[ScheduleSpec | SpecError]:
    """Like :func:`read_spec_file` for a document on stdin (YAML or JSON), capped at ``max_spec_bytes``."""
    limit = policy.max_spec_bytes if policy is not None else _default_max_bytes()
    raw = read_stdin(limit, stream)
    return _parse_documents(*_documents(raw, STDIN_SOURCE), STDIN_SOURCE, catalog, policy)


def _parse_documents(
    documents: list[Any],
    as_list: bool,
    source: str,
    catalog: TemplateCatalog | None,
    policy: GovernancePolicy | None,
) -> list[ScheduleSpec | SpecError]:
    results: list[ScheduleSpec | SpecError] = []
    for i, document in enumerate(documents):
        try:
            results.append(parse_spec(document, catalog=catalog, policy=policy))
        except SpecError as err:
            if as_list:
                err = SpecError(
                    [Problem(f"[{i}].{p.path}" if p.path else f"[{i}]", p.message) for p in err.problems],
                    spec_id=err.spec_id,
                )
            err.source = source
            results.append(err)
    return results


def load_spec_file(
    path: str | os.PathLike[str],
    *,
    catalog: TemplateCatalog | None = None,
    policy: GovernancePolicy | None = None,
    registry: TemplateCatalog | None = None,
) -> list[ScheduleSpec]:
    """Load and validate a YAML or JSON spec file (one spec or a list of specs).

    :raises SpecError: with every problem of every spec in the file (``source`` = the file; ``spec_id``
        set when the file holds one spec).
    """
    results = read_spec_file(path, catalog=catalog if catalog is not None else registry, policy=policy)
    errors = [r for r in results if isinstance(r, SpecError)]
    if errors:
        problems = [p for e in errors for p in e.problems]
        spec_id = errors[0].spec_id if len(results) == 1 else None
        raise SpecError(problems, spec_id=spec_id, source=os.fspath(path))
    return [r for r in results if not isinstance(r, SpecError)]


def _default_max_bytes() -> int:
    try:
        return default_policy().max_spec_bytes
    except Exception:  # configuration unreadable: fall back to the built-in limit
        return DEFAULT_MAX_SPEC_BYTES
