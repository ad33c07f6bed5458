"""Issue 13 rows 10 (spec parts), 11 and 12: bad input is refused with its path, never a traceback,
and whatever ``validate`` accepts can be stored, exported, re-applied and built.

Each case goes through the CLI (``validate`` and ``apply``, in-process) and, where it matters, the
Python API. The cron cases are in ``test_cron_gaps.py``; this file holds the corpus of crons, long
integers, durations and texts (``CORPUS``) that a coordinator can merge into the shared corpus.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.spec import SpecError, parse_spec
from airflow_provider_scheduler.spec.files import read_stdin
from airflow_provider_scheduler.spec.loader import parse_document
from airflow_provider_scheduler.store import open_store

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BASE: dict[str, Any] = {
    "version": 1,
    "namespace": "qa",
    "name": "edge",
    "schedule": "@daily",
    "start_date": "2026-01-01",
    "tasks": [{"id": "a", "template": "empty"}],
}
LONG = "9" * 5000


def spec_with(**changes: Any) -> dict[str, Any]:
    spec = json.loads(json.dumps(BASE))
    spec.update(changes)
    return spec


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def validate(capsys: pytest.CaptureFixture[str], path: Path | str) -> tuple[int, str, str]:
    return run_cli(capsys, "validate", "--builtin-defaults", str(path))


class FakeStdin:
    """``sys.stdin`` with a byte buffer, like the real one."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)

    def read(self, n: int = -1) -> str:  # pragma: no cover - read_stdin uses the buffer
        raise AssertionError("the text layer must not be used")


#: (case, spec changes, path, start of the message): crons, long integers, durations and texts that
#: were accepted (or crashed) before; each must be refused through the CLI with ``FILE: SPEC: PATH: ...``
CORPUS: list[tuple[str, dict[str, Any], str, str]] = [
    ("feb-31", {"schedule": "0 0 31 2 *"}, "schedule", "cron expression '0 0 31 2 *' never fires: day 31"),
    ("feb-30", {"schedule": "0 0 30 2 *"}, "schedule", "cron expression '0 0 30 2 *' never fires: day 30"),
    (
        "feb-30-in-crons",
        {"schedule": {"crons": ["0 6 * * *", "0 0 30 2 *"], "timezone": "UTC"}},
        "schedule.crons[1]",
        "cron expression '0 0 30 2 *' never fires",
    ),
    ("june-every-minute", {"schedule": "* * * 6 *"}, "schedule", "runs as often as every 1 minute"),
    ("leap-day-every-minute", {"schedule": "* * 29 2 *"}, "schedule", "runs as often as every 1 minute"),
    (
        "june-in-crons",
        {"schedule": {"crons": ["0 6 * * *", "* * * 6 *"], "timezone": "UTC"}},
        "schedule.crons",
        "runs as often as every 1 minute",
    ),
    (
        "dst-squeeze",
        {"schedule": {"crons": ["58 1 * * *", "0 3 * * *"], "timezone": "Europe/Berlin"}},
        "schedule.crons",
        "runs as often as every 2 minutes",
    ),
    (
        "random-minute",
        {"schedule": "R 6 * * *"},
        "schedule",
        "cron expression 'R 6 * * *' uses a random value",
    ),
    ("long-int", {"max_active_runs": int("9" * 4300)}, "max_active_runs", "must be between 1 and"),
    ("timeout-newline", {"dagrun_timeout": "PT1H\n"}, "dagrun_timeout", "'PT1H\\n' is not an ISO-8601"),
    ("timeout-weeks", {"dagrun_timeout": "P99999999999W"}, "dagrun_timeout", "'P99999999999W' is longer"),
    ("every-weeks", {"schedule": {"every": "P99999999999W"}}, "schedule.every", "'P99999999999W' is longer"),
    ("blank-description", {"description": " "}, "description", "is blank"),
    ("name-newline", {"name": "edge\n"}, "name", "'edge\\n' is not a valid name"),
    (
        "dag-id-newline",
        {"tasks": [{"id": "a", "template": "trigger_dag", "with": {"dag_id": "a.x\n"}}]},
        "tasks[0].with.dag_id",
        "'a.x\\n' does not have the expected form",
    ),
    (
        "remote-timeout-newline",
        {
            "tasks": [
                {"id": "a", "template": "wait_for_dag_run", "with": {"dag_id": "a", "timeout": "PT1H\n"}}
            ]
        },
        "tasks[0].with.timeout",
        "'PT1H\\n' is not an ISO-8601 duration",
    ),
    (
        "ds-ds-nodash",
        {
            "tasks": [
                {
                    "id": "a",
                    "template": "trigger_dag",
                    "with": {"dag_id": "x", "conf": {"d": "{{ ds|ds_nodash }}"}},
                }
            ]
        },
        "tasks[0].with.conf.d",
        "the filter 'ds_nodash' takes a date",
    ),
]


