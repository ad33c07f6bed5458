"""The shared real Airflow deployment sees this provider."""

from __future__ import annotations


def test_rest_api_lists_the_provider(airflow):
    resp = airflow.api("GET", "/api/v2/providers", params={"limit": 100})
    assert resp.status_code == 200, resp.text
    packages = {p["package_name"]: p for p in resp.json()["providers"]}
    assert "airflow-provider-scheduler" in packages
    from airflow_provider_scheduler import __version__

    assert packages["airflow-provider-scheduler"]["version"] == __version__


def test_scheduler_connection_type_is_registered(airflow):
    result = airflow.cli("providers", "hooks", "--output", "json")
    assert '"scheduler"' in result.stdout, result.stdout[-2000:]
