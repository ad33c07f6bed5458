"""Versioned templates (issue 16): ``template: name@N``, default versions, retired versions, the pin.

A spec validated against a version keeps building it when the default moves; a spec stored before
templates had versions (no ``@``) means ``@1``; a retired version is refused on write and reported by
the loader instead of being replaced; an unknown version is refused with the versions there are.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_scheduler.cli.templates import add_templates_command, describe_templates
from airflow_provider_scheduler.factory.build import SpecBuildError, build_dag
from airflow_provider_scheduler.factory.loader import policy_digest
from airflow_provider_scheduler.spec import GovernancePolicy, ScheduleSpec, SpecError, parse_spec
from airflow_provider_scheduler.spec.canonical import pin_template_versions
from airflow_provider_scheduler.spec.json_schema import spec_json_schema
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates
from airflow_provider_scheduler.templates.registry import (
    NotificationTemplate,
    TaskTemplate,
    TemplateRegistry,
    registry_from_settings,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "factory"))
from factory_helpers import Env, dagbag

POLICY = GovernancePolicy()


def _build_v1(*, task_id: str, with_: dict[str, Any], **kwargs: Any) -> Any:
    from airflow.providers.common.compat.sdk import BaseOperator

    return BaseOperator(task_id=task_id, doc_md=f"probe v1 {with_.get('size', 'm')}", **kwargs)


def _build_v2(*, task_id: str, with_: dict[str, Any], **kwargs: Any) -> Any:
    from airflow.providers.common.compat.sdk import BaseOperator

    return BaseOperator(task_id=task_id, doc_md=f"probe v2 {with_['colour']}", **kwargs)


#: version 1 takes an optional ``size``; version 2 requires ``colour`` (a spec of @1 is not valid @2)
PROBE_V1 = TaskTemplate(
    "probe",
    version=1,
    description="probe, first version",
    with_schema={"type": "object", "additionalProperties": False, "properties": {"size": {"type": "string"}}},
    builder=_build_v1,
)
PROBE_V2 = TaskTemplate(
    "probe",
    version=2,
    description="probe, second version",
    with_schema={
        "type": "object",
        "additionalProperties": False,
        "required": ["colour"],
        "properties": {"colour": {"type": "string"}},
    },
    builder=_build_v2,
)
BELL_V1 = NotificationTemplate(
    "bell",
    version=1,
    description="bell v1",
    with_schema={"type": "object", "properties": {}},
    builder=lambda *, with_, event, spec=None: ("bell", 1, event),
)
BELL_V2 = NotificationTemplate(
    "bell",
    version=2,
    description="bell v2",
    with_schema={"type": "object", "properties": {}},
    builder=lambda *, with_, event, spec=None: ("bell", 2, event),
)


def _registry(*templates: Any, **kwargs: Any) -> TemplateRegistry:
    return TemplateRegistry([*builtin_templates(), *templates], **kwargs)


def _spec(template: str = "probe", with_: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": 1,
        "namespace": "team",
        "name": "probe",
        "schedule": None,
        "tasks": [{"id": "a", "template": template, "with": with_ or {}}],
    }
    spec.update(extra)
    return spec


def _problems(data: dict[str, Any], registry: TemplateRegistry) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as err:
        parse_spec(data, catalog=registry, policy=POLICY)
    return [(p.path, p.message) for p in err.value.problems]


class TestParse:
    def test_a_name_without_version_gets_the_default_and_the_canonical_form_records_it(self):
        registry = _registry(PROBE_V1)
        spec = parse_spec(_spec(), catalog=registry, policy=POLICY)
        assert (spec.tasks[0].template, spec.tasks[0].template_version) == ("probe", 1)
        assert spec.to_dict()["tasks"][0]["template"] == "probe@1"
        registry.register(PROBE_V2)  # the highest version is the default now
        spec = parse_spec(_spec(with_={"colour": "red"}), catalog=registry, policy=POLICY)
        assert spec.to_dict()["tasks"][0]["template"] == "probe@2"

    def test_a_pinned_version_is_kept_and_checked_against_its_own_schema(self):
        registry = _registry(PROBE_V1, PROBE_V2)
        spec = parse_spec(_spec("probe@1", {"size": "s"}), catalog=registry, policy=POLICY)
        assert spec.tasks[0].template_version == 1
        # the same with under @2 is wrong there: its schema is @2's
        assert _problems(_spec("probe@2", {"size": "s"}), registry) == [
            ("tasks[0].with.size", "unknown key 'size'; allowed keys: colour"),
            ("tasks[0].with.colour", "is required"),
        ]

    @pytest.mark.parametrize("template", ["probe@1", "probe@2", "probe"])
    def test_round_trips_hold(self, template):
        registry = _registry(PROBE_V1, PROBE_V2)
        with_ = {"size": "l"} if template == "probe@1" else {"colour": "blue"}
        spec = parse_spec(_spec(template, with_), catalog=registry, policy=POLICY)
        assert parse_spec(spec.to_dict(), catalog=registry, policy=POLICY) == spec
        assert ScheduleSpec.from_canonical(spec.to_dict(), catalog=registry, policy=POLICY) == spec
        assert parse_spec(json.loads(json.dumps(spec.to_dict())), catalog=registry, policy=POLICY) == spec

    def test_an_unknown_version_is_refused_with_the_versions_there_are(self):
        registry = _registry(PROBE_V1, PROBE_V2)
        assert _problems(_spec("probe@9"), registry) == [
            (
                "tasks[0].template",
                "the task template 'probe' has no version 9; available: probe@1, probe@2 (default)",
            )
        ]
        assert _problems(_spec("http_request@2", {"conn_id": "x"}), registry)[0] == (
            "tasks[0].template",
            "the task template 'http_request' has no version 2; available: http_request@1 (default)",
        )

    @pytest.mark.parametrize(
        "text", ["probe@", "probe@0", "probe@x", "probe@1@2", "@1", "probe@01", "probe@1234567"]
    )
    def test_a_malformed_reference_is_refused_with_the_form(self, text):
        [(path, message)] = _problems(_spec(text), _registry(PROBE_V1))
        assert path == "tasks[0].template"
        assert message.startswith(f"{text!r} is not a template name: write NAME, or NAME@VERSION")

    def test_an_unknown_name_with_a_version_gets_a_did_you_mean_on_the_name(self):
        [(path, message)] = _problems(_spec("prob@1"), _registry(PROBE_V1))
        assert path == "tasks[0].template"
        assert message.startswith("unknown task template 'prob' (did you mean 'probe'?)")

    def test_a_retired_version_is_refused_on_write_naming_it_and_what_to_use(self):
        registry = _registry(PROBE_V1, PROBE_V2, retired=["probe@1"])
        assert _problems(_spec("probe@1"), registry) == [
            (
                "tasks[0].template",
                "probe@1 is retired on this deployment; use probe@2 (the default version, which 'probe' "
                "without @ means)",
            )
        ]
        spec = parse_spec(_spec("probe", {"colour": "red"}), catalog=registry, policy=POLICY)
        assert spec.tasks[0].template_version == 2

    def test_the_default_is_the_highest_live_version_unless_set(self):
        registry = _registry(PROBE_V1, PROBE_V2)
        assert registry.default_version("probe") == 2
        registry.set_default_version("probe", 1)
        assert parse_spec(_spec(), catalog=registry, policy=POLICY).tasks[0].template_version == 1
        registry.retire("probe@1")  # a retired default is not used: the highest live one is
        assert registry.default_version("probe") == 2
        assert registry.default_version_problem("probe") == "the default version 1 of 'probe' is retired"
        registry.retire("probe@2")
        assert registry.default_version("probe") is None
        assert _problems(_spec(), registry) == [
            (
                "tasks[0].template",
                "every version of the task template 'probe' is retired on this deployment (probe@1, probe@2)",
            )
        ]

    def test_all_problems_at_once(self):
        registry = _registry(PROBE_V1, PROBE_V2, retired=["probe@1"])
        data = _spec("probe@1")
        data["tasks"] += [
            {"id": "b", "template": "probe@7"},
            {"id": "c", "template": "empty@x"},
            {"id": "d", "template": "empty@1"},
        ]
        paths = [p for p, _ in _problems(data, registry)]
        assert paths == ["tasks[0].template", "tasks[1].template", "tasks[2].template"]

    def test_notifications_take_versions_too(self):
        registry = _registry(BELL_V1, BELL_V2)
        data = _spec(
            "empty", notify={"on_failure": [{"template": "bell@1"}], "on_success": [{"template": "bell"}]}
        )
        spec = parse_spec(data, catalog=registry, policy=POLICY)
        assert [n.template_ref for n in (*spec.notify.on_failure, *spec.notify.on_success)] == [
            "bell@1",
            "bell@2",
        ]
        assert spec.to_dict()["notify"]["on_failure"] == [{"template": "bell@1", "with": {}}]
        assert ScheduleSpec.from_canonical(spec.to_dict()) == spec
        assert parse_spec(spec.to_dict(), catalog=registry, policy=POLICY) == spec
        bad = _spec("empty", notify={"on_failure": [{"template": "bell@3"}]})
        assert _problems(bad, registry) == [
            (
                "notify.on_failure[0].template",
                "the notification template 'bell' has no version 3; available: bell@1, bell@2 (default)",
            )
        ]

    def test_a_catalog_without_versions_has_version_1_only(self):
        from catalog_stub import Stub

        from airflow_provider_scheduler.spec.catalog import CatalogEntry

        stub = Stub(CatalogEntry("noop", with_schema={"type": "object"}))
        data = _spec("noop", namespace="qa")
        assert parse_spec(data, catalog=stub, policy=POLICY).tasks[0].template_version == 1
        assert (
            parse_spec(_spec("noop@1", namespace="qa"), catalog=stub, policy=POLICY).to_dict()["tasks"][0][
                "template"
            ]
            == "noop@1"
        )
        with pytest.raises(SpecError, match="has no version 2; versions: 1"):
            parse_spec(_spec("noop@2", namespace="qa"), catalog=stub, policy=POLICY)


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "spec"))


class TestStoredBeforeVersions:
    """Canonical dicts written before this change: ``"template": "probe"`` (no ``@``) is ``@1``."""

    def _old_canonical(self) -> dict[str, Any]:
        data = parse_spec(
            _spec("probe@1", {"size": "s"}), catalog=_registry(PROBE_V1), policy=POLICY
        ).to_dict()
        data["tasks"][0]["template"] = "probe"  # as stored before versions existed
        return data

    def test_the_trusted_path_reads_a_bare_name_as_version_1_whatever_the_default(self):
        registry = _registry(PROBE_V1, PROBE_V2)  # default: 2
        spec = ScheduleSpec.from_canonical(self._old_canonical(), catalog=registry, policy=POLICY)
        assert spec.tasks[0].template_version == 1
        assert build_dag(spec, registry).task_dict["a"].doc_md == "probe v1 s"

    def test_the_fallback_through_parse_spec_pins_too(self):
        registry = _registry(PROBE_V1, PROBE_V2)
        data = self._old_canonical()
        del data["defaults"]  # not in canonical shape: the full parser reads it
        spec = ScheduleSpec.from_canonical(data, catalog=registry, policy=POLICY)
        assert spec.tasks[0].template_version == 1

    def test_pin_template_versions(self):
        data = self._old_canonical()
        data["notify"]["on_retry"] = [{"template": "email", "with": {}}, {"template": "bell@2", "with": {}}]
        pinned = pin_template_versions(data)
        assert pinned["tasks"][0]["template"] == "probe@1"
        assert [n["template"] for n in pinned["notify"]["on_retry"]] == ["email@1", "bell@2"]
        assert data["tasks"][0]["template"] == "probe"  # a copy, the input is left alone
        assert pin_template_versions(pinned) is pinned  # nothing to pin: the same object
        assert pin_template_versions({"tasks": "x"}) == {"tasks": "x"}
        late = {"after": "PT1H", "from": "queued", "notify": [{"template": "email", "with": {}}]}
        assert pin_template_versions({"tasks": [], "deadline": late})["deadline"]["notify"][0][
            "template"
        ] == ("email@1")
        assert pin_template_versions(None) is None

    def test_reapplying_an_old_spec_unchanged_writes_nothing(self, tmp_path):
        from airflow_provider_scheduler.store import open_store
        from airflow_provider_scheduler.store.apply import Action, plan_apply

        registry = _registry(PROBE_V1)
        store = open_store(f"sqlite:///{tmp_path / 's.db'}", registry=registry, policy=POLICY)
        try:
            store.put_many([_spec("probe", {"size": "s"})], author="t")
            # make the row look like one stored before versions: no "@"
            _rewrite_rows(f"sqlite:///{tmp_path / 's.db'}", bare=True)
            assert store.get("team.probe").spec["tasks"][0]["template"] == "probe"
            plan = plan_apply(store, [_spec("probe", {"size": "s"})])
            assert [(c.action, c.diff) for c in plan.changes] == [(Action.UNCHANGED, "")]
            plan = plan_apply(store, [_spec("probe", {"size": "xl"})])
            assert plan.changes[0].action is Action.UPDATE
            changed = [line for line in plan.changes[0].diff.splitlines() if line[:1] in "+-"]
            assert not any("template" in line for line in changed), changed
        finally:
            store.close()


def test_show_prints_an_old_spec_with_its_version(tmp_path):
    """``show`` / ``export`` / ``edit`` documents of a spec stored before versions name ``@1``."""
    from airflow_provider_scheduler.cli.store_commands import with_base_revision
    from airflow_provider_scheduler.store import open_store

    uri = f"sqlite:///{tmp_path / 's.db'}"
    registry = _registry(PROBE_V1)
    store = open_store(uri, registry=registry, policy=POLICY)
    try:
        store.put_many([_spec("probe", {"size": "s"})], author="t")
        _rewrite_rows(uri, bare=True)
        stored = store.get("team.probe")
        assert stored.spec["tasks"][0]["template"] == "probe"
        document = with_base_revision(stored)
        assert document["tasks"][0]["template"] == "probe@1"
        registry.register(PROBE_V2)  # applied back after the default moved: still @1, unchanged
        from airflow_provider_scheduler.store.apply import Action, plan_apply

        document.pop("x-base-revision")
        assert plan_apply(store, [document]).changes[0].action is Action.UNCHANGED
    finally:
        store.close()


def _rewrite_rows(store_uri: str, *, bare: bool) -> None:
    """Make every stored spec look as it was stored before versions: templates without ``@``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(store_uri)
    try:
        with engine.begin() as conn:
            for spec_id, raw in conn.execute(text("SELECT id, spec FROM schedule_specs")).all():
                data = json.loads(raw)
                for task in data["tasks"]:
                    task["template"] = task["template"].split("@")[0] if bare else task["template"]
                conn.execute(
                    text("UPDATE schedule_specs SET spec = :s WHERE id = :i"),
                    {"s": json.dumps(data), "i": spec_id},
                )
    finally:
        engine.dispose()


