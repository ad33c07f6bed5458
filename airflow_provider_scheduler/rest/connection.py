"""Settings of a ``scheduler`` connection and the one rule that turns a connection host into a URL.

- ``host``: the API base URL, e.g. ``https://airflow.example.com`` or ``http://127.0.0.1:8080/airflow``.
  A host without a scheme is accepted: the connection's ``port`` is appended and the scheme is
  ``http`` for loopback hosts and port 80, ``https`` otherwise (unless ``schema`` says ``http``/``https``).
- ``login`` / ``password``: exchanged for a JWT on Airflow 3 (API v2), HTTP basic auth on 2.x (API v1).
- ``extra`` (:mod:`~airflow_provider_scheduler.rest.connection_fields`): ``api_version``, ``token``,
  ``verify_ssl``, ``ca_bundle``, ``timeout``, ``max_retries``.

Every setting follows the precedence *argument > connection extra > default*; the connection's
``extra_dejson`` is never mutated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_scheduler.rest.connection_fields import CONN_FIELDS

if TYPE_CHECKING:
    from collections.abc import Mapping

ApiVersion = Literal["auto", "v2", "v1"]

API_VERSIONS: tuple[str, ...] = ("auto", "v2", "v1")
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


def _without_userinfo(raw: str) -> str:
    """``raw`` for a message: anything up to the last ``@`` (a user name and password) is ``***``."""
    if "@" not in raw:
        return raw
    scheme, sep, rest = raw.partition("://")
    prefix = f"{scheme}://" if sep else ""
    return f"{prefix}***@{(rest if sep else raw).rpartition('@')[2]}"


def build_base_url(host: str | None, *, port: int | None = None, schema: str | None = None) -> str:
    """Return the normalised API base URL (``scheme://host[:port][/prefix]``, no trailing slash).

    A ``user:password@`` pasted into the host is dropped (the connection's login and password fields
    hold them); an ``@`` anywhere else (e.g. a password with a raw ``/`` or ``#``) is refused. Messages
    never show what comes before the last ``@``.

    :param host: the connection's host: a URL, or a bare host name.
    :param port: the connection's port, used when ``host`` names none (0 and the scheme's default
        port add nothing: the Airflow 3.3 UI saves and sends 0 for an empty port).
    :param schema: the connection's schema field; ``http``/``https`` there chooses the scheme of a bare
        host.
    :raises ValueError: the host cannot be used; the message names the problem without credentials.
    """
    raw = (host or "").strip()
    if not raw:
        raise ValueError(
            "the connection has no host: set it to the Airflow API URL, e.g. https://airflow.example.com"
        )
    if "@" in raw:
        scheme, sep, rest = raw.partition("://")
        if not sep:
            scheme, rest = "", raw
        authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        if "@" in rest[authority_end:]:
            raise ValueError(
                f"the Airflow API URL {_without_userinfo(raw)!r} holds an '@' outside user:password@host: "
                "put the user name and password in the connection's login and password fields"
            )
        # Drop user:password@ from a pasted URL (also before a port that would not parse).
        stripped = rest[:authority_end].rpartition("@")[2] + rest[authority_end:]
        raw = f"{scheme}://{stripped}" if sep else stripped
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
    try:
        parts = urlsplit(raw)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        raise ValueError(f"the Airflow API URL {raw!r} is not a valid URL") from None
    if parts.scheme not in {"http", "https"}:
        raise ValueError(f"the Airflow API URL must start with http:// or https://, got {parts.scheme}://")
    if not parts.hostname:
        raise ValueError(f"the Airflow API URL {raw!r} names no host")
    netloc = parts.netloc
    try:
        url_port = parts.port
    except ValueError:
        raise ValueError(f"the Airflow API URL {raw!r} has an invalid port") from None
    if url_port is None and port and int(port) != _DEFAULT_PORTS[parts.scheme]:
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
