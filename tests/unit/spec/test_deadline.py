"""Spec ``deadline: {after, from, notify}``: validation, refusals with paths, canonical form, schema."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator

from airflow_provider_scheduler.spec import (
    Deadline,
    GovernancePolicy,
    ScheduleSpec,
    SpecError,
    parse_spec,
    spec_json_schema,
)
from airflow_provider_scheduler.templates import TemplateRegistry
from airflow_provider_scheduler.templates.builtins import TemplateSettings, builtin_templates

#: a policy that does not know the Airflow version (validation on a laptop): no version check
ANY_AIRFLOW = GovernancePolicy()
EMAIL = {"template": "email", "with": {"to": ["ops@example.com"]}}


@pytest.fixture
def registry() -> TemplateRegistry:
    return TemplateRegistry(builtin_templates(TemplateSettings(webhook_connections=("chat",))))


def _doc(deadline=None, **extra):
    doc = {
        "version": 1,
        "namespace": "qa",
        "name": "late",
        "schedule": {"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin"},
        "start_date": "2026-01-01",
        "tasks": [{"id": "a", "template": "empty"}],
        **extra,
    }
    if deadline is not None:
        doc["deadline"] = deadline
    return doc


def problems(registry, doc, policy=None) -> list[str]:
    with pytest.raises(SpecError) as err:
        parse_spec(doc, registry=registry, policy=policy or GovernancePolicy())
    return [f"{p.path}: {p.message}" for p in err.value.problems]


class TestAccepted:
    def test_defaults_to_queued_and_round_trips(self, registry):
        spec = parse_spec(_doc({"after": "PT2H", "notify": [EMAIL]}), registry=registry, policy=ANY_AIRFLOW)
        assert spec.deadline is not None
        assert spec.deadline.from_ == "queued"
        assert spec.deadline.after.total_seconds() == 7200
        assert spec.to_dict()["deadline"] == {
            "after": "PT2H",
            "from": "queued",
            "notify": [{"template": "email@1", "with": {"to": ["ops@example.com"]}}],
        }
        assert parse_spec(spec.to_dict(), registry=registry, policy=ANY_AIRFLOW) == spec
        assert ScheduleSpec.from_canonical(spec.to_dict()) == spec

    def test_from_logical_date(self, registry):
        spec = parse_spec(
            _doc({"after": "PT30M", "from": "logical_date", "notify": [EMAIL]}),
            registry=registry,
            policy=ANY_AIRFLOW,
        )
        assert spec.deadline == Deadline(
            after=spec.deadline.after, from_="logical_date", notify=spec.deadline.notify
        )
        assert ScheduleSpec.from_canonical(spec.to_dict()) == spec

    def test_without_a_deadline_the_canonical_form_has_no_key(self, registry):
        spec = parse_spec(_doc(), registry=registry, policy=ANY_AIRFLOW)
        assert spec.deadline is None
        assert "deadline" not in spec.to_dict()

    def test_airflow_3_1_and_later_accept_it(self, registry):
        for version in ((3, 1), (3, 3), (4, 0)):
            policy = GovernancePolicy(airflow_version=version)
            assert parse_spec(_doc({"after": "PT1H", "notify": [EMAIL]}), registry=registry, policy=policy)


def test_the_deployment_policy_checks_the_running_airflow(registry):
    """``parse_spec`` without a policy uses the deployment's, which knows the running Airflow."""
    from airflow import __version__

    from airflow_provider_scheduler.spec.policy import airflow_major_minor, default_policy

    default_policy.cache_clear()
    doc = _doc({"after": "PT1H", "notify": [EMAIL]})
    if airflow_major_minor(__version__) >= (3, 1):
        assert parse_spec(doc, registry=registry).deadline is not None
    else:
        with pytest.raises(SpecError, match=r"needs Airflow 3\.1 or later"):
            parse_spec(doc, registry=registry)