class TestThePin:
    def test_a_stored_spec_builds_its_version_after_the_default_moves(self):
        registry = _registry(PROBE_V1)
        stored = parse_spec(_spec(with_={"size": "s"}), catalog=registry, policy=POLICY).to_dict()
        registry.register(PROBE_V2)  # the default moves to @2
        assert registry.default_version("probe") == 2
        spec = ScheduleSpec.from_canonical(stored, catalog=registry, policy=POLICY)
        dag = build_dag(spec, registry, policy=POLICY)
        assert dag.task_dict["a"].doc_md == "probe v1 s"
        # and a spec written now gets @2
        fresh = parse_spec(_spec(with_={"colour": "red"}), catalog=registry, policy=POLICY)
        assert build_dag(fresh, registry).task_dict["a"].doc_md == "probe v2 red"

    def test_the_build_refuses_a_retired_or_missing_version_instead_of_building_another(self):
        registry = _registry(PROBE_V1, PROBE_V2)
        spec = parse_spec(_spec("probe@1"), catalog=registry, policy=POLICY)
        registry.retire("probe@1")
        with pytest.raises(
            SpecBuildError, match=r"tasks\[0\] \(a\): probe@1 is retired on this deployment; use probe@2"
        ):
            build_dag(spec, registry)
        with pytest.raises(SpecBuildError, match="has no version 1"):
            build_dag(spec, _registry(PROBE_V2))

    def test_notification_callbacks_use_the_pinned_version(self):
        from airflow_provider_scheduler.factory.callbacks import notification_callbacks

        registry = _registry(BELL_V1)
        spec = parse_spec(_spec("empty", notify={"on_failure": [{"template": "bell"}]}), catalog=registry)
        registry.register(BELL_V2)
        callbacks = notification_callbacks(ScheduleSpec.from_canonical(spec.to_dict()), registry)
        assert callbacks.dag_kwargs["on_failure_callback"] == [("bell", 1, "on_failure")]
        registry.retire("bell@1")
        with pytest.raises(ValueError, match=r"notify.on_failure\[0\].template: bell@1 is retired"):
            notification_callbacks(spec, registry)


