"""Bad pages and feeds, over real HTTP from 127.0.0.1: each is a recorded failure or a
sensible stored value, never a crash and never a stopped crawl."""

from __future__ import annotations

import gzip
import itertools
import random
import time
from collections import defaultdict

import pytest

from frwatch.localweb import Fault, LocalWeb
from tests.support.crawl import Crawl


def page(title: str, body: str, head: str = "", charset: str = "utf-8") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="{charset}">'
            f"<title>{title}</title>{head}</head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>{title}</h1>{paragraphs}</article>"
            "<footer>© 2024 Hostile Herald</footer></body></html>").encode(charset)


STORY = ("The city council voted on Tuesday to ban the use of facial recognition by "
         "municipal departments, after a year of hearings.\n\nSupporters said the "
         "technology misidentifies people; the police said they had rarely used it.\n\n"
         "The ordinance takes effect next month and can only be lifted by a new vote.")

SLUG = "/news/{}-story-about-the-council.html"


def endless():
    for _ in itertools.count():
        yield b"<p>still going</p>"


# When the server answered each busy request (time.monotonic(), in the server's thread):
# the retry's answer must come at least Retry-After seconds after the refusal's.
ANSWERED: defaultdict[str, list[float]] = defaultdict(list)


def busy(name: str, status: int, retry_after: int) -> Fault:
    """A refusal with Retry-After that notes when it was answered."""
    def body():
        ANSWERED[name].append(time.monotonic())
        yield f"busy, come back in {retry_after} s".encode()
    return Fault(status=status, headers={"Retry-After": str(retry_after)}, stream=body)


def fifty_megabytes():
    chunk = b"<p>" + b"x" * 1_048_000 + b"</p>"
    for _ in range(50):
        yield chunk