@pytest.mark.parametrize(("case", "changes", "path", "message"), CORPUS, ids=[c[0] for c in CORPUS])
@pytest.mark.parametrize("command", ["validate", "apply"])
def test_corpus_is_refused_through_the_cli(case, changes, path, message, command, tmp_path, capsys):
    spec = spec_with(**changes)
    source = tmp_path / f"{case}.yaml"
    source.write_text(yaml.safe_dump(spec, sort_keys=False))
    uri = f"sqlite:///{tmp_path / 's.db'}"
    argv = [command, str(source)] + (["--builtin-defaults"] if command == "validate" else ["--store", uri])
    code, _, err = run_cli(capsys, *argv)
    assert code == 1
    spec_id = "qa.edge" if path != "name" else "-"
    lines = err.splitlines()
    assert lines[0].startswith(f"{source}: {spec_id}: {path}: {message}"), lines
    assert "Traceback" not in err
    if command == "apply":
        with open_store(uri) as store:
            assert store.list() == []


# -- row 10: long integers, non-UTF-8 input ---------------------------------------------------------


class TestLongIntegers:
    def test_yaml_integer_over_4300_digits(self, tmp_path, capsys):
        path = tmp_path / "long.yaml"
        path.write_text(yaml.safe_dump(BASE, sort_keys=False) + f"max_active_runs: {LONG}\n")
        code, _, err = validate(capsys, path)
        assert code == 1
        assert err == (
            f"{path}: qa.edge: max_active_runs: is a number with 5000 digits; numbers in a spec have "
            "at most 4300 digits\n"
        )

    def test_json_integer_over_4300_digits_inside_with(self, tmp_path, capsys):
        path = tmp_path / "long.json"
        text = json.dumps(spec_with(tasks=[{"id": "a", "template": "trigger_dag", "with": {"dag_id": "x"}}]))
        path.write_text(text.replace('"dag_id": "x"', f'"dag_id": "x", "conf": {{"n": -{LONG}}}'))
        code, _, err = validate(capsys, path)
        assert code == 1
        assert err == (
            f"{path}: qa.edge: tasks[0].with.conf.n: is a number with 5000 digits; numbers in a spec "
            "have at most 4300 digits\n"
        )

    def test_one_long_integer_costs_only_its_spec_in_a_list_file(self, tmp_path, capsys):
        path = tmp_path / "list.yaml"
        second = spec_with(name="other")
        path.write_text(
            yaml.safe_dump([BASE, second]).replace("name: other", f"name: other\n  retries_x: {LONG}")
        )
        code, out, err = validate(capsys, path)
        assert code == 1
        assert err == (
            f"{path}: qa.other: [1].retries_x: is a number with 5000 digits; numbers in a spec have "
            "at most 4300 digits\n"
        )
        assert out == "1 valid spec, 1 invalid, in 1 file(s)\n"

    def test_apply_refuses_and_stores_nothing(self, tmp_path, capsys):
        path = tmp_path / "long.yaml"
        path.write_text(yaml.safe_dump(BASE, sort_keys=False) + f"max_active_runs: {LONG}\n")
        uri = f"sqlite:///{tmp_path / 's.db'}"
        code, _, err = run_cli(capsys, "apply", str(path), "--store", uri)
        assert code == 1
        assert "max_active_runs: is a number with 5000 digits" in err
        assert "Traceback" not in err
        with open_store(uri) as store:
            assert store.list() == []

    @pytest.mark.parametrize("where", ["max_active_runs", "with", "version", "trigger_rule", "role"])
    def test_python_api_long_int_is_refused_with_its_path(self, where, registry):
        huge = 10**5000
        spec = spec_with(tasks=[{"id": "a", "template": "trigger_dag", "with": {"dag_id": "x"}}])
        path = where
        if where == "with":
            spec["tasks"][0]["with"]["conf"] = {"n": huge}
            path = "tasks[0].with.conf.n"
        elif where in ("trigger_rule", "role"):
            spec["tasks"][0][where] = huge
            path = f"tasks[0].{where}"
        else:
            spec[where] = huge
        with pytest.raises(SpecError) as err:
            parse_spec(spec, registry=registry)
        assert (
            path,
            "is a number with more than 4300 digits; numbers in a spec have at most 4300 digits",
        ) in [tuple(p) for p in err.value.problems]

    def test_parse_document_reports_the_path(self):
        with pytest.raises(SpecError) as err:
            parse_document(f"a: [1, {LONG}]\n")
        assert [tuple(p) for p in err.value.problems] == [
            ("a[1]", "is a number with 5000 digits; numbers in a spec have at most 4300 digits")
        ]


