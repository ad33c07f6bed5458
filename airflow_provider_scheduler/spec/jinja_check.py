"""Check Jinja in user strings: only a safe set of names may be referenced.

A spec's strings are rendered by Airflow's (unsandboxed) Jinja environment at run time, where the
context also holds ``conn``, ``var``, ``macros``, ``ti`` ... . A spec must not be able to read
secrets or reach Python objects through them, so every templated string is parsed with jinja2 and its
syntax tree is checked against an allow-list:

* names: ``params``, ``ds``, ``ds_nodash``, ``logical_date``, ``data_interval_start``,
  ``data_interval_end``, ``run_id`` and ``dag_run.conf``;
* attribute / item access below ``params``, ``dag_run.conf`` and the three dates (never a name that
  starts with ``_``, never a computed key);
* calls: only ``strftime`` / ``isoformat`` on the dates, with literal arguments;
* filters from a short list (``default``, ``upper``, ``tojson``, ...) with literal arguments; an
  argument a filter reads as an attribute name (``join(attribute=...)``, ``map``, ``sort``,
  ``groupby``, ``selectattr``, ``sum``, ``unique``, ``min``/``max``, ``attr(...)``, dotted paths too)
  is checked like attribute access: no segment may start with ``_`` (Airflow's sandbox stops only
  dunder names, so ``attribute='_ParamsDict__dict'`` would reach a private field);
* ``{% if %}`` blocks, literals, comparisons, ``and``/``or``/``not``, ``+``/``-`` and ``~``.

In the ``with`` of a task with ``for_each`` the name ``item`` (the mapped task instance's own item)
is allowed too, with the same access rules as ``params`` (``check_template(text, ITEM_NAMES)``).

Everything else (``{% set %}``, ``{% import %}``, ``{% for %}``, macros, other names, ...) is refused.
"""

from __future__ import annotations

import functools
from typing import Any

SAFE_NAMES = frozenset(
    {
        "params",
        "ds",
        "ds_nodash",
        "logical_date",
        "data_interval_start",
        "data_interval_end",
        "run_id",
        "dag_run",
    }
)
#: the extra names of a ``for_each`` task's ``with``: ``item`` is that mapped instance's item
ITEM_NAMES = frozenset({"item"})
_DATE_NAMES = frozenset({"logical_date", "data_interval_start", "data_interval_end"})
_STRING_NAMES = frozenset({"ds", "ds_nodash", "run_id"})
_DATE_METHODS = frozenset({"strftime", "isoformat"})
_DATE_FIELDS = frozenset({"year", "month", "day", "hour", "minute", "second", "microsecond"})
SAFE_FILTERS = frozenset(
    {
        "default",
        "d",
        "upper",
        "lower",
        "title",
        "capitalize",
        "trim",
        "string",
        "int",
        "float",
        "round",
        "abs",
        "length",
        "tojson",
        "join",
        "replace",
        "first",
        "last",
        "truncate",
        "urlencode",
        "ds",
        "ds_nodash",
        "ts",
        "ts_nodash",
    }
)
_ALLOWED_LIST = (
    "params.*, ds, ds_nodash, logical_date, data_interval_start, data_interval_end, run_id, dag_run.conf"
)


def has_template(text: str) -> bool:
    """Whether ``text`` contains Jinja markup at all (cheap pre-check)."""
    return "{{" in text or "{%" in text or "{#" in text


#: Filters that read an argument as an attribute name: the position of that argument among the
#: filter's arguments (after the filtered value), None when only the ``attribute=`` keyword is one.
#: ``map`` and ``selectattr``/``rejectattr`` are handled in ``_attribute_args``.
_ATTRIBUTE_ARG = {
    "attr": 0,
    "join": 1,
    "sort": 2,
    "groupby": 0,
    "selectattr": 0,
    "rejectattr": 0,
    "sum": 0,
    "unique": 1,
    "min": 1,
    "max": 1,
    "map": None,
}
#: keyword arguments read as attribute names (``attr(name=...)``, ``<filter>(attribute=...)``)
_ATTRIBUTE_KWARGS = frozenset({"attribute", "name"})
#: longest text whose verdict is cached (the cache holds its keys; a spec may be a megabyte)
_CACHED_TEXT = 2000


