# mypy: disable-error-code="misc"
"""A fast "is this valid?" pre-check for simple JSON Schemas (the ``with`` schemas of templates).

``jsonschema`` costs ~100 us per small object, which matters when thousands of specs are validated.
:func:`compile_fast_check` turns a schema that uses only common keywords into a plain function that
answers ``True`` (certainly valid) or ``False`` (invalid, or not sure). Only ``True`` is trusted: on
``False`` the caller runs ``jsonschema`` for the verdict and the messages. Schemas with any other
keyword (``$ref``, ``oneOf``, ``if``, ...) get no fast check (None) and always go to ``jsonschema``.

:func:`linear_validator` is the ``jsonschema`` validator the parser uses: Draft 2020-12 with a
``uniqueItems`` that hashes each item's canonical JSON (:func:`equality_key`) instead of comparing
every pair (jsonschema's own check is quadratic for objects: 1,000 objects take seconds).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "$comment", "deprecated"})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


class _Unsupported(Exception):
    pass


def python_pattern(pattern: str) -> str:
    r"""A JSON Schema ``pattern`` for Python's ``re.search``, with ECMA-262's meaning of ``$``.

    JSON Schema patterns are ECMA-262 regular expressions, where ``$`` (without the multiline flag)
    matches only at the end of the text. Python's ``$`` also matches before a final newline, so
    ``^[a-z.]+$`` would accept ``"a.x\n"`` (a dag_id no DAG has). Every ``$`` outside a character
    class and not escaped becomes ``\Z`` (the end of the text).
    """
    if "$" not in pattern:
        return pattern
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "]" and not (out and out[-1] in ("[", "[^")):
                in_class = False
            out.append(c)
        elif c == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
                continue
            out.append(c)
        elif c == "$":
            out.append(r"\Z")
        else:
            out.append(c)
        i += 1
    return "".join(out)


def check_duration_format(value: Any) -> str | None:
    """Why a ``format: duration`` string is not a duration this provider's parser accepts, or None."""
    from airflow_provider_scheduler.spec.durations import DurationError, parse_duration

    if not isinstance(value, str):
        return None  # the type keyword decides
    try:
        parse_duration(value)
    except DurationError as exc:
        return str(exc)
    return None


