"""The operator behind the ``http_request`` task template: one HTTP call to an admin-approved connection.

Why our own small operator instead of the http provider's ``HttpOperator``: that provider is not
installed with Airflow 3.3 (and would be a new hard dependency for one template); the template must
behave the same wherever the provider runs; and it must only ever talk to the connection's own host
(the spec supplies a relative path, never a URL).

The connection's URL follows the hook's rule (:mod:`airflow_provider_scheduler.rest.http_target`).
Credentials never reach the log, the XCom or an exception message. No request leaves the connection's
host: a redirect to another host fails the task (nothing, not even the connection's headers or the
body, is sent there); one within the host is followed (at most 5, the method kept).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseHook, BaseOperator

from airflow_provider_scheduler.rest.http_target import (
    connection_base_url,
    connection_session_args,
    join_endpoint,
    send_within_origin,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.providers.common.compat.sdk import Context

_MAX_RESPONSE_LOG = 2000


class SpecHttpRequestOperator(BaseOperator):
    """Send one HTTP request to an admin-approved connection and check the status code.

    :param http_conn_id: connection id (approved in ``[schedule_specs] http_connections``).
    :param endpoint: path relative to the connection's base URL (templated).
    :param method: HTTP method.
    :param json: JSON body (templated).
    :param data: raw body (templated).
    :param headers: extra headers (templated); added to the connection's ``extra.headers``.
    :param expected_status: status codes that count as success.
    :param request_timeout: seconds to wait for the response.
    :return: (XCom) ``{"status_code": int}``; the body is logged (truncated), not pushed.
    """

    template_fields: Sequence[str] = ("endpoint", "json", "data", "headers")
    ui_color = "#f4a460"

    def __init__(
        self,
        *,
        http_conn_id: str,
        endpoint: str = "",
        method: str = "GET",
        json: Any = None,
        data: str | None = None,
        headers: dict[str, str] | None = None,
        expected_status: Sequence[int] = (200, 201, 202, 204),
        request_timeout: float = 60,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.http_conn_id = http_conn_id
        self.endpoint = endpoint
        self.method = method.upper()
        self.json = json
        self.data = data
        self.headers = headers
        self.expected_status = tuple(expected_status)
        self.request_timeout = request_timeout

    def execute(self, context: Context) -> dict[str, int]:
        # Local: requests takes about 60 ms to import (measured) and DAG files import this module.
        import requests

        conn = BaseHook.get_connection(self.http_conn_id)
        url = join_endpoint(connection_base_url(conn), self.endpoint)
        args = connection_session_args(conn)
        args["headers"].update(self.headers or {})
        self.log.info("%s %s", self.method, url)

        def send(method: str, target: str) -> requests.Response:
            return requests.request(
                method,
                target,
                json=self.json,
                data=self.data,
                timeout=self.request_timeout,
                allow_redirects=False,  # send_within_origin decides: never to another host
                **args,
            )

        try:
            response = send_within_origin(send, self.method, url)
        except requests.RequestException as exc:
            raise AirflowException(f"{self.method} {url} failed: {type(exc).__name__}") from None
        self.log.info("Response %s: %s", response.status_code, response.text[:_MAX_RESPONSE_LOG])
        if response.status_code not in self.expected_status:
            raise AirflowException(
                f"{self.method} {url} returned HTTP {response.status_code}; expected one of "
                f"{', '.join(map(str, self.expected_status))}"
            )
        return {"status_code": response.status_code}
