"""approval, spark_submit and slack: what a spec may say, what they build, and their absence.

Each template is registered only where what it needs is installed (Airflow 3.1+ for ``approval``, the
Apache Spark / Slack providers for ``spark_submit`` / ``slack``); elsewhere a spec naming it gets a
message saying what to install. The ``with`` rules are tested on every Airflow version by building
the registry as if everything were installed (``everything_installed``); the operators are built
for real where their provider is installed (the Airflow 3.3 test venv has both providers).
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import airflow
import pytest
from recording_http import RecordingServer, Reply

from airflow_provider_scheduler.factory.build import SpecBuildError, build_dag
from airflow_provider_scheduler.spec import GovernancePolicy, SpecError, parse_spec
from airflow_provider_scheduler.templates import TemplateRegistry, UnavailableTemplate
from airflow_provider_scheduler.templates import builtins as builtins_module
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

SETTINGS = TemplateSettings(
    spark_applications=("/opt/spark/jobs/*.py", "s3a://jobs/*.jar"),
    spark_connections=("spark_default", "spark_prod"),
    slack_connections=("team_chat",),
)
AIRFLOW = tuple(int(p) for p in airflow.__version__.split(".")[:2])


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


HAS_SPARK = _installed("airflow.providers.apache.spark")
HAS_SLACK = _installed("airflow.providers.slack")
HAS_HITL = AIRFLOW >= (3, 1) and _installed("airflow.providers.standard.operators.hitl")


def spec(tasks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"version": 1, "namespace": "qa", "name": "n", "tasks": tasks, **extra}


def problems(data: dict[str, Any], registry: TemplateRegistry) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        parse_spec(data, catalog=registry, policy=GovernancePolicy())
    return [(p.path, p.message) for p in info.value.problems]


@pytest.fixture
def everything_installed(monkeypatch) -> TemplateRegistry:
    """The built-ins as on Airflow 3.3 with the Spark and Slack providers (schemas and checks only)."""
    monkeypatch.setattr(builtins_module, "_has_module", lambda name: True)
    monkeypatch.setattr(builtins_module, "_airflow_version", lambda: "3.3.2")
    return TemplateRegistry(builtin_templates(SETTINGS))


@pytest.fixture
def nothing_installed(monkeypatch) -> TemplateRegistry:
    """The built-ins as on Airflow 2.11.2 without the optional providers."""
    monkeypatch.setattr(builtins_module, "_has_module", lambda name: False)
    monkeypatch.setattr(builtins_module, "_airflow_version", lambda: "2.11.2")
    return TemplateRegistry(builtin_templates(SETTINGS))


@pytest.fixture
def registry() -> TemplateRegistry:
    """The built-ins as this environment has them."""
    return TemplateRegistry(builtin_templates(SETTINGS))


def build(registry: TemplateRegistry, template: str, with_: dict[str, Any], **kwargs: Any) -> Any:
    from airflow.providers.common.compat.sdk import DAG

    parsed = parse_spec(
        spec([{"id": "t", "template": template, "with": with_}]), catalog=registry, policy=GovernancePolicy()
    )
    with DAG(dag_id="qa.n", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC)):
        return registry.get(template).build("t", parsed.tasks[0].with_, **kwargs)


class TestUnavailable:
    def test_missing_providers_and_airflow_version_are_named(self, nothing_installed):
        data = spec(
            [
                {"id": "ok", "template": "approval", "with": {"subject": "Ship it?"}},
                {"id": "job", "template": "spark_submit", "with": {"application": "/opt/spark/jobs/a.py"}},
            ],
            notify={"on_failure": [{"template": "slack", "with": {"conn_id": "team_chat"}}]},
        )
        assert problems(data, nothing_installed) == [
            (
                "notify.on_failure[0].template",
                "the notification template 'slack' needs the Slack provider: "
                "pip install 'airflow-provider-scheduler[slack]'",
            ),
            (
                "tasks[0].template",
                "the task template 'approval' needs Airflow 3.1 or later; this deployment runs 2.11.2",
            ),
            (
                "tasks[1].template",
                "the task template 'spark_submit' needs the Apache Spark provider: "
                "pip install 'airflow-provider-scheduler[spark]'",
            ),
        ]

    def test_not_registered_and_not_offered(self, nothing_installed):
        assert nothing_installed.get("spark_submit") is None
        assert "approval" not in nothing_installed.allowed_names()
        assert "slack" not in nothing_installed.allowed_names(notifiers=True)
        assert nothing_installed.unavailable_names() == ["approval", "slack", "spark_submit"]
        assert nothing_installed.unavailable("trigger_dag") is None
        assert nothing_installed.unavailable("no_such_template") is None

    def test_unknown_names_still_get_did_you_mean(self, nothing_installed):
        [(path, message)] = problems(spec([{"id": "a", "template": "trigger_dagg"}]), nothing_installed)
        assert path == "tasks[0].template"
        assert message.startswith("unknown task template 'trigger_dagg' (did you mean 'trigger_dag'?)")

    def test_standard_provider_without_hitl(self, monkeypatch):
        monkeypatch.setattr(builtins_module, "_has_module", lambda name: not name.endswith(".hitl"))
        monkeypatch.setattr(builtins_module, "_airflow_version", lambda: "3.1.8")
        registry = TemplateRegistry(builtin_templates(SETTINGS))
        assert registry.unavailable("approval") == (
            "the task template 'approval' needs the standard provider's human-in-the-loop operators: "
            "pip install -U apache-airflow-providers-standard"
        )

    def test_a_registered_template_of_that_name_wins(self, nothing_installed):
        from airflow_provider_scheduler.templates import TaskTemplate

        own = TaskTemplate("spark_submit", description="ours", with_schema={"type": "object"}, builder=print)
        nothing_installed.register(own)
        assert nothing_installed.unavailable("spark_submit") is None
        assert nothing_installed.get("spark_submit") is own

    def test_a_stored_spec_using_it_names_what_to_install_when_built(self, everything_installed, monkeypatch):
        parsed = parse_spec(
            spec(
                [{"id": "job", "template": "spark_submit", "with": {"application": "/opt/spark/jobs/a.py"}}]
            ),
            catalog=everything_installed,
            policy=GovernancePolicy(),
        )
        monkeypatch.setattr(builtins_module, "_has_module", lambda name: False)
        gone = TemplateRegistry(builtin_templates(SETTINGS))  # the provider was uninstalled since
        with pytest.raises(SpecBuildError) as info:
            build_dag(parsed, gone)
        assert str(info.value) == (
            "tasks[0] (job): the task template 'spark_submit' needs the Apache Spark provider: "
            "pip install 'airflow-provider-scheduler[spark]'"
        )

    def test_this_environment(self, registry):
        """On this venv each optional template is either registered or refused with its reason."""
        for name, present in (("approval", HAS_HITL), ("spark_submit", HAS_SPARK)):
            assert (registry.get(name) is not None) is present, name
            assert (registry.unavailable(name) is None) is present, name
        assert (registry.get_notifier("slack") is not None) is HAS_SLACK
        if AIRFLOW < (3, 1):
            assert registry.unavailable("approval") == (
                f"the task template 'approval' needs Airflow 3.1 or later; "
                f"this deployment runs {airflow.__version__}"
            )

    def test_unavailable_template_repr(self):
        entry = UnavailableTemplate("x", "needs y", kind="notification template")
        assert entry.message == "the notification template 'x' needs y"
        assert "needs y" in repr(entry)


class TestApprovalSpec:
    def test_valid(self, everything_installed):
        parsed = parse_spec(
            spec(
                [
                    {
                        "id": "sign_off",
                        "template": "approval",
                        "with": {
                            "subject": "Publish the report of {{ ds }}?",
                            "body": "Region: {{ params.region }}",
                            "assigned_users": ["alice", "7"],
                            "timeout": "PT4H",
                        },
                    }
                ]
            ),
            catalog=everything_installed,
            policy=GovernancePolicy(),
        )
        assert parsed.tasks[0].with_["assigned_users"] == ("alice", "7")

    def test_refusals(self, everything_installed):
        data = spec(
            [
                {"id": "a", "template": "approval", "with": {"body": "x"}},
                {
                    "id": "b",
                    "template": "approval",
                    "with": {"subject": "{{ var.value.x }}", "assigned_users": ["{{ params.who }}"]},
                },
                {"id": "c", "template": "approval", "with": {"subject": "s", "timeout": "P1Y"}},
            ]
        )
        found = problems(data, everything_installed)
        paths = [p for p, _ in found]
        assert "tasks[0].with.subject" in paths
        assert "tasks[1].with.subject" in paths  # var is not a spec template name
        assert "tasks[1].with.assigned_users[0]" in paths  # user names are not templated
        assert "tasks[2].with.timeout" in paths
        [(_, subject)] = [f for f in found if f[0] == "tasks[0].with.subject"]
        assert subject == "is required"


@pytest.mark.skipif(not HAS_HITL, reason="ApprovalOperator needs Airflow 3.1+ (refusal: TestUnavailable)")
class TestApprovalBuild:
    def test_operator(self, registry):
        op = build(
            registry,
            "approval",
            {"subject": "Ship {{ ds }}?", "body": "b", "assigned_users": ["alice"], "timeout": "PT2H"},
            retries=0,
        )
        assert type(op).__name__ == "ApprovalOperator"
        assert (op.subject, op.body) == ("Ship {{ ds }}?", "b")
        assert op.assigned_users == [{"id": "alice", "name": "alice"}]
        assert op.response_timeout == timedelta(hours=2)
        assert op.options == ["Approve", "Reject"]
        assert "subject" in op.template_fields

    def test_task_execution_timeout_bounds_the_wait_without_a_timeout(self, registry, recwarn):
        op = build(registry, "approval", {"subject": "s"}, execution_timeout=timedelta(minutes=30))
        assert op.response_timeout == timedelta(minutes=30)
        assert op.execution_timeout is None
        assert not [w for w in recwarn if "execution_timeout" in str(w.message)]

    def test_timeout_wins_over_execution_timeout(self, registry):
        op = build(registry, "approval", {"subject": "s", "timeout": "PT1H"}, execution_timeout=timedelta(1))
        assert op.response_timeout == timedelta(hours=1)

    def test_no_timeout_no_assignees(self, registry):
        op = build(registry, "approval", {"subject": "s"})
        assert op.response_timeout is None
        assert not op.assigned_users


class TestSparkSpec:
    def job(self, **with_: Any) -> dict[str, Any]:
        return spec([{"id": "job", "template": "spark_submit", "with": with_}])

    def test_valid(self, everything_installed):
        parsed = parse_spec(
            self.job(
                application="/opt/spark/jobs/orders.py",
                conn_id="spark_prod",
                name="orders",
                conf={"spark.sql.shuffle.partitions": "64", "spark.app.tag": "{{ ds }}"},
                application_args=["--date", "{{ ds }}"],
                executor_memory="4g",
                executor_cores=2,
                num_executors=10,
                driver_memory="1g",
            ),
            catalog=everything_installed,
            policy=GovernancePolicy(),
        )
        assert parsed.tasks[0].with_["application_args"] == ("--date", "{{ ds }}")

    def test_unapproved_application(self, everything_installed):
        assert problems(self.job(application="/tmp/evil.py"), everything_installed) == [
            (
                "tasks[0].with.application",
                "application '/tmp/evil.py' is not approved; approved: /opt/spark/jobs/*.py, s3a://jobs/*.jar",
            )
        ]

    def test_dot_dot_does_not_escape_a_pattern(self, everything_installed):
        assert problems(self.job(application="/opt/spark/jobs/../../etc/x.py"), everything_installed) == [
            (
                "tasks[0].with.application",
                "application '/opt/spark/jobs/../../etc/x.py' must not contain '..' segments",
            )
        ]

    def test_templated_application_is_refused(self, everything_installed):
        [(path, _)] = problems(
            self.job(application="/opt/spark/jobs/{{ params.x }}.py"), everything_installed
        )
        assert path == "tasks[0].with.application"

    def test_unapproved_connection(self, everything_installed):
        assert problems(
            self.job(application="/opt/spark/jobs/a.py", conn_id="spark_adhoc"), everything_installed
        ) == [("tasks[0].with.conn_id", 'must be one of: "spark_default", "spark_prod"')]

    def test_default_connection_must_be_approved(self, monkeypatch):
        monkeypatch.setattr(builtins_module, "_has_module", lambda name: True)
        registry = TemplateRegistry(
            builtin_templates(
                TemplateSettings(spark_applications=("/jobs/*",), spark_connections=("spark_prod",))
            )
        )
        assert problems(self.job(application="/jobs/a.py"), registry) == [
            (
                "tasks[0].with.conn_id",
                "Spark connection 'spark_default' is not approved; approved: spark_prod",
            )
        ]

    def test_nothing_approved(self, monkeypatch):
        monkeypatch.setattr(builtins_module, "_has_module", lambda name: True)
        registry = TemplateRegistry(builtin_templates(TemplateSettings()))
        assert problems(self.job(application="/jobs/a.py"), registry) == [
            (
                "tasks[0].with.application",
                "no Spark application is approved on this deployment "
                "(an admin sets [schedule_specs] spark_applications)",
            ),
            (
                "tasks[0].with.conn_id",
                "no Spark connection is approved on this deployment "
                "(an admin sets [schedule_specs] spark_connections)",
            ),
        ]

    def test_code_loading_conf_is_refused(self, everything_installed):
        found = problems(
            self.job(
                application="/opt/spark/jobs/a.py",
                conf={
                    "spark.jars": "s3a://x/evil.jar",
                    "spark.driver.extraJavaOptions": "-javaagent:/x.jar",
                    "spark.executor.memoryOverhead": "1g",
                    "hadoop.fs": "x",
                },
            ),
            everything_installed,
        )
        assert [p for p, _ in found] == [
            "tasks[0].with.conf.spark.jars",
            "tasks[0].with.conf.spark.driver.extraJavaOptions",
            "tasks[0].with.conf.hadoop.fs",
        ]
        assert found[2][1] == "must be a Spark setting name (spark.something)"

    def test_field_types(self, everything_installed):
        found = problems(
            self.job(
                application="/opt/spark/jobs/a.py",
                executor_memory="lots",
                num_executors=0,
                application_args="--all",
                conf={"spark.x": 1},
            ),
            everything_installed,
        )
        assert {p for p, _ in found} == {
            "tasks[0].with.executor_memory",
            "tasks[0].with.num_executors",
            "tasks[0].with.application_args",
            "tasks[0].with.conf.spark.x",
        }


@pytest.mark.skipif(
    not HAS_SPARK, reason="the Apache Spark provider is not installed (refusal: TestUnavailable)"
)
class TestSparkBuild:
    def test_operator(self, registry):
        op = build(
            registry,
            "spark_submit",
            {
                "application": "/opt/spark/jobs/orders.py",
                "conn_id": "spark_prod",
                "conf": {"spark.sql.shuffle.partitions": "64"},
                "application_args": ["--date", "{{ ds }}"],
                "executor_memory": "4g",
                "executor_cores": 2,
                "num_executors": 10,
                "driver_memory": "1g",
            },
            retries=1,
        )
        assert type(op).__name__ == "SparkSubmitOperator"
        assert op.application == "/opt/spark/jobs/orders.py"
        assert op._conn_id == "spark_prod"
        assert op.name == "t"  # the task id
        assert op.conf == {"spark.sql.shuffle.partitions": "64"}
        assert op.application_args == ["--date", "{{ ds }}"]
        assert (op._executor_memory, op._executor_cores, op._num_executors, op._driver_memory) == (
            "4g",
            2,
            10,
            "1g",
        )
        assert "application_args" in op.template_fields

    def test_spark_submit_command(self, registry, monkeypatch):
        """The command the provider's hook would run: every value one argument (no shell)."""
        monkeypatch.setenv("AIRFLOW_CONN_SPARK_PROD", json.dumps({"conn_type": "spark", "host": "local"}))
        op = build(
            registry,
            "spark_submit",
            {
                "application": "/opt/spark/jobs/a.py",
                "conn_id": "spark_prod",
                "application_args": ["a; rm -rf /"],
            },
        )
        command = op._get_hook()._build_spark_submit_command(op.application)
        assert command[0] == "spark-submit"
        assert command[-2:] == ["/opt/spark/jobs/a.py", "a; rm -rf /"]

    def test_build_rechecks_the_application(self, registry, monkeypatch):
        parsed = parse_spec(
            spec(
                [{"id": "job", "template": "spark_submit", "with": {"application": "/opt/spark/jobs/a.py"}}]
            ),
            catalog=registry,
            policy=GovernancePolicy(),
        )
        narrowed = TemplateRegistry(
            builtin_templates(
                TemplateSettings(spark_applications=("/other/*",), spark_connections=("spark_default",))
            )
        )
        with pytest.raises(SpecBuildError, match=r"application '/opt/spark/jobs/a\.py' is not approved"):
            build_dag(parsed, narrowed)


