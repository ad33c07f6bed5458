"""Is a param's ``pattern`` clearly safe to match? A ReDoS guard that reads the parsed regex.

Airflow checks trigger values against a param's ``pattern`` in the API server (Python's backtracking
``re``, through jsonschema), and ``parse_spec`` checks the param's ``default`` against it. A pattern
such as ``^(a|aa)+$`` takes exponential time on a 40-character value, so a pattern is accepted only
when its shape is clearly safe. The pattern is parsed with Python's own regex parser
(``re._parser``, formerly ``sre_parse``) and the tree is walked; nothing is matched against the text
of the pattern. Refused:

* a repeat that can run more than once (``*``, ``+``, ``{n,m}`` with ``m > 1``) applied to a group that
  contains a quantifier (``(a+)+``, ``((a)+)+``, ``(a?){2,}``) or an alternation (``(a|aa)+``,
  ``(a|a)*``). Single-character alternatives such as ``(a|b)*`` are parsed into a character class
  (``[ab]*``) and are fine;
* backreferences and conditional groups (``\\1``, ``(?P=x)``, ``(?(1)a|b)``), lookarounds
  (``(?=``, ``(?!``, ``(?<=``, ``(?<!``), atomic groups and possessive quantifiers (not JSON Schema
  regex syntax);
* more than :data:`MAX_UNBOUNDED` unbounded repeats, or more than :data:`MAX_CHOICES` combinations of
  bounded repeats and alternatives (each multiplies the work of a failing match);
* patterns longer than :data:`MAX_PATTERN` characters, and patterns Python cannot compile.

What is left can still take polynomial time (``^a*a*b$`` is quadratic), so :class:`PatternCost`
estimates the backtracking steps for a value of a given length; the parser uses it to refuse a
``default`` too long to be checked quickly.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

#: longest accepted pattern (characters)
MAX_PATTERN = 200
#: most unbounded repeats (``*``, ``+``, ``{n,}``) in one pattern
MAX_UNBOUNDED = 4
#: most combinations of bounded repeats and alternatives in one pattern
MAX_CHOICES = 10**6
#: backtracking steps a check of the default may take (well under a second; the estimate is pessimistic)
STEP_BUDGET = 10**8
#: a bounded repeat with more choices than this counts as unbounded
_WIDE_REPEAT = 64

_REPEATS = frozenset(
    {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)}
    - {None}
)
_BEGIN = frozenset({sre_constants.AT_BEGINNING, sre_constants.AT_BEGINNING_STRING})


class _Refused(Exception):
    pass


@dataclass(frozen=True)
class PatternCost:
    """An upper estimate of the work ``re.search(pattern, value)`` does on a failing value.

    :param unbounded: unbounded repeats (each multiplies the work by the value's length).
    :param choices: product of the choices of bounded repeats and alternatives.
    :param anchored: the pattern starts with ``^`` (else ``search`` tries every start position).
    """

    unbounded: int
    choices: int
    anchored: bool

    @property
    def degree(self) -> int:
        return self.unbounded + (0 if self.anchored else 1)

    def steps(self, length: int) -> int:
        """Estimated backtracking steps for a value of ``length`` characters."""
        return self.choices * max(length, 1) ** self.degree

    def max_length(self, budget: int = STEP_BUDGET) -> int | None:
        """The longest value checked within ``budget`` steps (None: any length is fine)."""
        if self.degree == 0:
            return None
        length = int((budget / self.choices) ** (1 / self.degree))
        while length > 1 and self.steps(length) > budget:  # float rounding
            length -= 1
        return max(length, 1)


def pattern_refusal(pattern: str) -> str | None:
    """Why ``pattern`` is refused as a param pattern, or None when it is clearly safe."""
    if len(pattern) > MAX_PATTERN:
        return f"is too long ({len(pattern)} characters; at most {MAX_PATTERN})"
    return _analyse(pattern)[0]


def pattern_cost(pattern: str) -> PatternCost | None:
    """The cost estimate of an accepted pattern (None when :func:`pattern_refusal` refuses it)."""
    if len(pattern) > MAX_PATTERN:
        return None
    return _analyse(pattern)[1]


@functools.lru_cache(maxsize=1024)
def _analyse(pattern: str) -> tuple[str | None, PatternCost | None]:
    try:
        tree = sre_parse.parse(pattern)
        re.compile(pattern)
    except re.error as exc:
        return f"is not a valid regular expression: {exc}", None
    except (RecursionError, OverflowError, ValueError) as exc:
        return f"is not a valid regular expression: {exc}", None
    walker = _Walker()
    try:
        walker.walk(tree)
    except _Refused as exc:
        return str(exc), None
    if walker.unbounded > MAX_UNBOUNDED:
        return (
            f"is too complex: it has {walker.unbounded} unbounded repeats (*, +, {{n,}}); at most "
            f"{MAX_UNBOUNDED} (each one multiplies the time needed to check a long value)",
            None,
        )
    if walker.choices > MAX_CHOICES:
        return (
            "is too complex: its optional parts, bounded repeats and alternatives combine in more than "
            f"{MAX_CHOICES:,} ways, which can make checking a value take forever",
            None,
        )
    items = list(tree)
    anchored = bool(items) and items[0][0] == sre_constants.AT and items[0][1] in _BEGIN
    return None, PatternCost(walker.unbounded, walker.choices, anchored)


def _has_repeat_or_branch(items: Any) -> str | None:
    """``"repeat"`` / ``"alternation"`` when the subtree holds one (anywhere inside), else None."""
    for op, av in items:
        if op in _REPEATS:
            return "repeat"
        if op == sre_constants.BRANCH:
            return "alternation"
        for sub in _subpatterns(op, av):
            found = _has_repeat_or_branch(sub)
            if found:
                return found
    return None


def _subpatterns(op: Any, av: Any) -> list[Any]:
    if op == sre_constants.SUBPATTERN:
        return [av[3]]
    if op in _REPEATS:
        return [av[2]]
    if op == sre_constants.BRANCH:
        return list(av[1])
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [av[1]]
    if op == getattr(sre_constants, "ATOMIC_GROUP", None):
        return [av]
    return []


class _Walker:
    def __init__(self) -> None:
        self.unbounded = 0
        self.choices = 1

    def walk(self, items: Any) -> None:
        for op, av in items:
            if op in (sre_constants.GROUPREF, getattr(sre_constants, "GROUPREF_EXISTS", None)):
                if op == sre_constants.GROUPREF:
                    raise _Refused(
                        "uses a backreference (like \\1 or (?P=name)), which can make checking a value "
                        "take forever; param patterns cannot use them"
                    )
                raise _Refused("uses a conditional group (?(...)...), which param patterns cannot use")
            if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                raise _Refused(
                    "uses a lookahead or lookbehind ((?=...), (?!...), (?<=...), (?<!...)), "
                    "which param patterns cannot use"
                )
            if op == getattr(sre_constants, "ATOMIC_GROUP", None) or op == getattr(
                sre_constants, "POSSESSIVE_REPEAT", None
            ):
                raise _Refused(
                    "uses an atomic group or a possessive quantifier ((?>...), a*+), which JSON Schema "
                    "patterns (ECMA-262 regular expressions) do not have"
                )
            if op in _REPEATS:
                low, high, body = av
                if high > 1:
                    inner = _has_repeat_or_branch(body)
                    if inner == "repeat":
                        raise _Refused(
                            "is too complex: a repeated group that itself repeats (like (a+)+) can make "
                            "checking a value take forever"
                        )
                    if inner == "alternation":
                        raise _Refused(
                            "is too complex: a repeated group with alternatives (like (a|aa)+) can make "
                            "checking a value take forever; for single characters use a class such as "
                            "[ab]+"
                        )
                if high == sre_constants.MAXREPEAT or high - low + 1 > _WIDE_REPEAT:
                    self.unbounded += 1
                elif high > low:
                    self.choices *= high - low + 1
            elif op == sre_constants.BRANCH:
                self.choices *= max(len(av[1]), 1)
            for sub in _subpatterns(op, av):
                self.walk(sub)
