"""No request of the hook or the async client leaves the approved host (two real servers on 127.0.0.1),
and no error of the hook echoes a credential.

The approved server redirects; the foreign server, on another port, would answer 200 with a
triggered run and must receive nothing: not the conf, not the token, not the password.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from api_samples import set_conn_env
from recording_http import RecordingServer, Reply

from airflow_provider_scheduler.hooks.async_client import SchedulerAsyncClient
from airflow_provider_scheduler.hooks.scheduler import SchedulerHook
from airflow_provider_scheduler.rest.connection import SchedulerConnectionSettings
from airflow_provider_scheduler.rest.errors import SchedulerRedirectError

TOKEN = "Zq7-static-token"
PASSWORD = "Zq7-passw0rd"
RUNS = "/api/v2/dags/d/dagRuns"
RUN = {"dag_run_id": "r1", "dag_id": "d", "state": "queued", "conf": {"k": "v"}}


def foreign_route(received: Any) -> Reply:
    if received.path == "/auth/token":
        return Reply(201, {"access_token": "foreign-token"})
    return Reply(200, RUN)


@pytest.fixture
def foreign():
    with RecordingServer(foreign_route) as server:
        yield server


def approved_server(route: Any):
    return RecordingServer(route)


def hook_for(url: str, **settings: Any) -> SchedulerHook:
    hook = SchedulerHook("redirects", sleep=lambda seconds: None)
    hook._settings = SchedulerConnectionSettings(
        base_url=url, api_version="v2", max_retries=0, conn_id="redirects", **settings
    )
    return hook


def refused(method_path: str, status: int, source: str, target: str) -> str:
    return (
        f"{method_path} was redirected ({status}) from {source} to another host, {target}: refused, so "
        f"that no request, credentials or configured headers leave {source}. If {target} is the right "
        "server, set the connection's host to it."
    )


class TestSyncHook:
    @pytest.mark.parametrize("status", [307, 308])
    def test_trigger_redirected_to_another_host_is_an_error(self, foreign, status: int) -> None:
        def route(received: Any) -> Reply:
            return RecordingServer.redirect(f"{foreign.url}{received.path}", status)

        with approved_server(route) as approved:
            hook = hook_for(approved.url, token=TOKEN)
            with pytest.raises(SchedulerRedirectError) as info:
                hook.trigger_dag_run("d", conf={"k": "v"}, run_id="r1")
            hook.close()
        assert str(info.value) == refused(f"POST {RUNS}", status, approved.url, foreign.url)
        assert info.value.status_code == status
        assert foreign.received == []
        assert [r.path for r in approved.received] == [RUNS]

    def test_password_of_the_token_exchange_never_leaves(self, foreign) -> None:
        def route(received: Any) -> Reply:
            return RecordingServer.redirect(f"{foreign.url}/auth/token")

        with approved_server(route) as approved:
            hook = hook_for(approved.url, login="admin", password=PASSWORD)
            with pytest.raises(SchedulerRedirectError) as info:
                hook.get_dag("d")
            hook.close()
        assert str(info.value) == refused("POST /auth/token", 307, approved.url, foreign.url)
        assert foreign.received == []
        assert PASSWORD not in str(info.value)

    def test_location_with_credentials_is_not_printed(self, foreign) -> None:
        location = f"http://admin:{PASSWORD}@127.0.0.1:{foreign.port}/x?token={TOKEN}"
        with approved_server(lambda received: RecordingServer.redirect(location)) as approved:
            hook = hook_for(approved.url, token=TOKEN)
            with pytest.raises(SchedulerRedirectError) as info:
                hook.get_dag("d")
            hook.close()
        assert str(info.value) == refused("GET /api/v2/dags/d", 307, approved.url, foreign.url)
        assert "Zq7" not in str(info.value)
        assert foreign.received == []

    def test_same_host_307_keeps_method_body_and_token(self) -> None:
        def route(received: Any) -> Reply:
            if received.path == RUNS:
                return RecordingServer.redirect("/moved/dagRuns?x=1")
            return Reply(200, RUN)

        with approved_server(route) as approved:
            hook = hook_for(approved.url, token=TOKEN)
            run = hook.trigger_dag_run("d", conf={"k": "v"}, run_id="r1")
            hook.close()
        assert run["dag_run_id"] == "r1"
        first, second = approved.received
        assert (second.method, second.path) == ("POST", "/moved/dagRuns?x=1")
        assert second.json() == first.json()
        assert second.json()["conf"] == {"k": "v"}
        assert second.headers["Authorization"] == f"Bearer {TOKEN}"

    def test_same_host_302_on_post_is_refused(self) -> None:
        with approved_server(lambda received: RecordingServer.redirect("/elsewhere", 302)) as approved:
            hook = hook_for(approved.url, token=TOKEN)
            with pytest.raises(SchedulerRedirectError) as info:
                hook.trigger_dag_run("d", run_id="r1")
            hook.close()
        assert str(info.value) == (
            f"POST {RUNS} was redirected (302) to /elsewhere on {approved.url}, which would turn the POST "
            "into a GET: refused. Set the path to the final URL."
        )
        assert len(approved.received) == 1


class TestAsyncClient:
    def test_redirect_to_another_host_is_an_error(self, foreign) -> None:
        def route(received: Any) -> Reply:
            return RecordingServer.redirect(f"{foreign.url}{received.path}", 308)

        async def scenario(url: str) -> Any:
            settings = SchedulerConnectionSettings(
                base_url=url, api_version="v2", token=TOKEN, max_retries=0, conn_id="redirects"
            )
            async with SchedulerAsyncClient(settings) as client:
                return await client.get_dag_run("d", "r1")

        with approved_server(route) as approved, pytest.raises(SchedulerRedirectError) as info:
            asyncio.run(scenario(approved.url))
        assert str(info.value) == refused("GET /api/v2/dags/d/dagRuns/r1", 308, approved.url, foreign.url)
        assert foreign.received == []


class TestCredentialsInTheHost:
    @pytest.mark.parametrize(
        "host", ["http://admin:Zq7PW@host:80a", "http://admin:Zq7/PW@host", "admin:Zq7#PW@host:8080"]
    )
    def test_no_error_echoes_the_password(self, monkeypatch, host: str) -> None:
        set_conn_env(monkeypatch, "creds_in_host", host=host, login="admin", password="Zq7pass")
        hook = SchedulerHook("creds_in_host")
        ok, message = hook.test_connection()
        assert not ok
        assert message.startswith(
            "Invalid connection settings: connection 'creds_in_host' (type scheduler): "
        )
        assert "Zq7" not in message
        with pytest.raises(ValueError, match=r"^connection 'creds_in_host' ") as info:
            hook.get_dag("d")
        assert "Zq7" not in str(info.value)
