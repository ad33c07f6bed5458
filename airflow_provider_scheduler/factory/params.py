"""Spec ``params`` (name -> JSON Schema) -> Airflow ``Param`` objects for ``DAG(params=...)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_scheduler.spec.model import thaw

if TYPE_CHECKING:
    from airflow_provider_scheduler.spec.model import ScheduleSpec


def airflow_params(spec: ScheduleSpec) -> dict[str, Any]:
    """``spec.params`` as Airflow ``Param`` objects (imports Airflow).

    A param without ``default`` gets Airflow's NOTSET: the value must be given at trigger time.
    """
    from airflow.providers.common.compat.sdk import Param

    out = {}
    for name, schema in spec.params.items():
        kwargs = thaw(schema)
        description = kwargs.pop("description", None)
        if "default" in kwargs:
            out[name] = Param(kwargs.pop("default"), description=description, **kwargs)
        else:
            out[name] = Param(description=description, **kwargs)
    return out
