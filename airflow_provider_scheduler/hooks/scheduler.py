"""SchedulerHook: drive an Airflow deployment (this one or another) through its REST API (``requests``).

The connection's fields are described in :mod:`airflow_provider_scheduler.rest.connection`; the
protocol (retries, token refetch, errors with advice, version detection) is
:mod:`airflow_provider_scheduler.rest.core`, which the async client of the deferrable trigger drives
too. The error classes are re-exported here because DAG authors catch them from this module.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests
from airflow.providers.common.compat.sdk import BaseHook, mask_secret

from airflow_provider_scheduler import __version__
from airflow_provider_scheduler.hooks import connection_form
from airflow_provider_scheduler.rest.connection import SchedulerConnectionSettings
from airflow_provider_scheduler.rest.core import (
    REASON_CLOSED,
    REASON_NAME,
    REASON_REFUSED,
    TOKEN_PATH,
    Answer,
    Exchange,
    VersionProbe,
    auth_mode,
    refresh_after,
    server_version_of,
    timeout_reason,
    token_from_answer,
    token_is_fresh,
    token_request_body,
)
from airflow_provider_scheduler.rest.endpoints import (
    REPROCESS_BEHAVIOURS,
    api_path,
    generate_run_id,
    health_path,
    isoformat,
    list_runs_params,
    normalize_dag_run,
    normalize_dag_runs,
    reparse_path,
    ui_run_url,
)
from airflow_provider_scheduler.rest.errors import (
    SchedulerApiError,
    SchedulerAuthError,
    SchedulerNotFoundError,
    SchedulerRedirectError,
    SchedulerTransientError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

#: DAG authors catch the API errors from this module: they stay importable here.
__all__ = [
    "SchedulerApiError",
    "SchedulerAuthError",
    "SchedulerHook",
    "SchedulerNotFoundError",
    "SchedulerRedirectError",
    "SchedulerTransientError",
]


class SchedulerHook(BaseHook):
    """Drive an Airflow deployment through its REST API (v2 with a JWT on Airflow 3, v1 on 2.x).

    One ``requests.Session`` is reused for every call of one hook instance; the JWT from the token
    exchange is reused until its ``exp`` (read without verification) or until the server rejects it
    (401, or Airflow 3's 403 "Invalid JWT token"), then fetched again once. Connection errors,
    timeouts, 408, 429 and 5xx are retried up to ``max_retries`` times with full-jitter exponential backoff
    (a server's ``Retry-After`` wins); other 4xx fail at once with a :class:`SchedulerApiError` that
    says what the server answered and what to check. No request leaves the connection's host: a
    redirect to another host is a :class:`~airflow_provider_scheduler.rest.errors.SchedulerRedirectError`
    (nothing is sent there); one within the host is followed at most 5 times
    (:mod:`airflow_provider_scheduler.rest.redirects`).

    :param scheduler_conn_id: id of a connection of type ``scheduler``.
    :param api_version: ``auto`` | ``v2`` | ``v1``; overrides the connection's ``api_version``.
    :param token: static bearer token; overrides the connection's ``token``.
    :param verify: TLS verification (``True``, ``False`` or a CA bundle path); overrides the connection.
    :param timeout: seconds per request; overrides the connection's ``timeout``.
    :param max_retries: retries of a transient failure; overrides the connection's ``max_retries``.
    :param sleep: the function that waits between retries (tests inject a recorder).
    :param uniform: ``random.uniform``-like jitter source (tests inject a deterministic one).
    """

    conn_name_attr = "scheduler_conn_id"
    default_conn_name = "scheduler_default"
    conn_type = "scheduler"
    hook_name = "Scheduler"

    def __init__(
        self,
        scheduler_conn_id: str = default_conn_name,
        *,
        api_version: str | None = None,
        token: str | None = None,
        verify: bool | str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        sleep: Callable[[float], None] | None = None,
        uniform: Callable[[float, float], float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.scheduler_conn_id = scheduler_conn_id
        self._overrides: dict[str, Any] = {
            "api_version": api_version,
            "token": token,
            "verify": verify,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        self._sleep: Callable[[float], None] = time.sleep if sleep is None else sleep
        self._uniform = uniform
        self._clock: Callable[[], float] = time.time
        self._settings: SchedulerConnectionSettings | None = None
        self._session: requests.Session | None = None
        self._detected_version: str | None = None
        self._server_version: str | None = None
        self._jwt: str | None = None
        self._jwt_refresh_at: float | None = None
        self._retries_override: int | None = None
        self._testing = False  # test_connection: Airflow tests under a random conn id, don't name it

    # ---------------------------------------------------------------------------------- settings
    @property
    def settings(self) -> SchedulerConnectionSettings:
        """The resolved connection settings (fetched once; secrets registered with the masker)."""
        if self._settings is None:
            conn = self.get_connection(self.scheduler_conn_id)
            self._settings = SchedulerConnectionSettings.from_connection(conn, **self._overrides)
            for secret in self._settings.secrets:
                mask_secret(secret)
        return self._settings

    @property
    def api_version(self) -> str:
        """``v2`` or ``v1``: the configured version, or the one detected (once) when ``auto``."""
        configured = self.settings.api_version
        if configured != "auto":
            return configured
        if self._detected_version is None:
            self._detected_version = self._detect_api_version()
        return self._detected_version

    def get_conn(self) -> requests.Session:
        """Return the ``requests.Session`` this hook reuses (created on first use)."""
        if self._session is None:
            session = requests.Session()
            session.headers.update(
                {"Accept": "application/json", "User-Agent": f"airflow-provider-scheduler/{__version__}"}
            )
            session.verify = self.settings.verify
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the HTTP session (a later call opens a new one)."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> SchedulerHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------- API methods
    def trigger_dag_run(
        self,
        dag_id: str,
        *,
        conf: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        logical_date: datetime | str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Trigger a run of ``dag_id`` and return it (normalised, see :func:`normalize_dag_run`).

        Idempotent: if a run with ``run_id`` already exists (409), that run is returned. Without a
        ``run_id`` one is generated (:func:`generate_run_id`), so a retried request cannot start a second
        run. A paused DAG accepts the run, which then stays ``queued`` until the DAG is unpaused.

        :param dag_id: the DAG to trigger.
        :param conf: the run's conf (a JSON object).
        :param run_id: the run id to use.
        :param logical_date: the run's logical date (aware datetime or ISO 8601 string; a naive
            datetime is taken as UTC). ``None``: Airflow 3 runs without one, 2.x uses "now".
        :param note: a note shown on the run.
        """
        if conf is not None and not isinstance(conf, Mapping):
            raise TypeError(f"conf must be a dict (a JSON object), got {type(conf).__name__}")
        conf_dict = dict(conf or {})
        try:
            json.dumps(conf_dict)
        except (TypeError, ValueError) as err:
            raise TypeError(f"conf must be JSON-serialisable: {err}") from None
        run_id = run_id or generate_run_id()
        version = self.api_version
        body: dict[str, Any] = {"dag_run_id": run_id, "conf": conf_dict}
        if version == "v2":
            body["logical_date"] = isoformat(logical_date) if logical_date is not None else None
        elif logical_date is not None:
            body["logical_date"] = isoformat(logical_date)
        if note is not None:
            body["note"] = note
        path = api_path(version, "dags", dag_id, "dagRuns")
        response = self._send("POST", path, json_body=body)
        if response.status == 409:
            try:
                existing = self.get_dag_run(dag_id, run_id)
            except SchedulerNotFoundError:
                # 409 for another reason, e.g. a run with the same logical date and another run id.
                raise self._error(response, "POST", path) from None
            if (existing.get("conf") or {}) != conf_dict:
                self.log.warning(
                    "DAG run %s of %s already exists with a different conf; returning it unchanged",
                    run_id,
                    dag_id,
                )
            else:
                self.log.info("DAG run %s of %s already exists; returning it", run_id, dag_id)
            return existing
        run = normalize_dag_run(self._json(response, "POST", path))
        self.log.info("Triggered DAG run %s of %s (state %s)", run["dag_run_id"], dag_id, run["state"])
        return run

    def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """Return one DAG run (normalised).

        :param dag_id: the DAG.
        :param run_id: the run id.
        """
        path = api_path(self.api_version, "dags", dag_id, "dagRuns", run_id)
        return normalize_dag_run(self._json(self._send("GET", path), "GET", path))

    def list_dag_runs(
        self,
        dag_id: str,
        *,
        state: str | Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
        order_by: str | None = None,
    ) -> list[dict[str, Any]]:
        """Return runs of ``dag_id``, newest first (normalised).

        :param dag_id: the DAG (``~`` for all DAGs).
        :param state: only runs in this state, or in any of these states.
        :param limit: at most this many runs (the server may cap it, 100 by default on Airflow 3).
        :param offset: skip this many runs.
        :param order_by: sort key of the API; default newest first (``-run_after`` on v2,
            ``-execution_date`` on v1).
        """
        version = self.api_version
        params = list_runs_params(version, state=state, limit=limit, offset=offset, order_by=order_by)
        path = api_path(version, "dags", dag_id, "dagRuns")
        return normalize_dag_runs(self._json(self._send("GET", path, params=params), "GET", path))

    def get_dag(self, dag_id: str) -> dict[str, Any]:
        """Return the API's description of ``dag_id`` (``is_paused``, ``tags``, ...).

        :param dag_id: the DAG.
        """
        path = api_path(self.api_version, "dags", dag_id)
        return self._json(self._send("GET", path), "GET", path)

    def get_dag_details(self, dag_id: str) -> dict[str, Any]:
        """Return the API's details of ``dag_id`` (``timezone``, ``params``, ``doc_md``, ...).

        :param dag_id: the DAG.
        """
        path = api_path(self.api_version, "dags", dag_id, "details")
        return self._json(self._send("GET", path), "GET", path)

    def set_dag_paused(self, dag_id: str, paused: bool) -> dict[str, Any]:
        """Pause (``True``) or unpause (``False``) ``dag_id``; return the updated DAG.

        :param dag_id: the DAG.
        :param paused: the new state.
        """
        version = self.api_version
        path = api_path(version, "dags", dag_id)
        params = {"update_mask": "is_paused"} if version == "v1" else None
        response = self._send("PATCH", path, json_body={"is_paused": bool(paused)}, params=params)
        dag = self._json(response, "PATCH", path)
        self.log.info("DAG %s is now %s", dag_id, "paused" if dag.get("is_paused") else "unpaused")
        return dag

    def request_reparse(self, dag_id: str) -> str:
        """Ask Airflow's DAG processor to parse the file that defines ``dag_id`` now, ahead of its turn.

        What the UI's Reparse button does (Airflow 3 only): ``GET /api/v2/dags/{dag_id}`` gives the
        file's ``file_token``, ``PUT /api/v2/parseDagFile/{file_token}`` queues a priority parse. A
        request for a file whose reparse is still pending (409) counts as done. Return the file as
        Airflow names it (its path in the DAG bundle).

        :param dag_id: a DAG of the file to reparse.
        :raises SchedulerNotFoundError: Airflow does not know ``dag_id``.
        :raises SchedulerApiError: the deployment serves REST API v1 (Airflow 2.x has no such
            endpoint), or the request failed.
        """
        version = self.api_version
        if version != "v2":
            raise SchedulerApiError(
                f"{self._where()} serves REST API {version} (Airflow 2.x), which has no endpoint to "
                "request a reparse; Airflow parses the file on its own schedule"
            )
        dag = self.get_dag(dag_id)
        file_name = str(dag.get("relative_fileloc") or dag.get("fileloc") or dag_id)
        token = dag.get("file_token")
        if not token:
            raise SchedulerApiError(
                f"{self._where()} answered GET {api_path(version, 'dags', dag_id)} without a file_token"
            )
        path = reparse_path(str(token))
        response = self._send("PUT", path)
        if response.status not in (200, 201, 409):
            raise self._error(response, "PUT", path)
        self.log.info("Asked %s to reparse %s (DAG %s)", self.settings.base_url, file_name, dag_id)
        return file_name

    def create_backfill(
        self,
        dag_id: str,
        *,
        from_date: datetime | str,
        to_date: datetime | str,
        reprocess: str = "none",
        max_active_runs: int | None = None,
        run_backwards: bool = False,
        conf: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Create a backfill of ``dag_id`` through Airflow's backfill API (Airflow 3), or preview it.

        Airflow creates one run per schedule time between the dates (the DAG's own timetable decides
        which: holidays a spec skips are skipped here too) and runs them ``max_active_runs`` at a time.

        :param dag_id: the DAG.
        :param from_date: the first logical date (inclusive).
        :param to_date: the last logical date (inclusive).
        :param reprocess: what to do with dates that already have a run: ``none`` (keep them),
            ``failed`` (re-run failed ones) or ``completed`` (re-run every finished one).
        :param max_active_runs: backfill runs at the same time (Airflow's default when None: 10).
        :param run_backwards: newest date first.
        :param conf: the runs' ``conf``.
        :param dry_run: only list the logical dates a backfill would run:
            ``{"backfills": [{"logical_date": ...}], "total_entries": N}``.
        :return: the created backfill (``id``, ``dag_id``, ``from_date``, ``to_date``, ...) or the dry run.
        :raises SchedulerApiError: the deployment serves REST API v1 (Airflow 2.x has no backfill
            API), ``reprocess`` is unknown, or the request failed (e.g. 409: a backfill of this DAG
            is already running).
        """
        if reprocess not in REPROCESS_BEHAVIOURS:
            raise SchedulerApiError(
                f"reprocess must be one of {', '.join(REPROCESS_BEHAVIOURS)}, not {reprocess!r}"
            )
        version = self.api_version
        if version != "v2":
            raise SchedulerApiError(
                f"{self._where()} serves REST API {version} (Airflow 2.x), which has no backfill API; "
                "backfills through the scheduler connection need Airflow 3 (on 2.11 run "
                "'airflow dags backfill' on the deployment)"
            )
        body: dict[str, Any] = {
            "dag_id": dag_id,
            "from_date": isoformat(from_date),
            "to_date": isoformat(to_date),
            "run_backwards": bool(run_backwards),
            "reprocess_behavior": reprocess,
        }
        if max_active_runs is not None:
            body["max_active_runs"] = int(max_active_runs)
        if conf:
            body["dag_run_conf"] = conf
        path = api_path(version, "backfills", "dry_run") if dry_run else api_path(version, "backfills")
        result = self._json(self._send("POST", path, json_body=body), "POST", path)
        if not dry_run:
            self.log.info(
                "Created backfill %s of %s from %s to %s",
                result.get("id"),
                dag_id,
                body["from_date"],
                body["to_date"],
            )
        return result

    def health(self) -> dict[str, Any]:
        """Return the deployment's health report (metadatabase, scheduler, triggerer, ...)."""
        path = health_path(self.api_version)
        return self._json(self._send("GET", path, authenticate=False), "GET", path)

    def ui_url_for_run(self, dag_id: str, run_id: str) -> str:
        """The web UI page of a DAG run on that deployment.

        Airflow 3: ``{base}/dags/{dag_id}/runs/{run_id}``; 2.x: ``{base}/dags/{dag_id}/grid?dag_run_id=``.

        :param dag_id: the DAG.
        :param run_id: the run id.
        """
        return ui_run_url(self.settings.base_url, self.api_version, dag_id, run_id)

    def test_connection(self) -> tuple[bool, str]:
        """Check the URL, the API and the credentials (no retries); say clearly what is wrong."""
        self._retries_override = 0
        self._testing = True
        try:
            try:
                settings = self.settings
            except ValueError as err:
                return False, f"Invalid connection settings: {err}"
            version = self.api_version
            path = api_path(version, "dags")
            response = self._send("GET", path, params={"limit": 1})
            if response.status != 200:
                raise self._error(response, "GET", path)
            if self._server_version is None:
                self._server_version = self._probe_server_version(version)
        except SchedulerApiError as err:
            return False, str(err)
        finally:
            self._retries_override = None
            self._testing = False
        if settings.token:
            who = "with the bearer token"
        elif settings.login:
            who = f"as user {settings.login!r}"
        else:
            who = "without credentials"
        airflow = f"Airflow {self._server_version}" if self._server_version else "Airflow"
        return True, f"Connected to {airflow} at {settings.base_url} (REST API {version}) {who}."

    # ---------------------------------------------------------------------------------- form
    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The classic (Airflow 2.11, 3.0, 3.1) connection-form widgets (see :mod:`.connection_form`)."""
        return connection_form.form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The classic UI's field behaviour (snake-case keys), from ``UI_FIELD_BEHAVIOUR``."""
        return connection_form.ui_field_behaviour()

    # ---------------------------------------------------------------------------------- internals
    def _uses_token_exchange(self) -> bool:
        return auth_mode(self.settings, self.api_version) == "jwt"

    def _auth(self, authenticate: bool) -> tuple[dict[str, str], tuple[str, str] | None]:
        """Headers and basic-auth tuple for a request (never logged)."""
        if not authenticate:
            return {}, None
        settings = self.settings
        mode = auth_mode(settings, self.api_version)
        if mode == "static_token":
            return {"Authorization": f"Bearer {settings.token}"}, None
        if mode == "basic":
            return {}, (settings.login or "", settings.password or "")
        if mode == "none":
            return {}, None
        if self._jwt is None or not token_is_fresh(self._jwt_refresh_at, self._clock()):
            self._fetch_jwt()
        return {"Authorization": f"Bearer {self._jwt}"}, None

    def _fetch_jwt(self) -> None:
        """Exchange login/password for a JWT at ``POST {base}/auth/token`` (Airflow 3)."""
        settings = self.settings
        self._jwt = None
        answer = self._send("POST", TOKEN_PATH, json_body=token_request_body(settings), authenticate=False)
        token = token_from_answer(
            answer, self._exchange("POST", TOKEN_PATH), settings, name_connection=not self._testing
        )
        mask_secret(token)
        self._jwt = token
        self._jwt_refresh_at = refresh_after(token)
        self.log.debug("Fetched an API token from %s", settings.base_url)

    def _detect_api_version(self) -> str:
        """Probe ``/api/v2/version`` then ``/api/v1/version`` (no credentials needed)."""
        probe = VersionProbe(self.settings.base_url)
        for version in probe.versions:
            if probe.found(version, self._send("GET", probe.path(version), authenticate=False)):
                self._server_version = probe.server_version
                self.log.debug("%s serves API %s", self.settings.base_url, version)
                return version
        raise probe.failure()

    def _probe_server_version(self, version: str) -> str | None:
        return server_version_of(self._send("GET", VersionProbe.path(version), authenticate=False))

    def _exchange(self, method: str, path: str, *, refreshable: bool = False) -> Exchange:
        settings = self.settings
        return Exchange(
            method,
            path,
            where=self._where(),
            base_url=settings.base_url,
            max_retries=settings.max_retries if self._retries_override is None else self._retries_override,
            timeout=settings.timeout,
            secrets=(*settings.secrets, *((self._jwt,) if self._jwt else ())),
            api_version=self._known_api_version(),
            refreshable=refreshable,
            uniform=self._uniform,
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, str]] | None = None,
        json_body: Any = None,
        authenticate: bool = True,
    ) -> Answer:
        """Send one request through the retry policy of :class:`~.rest.core.Exchange`."""
        settings = self.settings
        session = self.get_conn()
        url = settings.base_url + path
        exchange = self._exchange(method, path, refreshable=authenticate and self._uses_token_exchange())
        while True:
            headers, auth = self._auth(authenticate)
            exchange.add_secret(self._jwt)
            try:
                response = session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    auth=auth,
                    timeout=settings.timeout,
                    # Per request: requests lets REQUESTS_CA_BUNDLE override a Session's verify.
                    verify=settings.verify,
                    # rest.core decides on redirects: none leaves the approved host (requests would
                    # resend the body and custom headers to any host a server names).
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as err:
                raise exchange.tls_error(str(err)) from err
            except (requests.ConnectionError, requests.Timeout) as err:
                decision = exchange.after_network_error(_network_reason(err, settings.timeout))
                cause: Exception | None = err
            else:
                self.log.debug("%s %s -> %s", method, path, response.status_code)
                answer = Answer(
                    status=response.status_code,
                    text=response.text,
                    content_type=response.headers.get("Content-Type"),
                    retry_after=response.headers.get("Retry-After"),
                    location=response.headers.get("Location"),
                    url=response.url,
                )
                decision = exchange.after_answer(answer)
                cause = None
            if decision.action == "return":
                return answer
            if decision.action == "raise":
                assert decision.error is not None
                raise decision.error from cause
            if decision.action == "refresh":
                self.log.info("The API rejected the cached token (%s); fetching a new one", decision.reason)
                self._jwt = None
                continue
            if decision.action == "redirect":
                # Same origin (rest.core checked it); the Location carries its own query.
                self.log.debug("%s %s %s within %s", method, path, decision.reason, settings.base_url)
                url, params = decision.url, None
                continue
            self.log.warning(*exchange.retry_log_args(decision))
            self._sleep(decision.delay)

    def _known_api_version(self) -> str | None:
        """The API version if already known (configured or detected), without probing."""
        configured = self.settings.api_version
        return configured if configured != "auto" else self._detected_version

    def _where(self) -> str:
        """How messages name the deployment (test_connection runs under a random conn id: URL only)."""
        return self.settings.base_url if self._testing else self.settings.describe()

    def _error(self, answer: Answer, method: str, path: str) -> SchedulerApiError:
        return self._exchange(method, path).error(answer)

    def _json(self, answer: Answer, method: str, path: str) -> dict[str, Any]:
        """The JSON object of a successful answer; a :class:`SchedulerApiError` otherwise."""
        return self._exchange(method, path).json_object(answer)


def _network_reason(err: Exception, timeout: float) -> str:
    if isinstance(err, requests.Timeout):
        return timeout_reason(timeout)
    text = str(err)
    if "Connection refused" in text or "ECONNREFUSED" in text:
        return REASON_REFUSED
    if "NameResolution" in text or "Name or service not known" in text or "nodename nor servname" in text:
        return REASON_NAME
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
        return REASON_CLOSED
    return type(err).__name__
