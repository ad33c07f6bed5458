"""A store password never reaches any output: CLI errors, ``status``, snapshot header, status file, logs.

Each password carries the markers ``Zq7`` and ``K9w``; every output is searched for them. The PostgreSQL
URIs point at a closed port of 127.0.0.1 (the real driver fails fast) or, where a store must answer, the
loader reads a SQLite store while it is configured with (and prints) the PostgreSQL URI.
"""

from __future__ import annotations

import json
import logging
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import sqlalchemy
from sqlalchemy import exc as sa_exc

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.factory import load_schedules
from airflow_provider_scheduler.factory import loader as loader_module
from airflow_provider_scheduler.factory.snapshot import snapshot_dir, snapshot_path
from airflow_provider_scheduler.store import StoreUnavailableError, open_store, redact_uri
from airflow_provider_scheduler.store.sql import SqlScheduleStore

if TYPE_CHECKING:
    from pathlib import Path

SQLALCHEMY_2 = int(sqlalchemy.__version__.split(".")[0]) >= 2
MARKERS = ("Zq7", "K9w")
#: Written into the URI as they are (SQLAlchemy reads each as the password).
RAW = ["Zq7p#w/d?K9w", "Zq7#K9w", "Zq7/K9w", "Zq7?K9w", "Zq7:K9w", "Zq7%41K9w", "Zq7'\" \\K9w"]
#: Percent-encoded in the URI.
ENCODED = ["Zq7@K9w", "Zq7%K9w", "Zq7&password=K9w"]
SCHEMES = ["postgresql", "postgresql+psycopg2", *(["postgresql+psycopg"] if SQLALCHEMY_2 else [])]


def leaked(text: str) -> bool:
    return any(marker in text for marker in MARKERS)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nasty_uris(scheme: str = "postgresql") -> list[str]:
    port = closed_port()
    uris = [f"{scheme}://app:{pw}@127.0.0.1:{port}/specs" for pw in RAW]
    uris += [f"{scheme}://app:{quote(pw, safe='')}@127.0.0.1:{port}/specs" for pw in ENCODED]
    uris.append(f"{scheme}://app@127.0.0.1:{port}/specs?password={quote(ENCODED[2], safe='')}")
    return uris


def spec(name: str) -> dict[str, Any]:
    return {
        "version": 1,
        "namespace": "team",
        "name": name,
        "owner": "alice@example.com",
        "schedule": "0 6 * * *",
        "start_date": "2026-01-01",
        "tasks": [{"id": "only", "template": "empty"}],
    }


def everything_written(home: Path) -> str:
    """Every file the loader wrote under ``home`` (snapshot, status files), as text."""
    folder = snapshot_dir(home)
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in sorted(folder.glob("*")) if p.is_file()
    )


@pytest.fixture(autouse=True)
def _no_parsing_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", raising=False)
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", raising=False)


