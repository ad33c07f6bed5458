"""The ``bash`` template's quoting rule: no rendered value ever becomes shell text.

Airflow renders a ``BashOperator``'s ``bash_command`` with Jinja and hands the result to ``bash -c``.
If ``{{ params.name }}`` (or ``{{ dag_run.conf.x }}``, or ``{{ run_id }}``) were rendered into the
command, whoever triggers the DAG could choose ``x; rm -rf ~`` as its value and change what the shell
runs. :func:`env_command` rewrites a spec's command so that every ``{{ ... }}`` expression reaches the
shell as an environment variable instead::

    echo hello {{ params.name }}        ->  echo hello "${SCHED_VALUE_1}"
    echo "at {{ ds }}"                  ->  echo "at ${SCHED_VALUE_1}"
    echo 'at {{ ds }}'                  ->  echo 'at '"${SCHED_VALUE_1}"''

with ``env={"SCHED_VALUE_1": "{{ params.name }}"}``. ``env`` is a templated field of ``BashOperator``,
so Airflow renders the value as before, but bash expands a variable's value after parsing the command
and never parses it again: ``;``, ``$(...)``, backticks, quotes and newlines in it are plain
characters. The quoting around the reference only keeps the value one word (no splitting, no globbing)
and follows the shell quoting in force at that point (plain, ``"..."``, ``'...'``, ``$'...'``).

``{% if %}`` blocks stay in the command: they choose between pieces of text the spec's author wrote.
Refused (:func:`command_problems`), because no reference can be placed there safely and correctly:
an expression right after a backslash, and an expression inside or after a here-document (``<<``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import jinja2

if TYPE_CHECKING:
    from collections.abc import Mapping

#: names of the environment variables that carry rendered values; specs may not set them in ``env``
VALUE_PREFIX = "SCHED_VALUE_"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_RULE = "put the value in env (env: {NAME: '{{ params.name }}'}) and use \"$NAME\" in the command"


class UnsafeCommandError(ValueError):
    """A bash command holds a Jinja expression that cannot be passed through the environment."""


class _ShellState:
    """Just enough of bash's quoting rules to know which quotes are open at each character."""

    def __init__(self) -> None:
        self.quote = ""  # "", "'", '"', "$'" (ANSI-C), "#" (comment until end of line)
        self.escaped = False  # the previous character was an unquoted / double-quoted backslash
        self.heredoc = False  # a here-document operator was seen
        self.last = "\n"  # previous character (a word starts after whitespace or an operator)

    def feed(self, text: str) -> None:
        for char in text:
            self._feed(char)
            self.last = char

    def _feed(self, char: str) -> None:
        if self.escaped:
            self.escaped = False
            return
        quote = self.quote
        if quote == "#":
            if char == "\n":
                self.quote = ""
        elif quote == "'":
            if char == "'":
                self.quote = ""
        elif quote == "$'":
            if char == "\\":
                self.escaped = True
            elif char == "'":
                self.quote = ""
        elif quote == '"':
            if char == "\\":
                self.escaped = True
            elif char == '"':
                self.quote = ""
        elif char == "\\":
            self.escaped = True
        elif char == "'":
            self.quote = "$'" if self.last == "$" else "'"
        elif char == '"':
            self.quote = '"'
        elif char == "#" and (self.last.isspace() or self.last in ";&|()<>"):
            self.quote = "#"
        elif char == "<" and self.last == "<":
            self.heredoc = True  # also `<<<` (a here-string): refused alike, the rule stays simple

    def reference(self, name: str) -> str:
        """``$name`` as one word, quoted for the quoting in force here."""
        if self.quote == '"':
            return "${" + name + "}"
        if self.quote == "'":
            return "'\"${" + name + "}\"'"
        if self.quote == "$'":
            return "'\"${" + name + "}\"$'"
        return '"${' + name + '}"'  # plain text, or a shell comment (where it does nothing)


def env_command(command: str) -> tuple[str, dict[str, str]]:
    """Rewrite ``command`` so every ``{{ ... }}`` expression reaches the shell as an environment variable.

    :returns: the command to give ``BashOperator`` and the ``env`` entries (name -> the original
        ``{{ ... }}`` expression, which Airflow renders in ``env``). A command without expressions is
        returned unchanged with an empty dict.
    :raises UnsafeCommandError: an expression follows a backslash or a here-document operator.
    :raises jinja2.TemplateSyntaxError: the command is not valid Jinja.
    """
    if "{{" not in command:
        return command, {}
    out: list[str] = []
    values: dict[str, str] = {}
    state = _ShellState()
    expression: list[str] | None = None
    for _line, token, text in jinja2.Environment().lexer.tokeniter(command, None):
        if expression is not None:
            if token == "variable_end":
                name = f"{VALUE_PREFIX}{len(values) + 1}"
                values[name] = "{{" + "".join(expression) + "}}"
                out.append(state.reference(name))
                # whatever the end token swallowed (`-}}` strips the whitespace after it) stays out
                expression = None
            else:
                expression.append(text)
            continue
        if token == "variable_begin":
            if state.escaped:
                raise UnsafeCommandError(
                    "a {{ }} expression right after a backslash cannot be passed safely; " + _ENV_RULE
                )
            if state.heredoc:
                raise UnsafeCommandError(
                    "a {{ }} expression inside or after a here-document (<<) cannot be passed safely; "
                    + _ENV_RULE
                )
            expression = []
            continue
        out.append(text)
        if token == "data":  # text the shell sees (also the inside of {% raw %} blocks)
            state.feed(text)
    return "".join(out), values


def command_problems(command: str) -> list[str]:
    """Why ``command`` cannot be run safely by the ``bash`` template (empty when it can)."""
    try:
        env_command(command)
    except UnsafeCommandError as exc:
        return [str(exc)]
    except jinja2.TemplateSyntaxError:
        return []  # the spec's Jinja check reports the syntax error with its line
    return []


def env_problems(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(key, message)`` for each ``env`` name a shell cannot use or that this module reserves."""
    problems: list[tuple[str, str]] = []
    for key in env:
        if not ENV_NAME.fullmatch(key):
            problems.append((key, "is not an environment variable name (letters, digits and _)"))
        elif key.startswith(VALUE_PREFIX):
            problems.append((key, f"names starting with {VALUE_PREFIX} are reserved for rendered values"))
    return problems
