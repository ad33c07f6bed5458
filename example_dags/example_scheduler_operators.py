"""Example: drive an Airflow deployment (this one or another) from a DAG.

What it shows, in order:

1. ``ApplyScheduleSpecsOperator`` applies the spec files of a folder (e.g. a git checkout; here
   ``specs/gitops/`` next to this file) to the spec store; ``prune=True`` deletes the namespace's specs
   whose files were removed. Its return value (XCom) is the summary: created / updated / unchanged /
   deleted. The DAG ``gitops.daily-check`` appears once it has run.
2. ``SchedulerPauseDagOperator`` unpauses the target DAG (a paused DAG accepts runs but never starts
   them).
3. ``SchedulerTriggerDagRunOperator`` triggers the target DAG with a conf and waits for the run in the
   triggerer (``deferrable=True``): the worker slot is free while waiting. The run id is deterministic
   (derived from this task instance), so a retry does not start a second run. The run's URL is an
   extra link ("Remote DAG run") and an XCom (``run_url``).
4. ``SchedulerDagRunSensor`` (deferrable) waits for the latest run of another DAG to succeed, failing
   at once if it failed.

Every task talks to the deployment named by the ``scheduler_default`` connection (type "Scheduler":
host = API URL, login/password). Point ``scheduler_conn_id`` at another connection to drive another
deployment. The outcome is the same with ``deferrable=False`` (then a worker slot waits).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_scheduler.operators.apply_specs import ApplyScheduleSpecsOperator
from airflow_provider_scheduler.operators.pause_dag import SchedulerPauseDagOperator
from airflow_provider_scheduler.operators.trigger_dag_run import SchedulerTriggerDagRunOperator
from airflow_provider_scheduler.sensors.dag_run import SchedulerDagRunSensor

#: The hand-written DAG next to this file (example_report_template.py).
TARGET_DAG_ID = "report_template"
#: The folder that is the truth for namespace "gitops"; it must exist on the worker running apply_specs.
GITOPS_SPECS = Path(__file__).resolve().parent / "specs" / "gitops"

with DAG(
    dag_id="example_scheduler_operators",
    description="Apply specs, unpause a DAG, trigger it and wait (deferrable), wait for another DAG's run",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    catchup=False,
    tags=["example", "scheduler-provider"],
    params={"region": "eu"},
) as dag:
    # 1. GitOps: the folder is the truth for namespace "gitops" (run on a worker that has the files).
    apply_specs = ApplyScheduleSpecsOperator(
        task_id="apply_specs",
        path=str(GITOPS_SPECS),
        namespace="gitops",
        prune=True,
        author="git:{{ dag_run.run_id }}",
    )

    # 2. Make sure the target DAG can run.
    unpause = SchedulerPauseDagOperator(task_id="unpause_target", target_dag_id=TARGET_DAG_ID, paused=False)

    # 3. Trigger it with a conf and wait in the triggerer. trigger_dag_id, conf, run_id, logical_date
    #    and note are templated.
    trigger = SchedulerTriggerDagRunOperator(
        task_id="trigger_target",
        trigger_dag_id=TARGET_DAG_ID,
        conf={"region": "{{ params.region }}", "requested_by": "{{ dag.dag_id }}"},
        note="Triggered by {{ dag.dag_id }} / {{ run_id }}",
        wait_for_completion=True,
        deferrable=True,
        poke_interval=10,
        timeout=3600,
        failed_states=["failed"],
    )

    # 4. Wait (deferrable) for the latest run of another DAG; soft_fail would skip instead of failing.
    wait_for_other = SchedulerDagRunSensor(
        task_id="wait_for_latest_run",
        external_dag_id=TARGET_DAG_ID,
        allowed_states=["success"],
        failed_states=["failed"],
        deferrable=True,
        poke_interval=30,
        timeout=2 * 3600,
    )

    apply_specs >> unpause >> trigger >> wait_for_other
