"""rest.connection: the URL rule and the settings of a ``scheduler`` connection."""

from __future__ import annotations

import re

import pytest
from api_samples import BASE, CONN_ID, PASSWORD, STATIC_TOKEN, make_connection

from airflow_provider_scheduler.rest.connection import SchedulerConnectionSettings, build_base_url


class TestBuildBaseUrl:
    @pytest.mark.parametrize(
        ("host", "port", "schema", "expected"),
        [
            ("https://airflow.example.com/", None, None, "https://airflow.example.com"),
            ("https://airflow.example.com/prefix/", None, None, "https://airflow.example.com/prefix"),
            ("http://127.0.0.1:8080", None, None, "http://127.0.0.1:8080"),
            ("http://127.0.0.1", 8080, None, "http://127.0.0.1:8080"),
            ("http://127.0.0.1:9090", 8080, None, "http://127.0.0.1:9090"),
            ("127.0.0.1", 8080, None, "http://127.0.0.1:8080"),
            ("localhost:8080", None, None, "http://localhost:8080"),
            ("airflow.example.com", None, None, "https://airflow.example.com"),
            ("airflow.example.com", 80, None, "http://airflow.example.com"),
            ("https://airflow.example.com", 443, None, "https://airflow.example.com"),
            ("https://airflow.example.com", 8443, None, "https://airflow.example.com:8443"),
            ("http://airflow.example.com", 443, None, "http://airflow.example.com:443"),
            ("http://127.0.0.1:8080", 8080, None, "http://127.0.0.1:8080"),
            ("http://127.0.0.1:8080", 0, None, "http://127.0.0.1:8080"),
            ("https://airflow.example.com", 0, None, "https://airflow.example.com"),
            ("airflow.example.com/af", 8443, None, "https://airflow.example.com:8443/af"),
            ("airflow.example.com", None, "http", "http://airflow.example.com"),
            ("https://user:pw@airflow.example.com", None, None, "https://airflow.example.com"),
            ("  https://airflow.example.com  ", None, None, "https://airflow.example.com"),
        ],
    )
    def test_accepted_forms(self, host, port, schema, expected):
        assert build_base_url(host, port=port, schema=schema) == expected

    @pytest.mark.parametrize(
        ("host", "message"),
        [
            (
                "",
                "the connection has no host: set it to the Airflow API URL, e.g. https://airflow.example.com",
            ),
            (None, "the connection has no host"),
            ("ftp://airflow.example.com", "must start with http:// or https://, got ftp://"),
            ("http://", "names no host"),
            ("http://host:port", "has an invalid port"),
        ],
    )
    def test_rejected_forms(self, host, message):
        with pytest.raises(ValueError, match=re.escape(message)):
            build_base_url(host)

    @pytest.mark.parametrize(
        ("host", "port", "expected"),
        [
            ("http://admin:Zq7pw@airflow.example.com:8080/af", None, "http://airflow.example.com:8080/af"),
            ("admin:Zq7pw@airflow.example.com", 8443, "https://airflow.example.com:8443"),
            ("admin:Zq7:p:w@127.0.0.1:8080", None, "http://127.0.0.1:8080"),
            ("http://admin:Zq7%40pw@[::1]:8080", None, "http://[::1]:8080"),
        ],
    )
    def test_userinfo_is_dropped(self, host, port, expected):
        assert build_base_url(host, port=port) == expected

    @pytest.mark.parametrize(
        ("host", "message"),
        [
            ("http://admin:Zq7PW@host:80a", "the Airflow API URL 'http://host:80a' has an invalid port"),
            ("http://admin:Zq7PW@", "the Airflow API URL 'http://' names no host"),
            ("admin:Zq7PW@host:80a", "the Airflow API URL 'https://host:80a' has an invalid port"),
            (
                "http://admin:Zq7/PW@host",
                "the Airflow API URL 'http://***@host' holds an '@' outside user:password@host: put the user "
                "name and password in the connection's login and password fields",
            ),
            ("http://admin:Zq7#PW@host:8080", "the Airflow API URL 'http://***@host:8080' holds an '@'"),
            ("http://admin:Zq7?PW@host", "the Airflow API URL 'http://***@host' holds an '@'"),
            ("admin:Zq7?PW@host", "the Airflow API URL '***@host' holds an '@'"),
            # an "@" in the path would otherwise hide which host is meant
            ("https://airflow.example.com/@other.example", "the Airflow API URL 'https://***@other.example'"),
            ("http://[::1", "the Airflow API URL 'http://[::1' is not a valid URL"),
        ],
    )
    def test_errors_never_echo_credentials(self, host, message):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}") as info:
            build_base_url(host)
        assert "Zq7" not in str(info.value)
        # and through the connection, as the hook and test_connection report it
        prefixed = f"^{re.escape(f'connection {CONN_ID!r} (type scheduler): {message}')}"
        with pytest.raises(ValueError, match=prefixed) as info:
            SchedulerConnectionSettings.from_connection(make_connection(host=host, password="Zq7pass"))
        assert "Zq7" not in str(info.value)


