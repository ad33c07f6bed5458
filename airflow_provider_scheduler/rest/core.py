"""The decisions of the Airflow REST API protocol, without I/O; both transports drive them.

A transport (the ``requests`` hook, the ``aiohttp`` client) sends, turns what came back into an
:class:`Answer` (or a network-failure reason) and asks an :class:`Exchange` what to do next: return the
answer, wait and retry, fetch a new token and retry, or raise. The rest is shared the same way: the
error an unsuccessful answer becomes (:func:`error_for_response`, with advice), the token exchange's
answer (:func:`token_from_answer`), API version detection (:class:`VersionProbe`), which credentials a
request carries (:func:`auth_mode`), JWT expiry and the scrubbing of secrets from messages.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_scheduler.rest.errors import (
    SchedulerApiError,
    SchedulerAuthError,
    SchedulerNotFoundError,
    SchedulerRedirectError,
    SchedulerTransientError,
)
from airflow_provider_scheduler.rest.redirects import is_redirect, next_hop

if TYPE_CHECKING:
    from airflow_provider_scheduler.rest.connection import SchedulerConnectionSettings

#: Bounds of the exponential backoff between retries (seconds): attempt n waits a uniformly random
#: time in ``[0, min(BACKOFF_CAP, BACKOFF_BASE * 2**n)]`` ("full jitter").
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
#: A server's Retry-After is honoured up to this many seconds (a task must not hang for hours).
RETRY_AFTER_CAP = 300.0
#: A JWT is refreshed this many seconds before its ``exp`` so it does not expire in flight.
TOKEN_EXPIRY_LEEWAY = 30.0
#: Statuses below 500 retried as transient (request timeout, rate limited); every 5xx is retried too.
TRANSIENT_STATUS = frozenset({408, 429})
#: The token exchange answers these to wrong credentials.
TOKEN_REJECTED_STATUS = frozenset({400, 401, 403, 422})
TOKEN_PATH = "/auth/token"
_DETAIL_MAX_CHARS = 500

#: Short reasons of a failed connection, shared by both transports' messages.
REASON_REFUSED = "connection refused"
REASON_NAME = "host name not found"
REASON_CLOSED = "connection closed by the server"


def timeout_reason(timeout: float) -> str:
    """The reason of a request that got no answer in time."""
    return f"no answer within {timeout:g} s"


# --------------------------------------------------------------------------------------------------
# Answers and decisions
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """What the server answered, as both transports hand it to the core."""

    status: int
    text: str = ""
    content_type: str | None = None
    retry_after: str | None = None
    #: The ``Location`` header (a redirect's target) and the URL that answered, to resolve it against.
    location: str | None = None
    url: str | None = None

    def json(self) -> Any:
        """The body parsed as JSON (``ValueError`` when it is not JSON)."""
        return json.loads(self.text) if self.text else {}


@dataclass(frozen=True)
class Decision:
    """What a transport does next: ``return`` the answer, ``retry`` after ``delay`` seconds,
    ``refresh`` (forget the JWT, fetch a new one, send again), ``redirect`` (send the same request to
    ``url``, same origin: :mod:`~airflow_provider_scheduler.rest.redirects`) or ``raise`` ``error``."""

    action: Literal["return", "retry", "refresh", "redirect", "raise"]
    delay: float = 0.0
    error: SchedulerApiError | None = None
    #: Why a retry happens (status or network reason), for the transport's log line.
    reason: str = ""
    #: Where a followed redirect goes (same origin as the request).
    url: str = ""


def is_transient_status(status: int) -> bool:
    """Whether an answer is retried: 408, 429 and every 5xx."""
    return status in TRANSIENT_STATUS or status >= 500


def is_token_rejection(status_code: int, text: str) -> bool:
    """Whether an answer rejects the bearer token itself (Airflow 3: 401, or 403 "Invalid JWT token")."""
    return status_code == 401 or (status_code == 403 and "invalid jwt" in text.lower())


class Exchange:
    """One logical request through the retry policy: counts attempts and the one token refetch.

    :param method: HTTP method, for messages.
    :param path: request path without the base URL, for messages.
    :param where: how messages name the deployment (``settings.describe()`` or the URL).
    :param base_url: the API base URL, for the unreachable message.
    :param max_retries: retries of a transient failure (0 = try once).
    :param timeout: seconds per request, for the "no answer" reason.
    :param secrets: strings scrubbed from messages.
    :param api_version: ``v1``/``v2`` when known (advice for a 403 differs).
    :param refreshable: the request carries a JWT from the token exchange (a rejection refetches it once).
    :param uniform: ``random.uniform``-like jitter source.
    """

    def __init__(
        self,
        method: str,
        path: str,
        *,
        where: str,
        base_url: str,
        max_retries: int,
        timeout: float,
        secrets: Iterable[str] = (),
        api_version: str | None = None,
        refreshable: bool = False,
        uniform: Callable[[float, float], float] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.where = where
        self.base_url = base_url
        self.max_retries = max(0, int(max_retries))
        self.timeout = timeout
        self.secrets = tuple(secrets)
        self.api_version = api_version
        self.refreshable = refreshable
        self.uniform = uniform
        self.attempt = 0
        self.refreshed = False
        #: Redirects followed (within the approved origin; see rest.redirects).
        self.redirects = 0

    def add_secret(self, secret: str | None) -> None:
        """Scrub ``secret`` (e.g. a JWT fetched after this exchange began) from its messages too."""
        if secret and secret not in self.secrets:
            self.secrets = (*self.secrets, secret)

    def _retry(self, delay: float, reason: str) -> Decision:
        self.attempt += 1
        return Decision("retry", delay=delay, reason=reason)

    def after_answer(self, answer: Answer) -> Decision:
        """Decide after the server answered (any status).

        A redirect is never followed to another origin (that is an error naming both hosts; nothing is
        sent there) and within the origin at most ``MAX_REDIRECTS`` times. Transports send with their
        library's own redirect following off.
        """
        if is_redirect(answer.status, answer.location):
            assert answer.location is not None
            try:
                hop = next_hop(
                    f"{self.method} {self.path}",
                    answer.url or f"{self.base_url}{self.path}",
                    answer.status,
                    answer.location,
                    followed=self.redirects,
                )
            except SchedulerRedirectError as err:
                return Decision("raise", error=err)
            self.redirects += 1
            return Decision("redirect", url=hop.url, reason=f"redirected ({answer.status})")
        if self.refreshable and not self.refreshed and is_token_rejection(answer.status, answer.text):
            self.refreshed = True
            return Decision("refresh", reason=str(answer.status))
        if not is_transient_status(answer.status):
            return Decision("return")
        if self.attempt >= self.max_retries:
            error = error_for_response(
                answer,
                method=self.method,
                path=self.path,
                where=self.where,
                secrets=self.secrets,
                transient=True,
                attempts=self.attempt + 1,
                api_version=self.api_version,
            )
            return Decision("raise", error=error)
        retry_after = parse_retry_after(answer.retry_after)
        delay = retry_after if retry_after is not None else backoff_delay(self.attempt, uniform=self.uniform)
        return self._retry(delay, f"answered {answer.status}")

    def after_network_error(self, reason: str) -> Decision:
        """Decide after the request got no answer (connection refused or reset, timeout, ...)."""
        if self.attempt >= self.max_retries:
            attempts = self.attempt + 1
            error = SchedulerTransientError(
                f"Cannot reach the Airflow API at {self.base_url}: {self.method} {self.path} failed "
                f"({reason}) after {attempts} attempt{'s' if attempts != 1 else ''}. Check the host and "
                "port of the Airflow API URL and that the API server is running."
            )
            return Decision("raise", error=error)
        return self._retry(backoff_delay(self.attempt, uniform=self.uniform), f"failed ({reason})")

    def tls_error(self, text: str) -> SchedulerApiError:
        """The error for a failed TLS verification (not retried)."""
        return SchedulerApiError(
            f"TLS verification of {self.base_url} failed for {self.method} {self.path} "
            f"({scrub(text, self.secrets)[:300]}). Set ca_bundle to the CA that signed the "
            "server certificate, or turn verify_ssl off for a test deployment."
        )

    def retry_log_args(self, decision: Decision) -> tuple[Any, ...]:
        """``(format, *args)`` of the warning a transport logs before it waits."""
        return (
            "%s %s %s, attempt %d of %d; retrying in %.2f s",
            self.method,
            self.path,
            decision.reason,
            self.attempt,
            self.max_retries + 1,
            decision.delay,
        )

    def error(self, answer: Answer) -> SchedulerApiError:
        """The error for an unsuccessful, non-transient answer."""
        return error_for_response(
            answer,
            method=self.method,
            path=self.path,
            where=self.where,
            secrets=self.secrets,
            api_version=self.api_version,
        )

    def json_object(self, answer: Answer) -> dict[str, Any]:
        """The JSON object of a successful answer; a :class:`SchedulerApiError` otherwise."""
        if not 200 <= answer.status < 300:
            raise self.error(answer)
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SchedulerApiError(
                f"{self.where} answered {answer.status} to {self.method} {self.path} but not "
                "with a JSON object: check the Airflow API URL (and path prefix).",
                status_code=answer.status,
            )
        return body


# --------------------------------------------------------------------------------------------------
# Waiting
# --------------------------------------------------------------------------------------------------
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


def backoff_delay(attempt: int, *, uniform: Callable[[float, float], float] | None = None) -> float:
    """Full-jitter exponential backoff: uniform in ``[0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)]``.

    :param attempt: 0 for the first retry.
    :param uniform: ``random.uniform``-like function (injectable for tests).
    """
    upper = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** min(attempt, 32)))
    return float((uniform or random.uniform)(0.0, upper))


# --------------------------------------------------------------------------------------------------
# Credentials
# --------------------------------------------------------------------------------------------------
AuthMode = Literal["none", "static_token", "jwt", "basic"]


def auth_mode(settings: SchedulerConnectionSettings, api_version: str) -> AuthMode:
    """Which credentials requests carry: the static token, a JWT from the token exchange (v2 with a
    login), HTTP basic auth (v1 with a login) or none."""
    if settings.token:
        return "static_token"
    if not settings.login:
        return "none"
    return "basic" if api_version == "v1" else "jwt"


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


def refresh_after(token: str) -> float | None:
    """Epoch seconds after which a JWT is fetched again (its ``exp`` minus the leeway), or ``None``."""
    expiry = jwt_expiry(token)
    return expiry - TOKEN_EXPIRY_LEEWAY if expiry is not None else None


def token_is_fresh(refresh_at: float | None, now: float) -> bool:
    """Whether a cached JWT may still be sent (``refresh_at`` from :func:`refresh_after`)."""
    return refresh_at is None or now < refresh_at


def token_request_body(settings: SchedulerConnectionSettings) -> dict[str, str]:
    """The JSON body of ``POST /auth/token``."""
    return {"username": settings.login or "", "password": settings.password or ""}


def token_from_answer(
    answer: Answer, exchange: Exchange, settings: SchedulerConnectionSettings, *, name_connection: bool = True
) -> str:
    """The ``access_token`` of the token exchange's answer; the error to raise otherwise.

    :param name_connection: say which connection to check (``test_connection`` runs under a random id).
    """
    if answer.status in TOKEN_REJECTED_STATUS:
        detail = extract_detail(answer.text, answer.content_type)
        detail = scrub(detail, settings.secrets) if detail else None
        which = f" of connection {settings.conn_id!r}" if name_connection else ""
        raise SchedulerAuthError(
            f"The Airflow API at {settings.base_url} rejected the username/password of user "
            f"{settings.login!r} ({answer.status}{': ' + detail if detail else ''}). "
            f"Check the login and password{which}.",
            status_code=answer.status,
            detail=detail,
        )
    body = exchange.json_object(answer)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise SchedulerApiError(
            f"POST {TOKEN_PATH} at {settings.base_url} answered {answer.status} without an "
            "access_token: is this the API of an Airflow 3 deployment? (Use api_version v1 for 2.x.)",
            status_code=answer.status,
        )
    return token


# --------------------------------------------------------------------------------------------------
# API version detection
# --------------------------------------------------------------------------------------------------
class VersionProbe:
    """Detect the API version: ``GET /api/v2/version`` then ``/api/v1/version`` without credentials;
    200 with a version, 401 or 403 mean "this version exists"."""

    versions: tuple[str, ...] = ("v2", "v1")

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.answers: list[str] = []
        #: The server's Airflow version, when a probe answered it.
        self.server_version: str | None = None

    @staticmethod
    def path(version: str) -> str:
        return f"/api/{version}/version"

    def found(self, version: str, answer: Answer) -> bool:
        """Record one probe's answer; True when ``version`` is the deployment's API version."""
        path = self.path(version)
        if answer.status == 200:
            self.server_version = server_version_of(answer)
            if self.server_version is not None:
                return True
            self.answers.append(f"{path} -> 200 but not an Airflow version answer")
        elif answer.status in (401, 403):
            return True
        else:
            self.answers.append(f"{path} -> {answer.status}")
        return False

    def failure(self) -> SchedulerApiError:
        """The error when no probe found an API."""
        return SchedulerApiError(
            f"{self.base_url} answered, but it is not an Airflow REST API ({'; '.join(self.answers)}). "
            "Check the Airflow API URL: scheme, host, port and path prefix (without /api/v2), "
            "or set api_version explicitly.",
            status_code=None,
        )


def server_version_of(answer: Answer) -> str | None:
    """The Airflow version in a ``/version`` answer, or ``None``."""
    if answer.status != 200:
        return None
    try:
        body = answer.json()
    except ValueError:
        return None
    return str(body["version"]) if isinstance(body, dict) and "version" in body else None


# --------------------------------------------------------------------------------------------------
# Error answers
# --------------------------------------------------------------------------------------------------
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
_V1_403_ADVICE = (
    "Airflow 2.x answers 403 both to a wrong username/password and to a user without the "
    "permission: check the connection's username and password, then the user's role, and that "
    "[api] auth_backends includes airflow.providers.fab.auth_manager.api.auth.backend.basic_auth."
)
_TOKEN_403_ADVICE = (
    "The server could not validate the token: check the bearer token (it may be expired or "
    "issued by another deployment) or the connection's username and password."
)


def error_for_response(
    answer: Answer,
    *,
    method: str,
    path: str,
    where: str = "",
    secrets: Iterable[str] = (),
    transient: bool = False,
    attempts: int = 1,
    api_version: str | None = None,
) -> SchedulerApiError:
    """Build the error for an unsuccessful answer: what the server said and what to check.

    :param answer: the server's answer.
    :param method: HTTP method, for the message.
    :param path: request path (without the base URL), for the message.
    :param where: ``describe()`` of the settings, for the message.
    :param secrets: strings to scrub from the message (the server may echo the request).
    :param transient: the answer was retryable and retries are exhausted.
    :param attempts: how many attempts were made (for the transient message).
    :param api_version: ``v1``/``v2`` when known (Airflow 2.x answers 403 to wrong credentials).
    """
    status_code = answer.status
    try:
        reason = HTTPStatus(status_code).phrase
    except ValueError:
        reason = ""
    detail = extract_detail(answer.text, answer.content_type)
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
            advice = _V1_403_ADVICE
        elif status_code == 403 and is_token_rejection(status_code, detail or ""):
            advice = _TOKEN_403_ADVICE
        if advice:
            message += f" {advice}"
    return cls(message, status_code=status_code, detail=detail)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (longer than 3 characters) in ``text`` by ``***``."""
    for secret in sorted((s for s in secrets if s and len(s) > 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
