"""End to end on a real Airflow 3.3: a spec pinned to template@1 builds the same DAG after the default
moves to @2.

The platform team's way, as the README documents it: ``templates.register(TaskTemplate(...))`` in code
the DAG processor imports. Here that is a loader file of this test's own in the shared deployment's
dags folder, which registers a template name only this test uses (``it_versions_probe``) and loads a
spec store of its own, so no other test sees the template, the store or its loader status. Version 1
builds an ``EmptyOperator``, version 2 a ``BashOperator``. The test stores spec A while only @1 exists
(``template: it_versions_probe``, stored as ``@1``), rewrites the loader file to register @2 as well
(the default moves to @2), waits until the loader parsed with it, stores spec B (no ``@``: it gets @2),
and checks through the REST API that B's task is a ``BashOperator`` while A's is still an
``EmptyOperator``.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.integration

TEMPLATE = "it_versions_probe"

#: the templates, as the loader file registers them (also exec'd here to validate the test's writes)
TEMPLATES_CODE = f'''
from airflow_provider_scheduler.templates import TaskTemplate, register


def _build_v1(*, task_id, with_, **kwargs):
    from airflow.providers.standard.operators.empty import EmptyOperator

    return EmptyOperator(task_id=task_id, doc_md="probe v1", **kwargs)


def _build_v2(*, task_id, with_, **kwargs):
    from airflow.providers.standard.operators.bash import BashOperator

    return BashOperator(task_id=task_id, bash_command="echo probe v2", doc_md="probe v2", **kwargs)


SCHEMA = {{"type": "object", "additionalProperties": False, "properties": {{}}}}
PROBES = [
    TaskTemplate("{TEMPLATE}", version=1, description="probe v1", with_schema=SCHEMA, builder=_build_v1),
    TaskTemplate("{TEMPLATE}", version=2, description="probe v2", with_schema=SCHEMA, builder=_build_v2),
][:VERSIONS]
'''

LOADER = """# airflow DAG file: the template-versions e2e test's loader (airflow-provider-scheduler)
VERSIONS = {versions}
STORE = {store!r}
{templates}
for probe in PROBES:
    register(probe)

from airflow_provider_scheduler.factory import load_schedules

load_schedules(globals(), store=STORE, pause_sync_conn_id=None)
"""


def _wait(what: str, check: Callable[[], Any], timeout: float = 180, interval: float = 2) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def _registry(versions: int) -> Any:
    """The registry the deployment's loader has with ``versions`` probe versions registered."""
    from airflow_provider_scheduler.templates import TemplateRegistry
    from airflow_provider_scheduler.templates.builtins import builtin_templates

    scope: dict[str, Any] = {"VERSIONS": versions}
    exec(TEMPLATES_CODE, scope)  # the test's own constant text, as the loader file runs it
    return TemplateRegistry([*builtin_templates(), *scope["PROBES"]])


def _spec(ns: str, name: str) -> dict[str, Any]:
    return {
        "version": 1,
        "namespace": ns,
        "name": name,
        "schedule": None,
        "tasks": [
            {"id": "probe", "template": TEMPLATE},
            {"id": "after", "template": "empty", "depends_on": ["probe"]},
        ],
    }


def _put(store_uri: str, versions: int, *specs: dict[str, Any]) -> None:
    from airflow_provider_scheduler.store import open_store

    store = open_store(store_uri, registry=_registry(versions))
    try:
        store.put_many(list(specs), author="it")
    finally:
        store.close()


def _stored_template(store_uri: str, spec_id: str) -> str:
    from airflow_provider_scheduler.store import open_store

    store = open_store(store_uri)
    try:
        stored = store.get(spec_id)
        assert stored is not None
        return str(stored.spec["tasks"][0]["template"])
    finally:
        store.close()


def _operators(airflow: Any, dag_id: str) -> dict[str, tuple[str | None, str | None]] | None:
    resp = airflow.api("GET", f"/api/v2/dags/{dag_id}/tasks")
    if resp.status_code != 200:
        return None
    return {
        t["task_id"]: (t.get("operator_name"), (t.get("class_ref") or {}).get("class_name"))
        for t in resp.json()["tasks"]
    }


def _statuses(airflow: Any, store_uri: str) -> list[dict[str, Any]]:
    from airflow_provider_scheduler.factory.status import read_statuses

    return list(read_statuses(store_uri, airflow.home))


def test_a_spec_pinned_to_template_v1_builds_the_same_dag_after_the_default_moves_to_v2(
    airflow: Any, tmp_path: Path
) -> None:
    ns = f"tv{uuid.uuid4().hex[:8]}"
    store_uri = f"sqlite:///{tmp_path / 'versions-e2e.db'}"
    loader_name = f"template_versions_{ns}.py"
    loader_path = airflow.dags_folder / loader_name
    pinned, fresh = f"{ns}.pinned", f"{ns}.fresh"
    try:
        # Only @1 exists: spec A, written without "@", is stored pinned to @1 and built from it.
        _put(store_uri, 1, _spec(ns, "pinned"))
        assert _stored_template(store_uri, pinned) == f"{TEMPLATE}@1"
        airflow.add_dag_file(
            loader_name, LOADER.format(versions=1, store=store_uri, templates=TEMPLATES_CODE)
        )
        airflow.wait_for_dag(pinned, timeout=180)
        before = _wait(f"the tasks of {pinned}", lambda: _operators(airflow, pinned))
        assert before["probe"] == ("EmptyOperator", "EmptyOperator"), before

        # The platform team registers @2: the highest version, so the default moves to it.
        moved_at = datetime.now(UTC).isoformat(timespec="seconds")
        time.sleep(1)
        airflow.add_dag_file(
            loader_name, LOADER.format(versions=2, store=store_uri, templates=TEMPLATES_CODE)
        )

        def parsed_after_the_move() -> bool:
            return any(
                str(s.get("parsed_at") or "") > moved_at and s.get("loader", "").endswith(loader_name)
                for s in _statuses(airflow, store_uri)
            )

        _wait("the loader to parse with @2 registered", parsed_after_the_move)
        # Spec B, written now without "@", gets the new default; the same loader parse builds both.
        _put(store_uri, 2, _spec(ns, "fresh"))
        assert _stored_template(store_uri, fresh) == f"{TEMPLATE}@2"
        airflow.wait_for_dag(fresh, timeout=180)
        after_fresh = _wait(f"the tasks of {fresh}", lambda: _operators(airflow, fresh))
        assert after_fresh["probe"] == ("BashOperator", "BashOperator"), after_fresh

        # A spec stored against @1 builds the same DAG: its task is still the @1 operator.
        after = _operators(airflow, pinned)
        assert after == before, (before, after)
        details = airflow.api("GET", f"/api/v2/dags/{pinned}/tasks/probe").json()
        assert details["doc_md"] == "probe v1", details
        # ... and the loader reported no problem with either spec.
        [status] = [s for s in _statuses(airflow, store_uri) if s.get("loader", "").endswith(loader_name)]
        assert status["errors"] == {}, json.dumps(status, indent=1)
        assert sorted(status["dag_ids"]) == sorted([pinned, fresh])
    finally:
        from airflow_provider_scheduler.factory.snapshot import snapshot_path

        loader_path.unlink(missing_ok=True)
        for status in _statuses(airflow, store_uri):  # leave no status file for `status` to list
            if status.get("status_file"):
                Path(status["status_file"]).unlink(missing_ok=True)
        snapshot_path(store_uri, airflow.home).unlink(missing_ok=True)
