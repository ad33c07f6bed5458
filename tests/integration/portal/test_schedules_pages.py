"""The Schedules pages in a real Airflow 3.3, driven by headless Chromium as an end user would.

Signs in through Airflow's login page, opens Schedules, creates a spec with a typo in a dependency,
sees the problem at its path, fixes it there, applies, sees the DAG appear, triggers a run with a
param from the page and sees it succeed, edits the spec and sees the diff, and finds the spec tab on
the generated DAG's page. Screenshots go to test-artifacts/portal/ (and to docs/screenshots/ with
APS_UPDATE_SCREENSHOTS=1, which is how the README's pictures are made).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "portal"
DOC_SHOTS = REPO_ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SPEC_ID = "portal.ui-demo"
WAIT = 150  # generous hang guard: parse, schedule and run on a busy 2-core machine

SPEC_WITH_TYPO = {
    "version": 1,
    "namespace": "portal",
    "name": "ui-demo",
    "description": "Created in the browser through the Schedules page",
    "owner": "admin",
    "schedule": None,
    "params": {"region": {"type": "string", "enum": ["eu", "us"], "default": "eu"}},
    "tasks": [
        {"id": "extract", "template": "empty"},
        {"id": "load", "template": "empty", "depends_on": ["extract"]},
        {"id": "report", "template": "empty", "depends_on": ["lod"]},
    ],
}


@pytest.fixture
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium / chromedriver missing; .ci/run must install them")
        pytest.skip("chromium / chromedriver not installed (apt-get install -y chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="aps-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1440,1100",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    if os.environ.get("APS_UPDATE_SCREENSHOTS") == "1":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOC_SHOTS / name)
    return path


def browser_errors(driver) -> list[str]:
    try:
        return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    except Exception:  # the log is a debugging aid only
        return []


class TestSchedulesPages:
    def test_create_fix_apply_trigger_and_dag_tab(self, browser, portal_airflow):
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import Select, WebDriverWait

        airflow = portal_airflow
        wait = WebDriverWait(browser, WAIT)

        def testid(name: str) -> tuple[str, str]:
            return (By.CSS_SELECTOR, f"[data-testid={json.dumps(name)}]")

        def paste(area, text: str) -> None:
            """Replace the editor's text as a paste does (one input event; typing it key by key is slow)."""
            browser.execute_script(
                "const [area, text] = arguments;"
                "const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;"
                "setter.call(area, text);"
                "area.dispatchEvent(new Event('input', {bubbles: true}));",
                area,
                text,
            )

        def until(condition, what: str):
            try:
                return wait.until(condition)
            except TimeoutException:
                shot(browser, "failure.png")
                raise AssertionError(
                    f"{what} did not happen within {WAIT}s; browser errors: {browser_errors(browser)}\n"
                    f"page text:\n{browser.find_element(By.TAG_NAME, 'body').text[-3000:]}"
                ) from None

        # Sign in through Airflow's own login page.
        browser.get(f"{airflow.base_url}/auth/login")
        until(ec.element_to_be_clickable((By.NAME, "username")), "the login form").send_keys(airflow.username)
        browser.find_element(By.NAME, "password").send_keys(airflow.password)
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        until(lambda d: "/auth/login" not in d.current_url, "signing in")

        # "Schedules" is in Airflow's navigation and opens the (empty) list.
        until(ec.element_to_be_clickable((By.CSS_SELECTOR, "a[href$='plugin/schedules']")), "the nav entry")
        browser.find_element(By.CSS_SELECTOR, "a[href$='plugin/schedules']").click()
        until(ec.visibility_of_element_located(testid("schedules-list")), "the Schedules list")
        # (not necessarily empty: other tests of the session's shared Airflow may have made specs)

        # New spec: paste one with a typo in a dependency; the problem shows at its path.
        browser.find_element(*testid("new-spec")).click()
        editor = until(ec.element_to_be_clickable(testid("spec-editor")), "the editor")
        paste(editor, json.dumps(SPEC_WITH_TYPO, indent=2))
        problem = until(
            ec.visibility_of_element_located(
                (By.CSS_SELECTOR, "[data-testid=problem][data-path='tasks[2].depends_on[0]']")
            ),
            "the typo's problem at tasks[2].depends_on[0]",
        )
        assert "'lod'" in problem.text, problem.text
        assert "'load'" in problem.text, problem.text  # did you mean 'load'?
        assert not browser.find_element(*testid("apply")).is_enabled()
        shot(browser, "portal-editor-problem.png")

        # Clicking the path selects the wrong value in the editor: type the right one over it.
        problem.find_element(By.TAG_NAME, "a").click()
        selected = browser.execute_script(
            "const a = document.activeElement; return a.value.slice(a.selectionStart, a.selectionEnd);"
        )
        assert selected == '"lod"'
        browser.switch_to.active_element.send_keys('"load"')
        until(ec.visibility_of_element_located(testid("problems-none")), "the fixed spec validating")
        until(lambda d: d.find_element(*testid("apply")).is_enabled(), "Apply enabled")
        browser.find_element(*testid("apply")).click()

        # The spec page: revision 1 by the signed-in user; the DAG appears without reloading.
        until(ec.visibility_of_element_located(testid("spec-page")), "the spec page")
        meta = browser.find_element(*testid("spec-meta")).text
        assert f"Revision 1 by {airflow.username}" in meta, meta
        until(ec.visibility_of_element_located(testid("open-dag")), "the DAG to appear")
        until(lambda d: d.find_element(*testid("status")).text == "loaded", "status 'loaded'")
        shot(browser, "portal-spec-page.png")

        # Trigger now with a param from the form; the run succeeds on the Recent runs tab.
        browser.find_element(*testid("trigger-now")).click()
        until(ec.visibility_of_element_located(testid("trigger-form")), "the trigger form")
        Select(browser.find_element(By.NAME, "param-region")).select_by_value("us")
        browser.find_element(*testid("trigger-submit")).click()
        until(ec.visibility_of_element_located(testid("runs")), "the runs table")
        until(
            lambda d: [e.text for e in d.find_elements(*testid("run-state"))][:1] == ["success"],
            "the triggered run to succeed",
        )
        runs = airflow.api("GET", f"/api/v2/dags/{SPEC_ID}/dagRuns").json()["dag_runs"]
        assert [r["conf"] for r in runs] == [{"region": "us"}], runs
        shot(browser, "portal-runs.png")

        # Edit: a new revision; its diff against revision 1 shows the change. Apply is enabled only
        # once the server has validated this exact text (the instant schema check alone says
        # "no problems" earlier), so wait for it as a person does.
        browser.find_element(*testid("edit")).click()
        editor = until(ec.element_to_be_clickable(testid("spec-editor")), "the editor of the stored spec")
        until(lambda d: '"ui-demo"' in editor.get_attribute("value"), "the stored spec in the editor")
        paste(editor, editor.get_attribute("value").replace("through the Schedules page", "and edited there"))
        until(ec.visibility_of_element_located(testid("problems-none")), "the edit validating")
        assert "+ description: Created in the browser and edited there" in browser.find_element(
            *testid("edit-diff")
        ).text.replace('"', "")
        until(lambda d: d.find_element(*testid("apply")).is_enabled(), "Apply enabled for the edit")
        shot(browser, "portal-editor-diff.png")
        browser.find_element(*testid("apply")).click()
        until(lambda d: "Revision 2 by" in d.find_element(*testid("spec-meta")).text, "revision 2")
        browser.find_element(*testid("tab-history")).click()
        until(ec.visibility_of_element_located(testid("history-2")), "revision 2 in the history")
        browser.find_element(*testid("compare-1")).click()
        diff = until(ec.visibility_of_element_located(testid("diff")), "the revision diff")
        assert "- description:" in diff.text, diff.text
        assert "+ description:" in diff.text, diff.text
        shot(browser, "portal-history-diff.png")

        # The list shows the spec, its status and its last run.
        browser.get(f"{airflow.base_url}/plugin/schedules")
        row = until(ec.visibility_of_element_located(testid(f"spec-row-{SPEC_ID}")), "the spec in the list")
        until(lambda d: "success" in row.text, "the last run's state in the list")
        shot(browser, "portal-list.png")

        # The generated DAG's page has the spec tab: where the DAG comes from, with a link to edit it.
        browser.get(f"{airflow.base_url}/dags/{SPEC_ID}/plugin/schedule-spec")
        tab = until(ec.visibility_of_element_located(testid("spec-tab")), "the spec tab")
        until(lambda d: "Revision 2 by" in tab.text, "the spec's revision on the DAG tab")
        assert "name: ui-demo" in browser.find_element(*testid("spec-text")).text
        until(ec.visibility_of_element_located(testid("spec-history")), "the history on the DAG tab")
        shot(browser, "portal-dag-tab.png")
        browser.find_element(*testid("edit-spec")).click()
        until(ec.visibility_of_element_located(testid("editor")), "the editor from the DAG tab")
        assert browser.current_url.endswith(f"/plugin/schedules/spec/{SPEC_ID}/edit")
        assert browser_errors(browser) == []
