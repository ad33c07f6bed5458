"""The README's loader snippet loads DAGs exactly as printed, under Airflow's default safe mode."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from factory_helpers import dagbag, make_spec

if TYPE_CHECKING:
    from factory_helpers import Env

REPO_ROOT = Path(__file__).resolve().parents[3]
SNIPPET = re.compile(
    r"<!-- loader-snippet:start -->\n```python\n(?P<code>.*?)```\n<!-- loader-snippet:end -->", re.DOTALL
)


def readme_snippet() -> str:
    """The code between the README's loader-snippet markers, byte for byte."""
    found = SNIPPET.findall((REPO_ROOT / "README.md").read_text())
    assert len(found) == 1, "README.md must hold exactly one loader snippet between the markers"
    return found[0]


@pytest.fixture
def default_settings(env: Env, monkeypatch: pytest.MonkeyPatch) -> Env:
    """Airflow's default parsing settings; the store comes from ``[schedule_specs] store`` as documented."""
    from airflow.configuration import conf

    monkeypatch.delenv("AIRFLOW__CORE__DAG_DISCOVERY_SAFE_MODE", raising=False)
    monkeypatch.setenv("AIRFLOW__SCHEDULE_SPECS__STORE", env.store_uri)
    assert conf.getboolean("core", "dag_discovery_safe_mode") is True
    return env


def test_example_loader_file_is_the_readme_snippet() -> None:
    assert (REPO_ROOT / "example_dags" / "schedules.py").read_text() == readme_snippet()


def test_readme_snippet_loads_the_stored_spec_in_safe_mode(default_settings: Env) -> None:
    env = default_settings
    env.put(make_spec("only"))
    (env.dags / "schedules.py").write_text(readme_snippet())
    bag = dagbag(env.dags)
    assert bag.import_errors == {}
    assert sorted(bag.dags) == ["team.only"]


def test_safe_mode_skips_a_loader_file_that_never_says_dag(default_settings: Env) -> None:
    """The control: without its comment line the same file is not even parsed (the README's old text)."""
    env = default_settings
    env.put(make_spec("only"))
    code = readme_snippet()
    assert code.startswith("# ")
    (env.dags / "schedules.py").write_text(code.split("\n", 1)[1])
    assert dagbag(env.dags).dags == {}