def check_template(text: str, extra_names: frozenset[str] = frozenset()) -> str | None:
    """Return why ``text`` is not an allowed template, or None when it is allowed (or has no Jinja).

    :param extra_names: names allowed besides ``SAFE_NAMES`` (``ITEM_NAMES`` in a ``for_each`` task).
    """
    if not has_template(text):
        return None
    if len(text) > _CACHED_TEXT:
        return _check(text, extra_names)
    return _check_cached(text, extra_names)


def _check(text: str, extra_names: frozenset[str] = frozenset()) -> str | None:
    import jinja2

    try:
        tree = jinja2.Environment().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        return f"template syntax error: {exc.message} (line {exc.lineno})"
    except (RecursionError, MemoryError, ValueError):
        return "the template could not be parsed (too complex)"
    try:
        # attribute names in filter arguments first, so that reason wins over "filter not allowed"
        for node in tree.find_all(jinja2.nodes.Filter):
            _attribute_args(node.name, list(node.args), node.kwargs)
        _Checker(extra_names).visit(tree)
    except _Refused as exc:
        return str(exc)
    except RecursionError:
        return "the template is nested too deeply"
    return None


_check_cached = functools.lru_cache(maxsize=8192)(_check)


class _Refused(Exception):
    pass


class _Checker:
    def __init__(self, extra_names: frozenset[str] = frozenset()) -> None:
        self.names = SAFE_NAMES | extra_names

    def visit(self, node: Any) -> None:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise _Refused(_describe_refusal(node))
        method(node)

    def _children(self, node: Any) -> None:
        for child in node.iter_child_nodes():
            self.visit(child)

    # structure
    def visit_Template(self, node: Any) -> None:
        self._children(node)

    def visit_Output(self, node: Any) -> None:
        self._children(node)

    def visit_TemplateData(self, node: Any) -> None:
        return None

    def visit_If(self, node: Any) -> None:
        self._children(node)

    # literals and operators
    def visit_Const(self, node: Any) -> None:
        return None

    def visit_List(self, node: Any) -> None:
        self._children(node)

    def visit_Tuple(self, node: Any) -> None:
        self._children(node)

    def visit_Dict(self, node: Any) -> None:
        self._children(node)

    def visit_Pair(self, node: Any) -> None:
        self._children(node)

    def visit_Concat(self, node: Any) -> None:
        self._children(node)

    def visit_CondExpr(self, node: Any) -> None:
        self._children(node)

    def visit_Compare(self, node: Any) -> None:
        self._children(node)

    def visit_Operand(self, node: Any) -> None:
        self._children(node)

    visit_And = visit_Or = visit_Not = visit_Compare

    def visit_Neg(self, node: Any) -> None:
        self._children(node)
        _check_operands(node)

    visit_Pos = visit_Add = visit_Sub = visit_Neg

    def visit_Filter(self, node: Any) -> None:
        if node.name not in SAFE_FILTERS:
            raise _Refused(
                f"the filter {node.name!r} is not allowed in templates; allowed filters: "
                f"{', '.join(sorted(SAFE_FILTERS))}"
            )
        self._literal_args(node, f"the filter {node.name!r}")
        if node.node is not None:
            self.visit(node.node)
            _check_filter_input(node)

    def visit_Test(self, node: Any) -> None:
        if node.name not in ("defined", "undefined", "none", "number", "string", "sameas", "eq", "ne"):
            raise _Refused(f"the test {node.name!r} is not allowed in templates")
        self._literal_args(node, f"the test {node.name!r}")
        self.visit(node.node)

    def _literal_args(self, node: Any, what: str) -> None:
        import jinja2.nodes as n

        args = list(node.args) + [kw.value for kw in node.kwargs]
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            raise _Refused(f"{what} cannot take *args or **kwargs in templates")
        for arg in args:
            if not isinstance(arg, n.Const):
                raise _Refused(f"{what} only takes literal arguments in templates")

    # names
    def visit_Name(self, node: Any) -> None:
        if node.ctx != "load":
            raise _Refused("assigning variables is not allowed in templates")
        if node.name not in self.names:
            raise _Refused(_name_refusal(node.name))
        if node.name == "dag_run":
            raise _Refused("only 'dag_run.conf' may be used from dag_run")

    def visit_Getattr(self, node: Any) -> None:
        self._access(node, node.attr)

    def visit_Getitem(self, node: Any) -> None:
        import jinja2.nodes as n

        if not isinstance(node.arg, n.Const) or not isinstance(node.arg.value, (str, int)):
            raise _Refused("only literal keys (e.g. params['region'] or list[0]) are allowed in templates")
        self._access(node, node.arg.value)

    def _access(self, node: Any, key: str | int) -> None:
        import jinja2.nodes as n

        if isinstance(key, str) and key.startswith("_"):
            raise _Refused(f"attributes starting with '_' ({key!r}) are not allowed in templates")
        # Find the root of the access chain.
        chain: list[Any] = [key]
        inner = node.node
        while isinstance(inner, (n.Getattr, n.Getitem)):
            if isinstance(inner, n.Getattr):
                chain.append(inner.attr)
            else:
                if not isinstance(inner.arg, n.Const):
                    raise _Refused("only literal keys (e.g. params['region']) are allowed in templates")
                chain.append(inner.arg.value)
            if isinstance(chain[-1], str) and chain[-1].startswith("_"):
                raise _Refused(f"attributes starting with '_' ({chain[-1]!r}) are not allowed in templates")
            inner = inner.node
        if not isinstance(inner, n.Name):
            # e.g. a filter result or a literal: check that part on its own
            self.visit(inner)
            return
        chain.reverse()
        root = inner.name
        if root not in self.names:
            raise _Refused(_name_refusal(root))
        if root == "dag_run" and chain[0] != "conf":
            raise _Refused(f"only 'dag_run.conf' may be used from dag_run, not 'dag_run.{chain[0]}'")
        if root in _STRING_NAMES:
            raise _Refused(f"'{root}' is a plain string; attribute or item access on it is not allowed")
        if root in _DATE_NAMES and (len(chain) > 1 or chain[0] not in _DATE_FIELDS | _DATE_METHODS):
            raise _Refused(
                f"'{root}.{'.'.join(map(str, chain))}' does not exist on a date; use one of "
                f"{', '.join(f'{root}.{a}' for a in sorted(_DATE_FIELDS))} or {root}.strftime('...')"
            )

    def visit_Call(self, node: Any) -> None:
        import jinja2.nodes as n

        func = node.node
        if (
            isinstance(func, n.Getattr)
            and isinstance(func.node, n.Name)
            and func.node.name in _DATE_NAMES
            and func.attr in _DATE_METHODS
        ):
            self._literal_args(node, f"{func.node.name}.{func.attr}()")
            _check_date_method_args(node, f"{func.node.name}.{func.attr}")
            return
        raise _Refused(
            "calling functions or methods is not allowed in templates "
            "(only logical_date.strftime(...) / .isoformat() and the data_interval_* dates)"
        )


