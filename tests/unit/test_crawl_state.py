"""The crawl's state without a crawl: the ledger's questions, which listed URLs are
fetched, which listings keep their validators, and the writer on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.ledger import MemoryLedger, Skip, StoreLedger, too_old, triage
from crawler.spiders import SPIDER_KINDS
from crawler.store import CrawlStore
from crawler.writer import ListingBook, ListingState, StoreWriter
from frwatch.db import open_db

OLDEST = datetime(2026, 11, 1, tzinfo=UTC)
URL = "https://news.example/2026/11/28/a-story"


def test_an_unknown_recent_entry_is_fetched():
    assert triage(MemoryLedger(), URL, "2026-11-28T09:00:00+00:00", OLDEST, 3) is None
    assert triage(MemoryLedger(), URL, None, OLDEST, 3) is None  # undated: fetched


@pytest.mark.parametrize(("ledger", "published", "expected"), [
    (MemoryLedger(known={URL}), "2026-10-01T00:00:00+00:00",
     Skip("frwatch/skipped_old", "too old (listed as published 2026-10-01T00:00:00+00:00)")),
    (MemoryLedger(known={URL}), None, Skip("frwatch/skipped_known", None)),
    (MemoryLedger(not_articles={URL}), None, Skip("frwatch/skipped_not_article", None)),
    (MemoryLedger(failures={URL: 3}), None,
     Skip("frwatch/skipped_failing", "given up after failing in 3 crawls")),
])
def test_entries_left_out_say_why_in_the_order_the_spider_asks(ledger, published, expected):
    assert triage(ledger, URL, published, OLDEST, give_up_after=3) == expected


def test_a_page_that_failed_fewer_times_than_the_limit_is_tried_again():
    assert triage(MemoryLedger(failures={URL: 2}), URL, None, OLDEST, 3) is None


def test_too_old_reads_iso_dates_and_keeps_undated_entries():
    assert too_old("2026-10-31T23:59:59+00:00", OLDEST)
    assert not too_old("2026-11-01T00:00:00+00:00", OLDEST)
    assert not too_old(None, OLDEST) and not too_old("", OLDEST)


def test_memory_ledger_answers_copies_and_learns_stored_urls():
    ledger = MemoryLedger(listing_validators={"https://x.example/rss": {"If-None-Match": "1"}})
    headers = ledger.validators("https://x.example/rss")
    headers["If-None-Match"] = "changed"
    assert ledger.validators("https://x.example/rss") == {"If-None-Match": "1"}
    assert ledger.validators("https://x.example/other") == {}
    ledger.remember([URL])
    assert ledger.is_known(URL) and not ledger.is_known(URL + "-2")


def test_listing_book_keeps_validators_only_for_complete_listings_of_a_finished_crawl():
    book = ListingBook()
    book.listing_read("https://a.example/rss", 200, '"e1"', "Sat, 28 Nov 2026", 5)
    book.listing_read("https://b.example/rss", 200, '"e2"', None, 2)
    book.listing_read("https://c.example/rss", 304, None, None, None)
    book.article_failed("https://b.example/rss")
    book.article_failed(None)  # a failure of a listing itself marks nothing
    assert book.states(finished=True) == [
        ListingState("https://a.example/rss", 200, '"e1"', "Sat, 28 Nov 2026", 5),
        ListingState("https://b.example/rss", 200, None, None, 2),
        ListingState("https://c.example/rss", 304, None, None, None),
    ]
    assert all(s.etag is None and s.last_modified is None
               for s in book.states(finished=False))


def test_writer_records_the_run_and_the_store_ledger_sees_it(tmp_path):
    path = tmp_path / "frwatch.db"
    writer = StoreWriter(path)
    ledger = StoreLedger(writer.store)
    writer.run_started("sources.yaml")
    record = {"url": URL, "canonical_url": URL, "source": "One", "discovered_via": "feed",
              "title": "A story", "text": "Words. " * 50}
    assert writer.article_extracted(record, [URL]) is True
    assert writer.article_extracted(record, [URL]) is False  # the second time: an update
    assert ledger.is_known(URL)
    writer.page_failed(URL + "-gone", "One", "article", "HTTP 404", 404,
                       listing="https://a.example/rss")
    writer.page_skipped(URL + "-tag", "One", "not an article (og:type website)", "feed",
                        "https://a.example/rss")
    writer.listing_read("https://a.example/rss", 200, '"e1"', None, 3)
    assert ledger.failed_runs(URL + "-gone") == 0  # this run's failures do not count
    assert ledger.is_not_article(URL + "-tag")
    writer.run_finished("finished", {"failures": 1})
    writer.close()

    db = open_db(path)
    try:
        run = next(db.query("select status, failures, config from crawl_runs"))
        state = next(db.query("select etag, entries from feed_state"))
    finally:
        db.close()
    assert run == {"status": "finished", "failures": 1, "config": "sources.yaml"}
    assert state == {"etag": None, "entries": 3}  # an article of it failed: no validator
    later = CrawlStore(path)
    later.start_run("sources.yaml")
    try:
        assert StoreLedger(later).failed_runs(URL + "-gone") == 1
        assert StoreLedger(later).validators("https://a.example/rss") == {}
    finally:
        later.close()


def test_the_spider_list_is_the_spider_classes_and_names_config_fields():
    from crawler.spiders.news import FeedsSpider, NewsSpider, PagesSpider, SitemapsSpider
    from frwatch.config import Source

    classes = (NewsSpider, FeedsSpider, SitemapsSpider, PagesSpider)
    assert {cls.name: cls.kinds for cls in classes} == SPIDER_KINDS
    assert {kind for kinds in SPIDER_KINDS.values() for kind in kinds} <= set(Source.model_fields)
