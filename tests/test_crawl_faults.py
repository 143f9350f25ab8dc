"""A whole crawl of a small web full of the usual trouble: redirects, 404s, a PDF, a
server error, a robots-disallowed draft, a tracking-parameter duplicate, a page with
no article. Real HTTP server on 127.0.0.1, real SQLite file."""

from __future__ import annotations

import pytest

from tests.support.crawl import Crawl
from tests.support.paths import TEST_WEBS

CONFIG = (TEST_WEBS / "faults.yaml").read_text(encoding="utf-8")


@pytest.fixture
def crawl(faults_web, tmp_path):
    c = Crawl(faults_web, tmp_path, CONFIG)
    c.run("-s", "RETRY_TIMES=0")
    return c


def test_articles_stored_once_whatever_link_led_to_them(crawl):
    rows = crawl.rows("select url, canonical_url, title, published, date_source, source "
                      "from articles order by url")
    paths = [r["canonical_url"].split("/", 3)[3] for r in rows]
    # The ban story is linked with utm_ parameters, plainly, and with #comments: one row.
    assert paths == ["news/city-council-moves-story-to-new-address.html",
                     "news/facial-recognition-ban-passes-city-council.html"]
    ban = rows[1]
    assert ban["title"] == "Facial recognition ban passes city council"
    assert ban["published"].startswith("2020-06-20")
    assert ban["date_source"] == "page"
    assert ban["source"] == "Faults Gazette"


def test_redirect_followed_and_stored_under_its_final_address(crawl):
    moved = crawl.rows("select * from articles where url like '%new-address%'")
    assert len(moved) == 1
    assert "budget" in moved[0]["text"]
    known = {r["url"] for r in crawl.rows("select url from article_urls")}
    assert any(u.endswith("/news/old-address-of-the-moved-story.html") for u in known)


def test_every_failure_recorded_with_its_reason(crawl):
    failures = {r["url"].split("/", 3)[3]: r for r in crawl.rows("select * from failures")}
    assert failures["news/this-story-was-never-written.html"]["reason"] == "HTTP 404"
    assert failures["news/this-story-was-never-written.html"]["status"] == 404
    assert failures["news/server-falls-over-on-this-story.html"]["status"] == 500
    pdf = failures["news/annual-report-of-the-gazette.pdf"]
    assert pdf["reason"] == "not HTML (application/pdf)"
    assert failures["news/only-cookie-banner-and-navigation.html"]["reason"].startswith(
        "empty extraction")
    assert failures["private/unpublished-draft-story-about-face-scans.html"]["reason"] == (
        "disallowed by robots.txt")
    run = crawl.rows("select * from crawl_runs")[0]
    assert run["status"] == "finished"
    assert run["failures"] == len(failures) == 5
    assert run["articles_new"] == 2


def test_robots_disallowed_page_never_requested(crawl):
    paths = crawl.web.requested_paths("faults")
    assert "/robots.txt" in paths
    assert not [p for p in paths if p.startswith("/private/")]


def test_boilerplate_stays_out_of_the_text(crawl):
    text = crawl.rows("select text from articles where url like '%budget%' or url like "
                      "'%new-address%'")[0]["text"]
    assert "cookies" not in text
    assert "Related stories" not in text
    assert "All rights reserved" not in text
    assert "Facial recognition ban passes" not in text  # a sidebar headline


def test_later_runs_retry_failures_then_give_up_and_ask_conditionally(crawl):
    web = crawl.web
    stored = ("facial-recognition-ban", "old-address", "new-address")
    for run in (2, 3, 4, 5):
        first = len(web.requests)
        crawl.run("-s", "RETRY_TIMES=0")
        again = web.requests[first:]
        fetched = [r.path for r in again if r.path.startswith("/news/") and r.path != "/news/"]
        # Stored articles are never fetched again.
        assert not [p for p in fetched if any(s in p for s in stored)]
        feed = [r for r in again if r.path == "/rss.xml"]
        latest = crawl.rows("select * from crawl_runs order by id desc limit 1")[0]
        if run <= 3:
            # Some of the feed's pages failed: it is read in full and they are retried.
            assert not feed[0].headers.get("If-None-Match")
            assert "/news/this-story-was-never-written.html" in fetched
        elif run == 4:
            # Failed in three crawls: given up; the feed is complete, validators kept.
            assert "/news/this-story-was-never-written.html" not in fetched
            # 404, PDF, 500, empty page, and the robots-disallowed draft, which the feed
            # and the section page both link.
            assert latest["skipped_failing"] == 6
        else:
            assert feed[0].headers.get("If-None-Match")
            assert latest["feeds_not_modified"] == 1
        assert latest["articles_new"] == 0
    assert crawl.rows("select count(*) as n from articles")[0]["n"] == 2


def test_a_page_over_the_size_cap_is_a_recorded_failure(tmp_path):
    from frwatch.localweb import LocalWeb

    paragraph = b"<p>" + b"A council report on parking meters and street lighting. " * 20 + b"</p>"
    site = {
        "/rss.xml": ("application/rss+xml", b"""<rss version="2.0"><channel><title>Big</title>
            <item><title>Huge</title><link>http://big.demo/news/an-enormous-page-of-text.html</link>
            </item><item><title>Fine</title><link>http://big.demo/news/a-normal-sized-story.html</link>
            </item></channel></rss>"""),
        "/news/an-enormous-page-of-text.html": ("text/html", paragraph * 500),  # ~570 kB
        "/news/a-normal-sized-story.html": ("text/html", paragraph * 3),
    }
    with LocalWeb({"big": site}) as web:
        crawl = Crawl(web, tmp_path, """
topic: {name: t}
sources: [{name: Big, feeds: ["http://big.demo/rss.xml"]}]
crawl: {delay_seconds: 0, allow_private_addresses: true, max_page_bytes: 100000}
""")
        crawl.run("-s", "RETRY_TIMES=0")
    failures = crawl.rows("select url, reason from failures")
    assert len(failures) == 1
    assert failures[0]["url"].endswith("/news/an-enormous-page-of-text.html")
    assert failures[0]["reason"].startswith("too large")
    stored = crawl.rows("select url from articles")
    assert [r["url"].rsplit("/", 1)[1] for r in stored] == ["a-normal-sized-story.html"]
