"""SchedulerHook: drive an Airflow deployment (this one or another) through its REST API.

The connection (type ``scheduler``) describes the deployment:

- ``host``: the API base URL, e.g. ``https://airflow.example.com`` or ``http://127.0.0.1:8080/airflow``
  (scheme, host, port, optional path prefix). A host without a scheme is accepted: the connection's
  ``port`` is appended and the scheme is ``http`` for loopback hosts and port 80, ``https`` otherwise.
- ``login`` / ``password``: exchanged for a JWT at ``POST {base}/auth/token`` on Airflow 3 (API v2), or
  sent as HTTP basic auth on Airflow 2.x (API v1).
- ``extra`` (the custom form fields of :mod:`airflow_provider_scheduler.hooks.connection_fields`):
  ``api_version`` (``auto`` | ``v2`` | ``v1``), ``token`` (a static bearer token used instead of
  login/password), ``verify_ssl``, ``ca_bundle``, ``timeout`` (seconds), ``max_retries``.

Every setting follows the precedence *hook argument > connection extra > default*; the connection's
``extra_dejson`` is never mutated.

The pieces other modules share (the async client of the deferrable trigger uses them too) live at
module level: the error classes, :class:`SchedulerConnectionSettings`, :func:`normalize_dag_run`,
:func:`error_for_response`, :func:`parse_retry_after`, :func:`backoff_delay` and :func:`jwt_expiry`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from airflow.providers.common.compat.sdk import AirflowException, AirflowNotFoundException, BaseHook

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import requests

ApiVersion = Literal["auto", "v2", "v1"]

API_VERSIONS: tuple[str, ...] = ("auto", "v2", "v1")
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
#: Bounds of the exponential backoff between retries (seconds): attempt n waits a uniformly random
#: time in ``[0, min(BACKOFF_CAP, BACKOFF_BASE * 2**n)]`` ("full jitter").
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
#: A server's Retry-After is honoured up to this many seconds (a task must not hang for hours).
RETRY_AFTER_CAP = 300.0
#: A JWT is refreshed this many seconds before its ``exp`` so it does not expire in flight.
TOKEN_EXPIRY_LEEWAY = 30.0
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
_DETAIL_MAX_CHARS = 500


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------
class SchedulerApiError(AirflowException):
    """The Airflow REST API answered with an error, or could not be used at all.

    :param message: what happened and what to check; never contains a password or token.
    :param status_code: the HTTP status the server answered, ``None`` when there was no answer.
    :param detail: the server's ``detail`` field (or a short excerpt of its body), if any.
    """

    def __init__(self, message: str, *, status_code: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code  # type: ignore[assignment]  # AirflowException's is an HTTPStatus
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the keyword-only attributes when the error is pickled (e.g. across processes).
        return (_rebuild_error, (type(self), str(self), self.status_code, self.detail))


def _rebuild_error(
    cls: type[SchedulerApiError], message: str, status_code: int | None, detail: str | None
) -> SchedulerApiError:
    return cls(message, status_code=status_code, detail=detail)


class SchedulerAuthError(SchedulerApiError):
    """The server rejected the credentials (401) or the user lacks a permission (403)."""


class SchedulerNotFoundError(SchedulerApiError, AirflowNotFoundException):
    """The DAG, DAG run or endpoint does not exist on that deployment (404)."""


class SchedulerTransientError(SchedulerApiError):
    """A transient failure (connection error, timeout, 429, 5xx) persisted through every retry."""


# --------------------------------------------------------------------------------------------------
# Connection settings
# --------------------------------------------------------------------------------------------------
_UNSET: Any = object()


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "1", "yes", "on"}:
            return True
        if lowered in {"false", "0", "no", "off"}:
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _as_number(value: Any, name: str, *, minimum: float, maximum: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise ValueError(f"{name} must be between {minimum:g} and {maximum:g}, got {value!r}")
    return number


def _as_int(value: Any, name: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if not minimum <= number <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value!r}")
    return number


def _field_bounds(name: str) -> tuple[float, float]:
    from airflow_provider_scheduler.hooks.connection_fields import CONN_FIELDS

    schema = CONN_FIELDS[name]["schema"]
    return schema.get("minimum", -math.inf), schema.get("maximum", math.inf)


def _pick(argument: Any, extra: Mapping[str, Any], key: str) -> Any:
    """Argument > connection extra > ``_UNSET``; empty strings and ``None`` in extra count as unset."""
    if argument is not None and argument is not _UNSET:
        return argument
    value = extra.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return _UNSET
    return value


def build_base_url(host: str | None, *, port: int | None = None, schema: str | None = None) -> str:
    """Return the normalised API base URL (``scheme://host[:port][/prefix]``, no trailing slash).

    :param host: the connection's host: a URL, or a bare host name.
    :param port: the connection's port, used when ``host`` names none.
    :param schema: the connection's schema field; ``http``/``https`` there chooses the scheme of a bare
        host.
    """
    raw = (host or "").strip()
    if not raw:
        raise ValueError(
            "the connection has no host: set it to the Airflow API URL, e.g. https://airflow.example.com"
        )
    if "://" not in raw:
        bare_host = raw.split("/", 1)[0].rsplit(":", 1)[0].lower()
        has_port = ":" in raw.split("/", 1)[0] and not raw.startswith("[")
        effective_port = port
        if has_port:
            try:
                effective_port = int(raw.split("/", 1)[0].rsplit(":", 1)[1])
            except ValueError:
                effective_port = port
        if schema and schema.strip().lower() in {"http", "https"}:
            scheme = schema.strip().lower()
        elif bare_host in _LOOPBACK_HOSTS or effective_port == 80:
            scheme = "http"
        else:
            scheme = "https"
        raw = f"{scheme}://{raw}"
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"}:
        raise ValueError(f"the Airflow API URL must start with http:// or https://, got {parts.scheme}://")
    if not parts.hostname:
        raise ValueError(f"the Airflow API URL {raw!r} names no host")
    netloc = parts.netloc.rsplit("@", 1)[-1]  # never keep user:password@ from a pasted URL
    try:
        url_port = parts.port
    except ValueError:
        raise ValueError(f"the Airflow API URL {raw!r} has an invalid port") from None
    if url_port is None and port:
        netloc = f"{netloc}:{int(port)}"
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


@dataclass(frozen=True)
class SchedulerConnectionSettings:
    """Everything needed to talk to one Airflow REST API, resolved from a ``scheduler`` connection.

    Build it with :meth:`from_connection`. ``password`` and ``token`` are excluded from ``repr``.

    :param base_url: API base URL without trailing slash (``https://host:port/prefix``).
    :param api_version: ``auto`` (probe ``/api/v2/version`` then ``/api/v1/version``), ``v2`` or ``v1``.
    :param login: user name for the token exchange (v2) or basic auth (v1).
    :param password: that user's password.
    :param token: a static bearer token, used instead of login/password when set.
    :param verify: ``True``/``False`` for TLS verification, or the path of a CA bundle.
    :param timeout: seconds one request may take.
    :param max_retries: retries of a transiently failed request (0 = try once).
    :param conn_id: the connection id, for messages.
    """

    base_url: str
    api_version: ApiVersion = "auto"
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    verify: bool | str = True
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    conn_id: str | None = None

    @classmethod
    def from_connection(
        cls,
        conn: Any,
        *,
        api_version: str | None = None,
        token: str | None = None,
        verify: bool | str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> SchedulerConnectionSettings:
        """Resolve the settings of an Airflow ``Connection`` (argument > connection extra > default).

        :param conn: an ``airflow.sdk.Connection`` / ``airflow.models.Connection`` (anything with
            ``conn_id``, ``host``, ``port``, ``schema``, ``login``, ``password``, ``extra_dejson``).
        :param api_version: overrides extra ``api_version``.
        :param token: overrides extra ``token``.
        :param verify: overrides extra ``verify_ssl`` / ``ca_bundle``: ``False``, ``True`` or a CA path.
        :param timeout: overrides extra ``timeout``.
        :param max_retries: overrides extra ``max_retries``.
        :raises ValueError: a setting is invalid; the message names the connection and the field.
        """
        conn_id = getattr(conn, "conn_id", None)
        extra: Mapping[str, Any] = dict(conn.extra_dejson or {})  # a copy: never mutate extra_dejson
        try:
            base_url = build_base_url(conn.host, port=conn.port, schema=getattr(conn, "schema", None))

            version = _pick(api_version, extra, "api_version")
            version = "auto" if version is _UNSET else str(version).strip().lower()
            # Tolerate a URL that already ends with the API prefix ("https://host/api/v2").
            for candidate in ("v2", "v1"):
                suffix = f"/api/{candidate}"
                if base_url.endswith(suffix):
                    base_url = base_url[: -len(suffix)]
                    if version == "auto":
                        version = candidate
            if version not in API_VERSIONS:
                raise ValueError(f"api_version must be one of auto, v2, v1, got {version!r}")

            resolved_token = _pick(token, extra, "token")
            resolved_token = None if resolved_token is _UNSET else str(resolved_token).strip()

            if verify is not None:
                resolved_verify: bool | str = verify
            else:
                verify_ssl = _pick(None, extra, "verify_ssl")
                verify_ssl = True if verify_ssl is _UNSET else _as_bool(verify_ssl, "verify_ssl")
                ca_bundle = _pick(None, extra, "ca_bundle")
                resolved_verify = (
                    str(ca_bundle).strip() if verify_ssl and ca_bundle is not _UNSET else verify_ssl
                )

            low, high = _field_bounds("timeout")
            resolved_timeout = _pick(timeout, extra, "timeout")
            resolved_timeout = (
                DEFAULT_TIMEOUT
                if resolved_timeout is _UNSET
                else _as_number(resolved_timeout, "timeout", minimum=low, maximum=high)
            )

            low, high = _field_bounds("max_retries")
            resolved_retries = _pick(max_retries, extra, "max_retries")
            resolved_retries = (
                DEFAULT_MAX_RETRIES
                if resolved_retries is _UNSET
                else _as_int(resolved_retries, "max_retries", minimum=int(low), maximum=int(high))
            )
        except ValueError as err:
            raise ValueError(f"connection {conn_id!r} (type scheduler): {err}") from None

        return cls(
            base_url=base_url,
            api_version=version,  # type: ignore[arg-type]  # checked against API_VERSIONS above
            login=(conn.login or None),
            password=(conn.password or None),
            token=resolved_token or None,
            verify=resolved_verify,
            timeout=resolved_timeout,
            max_retries=resolved_retries,
            conn_id=conn_id,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret strings of these settings (to mask and to scrub from messages)."""
        return tuple(s for s in (self.password, self.token) if s)

    def describe(self) -> str:
        """``connection 'id' (URL)``, for messages."""
        if self.conn_id:
            return f"connection {self.conn_id!r} ({self.base_url})"
        return self.base_url


# --------------------------------------------------------------------------------------------------
# Helpers shared with the async client
# --------------------------------------------------------------------------------------------------
def normalize_dag_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of an API DAG-run object with the same keys on API v1 and v2.

    ``dag_run_id`` (v1/v2 ``dag_run_id``, else ``run_id``), ``dag_id``, ``state`` (lower-case string or
    ``None``), ``logical_date`` (v2 ``logical_date``, v1 ``logical_date`` or ``execution_date``; may be
    ``None`` on Airflow 3), ``conf``, ``start_date``, ``end_date``, ``note`` always exist; every other
    key the server sent is kept unchanged.
    """
    normalized = dict(run)
    normalized["dag_run_id"] = run.get("dag_run_id") or run.get("run_id")
    normalized.setdefault("dag_id", None)
    state = run.get("state")
    normalized["state"] = str(state).lower() if state is not None else None
    if "logical_date" not in run or (run.get("logical_date") is None and run.get("execution_date")):
        normalized["logical_date"] = run.get("execution_date")
    for key in ("conf", "start_date", "end_date", "note"):
        normalized.setdefault(key, None)
    return normalized


def normalize_dag_runs(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Normalise the ``dag_runs`` list of a list-DAG-runs answer (v1 and v2 share that shape)."""
    return [normalize_dag_run(run) for run in payload.get("dag_runs", [])]


def jwt_expiry(token: str) -> float | None:
    """Return the ``exp`` claim (epoch seconds) of a JWT without verifying it; ``None`` if unreadable."""
    try:
        payload_b64 = token.split(".")[1]
        payload_b64 += "=" * (-len(payload_b64) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload_b64))
        exp = claims.get("exp") if isinstance(claims, dict) else None
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), capped at
    :data:`RETRY_AFTER_CAP`; ``None`` when absent or unparsable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def backoff_delay(attempt: int, *, uniform: Any = None) -> float:
    """Full-jitter exponential backoff: uniform in ``[0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)]``.

    :param attempt: 0 for the first retry.
    :param uniform: ``random.uniform``-like function (injectable for tests).
    """
    if uniform is None:
        import random

        uniform = random.uniform
    upper = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** min(attempt, 32)))
    return float(uniform(0.0, upper))


