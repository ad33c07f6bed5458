"""The ``scheduler`` connection form in a real Airflow 3.3: the hook_meta API and the browser UI."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from airflow_provider_scheduler.rest.connection_fields import CONN_FIELDS, UI_FIELD_BEHAVIOUR

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DAG_FILE = """
from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id={dag_id!r}, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    EmptyOperator(task_id="work")
"""


def scheduler_meta(airflow) -> dict:
    resp = airflow.api("GET", "/ui/connections/hook_meta")
    assert resp.status_code == 200, resp.text
    matches = [item for item in resp.json() if item["connection_type"] == "scheduler"]
    assert len(matches) == 1, [item["connection_type"] for item in resp.json()]
    return matches[0]


class TestHookMeta:
    def test_connection_type_and_custom_fields(self, airflow):
        meta = scheduler_meta(airflow)
        assert meta["hook_name"] == "Scheduler"
        assert meta["hook_class_name"] == "airflow_provider_scheduler.hooks.scheduler.SchedulerHook"
        extra = meta["extra_fields"]
        assert list(extra) == list(CONN_FIELDS)
        for name, spec in CONN_FIELDS.items():
            field = extra[name]
            assert field["schema"]["title"] == spec["label"], name
            assert field["schema"]["type"] == spec["schema"]["type"], name
            assert field["value"] == spec["schema"].get("default"), name
            assert field["description"] == spec["description"], name
        assert extra["api_version"]["schema"]["enum"] == ["auto", "v2", "v1"]
        assert extra["token"]["schema"]["format"] == "password"
        assert (extra["timeout"]["schema"]["minimum"], extra["timeout"]["schema"]["maximum"]) == (1, 600)

    def test_standard_fields_relabelled_and_hidden(self, airflow):
        standard = scheduler_meta(airflow)["standard_fields"]
        assert standard["host"]["title"] == "Airflow API URL"
        assert standard["host"]["placeholder"] == UI_FIELD_BEHAVIOUR["placeholders"]["host"]
        assert standard["login"]["title"] == "Username"
        # Shown: Airflow 3.3.2's Test button in the connection list needs a stored port.
        assert standard["port"]["hidden"] is False
        assert standard["port"]["placeholder"] == UI_FIELD_BEHAVIOUR["placeholders"]["port"]
        assert standard["url_schema"]["hidden"] is True


# --------------------------------------------------------------------------------------------------
@pytest.fixture
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("chromium / chromedriver not installed (apt-get install -y chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    import tempfile

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
        "--window-size=1400,1600",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def _log_in(driver, airflow) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{airflow.base_url}/auth/login")
    wait = WebDriverWait(driver, 60)
    wait.until(ec.element_to_be_clickable((By.NAME, "username"))).send_keys(airflow.username)
    driver.find_element(By.NAME, "password").send_keys(airflow.password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)


def _open_add_dialog(browser, airflow, conn_id: str):
    """Admin -> Connections -> Add Connection, id typed and type Scheduler chosen; returns the dialog."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(f"{airflow.base_url}/connections")
    wait.until(ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Add Connection']"))).click()
    dialog = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")))
    wait.until(ec.element_to_be_clickable((By.NAME, "connection_id"))).send_keys(conn_id)
    conn_type = dialog.find_element(By.CSS_SELECTOR, "input[role=combobox]")
    conn_type.send_keys("Scheduler")
    wait.until(
        ec.visibility_of_element_located((By.XPATH, "//*[@role='option'][normalize-space()='Scheduler']"))
    )
    conn_type.send_keys(Keys.ENTER)
    wait.until(ec.element_to_be_clickable((By.NAME, "host")))
    return dialog


def _save(browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.find_element(By.XPATH, "//button[normalize-space()='Save']").click()
    WebDriverWait(browser, 60).until(ec.invisibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")))


def _press_test_in_the_list(browser, airflow, conn_id: str, expected: str) -> str:
    """Press the Test button of ``conn_id``'s row in Admin -> Connections; return the toast's text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(f"{airflow.base_url}/connections")
    row = f"//tr[.//*[normalize-space()={json.dumps(conn_id)}]]"
    wait.until(
        ec.element_to_be_clickable((By.XPATH, f"{row}//button[@aria-label='Test Connection']"))
    ).click()
    toast = wait.until(
        ec.visibility_of_element_located(
            (
                By.XPATH,
                f"//*[@role='status' or @role='alert'][contains(normalize-space(), {json.dumps(expected)})]",
            )
        )
    )
    return " ".join(toast.text.split())


class TestConnectionFormInBrowser:
    def test_add_scheduler_connection_through_the_ui(self, browser, airflow):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        conn_id = f"ui_scheduler_{uuid.uuid4().hex[:6]}"
        wait = WebDriverWait(browser, 60)
        _log_in(browser, airflow)
        _open_add_dialog(browser, airflow, conn_id)

        # Standard fields, relabelled by ui-field-behaviour.
        host = browser.find_element(By.NAME, "host")
        for label in ("Airflow API URL", "Port", "Username", "Password"):
            assert browser.find_element(By.XPATH, f"//label[normalize-space()='{label}']").is_displayed(), (
                label
            )
        assert host.get_attribute("placeholder") == UI_FIELD_BEHAVIOUR["placeholders"]["host"]
        port = browser.find_element(By.NAME, "port")
        assert port.get_attribute("placeholder") == UI_FIELD_BEHAVIOUR["placeholders"]["port"]
        assert not browser.find_elements(By.NAME, "schema"), "schema should be hidden"
        host.send_keys(airflow.base_url)
        port.send_keys(str(airflow.port))
        browser.find_element(By.NAME, "login").send_keys(airflow.username)
        browser.find_element(By.NAME, "password").send_keys(airflow.password)

        # Custom fields from conn-fields.
        wait.until(
            ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Extra Fields']"))
        ).click()
        wait.until(ec.element_to_be_clickable((By.NAME, "element_token")))
        for spec in CONN_FIELDS.values():
            label = browser.find_element(By.XPATH, f"//label[normalize-space()={json.dumps(spec['label'])}]")
            assert label.is_displayed(), spec["label"]
        assert browser.find_element(By.NAME, "element_token").get_attribute("type") == "password"
        assert browser.find_element(By.NAME, "element_timeout").get_attribute("value") == "30"
        assert browser.find_element(By.NAME, "element_max_retries").get_attribute("value") == "3"

        version_label = browser.find_element(By.XPATH, "//label[normalize-space()='API version']")
        browser.find_element(By.ID, version_label.get_attribute("for")).click()
        options = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[role=option]"))
        assert [option.text for option in options] == ["auto", "v2", "v1"]
        next(option for option in options if option.text == "v2").click()
        for name, value in (("element_timeout", "12"), ("element_max_retries", "5")):
            element = browser.find_element(By.NAME, name)
            element.send_keys(Keys.CONTROL, "a")
            element.send_keys(Keys.DELETE)
            element.send_keys(value)
        browser.find_element(By.NAME, "element_ca_bundle").send_keys("/etc/ssl/certs/ca-certificates.crt")
        shot = _screenshot(browser, "scheduler-connection-form.png")
        assert shot.stat().st_size > 10_000

        _save(browser)
        _screenshot(browser, "scheduler-connection-saved.png")

        # The values landed in the connection's extra, under the bare field names.
        stored = airflow.api("GET", f"/api/v2/connections/{conn_id}")
        assert stored.status_code == 200, stored.text
        stored_json = stored.json()
        assert (stored_json["conn_type"], stored_json["host"], stored_json["login"]) == (
            "scheduler",
            airflow.base_url,
            airflow.username,
        )
        extra = json.loads(stored_json["extra"])
        assert set(extra) <= set(CONN_FIELDS)
        assert extra["api_version"] == "v2"
        assert extra["timeout"] == 12
        assert extra["max_retries"] == 5
        assert extra["ca_bundle"] == "/etc/ssl/certs/ca-certificates.crt"
        assert extra.get("verify_ssl", True) is True
        assert stored_json["port"] == airflow.port

        # Airflow's Test button on the stored connection runs SchedulerHook.test_connection with it.
        tested = airflow.api(
            "POST", "/api/v2/connections/test", json={"connection_id": conn_id, "conn_type": "scheduler"}
        )
        assert tested.status_code == 200, tested.text
        assert tested.json()["status"] is True, tested.json()
        assert f"at {airflow.base_url} (REST API v2) as user '{airflow.username}'" in tested.json()["message"]

        # The Test button of the connection list (what it sends: port as a number, the masked password).
        message = _press_test_in_the_list(browser, airflow, conn_id, "Connected to Airflow")
        _screenshot(browser, "scheduler-connection-test-ok.png")
        assert "Test Connection Successful" in message, message
        assert f"at {airflow.base_url} (REST API v2) as user '{airflow.username}'" in message, message

        # Airflow 3.3.2's Edit dialog has no Test button (only the list has one): not ours to add.
        edit = f"//tr[.//*[normalize-space()={json.dumps(conn_id)}]]//button[@aria-label='Edit Connection']"
        wait.until(ec.element_to_be_clickable((By.XPATH, edit))).click()
        dialog = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")))
        assert not dialog.find_elements(By.XPATH, ".//button[contains(normalize-space(), 'Test')]")
        assert not dialog.find_elements(By.XPATH, ".//button[@aria-label='Test Connection']")

    def test_test_button_reports_bad_credentials(self, browser, airflow):
        from selenium.webdriver.common.by import By

        conn_id = f"ui_scheduler_bad_{uuid.uuid4().hex[:6]}"
        _log_in(browser, airflow)
        _open_add_dialog(browser, airflow, conn_id)
        browser.find_element(By.NAME, "host").send_keys(airflow.base_url)
        browser.find_element(By.NAME, "port").send_keys(str(airflow.port))
        browser.find_element(By.NAME, "login").send_keys(airflow.username)
        browser.find_element(By.NAME, "password").send_keys("not-the-password")
        _save(browser)
        message = _press_test_in_the_list(browser, airflow, conn_id, "rejected the username/password")
        _screenshot(browser, "scheduler-connection-test-bad.png")
        assert "Test Connection Failed" in message, message
        assert (
            f"The Airflow API at {airflow.base_url} rejected the username/password of user "
            f"'{airflow.username}' (401"
        ) in message, message
        assert "not-the-password" not in message

    def test_without_a_port_airflow_3_3_2_refuses_the_list_test(self, browser, airflow):
        """Why the form shows the port: saved without one, 3.3.2 answers 400 (apache/airflow#73298).

        Fails once the suite's Airflow has that fix: then the port may be hidden again.
        """
        from selenium.webdriver.common.by import By

        conn_id = f"ui_scheduler_noport_{uuid.uuid4().hex[:6]}"
        _log_in(browser, airflow)
        _open_add_dialog(browser, airflow, conn_id)
        browser.find_element(By.NAME, "host").send_keys(airflow.base_url)
        browser.find_element(By.NAME, "login").send_keys(airflow.username)
        browser.find_element(By.NAME, "password").send_keys(airflow.password)
        _save(browser)
        message = _press_test_in_the_list(browser, airflow, conn_id, "Test Connection Failed")
        assert message == "Test Connection Failed Bad Request", message  # the UI shows no detail
        # What the list sent (port: Number(null) = 0, the masked password), and the detail of the 400.
        stored = airflow.api("GET", f"/api/v2/connections/{conn_id}").json()
        assert stored["port"] is None
        sent = {
            "connection_id": conn_id,
            "conn_type": "scheduler",
            "host": stored["host"],
            "login": stored["login"],
            "password": stored["password"] or "",
            "port": 0,
            "schema": "",
            "extra": stored["extra"] or "{}",
            "description": "",
        }
        refused = airflow.api("POST", "/api/v2/connections/test", json=sent)
        assert refused.status_code == 400, refused.text
        assert "The host or port to test differs from the stored connection" in refused.json()["detail"]

    def test_ui_url_for_run_opens_the_run_page(self, browser, airflow, monkeypatch):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        from airflow_provider_scheduler.hooks.scheduler import SchedulerHook

        dag_id = f"hook_ui_{uuid.uuid4().hex[:8]}"
        airflow.add_dag_file(f"{dag_id}.py", DAG_FILE.format(dag_id=dag_id))
        airflow.wait_for_dag(dag_id)
        conn = {"conn_type": "scheduler", "host": airflow.base_url, "login": airflow.username}
        monkeypatch.setenv("AIRFLOW_CONN_HOOK_UI", json.dumps({**conn, "password": airflow.password}))
        hook = SchedulerHook("hook_ui")
        # A run id with ':' and '+' (as Airflow's own ids have) must survive the URL.
        run = hook.trigger_dag_run(dag_id, run_id="ui__2026-01-01T00:00:00+00:00")
        url = hook.ui_url_for_run(dag_id, run["dag_run_id"])
        assert url == f"{airflow.base_url}/dags/{dag_id}/runs/ui__2026-01-01T00%3A00%3A00%2B00%3A00"

        _log_in(browser, airflow)
        browser.get(url)
        WebDriverWait(browser, 60).until(
            lambda d: "ui__2026-01-01T00:00:00+00:00" in d.find_element(By.TAG_NAME, "body").text
        )
        _screenshot(browser, "scheduler-ui-url-for-run.png")
