"""The operators' example DAG parses on Airflow 2.11 and 3.x, with its tasks and existing targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_provider_scheduler.spec import load_spec_file
from airflow_provider_scheduler.spec.files import find_spec_files

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

    def test_targets_what_ships_next_to_it(self) -> None:
        """The target DAG and the GitOps folder ship in example_dags/, so a trigger in the demo succeeds."""
        dag = _dagbag(EXAMPLE).dags["example_scheduler_operators"]
        targets = {
            dag.get_task("unpause_target").target_dag_id,
            dag.get_task("trigger_target").trigger_dag_id,
            dag.get_task("wait_for_latest_run").external_dag_id,
        }
        assert targets == {"report_template"}
        assert "report_template" in _dagbag(EXAMPLE.parent / "example_report_template.py").dags
        apply_specs = dag.get_task("apply_specs")
        folder = Path(apply_specs.path)
        assert folder == EXAMPLE.parent / "specs" / "gitops"
        specs = [spec for path in find_spec_files([folder]) for spec in load_spec_file(path)]
        assert specs
        assert {spec.namespace for spec in specs} == {apply_specs.namespace}
