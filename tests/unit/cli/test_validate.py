"""``airflow-scheduler validate`` and ``airflow-scheduler schema``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from airflow_provider_scheduler.cli import main

EXAMPLE = Path(__file__).resolve().parents[3] / "example_dags" / "specs" / "analytics-weekday-report.yaml"

GOOD = """\
version: 1
namespace: qa
name: {name}
tasks:
  - id: a
    template: empty
"""

BAD = """\
version: 1
namespace: qa
name: broken
schedul: "@daily"
tasks:
  - id: a
    template: empty
    with:
      conf: "{{ conn.db.password }}"
  - id: b
    template: empty
    depends_on: [aa]
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["validate", "--builtin-defaults", *argv]) if argv[0] != "schema" else main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class TestValidate:
    def test_valid_example(self, capsys):
        code, out, err = run(capsys, str(EXAMPLE))
        assert (code, err) == (0, "")
        assert out == "1 valid spec, 0 invalid, in 1 file(s)\n"

    def test_invalid_spec_lines(self, capsys, tmp_path):
        path = tmp_path / "broken.yaml"
        path.write_text(BAD)
        code, out, err = run(capsys, str(path))
        assert code == 1
        assert err.splitlines() == [
            f"{path}: qa.broken: schedul: unknown key 'schedul' (did you mean 'schedule'?)",
            f"{path}: qa.broken: tasks[0].with.conf: unknown key 'conf'; this template takes no arguments",
            f"{path}: qa.broken: tasks[0].with.conf: 'conn' is not available in spec templates (it could "
            "expose secrets or internals); allowed: params.*, ds, ds_nodash, logical_date, "
            "data_interval_start, data_interval_end, run_id, dag_run.conf",
            f"{path}: qa.broken: tasks[1].depends_on[0]: unknown task 'aa' (did you mean 'a'?)",
        ]
        assert out == "0 valid specs, 1 invalid, in 1 file(s)\n"

    def test_jinja_secret_refused(self, capsys, tmp_path):
        path = tmp_path / "secret.yaml"
        path.write_text(
            GOOD.format(name="s").replace("template: empty", "template: trigger_dag")
            + "    with:\n      dag_id: x\n      conf: {pw: '{{ conn.db.password }}'}\n"
        )
        code, _, err = run(capsys, str(path))
        assert code == 1
        assert err.startswith(
            f"{path}: qa.s: tasks[0].with.conf.pw: 'conn' is not available in spec templates"
        )

    def test_directory_list_file_and_duplicates(self, capsys, tmp_path):
        (tmp_path / "a.yaml").write_text(GOOD.format(name="one"))
        (tmp_path / "b.json").write_text(
            json.dumps(
                [
                    {
                        "version": 1,
                        "namespace": "qa",
                        "name": "two",
                        "tasks": [{"id": "a", "template": "empty"}],
                    },
                    {
                        "version": 1,
                        "namespace": "qa",
                        "name": "one",
                        "tasks": [{"id": "a", "template": "empty"}],
                    },
                ]
            )
        )
        code, out, err = run(capsys, str(tmp_path))
        assert code == 1
        assert (
            err == f"{tmp_path / 'b.json'}: qa.one: (root): duplicate spec id; "
            f"also defined in {tmp_path / 'a.yaml'}\n"
        )
        assert out == "2 valid specs, 1 invalid, in 2 file(s)\n"

    def test_python_tag(self, capsys, tmp_path):
        path = tmp_path / "evil.yaml"
        path.write_text("!!python/object/apply:os.system ['touch /tmp/pwned']\n")
        code, _, err = run(capsys, str(path))
        assert code == 1
        assert err == (
            f"{path}: -: (root): YAML tags such as 'tag:yaml.org,2002:python/object/apply:os.system' are not "
            "allowed in specs; a spec is plain data (strings, numbers, true/false, lists, objects) "
            "(line 1, column 1)\n"
        )

    def test_disallowed_template(self, capsys, tmp_path):
        path = tmp_path / "bash.yaml"
        path.write_text(
            GOOD.format(name="b").replace("template: empty", "template: bash") + "    with: {command: ls}\n"
        )
        code, _, err = run(capsys, str(path))
        assert code == 1
        assert err == (
            f"{path}: qa.b: tasks[0].template: the task template 'bash' is disabled on this deployment "
            "(an admin can enable it with [schedule_specs] enabled_templates)\n"
        )

    def test_ten_megabytes(self, capsys, tmp_path):
        path = tmp_path / "big.json"
        path.write_bytes(b'{"description": "' + b"x" * (10 * 1024 * 1024) + b'"}')
        code, _, err = run(capsys, str(path))
        assert code == 1
        assert err == (
            f"{path}: -: (root): the file is too large ({path.stat().st_size} bytes; "
            "at most 1048576 bytes per spec file)\n"
        )

    def test_stdin(self, capsys, monkeypatch):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(GOOD.format(name="in").encode())))
        code, out, _ = run(capsys, "-")
        assert code == 0
        assert out == "1 valid spec, 0 invalid, in 1 file(s)\n"

    def test_stdin_is_capped_at_max_spec_bytes(self, capsys, monkeypatch):
        big = GOOD.format(name="in") + "# " + "x" * (1024 * 1024) + "\n"
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(big.encode())))
        code, out, err = run(capsys, "-")
        assert code == 1
        assert err == (
            "<stdin>: -: (root): the input is too large (more than 1048576 bytes; at most 1048576 bytes)\n"
        )
        assert out == "0 valid specs, 1 invalid, in 1 file(s)\n"

    def test_no_files(self, capsys, tmp_path):
        code, _, err = run(capsys, str(tmp_path))
        assert code == 1
        assert err == "no spec files found (.yaml, .yml, .json)\n"