class TestSlackSpec:
    def notify(self, **with_: Any) -> dict[str, Any]:
        return spec(
            [{"id": "a", "template": "empty"}], notify={"on_failure": [{"template": "slack", "with": with_}]}
        )

    def test_valid(self, everything_installed):
        parse_spec(
            self.notify(conn_id="team_chat", message="{{ run_id }} failed"),
            catalog=everything_installed,
            policy=GovernancePolicy(),
        )

    def test_unapproved_connection(self, everything_installed):
        assert problems(self.notify(conn_id="elsewhere"), everything_installed) == [
            ("notify.on_failure[0].with.conn_id", 'must be one of: "team_chat"')
        ]

    def test_no_connection_approved(self, monkeypatch):
        monkeypatch.setattr(builtins_module, "_has_module", lambda name: True)
        registry = TemplateRegistry(builtin_templates(TemplateSettings()))
        assert problems(self.notify(conn_id="x"), registry) == [
            (
                "notify.on_failure[0].with.conn_id",
                "no Slack connection is approved on this deployment "
                "(an admin sets [schedule_specs] slack_connections)",
            )
        ]

    def test_secrets_are_not_templated(self, everything_installed):
        [(path, message)] = problems(
            self.notify(conn_id="team_chat", message="{{ conn.slack.password }}"), everything_installed
        )
        assert path == "notify.on_failure[0].with.message"
        assert "'conn' is not available" in message