CASES: dict[str, tuple[tuple[str, bytes] | Fault, str | tuple[str, ...] | None]] = {
    # name: (response, expected failure reason prefix or None when stored)
    "truncated": (("text/html", page("A truncated page", STORY)[:-60] + b"<p>And then the"),
                  None),
    "malformed": (("text/html", b"<html><body><article><h1>Malformed</h1><p>" + STORY.encode()
                   + b"<div><p><b>unclosed <i>tags</article></span></table>"), None),
    "latin1": (("text/html", page("Café council bans face scans", STORY + "\n\nDéjà vu.",
                                  charset="iso-8859-1")), None),
    "lying-charset": (("text/html; charset=utf-8", page(
        "Übersicht der Gesichtserkennung", STORY + "\n\nGrüße aus Köln.",
        charset="windows-1252")), None),
    "binary": (("text/html", random.Random(7).randbytes(40_000)),
               ("unparseable HTML", "empty extraction")),
    "huge": (Fault(stream=fifty_megabytes, headers={"Content-Length": str(50 * 1_048_007)}),
             "too large"),
    "huge-unannounced": (Fault(stream=fifty_megabytes), "too large"),
    "endless": (Fault(stream=endless, chunk_delay=0.2), "timeout"),
    "stall": (Fault(delay=8), "timeout"),
    "loop": (Fault(status=302, headers={"Location": SLUG.format("loop")}), "redirect loop"),
    "loop-long": (Fault(status=302, headers={"Location": SLUG.format("loop-b")}),
                  "redirect loop"),
    "loop-b": (Fault(status=302, headers={"Location": SLUG.format("loop-long")}),
               "redirect loop"),
    # Retry-After well above the 0.2 s backoff the crawl is given, so that the wait shows.
    "busy": (busy("busy", 503, 3), "HTTP 503 (Retry-After: 3)"),
    "throttled": (busy("throttled", 429, 2), "HTTP 429"),
    "closed-for-the-hour": (Fault(status=503, headers={"Retry-After": "3600"}),
                            "HTTP 503 (Retry-After: 3600)"),
    "broken": (Fault(status=500), "HTTP 500"),
    "reset": (Fault(reset=True), "connection"),
    "gzip-bomb": (Fault(body=gzip.compress(b"\0" * 120_000_000),
                        headers={"Content-Encoding": "gzip"}), "too large: decompresses"),
    "future-date": (("text/html", page("Council story from the future", STORY,
                                       '<meta property="article:published_time" '
                                       'content="2099-01-01T00:00:00Z">')), None),
    "no-title": (("text/html", page("", STORY)), None),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """One crawl of the hostile site for the module; the tests only read what it left."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    ANSWERED.clear()
    site = {SLUG.format(name): response for name, (response, _) in CASES.items()}
    items = "".join(
        f"<item><title>{name}</title><link>http://hostile.demo{SLUG.format(name)}</link>"
        f"<guid>same-guid-for-all</guid>"
        f"<pubDate>{'Fri, 01 Jan 2100 00:00:00 GMT' if name == 'future-date' else ''}"
        "</pubDate></item>" for name in CASES)
    site["/rss.xml"] = ("application/rss+xml",
                        f'<rss version="2.0"><channel><title>Hostile</title>{items}'
                        "</channel></rss>".encode())
    site["/feed-that-is-html.xml"] = ("text/html", b"<html><body>Not a feed</body></html>")
    site["/broken.xml"] = ("application/rss+xml", b"<rss><channel><item><title>x</ti")
    site["/bomb-sitemap.xml"] = ("application/xml", gzip.compress(b" " * 60_000_000))
    with LocalWeb({"hostile": site}) as web:
        crawl = Crawl(web, tmp_path, """
topic: {name: t, keywords: [facial recognition]}
sources:
  - name: Hostile Herald
    feeds: [http://hostile.demo/rss.xml, http://hostile.demo/feed-that-is-html.xml,
            http://hostile.demo/broken.xml]
    sitemaps: [http://hostile.demo/bomb-sitemap.xml]
crawl: {delay_seconds: 0, allow_private_addresses: true, timeout_seconds: 3,
        max_page_bytes: 20000000, concurrency_per_domain: 8}
""")
        proc = crawl.run("-s", "RETRY_TIMES=1", "-s", "FRWATCH_RETRY_BACKOFF_BASE=0.2")
        yield crawl, proc


def test_every_bad_response_is_a_failure_or_a_sensible_article(hostile):
    crawl, proc = hostile
    assert proc.returncode == 0
    stored = {r["url"].split("/news/")[1].split("-story")[0]: r for r in crawl.rows(
        "select url, title, published, text from articles") if "/news/" in r["url"]}
    failures = {r["url"].split("/")[-1]: r["reason"] for r in crawl.rows(
        "select url, reason from failures")}
    for name, (_, expected) in CASES.items():
        if expected is None:
            assert name in stored, (name, failures.get(SLUG.format(name).split("/")[-1]))
        else:
            reason = failures.get(SLUG.format(name).split("/")[-1], "")
            expected = expected if isinstance(expected, tuple) else (expected,)
            assert any(reason.startswith(e) or e in reason for e in expected), (name, reason)
            assert name not in stored
    assert "Café" in stored["latin1"]["title"] and "Déjà vu" in stored["latin1"]["text"]
    assert "council" in stored["malformed"]["text"]
    assert stored["future-date"]["published"] is None  # neither page nor feed is believed
    assert stored["no-title"]["text"]
    run = crawl.rows("select * from crawl_runs")[0]
    assert run["status"] == "finished"


def test_bad_feeds_and_sitemaps_are_recorded(hostile):
    crawl, _ = hostile
    failures = {r["url"].split("/")[-1]: r["reason"] for r in crawl.rows(
        "select url, reason from failures where kind in ('feed', 'sitemap')")}
    assert failures["feed-that-is-html.xml"].startswith("not a feed")
    assert failures["bomb-sitemap.xml"].startswith("broken sitemap: gzip expands beyond")
    # A feed whose items all share one GUID still yields each link once.
    assert crawl.rows("select entries from feed_state where url like '%rss.xml'")[0][
        "entries"] == len(CASES)


def test_the_crawler_honours_retry_after(hostile):
    crawl, _ = hostile
    for name, retry_after in (("busy", 3), ("throttled", 2)):
        asked = [r for r in crawl.web.requests if r.path == SLUG.format(name)]
        assert len(asked) == 2  # the first try and one retry (RETRY_TIMES=1)
        first, retry = ANSWERED[name]
        # The backoff alone would retry after 0.2 s; the server asked for longer.
        assert retry - first >= retry_after, (name, retry - first)
    # An hour is longer than a run waits: no retry now, the next run tries again.
    closed = [r for r in crawl.web.requests if r.path == SLUG.format("closed-for-the-hour")]
    assert len(closed) == 1