def test_bad_configuration_is_reported_without_traceback(capsys, monkeypatch):
    from airflow_provider_scheduler.spec.policy import default_policy
    from airflow_provider_scheduler.templates import default_registry

    monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__MAX_TASKS_PER_SPEC", "many")
    default_policy.cache_clear()
    default_registry.cache_clear()
    try:
        assert main(["validate", str(EXAMPLE)]) == 2
        assert capsys.readouterr().err == (
            "configuration error: [schedule_specs] max_tasks_per_spec must be a whole number, not 'many'\n"
        )
    finally:
        default_policy.cache_clear()
        default_registry.cache_clear()


class TestSchema:
    def test_prints_valid_json_schema(self, capsys):
        code = main(["schema", "--builtin-defaults"])
        schema = json.loads(capsys.readouterr().out)
        assert code == 0
        Draft202012Validator.check_schema(schema)
        assert "with.trigger_dag" in schema["$defs"]

    def test_namespace_schema(self, capsys, monkeypatch):
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__ALLOWED_TEMPLATES", '{"qa": ["empty", "email"]}')
        from airflow_provider_scheduler.spec.policy import default_policy
        from airflow_provider_scheduler.templates import default_registry

        default_policy.cache_clear()
        default_registry.cache_clear()
        try:
            assert main(["schema", "--namespace", "qa"]) == 0
        finally:
            default_policy.cache_clear()
            default_registry.cache_clear()
        schema = json.loads(capsys.readouterr().out)
        Draft202012Validator.check_schema(schema)
        assert schema["properties"]["namespace"]["const"] == "qa"
        assert schema["$defs"]["task"]["properties"]["template"]["enum"] == ["empty", "empty@1"]
        assert schema["$defs"]["notifier"]["properties"]["template"]["enum"] == ["email", "email@1"]

    def test_no_command_prints_help(self, capsys):
        assert main([]) == 2
        assert "usage: airflow-scheduler" in capsys.readouterr().out


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("airflow-scheduler")
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    result = subprocess.run(
        [str(script), "validate", "--builtin-defaults", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 valid spec, 0 invalid, in 1 file(s)\n"
