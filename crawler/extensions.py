"""Records each crawl in `crawl_runs`, with the counts `frwatch status` shows."""

from __future__ import annotations

import logging
import sqlite3

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from crawler.store import describe_write_error

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


class CrawlRunRecorder:
    """Opens a `crawl_runs` row when the spider opens, fills it in when it closes, and
    closes the spider's store last of all."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        store = getattr(spider, "store", None)
        if store is not None:
            store.start_run(str(spider.config.path))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        store = getattr(spider, "store", None)
        if store is None:
            return
        stats = self.crawler.stats
        if store.fatal_error:  # a failed write, noted by a callback: stop saying "finished"
            stats.set_value("frwatch/store_error", store.fatal_error)
            reason = "store_error"
        counts = {column: stats.get_value(key, 0) for column, key in COUNTS.items()}
        counts["seconds"] = stats.get_value("elapsed_time_seconds")
        try:
            # Validators only for a crawl that finished: after a store error every
            # listing is read in full next time, so nothing stays behind a 304.
            spider.save_listings(finished=reason == "finished")
            store.finish_run(reason, counts)
        except (sqlite3.Error, OSError) as exc:
            if not store.fatal_error:
                stats.set_value("frwatch/store_error",
                                f"{describe_write_error(exc)[0]} writing {store.path}")
        finally:
            store.close()


# Loggers whose records repeat, with a traceback, a failure the spider records anyway
# (a `failures` row with its reason, shown by `frwatch status` and in Datasette).
_RECORDED_ELSEWHERE = (
    "scrapy.downloadermiddlewares.robotstxt",   # robots.txt could not be fetched
    "scrapy.downloadermiddlewares.retry",       # "Gave up retrying …"
    "scrapy.core.scraper",                       # "Dropped: …" with the whole item
)


class _OneLine(logging.Filter):
    """Network, DNS and robots.txt errors as one line, without a traceback; at the
    default level (WARNING) not at all, since the crawl summary names each failing
    source. Errors from frwatch's own code keep their traceback."""

    def __init__(self, quiet: bool):
        super().__init__()
        self.quiet = quiet

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "scrapy.core.scraper" and not str(record.msg).startswith("Dropped"):
            return True  # a spider or pipeline error: a bug, keep its traceback
        if self.quiet:
            return False
        record.exc_info = record.exc_text = None
        record.msg, record.args = record.getMessage().splitlines()[0], None
        return True


class QuietNetworkErrors:
    """Installs `_OneLine` on the loggers that repeat recorded failures, for this crawl."""

    def __init__(self, crawler: Crawler):
        level = logging.getLevelName(str(crawler.settings.get("LOG_LEVEL", "INFO")).upper())
        self.filter = _OneLine(quiet=isinstance(level, int) and level >= logging.WARNING)
        self.loggers = [logging.getLogger(name) for name in _RECORDED_ELSEWHERE]
        for logger in self.loggers:
            logger.addFilter(self.filter)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuietNetworkErrors:
        return cls(crawler)

    def engine_stopped(self) -> None:
        for logger in self.loggers:
            logger.removeFilter(self.filter)
