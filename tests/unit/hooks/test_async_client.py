"""SchedulerAsyncClient: one session per loop, shared JWT, retries, and the same errors as the sync hook."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_scheduler.hooks.async_client import SchedulerAsyncClient, loop_state
from airflow_provider_scheduler.hooks.scheduler import (
    SchedulerAuthError,
    SchedulerHook,
    SchedulerNotFoundError,
    SchedulerTransientError,
)

if TYPE_CHECKING:
    from fake_airflow_api import FakeAirflowApi

RUN_ID = "manual__2026-03-01T00:00:00+00:00"
RUN_PATH = r"/dagRuns/[^/]+$"


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def top_of_range(low: float, high: float) -> float:
    return high


async def client(conn_id: str = "scheduler_default", **kwargs: Any) -> SchedulerAsyncClient:
    return await SchedulerAsyncClient.for_connection(conn_id, **kwargs)


def with_run(api: FakeAirflowApi, states: list[str] | None = None) -> None:
    api.add_dag("target")
    api.add_run("target", RUN_ID, states=states or ["running"], logical_date="2026-03-01T00:00:00+00:00")


def sync_error(call: Any) -> Exception:
    with pytest.raises(Exception) as info:  # noqa: PT011 - compared in full below
        call()
    return info.value


class TestSharedSession:
    def test_one_session_per_loop_closed_by_the_last_client(self, fake_api: FakeAirflowApi) -> None:
        with_run(fake_api)

        async def scenario() -> None:
            first, second = await client(), await client()
            async with first:
                async with second:
                    await asyncio.gather(
                        first.get_dag_run("target", RUN_ID), second.get_dag_run("target", RUN_ID)
                    )
                    state = loop_state()
                    session = state.session
                    assert session is not None
                    assert state.users == 2
                    assert state.sessions_created == 1
                assert not session.closed  # `first` still uses it
            assert session.closed
            assert state.session is None
            assert state.users == 0

        asyncio.run(scenario())

    def test_each_loop_gets_its_own_session_and_token(self, fake_api: FakeAirflowApi) -> None:
        with_run(fake_api)

        async def one_call() -> bool:
            async with await client() as c:
                await c.get_dag_run("target", RUN_ID)
                session = loop_state().session
            return session is not None and session.closed

        # A session and a JWT never cross event loops (aiohttp sessions are bound to their loop).
        assert asyncio.run(one_call()) is True
        assert asyncio.run(one_call()) is True
        assert fake_api.tokens_issued == 2

    def test_many_clients_fetch_one_token_and_probe_the_version_once(self, fake_api: FakeAirflowApi) -> None:
        with_run(fake_api, ["running"])

        async def scenario() -> list[str]:
            clients = [await client() for _ in range(25)]

            async def poll(c: SchedulerAsyncClient) -> str:
                async with c:
                    return (await c.get_dag_run("target", RUN_ID))["state"]

            return await asyncio.gather(*(poll(c) for c in clients))

        assert asyncio.run(scenario()) == ["running"] * 25
        assert fake_api.tokens_issued == 1
        assert fake_api.count("GET", r"^/api/v2/version$") == 1
        assert fake_api.count("POST", r"^/auth/token$") == 1

    def test_requires_async_with(self, fake_api: FakeAirflowApi) -> None:
        with_run(fake_api)

        async def scenario() -> None:
            c = await client()
            with pytest.raises(RuntimeError, match="enter the client first"):
                await c.get_dag_run("target", RUN_ID)

        asyncio.run(scenario())


class TestAuth:
    def test_revoked_token_is_refreshed_once(self, fake_api: FakeAirflowApi) -> None:
        with_run(fake_api)

        async def scenario() -> None:
            async with await client() as c:
                await c.get_dag_run("target", RUN_ID)
                fake_api.revoke_tokens()
                assert (await c.get_dag_run("target", RUN_ID))["dag_run_id"] == RUN_ID

        asyncio.run(scenario())
        assert fake_api.tokens_issued == 2

    def test_bad_password_is_an_auth_error_without_the_password(
        self, fake_api: FakeAirflowApi, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with_run(fake_api)
        conn = json.loads(fake_api.conn_json())
        conn["password"] = "wrong-password"
        monkeypatch.setenv("AIRFLOW_CONN_BAD_PW", json.dumps(conn))

        async def scenario() -> None:
            async with await client("bad_pw") as c:
                await c.get_dag_run("target", RUN_ID)

        with pytest.raises(SchedulerAuthError) as info:
            asyncio.run(scenario())
        assert str(info.value) == (
            f"The Airflow API at {fake_api.url} rejected the username/password of user 'admin' "
            "(401: Invalid credentials). Check the login and password of connection 'bad_pw'."
        )
        assert "wrong-password" not in str(info.value)
        assert str(info.value) == str(
            sync_error(lambda: SchedulerHook("bad_pw").get_dag_run("target", RUN_ID))
        )


class TestRetries:
    def test_transient_answers_are_retried_with_backoff(
        self, fake_api: FakeAirflowApi, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with_run(fake_api)
        monkeypatch.setenv("AIRFLOW_CONN_RETRYING", fake_api.conn_json(max_retries=3))
        fake_api.fail("GET", RUN_PATH, 503, times=2)
        sleep = SleepRecorder()

        async def scenario() -> dict[str, Any]:
            async with await client("retrying", sleep=sleep, uniform=top_of_range) as c:
                return await c.get_dag_run("target", RUN_ID)

        assert asyncio.run(scenario())["state"] == "running"
        assert sleep.calls == [1.0, 2.0]  # full jitter, top of [0, 1] then [0, 2]

    def test_retry_after_is_honoured(self, fake_api: FakeAirflowApi, monkeypatch: pytest.MonkeyPatch) -> None:
        with_run(fake_api)
        monkeypatch.setenv("AIRFLOW_CONN_RETRYING", fake_api.conn_json(max_retries=2))
        fake_api.fail("GET", RUN_PATH, 429, times=1, headers={"Retry-After": "7"})
        sleep = SleepRecorder()

        async def scenario() -> dict[str, Any]:
            async with await client("retrying", sleep=sleep) as c:
                return await c.get_dag_run("target", RUN_ID)

        assert asyncio.run(scenario())["dag_run_id"] == RUN_ID
        assert sleep.calls == [7.0]

    def test_exhausted_retries_raise_the_hooks_transient_error(
        self, fake_api: FakeAirflowApi, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with_run(fake_api)
        monkeypatch.setenv("AIRFLOW_CONN_RETRYING", fake_api.conn_json(max_retries=2))
        fake_api.fail("GET", RUN_PATH, 500, times=3, body={"detail": "database is locked"})
        sleep = SleepRecorder()

        async def scenario() -> None:
            async with await client("retrying", sleep=sleep, uniform=top_of_range) as c:
                await c.get_dag_run("target", RUN_ID)

        with pytest.raises(SchedulerTransientError) as info:
            asyncio.run(scenario())
        assert sleep.calls == [1.0, 2.0]
        fake_api.fail("GET", RUN_PATH, 500, times=3, body={"detail": "database is locked"})
        hook = SchedulerHook("retrying", sleep=lambda s: None)
        assert str(info.value) == str(sync_error(lambda: hook.get_dag_run("target", RUN_ID)))
        assert "Gave up after 3 attempts" in str(info.value)

    def test_connection_refused_is_transient_with_the_hooks_message(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # closed again: nothing listens there
        conn = {
            "conn_type": "scheduler",
            "host": f"http://127.0.0.1:{port}",
            "login": "admin",
            "password": "pw-123456",
            "extra": {"api_version": "v2", "max_retries": 1},
        }
        monkeypatch.setenv("AIRFLOW_CONN_DOWN", json.dumps(conn))
        sleep = SleepRecorder()

        async def scenario() -> None:
            async with await client("down", sleep=sleep) as c:
                await c.get_dag_run("target", RUN_ID)

        with pytest.raises(SchedulerTransientError) as info:
            asyncio.run(scenario())
        assert len(sleep.calls) == 1
        hook = SchedulerHook("down", sleep=lambda s: None)
        assert str(info.value) == str(sync_error(lambda: hook.get_dag_run("target", RUN_ID)))
        assert "connection refused" in str(info.value)


class TestSameAsSyncHook:
    def test_run_dicts_are_normalised_identically(self, fake_api: FakeAirflowApi) -> None:
        with_run(fake_api, ["running"])

        async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            async with await client() as c:
                return await c.get_dag_run("target", RUN_ID), await c.list_dag_runs("target")

        run, runs = asyncio.run(scenario())
        hook = SchedulerHook("scheduler_default")
        assert run == hook.get_dag_run("target", RUN_ID)
        assert runs == hook.list_dag_runs("target")
        assert run["dag_run_id"] == RUN_ID
        assert run["logical_date"] == "2026-03-01T00:00:00+00:00"

    def test_not_found_error_is_identical(self, fake_api: FakeAirflowApi) -> None:
        fake_api.add_dag("target")

        async def scenario() -> None:
            async with await client() as c:
                await c.get_dag_run("target", "missing")

        with pytest.raises(SchedulerNotFoundError) as info:
            asyncio.run(scenario())
        assert info.value.status_code == 404
        sync = sync_error(lambda: SchedulerHook("scheduler_default").get_dag_run("target", "missing"))
        assert type(sync) is SchedulerNotFoundError
        assert str(info.value) == str(sync)

    def test_ui_url_matches_the_hook(self, fake_api: FakeAirflowApi) -> None:
        with_run(fake_api)

        async def scenario() -> str:
            async with await client() as c:
                await c.api_version()
                return c.ui_url_for_run("target", RUN_ID)

        assert asyncio.run(scenario()) == SchedulerHook("scheduler_default").ui_url_for_run("target", RUN_ID)


class TestApiV1:
    """Against an Airflow 2.x deployment: detected as v1, basic auth, execution_date, grid URLs."""

    def test_detects_v1_and_matches_the_sync_hook(self, fake_api_v1: FakeAirflowApi) -> None:
        with_run(fake_api_v1, ["running"])

        async def scenario() -> tuple[str, dict[str, Any], list[dict[str, Any]], str]:
            async with await client() as c:
                run = await c.get_dag_run("target", RUN_ID)
                runs = await c.list_dag_runs(
                    "target",
                    logical_date_gte="2026-03-01T00:00:00+00:00",
                    logical_date_lte="2026-03-01T00:00:00+00:00",
                )
                return await c.api_version(), run, runs, c.ui_url_for_run("target", RUN_ID)

        version, run, runs, url = asyncio.run(scenario())
        hook = SchedulerHook("scheduler_default")
        assert version == "v1"
        assert run == hook.get_dag_run("target", RUN_ID)
        assert run["logical_date"] == "2026-03-01T00:00:00+00:00"
        assert [r["dag_run_id"] for r in runs] == [RUN_ID]
        assert url == hook.ui_url_for_run("target", RUN_ID)
        assert (
            url == f"{fake_api_v1.url}/dags/target/grid?dag_run_id=manual__2026-03-01T00%3A00%3A00%2B00%3A00"
        )
        assert fake_api_v1.count("POST", r"^/auth/token$") == 0
