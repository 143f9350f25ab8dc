"""`frwatch sources check` against a local web on 127.0.0.1, the per-source view in
`frwatch status`, and the shipped list of real sources."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import yaml

from frwatch.config import load_config
from frwatch.db import open_db
from frwatch.errors import FrwatchError
from frwatch.localweb import Fault, LocalWeb
from frwatch.sources import sniff_format
from frwatch.status import render_status
from tests.support.crawl import run_cli
from tests.support.paths import REPO, TEST_DATA

FEEDS = TEST_DATA / "feeds"

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://web.demo/2026/11/city-council-bans-face-surveillance</loc>
       <lastmod>2026-11-27T08:00:00Z</lastmod></url>
  <url><loc>http://web.demo/2026/11/police-pause-facial-recognition-pilot</loc>
       <lastmod>2026-11-28T09:30:00Z</lastmod></url>
</urlset>"""

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://web.demo/sitemap.xml</loc><lastmod>2026-11-28</lastmod></sitemap>
  <sitemap><loc>http://web.demo/sitemap-2025.xml</loc><lastmod>2025-12-31</lastmod></sitemap>
</sitemapindex>"""

SECTION = b"""<!doctype html><html><head><title>Technology</title></head><body>
<a href="/2026/11/28/regulator-fines-face-search-company">Regulator fines face-search company</a>
<a href="/politics/mayor-signs-ban-on-facial-recognition">Mayor signs ban</a>
<a href="/about">About us</a><a href="/tag/privacy">Privacy</a>
<a href="https://elsewhere.example/2026/11/other-site-story-here">Elsewhere</a>
</body></html>"""

EMPTY_FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title>
<link>http://web.demo/</link><description>nothing yet</description></channel></rss>"""


def _site() -> dict:
    def data(name: str, content_type: str) -> tuple[str, bytes]:
        return content_type, (FEEDS / name).read_bytes()

    return {
        "/rss.xml": data("guardian.rss", "application/rss+xml"),
        "/atom.xml": data("heise.atom", "application/atom+xml"),
        "/feed.json": data("npr-technology.json", "application/feed+json"),
        "/notafeed.html": data("notafeed.html", "text/html; charset=utf-8"),
        "/sitemap.xml": ("application/xml", SITEMAP),
        "/sitemap-index.xml": ("application/xml", SITEMAP_INDEX),
        "/technology/": ("text/html; charset=utf-8", SECTION),
        "/empty.xml": ("application/rss+xml", EMPTY_FEED),
        "/old-feed.xml": Fault(status=301, headers={"Location": "/rss.xml"}),
    }


