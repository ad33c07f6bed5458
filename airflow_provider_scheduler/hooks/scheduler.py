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

from airflow.providers.common.compat.sdk import AirflowException, AirflowNotFoundException

if TYPE_CHECKING:
    from collections.abc import Iterable

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
            detail = json.dumps(detail, sort_keys=True)
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
        if advice:
            message += f" {advice}"
    return cls(message, status_code=status_code, detail=detail)


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
# The hook (methods land in the next commit)
# --------------------------------------------------------------------------------------------------
from airflow.providers.common.compat.sdk import BaseHook  # noqa: E402


class SchedulerHook(BaseHook):
    """Interact with an Airflow deployment through its REST API (v2 on Airflow 3, v1 on 2.x)."""

    conn_name_attr = "scheduler_conn_id"
    default_conn_name = "scheduler_default"
    conn_type = "scheduler"
    hook_name = "Scheduler"

    def __init__(self, scheduler_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scheduler_conn_id = scheduler_conn_id