class TestConnectionSettings:
    def test_defaults(self):
        settings = SchedulerConnectionSettings.from_connection(
            make_connection(host=BASE, login="admin", password=PASSWORD)
        )
        assert settings == SchedulerConnectionSettings(
            base_url=BASE,
            api_version="auto",
            login="admin",
            password=PASSWORD,
            token=None,
            verify=True,
            timeout=30.0,
            max_retries=3,
            conn_id=CONN_ID,
        )

    def test_extra_values_including_strings_from_a_uri(self):
        conn = make_connection(
            host=BASE,
            extra={
                "api_version": "V1",
                "token": STATIC_TOKEN,
                "verify_ssl": "false",
                "timeout": "12.5",
                "max_retries": "0",
            },
        )
        settings = SchedulerConnectionSettings.from_connection(conn)
        assert (
            settings.api_version,
            settings.token,
            settings.verify,
            settings.timeout,
            settings.max_retries,
        ) == (
            "v1",
            STATIC_TOKEN,
            False,
            12.5,
            0,
        )

    def test_uri_form_connection(self):
        from airflow.providers.common.compat.sdk import Connection

        conn = Connection(  # type: ignore[call-arg]  # uri= exists on both Airflow versions
            conn_id="u",
            uri="scheduler://admin:pw%2Fx@airflow.example.com:8443/?verify_ssl=true&max_retries=5",
        )
        settings = SchedulerConnectionSettings.from_connection(conn)
        assert settings.base_url == "https://airflow.example.com:8443"
        assert settings.password == "pw/x"
        assert settings.max_retries == 5

    def test_ca_bundle_becomes_verify_path_unless_verification_is_off(self):
        on = make_connection(host=BASE, extra={"ca_bundle": "/etc/ssl/ca.pem"})
        off = make_connection(host=BASE, extra={"ca_bundle": "/etc/ssl/ca.pem", "verify_ssl": False})
        assert SchedulerConnectionSettings.from_connection(on).verify == "/etc/ssl/ca.pem"
        assert SchedulerConnectionSettings.from_connection(off).verify is False

    def test_precedence_argument_over_extra_over_default(self):
        conn = make_connection(host=BASE, extra={"timeout": 5, "max_retries": 7, "api_version": "v1"})
        from_extra = SchedulerConnectionSettings.from_connection(conn)
        from_args = SchedulerConnectionSettings.from_connection(
            conn, timeout=9, max_retries=1, api_version="v2", verify="/ca.pem", token="arg-token"
        )
        defaults = SchedulerConnectionSettings.from_connection(make_connection(host=BASE))
        assert (from_extra.timeout, from_extra.max_retries, from_extra.api_version) == (5.0, 7, "v1")
        assert (from_args.timeout, from_args.max_retries, from_args.api_version) == (9.0, 1, "v2")
        assert (from_args.verify, from_args.token) == ("/ca.pem", "arg-token")
        assert (defaults.timeout, defaults.max_retries, defaults.api_version) == (30.0, 3, "auto")

    def test_empty_extra_values_count_as_unset(self):
        conn = make_connection(host=BASE, extra={"timeout": "", "api_version": None, "token": "  "})
        settings = SchedulerConnectionSettings.from_connection(conn)
        assert (settings.timeout, settings.api_version, settings.token) == (30.0, "auto", None)

    def test_extra_dejson_is_not_mutated(self):
        extra = {"timeout": "5", "api_version": "auto"}
        conn = make_connection(host=f"{BASE}/api/v2", extra=extra)
        before = conn.extra_dejson
        SchedulerConnectionSettings.from_connection(conn, timeout=9, api_version="v2")
        assert conn.extra_dejson == before == extra

    def test_url_with_api_suffix_selects_that_version(self):
        settings = SchedulerConnectionSettings.from_connection(make_connection(host=f"{BASE}/af/api/v1/"))
        assert (settings.base_url, settings.api_version) == (f"{BASE}/af", "v1")

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            ({"api_version": "v3"}, "api_version must be one of auto, v2, v1, got 'v3'"),
            ({"timeout": "soon"}, "timeout must be a number of seconds, got 'soon'"),
            ({"timeout": 0}, "timeout must be between 1 and 600, got 0"),
            ({"max_retries": 11}, "max_retries must be between 0 and 10, got 11"),
            ({"max_retries": "2.5"}, "max_retries must be a whole number, got '2.5'"),
            ({"max_retries": True}, "max_retries must be a whole number, got True"),
            ({"verify_ssl": "maybe"}, "verify_ssl must be true or false, got 'maybe'"),
        ],
    )
    def test_invalid_values_name_connection_and_field(self, extra, message):
        with pytest.raises(
            ValueError, match=re.escape(f"connection '{CONN_ID}' (type scheduler): {message}")
        ):
            SchedulerConnectionSettings.from_connection(make_connection(host=BASE, extra=extra))

    def test_repr_hides_secrets(self):
        settings = SchedulerConnectionSettings.from_connection(
            make_connection(host=BASE, login="admin", password=PASSWORD, extra={"token": STATIC_TOKEN})
        )
        assert PASSWORD not in repr(settings)
        assert STATIC_TOKEN not in repr(settings)
        assert settings.secrets == (PASSWORD, STATIC_TOKEN)
