"""The private-address guard, the real published feeds crawled over HTTP, and the
Scrapy command line from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from frwatch.localweb import LocalWeb
from tests.support.crawl import Crawl
from tests.support.paths import REPO, TEST_DATA, TEST_WEBS

GUARDED = """
topic: {name: Test topic}
sources:
  - name: Faults Gazette
    feeds: [http://faults.demo/rss.xml, FEED_BY_NAME]
crawl:
  delay_seconds: 0
"""


def test_private_addresses_refused_unless_allowed(faults_web, tmp_path):
    by_name = faults_web.url("faults", "/rss.xml").replace("127.0.0.1", "localhost")
    crawl = Crawl(faults_web, tmp_path, GUARDED.replace("FEED_BY_NAME", by_name))
    proc = crawl.run(check=False)
    assert proc.returncode == 1  # every listing failed: nothing was fetched
    assert faults_web.requests == []  # not even robots.txt
    reasons = sorted(r["reason"] for r in crawl.rows("select reason from failures"))
    assert len(reasons) == 2
    assert reasons[0].startswith("private address blocked: 127.0.0.1 is 127.0.0.1")
    assert reasons[1].startswith("private address blocked: localhost is ")
    assert "1 failures" not in proc.stdout and "2 failures" in proc.stdout


REAL_FEEDS = """
topic: {name: Test topic}
sources:
  - name: Real feeds
    feeds: [FEEDS]
crawl:
  max_age_days: 1   # every dated entry of these old feeds is skipped as too old
  delay_seconds: 0
  concurrency_per_domain: 8
  allow_private_addresses: true
"""


@pytest.fixture
def feeds_web():
    with LocalWeb({"feeds": TEST_DATA / "feeds"}) as web:
        yield web


def test_real_feeds_crawled_broken_ones_recorded(feeds_web, tmp_path):
    names = sorted(p.name for p in (TEST_DATA / "feeds").iterdir()
                   if not p.name.startswith("LICENSE"))
    urls = ", ".join(f"http://feeds.demo/{name}" for name in names)
    crawl = Crawl(feeds_web, tmp_path, REAL_FEEDS.replace("FEEDS", urls))
    crawl.run("--spider", "feeds", "-s", "RETRY_TIMES=0")
    state = {r["url"].rsplit("/", 1)[1]: r for r in crawl.rows("select * from feed_state")}
    assert set(state) == set(names)
    assert state["guardian.rss"]["entries"] == 55
    assert state["npr-technology.json"]["entries"] == 25
    assert state["notafeed.html"]["entries"] == 0
    failures = crawl.rows("select url, kind, reason from failures where kind = 'feed'")
    assert [(f["url"].rsplit("/", 1)[1], f["reason"][:10]) for f in failures] == [
        ("notafeed.html", "not a feed")]
    run = crawl.rows("select * from crawl_runs")[0]
    assert run["status"] == "finished"
    assert run["skipped_old"] > 200


def test_scrapy_crawl_from_the_repository_root(faults_web, tmp_path):
    config = tmp_path / "sources.yaml"
    config.write_text(faults_web.rewrite((TEST_WEBS / "faults.yaml").read_text()))
    env = {**os.environ, "FRWATCH_CONFIG": str(config), "FRWATCH_DB": str(tmp_path / "s.db")}
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "feeds", "-s",
                           "RETRY_TIMES=0", "-s", "LOG_LEVEL=INFO"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "'frwatch/articles_new': 2" in proc.stderr
    assert not [p for p in faults_web.requested_paths("faults") if p.startswith("/news/index")]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/x", "http://[::1]/x", "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3/x", "http://192.168.0.1/x", "http://localhost/x",
    "http://0.0.0.0/x", "http://[::ffff:127.0.0.1]/x",
])
def test_guard_refuses_private_targets_also_after_a_redirect(url):
    import asyncio

    from scrapy import Request

    from crawler.middlewares import PrivateAddressBlocked, PrivateAddressGuard

    guard = PrivateAddressGuard()
    # What RedirectMiddleware hands back after a public page answered 302 -> url.
    redirected = Request(url, meta={"redirect_urls": ["https://news.example/story"],
                                    "redirect_times": 1})
    with pytest.raises(PrivateAddressBlocked):
        asyncio.run(guard.process_request(redirected))
