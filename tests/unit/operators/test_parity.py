"""Parity: the trigger operator and the sensor end the same way deferred or not.

Every scenario scripts the same API answers (served over real HTTP on 127.0.0.1), runs the task once
without deferral (requests through ``SchedulerHook``) and once deferred (``TaskDeferred`` caught, the
trigger rebuilt from ``serialize()`` and run with asyncio through ``SchedulerAsyncClient``, its event fed
back through ``resume_execution``), and asserts the same outcome: same exception class and message, or
the same return value. Each scenario also pins what the user sees (class and message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import pytest
from task_runner import PARENT_DAG_ID, PARENT_RUN_ID, make_context, outcome_of, run_task

from airflow_provider_scheduler.operators.trigger_dag_run import (
    SchedulerTriggerDagRunOperator,
    deterministic_run_id,
)
from airflow_provider_scheduler.sensors.dag_run import SchedulerDagRunSensor

if TYPE_CHECKING:
    from collections.abc import Callable

    from fake_airflow_api import FakeAirflowApi

TARGET = "target_dag"
OP_RUN_ID = deterministic_run_id(PARENT_DAG_ID, PARENT_RUN_ID, "trigger", -1)
SENSOR_RUN_ID = "manual__2026-02-01T00:00:00+00:00"
RUN_PATH = r"/dagRuns/[^/]+$"


@dataclass
class Scenario:
    id: str
    script: Callable[[FakeAirflowApi, str], None]  # (api, run id the task waits for)
    expected: tuple[str, str, str] | Callable[[FakeAirflowApi, str], tuple[str, str, str]]
    operator_kwargs: dict[str, Any] = field(default_factory=dict)
    sensor_kwargs: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[str, ...] = ("operator", "sensor")


def _target(states: list[str], *, paused: bool = False) -> Callable[[FakeAirflowApi, str], None]:
    def script(api: FakeAirflowApi, run_id: str) -> None:
        api.add_dag(TARGET, paused=paused, states=states)
        if run_id == SENSOR_RUN_ID:
            api.add_run(TARGET, run_id, states=["queued"] if paused else states)

    return script


def _then(*steps: Callable[[FakeAirflowApi, str], None]) -> Callable[[FakeAirflowApi, str], None]:
    def script(api: FakeAirflowApi, run_id: str) -> None:
        for step in steps:
            step(api, run_id)

    return script


def _url(api: FakeAirflowApi, run_id: str) -> str:
    return f"{api.url}/dags/{TARGET}/runs/{run_id.replace(':', '%3A').replace('+', '%2B')}"


def _run_path(run_id: str) -> str:
    return f"/api/v2/dags/{TARGET}/dagRuns/{run_id.replace(':', '%3A').replace('+', '%2B')}"


def _not_found_run(api: FakeAirflowApi, run_id: str) -> str:
    return (
        f"Airflow API connection 'scheduler_default' ({api.url}) answered 404 Not Found to GET "
        f"/api/v2/dags/{TARGET}/dagRuns/{run_id.replace(':', '%3A').replace('+', '%2B')}: The DagRun with "
        f"dag_id: `{TARGET}` and run_id: `{run_id}` was not found. Check the DAG id (and run id) exist on "
        "that deployment and that the DAG file parsed without errors; also check the API URL and path prefix."
    )


SCENARIOS = [
    Scenario(
        "success",
        _target(["queued", "running", "success"]),
        lambda api, run_id: ("return", repr(run_id), ""),
    ),
    Scenario(
        "failure-state",
        _target(["running", "failed"]),
        lambda api, run_id: (
            "AirflowFailException",
            "AirflowFailException",
            f"DAG run {TARGET!r}/{run_id!r} ended in state 'failed', one of failed_states ['failed']. "
            f"See {_url(api, run_id)}",
        ),
    ),
    Scenario(
        "custom-failed-state",
        _target(["running", "upstream_failed"]),
        lambda api, run_id: (
            "AirflowFailException",
            "AirflowFailException",
            f"DAG run {TARGET!r}/{run_id!r} ended in state 'upstream_failed', one of failed_states "
            f"['failed', 'upstream_failed']. See {_url(api, run_id)}",
        ),
        operator_kwargs={"failed_states": ["failed", "upstream_failed"]},
        sensor_kwargs={"failed_states": ["failed", "upstream_failed"]},
    ),
    Scenario(
        "api-error-403",
        _then(
            _target(["running", "success"]),
            lambda api, _: api.fail(
                "GET", RUN_PATH, 403, times=5, body={"detail": "Forbidden for role Viewer"}
            ),
        ),
        lambda api, run_id: (
            "SchedulerAuthError",
            "SchedulerAuthError",
            f"Airflow API connection 'scheduler_default' ({api.url}) answered 403 Forbidden to GET "
            f"/api/v2/dags/{TARGET}/dagRuns/{run_id.replace(':', '%3A').replace('+', '%2B')}: Forbidden for "
            "role Viewer. The credentials are valid but the user lacks the permission: check its role on "
            "that deployment.",
        ),
    ),
    Scenario(
        "transient-errors-then-success",
        _then(
            _target(["running", "success"]),
            lambda api, _: api.fail("GET", RUN_PATH, 503, times=2),
        ),
        lambda api, run_id: ("return", repr(run_id), ""),
    ),
    Scenario(
        "timeout",
        _target(["running"]),
        lambda api, run_id: (
            "AirflowSensorTimeout",
            "AirflowSensorTimeout",
            f"Timed out waiting for DAG run {TARGET!r}/{run_id!r} to reach ['success']; last state seen: "
            "'running'.",
        ),
        operator_kwargs={"timeout": 0.3},
        sensor_kwargs={"timeout": 0.3},
    ),
    Scenario(
        "timeout-during-transient-errors",
        _then(_target(["running"]), lambda api, _: api.fail("GET", RUN_PATH, 502, times=10_000)),
        lambda api, run_id: (
            "AirflowSensorTimeout",
            "AirflowSensorTimeout",
            f"Timed out waiting for DAG run {TARGET!r}/{run_id!r} to reach ['success']; its state could "
            "not be read yet. Last API error: Airflow API connection 'scheduler_default' "
            f"({api.url}) answered 502 Bad Gateway to GET {_run_path(run_id)}: "
            "scripted. Gave up after 1 attempt; the deployment may be overloaded or restarting: check its "
            "health, or raise max_retries / timeout.",
        ),
        operator_kwargs={"timeout": 0.3},
        sensor_kwargs={"timeout": 0.3},
    ),
    Scenario(
        "run-404",
        _then(
            _target(["running", "success"]),
            lambda api, _: api.fail(
                "GET",
                RUN_PATH,
                404,
                times=5,
                body={"detail": f"The DagRun with dag_id: `{TARGET}` and run_id: `{_}` was not found"},
            ),
        ),
        lambda api, run_id: ("SchedulerNotFoundError", "SchedulerNotFoundError", _not_found_run(api, run_id)),
    ),
    Scenario(
        "dag-404",
        lambda api, run_id: None,
        lambda api, run_id: (
            "SchedulerNotFoundError",
            "SchedulerNotFoundError",
            f"Airflow API connection 'scheduler_default' ({api.url}) answered 404 Not Found to "
            + (
                f"POST /api/v2/dags/{TARGET}/dagRuns"
                if run_id == OP_RUN_ID
                else f"GET /api/v2/dags/{TARGET}/dagRuns/{run_id.replace(':', '%3A').replace('+', '%2B')}"
            )
            + f": The Dag with ID: `{TARGET}` was not found. Check the DAG id (and run id) exist on that "
            "deployment and that the DAG file parsed without errors; also check the API URL and path prefix.",
        ),
    ),
    Scenario(
        "paused-dag",
        _target(["running", "success"], paused=True),
        lambda api, run_id: (
            "AirflowSensorTimeout",
            "AirflowSensorTimeout",
            f"Timed out waiting for DAG run {TARGET!r}/{run_id!r} to reach ['success']; last state seen: "
            "'queued'. A run that stays queued often means the DAG is paused.",
        ),
        operator_kwargs={"timeout": 0.3},
        sensor_kwargs={"timeout": 0.3},
    ),
    Scenario(
        "paused-dag-fail-fast",
        _target(["running", "success"], paused=True),
        lambda api, run_id: (
            "AirflowFailException",
            "AirflowFailException",
            f"DAG {TARGET!r} is paused on {api.url}: a run would stay queued. Unpause it "
            "(SchedulerPauseDagOperator(paused=False)) or set fail_when_dag_is_paused=False.",
        ),
        operator_kwargs={"fail_when_dag_is_paused": True},
        kinds=("operator",),
    ),
    Scenario(
        "soft-fail-failure-state",
        _target(["failed"]),
        lambda api, run_id: (
            "AirflowSkipException",
            "AirflowFailException",
            f"DAG run {TARGET!r}/{run_id!r} ended in state 'failed', one of failed_states ['failed']. "
            f"See {_url(api, run_id)}",
        ),
        sensor_kwargs={"soft_fail": True},
        kinds=("sensor",),
    ),
    Scenario(
        "soft-fail-api-error",
        lambda api, run_id: None,
        lambda api, run_id: ("AirflowSkipException", "SchedulerNotFoundError", _dag_404(api, run_id)),
        sensor_kwargs={"soft_fail": True},
        kinds=("sensor",),
    ),
    Scenario(
        "soft-fail-timeout",
        _target(["running"]),
        lambda api, run_id: (
            "AirflowSkipException",
            "AirflowSensorTimeout",
            f"Timed out waiting for DAG run {TARGET!r}/{run_id!r} to reach ['success']; last state seen: "
            "'running'.",
        ),
        sensor_kwargs={"soft_fail": True, "timeout": 0.3},
        kinds=("sensor",),
    ),
]


def _dag_404(api: FakeAirflowApi, run_id: str) -> str:
    return (
        f"Airflow API connection 'scheduler_default' ({api.url}) answered 404 Not Found to GET "
        f"/api/v2/dags/{TARGET}/dagRuns/{run_id.replace(':', '%3A').replace('+', '%2B')}: The Dag with ID: "
        f"`{TARGET}` was not found. Check the DAG id (and run id) exist on that deployment and that the DAG "
        "file parsed without errors; also check the API URL and path prefix."
    )


def _task(kind: str, scenario: Scenario, deferrable: bool) -> Any:
    if kind == "operator":
        return SchedulerTriggerDagRunOperator(
            task_id="trigger",
            trigger_dag_id=TARGET,
            conf={"source": "parity"},
            wait_for_completion=True,
            poke_interval=0.02,
            deferrable=deferrable,
            **scenario.operator_kwargs,
        )
    return SchedulerDagRunSensor(
        task_id="wait",
        external_dag_id=TARGET,
        run_id=SENSOR_RUN_ID,
        poke_interval=0.02,
        deferrable=deferrable,
        **scenario.sensor_kwargs,
    )


CASES = [
    pytest.param(kind, scenario, id=f"{kind}-{scenario.id}")
    for scenario in SCENARIOS
    for kind in scenario.kinds
]


class TestDeferrableParity:
    @pytest.mark.parametrize(("kind", "scenario"), CASES)
    def test_same_outcome_in_both_modes(
        self, fake_api: FakeAirflowApi, kind: str, scenario: Scenario
    ) -> None:
        run_id = OP_RUN_ID if kind == "operator" else SENSOR_RUN_ID
        outcomes = {}
        deferred_events: list[Any] = []
        for deferrable in (False, True):
            fake_api.dags.clear()
            fake_api.faults.clear()
            scenario.script(fake_api, run_id)
            task = _task(kind, scenario, deferrable)
            context = make_context(task.task_id)
            outcomes[deferrable] = outcome_of(
                partial(run_task, task, context, deferred_events=deferred_events)
            )
            if kind == "operator" and scenario.id not in ("dag-404", "paused-dag-fail-fast"):
                # The run id and its URL reach XCom in both modes (the extra link reads run_url).
                assert context["ti"].xcoms == {"run_id": run_id, "run_url": _url(fake_api, run_id)}
        expected = scenario.expected(fake_api, run_id) if callable(scenario.expected) else scenario.expected
        assert outcomes[False] == expected
        assert outcomes[True] == outcomes[False]

    @pytest.mark.parametrize(
        ("kind", "scenario"),
        [
            pytest.param(kind, scenario, id=f"{kind}-{scenario.id}")
            for scenario in SCENARIOS
            if scenario.id in ("success", "failure-state", "timeout")
            for kind in scenario.kinds
        ],
    )
    def test_same_outcome_against_an_airflow_2_api(
        self, fake_api_v1: FakeAirflowApi, kind: str, scenario: Scenario
    ) -> None:
        """REST API v1 (Airflow 2.x: basic auth, execution_date, grid URLs): still the same in both modes."""
        run_id = OP_RUN_ID if kind == "operator" else SENSOR_RUN_ID
        outcomes = []
        for deferrable in (False, True):
            fake_api_v1.dags.clear()
            scenario.script(fake_api_v1, run_id)
            task = _task(kind, scenario, deferrable)
            context = make_context(task.task_id)
            outcomes.append(outcome_of(partial(run_task, task, context)))
        assert outcomes[0] == outcomes[1]
        grid_url = f"{fake_api_v1.url}/dags/{TARGET}/grid?dag_run_id={quote_plus(run_id)}"
        if scenario.id == "failure-state":
            assert outcomes[0][2].endswith(f"See {grid_url}")
        elif scenario.id == "success":
            assert outcomes[0] == ("return", repr(run_id), "")
        else:
            assert outcomes[0][0] == "AirflowSensorTimeout"
        assert fake_api_v1.count("POST", r"^/auth/token$") == 0

    def test_deferred_path_really_ran_the_trigger(self, fake_api: FakeAirflowApi) -> None:
        """Guard against a parity test that never defers: the event comes from the trigger."""
        scenario = SCENARIOS[0]
        scenario.script(fake_api, SENSOR_RUN_ID)
        events: list[Any] = []
        task = _task("sensor", scenario, deferrable=True)
        assert run_task(task, make_context("wait"), deferred_events=events) == SENSOR_RUN_ID
        assert events == [
            {
                "status": "success",
                "dag_id": TARGET,
                "run_id": SENSOR_RUN_ID,
                "state": "success",
                "message": f"DAG run {TARGET!r}/{SENSOR_RUN_ID!r} reached state 'success'.",
                "url": _url(fake_api, SENSOR_RUN_ID),
            }
        ]
