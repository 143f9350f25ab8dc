"""Whole crawls of the bundled demo web (four sites: RSS, Atom, JSON Feed, a news
sitemap behind a sitemap index, section pages) over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from benchmarks.labelled import copy_store
from frwatch.localweb import LocalWeb
from tests.support.crawl import Crawl, run_cli
from tests.support.paths import DEMO_WEB

LABELS = json.loads((DEMO_WEB / "labels.json").read_text(encoding="utf-8"))


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def demo_crawl(web: LocalWeb, folder) -> Crawl:
    return Crawl(web, folder, (DEMO_WEB / "sources.yaml").read_text(encoding="utf-8"),
                 config_dir=DEMO_WEB)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    """One crawl of the demo web for the module, on its own web (so that its request log is
    this crawl's alone). Tests that crawl again take `recrawl`, a copy."""
    with LocalWeb.from_directory(DEMO_WEB) as web:
        c = demo_crawl(web, tmp_path_factory.mktemp("demo"))
        c.run()
        yield c


@pytest.fixture
def recrawl(crawl, tmp_path):
    """A private copy of the crawled store, crawled again over the same web (the stored
    URLs name its port) by the test itself; the shared store stays as the crawl left it."""
    copy = demo_crawl(crawl.web, tmp_path)
    copy_store(crawl.db_path, copy.db_path)
    return copy


def test_every_article_stored_exactly_once(crawl):
    stored = crawl.rows("select source, canonical_url, url, title, text from articles")
    expected = {(label["site"], _path(label["canonical"])) for label in LABELS}
    site_of = {origin.split("/")[2]: site for site, origin in crawl.web.origins.items()}
    got = [(site_of[r["canonical_url"].split("/")[2]], _path(r["canonical_url"]))
           for r in stored]
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected
    assert not [r for r in stored if "utm_" in r["url"] or "#" in r["url"]]
    assert all(len(r["text"].split()) > 200 for r in stored)


def test_each_kind_of_discovery_delivers(crawl):
    listed = {r["url"].rsplit("/", 1)[1]: r["entries"]
              for r in crawl.rows("select url, entries from feed_state")}
    in_feed = {site: sum(1 for label in LABELS if label["site"] == site and label["in_feed"])
               for site in crawl.web.origins}
    assert listed["rss.xml"] == in_feed["harbourtimes"]           # RSS 2.0
    assert listed["atom.xml"] == in_feed["civicwire"]             # Atom
    assert listed["feed.json"] == in_feed["metrogazette"]         # JSON Feed
    assert listed["news-sitemap.xml"] == in_feed["techledger"]    # Google News sitemap
    assert listed["sitemap-index.xml"] == 2                       # its index
    # Articles no feed lists arrive through section pages.
    only_linked = {_path(label["url"]) for label in LABELS
                   if not label["in_feed"] and label["url"] == label["canonical"]}
    via = {_path(r["canonical_url"]): r["discovered_via"]
           for r in crawl.rows("select canonical_url, discovered_via from articles")}
    assert {via[path] for path in only_linked} == {"page"}


def test_amp_copy_folds_into_its_canonical_page(crawl):
    amp = [label for label in LABELS if "/amp/" in label["path"]]
    assert amp
    rows = crawl.rows("select url, canonical_url from articles where canonical_url like ?",
                      [f"%{_path(amp[0]['canonical'])}"])
    assert len(rows) == 1
    assert "/amp/" not in rows[0]["canonical_url"]


def test_robots_disallowed_pages_never_requested(crawl):
    for site in crawl.web.origins:
        paths = crawl.web.requested_paths(site)
        assert "/robots.txt" in paths
        assert not [p for p in paths if p.startswith("/private/")]


def test_second_run_fetches_nothing_twice_and_asks_conditionally(recrawl):
    crawl = recrawl
    web = crawl.web
    article_paths = {_path(label["url"]) for label in LABELS}
    first = len(web.requests)
    crawl.run()
    again = web.requests[first:]
    assert not [r.path for r in again if r.path.split("?")[0] in article_paths]
    listings = {r.path: r for r in again if r.path.endswith((".xml", ".json"))}
    # rss, atom, json and the index's two sitemaps conditionally; the index in full.
    assert sorted(listings) == ["/atom.xml", "/feed.json", "/news-sitemap.xml", "/rss.xml",
                                "/sitemap-index.xml", "/sitemap-sections.xml"]
    assert not listings.pop("/sitemap-index.xml").headers.get("If-None-Match")
    assert all(r.headers.get("If-None-Match") for r in listings.values())
    run = crawl.rows("select * from crawl_runs order by id desc limit 1")[0]
    assert run["articles_new"] == 0 and run["failures"] == 0
    assert run["feeds_not_modified"] == 5
    assert run["skipped_known"] > 0


def test_first_seen_survives_a_recrawl(recrawl):
    crawl = recrawl
    # Timestamps are to the second: date the stored rows years back, so that a first_seen
    # rewritten by the recrawl (or a last_fetched left alone) cannot pass for kept.
    old = "2001-02-03T04:05:06+00:00"
    db = crawl.db
    with db.conn:
        db.execute("update articles set first_seen = ?, last_fetched = ?", [old, old])
        # Forget the feeds' validators and the known URLs: everything is fetched again.
        db.execute("delete from feed_state")
        db.execute("delete from article_urls")
    db.close()
    before = crawl.rows("select id from articles")
    crawl.run()
    after = crawl.rows("select id, first_seen, last_fetched from articles")
    assert {r["id"] for r in after} == {r["id"] for r in before}
    assert {r["first_seen"] for r in after} == {old}
    assert old not in {r["last_fetched"] for r in after}  # every article was stored again
    run = crawl.rows("select * from crawl_runs order by id desc limit 1")[0]
    assert run["articles_new"] == 0 and run["articles_updated"] >= len(before)


def test_demo_command_runs_end_to_end(tmp_path):
    db = tmp_path / "demo.db"
    proc = run_cli("demo", "--db", str(db))
    assert f"{len({label['canonical'] for label in LABELS})} new articles" in proc.stdout
    assert "Browse it" in proc.stdout
    assert db.exists()
