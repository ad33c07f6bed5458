"""Shared samples of the REST tests: a base URL, secrets, JWTs, connections and API run objects."""

from __future__ import annotations

import base64
import json

BASE = "http://airflow.test:8080"
PASSWORD = "s3cret-Passw0rd"
STATIC_TOKEN = "static-T0ken-value"
CONN_ID = "sched_test"


def make_jwt(exp: float | None, sub: str = "admin") -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims: dict = {"sub": sub}
    if exp is not None:
        claims["exp"] = exp
    return f"{b64({'alg': 'HS512', 'typ': 'JWT'})}.{b64(claims)}.c2lnbmF0dXJl"


def make_connection(**fields):
    from airflow.providers.common.compat.sdk import Connection

    extra = fields.pop("extra", None)
    return Connection(
        conn_id=fields.pop("conn_id", CONN_ID),
        conn_type="scheduler",
        extra=json.dumps(extra) if extra is not None else None,
        **fields,
    )


def set_conn_env(monkeypatch, conn_id: str = CONN_ID, **fields) -> None:
    """Define a connection through an AIRFLOW_CONN_* environment variable (JSON form)."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "scheduler", **fields}))


def record(bounds: list, low: float, high: float, result: float) -> float:
    """A ``random.uniform`` stand-in that records its bounds and returns ``result``."""
    bounds.append((low, high))
    return result


class Sleeps(list):
    """Records the delays the hook asked for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


RUN_V2: dict = {
    "dag_run_id": "r1",
    "dag_id": "d",
    "logical_date": None,
    "run_after": "2026-11-22T04:00:00Z",
    "state": "queued",
    "conf": {"a": 1},
    "note": None,
    "start_date": None,
    "end_date": None,
}
RUN_V1: dict = {
    "dag_run_id": "r1",
    "dag_id": "d",
    "execution_date": "2026-11-22T04:00:00+00:00",
    "logical_date": "2026-11-22T04:00:00+00:00",
    "state": "running",
    "conf": {},
    "start_date": "2026-11-22T04:00:01+00:00",
    "end_date": None,
    "external_trigger": True,
}