class TestCliErrors:
    @pytest.mark.parametrize("scheme", SCHEMES)
    @pytest.mark.parametrize("command", [["list"], ["show", "team.a"], ["history", "team.a"], ["export"]])
    def test_unreachable_store(
        self, scheme: str, command: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        for uri in nasty_uris(scheme):
            assert main([*command, "--store", uri]) == 1, uri
            captured = capsys.readouterr()
            assert captured.err.startswith("error: "), captured.err
            assert not leaked(captured.out + captured.err), captured.err

    @pytest.mark.parametrize(
        "uri",
        [
            "postgresql://app:Zq7#/K9w@127.0.0.1:80a/specs",  # a bad port: SQLAlchemy cannot read it
            "postgresql://app:Zq7@K9w@127.0.0.1/specs",  # a raw "@" in the password
            "sqlite://app:Zq7#/?K9w@//tmp/specs.db",  # SQLite takes no password; SQLAlchemy prints the URL
            "mysql://app:Zq7#/?K9w@db/specs",  # an unsupported scheme
            "app:Zq7K9w@db/specs",  # not a URI
        ],
    )
    def test_malformed_store_uri(self, uri: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["list", "--store", uri]) == 1
        captured = capsys.readouterr()
        assert captured.err.startswith("error: store URI "), captured.err
        assert not leaked(captured.out + captured.err), captured.err

    def test_raw_at_in_password_is_refused_with_advice(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["list", "--store", "postgresql://app:Zq7@K9w@127.0.0.1/specs"]) == 1
        assert capsys.readouterr().err == (
            "error: store URI 'postgresql://app:***@127.0.0.1/specs': the password (or user name) holds a "
            "raw '@'; write it as %40 (percent-encode @ : / ? # % in the password)\n"
        )


class TestDriverMessages:
    """The store wraps driver errors whose text may quote the DSN: the password is scrubbed from it."""

    @pytest.mark.parametrize("password", RAW + ENCODED)
    def test_operational_error_text_is_scrubbed(self, password: str, monkeypatch: pytest.MonkeyPatch) -> None:
        uri = f"postgresql+psycopg2://app:{quote(password, safe='')}@127.0.0.1:{closed_port()}/specs"
        store = open_store(uri)
        assert isinstance(store, SqlScheduleStore)
        libpq = password.replace("\\", "\\\\").replace("'", "\\'")
        texts = [
            f"invalid dsn: host=127.0.0.1 password='{libpq}' dbname=specs",
            f"could not connect with {password}",
            f"FATAL: bad URL {uri}",
        ]
        try:
            for text in texts:

                def refuse(*args: Any, _text: str = text, **kwargs: Any) -> Any:
                    raise sa_exc.OperationalError("connect", {}, Exception(_text))

                monkeypatch.setattr(store.engine, "connect", refuse)
                with pytest.raises(StoreUnavailableError) as info:
                    store.list()
                assert not leaked(str(info.value)), str(info.value)
                assert str(info.value).startswith("the store at postgresql+psycopg2://app:***@127.0.0.1:")
        finally:
            store.close()


class TestLoaderOutputs:
    def _load(self, uri: str, home: Path) -> Any:
        return load_schedules(
            {"__file__": "/dags/schedules.py"}, store=uri, home=home, pause_sync_conn_id=None
        )

    @pytest.mark.parametrize("scheme", SCHEMES)
    def test_unreachable_store(
        self,
        scheme: str,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        caplog.set_level(logging.DEBUG)
        for index, uri in enumerate(nasty_uris(scheme)):
            home = tmp_path / str(index)
            result = self._load(uri, home)
            assert result.refresh.startswith("failed: "), result.refresh
            assert not leaked(result.message + result.refresh + result.store), result
            assert not leaked(everything_written(home))
            assert not leaked(caplog.text), caplog.text
            for args in (["status", "--home", str(home)], ["status", "--home", str(home), "--json"]):
                assert main(args) == 1
                captured = capsys.readouterr()
                assert "no snapshot of the spec store" in captured.out
                assert not leaked(captured.out + captured.err), captured.out

    def test_reachable_store_snapshot_header_status_and_logs(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        sqlite_uri = f"sqlite:///{tmp_path / 'specs.db'}"
        with open_store(sqlite_uri) as store:
            store.put_many([spec("a"), spec("b")], author="test")
        # The loader is configured with (and prints) the PostgreSQL URI but reads the SQLite store.
        monkeypatch.setattr(loader_module, "_open_store", lambda uri: open_store(sqlite_uri))
        caplog.set_level(logging.DEBUG)
        for index, uri in enumerate(nasty_uris()):
            home = tmp_path / f"home{index}"
            result = self._load(uri, home)
            assert (result.refresh, sorted(result.dag_ids)) == ("ok", ["team.a", "team.b"])
            header = json.loads(
                snapshot_path(uri, home).read_bytes().split(b"\n", 1)[0].split(b" ", 1)[1]
            )  # "crc {...}"
            assert header["store"] == redact_uri(uri)
            assert "***" in header["store"]
            assert not leaked(everything_written(home))
            assert not leaked(caplog.text), caplog.text
            assert main(["status", "--home", str(home)]) == 0
            out = capsys.readouterr().out
            assert "store:    postgresql://app" in out
            assert not leaked(out), out

    def test_status_redacts_a_status_file_written_before_the_fix(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        folder = snapshot_dir(tmp_path)
        folder.mkdir(parents=True)
        uri = "postgresql://app:Zq7p#w/d?K9w@db.example/specs"
        old = {
            "loader": "/dags/schedules.py",
            "store": uri,
            "refresh": f"failed: the store at {uri} is unreachable",
            "message": f"no DAGs loaded: there is no snapshot of the spec store {uri} yet",
            "loaded": 0,
        }
        (folder / "0123.status.abcd.json").write_text(json.dumps(old))
        for args in (["status", "--home", str(tmp_path)], ["status", "--home", str(tmp_path), "--json"]):
            assert main(args) == 1
            out = capsys.readouterr().out
            assert "postgresql://app:***@db.example/specs" in out
            assert not leaked(out), out
