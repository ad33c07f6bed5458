"""ApplyScheduleSpecsOperator: a folder of specs applied to a real SQLite store (GitOps sync)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from task_runner import make_context

from airflow_provider_scheduler.operators.apply_specs import ApplyScheduleSpecsOperator
from airflow_provider_scheduler.store import open_store

if TYPE_CHECKING:
    from pathlib import Path


def spec_yaml(name: str, *, namespace: str = "qa", cron: str = "0 3 * * *") -> str:
    return (
        f"version: 1\nnamespace: {namespace}\nname: {name}\nschedule: '{cron}'\nstart_date: 2026-01-01\n"
        "tasks:\n  - id: noop\n    template: empty\n"
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "nightly.yaml").write_text(spec_yaml("nightly"))
    (specs / "hourly.yaml").write_text(spec_yaml("hourly", cron="0 * * * *"))
    return specs


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'specs.db'}"


def apply(folder: Path, store_uri: str, **kwargs: Any) -> dict[str, Any]:
    op = ApplyScheduleSpecsOperator(task_id="apply", path=str(folder), store=store_uri, **kwargs)
    return op.execute(make_context("apply"))


class TestApply:
    def test_created_then_unchanged(self, folder: Path, store_uri: str) -> None:
        assert apply(folder, store_uri, author="ci") == {
            "created": ["qa.hourly", "qa.nightly"],
            "updated": [],
            "unchanged": [],
            "deleted": [],
            "revisions": {"qa.hourly": 1, "qa.nightly": 1},
            "preview": False,
        }
        summary = apply(folder, store_uri, author="ci")
        assert summary["unchanged"] == ["qa.hourly", "qa.nightly"]
        assert summary["created"] == summary["updated"] == []
        with open_store(store_uri) as store:
            assert store.require("qa.nightly").author == "ci"
            assert store.require("qa.nightly").revision == 1

    def test_updated_and_pruned(self, folder: Path, store_uri: str) -> None:
        apply(folder, store_uri)
        (folder / "nightly.yaml").write_text(spec_yaml("nightly", cron="30 4 * * *"))
        (folder / "hourly.yaml").unlink()
        summary = apply(folder, store_uri, namespace="qa", prune=True)
        assert summary["updated"] == ["qa.nightly"]
        assert summary["deleted"] == ["qa.hourly"]
        assert summary["revisions"] == {"qa.nightly": 2, "qa.hourly": 2}
        with open_store(store_uri) as store:
            assert store.get("qa.hourly") is None
            assert store.require("qa.nightly").spec["schedule"] == "30 4 * * *"

    def test_prune_leaves_other_namespaces_alone(self, folder: Path, store_uri: str, tmp_path: Path) -> None:
        other = tmp_path / "other"
        other.mkdir()
        (other / "a.yaml").write_text(spec_yaml("report", namespace="finance"))
        apply(other, store_uri)
        apply(folder, store_uri)
        (folder / "hourly.yaml").unlink()
        assert apply(folder, store_uri, namespace="qa", prune=True)["deleted"] == ["qa.hourly"]
        with open_store(store_uri) as store:
            assert store.get("finance.report") is not None

    def test_preview_writes_nothing(self, folder: Path, store_uri: str) -> None:
        summary = apply(folder, store_uri, preview=True)
        assert summary["created"] == ["qa.hourly", "qa.nightly"]
        assert summary["preview"] is True
        with open_store(store_uri) as store:
            assert store.list() == []


class TestRejected:
    def test_invalid_spec_lists_every_problem_and_writes_nothing(self, folder: Path, store_uri: str) -> None:
        from airflow.providers.common.compat.sdk import AirflowFailException

        (folder / "broken.yaml").write_text(spec_yaml("broken").replace("template: empty", "template: nope"))
        with pytest.raises(AirflowFailException) as info:
            apply(folder, store_uri)
        message = str(info.value)
        assert message.startswith(f"1 problem(s) in the specs under {str(folder)!r}; nothing was applied:\n")
        assert f"{folder / 'broken.yaml'}: qa.broken: tasks[0].template:" in message
        with open_store(store_uri) as store:
            assert store.list() == []

    def test_same_dag_id_in_two_files(self, folder: Path, store_uri: str) -> None:
        from airflow.providers.common.compat.sdk import AirflowFailException

        (folder / "copy.yaml").write_text(spec_yaml("nightly"))
        with pytest.raises(AirflowFailException) as info:
            apply(folder, store_uri)
        # the same line validate, apply and diff print
        assert str(info.value).endswith(
            f"\n{folder / 'nightly.yaml'}: qa.nightly: (root): duplicate spec id; "
            f"also defined in {folder / 'copy.yaml'}"
        )

    def test_spec_of_another_namespace(self, folder: Path, store_uri: str) -> None:
        from airflow.providers.common.compat.sdk import AirflowFailException

        with pytest.raises(
            AirflowFailException,
            match=r"qa.hourly: namespace: 'qa' is not the namespace this task applies \('ops'\)",
        ):
            apply(folder, store_uri, namespace="ops")

    def test_missing_path(self, tmp_path: Path, store_uri: str) -> None:
        from airflow.providers.common.compat.sdk import AirflowFailException

        missing = tmp_path / "nowhere"
        with pytest.raises(
            AirflowFailException, match=r"does not exist \(on the worker running this task\)$"
        ):
            apply(missing, store_uri)

    def test_prune_needs_a_namespace(self) -> None:
        with pytest.raises(ValueError, match=r"^prune=True needs namespace=\.\.\."):
            ApplyScheduleSpecsOperator(task_id="a", path="/x", prune=True)


class TestStoreSecretInRenderedFields:
    def test_rendered_store_uri_is_masked(self, folder: Path) -> None:
        """``store`` is templated: Airflow keeps its rendered value through the masker, never in clear."""
        from airflow.providers.common.compat.sdk import redact

        uri = "postgresql://app:{{ params.pw_prefix }}p#w/d?K9w@db.example/specs"
        op = ApplyScheduleSpecsOperator(task_id="apply", path=str(folder), store=uri)
        context = make_context("apply")
        context["params"] = {"pw_prefix": "Zq7"}
        op.render_template_fields(context)
        assert op.store == "postgresql://app:Zq7p#w/d?K9w@db.example/specs"
        shown = str(redact(op.store))
        assert "Zq7" not in shown
        assert "K9w" not in shown
