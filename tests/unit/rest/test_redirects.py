"""rest.redirects: what counts as the approved origin, and which redirects are followed."""

from __future__ import annotations

import pytest

from airflow_provider_scheduler.rest.errors import API_ERRORS, SchedulerApiError, SchedulerRedirectError
from airflow_provider_scheduler.rest.redirects import MAX_REDIRECTS, Hop, is_redirect, next_hop, origin

BASE = "https://airflow.example.com/prefix/api/v2/dags"


class TestOrigin:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("https://Airflow.Example.com/x?y#z", "https://airflow.example.com"),
            ("https://airflow.example.com:443/x", "https://airflow.example.com"),
            ("http://airflow.example.com:80", "http://airflow.example.com"),
            ("http://airflow.example.com:8080/", "http://airflow.example.com:8080"),
            ("https://admin:Zq7@airflow.example.com:8443/", "https://airflow.example.com:8443"),
            ("http://[::1]:8080/x", "http://[::1]:8080"),
            ("http://host:80a/x", "http://host:?"),
        ],
    )
    def test_normalised_without_credentials(self, url: str, expected: str) -> None:
        assert origin(url) == expected


class TestNextHop:
    @pytest.mark.parametrize(
        ("location", "target"),
        [
            ("https://other.example.com/prefix/api/v2/dags", "https://other.example.com"),
            ("http://airflow.example.com/prefix/api/v2/dags", "http://airflow.example.com"),
            ("https://airflow.example.com:8443/x", "https://airflow.example.com:8443"),
            ("//other.example.com/x", "https://other.example.com"),
            ("https://airflow.example.com.evil.example/x", "https://airflow.example.com.evil.example"),
            ("https://airflow.example.com@evil.example/x", "https://evil.example"),
            ("https://evil.example\\@airflow.example.com.x/", "https://airflow.example.com.x"),
            ("ftp://airflow.example.com/x", "ftp://airflow.example.com"),
        ],
    )
    def test_another_origin_is_refused(self, location: str, target: str) -> None:
        with pytest.raises(SchedulerRedirectError) as info:
            next_hop("POST /prefix/api/v2/dags", BASE, 307, location, followed=0)
        assert str(info.value) == (
            "POST /prefix/api/v2/dags was redirected (307) from https://airflow.example.com to another "
            f"host, {target}: refused, so that no request, credentials or configured headers leave "
            f"https://airflow.example.com. If {target} is the right server, set the connection's host to it."
        )
        assert info.value.status_code == 307

    @pytest.mark.parametrize(
        ("status", "method", "location", "url"),
        [
            (307, "POST", "/prefix/api/v2/dags/", "https://airflow.example.com/prefix/api/v2/dags/"),
            (308, "PATCH", "dags2?x=1#frag", "https://airflow.example.com/prefix/api/v2/dags2?x=1"),
            (301, "GET", "https://AIRFLOW.example.com:443/y", "https://AIRFLOW.example.com:443/y"),
            (302, "HEAD", "https://u:Zq7@airflow.example.com/y", "https://airflow.example.com/y"),
            (303, "GET", "/z", "https://airflow.example.com/z"),
            # what precedes the last "@" is never sent: the libraries cannot read another host into it
            (307, "GET", "https://evil.example\\@airflow.example.com/y", "https://airflow.example.com/y"),
        ],
    )
    def test_same_origin_is_followed_with_the_same_method(
        self, status: int, method: str, location: str, url: str
    ) -> None:
        assert next_hop(f"{method} /p", BASE, status, location, followed=0) == Hop(method, url)

    @pytest.mark.parametrize("status", [301, 302, 303])
    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    def test_a_redirect_that_would_turn_the_method_into_get_is_refused(
        self, status: int, method: str
    ) -> None:
        with pytest.raises(
            SchedulerRedirectError, match=f"which would turn the {method} into a GET: refused"
        ):
            next_hop(f"{method} /p", BASE, status, "/other?token=x", followed=0)

    def test_bounded(self) -> None:
        assert next_hop("GET /p", BASE, 307, "/p", followed=MAX_REDIRECTS - 1) == Hop(
            "GET", "https://airflow.example.com/p"
        )
        with pytest.raises(SchedulerRedirectError, match=f"redirected more than {MAX_REDIRECTS} times"):
            next_hop("GET /p", BASE, 307, "/p", followed=MAX_REDIRECTS)

    def test_is_redirect_needs_a_location(self) -> None:
        assert is_redirect(307, "/x")
        assert not is_redirect(307, None)
        assert not is_redirect(302, "  ")
        assert not is_redirect(304, "/x")
        assert not is_redirect(200, "/x")

    def test_error_is_an_api_error_a_trigger_event_can_carry(self) -> None:
        assert issubclass(SchedulerRedirectError, SchedulerApiError)
        assert API_ERRORS["SchedulerRedirectError"] is SchedulerRedirectError
