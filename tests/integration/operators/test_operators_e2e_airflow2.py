"""End to end on a real Airflow 2.11 (REST API v1, basic auth): the deferrable trigger operator.

Runs in the Airflow 2.11 virtualenv with the shared ``airflow2`` session fixture (webserver, scheduler,
triggerer on 127.0.0.1; its ``scheduler_default`` connection points at itself with ``api_version=v1``).
Shows that the deferral path (TaskDeferred, the trigger in 2.11's triggerer, execute_complete) works
on 2.11 as on 3.x.

Note: the 2.11 SequentialExecutor starts ``airflow tasks run`` from PATH, so run these tests with the
2.11 virtualenv's ``bin`` first on PATH (``PATH=.venvs/af211/bin:$PATH``).
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

if TYPE_CHECKING:
    from local_airflow import Airflow2Server

pytestmark = pytest.mark.integration

SUFFIX = uuid.uuid4().hex[:8]
TARGET = f"ops_it2_target_{SUFFIX}"
PARENT = f"ops_it2_parent_{SUFFIX}"

TARGET_DAG = f'''
from __future__ import annotations

import datetime
import time

from airflow import DAG
from airflow.operators.python import PythonOperator


def work(**context):
    conf = context["dag_run"].conf or {{}}
    time.sleep(float(conf.get("sleep", 0)))
    if str(conf.get("fail")) == "True":
        raise RuntimeError("asked to fail by conf")


with DAG(
    dag_id="{TARGET}",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
) as dag:
    PythonOperator(task_id="work", python_callable=work, retries=0)
'''

PARENT_DAG = f'''
from __future__ import annotations

import datetime

from airflow import DAG

from airflow_provider_scheduler.operators.trigger_dag_run import SchedulerTriggerDagRunOperator

with DAG(
    dag_id="{PARENT}",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    catchup=False,
    params={{"fail": False}},
) as dag:
    SchedulerTriggerDagRunOperator(
        task_id="trigger",
        trigger_dag_id="{TARGET}",
        conf={{"source": "{PARENT}", "fail": "{{{{ params.fail }}}}"}},
        wait_for_completion=True,
        deferrable=True,
        poke_interval=2,
        timeout=300,
        retries=0,
    )
'''


def ti_state(airflow2: Airflow2Server, dag_id: str, run_id: str, task_id: str) -> str | None:
    resp = airflow2.api(
        "GET", f"/api/v1/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}"
    )
    return resp.json().get("state") if resp.ok else None


def watch_task(
    airflow2: Airflow2Server, dag_id: str, run_id: str, task_id: str, timeout: float = 300
) -> list[Any]:
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = ti_state(airflow2, dag_id, run_id, task_id)
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in ("success", "failed", "skipped", "upstream_failed"):
            return seen
        time.sleep(0.5)
    raise AssertionError(
        f"{dag_id}.{task_id} not finished after {timeout}s: {seen}\n{airflow2.log_tails(30)}"
    )


@pytest.fixture(scope="module")
def dags(airflow2: Airflow2Server) -> Airflow2Server:
    airflow2.add_dag_file(f"{TARGET}.py", TARGET_DAG)
    airflow2.add_dag_file(f"{PARENT}.py", PARENT_DAG)
    for dag_id in (TARGET, PARENT):
        airflow2.wait_for_dag(dag_id, timeout=180)
        airflow2.api(
            "PATCH", f"/api/v1/dags/{dag_id}", params={"update_mask": "is_paused"}, json={"is_paused": False}
        )
    return airflow2


class TestTriggerOperatorDeferredOnAirflow2:
    def test_deferred_then_success_and_the_target_run_carries_the_conf(self, dags: Airflow2Server) -> None:
        parent_run = dags.trigger(PARENT, conf={"fail": False})["dag_run_id"]
        states = watch_task(dags, PARENT, parent_run, "trigger")
        assert "deferred" in states, states
        assert states[-1] == "success", states
        target_run_id = f"triggered_by__{PARENT}__{parent_run}__trigger"
        target_run = dags.get_run(TARGET, quote(target_run_id, safe=""))
        assert target_run["state"] == "success"
        assert target_run["conf"] == {"source": PARENT, "fail": "False"}

    def test_failing_target_fails_the_waiting_task_naming_the_remote_run(self, dags: Airflow2Server) -> None:
        parent_run = dags.trigger(PARENT, conf={"fail": True})["dag_run_id"]
        states = watch_task(dags, PARENT, parent_run, "trigger")
        assert "deferred" in states, states
        assert states[-1] == "failed", states
        target_run_id = f"triggered_by__{PARENT}__{parent_run}__trigger"
        resp = dags.api(
            "GET",
            f"/api/v1/dags/{PARENT}/dagRuns/{quote(parent_run, safe='')}/taskInstances/trigger/logs/1",
            params={"full_content": "true"},
            headers={"Accept": "text/plain"},
        )
        assert resp.status_code == 200, resp.text
        log = resp.text
        assert f"DAG run '{TARGET}'/'{target_run_id}' ended in state 'failed'" in log, log[-3000:]