class TestFingerprint:
    def test_versions_defaults_and_retirement_change_the_digest(self):
        registry = _registry(PROBE_V1)
        digests = {policy_digest(registry, POLICY)}
        registry.register(PROBE_V2)
        digests.add(policy_digest(registry, POLICY))
        registry.set_default_version("probe", 1)
        digests.add(policy_digest(registry, POLICY))
        registry.retire("probe@2")
        digests.add(policy_digest(registry, POLICY))
        assert len(digests) == 4
        assert policy_digest(registry, POLICY) == policy_digest(
            _registry(PROBE_V1, PROBE_V2, default_versions={"probe": 1}, retired=["probe@2"]), POLICY
        )


class TestLoader:
    @pytest.fixture
    def env(self, tmp_path, monkeypatch):
        monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", raising=False)
        return Env(tmp_path)

    @pytest.fixture
    def registry(self, monkeypatch):
        import airflow_provider_scheduler.templates as templates_pkg

        registry = _registry(PROBE_V1)
        monkeypatch.setattr(templates_pkg, "default_registry", lambda: registry)
        return registry

    def _put(self, env: Env, registry: TemplateRegistry, *specs: dict[str, Any]) -> None:
        from airflow_provider_scheduler.store import open_store

        store = open_store(env.store_uri, registry=registry)
        try:
            store.put_many(list(specs), author="t")
        finally:
            store.close()

    def test_the_pin_survives_a_default_move_through_the_loader(self, env, registry):
        self._put(env, registry, _spec(with_={"size": "s"}))
        env.loader()
        assert dagbag(env.dags).dags["team.probe"].task_dict["a"].doc_md == "probe v1 s"
        registry.register(PROBE_V2)  # default @2; its schema would refuse the stored with
        bag = dagbag(env.dags)
        assert bag.dags["team.probe"].task_dict["a"].doc_md == "probe v1 s"
        [status] = env.statuses()
        assert status["errors"] == {}

    def test_an_old_spec_without_version_is_rechecked_as_version_1(self, env, registry):
        self._put(env, registry, _spec(with_={"size": "s"}))
        _rewrite_rows(env.store_uri, bare=True)
        registry.register(PROBE_V2)
        env.loader()
        bag = dagbag(env.dags)
        assert bag.dags["team.probe"].task_dict["a"].doc_md == "probe v1 s"
        assert env.statuses()[0]["errors"] == {}

    def test_a_retired_version_is_reported_and_the_others_load(self, env, registry, capsys):
        from airflow_provider_scheduler.cli.status import add_status_command

        registry.register(PROBE_V2)
        self._put(env, registry, _spec("probe@1"), _spec("probe@2", {"colour": "red"}, name="fresh"))
        env.loader()
        assert sorted(dagbag(env.dags).dags) == ["team.fresh", "team.probe"]
        registry.retire("probe@1")
        bag = dagbag(env.dags)
        assert sorted(bag.dags) == ["team.fresh"]
        [status] = env.statuses()
        assert status["errors"] == {
            "team.probe": "tasks[0] (a): probe@1 is retired on this deployment; use probe@2 (the default "
            "version, which 'probe' without @ means)"
        }
        parser = argparse.ArgumentParser()
        add_status_command(parser.add_subparsers())
        args = parser.parse_args(["status", "--store", env.store_uri, "--home", str(env.home)])
        assert args.func(args) == 1
        assert "ERROR:    spec team.probe: tasks[0] (a): probe@1 is retired" in capsys.readouterr().out