CONFIG = """
topic: {name: Test topic}
sources:
  - name: Good Feeds
    language: en
    feeds: [http://web.demo/rss.xml, http://web.demo/atom.xml, http://web.demo/feed.json]
  - name: Sitemaps
    language: de
    sitemaps: [http://web.demo/sitemap.xml, http://web.demo/sitemap-index.xml]
  - name: Section Page
    language: fr
    pages: [http://web.demo/technology/]
  - name: Moved Gazette
    language: nl
    feeds: [http://web.demo/old-feed.xml]
  - name: Dead Daily
    language: pl
    feeds: [http://web.demo/gone.xml, REFUSED]
  - name: Wrong Kind
    language: cs
    feeds: [http://web.demo/notafeed.html]
  - name: Empty Echo
    language: sv
    feeds: [http://web.demo/empty.xml]
crawl:
  delay_seconds: 0
  allow_private_addresses: true
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def web():
    with LocalWeb({"web": _site()}) as served:
        yield served


@pytest.fixture
def config(web, tmp_path) -> Path:
    refused = f"http://127.0.0.1:{_closed_port()}/feed.xml"
    path = tmp_path / "sources.yaml"
    path.write_text(web.rewrite(CONFIG.replace("REFUSED", refused)), encoding="utf-8")
    return path


def _block(stdout: str, name: str) -> list[str]:
    """The report lines of one source: its header and its listing lines."""
    lines = stdout.splitlines()
    header = re.compile(rf"(ok|FAIL)\s+{re.escape(name)} ")
    start = next(i for i, line in enumerate(lines) if header.match(line))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        block.append(line)
    return block


def test_check_reports_every_listing_and_exits_1(web, config):
    proc = run_cli("sources", "check", "--config", str(config), check=False)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert proc.stderr.strip() == ("frwatch: error: 3 of 7 sources failed the check "
                                   "(--allow-failures to exit 0 anyway)")
    assert "Traceback" not in proc.stderr
    assert out.splitlines()[0].startswith(f"Source check of {config}, ")
    assert "7 sources, 11 listings" in out.splitlines()[0]

    good = _block(out, "Good Feeds")
    assert good[0] == "ok    Good Feeds [en]: reachable"
    assert "ok: RSS, 55 items, newest 2018-" in good[1] and good[1].endswith("/rss.xml")
    # An old feed passes, with a word that a crawl will take nothing from it.
    assert "; stale: nothing newer than 30 days (crawl.max_age_days)" in good[1]
    assert "ok: Atom, 15 items, newest 2016-02-01" in good[2]
    assert "ok: JSON Feed, 25 items, newest 2021-" in good[3]

    sitemaps = _block(out, "Sitemaps")
    assert sitemaps[0] == "ok    Sitemaps [de]: reachable"
    assert "ok: sitemap, 2 URLs, newest 2026-11-28 09:30" in sitemaps[1]
    assert "ok: sitemap index, 2 sitemaps, newest 2026-11-28 00:00" in sitemaps[2]

    section = _block(out, "Section Page")
    assert section[0] == "ok    Section Page [fr]: reachable"
    # Same-site article links only: not /about, /tag/…, or the other site's story.
    assert "ok: HTML, 2 article links, no dates" in section[1]

    moved = _block(out, "Moved Gazette")
    assert moved[0] == "ok    Moved Gazette [nl]: reachable"
    assert re.search(r"ok: moved \(301\) to http://127\.0\.0\.1:\d+/rss\.xml; RSS, 55 items",
                     moved[1])

    dead = _block(out, "Dead Daily")
    assert dead[0] == "FAIL  Dead Daily [pl]: reachable, 2 of 2 listings failed"
    assert "FAILED (reachable): HTTP 404 Not Found" in dead[1] and dead[1].endswith("/gone.xml")
    assert "FAILED (unreachable): connection refused" in dead[2]

    wrong = _block(out, "Wrong Kind")
    assert wrong[0].startswith("FAIL  Wrong Kind [cs]: reachable, 1 of 1")
    assert "FAILED (reachable): not a feed: the server sent an HTML page" in wrong[1]

    empty = _block(out, "Empty Echo")
    assert "FAILED (reachable): empty: the feed lists no items" in empty[1]
    assert out.splitlines()[-1] == "4 of 7 sources passed; 3 failed (0 unreachable)."

    # Politely: each listing asked once (the moved one once, then its target), every
    # request naming frwatch.
    paths = web.requested_paths("web")
    for path in ("/atom.xml", "/feed.json", "/sitemap.xml", "/sitemap-index.xml",
                 "/technology/", "/old-feed.xml", "/gone.xml", "/notafeed.html", "/empty.xml"):
        assert paths.count(path) == 1, (path, paths)
    assert paths.count("/rss.xml") == 2
    assert "/sitemap-2025.xml" not in paths   # an index's children are not fetched
    assert all(r.headers.get("User-Agent", "").startswith("frwatch/") for r in web.requests)


def test_allow_failures_exits_0_with_the_same_report(config):
    proc = run_cli("sources", "check", "--config", str(config), "--allow-failures",
                   "--timeout", "5", check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "FAIL  Dead Daily [pl]" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "4 of 7 sources passed; 3 failed (0 unreachable)."


def test_all_good_exits_0(web, tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(web.rewrite(
        "topic: {name: T}\nsources:\n  - name: Good\n    feeds: [http://web.demo/rss.xml]\n"
        "crawl: {delay_seconds: 0, allow_private_addresses: true}\n"), encoding="utf-8")
    proc = run_cli("sources", "check", "--config", str(path), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok    Good [?]: reachable" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "1 of 1 sources passed; 0 failed (0 unreachable)."


def test_private_addresses_are_refused_unless_allowed(web, tmp_path):
    path = tmp_path / "guarded.yaml"
    path.write_text(web.rewrite(
        "topic: {name: T}\nsources:\n  - name: Local\n    language: en\n"
        "    feeds: [http://web.demo/rss.xml]\ncrawl: {delay_seconds: 0}\n"), encoding="utf-8")
    proc = run_cli("sources", "check", "--config", str(path), check=False)
    assert proc.returncode == 1
    assert "FAIL  Local [en]: unreachable" in proc.stdout
    assert "FAILED (unreachable): private address blocked: 127.0.0.1 is 127.0.0.1" in proc.stdout
    assert web.requests == []   # nothing was sent


def test_redirects_are_checked_hop_by_hop():
    from frwatch.sources import ListingResult, _check_listing, _FollowChecked, _Refused

    target = f"http://127.0.0.1:{_closed_port()}/x"
    # Every redirect target passes the private-address guard before it is followed.
    with pytest.raises(_Refused, match=r"redirect \(302\) to .* refused: private address"):
        _FollowChecked(allow_private=False).redirect_request(None, None, 302, "Found", {},
                                                             target)
    # A listing that answers with a redirect to a dead address is reachable, and says
    # where it was sent.
    with LocalWeb({"web": {"/r": Fault(status=302, headers={"Location": target})}}) as web:
        listing = ListingResult("S", "feed", web.url("web", "/r"))
        _check_listing(listing, timeout=5, max_bytes=100_000, allow_private=True,
                       user_agent="frwatch-test")
    assert listing.reached and not listing.ok
    assert listing.reason == "connection refused"
    assert f"FAILED (reachable; redirected (302) to {target}): connection refused" in listing.line()


@pytest.mark.parametrize("name, expected", [
    ("guardian.rss", "RSS"), ("heise.atom", "Atom"), ("npr-technology.json", "JSON Feed"),
    ("notafeed.html", "HTML"), ("feedburner.atom", "Atom"),
])
def test_sniff_format_of_real_feeds(name, expected):
    assert sniff_format((FEEDS / name).read_bytes()) == expected


def test_sniff_format_of_sitemaps():
    assert sniff_format(SITEMAP) == "sitemap"
    assert sniff_format(SITEMAP_INDEX) == "sitemap index"
    assert sniff_format(b"plain words", "text/plain") is None


# --- the shipped list -------------------------------------------------------------------

def test_shipped_sources_load_with_language_and_evidence():
    config = load_config(REPO / "seeds" / "sources.yaml")
    sources = config.sources
    assert len(sources) >= 40
    languages = {s.language for s in sources}
    assert len(languages) >= 8
    assert {"en", "de", "fr", "es", "pt", "it", "nl", "pl", "cs", "sv"} <= languages
    for source in sources:
        assert source.language and re.fullmatch(r"[a-z]{2}", source.language), source.name
        assert source.evidence and len(source.evidence) > 20, source.name
        assert source.checked == "2026-11-29", source.name
        assert source.feeds or source.sitemaps or source.pages, source.name
    assert len({s.name for s in sources}) == len(sources)
    urls = [u for s in sources for u in (*s.feeds, *s.sitemaps, *s.pages)]
    assert len(set(urls)) == len(urls)
    # Not crawling what could not be corroborated.
    assert not any("reuters.com" in u or u.endswith("/facial-recognition/rss") for u in urls)
    assert config.crawl.allow_private_addresses is False


def test_source_fields_are_validated(tmp_path):
    base = "topic: {name: T}\nsources:\n  - name: S\n    feeds: [https://example.org/f]\n"
    good = tmp_path / "good.yaml"
    good.write_text(base + "    language: de\n    checked: 2026-11-29\n    evidence: seen\n")
    source = load_config(good).sources[0]
    assert (source.language, source.checked, source.evidence) == ("de", "2026-11-29", "seen")
    for extra, message in [("    language: German\n", "sources.0.language: String should match"),
                           ("    checked: someday\n", "checked: not a date (YYYY-MM-DD)")]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(base + extra)
        with pytest.raises(FrwatchError, match=re.escape(message)):
            load_config(bad)


# --- the per-source view in `frwatch status` ----------------------------------------------

STATUS_CONFIG = """
topic: {name: T}
sources:
  - name: Reached Daily
    language: en
    feeds: [https://reached.example/rss.xml]
  - name: Feed Only Weekly
    language: de
    feeds: [https://feedonly.example/feed/]
  - name: Never Reached Times
    language: cs
    feeds: [https://never.example/feed.xml]
"""


def _store(path: Path) -> None:
    db = open_db(path)
    db.table("articles").insert({"id": "a1",
                                 "url": "https://reached.example/2026/11/story-one-here",
                                 "source": "Reached Daily",
                                 "first_seen": "2026-11-28T10:15:00+00:00"})
    db.table("feed_state").insert({"url": "https://feedonly.example/feed/", "last_status": 200,
                                   "last_checked": "2026-11-28T10:00:00+00:00", "entries": 0})
    failures: list[dict[str, object]] = [
        {"url": "https://never.example/feed.xml", "source": "Never Reached Times",
         "kind": "feed", "reason": "HTTP 404", "status": 404, "at": "2026-11-28T10:00:00"},
        {"url": "https://never.example/feed.xml", "source": "Never Reached Times",
         "kind": "feed", "reason": "HTTP 404", "status": 404, "at": "2026-11-29T10:00:00"},
        {"url": "https://gone.example/x", "source": "Renamed Source", "kind": "feed",
         "reason": "timeout", "at": "2026-11-01T10:00:00"}]
    db.table("failures").insert_all(failures)
    db.close()


def _row(text: str, name: str) -> list[str]:
    """A source's row in the status section "Sources (…)", split on column gaps."""
    section = text[text.index("Sources ("):]
    line = next(line for line in section.splitlines() if line.startswith(f"  {name}  "))
    return re.split(r"\s{2,}", line.strip())


def test_status_lists_every_configured_source(tmp_path):
    config = tmp_path / "sources.yaml"
    config.write_text(STATUS_CONFIG, encoding="utf-8")
    db_path = tmp_path / "frwatch.db"
    _store(db_path)
    proc = run_cli("status", "--config", str(config), "--db", str(db_path))
    out = proc.stdout
    assert f"Sources (3 in {config}; 2 reached, 1 never reached):" in out
    assert _row(out, "Reached Daily") == ["Reached Daily", "en", "yes", "2026-11-28 10:15", "0"]
    assert _row(out, "Feed Only Weekly") == ["Feed Only Weekly", "de", "yes", "-", "0"]
    assert _row(out, "Never Reached Times") == [
        "Never Reached Times", "cs", "never reached", "-", "2"]
    assert _row(out, "Renamed Source") == ["Renamed Source", "-", "not in the config", "-", "1"]


def test_status_without_a_config_has_no_sources_section(tmp_path):
    db_path = tmp_path / "frwatch.db"
    _store(db_path)
    assert "Sources (" not in render_status(db_path)
    config = tmp_path / "sources.yaml"
    config.write_text(STATUS_CONFIG, encoding="utf-8")
    text = render_status(db_path, config=load_config(config))
    assert "never reached" in text


def test_shipped_sources_never_reached_on_an_empty_store(tmp_path):
    db_path = tmp_path / "frwatch.db"
    open_db(db_path).close()
    config = load_config(REPO / "seeds" / "sources.yaml")
    text = render_status(db_path, config=config)
    count = len(config.sources)
    assert f"Sources ({count} in " in text and f"0 reached, {count} never reached" in text
    assert _row(text, "Fundacja Panoptykon")[1:3] == ["pl", "never reached"]


def test_sources_query_runs_on_a_store(tmp_path):
    from frwatch.paths import BROWSE_DIR

    queries = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))[
        "databases"]["frwatch"]["queries"]
    query = queries["sources"]
    assert query["title"] and query["description"] and "write" not in query
    db_path = tmp_path / "frwatch.db"
    _store(db_path)
    db = open_db(db_path)
    try:
        rows = {r["source"]: r for r in db.query(query["sql"])}
    finally:
        db.close()
    assert set(rows) == {"Reached Daily", "Never Reached Times", "Renamed Source"}
    assert rows["Reached Daily"]["reached"] == "yes"
    assert rows["Reached Daily"]["last_article_stored"] == "2026-11-28T10:15:00+00:00"
    assert rows["Never Reached Times"]["reached"] == "never reached"
    assert rows["Never Reached Times"]["failures"] == 2
    assert rows["Never Reached Times"]["last_failure"] == "HTTP 404"


def test_a_stalled_listing_times_out():
    from frwatch.sources import ListingResult, _check_listing

    with LocalWeb({"web": {"/slow.xml": Fault(delay=3, body=EMPTY_FEED)}}) as web:
        listing = ListingResult("S", "feed", web.url("web", "/slow.xml"))
        _check_listing(listing, timeout=0.5, max_bytes=100_000, allow_private=True,
                       user_agent="frwatch-test")
    assert not listing.ok and not listing.reached
    assert listing.reason == "timeout after 0.5 s"


def test_a_redirect_loop_is_a_reason_not_a_hang():
    from frwatch.sources import ListingResult, _check_listing

    with LocalWeb({"web": {"/a": Fault(status=301, headers={"Location": "/b"}),
                           "/b": Fault(status=302, headers={"Location": "/a"})}}) as web:
        listing = ListingResult("S", "feed", web.url("web", "/a"))
        _check_listing(listing, timeout=5, max_bytes=100_000, allow_private=True,
                       user_agent="frwatch-test")
        asked = len(web.requests)
    assert listing.reached and not listing.ok
    assert listing.reason == "redirect loop (too many redirects)"
    assert asked <= 11
