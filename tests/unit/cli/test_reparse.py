"""`pause`, `resume` and `delete` tell the running Airflow at once (cli/reparse.py); requests_mock."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from api_samples import BASE, PASSWORD, make_jwt, set_conn_env
from store_contract import make_spec, write_spec_file

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.store import open_store

DAG_ID = "analytics.a"
TOKEN = "file-token.sig"


@pytest.fixture
def uri(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    store = f"sqlite:///{tmp_path / 'cli.db'}"
    write_spec_file(tmp_path / "a.yaml", make_spec("a"))
    assert main(["apply", str(tmp_path / "a.yaml"), "--store", store, "--author", "alice"]) == 0
    capsys.readouterr()
    return store


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SCHEDULER_DEFAULT", raising=False)
    set_conn_env(monkeypatch, "scheduler_default", host=BASE, login="admin", password=PASSWORD)


@pytest.fixture
def airflow3(requests_mock, connection) -> None:
    requests_mock.get(f"{BASE}/api/v2/version", json={"version": "3.3.2", "git_version": None})
    requests_mock.post(
        f"{BASE}/auth/token", status_code=201, json={"access_token": make_jwt(time.time() + 3600)}
    )
    requests_mock.get(
        f"{BASE}/api/v2/dags/{DAG_ID}",
        json={"dag_id": DAG_ID, "file_token": TOKEN, "relative_fileloc": "schedules.py", "is_paused": False},
    )
    requests_mock.patch(f"{BASE}/api/v2/dags/{DAG_ID}", json={"dag_id": DAG_ID, "is_paused": True})
    requests_mock.put(f"{BASE}/api/v2/parseDagFile/{TOKEN}", status_code=201)


def sent(requests_mock) -> list[tuple[str, str]]:
    """(method, path) sent to the API; requests_mock lower-cases paths."""
    return [(r.method, r.path) for r in requests_mock.request_history if r.path != "/auth/token"]


class TestWithAConnection:
    @pytest.mark.parametrize(("command", "past"), [("pause", "paused"), ("resume", "resumed")])
    def test_pause_and_resume_ask_for_a_reparse(
        self, uri, airflow3, requests_mock, capsys, command, past
    ) -> None:
        if command == "resume":
            with open_store(uri) as store:
                store.pause(DAG_ID, author="bob")
        assert main([command, DAG_ID, "--store", uri]) == 0
        captured = capsys.readouterr()
        assert captured.out.startswith(f"{past} {DAG_ID} as revision ")
        assert captured.err == (
            f"asked Airflow at {BASE} to reparse schedules.py: the DAG is {past} within seconds.\n"
        )
        assert sent(requests_mock)[-2:] == [
            ("GET", f"/api/v2/dags/{DAG_ID}"),
            ("PUT", f"/api/v2/parsedagfile/{TOKEN}"),
        ]

    def test_delete_pauses_the_dag_and_asks_for_a_reparse(self, uri, airflow3, requests_mock, capsys) -> None:
        assert main(["delete", DAG_ID, "--store", uri]) == 0
        captured = capsys.readouterr()
        assert captured.out == f"deleted {DAG_ID} as revision 2\n"
        assert captured.err == (
            f"paused DAG {DAG_ID} in Airflow at {BASE} and asked it to reparse schedules.py; Airflow marks "
            "the DAG stale (gone from the DAG list) 50 to 110 s after that ([dag_processor] "
            "stale_dag_threshold + [scheduler] parsing_cleanup_interval).\n"
        )
        patch = next(r for r in requests_mock.request_history if r.method == "PATCH")
        assert patch.json() == {"is_paused": True}
        assert sent(requests_mock)[-3:] == [
            ("PATCH", f"/api/v2/dags/{DAG_ID}"),
            ("GET", f"/api/v2/dags/{DAG_ID}"),
            ("PUT", f"/api/v2/parsedagfile/{TOKEN}"),
        ]

    def test_nothing_is_sent_when_nothing_changed(self, uri, airflow3, requests_mock, capsys) -> None:
        with open_store(uri) as store:
            store.pause(DAG_ID, author="bob")
        assert main(["pause", DAG_ID, "--store", uri]) == 0
        assert capsys.readouterr().err == ""
        assert requests_mock.request_history == []

    def test_a_dag_airflow_does_not_know_yet(self, uri, airflow3, requests_mock, capsys) -> None:
        requests_mock.get(f"{BASE}/api/v2/dags/{DAG_ID}", status_code=404, json={"detail": "not found"})
        assert main(["pause", DAG_ID, "--store", uri]) == 0
        assert (
            capsys.readouterr().err
            == f"note: Airflow at {BASE} has no DAG {DAG_ID} (yet); nothing to tell it.\n"
        )

    def test_airflow_down_is_a_warning_and_the_change_stays(
        self, uri, connection, requests_mock, capsys
    ) -> None:
        requests_mock.get(
            f"{BASE}/api/v2/version", exc=requests.exceptions.ConnectionError("Connection refused")
        )
        assert main(["delete", DAG_ID, "--store", uri]) == 0
        err = capsys.readouterr().err
        assert err.startswith(f"warning: could not tell Airflow at {BASE} (Cannot reach the Airflow API")
        assert err.endswith(
            "the change is stored and Airflow stops scheduling the DAG when the DAG processor next parses "
            "the loader file (every 30 s) and marks it stale (gone from the DAG list) 50 to 110 s after "
            "that.\n"
        )
        assert PASSWORD not in err
        assert len([r for r in requests_mock.request_history if r.path == "/api/v2/version"]) == 1  # no retry
        with open_store(uri) as store:
            assert store.get(DAG_ID) is None

    def test_airflow_2_says_it_cannot_reparse(self, uri, connection, requests_mock, capsys) -> None:
        requests_mock.get(f"{BASE}/api/v2/version", status_code=404, json={"detail": "Not Found"})
        requests_mock.get(f"{BASE}/api/v1/version", json={"version": "2.11.2", "git_version": None})
        requests_mock.patch(f"{BASE}/api/v1/dags/{DAG_ID}", json={"dag_id": DAG_ID, "is_paused": True})
        assert main(["pause", DAG_ID, "--store", uri]) == 0
        assert capsys.readouterr().err == (
            f"note: {BASE} is Airflow 2.x (REST API v1), which cannot be asked to reparse a file; Airflow "
            "applies the change when the DAG processor next parses the loader file (every 30 s).\n"
        )
        assert main(["delete", DAG_ID, "--store", uri]) == 0
        assert capsys.readouterr().err.endswith("after that (its DAG is paused already).\n")
        assert [r.method for r in requests_mock.request_history if "/dags/" in r.path] == ["PATCH"]


class TestWithoutAConnection:
    def test_says_when_airflow_will_see_the_change(self, uri, monkeypatch, capsys) -> None:
        monkeypatch.delenv("AIRFLOW_CONN_SCHEDULER_DEFAULT", raising=False)
        monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL", "12")
        monkeypatch.setenv("AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL", "12")
        assert main(["pause", DAG_ID, "--store", uri]) == 0
        assert capsys.readouterr().err == (
            "note: no Airflow connection 'scheduler_default' here, so Airflow applies the change when the "
            "DAG processor next parses the loader file (every 12 s).\n"
        )

    def test_an_invalid_connection_is_named(self, uri, monkeypatch, capsys) -> None:
        set_conn_env(monkeypatch, "scheduler_default", host="ftp://airflow.test")
        assert main(["resume", DAG_ID, "--store", uri]) == 0  # not paused: nothing to say
        assert main(["pause", DAG_ID, "--store", uri]) == 0
        err = capsys.readouterr().err
        assert err.startswith(
            "note: connection 'scheduler_default' (type scheduler): the Airflow API URL must start with "
            "http:// or https://, got ftp://; so Airflow applies the change when"
        )