@pytest.mark.skipif(not HAS_SLACK, reason="the Slack provider is not installed (refusal: TestUnavailable)")
class TestSlackNotifier:
    def test_posts_rendered_escaped_text_to_the_webhook(self, registry, monkeypatch):
        from types import SimpleNamespace

        with RecordingServer(lambda received: Reply(200, "ok")) as server:
            monkeypatch.setenv(
                "AIRFLOW_CONN_TEAM_CHAT",
                json.dumps({"conn_type": "slackwebhook", "password": f"{server.url}/services/T0/B0/x"}),
            )
            notifier = registry.get_notifier("slack").build(
                {"conn_id": "team_chat", "message": "Run {{ run_id }} of {{ params.who }} failed"},
                event="on_failure",
            )
            assert type(notifier).__name__ == "SpecSlackWebhookNotifier"
            run = SimpleNamespace(dag_id="qa.n", run_id="manual__1", state="failed", logical_date=None)
            from airflow.providers.common.compat.sdk import DAG

            dag = DAG(dag_id="qa.n", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC))
            params = {"who": "<!channel> & co"}
            notifier({"dag": dag, "dag_run": run, "run_id": "manual__1", "params": params})
        [request] = server.received
        assert request.path == "/services/T0/B0/x"
        assert request.json()["text"] == "Run manual__1 of &lt;!channel&gt; &amp; co failed"

    def test_default_message_names_the_dag(self, registry):
        parsed = parse_spec(
            spec(
                [{"id": "a", "template": "empty"}],
                notify={"on_success": [{"template": "slack", "with": {"conn_id": "team_chat"}}]},
            ),
            catalog=registry,
            policy=GovernancePolicy(),
        )
        notifier = registry.get_notifier("slack").build(
            parsed.notify.on_success[0].with_, event="on_success", spec=parsed
        )
        assert notifier.text == "Schedule qa.n succeeded. Run: {{ run_id }}"
        assert notifier.slack_webhook_conn_id == "team_chat"
