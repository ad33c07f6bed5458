"""The portal's Schedules API on a real Airflow 3.3 (api-server, dag-processor, scheduler, triggerer).

SimpleAuthManager users ``viewer`` (role viewer), ``alice`` and ``bob`` (role user) and ``admin``;
``[schedule_specs] namespace_access`` gives team-a to alice (and viewer) and team-b to bob (see
``tests/integration/conftest.py``). The store is the deployment's PostgreSQL spec store, the one the
loader file in the dags folder reads.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import requests

V1 = "/schedules/api/v1"


def spec_doc(namespace: str, name: str, **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1,
        "namespace": namespace,
        "name": name,
        "description": f"{name} from the portal",
        "schedule": None,
        "start_date": "2026-01-01",
        "tasks": [
            {"id": "first", "template": "empty"},
            {"id": "second", "template": "empty", "depends_on": ["first"]},
        ],
    }
    doc.update(overrides)
    return doc


class Portal:
    """Signed-in clients of the deployment, one per user."""

    def __init__(self, airflow: Any) -> None:
        self.airflow = airflow
        self.base = airflow.base_url
        passwords = json.loads((airflow.home / "simple_auth_manager_passwords.json.generated").read_text())
        self.tokens: dict[str, str] = {}
        for user in ("admin", "viewer", "alice", "bob"):
            resp = requests.post(
                f"{self.base}/auth/token", json={"username": user, "password": passwords[user]}, timeout=30
            )
            assert resp.status_code == 201, resp.text
            self.tokens[user] = resp.json()["access_token"]

    def request(self, user: str | None, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return requests.request(method, f"{self.base}{path}", headers=headers, timeout=60, **kwargs)

    def apply(self, user: str, spec: dict[str, Any], expected: int | None = None) -> requests.Response:
        spec_id = f"{spec['namespace']}.{spec['name']}"
        return self.request(
            user, "PUT", f"{V1}/specs/{spec_id}", json={"spec": spec, "expected_revision": expected}
        )


@pytest.fixture(scope="module")
def portal(airflow: Any) -> Portal:
    return Portal(airflow)


def wait_for(predicate: Any, timeout: float = 120, step: float = 0.25) -> float:
    """Poll ``predicate`` until it is true; return the seconds it took (hang guard: ``timeout``)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"not true within {timeout} s")


class TestSignIn:
    def test_401_without_token_and_with_a_bad_one(self, portal: Portal) -> None:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            for method, path in (
                ("GET", f"{V1}/specs"),
                ("PUT", f"{V1}/specs/team-a.x"),
                ("GET", f"{V1}/openapi.json"),
            ):
                resp = portal.request(None, method, path, headers=dict(headers), json={})
                assert resp.status_code == 401, (method, path, resp.text)
                body = resp.json()
                assert set(body) == {"status", "title", "detail"}

    def test_the_ui_cookie_signs_in(self, portal: Portal) -> None:
        resp = portal.request(None, "GET", f"{V1}/me", cookies={"_token": portal.tokens["alice"]})
        assert resp.status_code == 200, resp.text
        assert resp.json()["user"] == "alice"

    def test_plugin_loaded_without_import_errors(self, portal: Portal) -> None:
        errors = portal.airflow.api("GET", "/api/v2/plugins/importErrors").json()
        assert errors["total_entries"] == 0, errors
        names = [p["name"] for p in portal.airflow.api("GET", "/api/v2/plugins").json()["plugins"]]
        assert names.count("schedules") == 1


class TestAuthorization:
    def test_viewer_cannot_write(self, portal: Portal) -> None:
        resp = portal.apply("viewer", spec_doc("team-a", "viewer-try"))
        assert resp.status_code == 403, resp.text
        assert portal.request("admin", "GET", f"{V1}/specs/team-a.viewer-try").status_code == 404

    def test_namespace_isolation(self, portal: Portal) -> None:
        assert portal.apply("alice", spec_doc("team-a", "iso-a")).status_code == 201
        assert portal.apply("bob", spec_doc("team-b", "iso-b")).status_code == 201
        alice_ids = [s["spec_id"] for s in portal.request("alice", "GET", f"{V1}/specs").json()["specs"]]
        assert "team-a.iso-a" in alice_ids
        assert not [i for i in alice_ids if not i.startswith("team-a.")]
        assert portal.request("alice", "GET", f"{V1}/specs/team-b.iso-b").status_code == 403
        assert portal.apply("alice", spec_doc("team-b", "iso-b", description="hijack"), 1).status_code == 403
        assert portal.request("alice", "DELETE", f"{V1}/specs/team-b.iso-b").status_code == 403
        bob_view = portal.request("bob", "GET", f"{V1}/specs/team-b.iso-b").json()
        assert (bob_view["revision"], bob_view["spec"]["description"]) == (1, "iso-b from the portal")