class TestSettings:
    def test_options_are_read(self):
        settings = TemplateSettings.from_options(
            {"template_versions": '{"http_request": 1, "probe": 1}', "retired_templates": " probe@2 , bell@1"}
        )
        assert settings.template_versions == {"http_request": 1, "probe": 1}
        assert settings.retired_templates == ("probe@2", "bell@1")
        registry = registry_from_settings(
            settings, [*builtin_templates(), PROBE_V1, PROBE_V2, BELL_V1, BELL_V2]
        )
        assert registry.default_version("probe") == 1
        assert registry.is_retired("probe", 2)
        assert registry.is_retired("bell", 1, notifiers=True)
        assert registry.default_version("bell", notifiers=True) == 2

    def test_the_option_wins_over_code(self, monkeypatch):
        import airflow_provider_scheduler.templates.registry as registry_module

        monkeypatch.setattr(registry_module, "_DEFAULT_VERSIONS", {"probe": 2, "bell": 1})
        settings = TemplateSettings.from_options({"template_versions": '{"probe": 1}'})
        registry = registry_from_settings(settings, [PROBE_V1, PROBE_V2, BELL_V1, BELL_V2])
        assert registry.default_version("probe") == 1
        assert registry.default_version("bell", notifiers=True) == 1

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"template_versions": "{"}, "template_versions is not valid JSON"),
            (
                {"template_versions": '{"probe": "2"}'},
                "template_versions must map template names to versions",
            ),
            ({"template_versions": '{"probe": 0}'}, "template_versions must map"),
            ({"retired_templates": "probe"}, "retired_templates lists 'probe'; write NAME@VERSION"),
            ({"retired_templates": "probe@x"}, "retired_templates lists 'probe@x'"),
        ],
    )
    def test_malformed_options_name_the_option(self, options, message):
        with pytest.raises(ValueError, match=message):
            TemplateSettings.from_options(options)

    def test_options_are_declared_and_documented(self):
        from airflow_provider_scheduler.get_provider_info import get_provider_info
        from airflow_provider_scheduler.templates.builtins import VERSION_OPTIONS

        options = get_provider_info()["config"]["schedule_specs"]["options"]
        readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
        for name in VERSION_OPTIONS:
            assert name in options
            TemplateSettings.from_options({name: options[name]["example"]})  # the example is valid
            assert f"| `{name}` |" in readme

    def test_registration_keeps_versions_apart(self):
        registry = _registry(PROBE_V1)
        registry.register(PROBE_V2)
        with pytest.raises(ValueError, match="already registered"):
            registry.register(PROBE_V2)
        assert registry.template_versions("probe") == [1, 2]
        assert registry.get("probe").version == 2
        assert registry.get("probe", 1) is PROBE_V1
        with pytest.raises(ValueError, match="whole number"):
            TaskTemplate("x", version=0, description="", with_schema={}, builder=_build_v1)
        with pytest.raises(ValueError, match="NAME@VERSION"):
            registry.retire("probe")

    def test_module_register_adds_a_version_beside_the_builtin(self, monkeypatch):
        import airflow_provider_scheduler.templates.registry as registry_module

        monkeypatch.setattr(registry_module, "_EXTRA", [])
        monkeypatch.setattr(registry_module, "_DEFAULT_VERSIONS", {})
        registry_module.register(PROBE_V1)
        registry_module.register(PROBE_V2)
        registry_module.register(PROBE_V2)  # the same version again replaces it
        assert [(t.name, t.version) for t in registry_module._EXTRA] == [("probe", 1), ("probe", 2)]
        registry_module.set_default_version("probe", 1)
        registry = registry_from_settings(TemplateSettings(), builtin_templates())
        assert registry.template_versions("probe") == [1, 2]
        assert registry.default_version("probe") == 1


