"""The ``bash`` template's quoting rule, on real BashOperator runs (render + execute, real bash).

Whatever a triggering user puts in params or ``dag_run.conf`` reaches the shell as an environment
variable: shell syntax in the value (``;``, ``$(...)``, backticks, quotes, newlines) runs nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_scheduler.spec import GovernancePolicy, SpecError, parse_spec
from airflow_provider_scheduler.templates import TemplateRegistry
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates
from airflow_provider_scheduler.templates.shell import env_command

if TYPE_CHECKING:
    from pathlib import Path

SETTINGS = TemplateSettings(enabled_templates=("bash",))
REGISTRY = TemplateRegistry(builtin_templates(SETTINGS), enabled=SETTINGS.enabled_templates)


def spec_with(command: str, env: dict[str, str] | None = None) -> Any:
    with_: dict[str, Any] = {"command": command}
    if env is not None:
        with_["env"] = env
    return parse_spec(
        {
            "version": 1,
            "namespace": "qa",
            "name": "shell",
            "params": {"name": {"type": "string", "default": "world"}},
            "tasks": [{"id": "t", "template": "bash", "with": with_}],
        },
        registry=REGISTRY,
        policy=GovernancePolicy(),
    )


def build_task(with_: dict[str, Any]) -> Any:
    """The operator the factory builds for a task with these (already stored) ``with`` arguments."""
    from airflow.providers.common.compat.sdk import DAG

    with DAG(dag_id="qa.shell", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC)):
        return REGISTRY.get("bash").build("t", with_)  # type: ignore[union-attr]


def run(op: Any, *, name: str = "world", conf: dict[str, Any] | None = None) -> Any:
    """Render the operator's templated fields as Airflow does for a run, then execute it."""
    context: dict[str, Any] = {
        "params": {"name": name},
        "dag_run": SimpleNamespace(conf=conf or {}),
        "run_id": "manual__2026-01-01",
        "ds": "2026-01-01",
    }
    op.render_template_fields(context)
    return op.execute(context)


PAYLOADS = [
    "x; id > {marker}",
    "$(id > {marker})",
    "`id > {marker}`",
    "x\nid > {marker}",
    "'; id > {marker}; '",
    '"; id > {marker}; "',
    "x && touch {marker} || touch {marker}",
    "${{IFS}}$(touch {marker})",
]


class TestTriggeringUserCannotChangeTheCommand:
    @pytest.mark.parametrize("payload", PAYLOADS)
    def test_params_in_every_quoting_context(self, payload: str, tmp_path: Path) -> None:
        marker = tmp_path / "PWNED"
        out = tmp_path / "out"
        value = payload.format(marker=marker)
        spec = spec_with(
            "printf '%s|' {{ params.name }} \"{{ params.name }}\" 'in single {{ params.name }}' "
            f"$'ansi {{{{ params.name }}}}' > {out}"
        )
        run(build_task(dict(spec.tasks[0].with_)), name=value)
        assert not marker.exists()
        assert out.read_text() == f"{value}|{value}|in single {value}|ansi {value}|"

    @pytest.mark.parametrize("payload", PAYLOADS)
    def test_dag_run_conf(self, payload: str, tmp_path: Path) -> None:
        marker = tmp_path / "PWNED"
        value = payload.format(marker=marker)
        spec = spec_with("echo hello {{ dag_run.conf.name | default('nobody') }}")
        output = run(build_task(dict(spec.tasks[0].with_)), conf={"name": value})
        assert not marker.exists()
        assert output == f"hello {value}".splitlines()[-1]  # the operator returns the last line

    def test_the_reported_reproducer(self, tmp_path: Path) -> None:
        marker = tmp_path / "FILE"
        spec = spec_with("echo hello {{ params.name }}")
        output = run(build_task(dict(spec.tasks[0].with_)), name=f"x; id > {marker}")
        assert not marker.exists()
        assert output == f"hello x; id > {marker}"

    def test_a_spec_stored_before_the_rule_is_built_safely(self, tmp_path: Path) -> None:
        # the builder applies the rule itself: no re-validation needed for stored specs
        marker = tmp_path / "FILE"
        op = build_task({"command": "echo {{ params.name }}"})
        assert op.bash_command == 'echo "${SCHED_VALUE_1}"'
        assert run(op, name=f"$(touch {marker})") == f"$(touch {marker})"
        assert not marker.exists()


class TestCommandsStillWork:
    def test_values_are_rendered(self) -> None:
        spec = spec_with('echo "{{ ds }}" {{ params.name | upper }}')
        assert run(build_task(dict(spec.tasks[0].with_)), name="alice") == "2026-01-01 ALICE"

    def test_if_blocks_choose_text_the_author_wrote(self) -> None:
        spec = spec_with("echo {% if params.name == 'a' %}first{% else %}other {{ params.name }}{% endif %}")
        op = build_task(dict(spec.tasks[0].with_))
        assert run(op, name="a") == "first"
        op = build_task(dict(spec.tasks[0].with_))
        assert run(op, name="b; id") == "other b; id"

    def test_without_env_the_worker_environment_is_kept(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HDCLI_FROM_WORKER", "kept")
        spec = spec_with('echo "$HDCLI_FROM_WORKER {{ params.name }}"')
        op = build_task(dict(spec.tasks[0].with_))
        assert op.append_env is True
        assert run(op) == "kept world"

    def test_the_specs_env_stays_the_whole_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HDCLI_FROM_WORKER", "kept")
        spec = spec_with('echo "${HDCLI_FROM_WORKER:-unset} $GREETING {{ params.name }}"', {"GREETING": "hi"})
        op = build_task(dict(spec.tasks[0].with_))
        assert op.append_env is False
        assert run(op) == "unset hi world"

    def test_env_values_are_templated_too(self) -> None:
        spec = spec_with('echo "$WHO"', {"WHO": "{{ params.name }}"})
        op = build_task(dict(spec.tasks[0].with_))
        assert op.bash_command == 'echo "$WHO"'
        assert run(op, name="x; id") == "x; id"

    def test_a_command_without_expressions_is_unchanged(self) -> None:
        assert env_command("echo 'a {b}' \"$HOME\"") == ("echo 'a {b}' \"$HOME\"", {})


class TestRefused:
    @pytest.mark.parametrize(
        ("command", "message"),
        [
            ("cat <<EOF\n{{ params.name }}\nEOF", "inside or after a here-document (<<)"),
            ("echo \\{{ params.name }}", "right after a backslash"),
        ],
    )
    def test_expressions_that_cannot_be_passed_safely(self, command: str, message: str) -> None:
        with pytest.raises(SpecError) as info:
            spec_with(command)
        [problem] = info.value.problems
        assert problem.path == "tasks[0].with.command"
        assert message in problem.message
        assert "put the value in env" in problem.message

    @pytest.mark.parametrize(
        ("key", "message"),
        [("SCHED_VALUE_1", "reserved for rendered values"), ("A=B", "not an environment variable name")],
    )
    def test_env_names(self, key: str, message: str) -> None:
        with pytest.raises(SpecError) as info:
            spec_with("echo hi", {key: "x"})
        [problem] = info.value.problems
        assert problem.path == f"tasks[0].with.env.{key}"
        assert message in problem.message

    def test_a_here_document_without_expressions_is_fine(self) -> None:
        spec = spec_with('cat <<EOF\nhello "$WHO"\nEOF', {"WHO": "{{ params.name }}"})
        assert run(build_task(dict(spec.tasks[0].with_)), name="x; id") == 'hello "x; id"'
