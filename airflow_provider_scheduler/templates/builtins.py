"""Built-in task and notification templates, and the admin settings they read.

Task templates: ``empty``, ``trigger_dag`` (this Airflow), ``trigger_remote_dag`` and ``wait_for_dag_run``
(another or this deployment through its REST API, using this provider's operator and sensor),
``http_request`` (an admin-approved HTTP connection), ``approval`` (Airflow 3.1+ human-in-the-loop),
``spark_submit`` (with the Apache Spark provider), and the opt-in ``bash`` and ``python``.
Notification templates: ``email`` (Airflow's SMTP notifier), ``webhook`` (POST to an approved
connection, as JSON or in Slack's incoming-webhook shape) and ``slack`` (with the Slack provider).
Operators are imported inside the builders, i.e. only when the factory builds a task. A template whose
provider or Airflow version is missing is listed as an :class:`UnavailableTemplate` (what to install).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import importlib.util
import inspect
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_provider_scheduler.spec.catalog import split_template_ref
from airflow_provider_scheduler.spec.durations import DURATION_PATTERN, parse_duration
from airflow_provider_scheduler.spec.parser import TASK_ID, json_pattern
from airflow_provider_scheduler.spec.policy import namespace_lists
from airflow_provider_scheduler.templates.registry import (
    NotificationTemplate,
    TaskTemplate,
    UnavailableTemplate,
    construct,
)
from airflow_provider_scheduler.templates.shell import command_problems, env_command, env_problems

DAG_RUN_STATES = ["queued", "running", "success", "failed"]
_TASK_ID_PATTERN = json_pattern(TASK_ID)
_DAG_ID = {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]{1,250}$", "description": "Target dag_id."}
_RELATIVE_PATH = {
    "type": "string",
    "maxLength": 2000,
    # no whitespace, except inside {{ }} (``/refresh/{{ item }}``)
    "pattern": r"^(?!.*://)(?!//)(?:[^\s{]|\{(?!\{)|\{\{[^}]*\}\})*$",
    "description": "Path relative to the connection's base URL, e.g. /reports/orders (no scheme or host).",
}
_DURATION = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "format": "duration",  # checked with parse_duration (spec.catalog), as the builder reads it
    "description": "ISO-8601 duration, e.g. PT30M.",
}

_USER_NAME = {"type": "string", "minLength": 1, "maxLength": 250, "pattern": r"^[^{}\s]+$"}
_SPARK_MEMORY = {
    "type": "string",
    "pattern": r"^[1-9][0-9]{0,6}[kmgtKMGT]?$",
    "description": "Memory, e.g. 2g or 512m.",
}
WEBHOOK_FORMATS = ("json", "slack")


def _available(reason: str | None, template: Any) -> Any:
    """``template``, or an :class:`UnavailableTemplate` saying what it needs when ``reason`` is set."""
    if reason is None:
        return template
    return UnavailableTemplate(template.name, reason, kind=template.kind)


def _states(description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"enum": DAG_RUN_STATES},
        "minItems": 1,
        "uniqueItems": True,
        "description": description,
    }


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


#: Comma-separated ``[schedule_specs]`` options of the Spark and Slack templates.
_LIST_OPTIONS = ("spark_applications", "spark_connections", "slack_connections")


@dataclass(frozen=True)
class TemplateSettings:
    """Admin settings for the built-in templates (``[schedule_specs]`` options).

    :param enabled_templates: opt-in templates to enable (``bash``, ``python``).
    :param disabled_templates: templates to disable everywhere.
    :param python_callables: dotted paths (``package.module.function``) the ``python`` template may run.
    :param http_connections: connection ids ``http_request`` may call.
    :param webhook_connections: connection ids the ``webhook`` notification may POST to.
    :param remote_connections: scheduler connection ids ``trigger_remote_dag`` / ``wait_for_dag_run`` may use.
    :param spark_applications: glob patterns of the applications ``spark_submit`` may submit
        (e.g. ``/opt/spark/jobs/*.py``, ``s3a://jobs/*.jar``); empty = none.
    :param spark_connections: Spark connection ids ``spark_submit`` may use.
    :param slack_connections: Slack incoming-webhook connection ids the ``slack`` notification may use.
    :param dag_targets: per-namespace glob patterns of the dag_ids ``trigger_dag``,
        ``trigger_remote_dag`` and ``wait_for_dag_run`` may name (``"*"`` key = other namespaces);
        None = any DAG. ``{namespace}`` in a pattern stands for the spec's namespace.
    :param template_versions: template name -> the version ``template: name`` (no ``@``) means
        (None: each name's highest version that is not retired).
    :param retired_templates: ``name@version`` references refused in new specs and not built from
        stored ones (e.g. ``http_request@1``).
    """

    enabled_templates: tuple[str, ...] = ()
    disabled_templates: tuple[str, ...] = ()
    python_callables: tuple[str, ...] = ()
    http_connections: tuple[str, ...] = ()
    webhook_connections: tuple[str, ...] = ()
    remote_connections: tuple[str, ...] = field(default=("scheduler_default",))
    dag_targets: Mapping[str, tuple[str, ...]] | None = None
    template_versions: Mapping[str, int] | None = None
    retired_templates: tuple[str, ...] = ()
    spark_applications: tuple[str, ...] = ()
    spark_connections: tuple[str, ...] = ()
    slack_connections: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> TemplateSettings:
        """Build settings from config-style strings (comma-separated lists; empty = default)."""
        kwargs: dict[str, Any] = {}
        for key in (
            "enabled_templates",
            "disabled_templates",
            "python_callables",
            "http_connections",
            "webhook_connections",
            "remote_connections",
            *_LIST_OPTIONS,
        ):
            raw = (options.get(key) or "").strip()
            if raw:
                kwargs[key] = _csv(raw)
        targets = namespace_lists(
            options,
            "dag_targets",
            "dag_id patterns",
            '{"analytics": ["{namespace}.*", "report_template"], "*": ["{namespace}.*"]}',
        )
        if targets is not None:
            kwargs["dag_targets"] = {k: tuple(v) for k, v in targets.items()}
        kwargs.update(_version_options(options))
        return cls(**kwargs)

    @classmethod
    def from_airflow_config(cls) -> TemplateSettings:
        """Read the settings from Airflow's ``[schedule_specs]`` section."""
        from airflow.configuration import conf

        keys = (
            "enabled_templates",
            "disabled_templates",
            "python_callables",
            "http_connections",
            "webhook_connections",
            "remote_connections",
            "dag_targets",
            *VERSION_OPTIONS,
            *_LIST_OPTIONS,
        )
        return cls.from_options({k: conf.get("schedule_specs", k, fallback="") or "" for k in keys})


#: the ``[schedule_specs]`` options of template versions (read with the other template settings)
VERSION_OPTIONS = ("template_versions", "retired_templates")


def _version_options(options: Mapping[str, str]) -> dict[str, Any]:
    """``template_versions`` (JSON name -> version) and ``retired_templates`` (``a@1, b@2``).

    :raises ValueError: a malformed value (the message names the option and shows a valid one).
    """
    out: dict[str, Any] = {}
    raw = (options.get("template_versions") or "").strip()
    if raw:
        example = '{"http_request": 2}'
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"[schedule_specs] template_versions is not valid JSON: {exc}") from None
        if not isinstance(value, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value.values()
        ):
            raise ValueError(
                f"[schedule_specs] template_versions must map template names to versions (whole numbers "
                f"from 1), e.g. {example}"
            )
        out["template_versions"] = {str(k): v for k, v in value.items()}
    raw = (options.get("retired_templates") or "").strip()
    if raw:
        refs = _csv(raw)
        for ref in refs:
            parsed = split_template_ref(ref)
            if parsed is None or parsed[1] is None:
                raise ValueError(
                    f"[schedule_specs] retired_templates lists {ref!r}; write NAME@VERSION, e.g. "
                    "http_request@1 (to switch off every version use disabled_templates)"
                )
        out["retired_templates"] = refs
    return out


@functools.cache  # looked up once per operator class, not once per task of every spec
def _import_first(name: str, *modules: str) -> Any:
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(
        f"{name} is not available in this Airflow installation (looked in {', '.join(modules)})"
    )


# --- what this deployment has -------------------------------------------------------------------------


@functools.cache  # once per process: the registry is built once, and tests build many
def _has_module(name: str) -> bool:
    """Whether ``name`` can be imported, without importing it (its parent packages are imported)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package is missing
        return False


@functools.cache
def _airflow_version() -> str:
    from airflow import __version__  # already imported wherever templates are built

    return str(__version__)


def _needs_airflow(major: int, minor: int) -> str | None:
    """``needs Airflow M.N or later; this deployment runs X`` when the running Airflow is older."""
    running = _airflow_version()
    found = re.match(r"(\d+)\.(\d+)", running)
    if found is None or (int(found[1]), int(found[2])) >= (major, minor):
        return None
    return f"needs Airflow {major}.{minor} or later; this deployment runs {running}"


def _needs_extra(module: str, provider: str, extra: str) -> str | None:
    """``needs the <provider>: pip install 'airflow-provider-scheduler[<extra>]'`` when it is missing."""
    if _has_module(module):
        return None
    return f"needs the {provider}: pip install 'airflow-provider-scheduler[{extra}]'"


def _approval_unavailable() -> str | None:
    return _needs_airflow(3, 1) or (
        None
        if _has_module("airflow.providers.standard.operators.hitl")
        else "needs the standard provider's human-in-the-loop operators: "
        "pip install -U apache-airflow-providers-standard"
    )


def _seconds(duration: str | None) -> float | None:
    if duration is None:
        return None
    return parse_duration(duration).total_seconds()


def _allow_list_check(key: str, allowed: tuple[str, ...], option: str, what: str):
    def check(with_: Mapping[str, Any], namespace: str | None) -> list[tuple[str, str]]:
        value = with_.get(key)
        if value is None or value in allowed:
            return []
        if not allowed:
            return [
                (key, f"no {what} is approved on this deployment (an admin sets [schedule_specs] {option})")
            ]
        return [(key, f"{what} {value!r} is not approved; approved: {', '.join(allowed)}")]

    return check


def _dag_target_check(targets: Mapping[str, tuple[str, ...]] | None):
    """``dag_id`` must match the namespace's target patterns (``{namespace}`` = the spec's namespace)."""

    def check(with_: Mapping[str, Any], namespace: str | None) -> list[tuple[str, str]]:
        dag_id = with_.get("dag_id")
        if targets is None or not isinstance(dag_id, str):
            return []
        patterns = targets.get(namespace or "", targets.get("*"))
        if patterns is None:
            return []
        expanded = [p.replace("{namespace}", namespace or "") for p in patterns]
        if any(fnmatch.fnmatchcase(dag_id, p) for p in expanded):
            return []
        allowed = ", ".join(expanded) or "none"
        return [("dag_id", f"namespace {namespace!r} may not target DAG {dag_id!r}; allowed: {allowed}")]

    return check


def _all_checks(*checks: Any):
    def check(with_: Mapping[str, Any], namespace: str | None) -> list[tuple[str, str]]:
        return [problem for c in checks for problem in c(with_, namespace)]

    return check


def _one_of(first: str, second: str):
    def check(with_: Mapping[str, Any], namespace: str | None) -> list[tuple[str, str]]:
        if with_.get(first) is not None and with_.get(second) is not None:
            return [(second, f"give {first} or {second}, not both")]
        return []

    return check


# --- task templates ---------------------------------------------------------------------------------


def _build_empty(*, task_id: str, with_: dict[str, Any], make: Any = construct, **kwargs: Any) -> Any:
    cls = _import_first(
        "EmptyOperator", "airflow.providers.standard.operators.empty", "airflow.operators.empty"
    )
    return make(cls, task_id=task_id, **kwargs)


def _build_trigger_dag(*, task_id: str, with_: dict[str, Any], make: Any = construct, **kwargs: Any) -> Any:
    cls = _import_first(
        "TriggerDagRunOperator",
        "airflow.providers.standard.operators.trigger_dagrun",  # Airflow 3.x (standard provider)
        "airflow.operators.trigger_dagrun",  # Airflow 2.11
    )
    args: dict[str, Any] = {
        "trigger_dag_id": with_["dag_id"],
        "conf": with_.get("conf"),
        "wait_for_completion": with_.get("wait_for_completion", False),
        "poke_interval": with_.get("poke_interval", 60),
    }
    if "allowed_states" in with_:
        args["allowed_states"] = with_["allowed_states"]
    if "failed_states" in with_:
        args["failed_states"] = with_["failed_states"]
    return make(cls, task_id=task_id, **args, **kwargs)


def _build_trigger_remote_dag(
    *, task_id: str, with_: dict[str, Any], make: Any = construct, **kwargs: Any
) -> Any:
    from airflow_provider_scheduler.operators.trigger_dag_run import SchedulerTriggerDagRunOperator

    args: dict[str, Any] = {
        "trigger_dag_id": with_["dag_id"],
        "scheduler_conn_id": with_.get("conn_id", "scheduler_default"),
        "conf": with_.get("conf"),
        "note": with_.get("note"),
        "wait_for_completion": with_.get("wait_for_completion", False),
        "poke_interval": with_.get("poke_interval", 10),
        "allowed_states": tuple(with_.get("allowed_states", ["success"])),
        "failed_states": tuple(with_.get("failed_states", ["failed"])),
    }
    if with_.get("timeout") is not None:
        args["timeout"] = _seconds(with_["timeout"])
    if with_.get("deferrable") is not None:
        args["deferrable"] = with_["deferrable"]
    return make(SchedulerTriggerDagRunOperator, task_id=task_id, **args, **kwargs)


def _logical_date_check(with_: Mapping[str, Any], namespace: str | None) -> list[tuple[str, str]]:
    """A ``logical_date`` without Jinja is an ISO 8601 date-time with a timezone, as the sensor reads it."""
    value = with_.get("logical_date")
    if not isinstance(value, str) or "{" in value:
        return []
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return [("logical_date", f"{value!r} is not an ISO 8601 date-time (e.g. 2026-01-01T06:00:00+00:00)")]
    if parsed.tzinfo is None:
        return [("logical_date", f"{value!r} needs a timezone, e.g. {parsed.isoformat()}+00:00")]
    return []


def _build_wait_for_dag_run(
    *, task_id: str, with_: dict[str, Any], make: Any = construct, **kwargs: Any
) -> Any:
    from airflow_provider_scheduler.sensors.dag_run import SchedulerDagRunSensor

    run_id = with_.get("run_id")
    if with_.get("run_of_task"):
        ref = with_["run_of_task"]
        if not TASK_ID.fullmatch(ref):  # re-checked: only a strict slug goes into the expression
            raise ValueError(f"run_of_task {ref!r} is not a task id")
        # the run the upstream trigger_remote_dag task started (it pushes the run id to XCom)
        run_id = f"{{{{ ti.xcom_pull(task_ids='{ref}', key='run_id') }}}}"
    args: dict[str, Any] = {
        "external_dag_id": with_["dag_id"],
        "run_id": run_id,
        "scheduler_conn_id": with_.get("conn_id", "scheduler_default"),
        "allowed_states": tuple(with_.get("allowed_states", ["success"])),
        "failed_states": tuple(with_.get("failed_states", ["failed"])),
        "poke_interval": with_.get("poke_interval", 30),
    }
    if with_.get("logical_date") is not None:
        args["logical_date"] = with_["logical_date"]
    if with_.get("timeout") is not None:
        args["timeout"] = _seconds(with_["timeout"])
    if with_.get("deferrable") is not None:
        args["deferrable"] = with_["deferrable"]
    return make(SchedulerDagRunSensor, task_id=task_id, **args, **kwargs)


def _build_http_request(*, task_id: str, with_: dict[str, Any], make: Any = construct, **kwargs: Any) -> Any:
    from airflow_provider_scheduler.operators.http_request import SpecHttpRequestOperator

    return make(
        SpecHttpRequestOperator,
        task_id=task_id,
        http_conn_id=with_["conn_id"],
        endpoint=with_.get("endpoint", ""),
        method=with_.get("method", "GET"),
        json=with_.get("json"),
        data=with_.get("data"),
        headers=with_.get("headers"),
        expected_status=with_.get("expected_status", [200, 201, 202, 204]),
        request_timeout=with_.get("timeout", 60),
        **kwargs,
    )


def _build_bash(*, task_id: str, with_: dict[str, Any], make: Any = construct, **kwargs: Any) -> Any:
    """A BashOperator whose command never holds a rendered value (see :mod:`.shell`).

    Every ``{{ ... }}`` of the command becomes a quoted ``"${SCHED_VALUE_n}"`` reference and its
    expression goes to ``env``, which Airflow renders: a value a triggering user chose (params,
    ``dag_run.conf``) reaches bash as data, never as shell syntax. This also covers specs stored
    before the rule existed. Without an ``env`` of the spec's own the task keeps the worker's
    environment (``append_env``); with one, that ``env`` is the whole environment, as before.
    """
    cls = _import_first("BashOperator", "airflow.providers.standard.operators.bash", "airflow.operators.bash")
    command, values = env_command(with_["command"])
    if command.rstrip().endswith((".sh", ".bash")):
        # BashOperator would load a command ending in .sh/.bash as a template FILE from the dags
        # folder (bypassing the spec's template checks); a trailing space makes it a plain command.
        command = command.rstrip() + " "
    env = with_.get("env")
    bad = env_problems(env or {})
    if bad:
        raise ValueError(f"bash env {bad[0][0]!r} {bad[0][1]}")
    if not values:
        return make(cls, task_id=task_id, bash_command=command, env=env, **kwargs)
    if env is None:
        return make(cls, task_id=task_id, bash_command=command, env=values, append_env=True, **kwargs)
    return make(cls, task_id=task_id, bash_command=command, env={**env, **values}, **kwargs)


def _bash_check(with_: Mapping[str, Any], namespace: str | None) -> list[tuple[str, str]]:
    """The command's expressions can all be passed as environment variables; ``env`` names are usable."""
    problems = [("command", message) for message in command_problems(str(with_.get("command") or ""))]
    env = with_.get("env")
    if isinstance(env, Mapping):
        problems += [(f"env.{key}", message) for key, message in env_problems(env)]
    return problems


def _make_python_builder(allowed: tuple[str, ...]):
    def build(*, task_id: str, with_: dict[str, Any], make: Any = construct, **kwargs: Any) -> Any:
        path = with_["callable"]
        if path not in allowed:  # re-checked at build time: never import a name an admin did not list
            raise ValueError(f"python callable {path!r} is not in [schedule_specs] python_callables")
        module_name, _, attr = path.rpartition(".")
        func = getattr(importlib.import_module(module_name), attr)
        cls = _import_first(
            "PythonOperator", "airflow.providers.standard.operators.python", "airflow.operators.python"
        )
        return make(cls, task_id=task_id, python_callable=func, op_kwargs=with_.get("kwargs") or {}, **kwargs)

    return build


def _hitl_user(user: str) -> dict[str, str]:
    """A spec's ``assigned_users`` item as Airflow's ``HITLUser``: Airflow checks the responder's id.

    The simple auth manager's user id is the user name; FAB's is the numeric id, which a spec gives.
    """
    return {"id": user, "name": user}


@functools.cache
def _takes(cls: type, argument: str) -> bool:
    """Whether ``cls`` or a base class names ``argument`` in its ``__init__`` (not only ``**kwargs``)."""
    return any(
        argument in inspect.signature(base.__init__).parameters  # type: ignore[misc]
        for base in cls.__mro__
        if "__init__" in vars(base)
    )


def _build_approval(*, task_id: str, with_: dict[str, Any], **kwargs: Any) -> Any:
    """Airflow 3.1+'s ``ApprovalOperator``: the run waits in "Required Actions" for Approve or Reject.

    The wait is bounded by ``timeout``, else by the task's ``execution_timeout`` (as Airflow itself
    does, without its deprecation warning); a Reject skips the downstream tasks.
    """
    cls = _import_first("ApprovalOperator", "airflow.providers.standard.operators.hitl")
    args: dict[str, Any] = {"subject": with_["subject"]}
    if with_.get("body") is not None:
        args["body"] = with_["body"]
    if with_.get("assigned_users"):
        args["assigned_users"] = [_hitl_user(u) for u in with_["assigned_users"]]
    wait = kwargs.pop("execution_timeout", None)
    if with_.get("timeout") is not None:
        wait = parse_duration(with_["timeout"])
    if wait is not None:
        if _takes(cls, "response_timeout"):
            args["response_timeout"] = wait
        else:  # an older standard provider: the wait is the task's execution_timeout
            kwargs["execution_timeout"] = wait
    return cls(task_id=task_id, **args, **kwargs)


#: Spark configuration keys that load code or change what runs; ``application`` is what an admin
#: approved, so these stay out of a spec's ``conf``.
_SPARK_CODE_CONF = (
    "spark.jars*",
    "spark.files*",
    "spark.archives*",
    "spark.submit.*",
    "spark.pyspark.*",
    "spark.plugins*",
    "spark.*.extraJavaOptions",
    "spark.*.extraClassPath",
    "spark.*.extraLibraryPath",
    "spark.*.userClassPathFirst",
    "spark.*.defaultJavaOptions",
    "spark.yarn.dist.*",
    "spark.kubernetes.*",
    "spark.driver.resource.*",
    "spark.executor.resource.*",
    "spark.redaction.*",
)


_SPARK_CONF_KEY = re.compile(r"spark\.[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*")
_MAX_SPARK_CONF = 100


def _spark_application_problem(application: str, patterns: tuple[str, ...]) -> str | None:
    if not patterns:
        return (
            "no Spark application is approved on this deployment "
            "(an admin sets [schedule_specs] spark_applications)"
        )
    if ".." in re.split(r"[/\\]", application):
        return f"application {application!r} must not contain '..' segments"
    if any(fnmatch.fnmatchcase(application, p) for p in patterns):
        return None
    return f"application {application!r} is not approved; approved: {', '.join(patterns)}"


def _spark_check(settings: TemplateSettings):
    applications = settings.spark_applications
    connections = settings.spark_connections

    def check(with_: Mapping[str, Any], namespace: str | None) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        application = with_.get("application")
        if isinstance(application, str):
            why = _spark_application_problem(application, applications)
            if why:
                problems.append(("application", why))
        conn_id = with_.get("conn_id", "spark_default")
        if not connections:
            problems.append(
                (
                    "conn_id",
                    "no Spark connection is approved on this deployment "
                    "(an admin sets [schedule_specs] spark_connections)",
                )
            )
        elif conn_id not in connections:
            problems.append(
                (
                    "conn_id",
                    f"Spark connection {conn_id!r} is not approved; approved: {', '.join(connections)}",
                )
            )
        conf = with_.get("conf")
        if isinstance(conf, Mapping):
            if len(conf) > _MAX_SPARK_CONF:
                problems.append(("conf", f"at most {_MAX_SPARK_CONF} settings, not {len(conf)}"))
            for key in conf:
                if not _SPARK_CONF_KEY.fullmatch(str(key)):
                    problems.append((f"conf.{key}", "must be a Spark setting name (spark.something)"))
                elif any(fnmatch.fnmatchcase(str(key), p) for p in _SPARK_CODE_CONF):
                    problems.append(
                        (
                            f"conf.{key}",
                            "this Spark setting loads code or changes what runs; only the approved "
                            "application runs (ask an admin to ship it in the application's spark-defaults)",
                        )
                    )
        return problems

    return check


def _make_spark_builder(applications: tuple[str, ...]):
    def build(*, task_id: str, with_: dict[str, Any], **kwargs: Any) -> Any:
        application = with_["application"]
        why = _spark_application_problem(application, applications)
        if why:  # re-checked at build time: an admin may have narrowed the patterns since
            raise ValueError(why)
        cls = _import_first("SparkSubmitOperator", "airflow.providers.apache.spark.operators.spark_submit")
        args: dict[str, Any] = {
            "application": application,
            "conn_id": with_.get("conn_id", "spark_default"),
            "name": with_.get("name") or task_id,
        }
        for key in (
            "conf",
            "application_args",
            "executor_memory",
            "executor_cores",
            "num_executors",
            "driver_memory",
        ):
            if with_.get(key) is not None:
                args[key] = with_[key]
        return cls(task_id=task_id, **args, **kwargs)

    return build


def builtin_templates(
    settings: TemplateSettings | None = None,
) -> list[TaskTemplate | NotificationTemplate | UnavailableTemplate]:
    """The built-in templates, configured by ``settings`` (admin allow-lists).

    A template that needs a provider or Airflow version this deployment lacks comes as an
    :class:`UnavailableTemplate` (the registry records what to install instead of registering it).
    """
    settings = settings or TemplateSettings()
    remote_conn: dict[str, Any] = {
        "type": "string",
        "default": "scheduler_default",
        "description": "Scheduler connection id.",
    }
    if settings.remote_connections:
        remote_conn["enum"] = list(settings.remote_connections)
    http_conn: dict[str, Any] = {"type": "string", "description": "Admin-approved HTTP connection id."}
    if settings.http_connections:
        http_conn["enum"] = list(settings.http_connections)
    webhook_conn: dict[str, Any] = {
        "type": "string",
        "description": "Admin-approved connection id to POST to.",
    }
    if settings.webhook_connections:
        webhook_conn["enum"] = list(settings.webhook_connections)
    spark_conn: dict[str, Any] = {
        "type": "string",
        "default": "spark_default",
        "description": "Admin-approved Spark connection id.",
    }
    if settings.spark_connections:
        spark_conn["enum"] = list(settings.spark_connections)
    slack_conn: dict[str, Any] = {
        "type": "string",
        "description": "Admin-approved Slack incoming-webhook connection id.",
    }
    if settings.slack_connections:
        slack_conn["enum"] = list(settings.slack_connections)
    callable_schema: dict[str, Any] = {
        "type": "string",
        "description": "Dotted path of an admin-approved function.",
    }
    if settings.python_callables:
        callable_schema["enum"] = list(settings.python_callables)

    def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
        if required:
            out["required"] = required
        return out

    poke = {"type": "integer", "minimum": 5, "maximum": 3600, "description": "Seconds between state checks."}
    return [
        TaskTemplate(
            "empty",
            description="Does nothing; a join point or placeholder.",
            with_schema=obj({}),
            builder=_build_empty,
            mappable=True,
        ),
        TaskTemplate(
            "trigger_dag",
            description="Trigger a DAG on this Airflow deployment, optionally waiting for it to finish.",
            with_schema=obj(
                {
                    "dag_id": _DAG_ID,
                    "conf": {"type": "object", "description": "Run configuration (templated)."},
                    "wait_for_completion": {"type": "boolean", "default": False},
                    "poke_interval": {**poke, "default": 60},
                    "allowed_states": _states("States that count as success when waiting."),
                    "failed_states": _states("States that count as failure when waiting."),
                },
                ["dag_id"],
            ),
            builder=_build_trigger_dag,
            mappable=True,
            check=_dag_target_check(settings.dag_targets),
        ),
        TaskTemplate(
            "trigger_remote_dag",
            description="Trigger a DAG on an Airflow deployment through its REST API (scheduler connection).",
            with_schema=obj(
                {
                    "dag_id": _DAG_ID,
                    "conn_id": remote_conn,
                    "conf": {"type": "object", "description": "Run configuration (templated)."},
                    "note": {"type": "string", "maxLength": 1000},
                    "wait_for_completion": {"type": "boolean", "default": False},
                    "deferrable": {
                        "type": "boolean",
                        "description": "Wait in the triggerer (default: [operators] default_deferrable).",
                    },
                    "poke_interval": {**poke, "default": 10},
                    "timeout": _DURATION,
                    "allowed_states": _states("States that count as success when waiting."),
                    "failed_states": _states("States that count as failure when waiting."),
                },
                ["dag_id"],
            ),
            builder=_build_trigger_remote_dag,
            mappable=True,
            check=_all_checks(
                _allow_list_check(
                    "conn_id", settings.remote_connections, "remote_connections", "scheduler connection"
                ),
                _dag_target_check(settings.dag_targets),
            ),
        ),
        TaskTemplate(
            "wait_for_dag_run",
            description="Wait (deferrable) until a DAG run on a deployment reaches a state "
            "(the latest run unless run_id, run_of_task or logical_date is given).",
            with_schema=obj(
                {
                    "dag_id": _DAG_ID,
                    "run_id": {"type": "string", "maxLength": 250, "description": "Run id (templated)."},
                    "run_of_task": {
                        "type": "string",
                        "pattern": _TASK_ID_PATTERN,
                        "description": "Wait for the run that this upstream trigger_remote_dag task started.",
                    },
                    "logical_date": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 250,
                        "description": "Wait for the run of this logical date (templated, e.g. "
                        "'{{ logical_date }}' or '{{ data_interval_start }}'; ISO 8601 with a timezone).",
                    },
                    "conn_id": remote_conn,
                    "deferrable": {
                        "type": "boolean",
                        "description": "Wait in the triggerer (default: [operators] default_deferrable).",
                    },
                    "poke_interval": {**poke, "default": 30},
                    "timeout": _DURATION,
                    "allowed_states": _states("States that end the wait successfully."),
                    "failed_states": _states("States that fail the task."),
                },
                ["dag_id"],
            ),
            builder=_build_wait_for_dag_run,
            mappable=True,
            check=_all_checks(
                _allow_list_check(
                    "conn_id", settings.remote_connections, "remote_connections", "scheduler connection"
                ),
                _one_of("run_id", "run_of_task"),
                _one_of("run_id", "logical_date"),
                _one_of("run_of_task", "logical_date"),
                _logical_date_check,
                _dag_target_check(settings.dag_targets),
            ),
            task_refs=("run_of_task",),
        ),
        TaskTemplate(
            "http_request",
            description="Call an HTTP endpoint of an admin-approved connection; "
            "fails on an unexpected status.",
            with_schema=obj(
                {
                    "conn_id": http_conn,
                    "endpoint": _RELATIVE_PATH,
                    "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"], "default": "GET"},
                    "json": {"description": "JSON body (templated)."},
                    "data": {"type": "string", "maxLength": 100000, "description": "Raw body (templated)."},
                    "headers": {
                        "type": "object",
                        "additionalProperties": {"type": "string", "maxLength": 4000},
                        "description": "Extra request headers (templated).",
                    },
                    "expected_status": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 100, "maximum": 599},
                        "minItems": 1,
                        "default": [200, 201, 202, 204],
                    },
                    "timeout": {"type": "integer", "minimum": 1, "maximum": 3600, "default": 60},
                },
                ["conn_id"],
            ),
            builder=_build_http_request,
            mappable=True,
            check=_allow_list_check(
                "conn_id", settings.http_connections, "http_connections", "HTTP connection"
            ),
        ),
        TaskTemplate(
            "bash",
            description="Run a shell command (disabled unless an admin enables it); each {{ }} value "
            "reaches the shell as an environment variable, never as shell text.",
            with_schema=obj(
                {
                    "command": {"type": "string", "minLength": 1, "maxLength": 10000},
                    "env": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                ["command"],
            ),
            builder=_build_bash,
            mappable=True,
            enabled_by_default=False,
            check=_bash_check,
        ),
        TaskTemplate(
            "python",
            description="Run an admin-approved Python function (disabled unless an admin enables it).",
            with_schema=obj({"callable": callable_schema, "kwargs": {"type": "object"}}, ["callable"]),
            builder=_make_python_builder(settings.python_callables),
            mappable=True,
            enabled_by_default=False,
            check=_allow_list_check(
                "callable", settings.python_callables, "python_callables", "python callable"
            ),
        ),
        _available(
            _approval_unavailable(),
            TaskTemplate(
                "approval",
                description="Wait for a person to approve or reject in Airflow's Required Actions "
                "(Airflow 3.1+); a rejection skips the downstream tasks.",
                with_schema=obj(
                    {
                        "subject": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 1000,
                            "description": "Headline of the request (templated).",
                        },
                        "body": {
                            "type": "string",
                            "maxLength": 20000,
                            "description": "Details, Markdown (templated).",
                        },
                        "assigned_users": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 100,
                            "items": {
                                **_USER_NAME,
                                "description": "A user name (the auth manager's user id).",
                            },
                            "uniqueItems": True,
                            "description": "Who may respond (user names; with FAB's auth manager the "
                            "numeric user id); default: anyone who may edit the DAG's runs.",
                        },
                        "timeout": {
                            **_DURATION,
                            "description": "How long to wait for a response (ISO-8601 duration); "
                            "then the task fails.",
                        },
                    },
                    ["subject"],
                ),
                builder=_build_approval,
            ),
        ),
        _available(
            _needs_extra("airflow.providers.apache.spark", "Apache Spark provider", "spark"),
            TaskTemplate(
                "spark_submit",
                description="Submit an admin-approved Spark application (spark-submit) through an "
                "admin-approved Spark connection.",
                with_schema=obj(
                    {
                        "application": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 2000,
                            "pattern": r"^[^\s{}]+$",
                            "description": "Path or URI of the application (.py, .jar); must match "
                            "[schedule_specs] spark_applications.",
                        },
                        "conn_id": spark_conn,
                        "name": {
                            "type": "string",
                            "pattern": r"^[^{}]{1,200}$",
                            "description": "Spark application name (default: the task id).",
                        },
                        "conf": {
                            "type": "object",
                            "additionalProperties": {"type": "string", "maxLength": 4000},
                            "description": "Spark configuration, spark.* keys to strings (values templated).",
                        },
                        "application_args": {
                            "type": "array",
                            "maxItems": 200,
                            "items": {"type": "string", "maxLength": 4000},
                            "description": "Arguments passed to the application (templated).",
                        },
                        "executor_memory": _SPARK_MEMORY,
                        "executor_cores": {"type": "integer", "minimum": 1, "maximum": 1024},
                        "num_executors": {"type": "integer", "minimum": 1, "maximum": 100000},
                        "driver_memory": _SPARK_MEMORY,
                    },
                    ["application"],
                ),
                builder=_make_spark_builder(settings.spark_applications),
                check=_spark_check(settings),
            ),
        ),
        _available(
            _needs_extra("airflow.providers.slack", "Slack provider", "slack"),
            NotificationTemplate(
                "slack",
                description="Post a message through an admin-approved Slack incoming-webhook "
                "connection (the Slack provider's webhook notifier).",
                with_schema=obj(
                    {
                        "conn_id": slack_conn,
                        "message": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 4000,
                            "description": "Message text (templated); default: the DAG, what happened "
                            "and the run id.",
                        },
                    },
                    ["conn_id"],
                ),
                builder=_build_slack,
                check=_allow_list_check(
                    "conn_id", settings.slack_connections, "slack_connections", "Slack connection"
                ),
            ),
        ),
        NotificationTemplate(
            "email",
            description="Send an email through Airflow's SMTP connection ([email] email_conn_id).",
            with_schema=obj(
                {
                    "to": {
                        "type": "array",
                        "items": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"},
                        "minItems": 1,
                        "maxItems": 50,
                    },
                    "subject": {"type": "string", "maxLength": 500},
                    "message": {"type": "string", "maxLength": 20000},
                },
                ["to"],
            ),
            builder=_build_email,
        ),
        NotificationTemplate(
            "webhook",
            description="POST a JSON summary of the run (format json) or a chat message "
            '(format slack: {"text": message}) to an admin-approved connection.',
            with_schema=obj(
                {
                    "conn_id": webhook_conn,
                    "endpoint": _RELATIVE_PATH,
                    "message": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 4000,
                        "description": "Message text (templated): the 'message' of the JSON body, "
                        "the 'text' of a slack one.",
                    },
                    "format": {
                        "enum": list(WEBHOOK_FORMATS),
                        "default": "json",
                        "description": 'json: the run summary (plus message); slack: {"text": message} '
                        "for Slack/Mattermost-style incoming webhooks.",
                    },
                },
                ["conn_id"],
            ),
            builder=_build_webhook,
            check=_allow_list_check(
                "conn_id", settings.webhook_connections, "webhook_connections", "webhook connection"
            ),
        ),
    ]


# --- notification templates -------------------------------------------------------------------------

_EVENT_WORDS = {
    "on_failure": "failed",
    "on_success": "succeeded",
    "on_retry": "is retrying a task",
    "deadline_missed": "missed its deadline",
}


def _build_email(*, with_: dict[str, Any], event: str, spec: Any = None) -> Any:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    name = spec.dag_id if spec is not None else "schedule"
    subject = with_.get("subject") or f"[Airflow] {name} {_EVENT_WORDS.get(event, event)}"
    message = with_.get("message") or (
        f"Schedule {name} {_EVENT_WORDS.get(event, event)}.<br>Run: {{{{ run_id }}}}<br>"
        f"Logical date: {{{{ logical_date }}}}"
    )
    return SmtpNotifier(to=with_["to"], subject=subject, html_content=message)


def _build_webhook(*, with_: dict[str, Any], event: str, spec: Any = None) -> Any:
    from airflow_provider_scheduler.notifications.webhook import WebhookNotifier

    return WebhookNotifier(
        conn_id=with_["conn_id"],
        endpoint=with_.get("endpoint", ""),
        event=event,
        message=with_.get("message"),
        payload_format=with_.get("format", "json"),
    )


def _build_slack(*, with_: dict[str, Any], event: str, spec: Any = None) -> Any:
    from airflow_provider_scheduler.notifications.slack import SpecSlackWebhookNotifier

    name = spec.dag_id if spec is not None else "schedule"
    text = with_.get("message") or f"Schedule {name} {_EVENT_WORDS.get(event, event)}. Run: {{{{ run_id }}}}"
    return SpecSlackWebhookNotifier(slack_webhook_conn_id=with_["conn_id"], text=text)