class TestJsonSchema:
    def test_lists_each_live_version_with_its_own_with_schema(self):
        from jsonschema import Draft202012Validator

        registry = _registry(PROBE_V1, PROBE_V2, BELL_V1, BELL_V2, retired=["bell@1"])
        schema = spec_json_schema(registry, POLICY)
        Draft202012Validator.check_schema(schema)
        enum = schema["$defs"]["task"]["properties"]["template"]["enum"]
        assert "probe" in enum
        assert "probe@1" in enum
        assert "probe@2" in enum
        assert schema["$defs"]["with.probe@1"]["properties"] == {"size": {"type": "string"}}
        assert schema["$defs"]["with.probe"] == schema["$defs"]["with.probe@2"]  # the default
        notifiers = schema["$defs"]["notifier"]["properties"]["template"]["enum"]
        assert "bell@2" in notifiers
        assert "bell@1" not in notifiers
        validator = Draft202012Validator(schema)
        assert not list(validator.iter_errors(_spec("probe@1", {"size": "s"})))
        assert list(validator.iter_errors(_spec("probe@2", {"size": "s"})))
        assert list(validator.iter_errors(_spec("probe", {"size": "s"})))  # the default is @2
        assert list(validator.iter_errors(_spec("probe@3")))

    def test_a_name_with_every_version_retired_is_not_offered(self):
        registry = _registry(PROBE_V1, retired=["probe@1"])
        schema = spec_json_schema(registry, POLICY)
        enum = schema["$defs"]["task"]["properties"]["template"]["enum"]
        assert not any(name.startswith("probe") for name in enum)