def _format_detail(body: Any) -> str | None:
    """The useful part of an error body: FastAPI ``detail`` (str or list of errors) or v1 problem JSON."""
    if isinstance(body, Mapping):
        detail = body.get("detail", body.get("title"))
        if isinstance(detail, list):
            parts = []
            for item in detail:
                if isinstance(item, Mapping):
                    loc = ".".join(str(p) for p in item.get("loc", ()) if p is not None)
                    parts.append(f"{loc}: {item.get('msg', '')}".strip(": "))
                else:
                    parts.append(str(item))
            detail = "; ".join(parts)
        elif isinstance(detail, Mapping):
            # Airflow 3's database errors: {"reason": ..., "message": ..., "statement": "hidden", ...}
            readable = [str(detail[key]) for key in ("reason", "message") if detail.get(key)]
            detail = ": ".join(readable) if readable else json.dumps(detail, sort_keys=True)
        return str(detail) if detail not in (None, "") else None
    return None


def extract_detail(text: str, content_type: str | None = None) -> str | None:
    """Return the server's explanation from an error body (JSON ``detail``, else a short text excerpt)."""
    if not text:
        return None
    try:
        detail = _format_detail(json.loads(text))
    except ValueError:
        if (content_type and "html" in content_type.lower()) or text.lstrip().startswith("<"):
            return "an HTML page, not JSON"
        detail = " ".join(text.split())
    if detail and len(detail) > _DETAIL_MAX_CHARS:
        detail = detail[: _DETAIL_MAX_CHARS - 3] + "..."
    return detail


