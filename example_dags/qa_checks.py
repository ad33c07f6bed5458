"""Python callables a platform team approved for the ``python`` task template.

Specs cannot import code: the ``python`` template runs only functions an admin lists in
``[schedule_specs] python_callables`` (and enables with ``[schedule_specs] enabled_templates = python``).
These are the ones the QA example spec (``specs/qa-release-suite.yaml``) uses. They stand in for real
work: create a test environment, run a check against it, destroy it.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


def create_environment(release: str) -> str:
    """Create a throwaway test environment for ``release`` and return its name."""
    name = f"qa-{release}"
    log.info("creating test environment %s", name)
    time.sleep(1)
    return name


def run_check(check: str, fail: bool = False) -> str:
    """Run one QA check; ``fail`` makes it fail, to show that teardown still runs."""
    log.info("running check %s", check)
    time.sleep(1)
    if fail:
        raise AssertionError(f"check {check!r} failed")
    return f"{check}: ok"


def destroy_environment(release: str) -> None:
    """Destroy the test environment of ``release`` (runs even when checks failed)."""
    log.info("destroying test environment qa-%s", release)
