"""rest.errors: the API error classes (pickle-safe, Airflow exception bases)."""

from __future__ import annotations

import pickle

from airflow_provider_scheduler.rest.errors import SchedulerApiError, SchedulerNotFoundError


class TestErrors:
    def test_errors_pickle_with_their_attributes(self):
        err = pickle.loads(pickle.dumps(SchedulerNotFoundError("gone", status_code=404, detail="x")))
        assert (type(err), str(err), err.status_code, err.detail) == (
            SchedulerNotFoundError,
            "gone",
            404,
            "x",
        )

    def test_not_found_is_an_airflow_not_found(self):
        from airflow.providers.common.compat.sdk import AirflowException, AirflowNotFoundException

        assert issubclass(SchedulerNotFoundError, AirflowNotFoundException)
        assert issubclass(SchedulerApiError, AirflowException)

    def test_dag_authors_catch_them_from_the_hook_module(self):
        from airflow_provider_scheduler.hooks import scheduler
        from airflow_provider_scheduler.rest import errors

        for name in (
            "SchedulerApiError",
            "SchedulerAuthError",
            "SchedulerNotFoundError",
            "SchedulerTransientError",
        ):
            assert getattr(scheduler, name) is getattr(errors, name)
            assert errors.API_ERRORS[name] is getattr(errors, name)
