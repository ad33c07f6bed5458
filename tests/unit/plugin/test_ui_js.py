"""The Schedules pages' JavaScript: every module parses, and the pure helpers' own tests pass (node)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from airflow_provider_scheduler.plugin.ui_apps import UI_DIR

JS_TESTS = Path(__file__).parent / "js"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node") or shutil.which("nodejs")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing; .ci/run must install Debian's nodejs")
        pytest.skip("node (Debian's nodejs) is not installed: the pages' JavaScript tests need it")
    return found


class TestSchedulesJavaScript:
    @pytest.mark.parametrize("module", sorted(p.name for p in UI_DIR.glob("*.js")))
    def test_module_parses(self, node, module):
        result = subprocess.run(
            [node, "--check", str(UI_DIR / module)], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr

    def test_helpers(self, node):
        result = subprocess.run(
            [node, "--test", *sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert "# fail 0" in result.stdout