class TestRefused:
    def test_older_airflow_names_the_version_it_needs(self, registry):
        got = problems(
            registry, _doc({"after": "PT1H", "notify": [EMAIL]}), GovernancePolicy(airflow_version=(2, 11))
        )
        assert got == [
            "deadline: a deadline (Airflow's deadline alerts) needs Airflow 3.1 or later; this deployment "
            "runs Airflow 2.11"
        ]

    def test_every_problem_at_once(self, registry):
        # the slack notification is offered where the Slack provider is installed
        available = ", ".join(["email", *(["slack"] if registry.get_notifier("slack") else []), "webhook"])
        got = problems(
            registry,
            _doc(
                {
                    "after": "PT0S",
                    "from": "queud",
                    "notify": [{"template": "emial", "with": {}}],
                    "notfy": [],
                }
            ),
        )
        assert got == [
            "deadline.notfy: unknown key 'notfy' (did you mean 'notify'?)",
            "deadline.after: must be more than zero and at most 31 days, not 0 seconds",
            "deadline.from: must be 'queued' (when the run was queued) or 'logical_date', not 'queud' "
            "(did you mean 'queued'?)",
            "deadline.notify[0].template: unknown notification template 'emial' (did you mean 'email'?); "
            f"available: {available}",
        ]

    def test_required_parts(self, registry):
        assert problems(registry, _doc({})) == [
            "deadline.after: is required: how long a run may take, e.g. PT2H",
            "deadline.notify: is required: list who hears of a missed deadline",
        ]

    def test_empty_notify(self, registry):
        assert problems(registry, _doc({"after": "PT1H", "notify": []})) == [
            "deadline.notify: must list at least one notification"
        ]

    def test_not_an_object(self, registry):
        assert problems(registry, _doc("PT2H"))[0].startswith("deadline: must be an object")

    def test_too_long(self, registry):
        assert problems(registry, _doc({"after": "P32D", "notify": [EMAIL]})) == [
            "deadline.after: must be more than zero and at most 31 days, not 32 days"
        ]

    def test_bad_duration(self, registry):
        [got] = problems(registry, _doc({"after": "2 hours", "notify": [EMAIL]}))
        assert got.startswith("deadline.after: ")

    @pytest.mark.parametrize(
        ("schedule", "kind"),
        [(None, "triggered"), ({"assets": ["s3://a/b"]}, "asset-triggered")],
    )
    def test_logical_date_needs_runs_that_have_one(self, registry, schedule, kind):
        doc = _doc({"after": "PT1H", "from": "logical_date", "notify": [EMAIL]}, schedule=schedule)
        assert problems(registry, doc) == [
            f"deadline.from: a {kind} run may have no logical date; use 'queued'"
        ]

    def test_notification_with_is_checked(self, registry):
        [got] = problems(
            registry,
            _doc({"after": "PT1H", "notify": [{"template": "webhook", "with": {"conn_id": "other"}}]}),
        )
        assert got.startswith("deadline.notify[0].with.conn_id: ")

    def test_notification_template_allow_list(self, registry):
        policy = GovernancePolicy(allowed_templates={"qa": ["empty", "webhook"]})
        [got] = problems(registry, _doc({"after": "PT1H", "notify": [EMAIL]}), policy)
        assert got == "deadline.notify[0].template: the template 'email' is not allowed in namespace 'qa'"


class TestSchema:
    @pytest.fixture
    def validator(self, registry):
        return Draft202012Validator(spec_json_schema(registry, GovernancePolicy()))

    def test_accepts_a_deadline_and_its_canonical_form(self, validator, registry):
        doc = _doc({"after": "PT2H", "notify": [EMAIL]})
        assert list(validator.iter_errors(doc)) == []
        assert (
            list(validator.iter_errors(parse_spec(doc, registry=registry, policy=ANY_AIRFLOW).to_dict()))
            == []
        )

    @pytest.mark.parametrize(
        "deadline",
        [
            {"notify": [EMAIL]},
            {"after": "PT2H"},
            {"after": "PT2H", "notify": []},
            {"after": "PT2H", "from": "started", "notify": [EMAIL]},
            {"after": "PT2H", "notify": [EMAIL], "extra": 1},
        ],
    )
    def test_refuses_what_the_parser_refuses(self, validator, registry, deadline):
        doc = _doc(copy.deepcopy(deadline))
        assert not validator.is_valid(doc)
        with pytest.raises(SpecError):
            parse_spec(doc, registry=registry, policy=ANY_AIRFLOW)
