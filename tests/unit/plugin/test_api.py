"""The Schedules API through a real mount, real JWTs, SimpleAuthManager and a real metadata DB."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from plugin_helpers import spec_doc

from airflow_provider_scheduler.plugin import api_supported

if TYPE_CHECKING:
    from conftest import PortalEnv

if not api_supported():  # the module imports Airflow's API modules, which 2.11 and 3.0 do not have
    pytest.skip("the Schedules API is Airflow 3.1+", allow_module_level=True)

V1 = "/schedules/api/v1"


@pytest.fixture(autouse=True)
def clean_airflow_rows(airflow_metadata: None) -> None:
    """Each test starts without DAGs, runs, audit rows or parsing requests."""
    from airflow.models.dag import DagModel, DagTag
    from airflow.models.dagbag import DagPriorityParsingRequest
    from airflow.models.dagbundle import DagBundleModel
    from airflow.models.dagrun import DagRun
    from airflow.models.log import Log
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        for model in (DagRun, DagTag, DagModel, Log, DagPriorityParsingRequest):
            session.execute(delete(model))
        if session.get(DagBundleModel, "dags-folder") is None:
            session.add(DagBundleModel(name="dags-folder"))


def add_dag(dag_id: str, *, fileloc: str = "/dags/schedules.py", paused: bool = False, runs: int = 0) -> None:
    """A DAG row as the DAG processor writes it (tagged like a generated DAG), with ``runs`` runs."""
    from datetime import UTC, datetime, timedelta

    from airflow.models.dag import DagModel, DagTag
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    with create_session() as session:
        dag = DagModel(dag_id=dag_id, bundle_name="dags-folder", fileloc=fileloc)
        dag.relative_fileloc = fileloc.rsplit("/", 1)[-1]
        dag.is_stale = False
        dag.is_paused = paused
        dag.next_dagrun_create_after = datetime(2030, 1, 1, tzinfo=UTC)
        session.add(dag)
        session.add(DagTag(name=f"namespace:{dag_id.split('.')[0]}", dag_id=dag_id))
        session.flush()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(runs):
            session.add(
                DagRun(
                    dag_id=dag_id,
                    run_id=f"manual__{i}",
                    run_type=DagRunType.MANUAL,
                    run_after=start + timedelta(days=i),
                    state=DagRunState.SUCCESS if i < runs - 1 else DagRunState.FAILED,
                )
            )


def audit_rows() -> list[tuple[str, str | None, str | None, dict[str, Any]]]:
    from airflow.models.log import Log
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(Log).order_by(Log.id)).all()
        return [(r.event, r.owner, r.dag_id, json.loads(r.extra or "{}")) for r in rows]


def parsing_requests() -> list[tuple[str, str]]:
    from airflow.models.dagbag import DagPriorityParsingRequest
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(DagPriorityParsingRequest)).all()
        return sorted((r.bundle_name, r.relative_fileloc) for r in rows)


def apply(client: Any, spec: dict[str, Any], expected: int | None = None, **extra: Any) -> Any:
    spec_id = f"{spec['namespace']}.{spec['name']}"
    return client.put(f"{V1}/specs/{spec_id}", json={"spec": spec, "expected_revision": expected, **extra})


def assert_error_shape(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body  # type: ignore[no-any-return]


class TestSignIn:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/specs"),
            ("GET", "/specs/team-a.daily"),
            ("PUT", "/specs/team-a.daily"),
            ("POST", "/validate"),
            ("GET", "/openapi.json"),
            ("GET", "/schema"),
        ],
    )
    def test_no_token_is_401_and_no_data(self, portal: PortalEnv, method: str, path: str) -> None:
        apply(portal["admin"], spec_doc())
        resp = portal.anonymous.request(method, V1 + path, json={"spec": spec_doc()})
        body = assert_error_shape(resp, 401)
        assert set(body) == {"status", "title", "detail"}
        assert "A test schedule" not in resp.text

    def test_bad_token_is_401(self, portal: PortalEnv) -> None:
        resp = portal.anonymous.get(f"{V1}/specs", headers={"Authorization": "Bearer not-a-jwt"})
        body = assert_error_shape(resp, 401)
        assert "sign in again" in body["detail"]

    def test_static_files_and_unknown_paths_need_sign_in(self, portal: PortalEnv) -> None:
        assert_error_shape(portal.anonymous.get("/schedules/static/app.js"), 401)
        assert_error_shape(portal.anonymous.get("/schedules/anything"), 401)
        assert_error_shape(portal["viewer"].get("/schedules/anything"), 404)

    def test_ui_cookie_signs_in(self, portal: PortalEnv) -> None:
        token = portal["alice"].headers["Authorization"].split()[1]
        portal.anonymous.cookies.set("_token", token)
        try:
            assert portal.anonymous.get(f"{V1}/me").json()["user"] == "alice"
        finally:
            portal.anonymous.cookies.clear()

    def test_openapi_for_signed_in_users(self, portal: PortalEnv) -> None:
        doc = portal["viewer"].get(f"{V1}/openapi.json").json()
        assert f"{'/api/v1'}/specs/{{spec_id}}" in doc["paths"]
        assert portal["viewer"].get("/schedules/openapi.json").status_code == 404
        assert portal["viewer"].get("/schedules/docs").status_code == 404


class TestAuthorization:
    def test_viewer_reads_but_cannot_write(self, portal: PortalEnv) -> None:
        apply(portal["admin"], spec_doc())
        assert portal["viewer"].get(f"{V1}/specs/team-a.daily").status_code == 403  # no namespace entry
        body = assert_error_shape(apply(portal["viewer"], spec_doc(name="other")), 403)
        assert "viewer may not change spec team-a.other" in body["detail"]
        assert portal["admin"].get(f"{V1}/specs/team-a.other").status_code == 404

    def test_viewer_of_an_open_namespace_cannot_write(self, portal: PortalEnv) -> None:
        from airflow_provider_scheduler.plugin.access import NamespaceAccess

        portal.portal._namespaces = NamespaceAccess({})
        apply(portal["admin"], spec_doc())
        assert portal["viewer"].get(f"{V1}/specs/team-a.daily").status_code == 200
        assert_error_shape(apply(portal["viewer"], spec_doc(description="changed")), 403)
        for action in ("pause", "resume", "restore"):
            assert_error_shape(portal["viewer"].post(f"{V1}/specs/team-a.daily/{action}"), 403)
        assert_error_shape(portal["viewer"].delete(f"{V1}/specs/team-a.daily"), 403)
        assert_error_shape(portal["viewer"].post(f"{V1}/specs/team-a.daily/trigger", json={}), 403)
        assert portal["admin"].get(f"{V1}/specs/team-a.daily").json()["revision"] == 1

    def test_namespace_isolation(self, portal: PortalEnv) -> None:
        assert apply(portal["alice"], spec_doc("team-a", "a1")).status_code == 201
        assert apply(portal["bob"], spec_doc("team-b", "b1")).status_code == 201
        listed = portal["alice"].get(f"{V1}/specs").json()
        assert [s["spec_id"] for s in listed["specs"]] == ["team-a.a1"]
        assert listed["total_entries"] == 1
        assert_error_shape(portal["alice"].get(f"{V1}/specs/team-b.b1"), 403)
        assert_error_shape(portal["alice"].get(f"{V1}/specs/team-b.b1/history"), 403)
        assert_error_shape(apply(portal["alice"], spec_doc("team-b", "b1", description="mine now"), 1), 403)
        assert_error_shape(portal["alice"].post(f"{V1}/specs/team-b.b1/pause"), 403)
        assert_error_shape(portal["alice"].delete(f"{V1}/specs/team-b.b1"), 403)
        assert_error_shape(portal["alice"].get(f"{V1}/schema", params={"namespace": "team-b"}), 403)
        assert portal["bob"].get(f"{V1}/specs/team-b.b1").json()["revision"] == 1
        admin = portal["admin"].get(f"{V1}/specs").json()
        assert [s["spec_id"] for s in admin["specs"]] == ["team-a.a1", "team-b.b1"]

    def test_user_without_role_sees_nothing(self, portal: PortalEnv) -> None:
        apply(portal["admin"], spec_doc())
        assert portal["nobody"].get(f"{V1}/specs").json() == {"specs": [], "total_entries": 0}

    def test_malformed_namespace_access_fails_closed(
        self, portal: PortalEnv, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__NAMESPACE_ACCESS", "{not json")
        portal.portal._namespaces = None
        body = assert_error_shape(portal["admin"].get(f"{V1}/specs"), 500)
        assert "namespace_access is not valid JSON" in body["detail"]


class TestApply:
    def test_create_then_update_author_is_the_signed_in_user(self, portal: PortalEnv) -> None:
        resp = apply(portal["alice"], spec_doc())
        assert resp.status_code == 201, resp.text
        assert resp.json()["spec_id"] == "team-a.daily"
        assert resp.json()["revision"] == 1
        resp = apply(portal["admin"], spec_doc(description="v2"), expected=1)
        assert resp.status_code == 200, resp.text
        assert resp.json()["revision"] == 2
        assert resp.json()["action"] == "update"
        history = portal["alice"].get(f"{V1}/specs/team-a.daily/history").json()
        assert [(r["revision"], r["action"], r["author"]) for r in history["revisions"]] == [
            (1, "create", "alice"),
            (2, "update", "admin"),
        ]

    def test_the_edit_page_flow_get_edit_put_back(self, portal: PortalEnv) -> None:
        """What the editor does: GET the spec (canonical form), change it, PUT it with its revision."""
        assert apply(portal["admin"], spec_doc()).status_code == 201
        got = portal["admin"].get(f"{V1}/specs/team-a.daily").json()
        edited = {**got["spec"], "description": "edited in the page"}
        resp = apply(portal["admin"], edited, expected=got["revision"])
        assert resp.status_code == 200, resp.text
        assert resp.json()["revision"] == 2

    def test_author_cannot_come_from_the_body(self, portal: PortalEnv) -> None:
        body = assert_error_shape(apply(portal["alice"], spec_doc(), author="mallory"), 422)
        assert body["problems"][0]["path"] == "author"
        assert portal["admin"].get(f"{V1}/specs/team-a.daily").status_code == 404

    def test_conflict_409_with_both_revisions_nothing_lost(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        first = apply(portal["alice"], spec_doc(description="alice's edit"), expected=1)
        second = apply(portal["admin"], spec_doc(description="admin's edit"), expected=1)
        assert first.status_code == 200
        body = assert_error_shape(second, 409)
        assert body["expected_revision"] == 1
        assert body["current_revision"] == 2
        assert body["spec_id"] == "team-a.daily"
        current = portal["admin"].get(f"{V1}/specs/team-a.daily").json()
        assert (current["revision"], current["spec"]["description"]) == (2, "alice's edit")

    def test_must_not_exist_yet(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        body = assert_error_shape(apply(portal["alice"], spec_doc(description="x"), expected=0), 409)
        assert (body["expected_revision"], body["current_revision"]) == (0, 1)

    def test_invalid_spec_422_with_paths_nothing_stored(self, portal: PortalEnv) -> None:
        doc = spec_doc(
            tasks=[
                {"id": "load", "template": "empty"},
                {"id": "report", "template": "empty", "depends_on": ["lod"]},
            ]
        )
        body = assert_error_shape(apply(portal["alice"], doc), 422)
        assert {
            "path": "tasks[1].depends_on[0]",
            "message": "unknown task 'lod' (did you mean 'load'?)",
        } in body["problems"]
        assert "tasks[1].depends_on[0]" in body["detail"]
        assert_error_shape(portal["alice"].get(f"{V1}/specs/team-a.daily"), 404)
        assert portal["admin"].get(f"{V1}/specs").json()["total_entries"] == 0
        assert audit_rows() == []

    def test_spec_id_must_match_the_url(self, portal: PortalEnv) -> None:
        resp = portal["alice"].put(
            f"{V1}/specs/team-a.other", json={"spec": spec_doc(), "expected_revision": None}
        )
        body = assert_error_shape(resp, 422)
        assert body["problems"][0]["path"] == "name"

    def test_unchanged_apply_writes_nothing(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        resp = apply(portal["alice"], spec_doc(), expected=1)
        assert (resp.status_code, resp.json()["revision"], resp.json()["action"]) == (200, 1, "unchanged")
        assert len(audit_rows()) == 1

    def test_yaml_spec_text(self, portal: PortalEnv) -> None:
        text = (
            "version: 1\nnamespace: team-a\nname: daily\nschedule: null\nstart_date: 2026-01-01\n"
            "tasks:\n  - {id: a, template: empty}\n"
        )
        resp = portal["alice"].put(f"{V1}/specs/team-a.daily", json={"spec_text": text})
        assert resp.status_code == 201, resp.text

    def test_body_that_is_not_json(self, portal: PortalEnv) -> None:
        resp = portal["alice"].put(
            f"{V1}/specs/team-a.daily", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        body = assert_error_shape(resp, 422)
        assert "not valid JSON" in body["problems"][0]["message"]

    def test_audit_log_and_reparse_request(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        add_dag("team-a.daily", fileloc="/dags/team_a.py")
        apply(portal["alice"], spec_doc(description="v2"), expected=1)
        assert parsing_requests() == [("dags-folder", "team_a.py")]
        assert [(e, o, d, x["revision"]) for e, o, d, x in audit_rows()] == [
            ("schedule_spec.apply", "alice", "team-a.daily", 1),
            ("schedule_spec.apply", "alice", "team-a.daily", 2),
        ]

    def test_airflow_side_failure_keeps_the_stored_write(
        self, portal: PortalEnv, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from airflow_provider_scheduler.plugin import airflow_db

        def broken(*_args: Any) -> set[tuple[str, str]]:
            raise RuntimeError("metadata DB hiccup")

        monkeypatch.setattr(airflow_db, "loader_files", broken)
        resp = apply(portal["alice"], spec_doc())
        assert resp.status_code == 201, resp.text
        assert "the spec was stored, but Airflow was not told about it" in resp.json()["warnings"][0]
        assert portal["alice"].get(f"{V1}/specs/team-a.daily").json()["revision"] == 1
        assert audit_rows() == []

    def test_new_spec_reparses_the_namespace_loader_files(self, portal: PortalEnv) -> None:
        add_dag("team-a.existing", fileloc="/dags/team_a.py")
        add_dag("team-b.other", fileloc="/dags/team_b.py")
        resp = apply(portal["alice"], spec_doc(name="brand-new"))
        assert resp.json()["reparse_requested"] == [
            {"bundle_name": "dags-folder", "relative_fileloc": "team_a.py"}
        ]
        assert parsing_requests() == [("dags-folder", "team_a.py")]

    def test_first_spec_of_a_namespace_reparses_every_generated_file(self, portal: PortalEnv) -> None:
        add_dag("team-b.other", fileloc="/dags/team_b.py")
        add_dag("team-c.more", fileloc="/dags/all.py")
        apply(portal["alice"], spec_doc(name="first"))
        assert parsing_requests() == [("dags-folder", "all.py"), ("dags-folder", "team_b.py")]

    def test_a_pending_request_is_not_stored_twice(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        add_dag("team-a.daily")
        apply(portal["alice"], spec_doc(description="v2"))
        apply(portal["alice"], spec_doc(description="v3"))
        assert parsing_requests() == [("dags-folder", "schedules.py")]


class TestReads:
    def test_get_current_and_revision_n(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        apply(portal["alice"], spec_doc(description="v2"))
        current = portal["alice"].get(f"{V1}/specs/team-a.daily").json()
        assert (current["spec_id"], current["revision"], current["author"]) == ("team-a.daily", 2, "alice")
        assert current["spec"]["description"] == "v2"
        assert current["can_write"] is True
        assert "description: v2" in current["spec_yaml"]
        old = portal["alice"].get(f"{V1}/specs/team-a.daily", params={"revision": 1}).json()
        assert (old["revision"], old["current_revision"], old["spec"]["description"]) == (
            1,
            2,
            "A test schedule",
        )
        assert_error_shape(portal["alice"].get(f"{V1}/specs/team-a.daily", params={"revision": 9}), 404)

    def test_diff_between_revisions_and_against_a_posted_spec(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        apply(portal["alice"], spec_doc(description="v2"))
        diff = portal["alice"].get(f"{V1}/specs/team-a.daily/diff").json()
        assert (diff["from_revision"], diff["to_revision"]) == (1, 2)
        assert "-description: A test schedule\n+description: v2\n" in diff["diff"]
        posted = (
            portal["alice"]
            .post(f"{V1}/specs/team-a.daily/diff", json={"spec": spec_doc(description="v3")})
            .json()
        )
        assert posted["action"] == "update"
        assert "+description: v3" in posted["diff"]
        assert portal["alice"].get(f"{V1}/specs/team-a.daily").json()["revision"] == 2

    def test_validate(self, portal: PortalEnv) -> None:
        ok = portal["alice"].post(f"{V1}/validate", json=spec_doc())
        assert ok.json() == {"valid": True, "spec_id": "team-a.daily", "problems": []}
        bad = portal["alice"].post(
            f"{V1}/validate", json=spec_doc(tasks=[{"id": "a", "template": "empty", "retries": "x"}])
        )
        assert bad.status_code == 200
        assert bad.json()["valid"] is False
        assert bad.json()["problems"][0]["path"] == "tasks[0].retries"
        other = portal["alice"].post(f"{V1}/validate", json=spec_doc("team-b"))
        assert other.json()["problems"] == [
            {"path": "namespace", "message": "alice may not write specs in namespace 'team-b'"}
        ]
        yaml_body = (
            "version: 1\nnamespace: team-a\nname: y\nschedule: null\nstart_date: 2026-01-01\ntasks: []\n"
        )
        resp = portal["alice"].post(
            f"{V1}/validate", content=yaml_body, headers={"Content-Type": "application/yaml"}
        )
        assert resp.json()["spec_id"] == "team-a.y"
        assert portal["admin"].get(f"{V1}/specs").json()["total_entries"] == 0

    def test_schema_for_a_namespace(self, portal: PortalEnv) -> None:
        schema = portal["alice"].get(f"{V1}/schema", params={"namespace": "team-a"}).json()
        assert schema["properties"]["namespace"]["const"] == "team-a"

    def test_me(self, portal: PortalEnv) -> None:
        apply(portal["bob"], spec_doc("team-b", "b1"))
        me = portal["alice"].get(f"{V1}/me").json()
        assert (me["user"], me["roles"], me["namespaces"], me["all_namespaces"]) == (
            "alice",
            ["user"],
            ["team-a"],
            False,
        )
        assert portal["admin"].get(f"{V1}/me").json()["all_namespaces"] is True


class TestListing:
    def test_filters_pagination_and_airflow_state(self, portal: PortalEnv) -> None:
        for name in ("c", "a", "b"):
            apply(portal["admin"], spec_doc(name=name, description=f"report {name}"))
        portal["admin"].post(f"{V1}/specs/team-a.b/pause")
        add_dag("team-a.a", runs=2)
        page = portal["admin"].get(f"{V1}/specs", params={"limit": 2}).json()
        assert page["total_entries"] == 3
        assert [s["spec_id"] for s in page["specs"]] == ["team-a.a", "team-a.b"]
        first = page["specs"][0]
        assert {k: first[k] for k in ("revision", "author", "paused")} == {
            "revision": 1,
            "author": "admin",
            "paused": False,
        }
        assert first["dag"]["exists"] is True
        assert first["dag"]["next_run"] == "2030-01-01T00:00:00+00:00"
        assert first["dag"]["last_run"]["run_id"] == "manual__1"
        assert first["dag"]["last_run"]["state"] == "failed"
        assert page["specs"][1]["dag"] == {
            "exists": False,
            "is_paused": None,
            "next_run": None,
            "last_run": None,
        }
        assert [
            s["spec_id"] for s in portal["admin"].get(f"{V1}/specs", params={"offset": 2}).json()["specs"]
        ] == ["team-a.c"]
        paused = portal["admin"].get(f"{V1}/specs", params={"paused": True}).json()
        assert [s["spec_id"] for s in paused["specs"]] == ["team-a.b"]
        text = portal["admin"].get(f"{V1}/specs", params={"q": "REPORT C"}).json()
        assert [s["spec_id"] for s in text["specs"]] == ["team-a.c"]
        assert_error_shape(portal["admin"].get(f"{V1}/specs", params={"status": "bogus"}), 422)
        assert_error_shape(portal["admin"].get(f"{V1}/specs", params={"limit": 0}), 422)

    def test_status_from_the_loader_status_files(self, portal: PortalEnv) -> None:
        from datetime import UTC, datetime, timedelta

        from airflow_provider_scheduler.factory.status import loader_key, status_path, write_status

        for name in ("ok", "broken", "late"):
            apply(portal["admin"], spec_doc(name=name))
        apply(portal["admin"], spec_doc(name="unselected"))
        later = (datetime.now(UTC) + timedelta(seconds=5)).isoformat(timespec="seconds")
        status = {
            "loader": "/dags/schedules.py",
            "parsed_at": later,
            "dag_ids": ["team-a.ok"],
            "errors": {"team-a.broken": "tasks[0] (noop): the template 'empty' is not allowed"},
            "dropped": {"team-a.late": "expired (end_date 2026-01-02T00:00:00+00:00 passed)"},
        }
        write_status(
            status_path(portal.store_uri, loader_key("/dags/schedules.py", None, None), portal.home), status
        )
        specs = {s["spec_id"]: s for s in portal["admin"].get(f"{V1}/specs").json()["specs"]}
        assert (specs["team-a.ok"]["status"], specs["team-a.ok"]["status_reason"]) == ("loaded", None)
        assert specs["team-a.broken"]["status"] == "failed"
        assert "not allowed" in specs["team-a.broken"]["status_reason"]
        assert specs["team-a.late"]["status"] == "dropped"
        assert specs["team-a.unselected"]["status"] == "not_loaded"
        failed = portal["admin"].get(f"{V1}/specs", params={"status": "failed"}).json()
        assert [s["spec_id"] for s in failed["specs"]] == ["team-a.broken"]
        status["parsed_at"] = "2020-01-01T00:00:00+00:00"
        write_status(
            status_path(portal.store_uri, loader_key("/dags/schedules.py", None, None), portal.home), status
        )
        assert portal["admin"].get(f"{V1}/specs/team-a.ok").json()["status"] == "pending"

    def test_no_loader_status_is_unknown(self, portal: PortalEnv) -> None:
        apply(portal["admin"], spec_doc())
        spec = portal["admin"].get(f"{V1}/specs").json()["specs"][0]
        assert spec["status"] == "unknown"
        assert "no loader status" in spec["status_reason"]


class TestStateChanges:
    def test_pause_resume_delete_restore_rollback(self, portal: PortalEnv) -> None:
        from airflow.models.dag import DagModel
        from airflow.utils.session import create_session

        apply(portal["alice"], spec_doc())
        add_dag("team-a.daily")
        client = portal["alice"]
        pause = client.post(f"{V1}/specs/team-a.daily/pause").json()
        assert (pause["revision"], pause["changed"]) == (2, True)
        with create_session() as session:
            assert session.get(DagModel, "team-a.daily").is_paused is True
        assert client.post(f"{V1}/specs/team-a.daily/pause").json()["changed"] is False
        body = assert_error_shape(
            client.post(f"{V1}/specs/team-a.daily/resume", json={"expected_revision": 1}), 409
        )
        assert (body["expected_revision"], body["current_revision"]) == (1, 2)
        assert (
            client.post(f"{V1}/specs/team-a.daily/resume", json={"expected_revision": 2}).json()["revision"]
            == 3
        )
        with create_session() as session:
            assert session.get(DagModel, "team-a.daily").is_paused is False
        assert_error_shape(client.post(f"{V1}/specs/team-a.daily/restore"), 409)
        assert client.delete(f"{V1}/specs/team-a.daily").json()["revision"] == 4
        assert client.get(f"{V1}/specs").json()["total_entries"] == 0
        assert (
            client.get(f"{V1}/specs", params={"include_deleted": True}).json()["specs"][0]["deleted"] is True
        )
        assert_error_shape(client.post(f"{V1}/specs/team-a.daily/pause"), 404)
        restored = client.post(f"{V1}/specs/team-a.daily/restore").json()
        assert restored["revision"] == 5
        apply(client, spec_doc(description="v6"), expected=5)
        rolled = client.post(f"{V1}/specs/team-a.daily/rollback", json={"revision": 1}).json()
        assert (rolled["revision"], rolled["rolled_back_to"]) == (7, 1)
        current = client.get(f"{V1}/specs/team-a.daily").json()
        assert (
            current["spec"] == client.get(f"{V1}/specs/team-a.daily", params={"revision": 1}).json()["spec"]
        )
        actions = [r["action"] for r in client.get(f"{V1}/specs/team-a.daily/history").json()["revisions"]]
        assert actions == ["create", "pause", "resume", "delete", "restore", "update", "update"]
        events = [e for e, *_ in audit_rows()]
        assert events == [
            "schedule_spec.apply",
            "schedule_spec.pause",
            "schedule_spec.resume",
            "schedule_spec.delete",
            "schedule_spec.restore",
            "schedule_spec.apply",
            "schedule_spec.rollback",
        ]

    def test_rollback_to_an_unknown_revision(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        assert_error_shape(
            portal["alice"].post(f"{V1}/specs/team-a.daily/rollback", json={"revision": 4}), 404
        )
        assert_error_shape(portal["alice"].post(f"{V1}/specs/team-a.daily/rollback", json={}), 422)

    def test_rollback_shares_the_clis_rules(self, portal: PortalEnv) -> None:
        """store.rollback: unknown revisions are listed, today's policy re-checks the old revision."""
        from airflow_provider_scheduler.spec.policy import GovernancePolicy

        two_tasks = [{"id": "noop", "template": "empty"}, {"id": "more", "template": "empty"}]
        client = portal["alice"]
        assert apply(client, spec_doc(tasks=two_tasks)).status_code == 201
        assert apply(client, spec_doc(), expected=1).status_code == 200
        body = assert_error_shape(client.post(f"{V1}/specs/team-a.daily/rollback", json={"revision": 5}), 404)
        assert body["detail"] == "spec team-a.daily has no revision 5; its revisions are 1-2"
        assert body["revisions"] == [1, 2]
        portal.portal.store().policy = GovernancePolicy(max_tasks=1)  # tightened since revision 1
        body = assert_error_shape(client.post(f"{V1}/specs/team-a.daily/rollback", json={"revision": 1}), 422)
        assert [p["path"] for p in body["problems"]] == ["tasks"]
        history = client.get(f"{V1}/specs/team-a.daily/history").json()
        assert history["total_entries"] == 2
        stale = client.post(f"{V1}/specs/team-a.daily/rollback", json={"revision": 2, "expected_revision": 1})
        assert_error_shape(stale, 409)
        same = client.post(f"{V1}/specs/team-a.daily/rollback", json={"revision": 2}).json()
        assert (same["revision"], same["action"], same["rolled_back_to"]) == (2, "unchanged", 2)


