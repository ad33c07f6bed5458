"""Built-in templates build the right operators (inside a DAG) on the running Airflow version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_provider_scheduler.spec import GovernancePolicy, parse_spec
from airflow_provider_scheduler.templates import TemplateRegistry
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

SETTINGS = TemplateSettings(
    enabled_templates=("bash", "python"),
    python_callables=("json.dumps",),
    http_connections=("reports_api",),
    remote_connections=("scheduler_default", "scheduler_prod"),
)


@pytest.fixture
def registry() -> TemplateRegistry:
    return TemplateRegistry(builtin_templates(SETTINGS), enabled=SETTINGS.enabled_templates)


def build(registry: TemplateRegistry, template: str, with_: dict[str, Any], **kwargs: Any) -> Any:
    from airflow.providers.common.compat.sdk import DAG

    spec = parse_spec(
        {
            "version": 1,
            "namespace": "qa",
            "name": "b",
            "tasks": [{"id": "t", "template": template, "with": with_}],
        },
        registry=registry,
        policy=GovernancePolicy(),
    )
    task = spec.tasks[0]
    with DAG(dag_id="qa.b", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC)):
        return registry.get(template).build(task.id, task.with_, **kwargs)


class TestBuild:
    def test_empty(self, registry):
        op = build(registry, "empty", {}, retries=2)
        assert type(op).__name__ == "EmptyOperator"
        assert op.retries == 2

    def test_trigger_dag(self, registry):
        op = build(
            registry,
            "trigger_dag",
            {
                "dag_id": "orders_refresh",
                "conf": {"region": "{{ params.region }}"},
                "wait_for_completion": True,
            },
            execution_timeout=timedelta(minutes=5),
        )
        assert type(op).__name__ == "TriggerDagRunOperator"
        assert op.trigger_dag_id == "orders_refresh"
        assert op.conf == {"region": "{{ params.region }}"}
        assert op.wait_for_completion is True
        assert op.execution_timeout == timedelta(minutes=5)

    def test_trigger_remote_dag(self, registry):
        op = build(
            registry,
            "trigger_remote_dag",
            {"dag_id": "report", "conn_id": "scheduler_prod", "conf": {"a": 1}, "timeout": "PT10M"},
        )
        assert type(op).__name__ == "SchedulerTriggerDagRunOperator"
        assert op.trigger_dag_id == "report"
        assert op.scheduler_conn_id == "scheduler_prod"

    def test_wait_for_dag_run(self, registry):
        op = build(registry, "wait_for_dag_run", {"dag_id": "report", "poke_interval": 15, "timeout": "PT1H"})
        assert type(op).__name__ == "SchedulerDagRunSensor"
        assert op.external_dag_id == "report"
        assert op.run_id is None
        assert op.poke_interval == 15
        assert op.timeout == 3600

    def test_wait_for_the_run_an_upstream_task_started(self, registry):
        from airflow.providers.common.compat.sdk import DAG

        spec = parse_spec(
            {
                "version": 1,
                "namespace": "ops",
                "name": "w",
                "tasks": [
                    {"id": "trigger-report", "template": "trigger_remote_dag", "with": {"dag_id": "report"}},
                    {
                        "id": "wait",
                        "template": "wait_for_dag_run",
                        "with": {"dag_id": "report", "run_of_task": "trigger-report", "deferrable": True},
                        "depends_on": ["trigger-report"],
                    },
                ],
            },
            registry=registry,
            policy=GovernancePolicy(),
        )
        wait = spec.task("wait")
        with DAG(dag_id="ops.w", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC)):
            op = registry.get("wait_for_dag_run").build(wait.id, wait.with_)
        assert op.run_id == "{{ ti.xcom_pull(task_ids='trigger-report', key='run_id') }}"
        assert op.deferrable is True

    def test_http_request(self, registry):
        op = build(registry, "http_request", {"conn_id": "reports_api", "endpoint": "/r", "method": "POST"})
        assert type(op).__name__ == "SpecHttpRequestOperator"
        assert (op.http_conn_id, op.endpoint, op.method) == ("reports_api", "/r", "POST")

    def test_bash(self, registry):
        op = build(registry, "bash", {"command": "echo {{ ds }}"})
        assert type(op).__name__ == "BashOperator"
        assert op.bash_command == 'echo "${SCHED_VALUE_1}"'  # the value goes through env
        assert op.env == {"SCHED_VALUE_1": "{{ ds }}"}

    def test_bash_script_name_is_never_loaded_as_a_template_file(self, registry):
        op = build(registry, "bash", {"command": "bash /opt/jobs/run.sh"})
        assert op.bash_command == "bash /opt/jobs/run.sh "

    def test_python_runs_only_allow_listed_callables(self, registry):
        import json

        op = build(registry, "python", {"callable": "json.dumps", "kwargs": {"obj": [1]}})
        assert type(op).__name__ == "PythonOperator"
        assert op.python_callable is json.dumps
        assert op.op_kwargs == {"obj": [1]}

    def test_python_builder_rechecks_the_allow_list(self, registry):
        with pytest.raises(ValueError, match=r"python callable 'os\.system' is not in"):
            registry.get("python").build("t", {"callable": "os.system"})


class TestAllowLists:
    @pytest.mark.parametrize(
        ("template", "with_", "path", "message"),
        [
            (
                "python",
                {"callable": "os.system"},
                "tasks[0].with.callable",
                'must be one of: "json.dumps"',
            ),
            (
                "trigger_remote_dag",
                {"dag_id": "x", "conn_id": "other"},
                "tasks[0].with.conn_id",
                'must be one of: "scheduler_default", "scheduler_prod"',
            ),
        ],
    )
    def test_refused(self, registry, template, with_, path, message):
        from airflow_provider_scheduler.spec import SpecError

        with pytest.raises(SpecError) as info:
            parse_spec(
                {
                    "version": 1,
                    "namespace": "qa",
                    "name": "b",
                    "tasks": [{"id": "t", "template": template, "with": with_}],
                },
                registry=registry,
                policy=GovernancePolicy(),
            )
        assert [(p.path, p.message) for p in info.value.problems] == [(path, message)]

    @pytest.mark.parametrize(
        ("wait_with", "depends_on", "problem"),
        [
            (
                {"dag_id": "r", "run_of_task": "trigger"},
                ["start"],
                ("tasks[2].with.run_of_task", "unknown task 'trigger' (did you mean 'trigger-it'?)"),
            ),
            (
                {"dag_id": "r", "run_of_task": "trigger-it"},
                ["start"],
                ("tasks[2].with.run_of_task", "'trigger-it' must run before 'wait': add it to depends_on"),
            ),
            (
                {"dag_id": "r", "run_of_task": "trigger-it", "run_id": "x"},
                ["trigger-it"],
                ("tasks[2].with.run_of_task", "give run_id or run_of_task, not both"),
            ),
        ],
    )
    def test_run_of_task_rules(self, registry, wait_with, depends_on, problem):
        from airflow_provider_scheduler.spec import SpecError

        with pytest.raises(SpecError) as info:
            parse_spec(
                {
                    "version": 1,
                    "namespace": "qa",
                    "name": "b",
                    "tasks": [
                        {"id": "start", "template": "empty"},
                        {"id": "trigger-it", "template": "trigger_remote_dag", "with": {"dag_id": "r"}},
                        {
                            "id": "wait",
                            "template": "wait_for_dag_run",
                            "with": wait_with,
                            "depends_on": depends_on,
                        },
                    ],
                },
                registry=registry,
                policy=GovernancePolicy(),
            )
        assert [(p.path, p.message) for p in info.value.problems] == [problem]

    def test_run_of_task_transitively_upstream_is_fine(self, registry):
        parse_spec(
            {
                "version": 1,
                "namespace": "qa",
                "name": "b",
                "tasks": [
                    {"id": "trigger-it", "template": "trigger_remote_dag", "with": {"dag_id": "r"}},
                    {"id": "between", "template": "empty", "depends_on": ["trigger-it"]},
                    {
                        "id": "wait",
                        "template": "wait_for_dag_run",
                        "with": {"dag_id": "r", "run_of_task": "trigger-it"},
                        "depends_on": ["between"],
                    },
                ],
            },
            registry=registry,
            policy=GovernancePolicy(),
        )

    def test_run_of_task_builder_rechecks_the_id(self, registry):
        with pytest.raises(ValueError, match="is not a task id"):
            registry.get("wait_for_dag_run").build("w", {"dag_id": "r", "run_of_task": "x') }}{{ conn"})

    @pytest.mark.parametrize(
        ("namespace", "template", "dag_id", "problem"),
        [
            ("analytics", "trigger_dag", "analytics.load", None),
            ("analytics", "trigger_dag", "report_template", None),
            (
                "analytics",
                "trigger_dag",
                "finance.payroll",
                "namespace 'analytics' may not target DAG 'finance.payroll'; "
                "allowed: analytics.*, report_template",
            ),
            ("qa", "wait_for_dag_run", "qa.suite", None),
            (
                "qa",
                "trigger_remote_dag",
                "report_template",
                "namespace 'qa' may not target DAG 'report_template'; allowed: qa.*",
            ),
        ],
    )
    def test_dag_targets(self, namespace, template, dag_id, problem):
        from airflow_provider_scheduler.spec import SpecError

        settings = TemplateSettings.from_options(
            {"dag_targets": '{"analytics": ["{namespace}.*", "report_template"], "*": ["{namespace}.*"]}'}
        )
        registry = TemplateRegistry(builtin_templates(settings))
        data = {
            "version": 1,
            "namespace": namespace,
            "name": "t",
            "tasks": [{"id": "t", "template": template, "with": {"dag_id": dag_id}}],
        }
        if problem is None:
            parse_spec(data, registry=registry, policy=GovernancePolicy())
            return
        with pytest.raises(SpecError) as info:
            parse_spec(data, registry=registry, policy=GovernancePolicy())
        assert [(p.path, p.message) for p in info.value.problems] == [("tasks[0].with.dag_id", problem)]

    def test_bad_dag_targets_option(self):
        with pytest.raises(ValueError, match=r"^\[schedule_specs\] dag_targets must map namespaces"):
            TemplateSettings.from_options({"dag_targets": '{"qa": "x"}'})

    def test_no_http_connection_approved(self):
        from airflow_provider_scheduler.spec import SpecError

        registry = TemplateRegistry(builtin_templates(TemplateSettings()))
        with pytest.raises(SpecError) as info:
            parse_spec(
                {
                    "version": 1,
                    "namespace": "qa",
                    "name": "b",
                    "tasks": [{"id": "t", "template": "http_request", "with": {"conn_id": "x"}}],
                },
                registry=registry,
                policy=GovernancePolicy(),
            )
        assert [(p.path, p.message) for p in info.value.problems] == [
            (
                "tasks[0].with.conn_id",
                "no HTTP connection is approved on this deployment "
                "(an admin sets [schedule_specs] http_connections)",
            )
        ]

    def test_nothing_is_imported_because_a_spec_named_it(self, registry):
        import sys

        from airflow_provider_scheduler.spec import SpecError

        assert "this_module_does_not_exist" not in sys.modules
        with pytest.raises(SpecError):
            parse_spec(
                {
                    "version": 1,
                    "namespace": "qa",
                    "name": "b",
                    "tasks": [
                        {
                            "id": "t",
                            "template": "python",
                            "with": {"callable": "this_module_does_not_exist.f"},
                        },
                        {"id": "u", "template": "this_module_does_not_exist"},
                    ],
                },
                registry=registry,
                policy=GovernancePolicy(),
            )
        assert "this_module_does_not_exist" not in sys.modules


class TestWaitForLogicalDate:
    """``wait_for_dag_run.logical_date``: wait for another DAG's run of the same interval."""

    def wait(self, **with_: Any) -> dict[str, Any]:
        return {
            "version": 1,
            "namespace": "qa",
            "name": "b",
            "tasks": [{"id": "wait", "template": "wait_for_dag_run", "with": {"dag_id": "report", **with_}}],
        }

    def test_passed_to_the_sensor_and_rendered_from_the_run(self, registry):
        import pendulum

        op = build(registry, "wait_for_dag_run", {"dag_id": "report", "logical_date": "{{ logical_date }}"})
        assert op.logical_date == "{{ logical_date }}"
        assert op.run_id is None
        assert "logical_date" in op.template_fields
        when = pendulum.datetime(2026, 3, 2, 6, tz="Europe/Berlin")
        op.render_template_fields({"logical_date": when, "data_interval_start": when})
        from airflow_provider_scheduler.sensors.dag_run import _parse_logical_date

        assert _parse_logical_date(op.logical_date) == when

    def test_a_fixed_date_time(self, registry):
        op = build(registry, "wait_for_dag_run", {"dag_id": "report", "logical_date": "2026-01-01T06:00:00Z"})
        assert op.logical_date == "2026-01-01T06:00:00Z"

    @pytest.mark.parametrize(
        ("with_", "problem"),
        [
            (
                {"logical_date": "2026-01-01"},
                (
                    "tasks[0].with.logical_date",
                    "'2026-01-01' needs a timezone, e.g. 2026-01-01T00:00:00+00:00",
                ),
            ),
            (
                {"logical_date": "yesterday"},
                (
                    "tasks[0].with.logical_date",
                    "'yesterday' is not an ISO 8601 date-time (e.g. 2026-01-01T06:00:00+00:00)",
                ),
            ),
            (
                {"logical_date": "{{ logical_date }}", "run_id": "manual__1"},
                ("tasks[0].with.logical_date", "give run_id or logical_date, not both"),
            ),
            (
                {"logical_date": "{{ conn.x.password }}"},
                (
                    "tasks[0].with.logical_date",
                    "'conn' is not available in spec templates (it could expose secrets or internals); "
                    "allowed: params.*, ds, ds_nodash, logical_date, data_interval_start, data_interval_end, "
                    "run_id, dag_run.conf",
                ),
            ),
        ],
    )
    def test_refusals(self, registry, with_, problem):
        from airflow_provider_scheduler.spec import SpecError

        with pytest.raises(SpecError) as info:
            parse_spec(self.wait(**with_), registry=registry, policy=GovernancePolicy())
        assert [(p.path, p.message) for p in info.value.problems] == [problem]

    def test_not_with_run_of_task(self, registry):
        from airflow_provider_scheduler.spec import SpecError

        data = self.wait(run_of_task="trigger-it", logical_date="{{ logical_date }}")
        data["tasks"].insert(
            0, {"id": "trigger-it", "template": "trigger_remote_dag", "with": {"dag_id": "r"}}
        )
        data["tasks"][1]["depends_on"] = ["trigger-it"]
        with pytest.raises(SpecError) as info:
            parse_spec(data, registry=registry, policy=GovernancePolicy())
        assert [(p.path, p.message) for p in info.value.problems] == [
            ("tasks[1].with.logical_date", "give run_of_task or logical_date, not both")
        ]
