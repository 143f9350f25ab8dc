"""Feeds and sitemaps list opaque URLs; the page decides what is an article.

Real article pages (from the Zyte benchmark in tests/data) served under URLs with no
slug, date or long number, beside a tag page and a video page, over real HTTP on
127.0.0.1 and crawled by the real CLI.
"""

from __future__ import annotations

import pytest

from benchmarks.zyte import ground_truth, page_html
from frwatch.localweb import LocalWeb
from tests.support.crawl import Crawl

OPAQUE = ["/a/8xk2Lq", "/news/articles/c4gzvv7gv2lo", "/5f03fc17.html", "/p/Qz3",
          "/s/k9"]
TEASERS = "".join(f"<h3><a href='/s/x{n}'>Police story {n}</a></h3><p>A teaser about "
                  f"the council and its cameras, number {n}.</p>" for n in range(10))
TAG_PAGE = (f"<html><head><title>Tag: police - Opaque News</title><script "
            f"type='application/ld+json'>{{\"@type\": \"CollectionPage\"}}</script></head>"
            f"<body><main><h1>Police</h1>{TEASERS}</main></body></html>")
VIDEO_PAGE = ("<html><head><title>Watch: the council vote</title><meta property='og:type' "
              "content='video.other'></head><body><h1>Watch: the council vote</h1><p>The "
              "vote in two minutes, with the mayor's remarks and the public comment that "
              "followed it.</p><video src='/v.mp4'></video></body></html>")
CONFIG = """
topic: {name: t, keywords: [x]}
sources:
  - name: Opaque News
    sitemaps: [http://opaque.demo/sitemap.xml]
    feeds: [http://opaque.demo/feed.xml]
crawl:
  max_age_days: 100000
  delay_seconds: 0
  concurrency_per_domain: 8
  allow_private_addresses: true
"""


@pytest.fixture
def opaque_web():
    keys = sorted(ground_truth())[:len(OPAQUE)]
    pages = {path: ("text/html; charset=utf-8", page_html(key))
             for path, key in zip(OPAQUE, keys, strict=True)}
    pages["/tag/police"] = ("text/html", TAG_PAGE.encode())
    pages["/video/council-vote"] = ("text/html", VIDEO_PAGE.encode())
    in_sitemap = OPAQUE[:3] + ["/tag/police", "/video/council-vote"]
    pages["/sitemap.xml"] = ("application/xml", (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>http://opaque.demo{p}</loc></url>" for p in in_sitemap)
        + "</urlset>").encode())
    pages["/feed.xml"] = ("application/rss+xml", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Opaque</title>'
        + "".join(f"<item><title>Item {n}</title><link>http://opaque.demo{p}</link></item>"
                  for n, p in enumerate(OPAQUE[3:])) + "</channel></rss>").encode())
    pages["/robots.txt"] = ("text/plain", b"User-agent: *\nAllow: /\n")
    with LocalWeb({"opaque": pages}) as web:
        yield web


def test_opaque_urls_are_all_stored_and_other_pages_say_why_not(opaque_web, tmp_path):
    crawl = Crawl(opaque_web, tmp_path, CONFIG)
    crawl.run()
    stored = {r["url"].split("/", 3)[3] for r in crawl.rows("select url from articles")}
    assert stored == {p.lstrip("/") for p in OPAQUE}
    skipped = {r["url"].split("/", 3)[3]: r["reason"] for r in crawl.rows(
        "select url, reason from skipped")}
    assert skipped["tag/police"].startswith("not an article (JSON-LD collectionpage")
    assert skipped["video/council-vote"].startswith("not an article (og:type video.other")
    assert not crawl.rows("select * from failures")
    titles = crawl.rows("select title, html_title from articles")
    assert all(t["title"] and t["html_title"] for t in titles)
    # A second run asks for neither page again.
    seen = len(opaque_web.requests)
    crawl.run()
    again = {r.path for r in opaque_web.requests[seen:]}
    assert not again & {"/tag/police", "/video/council-vote", *OPAQUE}


SECTION = ("<html><head><meta property='og:type' content='website'></head><body>"
           "<a href='/story/8xk2Lq'>A story</a> <a href='/story/promo-week'>Promo</a> "
           "<a href='/about'>About</a></body></html>")


def test_section_page_patterns_are_the_sources_and_never_silent(tmp_path):
    pages = {"/section/": ("text/html", SECTION.encode()),
             "/story/8xk2Lq": ("text/html; charset=utf-8", page_html(sorted(ground_truth())[0])),
             "/robots.txt": ("text/plain", b"User-agent: *\nAllow: /\n")}
    config = CONFIG.replace(
        "    sitemaps: [http://opaque.demo/sitemap.xml]\n    feeds: [http://opaque.demo/feed.xml]",
        "    pages: [http://opaque.demo/section/]\n    article_pattern: /story/\n"
        "    exclude_pattern: promo")
    with LocalWeb({"opaque": pages}) as web:
        crawl = Crawl(web, tmp_path, config)
        crawl.run()
        requested = {r.path for r in web.requests}
    assert [r["url"].split("/", 3)[3] for r in crawl.rows("select url from articles")] == [
        "story/8xk2Lq"]
    assert "/story/promo-week" not in requested and "/about" not in requested
    skipped = {r["url"].split("/", 3)[3]: r["reason"] for r in crawl.rows(
        "select url, reason from skipped")}
    assert skipped["story/promo-week"].startswith("excluded by the source's exclude_pattern")
    assert skipped["about"].startswith("not matched by the source's article_pattern")
