"""A real PostgreSQL store whose URI carries a nasty password: it works, and the password is never shown.

The test cluster trusts 127.0.0.1, so the server ignores the password while every layer of the
provider still carries it: the CLI's output, ``status``, the snapshot header, the status file and
the loader's log are searched for its markers (``Zq7``, ``K9w``).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
import sqlalchemy

from airflow_provider_scheduler.cli import main
from airflow_provider_scheduler.factory import load_schedules
from airflow_provider_scheduler.factory.snapshot import snapshot_dir, snapshot_path
from airflow_provider_scheduler.store import redact_uri

if TYPE_CHECKING:
    from pathlib import Path

    from local_airflow import PostgresServer

pytestmark = pytest.mark.integration

SCHEME = "postgresql+psycopg" if int(sqlalchemy.__version__.split(".")[0]) >= 2 else "postgresql+psycopg2"
MARKERS = ("Zq7", "K9w")
PASSWORDS = {
    "raw": "Zq7p#w/d?:K9w",
    "encoded": quote("Zq7@p#w/d?%&password=K9w", safe=""),
}
SPEC = """\
version: 1
namespace: team
name: nightly
owner: alice@example.com
schedule: "0 6 * * *"
start_date: 2026-01-01
tasks:
  - {id: only, template: empty}
"""


def leaked(text: str) -> bool:
    return any(marker in text for marker in MARKERS)


@pytest.mark.parametrize("form", sorted(PASSWORDS))
def test_every_output_of_a_working_store_hides_the_password(
    postgres: PostgresServer,
    tmp_path: Path,
    form: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", raising=False)
    plain = postgres.new_database(f"secrets_{uuid.uuid4().hex[:12]}").replace(
        "postgresql+psycopg://", f"{SCHEME}://"
    )
    uri = plain.replace("://postgres@", f"://postgres:{PASSWORDS[form]}@", 1)
    spec_file = tmp_path / "nightly.yaml"
    spec_file.write_text(SPEC)
    caplog.set_level(logging.DEBUG)

    assert main(["apply", str(spec_file), "--store", uri, "--author", "ci"]) == 0
    assert main(["list", "--store", uri]) == 0
    out = capsys.readouterr()
    assert "team.nightly" in out.out
    assert not leaked(out.out + out.err)

    home = tmp_path / "home"
    result = load_schedules({"__file__": "/dags/schedules.py"}, store=uri, home=home, pause_sync_conn_id=None)
    assert (result.refresh, result.dag_ids) == ("ok", ["team.nightly"])
    first_line = snapshot_path(uri, home).read_bytes().split(b"\n", 1)[0]
    header = json.loads(first_line.split(b" ", 1)[1])  # "<crc> {...}": the checksummed header
    assert header["store"] == redact_uri(uri)
    assert header["store"].startswith(f"{SCHEME}://postgres:***@127.0.0.1:")
    written = "\n".join(p.read_text("utf-8", "replace") for p in snapshot_dir(home).iterdir() if p.is_file())
    assert not leaked(written)

    assert main(["status", "--home", str(home)]) == 0
    assert main(["status", "--home", str(home), "--json"]) == 0
    out = capsys.readouterr()
    assert "team.nightly" in out.out
    assert not leaked(out.out + out.err)

    # the database goes away: the CLI's error and the loader's fallback still hide the password
    missing = uri.rsplit("/", 1)[0] + "/no_such_database"
    assert main(["list", "--store", missing]) == 1
    err = capsys.readouterr().err
    assert "no_such_database" in err
    assert not leaked(err)
    result = load_schedules({"__file__": "/dags/other.py"}, store=missing, home=home, pause_sync_conn_id=None)
    assert result.refresh.startswith("failed: ")
    assert not leaked(result.refresh + result.message)
    assert not leaked(caplog.text)
