"""The plugin's react_apps entries: what Airflow's UI needs to show the Schedules pages."""

from __future__ import annotations

import re

import pytest

from airflow_provider_scheduler.plugin import ui_apps
from airflow_provider_scheduler.plugin.ui_apps import UI_DIR, base_path, react_apps, static_url


class TestReactApps:
    def test_nav_page_and_dag_tab(self):
        nav, tab = react_apps("http://127.0.0.1:8080")
        assert (nav["name"], nav["destination"], nav["url_route"]) == ("Schedules", "nav", "schedules")
        assert (tab["destination"], tab["url_route"]) == ("dag", "schedule-spec")
        assert nav["bundle_url"] == "/schedules/static/schedules-nav.js"
        assert tab["bundle_url"] == "/schedules/static/schedules-dag.js"

    def test_every_entry_has_its_own_bundle(self):
        # Airflow's UI caches an entry's component by name after importing its bundle: a shared URL
        # would be evaluated once and leave the second entry without a component.
        urls = [app["bundle_url"] for app in react_apps("")]
        assert len(set(urls)) == len(urls)

    def test_bundles_and_icon_exist_and_set_the_plugin_component(self):
        for app in react_apps(""):
            for key in ("bundle_url", "icon"):
                name = app[key].rsplit("/", 1)[1]
                assert (UI_DIR / name).is_file(), app[key]
            source = (UI_DIR / app["bundle_url"].rsplit("/", 1)[1]).read_text()
            assert re.search(r"^globalThis\.AirflowPlugin = \w+;$", source, re.M), app["bundle_url"]

    @pytest.mark.parametrize(
        ("base_url", "expected"),
        [
            (None, "/schedules/static/x.js"),
            ("", "/schedules/static/x.js"),
            ("http://host:8080", "/schedules/static/x.js"),
            ("http://host:8080/", "/schedules/static/x.js"),
            ("https://host/airflow/", "/airflow/schedules/static/x.js"),
        ],
    )
    def test_urls_keep_the_deployments_sub_path(self, base_url, expected):
        assert static_url("x.js", base_url) == expected
        assert base_path(base_url) == expected.removesuffix("/schedules/static/x.js")

    def test_base_url_from_airflow_configuration(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://example.com/af")
        assert ui_apps._configured_base_url() == "https://example.com/af"
        assert react_apps()[0]["bundle_url"] == "/af/schedules/static/schedules-nav.js"


class TestPluginClass:
    def test_plugin_lists_the_pages(self):
        from airflow_provider_scheduler.plugin import SchedulesPlugin

        assert SchedulesPlugin.name == "schedules"
        assert [app["url_route"] for app in SchedulesPlugin.react_apps] == ["schedules", "schedule-spec"]