def _attribute_args(name: str, args: list[Any], kwargs: list[Any]) -> None:
    """Refuse a literal filter argument that names an attribute starting with ``_`` (any segment).

    Checked for every filter, also one not on the allow-list, so the reason names the attribute.
    """
    import jinja2.nodes as n

    for kw in kwargs:
        if kw.key in _ATTRIBUTE_KWARGS and isinstance(kw.value, n.Const):
            _attribute_name(name, kw.value.value)
    if name == "map":
        # map('filter', *args) applies another filter: check its name and its arguments
        if args and isinstance(args[0], n.Const) and isinstance(args[0].value, str):
            inner = args[0].value
            if inner == "map":
                raise _Refused("the filter 'map' cannot apply 'map' in templates")
            _attribute_args(inner, args[1:], [])
        return
    position = _ATTRIBUTE_ARG.get(name)
    if position is not None and position < len(args) and isinstance(args[position], n.Const):
        _attribute_name(name, args[position].value)


def _attribute_name(name: str, value: Any) -> None:
    if not isinstance(value, str):
        return  # an integer reads an item, like list[0]
    for segment in value.split("."):
        if segment.startswith("_"):
            raise _Refused(
                f"attributes starting with '_' ({segment!r}) are not allowed in templates "
                f"(in the argument {value!r} of the filter {name!r})"
            )


