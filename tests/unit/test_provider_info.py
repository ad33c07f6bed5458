"""The provider as Airflow itself discovers it: a broken provider info breaks every `airflow` command."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import airflow
import jsonschema
import pytest

from airflow_provider_scheduler import __version__
from airflow_provider_scheduler.plugin.access import NamespaceAccess

PACKAGE = "airflow-provider-scheduler"
AIRFLOW_DIR = Path(airflow.__file__).parent


@pytest.fixture(scope="module")
def provider_info() -> dict:
    from airflow.providers_manager import ProvidersManager

    providers = ProvidersManager().providers
    assert PACKAGE in providers, f"{PACKAGE} not discovered; got {sorted(providers)}"
    return providers[PACKAGE].data


def _class_paths(info: dict) -> list[str]:
    paths = [item["hook-class-name"] for item in info.get("connection-types", [])]
    paths += info.get("extra-links", [])
    return paths


def _module_paths(info: dict) -> list[str]:
    modules = []
    for key in ("hooks", "operators", "sensors", "triggers"):
        for entry in info.get(key, []):
            modules += entry["python-modules"]
    return modules


class TestProviderDiscovery:
    def test_discovered_through_providers_manager(self, provider_info):
        assert provider_info["package-name"] == PACKAGE
        assert provider_info["versions"][0] == __version__
        assert provider_info["name"]
        assert provider_info["description"]
        assert provider_info["integrations"]

    def test_every_listed_module_imports(self, provider_info):
        modules = _module_paths(provider_info)
        assert modules, "the provider lists no modules"
        for module in modules:
            importlib.import_module(module)

    def test_every_listed_class_exists(self, provider_info):
        for path in _class_paths(provider_info):
            module, _, name = path.rpartition(".")
            assert hasattr(importlib.import_module(module), name), f"{path} does not exist"

    def test_hook_class_matches_connection_type(self, provider_info):
        for item in provider_info["connection-types"]:
            module, _, name = item["hook-class-name"].rpartition(".")
            hook = getattr(importlib.import_module(module), name)
            assert hook.conn_type == item["connection-type"]
            assert hook.hook_name == item["hook-name"]

    def test_provider_info_validates_against_airflow_schema(self, provider_info):
        schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
        jsonschema.validate(provider_info, schema)

    def test_connection_types_validate_against_provider_yaml_schema(self, provider_info):
        schema_path = AIRFLOW_DIR / "provider.yaml.schema.json"
        if not schema_path.exists():
            pytest.skip("this Airflow ships no provider.yaml.schema.json")
        schema = json.loads(schema_path.read_text())
        item_schema = schema["properties"]["connection-types"]
        # Before 3.2 the schema knows no conn-fields but tolerates them (it sets no additionalProperties);
        # validating still proves the declared keys are of the right shape for that version.
        jsonschema.validate(provider_info["connection-types"], item_schema)
        for item in provider_info["connection-types"]:
            assert item["conn-fields"], "the scheduler connection type declares no custom fields"
            for name, field in item["conn-fields"].items():
                assert field["label"], name
                assert field["schema"]["type"], name

    def test_config_section_is_declared(self, provider_info):
        assert "store" in provider_info["config"]["schedule_specs"]["options"]

    def test_portal_namespace_access_option_is_declared(self, provider_info):
        option = provider_info["config"]["schedule_specs"]["options"]["namespace_access"]
        assert NamespaceAccess.parse(option["example"]).restricted
        assert not NamespaceAccess.parse(option["default"]).restricted

    def test_provider_info_module_does_not_import_airflow(self):
        code = (
            "import sys; import airflow_provider_scheduler.get_provider_info as m; m.get_provider_info(); "
            "print(any(k == 'airflow' or k.startswith('airflow.') for k in sys.modules))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False"


class TestAirflowCommands:
    def test_providers_list_shows_provider_without_warnings(self, tmp_path):
        env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        airflow_bin = Path(sys.executable).parent / "airflow"
        result = subprocess.run(
            [str(airflow_bin), "providers", "list", "--output", "json"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        start = result.stdout.index("[")
        listed = {p["package_name"]: p for p in json.loads(result.stdout[start:])}
        assert listed[PACKAGE]["version"] == __version__
        # Discovery problems name the provider (package or module); other packages' own deprecation
        # notices (e.g. common-compat on Airflow 3.1) are not ours to judge.
        problems = [
            line
            for line in (result.stderr + result.stdout[:start]).splitlines()
            if ("airflow-provider-scheduler" in line or "airflow_provider_scheduler" in line)
            and any(word in line.lower() for word in ("warn", "error", "exception", "fail"))
        ]
        assert not problems, problems