def _cli(argv: list[str], registry: TemplateRegistry, monkeypatch, capsys) -> tuple[int, str, str]:
    import airflow_provider_scheduler.cli.templates as templates_cli

    monkeypatch.setattr(templates_cli, "registry_and_policy", lambda args: (registry, POLICY))
    parser = argparse.ArgumentParser()
    add_templates_command(parser.add_subparsers())
    args = parser.parse_args(["templates", *argv])
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


class TestTemplatesCommand:
    @pytest.fixture
    def registry(self):
        registry = _registry(PROBE_V1, PROBE_V2, BELL_V1, default_versions={"probe": 1}, retired=["probe@2"])
        registry.disable("empty")
        return registry

    def test_lists_templates_versions_and_state(self, registry, monkeypatch, capsys):
        code, out, _ = _cli([], registry, monkeypatch, capsys)
        assert code == 0
        assert out.startswith("Task templates:\n")
        lines = out.splitlines()
        probe = next(line for line in lines if line.strip().startswith("probe "))
        assert probe.split() == ["probe", "@1", "(default),", "@2", "(retired)", "[enabled]"]
        assert "probe, first version" in out
        assert any(
            line.split()[:3] == ["empty", "@1", "(default)"] and "[disabled]" in line for line in lines
        )
        assert "Notification templates:" in out
        assert any(line.split()[:3] == ["bell", "@1", "(default)"] for line in lines)

    def test_json(self, registry, monkeypatch, capsys):
        code, out, _ = _cli(["--json"], registry, monkeypatch, capsys)
        assert code == 0
        data = json.loads(out)
        [probe] = [t for t in data["task_templates"] if t["name"] == "probe"]
        assert probe["default_version"] == 1
        assert [(v["version"], v["default"], v["retired"]) for v in probe["versions"]] == [
            (1, True, False),
            (2, False, True),
        ]
        assert probe["versions"][1]["with_schema"]["required"] == ["colour"]
        slack = ["slack"] if importlib.util.find_spec("airflow.providers.slack") else []  # Slack provider
        assert [t["name"] for t in data["notification_templates"]] == ["bell", "email", *slack, "webhook"]
        assert data == json.loads(json.dumps(describe_templates(registry, POLICY)))

    def test_one_template_in_full(self, registry, monkeypatch, capsys):
        code, out, _ = _cli(["probe"], registry, monkeypatch, capsys)
        assert code == 0
        assert out.startswith("probe (task template): enabled\n  default version: 1\n")
        assert "  probe@1 (default)\n    probe, first version\n    with:\n" in out
        assert "  probe@2 (retired)\n" in out
        assert '"colour"' in out
        code, out, _ = _cli(["probe@2", "--json"], registry, monkeypatch, capsys)
        data = json.loads(out)
        assert code == 0
        assert [v["version"] for v in data["versions"]] == [2]

    def test_namespace_and_policy_state(self, registry, monkeypatch, capsys):
        import airflow_provider_scheduler.cli.templates as templates_cli

        policy = GovernancePolicy(allowed_templates={"qa": ["probe"], "*": ["empty"]})
        monkeypatch.setattr(templates_cli, "registry_and_policy", lambda args: (registry, policy))
        parser = argparse.ArgumentParser()
        add_templates_command(parser.add_subparsers())
        args = parser.parse_args(["templates", "--json", "--namespace", "other"])
        assert args.func(args) == 0
        data = json.loads(capsys.readouterr().out)
        probe = next(t for t in data["task_templates"] if t["name"] == "probe")
        assert probe["allowed_in"] == ["qa"]
        assert probe["allowed"] is False
        assert "not allowed in namespace 'other'" in probe["why_not"]

    def test_unknown_name_or_version_exits_1(self, registry, monkeypatch, capsys):
        code, out, err = _cli(["prob"], registry, monkeypatch, capsys)
        assert code == 1
        assert out == ""
        assert err.startswith("error: no template named 'prob' (did you mean 'probe'?)")
        code, _, err = _cli(["probe@5"], registry, monkeypatch, capsys)
        assert code == 1
        assert err.strip() == "error: the template 'probe' has no version 5; versions: 1, 2"

    def test_registered_in_the_console_command(self):
        from airflow_provider_scheduler.cli import build_parser

        args = build_parser().parse_args(["templates", "http_request", "--json", "--builtin-defaults"])
        assert args.name == "http_request"
        assert args.json
        assert args.builtin_defaults


def test_canonical_dicts_of_old_specs_keep_their_meaning():
    """A spec's canonical dict without the version field means what it meant (built-ins are @1)."""
    registry = _registry()
    data = _spec("http_request", {"conn_id": "api", "endpoint": "/x"})
    registry = TemplateRegistry(builtin_templates(TemplateSettings(http_connections=("api",))))
    spec = parse_spec(copy.deepcopy(data), catalog=registry, policy=POLICY)
    old = spec.to_dict()
    old["tasks"][0]["template"] = "http_request"
    assert ScheduleSpec.from_canonical(old) == spec
