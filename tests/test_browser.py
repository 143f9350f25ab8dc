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
from contextlib import contextmanager
from pathlib import Path

import pytest

from frwatch.db import open_db
from tests.support.browsing import browsing_store
from tests.support.paths import REPO

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


@contextmanager
def serving(store: Path, tmp_path_factory) -> Iterator[str]:
    """`frwatch serve` on `store` in its own process, on a free loopback port."""
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


@pytest.fixture(scope="module")
def server(store, tmp_path_factory) -> Iterator[str]:
    with serving(store, tmp_path_factory) as base:
        yield base


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("empty") / "empty.db"
    open_db(path).close()
    with serving(path, tmp_path_factory) as base:
        yield base


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
    chromium = shutil.which("chromium")
    assert chromium is not None  # the module is skipped without it
    options.binary_location = chromium
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
    assert "Latest related" in home and "Search" in home
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


# --- What a person reads: front page, compact table, search, pickers, charts ----------

def no_error_on_page(browser, url: str) -> None:
    shown = browser.find_element("tag name", "body").text
    assert not browser.find_elements("css selector", ".message-error"), url
    for phrase in ("fts5:", "Traceback", "Internal Server Error", "no such column",
                   "OperationalError", "Error 500"):
        assert phrase not in shown, f"{url}: {phrase!r} on the page"


