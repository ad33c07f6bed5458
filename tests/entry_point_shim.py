"""Expose pyproject.toml's ``airflow_provider_scheduler.catalog`` entry point to a stale editable install.

Entry points live in the installed metadata, which an editable install writes once: a checkout whose
pyproject.toml gained an entry point after ``pip install -e`` does not see it until re-installed. When
the group is missing, this writes a tiny ``.dist-info`` with exactly what pyproject.toml declares into
a temporary folder on ``sys.path`` and ``PYTHONPATH`` (for subprocesses). A real install wins.
"""

from __future__ import annotations

import os
import sys
import tempfile
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

GROUP = "airflow_provider_scheduler.catalog"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def declared_entry_points() -> dict[str, str]:
    """The ``airflow_provider_scheduler.catalog`` entry points pyproject.toml declares."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return dict(project.get("entry-points", {}).get(GROUP, {}))


def install_if_missing() -> None:
    if list(entry_points(group=GROUP)):
        return
    folder = Path(tempfile.mkdtemp(prefix="aps-test-entry-points-"))
    dist = folder / "aps_test_catalog_entry_points-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aps-test-catalog-entry-points\nVersion: 0\n")
    lines = [f"[{GROUP}]", *(f"{name} = {value}" for name, value in declared_entry_points().items())]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    sys.path.append(str(folder))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(folder)) if p)
