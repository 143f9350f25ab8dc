"""Crawl-wide extensions beside the store's owner (crawler/recorder.py): quiet logs."""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler

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