_STATUS_ADVICE: dict[int, str] = {
    400: "The request was invalid: check the arguments (conf must be a JSON object, dates ISO 8601 with a "
    "timezone) and that the DAG has no import errors.",
    401: "Check the connection's username and password (or its bearer token).",
    403: "The credentials are valid but the user lacks the permission: check its role on that deployment.",
    404: "Check the DAG id (and run id) exist on that deployment and that the DAG file parsed without "
    "errors; also check the API URL and path prefix.",
    405: "Check the API URL and the api_version (v2 for Airflow 3, v1 for Airflow 2.x).",
    409: "A conflicting object already exists (e.g. a DAG run with that run id or logical date).",
    422: "The server rejected the request body: check conf is a JSON object, dates are ISO 8601 with a "
    "timezone, and the api_version matches the deployment (v2 for Airflow 3, v1 for Airflow 2.x).",
    429: "The server is rate limiting requests: retry later or lower the request rate.",
}


def error_for_response(
    status_code: int,
    *,
    method: str,
    path: str,
    text: str = "",
    content_type: str | None = None,
    where: str = "",
    secrets: Iterable[str] = (),
    transient: bool = False,
    attempts: int = 1,
    api_version: str | None = None,
) -> SchedulerApiError:
    """Build the error for an unsuccessful answer: what the server said and what to check.

    :param status_code: the HTTP status.
    :param method: HTTP method, for the message.
    :param path: request path (without the base URL), for the message.
    :param text: response body.
    :param content_type: response Content-Type.
    :param where: ``describe()`` of the settings, for the message.
    :param secrets: strings to scrub from the message (the server may echo the request).
    :param transient: the answer was retryable and retries are exhausted.
    :param attempts: how many attempts were made (for the transient message).
    :param api_version: ``v1``/``v2`` when known (Airflow 2.x answers 403 to wrong credentials).
    """
    from http import HTTPStatus

    try:
        reason = HTTPStatus(status_code).phrase
    except ValueError:
        reason = ""
    detail = extract_detail(text, content_type)
    detail = scrub(detail, secrets) if detail else None
    answered = f"{status_code} {reason}".strip()
    message = f"Airflow API {where + ' ' if where else ''}answered {answered} to {method} {path}"
    if detail:
        message += f": {detail}"
    message = message.rstrip(".") + "."
    if transient:
        cls: type[SchedulerApiError] = SchedulerTransientError
        message += (
            f" Gave up after {attempts} attempt{'s' if attempts != 1 else ''}; the deployment may be "
            "overloaded or restarting: check its health, or raise max_retries / timeout."
        )
    else:
        cls = {401: SchedulerAuthError, 403: SchedulerAuthError, 404: SchedulerNotFoundError}.get(
            status_code, SchedulerApiError
        )
        advice = _STATUS_ADVICE.get(status_code)
        if status_code == 403 and api_version == "v1":
            advice = (
                "Airflow 2.x answers 403 both to a wrong username/password and to a user without the "
                "permission: check the connection's username and password, then the user's role, and that "
                "[api] auth_backends includes airflow.providers.fab.auth_manager.api.auth.backend.basic_auth."
            )
        elif status_code == 403 and is_token_rejection(status_code, detail or ""):
            advice = (
                "The server could not validate the token: check the bearer token (it may be expired or "
                "issued by another deployment) or the connection's username and password."
            )
        if advice:
            message += f" {advice}"
    return cls(message, status_code=status_code, detail=detail)


