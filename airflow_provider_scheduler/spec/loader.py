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
from airflow_provider_scheduler.spec.parser import MAX_DEPTH, SLUG, parse_spec
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


#: Python refuses to turn longer digit strings into an int (``sys.get_int_max_str_digits``); the
#: parser refuses larger ints too, so every accepted number can be written back as JSON
MAX_INT_DIGITS = 4300


class _LongNumber:
    """Stands in for an integer literal too long to convert, so it can be reported with its path."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<a number with {self.digits} digits>"


def _long_number_message(value: _LongNumber) -> str:
    return f"is a number with {value.digits} digits; numbers in a spec have at most {MAX_INT_DIGITS} digits"


class SpecYamlLoader(yaml.SafeLoader):
    """PyYAML safe loader that refuses tags, aliases and duplicate keys (see the module docstring)."""

    #: whether an integer too long to convert was read (then the documents hold ``_LongNumber``)
    long_numbers = False

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # more digits than int() converts
            self.long_numbers = True
            return _LongNumber(sum(c.isdigit() for c in str(node.value)))

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
SpecYamlLoader.add_constructor("tag:yaml.org,2002:int", SpecYamlLoader.construct_yaml_int)
SpecYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


#: top-level key of an exported spec document: the store revision the document was read at.
#: ``export``, ``show`` and ``edit`` write it; the loader takes it off before ``parse_spec`` (it is not
#: part of the spec) and ``apply`` refuses to overwrite a spec that changed since that revision.
BASE_REVISION_KEY = "x-base-revision"
_MAX_REVISION = 2**31 - 1


def split_base_revision(document: Any) -> tuple[Any, int | None, Problem | None]:
    """``(document without the key, its base revision or None, a problem with the key or None)``."""
    if not isinstance(document, dict) or BASE_REVISION_KEY not in document:
        return document, None, None
    rest = {key: value for key, value in document.items() if key != BASE_REVISION_KEY}
    value = document[BASE_REVISION_KEY]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_REVISION:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        problem = Problem(
            BASE_REVISION_KEY,
            f"must be a whole number from 0 to {_MAX_REVISION} (the store revision this spec was "
            f"exported at), not {shown}",
        )
        return rest, None, problem
    return rest, value, None


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
    :raises SpecError: the text is not valid / allowed JSON or YAML, or holds an integer with more
        than ``MAX_INT_DIGITS`` digits (reported at its path).
    """
    data, long_numbers = _parse_text(text, source=source, fmt=fmt)
    if long_numbers:
        problems = _long_number_problems(data, "")
        if problems:
            raise SpecError(problems, spec_id=_spec_id(data), source=source)
    return data


