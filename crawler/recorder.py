"""The component that owns a crawl's store: opens it, records the run, writes every event.

`StoreRecorder` is the only part of the crawl that opens the SQLite file. It starts the
`crawl_runs` row when the spider opens, writes what the spider and pipelines announce
through `crawler.signals`, answers the spider's questions through its `ledger`, and when
the spider closes saves the listings' validators, fills in the run's counts and closes
the store. A write that fails for good (disk full, I/O error) stops the crawl.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from crawler import signals as frwatch_signals
from crawler.ledger import LedgerOwner, StoreLedger
from crawler.signals import ArticleNotStored, report_failure
from crawler.store import StoreWriteError, describe_write_error
from crawler.writer import StoreWriter
from frwatch.config import load_config

logger = logging.getLogger(__name__)

# crawl_runs column -> the Scrapy stat it is filled from.
COUNTS = {
    "requests": "downloader/request_count",
    "responses": "downloader/response_count",
    "articles_new": "frwatch/articles_new",
    "articles_updated": "frwatch/articles_updated",
    "skipped_known": "frwatch/skipped_known",
    "skipped_old": "frwatch/skipped_old",
    "feeds_not_modified": "frwatch/feeds_not_modified",
    "skipped_failing": "frwatch/skipped_failing",
    "failures": "frwatch/failures",
}


class StoreRecorder(LedgerOwner):
    """Owns the store of a crawl in one process (FRWATCH_DB, else the config's `db`)."""

    def __init__(self, crawler: Crawler, writer: StoreWriter, config_path: str):
        self.crawler = crawler
        self.writer = writer
        self.config_path = config_path
        self.ledger = StoreLedger(writer.store)
        self.stopping = False
        connect = crawler.signals.connect
        connect(self.spider_opened, signal=signals.spider_opened)
        connect(self.spider_closed, signal=signals.spider_closed)
        frwatch_signals.connect_events(crawler, self)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreRecorder:
        config = load_config(crawler.settings.get("FRWATCH_CONFIG"))
        db_path = crawler.settings.get("FRWATCH_DB") or config.db_path
        return cls(crawler, StoreWriter(db_path), str(config.path))

    # --- the run ----------------------------------------------------------------------
    def spider_opened(self) -> None:
        self.writer.run_started(self.config_path)

    def spider_closed(self, reason: str) -> None:
        stats = self.crawler.stats
        assert stats is not None
        if self.writer.fatal_error:  # a failed write: stop saying "finished"
            stats.set_value("frwatch/store_error", self.writer.fatal_error)
            reason = "store_error"
        counts: dict[str, Any] = {column: stats.get_value(key, 0)
                                  for column, key in COUNTS.items()}
        counts["seconds"] = stats.get_value("elapsed_time_seconds")
        try:
            # Validators only for a crawl that finished: after a store error every
            # listing is read in full next time, so nothing stays behind a 304.
            self.writer.run_finished(reason, counts)
        except (sqlite3.Error, OSError) as exc:
            if not self.writer.fatal_error:
                stats.set_value("frwatch/store_error",
                                f"{describe_write_error(exc)[0]} writing {self.writer.path}")
        finally:
            self.writer.close()

    # --- events -----------------------------------------------------------------------
    def page_failed(self, url: str, source: str | None, kind: str, reason: str,
                    status: int | None, listing: str | None = None) -> None:
        self.writer.page_failed(url, source, kind, reason, status, listing)
        self._stop_if_fatal()

    def page_skipped(self, url: str, source: str | None, reason: str, via: str,
                     listing: str) -> None:
        self.writer.page_skipped(url, source, reason, via, listing)
        self._stop_if_fatal()

    def listing_read(self, url: str, status: int, etag: str | None,
                     last_modified: str | None, entries: int | None) -> None:
        self.writer.listing_read(url, status, etag, last_modified, entries)

    def article_extracted(self, record: dict[str, Any], urls: list[str],
                          listing: str | None = None) -> None:
        stats = self.crawler.stats
        assert stats is not None
        try:
            is_new = self.writer.article_extracted(record, urls)
        except StoreWriteError as exc:
            report_failure(self.crawler, record["url"], source=record.get("source"),
                           kind="article", reason=f"not stored: {exc.reason}", status=None,
                           requested_url=urls[0] if urls else None,
                           listing=listing)  # stops the crawl if fatal
            raise ArticleNotStored(f"not stored: {exc.reason}") from None
        stats.inc_value("frwatch/articles_new" if is_new else "frwatch/articles_updated")

    def _stop_if_fatal(self) -> None:
        """The store takes no more writes (disk full, I/O error): stop fetching."""
        error = self.writer.fatal_error
        if not error or self.stopping:
            return
        self.stopping = True
        logger.error("crawl stopped: %s", error)
        assert self.crawler.stats is not None and self.crawler.engine is not None
        self.crawler.stats.set_value("frwatch/store_error", error)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))