def wait_for(browser, script: str, timeout: float = 20):
    """Run `script` until it returns something truthy; return that (or the last value)."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = browser.execute_script(script)
        if value:
            return value
        time.sleep(0.25)
    return value


def test_front_page_shows_the_topic_and_what_is_new(server, browser, store):
    page = visit(browser, server + "/", "front-page")
    no_error_on_page(browser, "/")
    heading = browser.find_element("tag name", "h1").text
    db = open_db(store)
    topic = db.execute("select value from enrich_state where key = 'topic_name'").fetchone()
    db.close()
    assert topic and heading == topic[0]  # the topic the latest enrich recorded
    nav = browser.find_element("css selector", ".frwatch-nav").text
    for link in ("Search", "Stories", "Sources", "Charts"):
        assert link in nav
    assert "New since" in page and "related article" in page
    stories = browser.find_elements("css selector", ".frwatch-stories > li")
    assert stories, "no story groups on the front page"
    first = stories[0].text
    assert "new article" in first and "source" in first
    # The biggest story first, by its count of new articles.
    counts = [int(s.find_element("css selector", ".frwatch-muted").text.split()[0])
              for s in stories if s.get_attribute("class") != "unclustered"]
    assert counts == sorted(counts, reverse=True)

    page = visit(browser, server + "/?since=2099-01-01", "front-page-nothing-new")
    assert "Nothing stored since 2099-01-01" in page
    assert not browser.find_elements("css selector", ".frwatch-stories > li")


def test_front_page_of_an_empty_store(empty_server, browser):
    page = visit(browser, empty_server + "/", "front-page-empty")
    no_error_on_page(browser, "/")
    assert "No articles yet" in page and "frwatch crawl" in page


def test_articles_table_is_a_compact_list(server, browser, store):
    db = open_db(store)
    longest = next(db.query("select text from articles where related = 1 "
                            "order by length(text) desc limit 1"))["text"]
    db.close()
    page = visit(browser, server + "/frwatch/articles", "articles-table")
    no_error_on_page(browser, "/frwatch/articles")
    assert browser.current_url.endswith("/frwatch/articles?related=1")
    headers = [th.text.strip(" ▼") for th in browser.find_elements(
        "css selector", "table.frwatch-compact thead th")]
    assert headers == ["Headline", "Source", "Published", "Related", "Story"]
    rows = browser.find_elements("css selector", "table.frwatch-compact tbody tr")
    assert len(rows) >= 20
    assert max(r.size["height"] for r in rows) < 120, "a row is taller than a few lines"
    # No full text, and the column help is folded away.
    paragraph = max(longest.splitlines(), key=len)
    assert paragraph[:60] not in page
    help_box = browser.find_element("css selector", "details.frwatch-columns")
    assert help_box.get_attribute("open") is None
    assert help_box.size["height"] < 60
    assert not any(dl.is_displayed() for dl in browser.find_elements(
        "css selector", "dl.column-descriptions"))
    # The headline is a link to the article's page.
    link = rows[0].find_element("css selector", "td.col-title a")
    headline = link.text
    link.click()
    assert browser.find_element("tag name", "h1").text == headline
    # Everything is one click away.
    page = visit(browser, server + "/frwatch/articles?_sort_desc=published", "articles-all")
    assert "Related articles only" in page


def search(browser, server: str, query: str, name: str, **filters) -> str:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    visit(browser, server + "/frwatch/search", name + "-form")
    box = browser.find_element("css selector", "input[name=q]")
    box.clear()
    box.send_keys(query)
    if filters.get("related"):
        browser.find_element("css selector", "input[name=related]").click()
    if filters.get("source"):
        Select(browser.find_element("css selector", "select[name=source]")).select_by_visible_text(
            filters["source"])
    box.send_keys(Keys.ENTER)
    wait_for(browser, "return document.readyState == 'complete' && location.search")
    text = browser.find_element("tag name", "body").text
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    no_error_on_page(browser, query)
    return text


def test_search_finds_and_highlights(server, browser):
    search(browser, server, "rekog*", "search-prefix")
    hits = browser.find_elements("css selector", ".frwatch-hits li.hit")
    assert len(hits) >= 5
    marks = hits[0].find_elements("css selector", "mark")
    assert marks and all(m.text.lower().startswith("rekog") for m in marks)
    assert marks[0].value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"
    assert hits[0].find_element("css selector", ".snippet").text
    # The first hit opens the article.
    hits[0].find_element("css selector", "a.headline").click()
    assert "rekognition" in browser.find_element("tag name", "h1").text.lower()

    search(browser, server, '"face recognition"', "search-phrase", related=True)
    for hit in browser.find_elements("css selector", ".frwatch-hits li.hit")[:10]:
        marked = " ".join(m.text.lower() for m in hit.find_elements("css selector", "mark"))
        assert "face recognition" in marked or ("face" in marked and "recognition" in marked)
        assert "related" in hit.find_element("css selector", ".meta").text

    page = search(browser, server, "rekognition", "search-source", source="Capitol Brief")
    sources = {h.find_element("css selector", ".meta").text.split(" · ")[0]
               for h in browser.find_elements("css selector", ".frwatch-hits li.hit")}
    assert sources == {"Capitol Brief"}, page


def test_search_miss_and_syntax_mistakes(server, browser):
    page = search(browser, server, "zqxjwvk", "search-miss")
    assert "No articles match zqxjwvk" in page
    assert not browser.find_elements("css selector", ".frwatch-hits li")
    page = search(browser, server, 'AND "face recognition', "search-mistake")
    assert "was not closed" in page and "AND needs a word on both sides" in page
    assert browser.find_elements("css selector", ".frwatch-hits li.hit")
    page = search(browser, server, '"*"', "search-nothing")
    assert "Nothing to search for" in page


def test_every_stored_query_with_and_without_parameters(server, browser, store):
    import yaml
    from selenium.webdriver.support.ui import Select

    from frwatch.paths import BROWSE_DIR

    queries = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))[
        "databases"]["frwatch"]["queries"]
    db = open_db(store)
    reprint = next(db.query("select id from articles where duplicate_of is not null"))["id"]
    cluster = next(db.query("select id, label from clusters where size > 2"))
    db.close()
    parameters = {"search": "q=facial", "cluster_timeline": f"cluster_id={cluster['id']}",
                  "more_like_this": f"article_id={reprint}"}
    for name in queries:
        if name == "related_atom":
            continue  # a feed: its page is the rows of the feed
        for suffix in ("", "?" + parameters.get(name, "_size=max")):
            visit(browser, f"{server}/frwatch/{name}{suffix}",
                  f"query-{name}{'-with-parameters' if suffix else ''}")
            no_error_on_page(browser, name + suffix)
            assert "0 results" not in browser.find_element("tag name", "body").text, name

    # Pickers instead of an empty id box.
    visit(browser, server + "/frwatch/cluster_timeline", "picker-cluster")
    assert not browser.find_elements("css selector", "input[name=cluster_id]")
    picker = Select(browser.find_element("css selector", "select#cluster-picker"))
    assert len(picker.options) > 10
    picker.select_by_value(str(cluster["id"]))
    wait_for(browser, "return location.search.includes('cluster_id=')")
    rows = browser.find_elements("css selector", "table.rows-and-columns tbody tr")
    browser.save_screenshot(str(SCREENSHOTS / "picker-cluster-chosen.png"))
    assert len(rows) >= 3 and cluster["label"] in browser.find_element("tag name", "h2").text

    visit(browser, server + "/frwatch/more_like_this", "picker-article")
    assert not browser.find_elements("css selector", "input[name=article_id]")
    box = browser.find_element("css selector", "input[name=find]")
    box.send_keys("Rekognition")
    box.submit()
    wait_for(browser, "return location.search.includes('find=')")
    found = browser.find_elements("css selector", ".frwatch-found li a")
    browser.save_screenshot(str(SCREENSHOTS / "picker-article-found.png"))
    assert found and "rekognition" in found[0].text.lower()
    title = found[0].text
    found[0].click()
    wait_for(browser, "return location.search.includes('article_id=')")
    browser.save_screenshot(str(SCREENSHOTS / "picker-article-chosen.png"))
    assert title in browser.find_element("tag name", "h2").text
    assert 1 < len(browser.find_elements("css selector", "table.rows-and-columns tbody tr")) <= 20


@contextmanager
def tall_window(browser, height: int = 3400) -> Iterator[None]:
    """A window tall enough for a whole page in one screenshot."""
    browser.set_window_size(1280, height)
    try:
        yield
    finally:
        browser.set_window_size(1280, 1400)


def chart_texts(browser) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('.dashboard-card svg text'))"
        ".map(t => t.textContent)")


def test_charts_on_a_full_store(server, browser):
    with tall_window(browser):
        charts_on_a_full_store(server, browser)


def charts_on_a_full_store(server, browser):
    visit(browser, server + "/-/dashboards/coverage", "charts-full")
    drawn = wait_for(browser, "return document.querySelectorAll("
                              "'.dashboard-card svg.marks').length >= 4")
    assert drawn, "the four charts were not drawn"
    time.sleep(0.5)
    browser.save_screenshot(str(SCREENSHOTS / "charts-full.png"))
    texts = chart_texts(browser)
    assert "original" in texts and "related" in texts  # legends
    assert "Civic Wire" in texts  # a source's attention
    assert not any(t.startswith("No ") for t in texts)
    # Story names: the stories chart labels its rows with the clusters' labels.
    assert sum(len(t) > 25 for t in texts) >= 10
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_charts_on_an_empty_store(empty_server, browser):
    with tall_window(browser, 2000):
        charts_on_an_empty_store(empty_server, browser)


def charts_on_an_empty_store(empty_server, browser):
    visit(browser, empty_server + "/-/dashboards/coverage", "charts-empty")
    notes = wait_for(browser, "return Array.from(document.querySelectorAll("
                              "'.dashboard-card svg text')).filter(t => "
                              "t.textContent.startsWith('No ')).length >= 4")
    time.sleep(0.5)
    browser.save_screenshot(str(SCREENSHOTS / "charts-empty.png"))
    assert notes, chart_texts(browser)
    assert not [t for t in chart_texts(browser) if t.startswith(":") or t == "from"]
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