def _parse_text(text: str | bytes, *, source: str, fmt: str | None) -> tuple[Any, bool]:
    """The parsed data, and whether it holds ``_LongNumber`` stand-ins."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            what = "the input" if source == STDIN_SOURCE else "the file"
            raise SpecError(
                [Problem("", f"{what} is not UTF-8 text ({exc.reason} at byte {exc.start})")],
                source=source,
            ) from None
    text = text.removeprefix("\ufeff")  # a byte order mark some editors write (JSON refuses it)
    if fmt is None:
        fmt = "json" if source.lower().endswith(".json") else "yaml"
    if fmt == "json":
        long_numbers: list[bool] = []

        def parse_int(digits: str) -> Any:
            if len(digits) > MAX_INT_DIGITS:
                long_numbers.append(True)
                return _LongNumber(len(digits.lstrip("-")))
            return int(digits)

        try:
            data = json.loads(
                text, object_pairs_hook=_json_pairs, parse_constant=_no_constant, parse_int=parse_int
            )
        except json.JSONDecodeError as exc:
            raise SpecError(
                [Problem("", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")],
                source=source,
            ) from None
        except (ValueError, RecursionError) as exc:
            raise SpecError([Problem("", f"not valid JSON: {exc}")], source=source) from None
        return data, bool(long_numbers)
    loader = SpecYamlLoader(text)
    try:
        return loader.get_single_data(), loader.long_numbers
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise SpecError([Problem("", f"not valid YAML: {exc.problem}{where}")], source=source) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem("", str(exc))], source=source) from None
    except RecursionError:
        raise SpecError([Problem("", "the document is nested too deeply")], source=source) from None
    finally:
        loader.dispose()


def _long_number_problems(data: Any, root: str) -> list[Problem]:
    """A problem at the path of every ``_LongNumber`` in ``data`` (iterative: no recursion limit)."""
    found: list[Problem] = []
    stack: list[tuple[str, Any]] = [(root, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _LongNumber):
            found.append(Problem(path, _long_number_message(value)))
        elif isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
    return sorted(found)


def _spec_id(data: Any) -> str | None:
    """``namespace.name`` of a raw document when both are valid slugs (to name it in messages)."""
    if not isinstance(data, dict):
        return None
    namespace, name = data.get("namespace"), data.get("name")
    if not (isinstance(namespace, str) and isinstance(name, str)):
        return None
    return f"{namespace}.{name}" if SLUG.fullmatch(namespace) and SLUG.fullmatch(name) else None


def read_documents(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> list[Any]:
    """Read a spec file into a list of raw spec documents (a file may hold one spec or a list).

    The size limit is checked before anything is parsed.

    :param max_bytes: largest accepted file (default: the governance policy's ``max_spec_bytes``).
    :raises SpecError: unreadable, too large, not JSON/YAML, or not an object / list of objects.
    """
    documents = _read(path, max_bytes)[0]
    for document in documents:
        if isinstance(document, SpecError):
            raise document
    return documents


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
    """The raw spec documents of a file's bytes, and whether the file held a list.

    A document holding an integer too long to convert is replaced by its SpecError (the other
    documents of a list are still checked).
    """
    data, long_numbers = _parse_text(raw, source=source, fmt=None)
    documents: list[Any]
    if isinstance(data, dict):
        documents, as_list = [data], False
    elif isinstance(data, list):
        documents, as_list = data, True
    elif data is None:
        raise SpecError([Problem("", "the file is empty")], source=source)
    elif isinstance(data, _LongNumber):
        raise SpecError([Problem("", _long_number_message(data))], source=source)
    else:
        raise SpecError(
            [Problem("", "a spec file must hold a spec (an object) or a list of specs")], source=source
        )
    if long_numbers:
        for i, document in enumerate(documents):
            problems = _long_number_problems(document, "")
            if problems:
                documents[i] = SpecError(problems, spec_id=_spec_id(document), source=source)
    return documents, as_list


def read_spec_file(
    path: str | os.PathLike[str],
    *,
    catalog: TemplateCatalog | None = None,
    policy: GovernancePolicy | None = None,
    registry: TemplateCatalog | None = None,
    base_revisions: dict[str, int] | None = None,
) -> list[ScheduleSpec | SpecError]:
    """Parse every spec in a file, returning each spec or its own SpecError (for reporting all of them).

    A file-level problem (unreadable, too large, bad YAML) raises SpecError instead. In a list file,
    problem paths of the i-th spec are prefixed with ``[i].``. ``registry`` is the former name of
    ``catalog`` (see ``parse_spec``).

    :param base_revisions: when given, receives ``{spec_id: revision}`` for each valid spec whose
        document carries :data:`BASE_REVISION_KEY` (the key is accepted, and never part of the spec,
        either way).
    """
    source = os.fspath(path)
    max_bytes = policy.max_spec_bytes if policy is not None else None
    return _parse_documents(
        *_read(source, max_bytes), source, catalog or registry, policy, base_revisions=base_revisions
    )


def read_spec_stdin(
    *,
    catalog: TemplateCatalog | None = None,
    policy: GovernancePolicy | None = None,
    stream: IO[Any] | None = None,
    base_revisions: dict[str, int] | None = None,
) -> list[ScheduleSpec | SpecError]:
    """Like :func:`read_spec_file` for a document on stdin (YAML or JSON), capped at ``max_spec_bytes``."""
    limit = policy.max_spec_bytes if policy is not None else _default_max_bytes()
    raw = read_stdin(limit, stream)
    return _parse_documents(
        *_documents(raw, STDIN_SOURCE), STDIN_SOURCE, catalog, policy, base_revisions=base_revisions
    )


def _parse_documents(
    documents: list[Any],
    as_list: bool,
    source: str,
    catalog: TemplateCatalog | None,
    policy: GovernancePolicy | None,
    *,
    base_revisions: dict[str, int] | None = None,
) -> list[ScheduleSpec | SpecError]:
    results: list[ScheduleSpec | SpecError] = []
    for i, document in enumerate(documents):
        document, base, base_problem = split_base_revision(document)
        try:
            if isinstance(document, SpecError):  # unreadable in itself (e.g. a number too long)
                raise document
            try:
                spec = parse_spec(document, catalog=catalog, policy=policy)
            except SpecError as err:
                if base_problem is not None:
                    raise SpecError([base_problem, *err.problems], spec_id=err.spec_id) from None
                raise
            if base_problem is not None:
                raise SpecError([base_problem], spec_id=spec.dag_id)
            results.append(spec)
            if base is not None and base_revisions is not None:
                base_revisions[spec.dag_id] = base
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