class TestNotUtf8:
    LATIN1 = yaml.safe_dump(spec_with(description="café"), allow_unicode=True).encode("latin-1")

    def test_file(self, tmp_path, capsys):
        path = tmp_path / "latin1.yaml"
        path.write_bytes(self.LATIN1)
        code, _, err = validate(capsys, path)
        assert code == 1
        assert err.splitlines() == [
            f"{path}: -: (root): the file is not UTF-8 text (invalid continuation byte at byte "
            f"{self.LATIN1.index(b'caf') + 3})"
        ]

    @pytest.mark.parametrize("command", ["validate", "apply"])
    def test_stdin(self, command, tmp_path, capsys, monkeypatch):
        monkeypatch.setattr("sys.stdin", FakeStdin(self.LATIN1))
        argv = [command, "-"] + (
            ["--builtin-defaults"] if command == "validate" else ["--store", f"sqlite:///{tmp_path / 's.db'}"]
        )
        code, _, err = run_cli(capsys, *argv)
        assert code == 1
        assert err.splitlines()[0].startswith("<stdin>: -: (root): the input is not UTF-8 text (")

    def test_closed_stdin(self, capsys, monkeypatch):
        monkeypatch.setattr("sys.stdin", None)
        code, _, err = run_cli(capsys, "validate", "--builtin-defaults", "-")
        assert code == 1
        assert err == "<stdin>: -: (root): stdin is closed: nothing to read for '-'\n"

    def test_unreadable_stdin(self):
        class Broken:
            class buffer:  # mimics sys.stdin.buffer
                @staticmethod
                def read(n: int) -> bytes:
                    raise OSError(21, "Is a directory")

        with pytest.raises(SpecError) as err:
            read_stdin(100, Broken())
        assert str(err.value) == "(root): cannot read stdin: Is a directory"

    def test_byte_order_mark_is_accepted_in_json(self, tmp_path, capsys):
        path = tmp_path / "bom.json"
        path.write_bytes(b"\xef\xbb\xbf" + json.dumps(BASE).encode())
        code, _, err = validate(capsys, path)
        assert (code, err) == (0, "")


# -- row 11: accepted means buildable -------------------------------------------------------------


