"""The errors of the Airflow REST API client (sync hook and async client raise the same ones).

Re-exported by :mod:`airflow_provider_scheduler.hooks.scheduler`, where DAG authors import them.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowNotFoundException


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
    """A transient failure (connection error, timeout, 408, 429, 5xx) persisted through every retry."""


class SchedulerRedirectError(SchedulerApiError):
    """A redirect was refused: to another host, more than the allowed hops, or one that changes the method.

    Nothing was sent to the redirect's target (see :mod:`airflow_provider_scheduler.rest.redirects`).
    """


#: The API errors by class name: the fixed allow-list a trigger event's ``error_type`` is mapped through.
API_ERRORS: dict[str, type[SchedulerApiError]] = {
    cls.__name__: cls
    for cls in (
        SchedulerApiError,
        SchedulerAuthError,
        SchedulerNotFoundError,
        SchedulerRedirectError,
        SchedulerTransientError,
    )
}
