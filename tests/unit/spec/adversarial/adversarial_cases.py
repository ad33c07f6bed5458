"""The adversarial corpus: hostile and odd spec files, each with the outcome validation must give.

Two sources, one shape (:class:`Case`):

* files under ``cases/accepted/`` and ``cases/refused/`` (YAML or JSON, as a user would write them);
  an optional ``<file>.expect`` next to a refused file lists text (one per line) that must appear in
  the problem lines, e.g. ``description: contains a lone surrogate (U+D800)``;
* :func:`generated_cases`: inputs too big to keep as files (sizes near the limits, deep nesting,
  huge lists), built here.

To add a case, drop a file into the right folder (and an ``.expect`` file if the message matters), or
add a builder to :data:`GENERATORS`. ``test_adversarial_corpus.py`` runs every case through the Python
API and the CLI's ``validate``; ``test_storable_text.py`` stores every accepted one;
``benchmarks/validate.py`` times them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
OUTCOMES = ("accepted", "refused")
ONE_MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One corpus input.

    :param name: unique, e.g. ``refused/surrogate-description.json`` or ``gen/huge-depends-on``.
    :param expected: ``"accepted"`` or ``"refused"``.
    :param filename: the file name to write it as (its suffix picks JSON or YAML).
    :param content: the file's bytes.
    :param expect: text that must appear in the problem lines (refused cases).
    """

    name: str
    expected: str
    filename: str
    content: bytes = field(repr=False)
    expect: tuple[str, ...] = ()

    def write(self, folder: Path) -> Path:
        """Write the case into ``folder`` (created) and return the file's path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.filename
        path.write_bytes(self.content)
        return path


def file_cases() -> list[Case]:
    """The cases kept as files under ``cases/``."""
    cases = []
    for outcome in OUTCOMES:
        for path in sorted((CASES / outcome).iterdir()):
            if path.suffix not in (".yaml", ".yml", ".json"):
                continue
            expect_file = path.with_name(path.name + ".expect")
            expect = ()
            if expect_file.exists():
                expect = tuple(line for line in expect_file.read_text("utf-8").splitlines() if line.strip())
            cases.append(Case(f"{outcome}/{path.name}", outcome, path.name, path.read_bytes(), expect))
    return cases


def generated_cases() -> list[Case]:
    """The cases built in code (see :data:`GENERATORS`)."""
    return [make() for make in GENERATORS]


def all_cases() -> list[Case]:
    return file_cases() + generated_cases()


# builders ------------------------------------------------------------------------------------------
def _spec(name: str, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": 1,
        "namespace": "adversarial",
        "name": name,
        "schedule": "0 6 * * *",
        "start_date": "2026-01-01",
        "tasks": [{"id": "start", "template": "empty"}],
    }
    spec.update(extra)
    return spec


def _json(name: str, expected: str, spec: Any, *expect: str) -> Case:
    return Case(f"gen/{name}", expected, f"{name}.json", _dumps(spec).encode(), tuple(expect))


def _dumps(spec: Any) -> str:
    return json.dumps(spec, separators=(",", ":"))


def _raw(name: str, expected: str, filename: str, text: str, *expect: str) -> Case:
    return Case(f"gen/{name}", expected, filename, text.encode(), tuple(expect))


def _conf_task(conf: Any, task_id: str = "fire") -> dict[str, Any]:
    return {"id": task_id, "template": "trigger_dag", "with": {"dag_id": "target", "conf": conf}}


def size_just_under_the_limit() -> Case:
    # under the limit also as stored: the canonical form fills in defaults (a few hundred bytes)
    spec = _spec("size-under", tasks=[_conf_task({"blob": ""})])
    room = ONE_MIB - len(_dumps(spec)) - 1024
    spec["tasks"][0]["with"]["conf"]["blob"] = "x" * room
    return _json("size-under", "accepted", spec)


def size_under_the_limit_but_not_as_stored() -> Case:
    # the file store wrote such a spec and then skipped its own file as too large: the spec vanished
    spec = _spec("size-under-not-stored", tasks=[_conf_task({"blob": ""})])
    room = ONE_MIB - len(_dumps(spec)) - 16
    spec["tasks"][0]["with"]["conf"]["blob"] = "x" * room
    return _json("size-under-not-stored", "refused", spec, "(root): the spec is too large as stored")


def size_just_over_the_limit() -> Case:
    spec = _spec("size-over", tasks=[_conf_task({"blob": ""})])
    spec["tasks"][0]["with"]["conf"]["blob"] = "x" * (ONE_MIB - len(_dumps(spec)) + 1)
    return _json("size-over", "refused", spec, "(root): the file is too large (1048577 bytes")


def huge_allowed_states() -> Case:
    # jsonschema's uniqueItems compared every pair: minutes for 70,000 objects
    task = {
        "id": "wait",
        "template": "trigger_dag",
        "with": {
            "dag_id": "t",
            "wait_for_completion": True,
            "allowed_states": [{"k": i} for i in range(70_000)],
        },
    }
    return _json(
        "huge-allowed-states",
        "refused",
        _spec("huge-allowed-states", tasks=[task]),
        "tasks[0].with.allowed_states: has too many items (70000; at most 1000)",
    )


def objects_at_the_cap_in_many_tasks() -> Case:
    tasks = [
        {
            "id": f"wait-{t}",
            "template": "trigger_dag",
            "with": {
                "dag_id": "t",
                "wait_for_completion": True,
                "allowed_states": [{"k": i} for i in range(1000)],
                "failed_states": [{"k": i} for i in range(1000)],
            },
        }
        for t in range(40)
    ]
    return _json(
        "objects-at-the-cap",
        "refused",
        _spec("objects-at-the-cap", tasks=tasks),
        "tasks[0].with.allowed_states[0]: must be one of",
        "more problems (checking stopped after 200)",
    )


def huge_depends_on() -> Case:
    tasks = [
        {"id": "start", "template": "empty"},
        {"id": "end", "template": "empty", "depends_on": [f"t{i}" for i in range(105_000)]},
    ]
    return _json(
        "huge-depends-on",
        "refused",
        _spec("huge-depends-on", tasks=tasks),
        "tasks[1].depends_on: has too many items (105000; at most 1000)",
    )


def param_items_type_objects() -> Case:
    params = {"p": {"type": "array", "items": {"type": [{"a": i} for i in range(5000)]}, "default": []}}
    return _json(
        "param-items-type-objects",
        "refused",
        _spec("param-items-type-objects", params=params),
        "params.p.items.type: has too many items (5000; at most 1000)",
    )


def unique_default_objects() -> Case:
    params = {
        "p": {"type": "array", "uniqueItems": True, "default": [{"a": i, "b": [i]} for i in range(1000)]}
    }
    return _json(
        "unique-default-objects",
        "refused",
        _spec("unique-default-objects", params=params),
        "params.p.default: lists 1000 objects or lists under uniqueItems; at most 100",
    )


def unique_default_objects_at_the_cap() -> Case:
    params = {
        "p": {"type": "array", "uniqueItems": True, "default": [{"a": i, "b": [i]} for i in range(100)]}
    }
    return _json("unique-default-objects-100", "accepted", _spec("unique-default-objects-100", params=params))


def deep_json() -> Case:
    return _raw(
        "deep-json", "refused", "deep-json.json", "[" * 100_000 + "]" * 100_000, "(root): not valid JSON"
    )


_TOO_DEEP = "(root): the document is nested too deeply (at most 40 levels in a spec)"


def deep_yaml() -> Case:
    # PyYAML's scanner did work per token for every open "[": seconds before the recursion limit
    return _raw("deep-yaml", "refused", "deep-yaml.yaml", "a: " + "[" * 50_000 + "]" * 50_000, _TOO_DEEP)


def deep_yaml_mappings() -> Case:
    return _raw(
        "deep-yaml-mappings", "refused", "deep-yaml-mappings.yaml", "a: " + "{a: " * 100_000, _TOO_DEEP
    )


def deep_yaml_blocks() -> Case:
    text = "".join(" " * i + "a:\n" for i in range(1400)) + " " * 1400 + "b\n"
    return _raw("deep-yaml-blocks", "refused", "deep-yaml-blocks.yaml", text, _TOO_DEEP)


def deep_description() -> Case:
    value: Any = "x"
    for _ in range(900):
        value = [value]
    return _json(
        "deep-description",
        "refused",
        _spec("deep-description", description=value),
        "is nested too deeply (at most 40 levels in a spec)",
    )


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value}
    return value


def conf_nested_32() -> Case:
    # with -> conf -> 31 more objects: 32 levels below "with"
    return _json("conf-nested-32", "accepted", _spec("conf-nested-32", tasks=[_conf_task(_nested(31))]))


def conf_nested_33() -> Case:
    return _json(
        "conf-nested-33",
        "refused",
        _spec("conf-nested-33", tasks=[_conf_task(_nested(33))]),
        "is nested too deeply (at most 32 levels)",
    )


def many_root_keys() -> Case:
    spec = _spec("many-root-keys")
    spec.update({f"unknown_{i}": i for i in range(40_000)})
    return _json("many-root-keys", "refused", spec, "(root): has too many keys (40006; at most 1000)")


def conf_keys_at_the_cap() -> Case:
    conf = {f"key_{i}": f"value {i} {{{{ params.region }}}}" for i in range(1000)}
    params = {"region": {"type": "string", "default": "eu"}}
    return _json(
        "conf-keys-1000", "accepted", _spec("conf-keys-1000", params=params, tasks=[_conf_task(conf)])
    )


def conf_keys_over_the_cap() -> Case:
    conf = {f"key_{i}": i for i in range(1001)}
    return _json(
        "conf-keys-1001",
        "refused",
        _spec("conf-keys-1001", tasks=[_conf_task(conf)]),
        "tasks[0].with.conf: has too many keys (1001; at most 1000)",
    )


def full_dag_of_50() -> Case:
    tasks = [
        {"id": f"t{i:02d}", "template": "empty", "depends_on": [f"t{j:02d}" for j in range(i)]}
        for i in range(50)
    ]
    return _json("full-dag-50", "accepted", _spec("full-dag-50", tasks=tasks))


def dense_cycles_of_50() -> Case:
    tasks = [
        {"id": f"t{i:02d}", "template": "empty", "depends_on": [f"t{j:02d}" for j in range(50) if j != i]}
        for i in range(50)
    ]
    return _json(
        "dense-cycles-50", "refused", _spec("dense-cycles-50", tasks=tasks), "dependency cycle: t00 -> "
    )


def many_tasks() -> Case:
    tasks = [{"id": f"t{i}", "template": "empty"} for i in range(20_000)]
    return _json(
        "many-tasks",
        "refused",
        _spec("many-tasks", tasks=tasks),
        "tasks: at most 50 tasks are allowed in one spec",
    )


def many_unknown_task_keys() -> Case:
    tasks = [{"id": f"t{i}", "template": "empty", **{f"x_{k}": k for k in range(900)}} for i in range(50)]
    return _json(
        "many-unknown-task-keys",
        "refused",
        _spec("many-unknown-task-keys", tasks=tasks),
        "tasks[0].x_0: unknown key 'x_0'",
    )


def long_description_4_byte() -> Case:
    return _json(
        "description-5000-emoji", "accepted", _spec("description-emoji", description="\U0001f600" * 5000)
    )


def long_description_over() -> Case:
    return _json(
        "description-5001",
        "refused",
        _spec("description-5001", description="\u05d0" * 5001),
        "description: is too long (5001 characters; at most 5000)",
    )


def list_of_specs() -> Case:
    return _json("list-of-2000-specs", "accepted", [_spec(f"s{i}") for i in range(2000)])


def long_template() -> Case:
    params = {"region": {"type": "string", "default": "eu"}}
    conf = {"text": "{{ params.region }} " * 40_000}
    return _json(
        "long-template",
        "refused",
        _spec("long-template", params=params, tasks=[_conf_task(conf)]),
        "(root): has too much templated text (800000 characters in strings with '{{', '{%' or '{#'; "
        "at most 50000 in a spec)",
    )


def list_literal_template() -> Case:
    # one expression of 24,000 tokens, just under the cap: jinja2's own lexer and parser do the work
    conf = {"text": "{{ [" + "1," * 24_990 + "1] }}"}
    return _json(
        "list-literal-template", "accepted", _spec("list-literal-template", tasks=[_conf_task(conf)])
    )


def templated_text_at_the_cap() -> Case:
    params = {"region": {"type": "string", "default": "eu"}}
    conf = {"text": "{{ params.region }} " * 2_450}
    return _json(
        "templated-text-at-the-cap",
        "accepted",
        _spec("templated-text-at-the-cap", params=params, tasks=[_conf_task(conf)]),
    )


def deep_template() -> Case:
    conf = {"text": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"}
    return _json(
        "deep-template",
        "refused",
        _spec("deep-template", tasks=[_conf_task(conf)]),
        "tasks[0].with.conf.text: ",
    )


def many_templates() -> Case:
    params = {"region": {"type": "string", "default": "eu"}}
    conf = {f"k{i}": f"{{{{ params.region|default('x{i}') }}}}" for i in range(1000)}
    tasks = [_conf_task(conf, "fire")]
    return _json("many-templates", "accepted", _spec("many-templates", params=params, tasks=tasks))


def patterns_with_long_defaults() -> Case:
    email = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    params = {
        f"p{i}": {"type": "string", "pattern": email, "default": "a" * 200 + "@example.com"}
        for i in range(30)
    }
    return _json("patterns-at-the-limit", "accepted", _spec("patterns-at-the-limit", params=params))


def polynomial_default_at_the_limit() -> Case:
    # the most regex work validation may do: a failing match just inside the step budget
    params = {"p": {"type": "string", "pattern": "^a*a*a*b$", "default": "a" * 464}}
    return _json(
        "polynomial-default-at-the-limit",
        "refused",
        _spec("polynomial-default-at-the-limit", params=params),
        "params.p.default: the default does not match the param's own schema",
    )


def polynomial_default_over_the_limit() -> Case:
    params = {"p": {"type": "string", "pattern": "^a*a*a*b$", "default": "a" * 100_000}}
    return _json(
        "polynomial-default-over-the-limit",
        "refused",
        _spec("polynomial-default-over-the-limit", params=params),
        "params.p.default: is too long to be checked against the param's pattern quickly (100000 characters; "
        "at most 464 for this pattern",
    )


def redos_default_items() -> Case:
    params = {
        "p": {
            "type": "array",
            "items": {"type": "string", "pattern": "^(a|aa)+$"},
            "default": ["a" * 60 + "!"] * 1000,
        }
    }
    return _json(
        "redos-default-items",
        "refused",
        _spec("redos-default-items", params=params),
        "params.p.items.pattern: is too complex: a repeated group with alternatives",
    )


GENERATORS: list[Callable[[], Case]] = [
    size_just_under_the_limit,
    size_under_the_limit_but_not_as_stored,
    size_just_over_the_limit,
    huge_allowed_states,
    objects_at_the_cap_in_many_tasks,
    huge_depends_on,
    param_items_type_objects,
    unique_default_objects,
    unique_default_objects_at_the_cap,
    deep_json,
    deep_yaml,
    deep_yaml_mappings,
    deep_yaml_blocks,
    deep_description,
    conf_nested_32,
    conf_nested_33,
    many_root_keys,
    conf_keys_at_the_cap,
    conf_keys_over_the_cap,
    full_dag_of_50,
    dense_cycles_of_50,
    many_tasks,
    many_unknown_task_keys,
    long_description_4_byte,
    long_description_over,
    list_of_specs,
    long_template,
    list_literal_template,
    templated_text_at_the_cap,
    deep_template,
    many_templates,
    patterns_with_long_defaults,
    polynomial_default_at_the_limit,
    polynomial_default_over_the_limit,
    redos_default_items,
]