class TestAcceptedButNotBuildable:
    """Each of these passed ``validate`` and then failed to build or to render."""

    @pytest.mark.parametrize("description", [" ", "\n\n", " \t \n"])
    def test_blank_description(self, description, registry):
        with pytest.raises(SpecError) as err:
            parse_spec(spec_with(description=description), registry=registry)
        assert [tuple(p) for p in err.value.problems] == [
            ("description", "is blank; write a description or leave the key out")
        ]

    def test_blank_description_already_stored_still_builds(self, registry):
        from airflow_provider_scheduler.factory import build_dag
        from airflow_provider_scheduler.spec import ScheduleSpec

        stored = parse_spec(spec_with(description="x"), registry=registry).to_dict()
        stored["description"] = " "  # what a store may hold from before the check
        dag = build_dag(ScheduleSpec.from_canonical(stored), registry)
        assert dag.description is None

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("PT1H\n", "'PT1H\\n' is not an ISO-8601 duration such as PT30M, PT4H, P1D or P1DT12H"),
            ("P99999999999W", "'P99999999999W' is longer than ten years"),
            ("P" + "9" * 5000 + "W", "'P9999999999999999999...999999999W' is longer than ten years"),
            ("P3000DT24000H", "'P3000DT24000H' is longer than ten years"),
        ],
    )
    @pytest.mark.parametrize("where", ["with.timeout", "dagrun_timeout", "execution_timeout", "every"])
    def test_durations(self, value, message, where, registry):
        spec = spec_with()
        task = spec["tasks"][0]
        path = where
        if where == "with.timeout":
            task.update(template="wait_for_dag_run", **{"with": {"dag_id": "other", "timeout": value}})
            path = "tasks[0].with.timeout"
        elif where == "execution_timeout":
            task["execution_timeout"] = value
            path = "tasks[0].execution_timeout"
        elif where == "every":
            spec["schedule"] = {"every": value}
            path = "schedule.every"
        else:
            spec[where] = value
        with pytest.raises(SpecError) as err:
            parse_spec(spec, registry=registry)
        assert [tuple(p) for p in err.value.problems] == [(path, message)]

    @pytest.mark.parametrize(
        ("template", "field", "value"),
        [
            ("trigger_dag", "dag_id", "a.x\n"),
            ("wait_for_dag_run", "dag_id", "a.x\n"),
            ("http_request", "endpoint", "/reports\n"),
        ],
    )
    def test_trailing_newline_in_a_with_pattern(self, template, field, value, registry):
        with_: dict[str, Any] = (
            {"dag_id": "a.x"} if template != "http_request" else {"conn_id": "reports_api"}
        )
        with_[field] = value
        spec = spec_with(tasks=[{"id": "a", "template": template, "with": with_}])
        with pytest.raises(SpecError) as err:
            parse_spec(spec, registry=registry)
        [(path, message)] = [tuple(p) for p in err.value.problems]
        assert path == f"tasks[0].with.{field}"
        assert message.startswith(f"{value!r} does not have the expected form")

    def test_trailing_newline_in_names_and_ids(self, registry):
        spec = spec_with(name="edge\n", tasks=[{"id": "a\n", "template": "empty"}])
        with pytest.raises(SpecError) as err:
            parse_spec(spec, registry=registry)
        assert [p.path for p in err.value.problems] == ["name", "tasks[0].id"]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "{{ ds|ds_nodash }}",
                "the filter 'ds_nodash' takes a date (logical_date, data_interval_start or "
                "data_interval_end), not 'ds', which is already a string: use {{ ds_nodash }}",
            ),
            (
                "{{ ds_nodash | ds }}",
                "the filter 'ds' takes a date (logical_date, data_interval_start or data_interval_end), "
                "not 'ds_nodash', which is already a string: use {{ ds }}",
            ),
            (
                "{{ run_id | ts_nodash }}",
                "the filter 'ts_nodash' takes a date (logical_date, data_interval_start or "
                "data_interval_end), not 'run_id', which is already a string: "
                "use {{ logical_date | ts_nodash }}",
            ),
            (
                "{{ params.region | ts }}",
                "the filter 'ts' takes a date (logical_date, data_interval_start or data_interval_end), not "
                "a value from params or dag_run.conf (never a date): use {{ logical_date | ts }}",
            ),
            (
                "{{ logical_date | tojson }}",
                "a date cannot be written as JSON: use {{ logical_date | ts }} or "
                "{{ logical_date.isoformat() }}",
            ),
            ("{{ logical_date | length }}", "the filter 'length' takes a string or a list, not a date"),
            ("{{ 5 | join(',') }}", "the filter 'join' takes a string or a list, not a number"),
            (
                "{{ ds | round }}",
                "the filter 'round' takes a number, not 'ds', which is already a string (convert it "
                "first: |int or |float)",
            ),
            ("{{ ds + 1 }}", "'+' cannot add a number to a string; use '~' to join texts"),
            ("{{ logical_date + 1 }}", "'+' cannot add a number to a date"),
            ("{{ -ds }}", "the sign '-' needs a number, not a string"),
            (
                "{{ logical_date.strftime(5) }}",
                "logical_date.strftime() takes one format string, e.g. logical_date.strftime('%Y-%m')",
            ),
            (
                "{{ logical_date.weekday_name }}",
                "'logical_date.weekday_name' does not exist on a date; use one of logical_date.day, "
                "logical_date.hour, logical_date.microsecond, logical_date.minute, logical_date.month, "
                "logical_date.second, logical_date.year or logical_date.strftime('...')",
            ),
        ],
    )
    def test_templates_that_cannot_render(self, text, message, registry):
        spec = spec_with(
            tasks=[{"id": "a", "template": "trigger_dag", "with": {"dag_id": "x", "conf": {"v": text}}}],
            params={"region": {"type": "string", "default": "eu"}},
        )
        with pytest.raises(SpecError) as err:
            parse_spec(spec, registry=registry)
        assert [tuple(p) for p in err.value.problems] == [("tasks[0].with.conf.v", message)]