def _name_refusal(name: str) -> str:
    if name in ITEM_NAMES:
        return (
            f"'{name}' is only defined in the 'with' of a task with for_each (each mapped task instance's "
            f"item); allowed here: {_ALLOWED_LIST}"
        )
    if name in ("conn", "var", "macros", "ti", "task_instance", "task", "dag", "conf", "inlets", "outlets"):
        return (
            f"'{name}' is not available in spec templates (it could expose secrets or internals); "
            f"allowed: {_ALLOWED_LIST}"
        )
    return f"unknown template variable {name!r}; allowed: {_ALLOWED_LIST}"


def _describe_refusal(node: Any) -> str:
    kind = type(node).__name__
    statements = {
        "Assign": "{% set %}",
        "AssignBlock": "{% set %}",
        "Import": "{% import %}",
        "FromImport": "{% from ... import %}",
        "Include": "{% include %}",
        "Extends": "{% extends %}",
        "For": "{% for %}",
        "Macro": "{% macro %}",
        "CallBlock": "{% call %}",
        "FilterBlock": "{% filter %}",
        "With": "{% with %}",
        "Block": "{% block %}",
        "Scope": "scoped blocks",
        "ScopedEvalContextModifier": "{% autoescape %}",
        "EvalContextModifier": "{% autoescape %}",
    }
    if kind in statements:
        return (
            f"{statements[kind]} is not allowed in templates; only {{{{ ... }}}} expressions and {{% if %}}"
        )
    operators = {"Mul": "'*'", "Div": "'/'", "FloorDiv": "'//'", "Mod": "'%'", "Pow": "'**'"}
    if kind in operators:
        return f"the operator {operators[kind]} is not allowed in templates"
    return f"{kind} expressions are not allowed in templates"


# -- kinds of values: refuse what cannot render -----------------------------------------------------
#
# Airflow renders with the filters of its own Jinja environment; ``ds``, ``ts`` ... call ``strftime``
# on their input, ``round``/``abs`` need a number, ``length``/``join``/``first`` a sized value. Where
# the kind of the input is known from the template alone (a date, a string, a literal) the check
# refuses what would fail when the task runs. Values from ``params`` and ``dag_run.conf`` are JSON:
# never a date, otherwise not known.

_DEFINITE = frozenset({"date", "str", "number", "list", "dict", "none"})
_DATE_FILTERS = frozenset({"ds", "ds_nodash", "ts", "ts_nodash"})
_NUMBER_FILTERS = frozenset({"round", "abs"})
_SIZED_FILTERS = frozenset({"length", "join", "first", "last", "truncate"})
_TEXT_FILTERS = frozenset(
    {"upper", "lower", "title", "capitalize", "trim", "string", "replace", "urlencode", "tojson", "join"}
)
_KIND_WORDS = {
    "date": "a date",
    "str": "a string",
    "number": "a number",
    "list": "a list",
    "dict": "an object",
    "none": "none",
    "json": "a value from params or dag_run.conf (never a date)",
}


def _kind(node: Any) -> str:
    """What ``node`` evaluates to: date, str, number, list, dict, none, json (a JSON value) or any."""
    import jinja2.nodes as n

    if isinstance(node, n.Name):
        if node.name in ITEM_NAMES:
            return "json"
        if node.name in _DATE_NAMES:
            return "date"
        return "str" if node.name in _STRING_NAMES else "dict"
    if isinstance(node, (n.Getattr, n.Getitem)):
        inner: Any = node
        while isinstance(inner, (n.Getattr, n.Getitem)):
            inner = inner.node
        if isinstance(inner, n.Name):
            return "number" if inner.name in _DATE_NAMES else "json"
        return "any"
    if isinstance(node, n.Const):
        value = node.value
        if value is None:
            return "none"
        if isinstance(value, (bool, int, float)):
            return "number"
        return "str" if isinstance(value, str) else "any"
    if isinstance(node, (n.List, n.Tuple)):
        return "list"
    if isinstance(node, n.Dict):
        return "dict"
    if isinstance(node, (n.Concat, n.Call)):
        return "str"  # '~', and the only calls allowed: strftime / isoformat
    if isinstance(node, n.Filter):
        if node.name in _DATE_FILTERS or node.name in _TEXT_FILTERS or node.name == "truncate":
            return "str"
        if node.name in ("int", "float", "length") or node.name in _NUMBER_FILTERS:
            return "number"
        if node.name in ("default", "d") and node.node is not None:
            kinds = {_kind(node.node)} | {_kind(a) for a in node.args[:1]}
            return kinds.pop() if len(kinds) == 1 else "any"
        return "any"
    if isinstance(node, (n.Neg, n.Pos)):
        return "number" if _kind(node.node) == "number" else "any"
    if isinstance(node, (n.Add, n.Sub)):
        left, right = _kind(node.left), _kind(node.right)
        if (
            left == right
            and left in ("number", "str", "list")
            and not (left == "str" and isinstance(node, n.Sub))
        ):
            return left
        return "any"
    return "any"


