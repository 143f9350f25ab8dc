"""Item pipelines: extract each article in worker processes, then store it."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.extract import NOT_AN_ARTICLE, extract_article, plausible_date
from crawler.items import ArticlePage
from crawler.lifeline import die_with_parent
from crawler.signals import (
    ArticleNotStored,
    article_extracted,
    article_not_stored,
    report_failure,
    report_skipped,
)
from frwatch.urls import canonicalize, same_site

logger = logging.getLogger(__name__)


class ExtractPipeline:
    """Runs trafilatura in FRWATCH_EXTRACT_WORKERS processes (0: one per core), off the
    reactor thread, so that fetching goes on while pages are extracted."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.workers = crawler.settings.getint("FRWATCH_EXTRACT_WORKERS") or os.cpu_count() or 1
        self.fast = crawler.settings.getbool("FRWATCH_EXTRACT_FAST")
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        pipeline = cls(crawler)
        # Start the workers (forkserver, imports) now, while Scrapy builds its engine and
        # then fetches robots.txt and the listings, not when the first article arrives.
        pipeline.pool = pipeline._started_pool()
        crawler.signals.connect(pipeline.close_spider, signal=signals.engine_stopped)
        return pipeline

    def _started_pool(self) -> ProcessPoolExecutor:
        pool = self._new_pool()
        for _ in range(self.workers):
            pool.submit(int)
        return pool

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: workers do not inherit the reactor, its threads or open sockets.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["crawler.lifeline_forkserver", "crawler.extract"])
        return ProcessPoolExecutor(self.workers, mp_context=context,
                                   initializer=die_with_parent)

    def open_spider(self) -> None:
        if self.pool is None:  # closed already: start afresh
            self.pool = self._started_pool()

    def close_spider(self) -> None:
        """At the spider's close, or when the engine stops without opening it."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        assert self.pool is not None
        html, item.html = item.html, ""  # the page is not needed after extraction
        try:
            future = self.pool.submit(extract_article, html, item.url, fast=self.fast)
            item.extracted = await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # A worker died (out of memory on a pathological page): record, start afresh.
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            item.extracted = {"error": "extraction worker crashed"}
        error = item.extracted.get("error")
        if error:
            if error.startswith(NOT_AN_ARTICLE):  # the page says what it is: no failure
                report_skipped(self.crawler, item.requested_url, source=item.source,
                               reason=error, via=item.discovered_via, listing=item.listing,
                               stat="frwatch/skipped_not_article")
            else:
                report_failure(self.crawler, item.url, source=item.source, kind="article",
                               reason=error, status=200, requested_url=item.requested_url,
                               listing=item.listing)
            raise DropItem(f"{error}: {item.url}")
        return item


class StorePipeline:
    """Hands each extracted article to whatever keeps it (the `article_extracted` signal;
    in one process `crawler.recorder.StoreRecorder`, which keeps first_seen on re-crawl)
    and drops the item when it was not kept."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        results = self.crawler.signals.send_catch_log(
            article_extracted, dont_log=ArticleNotStored, record=article_record(item),
            urls=[item.requested_url, item.url], listing=item.listing)
        reason = article_not_stored(results)
        if not results:  # nothing listens (EXTENSIONS changed): say so, never lose quietly
            reason = "not stored: no component keeps articles (crawler.recorder.StoreRecorder)"
        if reason:
            item.extracted = {}  # the drop is logged with the item: no article text
            raise DropItem(reason)
        return item


def article_record(item: ArticlePage) -> dict[str, Any]:
    """The `articles` row (without id and times) for an extracted page."""
    found = item.extracted
    # rel=canonical is honoured on the same site only: a syndicated copy pointing at
    # the original publisher is a reprint to be linked, not the same row.
    rel = found.get("rel_canonical")
    canonical = canonicalize(rel if rel and same_site(rel, item.url) else item.url)
    published, date_source = found.get("published"), found.get("date_source")
    if not published and plausible_date(item.hint_published):
        published, date_source = item.hint_published, item.hint_date_source
    return {
        "url": item.url,
        "canonical_url": canonical,
        "source": item.source,
        "discovered_via": item.discovered_via,
        "title": found.get("title") or item.hint_title,
        "html_title": found.get("html_title"),
        "author": found.get("author"),
        "published": published,
        "date_source": date_source,
        "language": found.get("language"),
        "sitename": found.get("sitename"),
        "description": found.get("description"),
        "text": found.get("text"),
        "word_count": found.get("word_count"),
    }