#: templates the check accepts; each must render with Airflow's Jinja environment
RENDERED = {
    "ds": "{{ ds }}",
    "ds_nodash": "{{ ds_nodash }}",
    "date_filters": "{{ logical_date | ds_nodash }} {{ data_interval_end | ts }} "
    "{{ data_interval_start | ts_nodash }}",
    "strftime": "{{ logical_date.strftime('%Y-%m') }}/{{ logical_date.isoformat('T', 'minutes') }}",
    "fields": "{{ logical_date.year - 1 }}-{{ logical_date.month }}",
    "params": "{{ params.region | upper }} {{ params.n + 1 }} {{ params.n | abs }} "
    "{{ params.tags | join('+') }}",
    "conf": "{{ dag_run.conf.x | default('none') }} {{ dag_run.conf | tojson }}",
    "if": "{% if params.flag %}yes{% else %}no{% endif %}",
    "text": "{{ run_id | length }} {{ 'a' ~ 1 }} {{ [1, 2] | join('-') }} {{ ds | replace('-', '') }}",
    "default_date": "{{ logical_date | default('') | ds }}",
}

EDGE_SPECS: list[dict[str, Any]] = [
    spec_with(
        name="templates",
        description="  Leading spaces\n\nand a body.",
        params={
            "region": {"type": "string", "default": "eu"},
            "n": {"type": "integer", "default": -3},
            "flag": {"type": "boolean", "default": True},
            "tags": {"type": "array", "default": ["a", "b"]},
        },
        tasks=[
            {"id": "t", "template": "trigger_dag", "with": {"dag_id": "target", "conf": RENDERED}},
            {
                "id": "h",
                "template": "http_request",
                "with": {"conn_id": "reports_api", "endpoint": "/r/{{ds_nodash}}", "method": "POST"},
            },
            {
                "id": "w",
                "template": "wait_for_dag_run",
                "with": {
                    "dag_id": "target",
                    "run_id": "manual__{{ logical_date | ts_nodash }}",
                    "timeout": "P3660D",
                },
            },
        ],
    ),
    spec_with(
        name="leap-day", schedule={"crons": ["0 6 29 2 *", "30 6 29 2 *"], "timezone": "Europe/Berlin"}
    ),
    spec_with(name="dst-gap", schedule={"cron": "30 2 * * *", "timezone": "Europe/Berlin"}),
    spec_with(name="every", schedule={"every": "P1DT1M", "anchor": "2026-01-01T00:30:00+05:45"}),
    spec_with(name="long-timeouts", dagrun_timeout="P3660D", defaults={"retry_delay": "P1W"}),
    spec_with(name="large-int", params={"big": {"type": "integer", "default": 10**4000}}),
]