def _describe_input(node: Any, kind: str) -> str:
    import jinja2.nodes as n

    if isinstance(node, n.Name) and node.name in _STRING_NAMES:
        return f"'{node.name}', which is already a string"
    return _KIND_WORDS.get(kind, "this value")


def _check_filter_input(node: Any) -> None:
    name, value = node.name, node.node
    kind = _kind(value)
    if name in _DATE_FILTERS and kind in (_DEFINITE - {"date", "none"}) | {"json"}:
        raise _Refused(
            f"the filter {name!r} takes a date (logical_date, data_interval_start or data_interval_end), "
            f"not {_describe_input(value, kind)}: {_date_filter_hint(value, name)}"
        )
    if name in _NUMBER_FILTERS and kind in _DEFINITE - {"number"}:
        raise _Refused(
            f"the filter {name!r} takes a number, not {_describe_input(value, kind)} "
            f"(convert it first: |int or |float)"
        )
    if name in _SIZED_FILTERS and kind in ("date", "number", "none"):
        raise _Refused(f"the filter {name!r} takes a string or a list, not {_describe_input(value, kind)}")
    if name == "tojson" and kind == "date":
        raise _Refused(
            "a date cannot be written as JSON: use {{ logical_date | ts }} or {{ logical_date.isoformat() }}"
        )


def _date_filter_hint(value: Any, name: str) -> str:
    import jinja2.nodes as n

    if isinstance(value, n.Name) and value.name in ("ds", "ds_nodash") and name in ("ds", "ds_nodash"):
        return f"use {{{{ {name} }}}}"
    return f"use {{{{ logical_date | {name} }}}}"


def _check_operands(node: Any) -> None:
    import jinja2.nodes as n

    if isinstance(node, (n.Neg, n.Pos)):
        kind = _kind(node.node)
        if kind in _DEFINITE - {"number"}:
            sign = "-" if isinstance(node, n.Neg) else "+"
            raise _Refused(f"the sign '{sign}' needs a number, not {_KIND_WORDS[kind]}")
        return
    left, right = _kind(node.left), _kind(node.right)
    if left not in _DEFINITE or right not in _DEFINITE:
        return
    if isinstance(node, n.Add):
        if left == right and left in ("number", "str", "list"):
            return
        hint = "; use '~' to join texts" if "str" in (left, right) else ""
        raise _Refused(f"'+' cannot add {_KIND_WORDS[right]} to {_KIND_WORDS[left]}{hint}")
    if left == right and left in ("number", "date"):
        return
    raise _Refused(f"'-' cannot subtract {_KIND_WORDS[right]} from {_KIND_WORDS[left]}")


def _check_date_method_args(node: Any, what: str) -> None:
    """``strftime`` takes one format string; ``isoformat`` an optional separator and timespec."""
    args = [a.value for a in node.args] + [kw.value.value for kw in node.kwargs]
    if what.endswith(".strftime"):
        if len(args) != 1 or node.kwargs or not isinstance(args[0], str):
            raise _Refused(f"{what}() takes one format string, e.g. {what}('%Y-%m')")
        return
    timespecs = ("auto", "hours", "minutes", "seconds", "milliseconds", "microseconds")
    names = [kw.key for kw in node.kwargs]
    positional = [a.value for a in node.args]
    ok = (
        len(args) <= 2
        and set(names) <= {"sep", "timespec"}
        and all(isinstance(a, str) for a in args)
        and (len(positional) < 1 or len(positional[0]) == 1)
        and (len(positional) < 2 or positional[1] in timespecs)
        and all(kw.value.value in timespecs for kw in node.kwargs if kw.key == "timespec")
        and all(len(kw.value.value) == 1 for kw in node.kwargs if kw.key == "sep")
    )
    if not ok:
        raise _Refused(f"{what}() takes an optional one-character separator and timespec, e.g. {what}('T')")