class TestRuns:
    def test_trigger_conf_checked_against_params(self, portal: PortalEnv) -> None:
        params = {
            "region": {"type": "string", "enum": ["eu", "us"], "default": "eu"},
            "day": {"type": "integer"},
        }
        apply(portal["alice"], spec_doc(params=params))
        resp = portal["alice"].post(
            f"{V1}/specs/team-a.daily/trigger", json={"conf": {"region": "asia", "dya": 1}}
        )
        body = assert_error_shape(resp, 422)
        paths = {p["path"] for p in body["problems"]}
        assert paths == {"conf.region", "conf.dya", "conf.day"}

    def test_trigger_before_the_dag_exists(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        body = assert_error_shape(
            portal["alice"].post(f"{V1}/specs/team-a.daily/trigger", json={"conf": {}}), 409
        )
        assert "no DAG team-a.daily yet" in body["detail"]

    def test_recent_runs(self, portal: PortalEnv) -> None:
        apply(portal["alice"], spec_doc())
        add_dag("team-a.daily", runs=3)
        runs = portal["alice"].get(f"{V1}/specs/team-a.daily/runs", params={"limit": 2}).json()
        assert runs["total_entries"] == 3
        assert [(r["run_id"], r["state"]) for r in runs["dag_runs"]] == [
            ("manual__2", "failed"),
            ("manual__1", "success"),
        ]
        assert_error_shape(portal["bob"].get(f"{V1}/specs/team-a.daily/runs"), 403)