def is_token_rejection(status_code: int, text: str) -> bool:
    """Whether an answer rejects the bearer token itself (Airflow 3: 401, or 403 "Invalid JWT token")."""
    return status_code == 401 or (status_code == 403 and "invalid jwt" in text.lower())


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (longer than 3 characters) in ``text`` by ``***``."""
    for secret in sorted((s for s in secrets if s and len(s) > 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def isoformat(value: datetime | str) -> str:
    """ISO 8601 for the API; a naive datetime is taken as UTC."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


# --------------------------------------------------------------------------------------------------
# The hook
# --------------------------------------------------------------------------------------------------
def generate_run_id(now: datetime | None = None) -> str:
    """A fresh run id (``scheduler__<UTC ISO time>_<8 hex>``) so a retried trigger cannot run twice."""
    import secrets

    now = now or datetime.now(UTC)
    return f"scheduler__{now.isoformat()}_{secrets.token_hex(4)}"


def api_path(version: str, *segments: str) -> str:
    """``/api/<version>/<segment>/...`` with every segment percent-encoded (run ids contain ``+``, ``:``)."""
    from urllib.parse import quote

    return f"/api/{version}/" + "/".join(quote(str(segment), safe="") for segment in segments)


class SchedulerHook(BaseHook):
    """Drive an Airflow deployment through its REST API (v2 with a JWT on Airflow 3, v1 on 2.x).

    One ``requests.Session`` is reused for every call of one hook instance; the JWT from the token
    exchange is reused until its ``exp`` (read without verification) or until the server rejects it
    (401, or Airflow 3's 403 "Invalid JWT token"), then fetched again once. Connection errors,
    timeouts, 429 and 5xx are retried up to ``max_retries`` times with full-jitter exponential backoff
    (a server's ``Retry-After`` wins); other 4xx fail at once with a :class:`SchedulerApiError` that
    says what the server answered and what to check.

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
        self._jwt_expires_at: float | None = None
        self._retries_override: int | None = None
        self._testing = False  # test_connection: Airflow tests under a random conn id, don't name it

    # ---------------------------------------------------------------------------------- settings
    @property
    def settings(self) -> SchedulerConnectionSettings:
        """The resolved connection settings (fetched once; secrets registered with the masker)."""
        if self._settings is None:
            conn = self.get_connection(self.scheduler_conn_id)
            self._settings = SchedulerConnectionSettings.from_connection(conn, **self._overrides)
            _mask(*self._settings.secrets)
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
            import requests

            from airflow_provider_scheduler import __version__

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
        if response.status_code == 409:
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
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        version = self.api_version
        params: dict[str, Any] = {
            "limit": limit,
            "offset": offset,
            "order_by": order_by or ("-run_after" if version == "v2" else "-execution_date"),
        }
        if state is not None:
            params["state"] = [state] if isinstance(state, str) else list(state)
        path = api_path(version, "dags", dag_id, "dagRuns")
        return normalize_dag_runs(self._json(self._send("GET", path, params=params), "GET", path))

    def get_dag(self, dag_id: str) -> dict[str, Any]:
        """Return the API's description of ``dag_id`` (``is_paused``, ``tags``, ...).

        :param dag_id: the DAG.
        """
        path = api_path(self.api_version, "dags", dag_id)
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

    def health(self) -> dict[str, Any]:
        """Return the deployment's health report (metadatabase, scheduler, triggerer, ...)."""
        path = "/api/v2/monitor/health" if self.api_version == "v2" else "/api/v1/health"
        return self._json(self._send("GET", path, authenticate=False), "GET", path)

    def ui_url_for_run(self, dag_id: str, run_id: str) -> str:
        """The web UI page of a DAG run on that deployment.

        Airflow 3: ``{base}/dags/{dag_id}/runs/{run_id}``; 2.x: ``{base}/dags/{dag_id}/grid?dag_run_id=``.

        :param dag_id: the DAG.
        :param run_id: the run id.
        """
        from urllib.parse import quote, urlencode

        base = self.settings.base_url
        if self.api_version == "v2":
            return f"{base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
        return f"{base}/dags/{quote(dag_id, safe='')}/grid?{urlencode({'dag_run_id': run_id})}"

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
            if response.status_code != 200:
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
        """The classic (Airflow 2.11, 3.0, 3.1) connection-form widgets, built from ``CONN_FIELDS``.

        Airflow 2.11 accepts only ``StringField``, ``PasswordField``, ``IntegerField`` and
        ``BooleanField`` (any other class drops the whole hook), so an ``enum`` becomes a text field with
        an ``any_of`` validator and a ``number`` a text field with a range validator.
        """
        # ``any_of`` (not ``AnyOf``): Airflow 3.0/3.1 render the form by calling this method with
        # wtforms mocked, and recognise enums only through a mocked ``any_of``.
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import BooleanField, IntegerField, PasswordField, StringField
        from wtforms.validators import NumberRange, Optional, ValidationError, any_of

        from airflow_provider_scheduler.hooks.connection_fields import CONN_FIELDS

        def number_between(minimum: float | None, maximum: float | None) -> Callable[[Any, Any], None]:
            def check(form: Any, form_field: Any) -> None:
                try:
                    value = float(form_field.data)
                except (TypeError, ValueError):
                    raise ValidationError("Enter a number.") from None
                low = -math.inf if minimum is None else minimum
                high = math.inf if maximum is None else maximum
                if not low <= value <= high:
                    raise ValidationError(f"Enter a number between {low:g} and {high:g}.")

            return check

        widgets: dict[str, Any] = {}
        for name, spec in CONN_FIELDS.items():
            schema = spec["schema"]
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            kind = next((t for t in types if t != "null"), "string")
            common: dict[str, Any] = {"description": spec.get("description", "")}
            if schema.get("default") is not None:
                common["default"] = schema["default"]
            label = lazy_gettext(spec["label"])
            if "enum" in schema:
                choices = [value for value in schema["enum"] if value is not None]
                widgets[name] = StringField(
                    label,
                    widget=BS3TextFieldWidget(),
                    validators=[Optional(), any_of(choices)],
                    **common,
                )
            elif kind == "boolean":
                widgets[name] = BooleanField(label, **common)
            elif kind == "integer":
                widgets[name] = IntegerField(
                    label,
                    widget=BS3TextFieldWidget(),
                    validators=[
                        Optional(),
                        NumberRange(min=schema.get("minimum"), max=schema.get("maximum")),
                    ],
                    **common,
                )
            elif kind == "number":
                if "default" in common:  # a text field: its default is text too
                    common["default"] = f"{common['default']:g}"
                widgets[name] = StringField(
                    label,
                    widget=BS3TextFieldWidget(),
                    validators=[Optional(), number_between(schema.get("minimum"), schema.get("maximum"))],
                    **common,
                )
            elif schema.get("format") == "password":
                widgets[name] = PasswordField(label, widget=BS3PasswordFieldWidget(), **common)
            else:
                widgets[name] = StringField(label, widget=BS3TextFieldWidget(), **common)
        return widgets

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The classic UI's field behaviour (snake-case keys), from ``UI_FIELD_BEHAVIOUR``."""
        from airflow_provider_scheduler.hooks.connection_fields import UI_FIELD_BEHAVIOUR

        return {key.replace("-", "_"): _copy_json(value) for key, value in UI_FIELD_BEHAVIOUR.items()}

    # ---------------------------------------------------------------------------------- internals
    def _uses_token_exchange(self) -> bool:
        settings = self.settings
        return not settings.token and bool(settings.login) and self.api_version == "v2"

    def _auth(self, authenticate: bool) -> tuple[dict[str, str], tuple[str, str] | None]:
        """Headers and basic-auth tuple for a request (never logged)."""
        settings = self.settings
        if not authenticate:
            return {}, None
        if settings.token:
            return {"Authorization": f"Bearer {settings.token}"}, None
        if not settings.login:
            return {}, None
        if self.api_version == "v1":
            return {}, (settings.login, settings.password or "")
        if self._jwt is None or (
            self._jwt_expires_at is not None and self._jwt_expires_at - TOKEN_EXPIRY_LEEWAY <= self._clock()
        ):
            self._fetch_jwt()
        return {"Authorization": f"Bearer {self._jwt}"}, None

    def _fetch_jwt(self) -> None:
        """Exchange login/password for a JWT at ``POST {base}/auth/token`` (Airflow 3)."""
        settings = self.settings
        path = "/auth/token"
        self._jwt = None
        response = self._send(
            "POST",
            path,
            json_body={"username": settings.login, "password": settings.password or ""},
            authenticate=False,
        )
        if response.status_code in (400, 401, 403, 422):
            detail = extract_detail(response.text, response.headers.get("Content-Type"))
            detail = scrub(detail, settings.secrets) if detail else None
            which = "" if self._testing else f" of connection {settings.conn_id!r}"
            raise SchedulerAuthError(
                f"The Airflow API at {settings.base_url} rejected the username/password of user "
                f"{settings.login!r} ({response.status_code}{': ' + detail if detail else ''}). "
                f"Check the login and password{which}.",
                status_code=response.status_code,
                detail=detail,
            )
        body = self._json(response, "POST", path)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise SchedulerApiError(
                f"POST {path} at {settings.base_url} answered {response.status_code} without an "
                "access_token: is this the API of an Airflow 3 deployment? (Use api_version v1 for 2.x.)",
                status_code=response.status_code,
            )
        _mask(token)
        self._jwt = token
        self._jwt_expires_at = jwt_expiry(token)
        self.log.debug(
            "Fetched an API token from %s (expires at %s)", settings.base_url, self._jwt_expires_at
        )

    def _detect_api_version(self) -> str:
        """Probe ``/api/v2/version`` then ``/api/v1/version`` (no credentials needed); cache the answer."""
        answers = []
        for version in ("v2", "v1"):
            path = f"/api/{version}/version"
            response = self._send("GET", path, authenticate=False)
            if response.status_code == 200:
                try:
                    body = response.json()
                except ValueError:
                    body = None
                if isinstance(body, dict) and "version" in body:
                    self._server_version = str(body["version"])
                    self.log.debug(
                        "%s runs Airflow %s (API %s)", self.settings.base_url, body["version"], version
                    )
                    return version
                answers.append(f"{path} -> 200 but not an Airflow version answer")
            elif response.status_code in (401, 403):
                return version
            else:
                answers.append(f"{path} -> {response.status_code}")
        raise SchedulerApiError(
            f"{self.settings.base_url} answered, but it is not an Airflow REST API ({'; '.join(answers)}). "
            "Check the Airflow API URL: scheme, host, port and path prefix (without /api/v2), "
            "or set api_version explicitly.",
            status_code=None,
        )

    def _probe_server_version(self, version: str) -> str | None:
        response = self._send("GET", f"/api/{version}/version", authenticate=False)
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return str(body["version"]) if isinstance(body, dict) and "version" in body else None

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        authenticate: bool = True,
    ) -> requests.Response:
        """Send one request with the retry policy; return the response (any status but 429/5xx)."""
        import requests

        settings = self.settings
        session = self.get_conn()
        url = settings.base_url + path
        max_retries = settings.max_retries if self._retries_override is None else self._retries_override
        attempt = 0
        refreshed = False
        while True:
            headers, auth = self._auth(authenticate)
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
                )
            except requests.exceptions.SSLError as err:
                raise SchedulerApiError(
                    f"TLS verification of {settings.base_url} failed for {method} {path} "
                    f"({scrub(str(err), settings.secrets)[:300]}). Set ca_bundle to the CA that signed the "
                    "server certificate, or turn verify_ssl off for a test deployment."
                ) from err
            except (requests.ConnectionError, requests.Timeout) as err:
                reason = _network_reason(err, settings.timeout)
                if attempt >= max_retries:
                    raise SchedulerTransientError(
                        f"Cannot reach the Airflow API at {settings.base_url}: {method} {path} failed "
                        f"({reason}) after {attempt + 1} attempt{'s' if attempt else ''}. Check the host and "
                        "port of the Airflow API URL and that the API server is running."
                    ) from err
                delay = backoff_delay(attempt, uniform=self._uniform)
                self.log.warning(
                    "%s %s failed (%s), attempt %d of %d; retrying in %.2f s",
                    method,
                    path,
                    reason,
                    attempt + 1,
                    max_retries + 1,
                    delay,
                )
                self._sleep(delay)
                attempt += 1
                continue
            status = response.status_code
            self.log.debug("%s %s -> %s", method, path, status)
            if (
                status in (401, 403)
                and authenticate
                and not refreshed
                and is_token_rejection(status, response.text)
                and self._uses_token_exchange()
            ):
                self.log.info("The API rejected the cached token (%s); fetching a new one", status)
                self._jwt = None
                refreshed = True
                continue
            if status == 429 or status >= 500:
                if attempt >= max_retries:
                    raise self._error(response, method, path, transient=True, attempts=attempt + 1)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                delay = (
                    retry_after if retry_after is not None else backoff_delay(attempt, uniform=self._uniform)
                )
                self.log.warning(
                    "%s %s answered %s, attempt %d of %d; retrying in %.2f s",
                    method,
                    path,
                    status,
                    attempt + 1,
                    max_retries + 1,
                    delay,
                )
                self._sleep(delay)
                attempt += 1
                continue
            return response

    def _known_api_version(self) -> str | None:
        """The API version if already known (configured or detected), without probing."""
        configured = self.settings.api_version
        return configured if configured != "auto" else self._detected_version

    def _where(self) -> str:
        """How messages name the deployment (test_connection runs under a random conn id: URL only)."""
        return self.settings.base_url if self._testing else self.settings.describe()

    def _error(
        self,
        response: requests.Response,
        method: str,
        path: str,
        *,
        transient: bool = False,
        attempts: int = 1,
    ) -> SchedulerApiError:
        return error_for_response(
            response.status_code,
            method=method,
            path=path,
            text=response.text,
            content_type=response.headers.get("Content-Type"),
            where=self._where(),
            secrets=(*self.settings.secrets, *((self._jwt,) if self._jwt else ())),
            transient=transient,
            attempts=attempts,
            api_version=self._known_api_version(),
        )

    def _json(self, response: requests.Response, method: str, path: str) -> dict[str, Any]:
        """The JSON object of a successful answer; a :class:`SchedulerApiError` otherwise."""
        if not 200 <= response.status_code < 300:
            raise self._error(response, method, path)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SchedulerApiError(
                f"{self._where()} answered {response.status_code} to {method} {path} but not "
                "with a JSON object: check the Airflow API URL (and path prefix).",
                status_code=response.status_code,
            )
        return body


def _network_reason(err: Exception, timeout: float) -> str:
    import requests

    if isinstance(err, requests.Timeout):
        return f"no answer within {timeout:g} s"
    text = str(err)
    if "Connection refused" in text or "ECONNREFUSED" in text:
        return "connection refused"
    if "NameResolution" in text or "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
        return "connection closed by the server"
    return type(err).__name__


def _mask(*secrets: str) -> None:
    """Register secrets with Airflow's secrets masker (logs then show ``***``)."""
    from airflow.providers.common.compat.sdk import mask_secret

    for secret in secrets:
        if secret:
            mask_secret(secret)


def _copy_json(value: Any) -> Any:
    return json.loads(json.dumps(value))
