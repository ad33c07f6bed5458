"""A plain Airflow DAG that schedule specs trigger with ``conf``: the "template" DAG.

The spec ``example_dags/specs/ops-nightly-report-run.yaml`` triggers it through the REST API with the
``trigger_remote_dag`` task template and waits for it with the deferrable ``wait_for_dag_run`` sensor.
``conf`` keys: ``region`` (echoed into the report), ``seconds`` (how long the work takes) and ``fail``
(make the run fail, to see how a waiting task reports it).
"""

from __future__ import annotations

import time

import pendulum
from airflow.providers.common.compat.sdk import DAG, Asset, task

#: Updated by every successful report; the analytics.orders-dashboard spec is scheduled on it.
ORDERS_REPORT = Asset("s3://warehouse/reports/orders")

with DAG(
    dag_id="report_template",
    description="Builds a report for the region given in conf; triggered by schedule specs.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    tags=["example", "template"],
):

    @task(outlets=[ORDERS_REPORT])
    def build_report(dag_run=None) -> dict:
        conf = dict(dag_run.conf or {}) if dag_run else {}
        time.sleep(float(conf.get("seconds", 5)))
        if conf.get("fail"):
            raise RuntimeError(f"report for region {conf.get('region')!r} failed, as conf asked")
        return {"region": conf.get("region", "eu"), "rows": 42}

    build_report()
