"""The operators' example DAG parses on the running Airflow (2.11 or 3.x) with the expected tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[3] / "example_dags" / "example_scheduler_operators.py"


def _dagbag(path: Path) -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3
    except ImportError:
        from airflow.models.dagbag import DagBag as DagBag2  # Airflow 2.11

        return DagBag2(dag_folder=str(path), include_examples=False)
    return DagBag(dag_folder=str(path))


class TestExampleSchedulerOperators:
    def test_parses_without_errors(self) -> None:
        bag = _dagbag(EXAMPLE)
        assert bag.import_errors == {}
        dag = bag.dags.get("example_scheduler_operators")
        assert dag is not None
        assert [t.task_id for t in dag.topological_sort()] == [
            "apply_specs",
            "unpause_target",
            "trigger_target",
            "wait_for_latest_run",
        ]

    def test_waiting_tasks_are_deferrable(self) -> None:
        dag = _dagbag(EXAMPLE).dags["example_scheduler_operators"]
        assert dag.get_task("trigger_target").deferrable is True
        assert dag.get_task("trigger_target").wait_for_completion is True
        assert dag.get_task("wait_for_latest_run").deferrable is True