class TestApply:
    def test_apply_then_the_dag_appears_author_and_audit(self, portal: Portal) -> None:
        started = time.monotonic()
        resp = portal.apply("alice", spec_doc("team-a", "appears"))
        assert resp.status_code == 201, resp.text
        seconds = wait_for(
            lambda: portal.airflow.api("GET", "/api/v2/dags/team-a.appears").status_code == 200
        )
        total = time.monotonic() - started
        print(
            f"\napply -> DAG team-a.appears in /api/v2/dags: {total:.1f} s ({seconds:.1f} s after the answer)"
        )
        history = portal.request("alice", "GET", f"{V1}/specs/team-a.appears/history").json()
        assert [(r["revision"], r["author"]) for r in history["revisions"]] == [(1, "alice")]
        wait_for(lambda: portal.request("alice", "GET", f"{V1}/specs/team-a.appears").json()["dag"]["exists"])
        update = portal.apply("alice", spec_doc("team-a", "appears", description="second"), 1)
        assert update.status_code == 200
        assert any(r["relative_fileloc"] == "schedules.py" for r in update.json()["reparse_requested"]), (
            update.text
        )
        events = portal.airflow.api(
            "GET", "/api/v2/eventLogs", params={"event": "schedule_spec.apply", "dag_id": "team-a.appears"}
        ).json()["event_logs"]
        assert sorted(json.loads(e["extra"])["revision"] for e in events) == [1, 2]
        assert {e["owner"] for e in events} == {"alice"}

    def test_two_conflicting_applies_one_409_nothing_lost(self, portal: Portal) -> None:
        assert portal.apply("alice", spec_doc("team-a", "race")).status_code == 201
        answers: dict[str, requests.Response] = {}
        barrier = threading.Barrier(2)

        def edit(user: str) -> None:
            barrier.wait()
            answers[user] = portal.apply(user, spec_doc("team-a", "race", description=f"by {user}"), 1)

        threads = [threading.Thread(target=edit, args=(u,)) for u in ("alice", "admin")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        codes = sorted(r.status_code for r in answers.values())
        assert codes == [200, 409], {u: r.text for u, r in answers.items()}
        winner = next(u for u, r in answers.items() if r.status_code == 200)
        loser = answers[next(u for u in answers if u != winner)].json()
        assert (loser["expected_revision"], loser["current_revision"]) == (1, 2)
        current = portal.request("admin", "GET", f"{V1}/specs/team-a.race").json()
        assert (current["revision"], current["spec"]["description"], current["author"]) == (
            2,
            f"by {winner}",
            winner,
        )

    def test_invalid_spec_422_with_paths_nothing_stored(self, portal: Portal) -> None:
        doc = spec_doc("team-a", "typo")
        doc["tasks"][1]["depends_on"] = ["frist"]
        resp = portal.apply("alice", doc)
        assert resp.status_code == 422, resp.text
        assert {
            "path": "tasks[1].depends_on[0]",
            "message": "unknown task 'frist' (did you mean 'first'?)",
        } in resp.json()["problems"]
        assert portal.request("admin", "GET", f"{V1}/specs/team-a.typo").status_code == 404

    def test_trigger_from_the_api_and_the_run_succeeds(self, portal: Portal) -> None:
        assert portal.apply("alice", spec_doc("team-a", "runme")).status_code == 201
        wait_for(lambda: portal.airflow.api("GET", "/api/v2/dags/team-a.runme").status_code == 200)
        resp = portal.request("alice", "POST", f"{V1}/specs/team-a.runme/trigger", json={"conf": {}})
        assert resp.status_code == 201, resp.text
        run_id = resp.json()["run_id"]
        assert portal.airflow.wait_for_run("team-a.runme", run_id, timeout=180)["state"] == "success"
        runs = portal.request("alice", "GET", f"{V1}/specs/team-a.runme/runs").json()["dag_runs"]
        assert runs[0]["run_id"] == run_id
        assert runs[0]["triggering_user_name"] == "alice"

    def test_pause_and_delete_reach_airflow(self, portal: Portal) -> None:
        assert portal.apply("alice", spec_doc("team-a", "lifecycle")).status_code == 201
        wait_for(lambda: portal.airflow.api("GET", "/api/v2/dags/team-a.lifecycle").status_code == 200)
        assert portal.request("alice", "POST", f"{V1}/specs/team-a.lifecycle/pause").json()["changed"] is True
        assert portal.airflow.api("GET", "/api/v2/dags/team-a.lifecycle").json()["is_paused"] is True
        assert portal.request("alice", "DELETE", f"{V1}/specs/team-a.lifecycle").status_code == 200
        portal.airflow.wait_for_dag_gone("team-a.lifecycle")
