"""Swagger UI at /docs/ (app/docs.py), driven in a real headless Chromium: an item created from
the page, as a developer would try the API."""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from harness.stack import free_port
from tests.support.databases import migrate_database, settings_for


@pytest.fixture
def served(empty_database):
    """The app on a real HTTP server on 127.0.0.1, on its own migrated database."""
    migrate_database(empty_database)
    server = make_server("127.0.0.1", free_port(), create_app(settings_for(empty_database)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


# Headless as root needs --no-sandbox; the rest keep Chromium off the (closed) network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-component-update",
)


@pytest.fixture
def browser(tmp_path):
    # Debian's chromium and chromium-driver; GitHub's runners have Google Chrome, and the
    # chromedriver made for it in CHROMEWEBDRIVER.
    if os.environ.get("CHROMEWEBDRIVER"):
        chromium = shutil.which("google-chrome")
        driver = shutil.which("chromedriver", path=os.environ["CHROMEWEBDRIVER"])
    else:
        chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1, but chromium and chromedriver are not installed")
        pytest.skip("needs chromium and chromium-driver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    browser = webdriver.Chrome(service=Service(driver), options=options)
    yield browser
    browser.quit()


def test_create_an_item_from_the_docs_page(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    browser.get(served + "/docs/")
    operation = wait.until(ready.element_to_be_clickable((By.ID, "operations-items-create_item")))
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, ".try-out__btn"))).click()
    body = wait.until(ready.visibility_of_element_located((By.CSS_SELECTOR, ".body-param__text")))
    body.clear()
    body.send_keys('{"name": "from the browser"}')

    def send_and_read_status() -> str:
        browser.find_element(By.CSS_SELECTOR, ".opblock-post .execute").click()
        cell = (
            By.CSS_SELECTOR,
            ".opblock-post .live-responses-table .response .response-col_status",
        )
        wait.until(ready.visibility_of_element_located(cell))
        status = browser.find_element(*cell).text.strip()
        browser.find_element(By.CSS_SELECTOR, ".opblock-post .btn-clear").click()
        return status

    assert send_and_read_status() == "201"
    assert send_and_read_status() == "409"  # the same name again