def compile_fast_check(schema: Any) -> Check | None:
    """Return a conservative validity check for ``schema``, or None when it uses other keywords."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def _compile(schema: Any) -> Check:
    if schema is True or schema == {}:
        return lambda v: True
    if not isinstance(schema, Mapping):
        raise _Unsupported
    checks: list[Check] = []
    for key in schema:
        if key in _ANNOTATIONS or key in ("properties", "required", "additionalProperties", "items"):
            continue
        if key == "type":
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if any(k not in _TYPES for k in kinds):
                raise _Unsupported
            tests = [_TYPES[k] for k in kinds]
            if len(tests) == 1:
                checks.append(tests[0])
            else:
                checks.append(lambda v, tests=tests: any(t(v) for t in tests))
        elif key == "enum":
            allowed = list(schema["enum"])
            checks.append(lambda v, allowed=allowed: _strict_in(v, allowed))
        elif key == "const":
            const = schema["const"]
            checks.append(lambda v, c=const: _strict_in(v, [c]))
        elif key in ("minimum", "maximum"):
            bound = schema[key]
            if key == "minimum":
                checks.append(lambda v, b=bound: not _is_number(v) or v >= b)
            else:
                checks.append(lambda v, b=bound: not _is_number(v) or v <= b)
        elif key in ("minLength", "maxLength"):
            n = schema[key]
            # jsonschema counts code points, like len()
            if key == "minLength":
                checks.append(lambda v, n=n: not isinstance(v, str) or len(v) >= n)
            else:
                checks.append(lambda v, n=n: not isinstance(v, str) or len(v) <= n)
        elif key == "format":
            if schema["format"] == "duration":
                checks.append(lambda v: check_duration_format(v) is None)
            # other formats are annotations (as in jsonschema without a format checker)
        elif key == "pattern":
            rx = re.compile(python_pattern(schema["pattern"]))
            checks.append(lambda v, rx=rx: not isinstance(v, str) or rx.search(v) is not None)
        elif key in ("minItems", "maxItems"):
            n = schema[key]
            if key == "minItems":
                checks.append(lambda v, n=n: not isinstance(v, list) or len(v) >= n)
            else:
                checks.append(lambda v, n=n: not isinstance(v, list) or len(v) <= n)
        elif key == "uniqueItems":
            if schema[key]:
                checks.append(_unique)
        else:
            raise _Unsupported
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        checks.append(_object_check(schema))
    if "items" in schema:
        item = _compile(schema["items"])
        checks.append(lambda v, item=item: not isinstance(v, list) or all(item(x) for x in v))
    if len(checks) == 1:
        return checks[0]

    def all_checks(v: Any) -> bool:
        for c in checks:  # noqa: SIM110 - a plain loop is faster than all(<generator>)
            if not c(v):
                return False
        return True

    return all_checks


def _object_check(schema: Mapping[str, Any]) -> Check:
    props = {k: _compile(s) for k, s in schema.get("properties", {}).items()}
    required = list(schema.get("required", []))
    extra = schema.get("additionalProperties", True)
    if extra is True:
        extra_check: Check | None = None
        closed = False
    elif extra is False:
        extra_check, closed = None, True
    else:
        extra_check, closed = _compile(extra), False

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for name in required:
            if name not in v:
                return False
        for key, value in v.items():
            sub = props.get(key)
            if sub is not None:
                if not sub(value):
                    return False
            elif closed or (extra_check is not None and not extra_check(value)):
                return False
        return True

    return check


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _strict_in(v: Any, allowed: list[Any]) -> bool:
    # JSON Schema equality: 1 == 1.0 but True != 1; be conservative and compare types too
    return any(type(v) is type(a) and v == a for a in allowed)


def _unique(v: Any) -> bool:
    if not isinstance(v, list):
        return True
    return items_unique(v) is True  # False (a duplicate) or None (not JSON): jsonschema decides


def equality_key(value: Any) -> str:
    """A key equal for two JSON values exactly when JSON Schema calls them equal.

    JSON Schema equality ignores key order and says ``1 == 1.0`` but ``true != 1``: integral floats
    are written as integers, objects with sorted keys, and booleans stay ``true``/``false``.

    :raises TypeError: ``value`` is not plain JSON (e.g. a non-string key).
    :raises ValueError: likewise (e.g. a circular reference).
    :raises RecursionError: nested too deeply.
    """
    return json.dumps(_normal(value), sort_keys=True, separators=(",", ":"))


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    return value


def items_unique(items: Any) -> bool | None:
    """Whether no two items are equal in the JSON Schema sense, in linear time (None: not JSON)."""
    seen: set[Any] = set()
    try:
        for item in items:
            kind = type(item)
            key: Any
            if kind is str or kind is bool or kind is int:
                key = (kind, item)  # (bool before int: True == 1 in Python, not in JSON Schema)
            elif kind is float:
                key = (int, int(item)) if item.is_integer() else (float, item)
            else:
                key = equality_key(item)
            if key in seen:
                return False
            seen.add(key)
    except (TypeError, ValueError, RecursionError):
        return None
    return True


def linear_validator(schema: Any, **kwargs: Any) -> Any:
    """A Draft 2020-12 ``jsonschema`` validator for ``schema`` whose ``uniqueItems`` is linear.

    :param kwargs: passed to the validator (e.g. ``format_checker``).
    """
    return _linear_validator_class()(schema, **kwargs)


def linear_validator_class() -> Any:
    """The validator class behind :func:`linear_validator`, for extending it with more keywords."""
    return _linear_validator_class()


@functools.lru_cache(maxsize=1)
def _linear_validator_class() -> Any:
    # jsonschema is imported by the first check that needs it, not at spec import
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    stock = Draft202012Validator.VALIDATORS["uniqueItems"]

    def unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
        if not unique or not validator.is_type(instance, "array"):
            return
        verdict = items_unique(instance)
        if verdict is None:  # not plain JSON: the stock (pairwise) check decides
            yield from stock(validator, unique, instance, schema)
        elif not verdict:
            yield ValidationError(f"{_short_repr(instance)} has non-unique elements")

    return validators.extend(Draft202012Validator, {"uniqueItems": unique_items})


def _short_repr(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
