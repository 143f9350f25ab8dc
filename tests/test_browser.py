"""`frwatch serve` in its own process, browsed by a real headless Chromium (Debian's
`chromium` and `chromium-driver`): pages render, charts draw, the console stays clean.
Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from frwatch.db import open_db
from tests.browsing import browsing_store
from tests.conftest import REPO

SCREENSHOTS = REPO / "artifacts" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1280,1400"]

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="needs Chromium: apt-get install -y chromium chromium-driver")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return browsing_store(tmp_path_factory)


@pytest.fixture(scope="module")
def server(store, tmp_path_factory) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("wb") as output:
        proc = subprocess.Popen([sys.executable, "-m", "frwatch.cli", "serve", "--db",
                                 str(store), "--host", "127.0.0.1", "--port", str(port)], cwd=REPO,
                                stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(base + "/-/versions.json"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"frwatch.serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver")
    assert driver_path, "chromium is installed but chromedriver is not: apt-get install " \
                        "-y chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def visit(browser, url: str, name: str) -> str:
    """Load `url`, save a screenshot, fail on any console error; return the page text."""
    browser.get(url)
    text = browser.find_element("tag name", "body").text
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{url}: console errors: {errors}"
    return text


def test_home_cluster_article_and_charts_render(server, browser, store):
    db = open_db(store)
    cluster = next(db.query("select * from clusters where seed_id is not null"))
    reprint = next(db.query("select * from articles where duplicate_of is not null"))
    db.close()

    home = visit(browser, server + "/", "home")
    assert "frwatch" in home and "Latest related coverage" in home
    assert "articles" in home and "clusters" in home

    page = visit(browser, f"{server}/frwatch/clusters/{cluster['id']}", "cluster")
    assert cluster["label"] in page and "The coverage of seed story" in page
    assert len(browser.find_elements("css selector", ".frwatch-cluster tbody tr")) == \
        cluster["size"]

    page = visit(browser, f"{server}/frwatch/articles/{reprint['id']}", "article")
    assert browser.find_element("tag name", "h1").text == reprint["title"]
    assert "A reprint of" in page and "More like this" in page
    assert len(browser.find_elements("css selector", ".frwatch-article .text p")) >= 3

    browser.find_element("link text", "More like this").click()
    rows = browser.find_elements("css selector", "table.rows-and-columns tbody tr")
    browser.save_screenshot(str(SCREENSHOTS / "more-like-this.png"))
    assert 1 < len(rows) <= 20
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]

    visit(browser, server + "/-/dashboards/coverage", "dashboard")
    deadline = time.monotonic() + 20
    drawn = 0
    while time.monotonic() < deadline and drawn < 2:
        drawn = browser.execute_script(
            "return document.querySelectorAll('.dashboard-card canvas, .dashboard-card svg."
            "marks').length")
        time.sleep(0.25)
    browser.save_screenshot(str(SCREENSHOTS / "dashboard.png"))
    assert drawn >= 2, "the two charts were not drawn"
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
