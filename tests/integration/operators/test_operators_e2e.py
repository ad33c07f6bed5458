"""End to end on a real Airflow 3.3: the deferrable trigger operator and sensor against the same deployment.

Uses the shared ``airflow`` session fixture (api-server, scheduler, dag-processor, triggerer on
127.0.0.1); its ``scheduler_default`` connection points at itself. Every DAG id is unique per test run.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

if TYPE_CHECKING:
    from local_airflow import AirflowServer

pytestmark = pytest.mark.integration

SUFFIX = uuid.uuid4().hex[:8]
TARGET = f"ops_it_target_{SUFFIX}"
PARENT = f"ops_it_parent_{SUFFIX}"
SENSING = f"ops_it_sensor_{SUFFIX}"

TARGET_DAG = f'''
from __future__ import annotations

import datetime
import time

from airflow.sdk import DAG, task

with DAG(
    dag_id="{TARGET}",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    catchup=False,
    max_active_runs=4,
) as dag:

    @task(retries=0)
    def work(**context):
        conf = context["dag_run"].conf or {{}}
        time.sleep(float(conf.get("sleep", 0)))
        if str(conf.get("fail")) == "True":
            raise RuntimeError("asked to fail by conf")
        return conf

    work()
'''

PARENT_DAG = f'''
from __future__ import annotations

import datetime

from airflow.sdk import DAG

from airflow_provider_scheduler.operators.trigger_dag_run import SchedulerTriggerDagRunOperator

with DAG(
    dag_id="{PARENT}",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    catchup=False,
    params={{"fail": False}},
) as dag:
    SchedulerTriggerDagRunOperator(
        task_id="trigger",
        trigger_dag_id="{TARGET}",
        conf={{"source": "{PARENT}", "fail": "{{{{ params.fail }}}}", "sleep": 3}},
        note="from {{{{ dag.dag_id }}}}",
        wait_for_completion=True,
        deferrable=True,
        poke_interval=2,
        timeout=300,
        retries=0,
    )
'''

SENSOR_DAG = f'''
from __future__ import annotations

import datetime

from airflow.sdk import DAG

from airflow_provider_scheduler.sensors.dag_run import SchedulerDagRunSensor

with DAG(
    dag_id="{SENSING}",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    catchup=False,
    params={{"run_id": ""}},
) as dag:
    SchedulerDagRunSensor(
        task_id="wait",
        external_dag_id="{TARGET}",
        run_id="{{{{ params.run_id }}}}",
        deferrable=True,
        poke_interval=2,
        timeout=300,
        retries=0,
    )
'''


def ti(airflow: AirflowServer, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    resp = airflow.api(
        "GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}"
    )
    return resp.json() if resp.ok else {}


def watch_task(
    airflow: AirflowServer, dag_id: str, run_id: str, task_id: str, timeout: float = 240
) -> list[str | None]:
    """Poll the task instance through the API; return the distinct states seen, in order."""
    seen: list[str | None] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = ti(airflow, dag_id, run_id, task_id).get("state")
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in ("success", "failed", "skipped", "upstream_failed"):
            print(f"{dag_id}.{task_id} states seen through the API: {seen}")
            return seen
        time.sleep(0.5)
    raise AssertionError(
        f"{dag_id}.{task_id} still {seen[-1] if seen else None} after {timeout}s: {seen}\n"
        f"{airflow.log_tails(30)}"
    )


def task_log(airflow: AirflowServer, dag_id: str, run_id: str, task_id: str) -> str:
    """The task's log (structured JSON lines, exception details included) as one string."""
    resp = airflow.api(
        "GET",
        f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/logs/1",
        params={"full_content": "true"},
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 200, resp.text
    return json.dumps(resp.json(), ensure_ascii=False)


@pytest.fixture(scope="module")
def dags(airflow: AirflowServer) -> AirflowServer:
    airflow.add_dag_file(f"{TARGET}.py", TARGET_DAG)
    airflow.add_dag_file(f"{PARENT}.py", PARENT_DAG)
    airflow.add_dag_file(f"{SENSING}.py", SENSOR_DAG)
    for dag_id in (TARGET, PARENT, SENSING):
        airflow.wait_for_dag(dag_id)
        airflow.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
    return airflow


class TestTriggerOperatorDeferred:
    def test_queued_deferred_success_and_the_target_run_carries_the_conf(self, dags: AirflowServer) -> None:
        parent_run = dags.trigger(PARENT, conf={"fail": False})["dag_run_id"]
        states = watch_task(dags, PARENT, parent_run, "trigger")
        assert "deferred" in states, states
        assert states[-1] == "success", f"{states}\n{task_log(dags, PARENT, parent_run, 'trigger')[-4000:]}"
        assert states.index("deferred") < states.index("success")
        assert dags.wait_for_run(PARENT, parent_run)["state"] == "success"

        target_run_id = f"triggered_by__{PARENT}__{parent_run}__trigger"
        target_run = dags.get_run(TARGET, quote(target_run_id, safe=""))
        assert target_run["state"] == "success"
        assert target_run["conf"] == {"source": PARENT, "fail": "False", "sleep": 3}
        assert target_run["note"] == f"from {PARENT}"

        parent_ti = f"/api/v2/dags/{PARENT}/dagRuns/{quote(parent_run, safe='')}/taskInstances/trigger"
        xcom = dags.api("GET", f"{parent_ti}/xcomEntries/run_url")
        assert xcom.status_code == 200, xcom.text
        assert xcom.json()["value"] == f"{dags.base_url}/dags/{TARGET}/runs/{quote(target_run_id, safe='')}"

    def test_failing_target_fails_the_waiting_task_naming_the_remote_run(self, dags: AirflowServer) -> None:
        parent_run = dags.trigger(PARENT, conf={"fail": True})["dag_run_id"]
        states = watch_task(dags, PARENT, parent_run, "trigger")
        assert "deferred" in states, states
        assert states[-1] == "failed", states
        target_run_id = f"triggered_by__{PARENT}__{parent_run}__trigger"
        assert dags.get_run(TARGET, quote(target_run_id, safe=""))["state"] == "failed"
        log = task_log(dags, PARENT, parent_run, "trigger")
        assert f"DAG run '{TARGET}'/'{target_run_id}' ended in state 'failed'" in log, log[-3000:]


class TestSensorDeferred:
    def test_sensor_is_seen_deferred_while_waiting(self, dags: AirflowServer) -> None:
        target_run = dags.trigger(TARGET, conf={"sleep": 25})["dag_run_id"]
        sensing_run = dags.trigger(SENSING, conf={"run_id": target_run})["dag_run_id"]
        states = watch_task(dags, SENSING, sensing_run, "wait")
        assert "deferred" in states, states
        assert states[-1] == "success", states
        assert dags.get_run(TARGET, quote(target_run, safe=""))["state"] == "success"
