"""Spec ``params`` (name -> JSON Schema) -> Airflow ``Param`` objects for ``DAG(params=...)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.model import thaw

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.model import ScheduleSpec


def airflow_params(spec: ScheduleSpec, *, max_map_length: int | None = None) -> dict[str, Any]:
    """``spec.params`` as Airflow ``Param`` objects (imports Airflow).

    A param without ``default`` gets Airflow's NOTSET: the value must be given at trigger time.

    :param max_map_length: ``[schedule_specs] max_map_length``: a param a task fans out over
        (``for_each: "{{ params.NAME }}"``) gets ``maxItems`` at most this, so Airflow refuses a longer
        list when the run is triggered (the task's list step checks it again when the run starts).
    """
    from airflow.providers.common.compat.sdk import Param

    fanned = {t.for_each_param for t in spec.tasks} if max_map_length is not None else set()
    out = {}
    for name, schema in spec.params.items():
        kwargs = thaw(schema)
        if max_map_length is not None and name in fanned:
            kwargs["maxItems"] = min(kwargs.get("maxItems", max_map_length), max_map_length)
        description = kwargs.pop("description", None)
        if "default" in kwargs:
            out[name] = Param(kwargs.pop("default"), description=description, **kwargs)
        else:
            out[name] = Param(description=description, **kwargs)
    return out
