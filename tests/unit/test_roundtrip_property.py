"""Property test (issue 13): a mutated spec is refused with paths, or it survives every way through.

For each spec Hypothesis derives from a valid one (``tests/unit/spec/test_property.py``'s
``mutated_specs``):

* either ``parse_spec`` refuses it, with problems that all carry a path, and so do the CLI's
  ``validate`` and ``apply`` (exit 1, nothing stored, no traceback);
* or it round-trips: canonical form (JSON, ``parse_spec``, ``ScheduleSpec.from_canonical``), every
  store backend (SQLite, files: written, read back, listed, in history), the CLI (``validate``,
  ``apply``, ``export`` as YAML or JSON, and that export re-``apply``-ed into the same store and into
  both backends: unchanged, at revision 1), and ``build_dag`` builds the DAG with its tasks.

The PostgreSQL backend runs the same store contract in ``tests/integration/store``. Bounded: 60
examples, no deadline, so it runs in well under 30 s.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "spec"))
from test_property import POLICY, REGISTRY, mutated_specs

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.factory.build import build_dag
from airflow_provider_scheduler.spec import ScheduleSpec, SpecError, parse_spec
from airflow_provider_scheduler.spec.catalog import default_catalog
from airflow_provider_scheduler.spec.model import for_each_items_task_id
from airflow_provider_scheduler.spec.policy import default_policy
from airflow_provider_scheduler.store import open_store
from airflow_provider_scheduler.templates.registry import default_registry

if TYPE_CHECKING:
    from collections.abc import Iterator

#: the deployment the CLI reads: the same templates and connections as ``REGISTRY``
DEPLOYMENT = {
    "AIRFLOW__SCHEDULE_SPECS__HTTP_CONNECTIONS": "reports_api",
    "AIRFLOW__SCHEDULE_SPECS__WEBHOOK_CONNECTIONS": "chat",
    "AIRFLOW__SCHEDULE_SPECS__POOLS": '{"*": ["default_pool"]}',
}


@pytest.fixture(scope="module", autouse=True)
def _deployment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in DEPLOYMENT.items():
            patch.setenv(key, value)
        _clear_caches()
        yield
    _clear_caches()


def _clear_caches() -> None:
    """Forget the registry, catalog and policy other tests' configuration built."""
    default_registry.cache_clear()
    default_catalog.cache_clear()
    default_policy.cache_clear()


def cli(*argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; any exception (a traceback for a user) fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


def as_json(data: Any) -> str | None:
    """The document as JSON text, or None when it holds values JSON cannot carry (bytes, sets, dates)."""
    try:
        return json.dumps(data, allow_nan=True)
    except (TypeError, ValueError):
        return None


def check_refused(data: Any, error: SpecError, tmp: Path) -> None:
    assert error.problems
    for problem in error.problems:
        assert isinstance(problem.path, str)
        assert problem.message
    text = as_json(data)
    if text is None:
        return
    path = tmp / "spec.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    code, _, err = cli("validate", str(path))
    assert code == 1
    lines = err.splitlines()
    assert lines
    assert all(line.startswith(f"{path}: ") and line.count(": ") >= 3 for line in lines), lines
    database = tmp / "refused.db"
    code, _, _ = cli("apply", str(path), "--store", f"sqlite:///{database}")
    assert code == 1
    assert not database.exists()  # refused before the store was even opened: nothing stored


def check_round_trip(data: Any, spec: ScheduleSpec, tmp: Path, formats: tuple[str, ...] = ("yaml",)) -> None:
    canonical = json.loads(json.dumps(spec.to_dict(), allow_nan=False))
    assert parse_spec(canonical, registry=REGISTRY, policy=POLICY) == spec
    assert ScheduleSpec.from_canonical(canonical) == spec

    (tmp / "files").mkdir()
    backends = (f"sqlite:///{tmp / 'store.db'}", f"file://{tmp / 'files'}")
    for uri in backends:
        with open_store(uri, registry=REGISTRY, policy=POLICY) as store:
            assert store.put(spec, author="prop") == 1
            assert store.put(canonical, author="prop") == 1  # the same spec: no new revision
            stored = store.require(spec.dag_id)
            assert stored.spec == canonical
            assert ScheduleSpec.from_canonical(stored.spec) == spec
            assert [s.id for s in store.list()] == [spec.dag_id]
            assert [r.revision for r in store.history(spec.dag_id)] == [1]

    dag = build_dag(spec, REGISTRY, policy=POLICY)
    assert dag.dag_id == spec.dag_id
    steps = [for_each_items_task_id(task.id) for task in spec.tasks if task.for_each_param]
    assert sorted(dag.task_ids) == sorted([*(task.id for task in spec.tasks), *steps])

    text = as_json(data)
    if text is None:  # e.g. a date object: the Python API's input, not a file's
        return
    path = tmp / "spec.json"
    path.write_text(text, encoding="utf-8")
    code, _, err = cli("validate", str(path))
    assert code == 0, err
    uri = f"sqlite:///{tmp / 'cli.db'}"
    code, out, err = cli("apply", str(path), "--store", uri, "--author", "prop")
    assert code == 0, err
    assert out.endswith(f"applied {spec.dag_id} as revision 1\n")
    for fmt in formats:
        code, exported, _ = cli("export", "--store", uri, *(["--json"] if fmt == "json" else []))
        assert code == 0
        export_file = tmp / f"export.{fmt}"
        export_file.write_text(exported, encoding="utf-8")
        # back into the store it came from, and into the file store holding the same spec
        for target in (uri, backends[1]):
            code, out, _ = cli("apply", str(export_file), "--store", target)
            assert (code, out) == (0, f"unchanged {spec.dag_id} at revision 1\n")
    with open_store(uri) as store:
        assert store.require(spec.dag_id).spec == canonical


class TestRoundTrip:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated_specs())
    def test_refused_with_paths_or_round_trips_everywhere(self, data: Any) -> None:
        with tempfile.TemporaryDirectory(prefix="roundtrip-") as tmp:
            try:
                spec = parse_spec(data, registry=REGISTRY, policy=POLICY)
            except SpecError as error:  # any other exception fails the test
                check_refused(data, error, Path(tmp))
                return
            check_round_trip(data, spec, Path(tmp), formats=("json",) if len(spec.dag_id) % 2 else ("yaml",))

    def test_the_unmutated_spec_takes_the_whole_way(self, tmp_path: Path) -> None:
        # the valid path must really be exercised (both export formats), whatever Hypothesis draws
        from spec_samples import VALID

        spec = parse_spec(VALID, registry=REGISTRY, policy=POLICY)
        check_round_trip(VALID, spec, tmp_path, formats=("yaml", "json"))

    def test_a_fan_out_spec_takes_the_whole_way(self, tmp_path: Path) -> None:
        from spec_samples import VALID

        data = json.loads(json.dumps(VALID))
        data["params"]["regions"] = {"type": "array", "items": {"type": "string"}, "default": ["eu"]}
        data["tasks"][0]["for_each"] = "{{ params.regions }}"
        data["tasks"][0]["with"]["conf"] = {"region": "{{ item }}"}
        data["tasks"][1]["for_each"] = ["eu", {"code": "us", "n": 2}]
        spec = parse_spec(data, registry=REGISTRY, policy=POLICY)
        assert spec.tasks[0].for_each_param == "regions"
        check_round_trip(data, spec, tmp_path, formats=("yaml", "json"))