def _context(dag: Any) -> dict[str, Any]:
    import pendulum

    when = pendulum.datetime(2028, 2, 29, 6, 0, tz="UTC")

    class DagRun:
        conf: dict[str, Any] = {}

    return {
        "ds": when.strftime("%Y-%m-%d"),
        "ds_nodash": when.strftime("%Y%m%d"),
        "logical_date": when,
        "data_interval_start": when,
        "data_interval_end": when,
        "run_id": "scheduled__2028-02-29T06:00:00+00:00",
        "params": {k: dag.params[k] for k in dag.params},
        "dag_run": DagRun(),
    }


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI's deployment configuration approves the connection the edge specs use."""
    from airflow_provider_scheduler.spec.catalog import default_catalog
    from airflow_provider_scheduler.templates.registry import default_registry

    monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__HTTP_CONNECTIONS", "reports_api")
    default_registry.cache_clear()
    default_catalog.cache_clear()
    yield
    default_registry.cache_clear()
    default_catalog.cache_clear()


@pytest.mark.usefixtures("deployment")
def test_accepted_edge_specs_store_export_reapply_build_and_render(tmp_path, capsys, registry):
    """What validate accepts goes through apply, export, re-apply and build_dag, and renders."""
    from airflow_provider_scheduler.factory import build_dag
    from airflow_provider_scheduler.spec import ScheduleSpec

    source = tmp_path / "edge.yaml"
    source.write_text(yaml.safe_dump(EDGE_SPECS, sort_keys=False, allow_unicode=True))
    for spec in EDGE_SPECS:
        parse_spec(spec, registry=registry)
    for uri in (f"sqlite:///{tmp_path / 's.db'}", f"file:///{tmp_path / 'folder'}"):
        code, _, err = run_cli(capsys, "apply", str(source), "--store", uri)
        assert (code, err) == (0, ""), err
        code, exported, err = run_cli(capsys, "export", "--store", uri)
        assert (code, err) == (0, "")
        again = tmp_path / "exported.yaml"
        again.write_text(exported)
        code, out, err = run_cli(capsys, "apply", str(again), "--store", uri)
        assert (code, err) == (0, ""), err
        assert "revision 2" not in out  # the export is exactly what is stored
        with open_store(uri) as store:
            stored = {s.id: s.spec for s in store.list()}
        assert len(stored) == len(EDGE_SPECS)
        for spec_id, canonical in stored.items():
            dag = build_dag(ScheduleSpec.from_canonical(canonical), registry)
            env = dag.get_template_env()
            context = _context(dag)
            for task in dag.tasks:
                for field in task.template_fields:
                    rendered = task.render_template(getattr(task, field), context, env)
                    assert "{{" not in json.dumps(rendered, default=str), (spec_id, task.task_id, field)
    conf = rendered_conf(registry, EDGE_SPECS[0])
    assert conf["ds_nodash"] == "20280229"
    assert conf["date_filters"] == "20280229 2028-02-29T06:00:00+00:00 20280229T060000"
    assert conf["params"] == "EU -2 3 a+b"
    assert conf["conf"] == "none {}"
    assert conf["default_date"] == "2028-02-29"


def rendered_conf(registry: Any, spec: dict[str, Any]) -> dict[str, Any]:
    from airflow_provider_scheduler.factory import build_dag

    dag = build_dag(parse_spec(spec, registry=registry), registry)
    task = dag.get_task("t")
    return task.render_template(task.conf, _context(dag), dag.get_template_env())
