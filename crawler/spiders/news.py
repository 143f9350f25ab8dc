"""The news spider: discover article URLs from each configured source and fetch them."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response
from scrapy.linkextractors import LinkExtractor
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.discovery import Discovery, Entry, looks_like_article, parse_feed, parse_sitemap
from crawler.errors import describe_failure
from crawler.items import ArticlePage
from crawler.ledger import Ledger, LedgerOwner, too_old, triage
from crawler.signals import listing_read, report_failure, report_skipped
from crawler.spiders import SPIDER_KINDS
from frwatch.config import Config, Source, load_config
from frwatch.errors import FrwatchError
from frwatch.urls import canonicalize, same_site

logger = logging.getLogger(__name__)

_LINKS = LinkExtractor(unique=True)


def _config_for(settings: BaseSettings) -> Config:
    return load_config(settings.get("FRWATCH_CONFIG"))


class NewsSpider(scrapy.Spider):
    """Reads every source's feeds, sitemaps and section pages, fetches new articles.

    It keeps no state of its own beyond the config: what earlier runs left it asks the
    crawl's `Ledger`; what happens it announces through `crawler.signals`.
    """

    name = "news"
    kinds: tuple[str, ...] = SPIDER_KINDS["news"]
    config: Config
    sources: dict[str, Source]
    oldest: datetime            # entries listed as older are not fetched
    give_up_after: int          # failed in this many earlier crawls: not asked again
    _ledger: Ledger | None = None

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        crawl = _config_for(settings).crawl
        for name, value in {
            "DOWNLOAD_DELAY": crawl.delay_seconds,
            "AUTOTHROTTLE_START_DELAY": crawl.delay_seconds,
            "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency_per_domain),
            "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
            "DOWNLOAD_TIMEOUT": crawl.timeout_seconds,
            "FRWATCH_ALLOW_PRIVATE_ADDRESSES": crawl.allow_private_addresses,
        }.items():
            settings.set(name, value, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = _config_for(crawler.settings)
        spider.sources = {source.name: source for source in spider.config.sources}
        spider.oldest = datetime.now(UTC) - timedelta(days=spider.config.crawl.max_age_days)
        spider.give_up_after = crawler.settings.getint("FRWATCH_GIVE_UP_AFTER_RUNS")
        return spider

    @property
    def ledger(self) -> Ledger:
        """The crawl's memory of earlier runs, from the extension that owns its state
        (extensions are built after the spider: asked for at first use)."""
        if self._ledger is None:
            owner = self.crawler.get_extension(LedgerOwner)
            if owner is None:
                raise FrwatchError("no extension owns the crawl's state: enable "
                                   "crawler.recorder.StoreRecorder in EXTENSIONS")
            self._ledger = owner.ledger
        return self._ledger

    # --- discovery --------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.config.sources:
            if "feeds" in self.kinds:
                for url in source.feeds:
                    yield self.listing_request(url, source.name, "feed")
            if "sitemaps" in self.kinds:
                for url in source.sitemaps:
                    yield self.listing_request(url, source.name, "sitemap")
            if "pages" in self.kinds:
                for url in source.pages:
                    yield self.listing_request(url, source.name, "page")

    def listing_request(self, url: str, source: str, kind: str) -> scrapy.Request:
        """The request for one configured listing ("feed", "sitemap" or "page"): what
        `start` yields, and what a distributed crawl's worker makes of its start list."""
        if kind == "feed":
            return self._listing_request(url, source, "feed", self.parse_feed)
        if kind == "sitemap":
            return self._listing_request(url, source, "sitemap", self.parse_sitemap)
        return scrapy.Request(url, callback=self.parse_section, errback=self.on_error,
                              meta={"source": source, "kind": "page"},
                              dont_filter=True, priority=10)

    def _listing_request(self, url: str, source: str, kind: str, callback: Any) -> scrapy.Request:
        return scrapy.Request(
            url, callback=callback, errback=self.on_error, dont_filter=True, priority=10,
            headers=self.ledger.validators(url),
            meta={"source": source, "kind": kind, "handle_httpstatus_list": [304]},
        )

    def parse_feed(self, response: Response) -> Iterable[scrapy.Request]:
        if self._not_modified(response):
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        found = parse_feed(response.body, response.url, content_type)
        yield from self._follow(response, found, "feed")

    def parse_sitemap(self, response: Response) -> Iterable[scrapy.Request]:
        if self._not_modified(response):
            return
        found = parse_sitemap(response.body, response.url)
        for child in found.sitemaps:
            if too_old(child.published, self.oldest):
                self.crawler.stats.inc_value("frwatch/skipped_old")
                continue
            yield self._listing_request(child.url, response.meta["source"], "sitemap",
                                        self.parse_sitemap)
        yield from self._follow(response, found, "sitemap")

    def parse_section(self, response: Response) -> Iterable[scrapy.Request]:
        if not isinstance(response, HtmlResponse):
            self._failed(response.url, response.meta, f"section page is not HTML "
                         f"({_content_type(response)})", response.status)
            return
        source = self.sources[response.meta["source"]]
        entries = []
        for link in _LINKS.extract_links(response):
            if not same_site(link.url, response.url):
                continue
            reason = _left_out(link.url, source)
            if reason:  # never a silent filter: each link left out says why
                report_skipped(self.crawler, canonicalize(link.url), source=source.name,
                               reason=reason, via="page", listing=response.url)
            else:
                entries.append(Entry(link.url, title=link.text.strip() or None))
        yield from self._follow(response, Discovery(entries=entries), "page")

    def _not_modified(self, response: Response) -> bool:
        if response.status == 304:
            self.crawler.stats.inc_value("frwatch/feeds_not_modified")
            self.crawler.signals.send_catch_log(listing_read, url=response.url, status=304,
                                                etag=None, last_modified=None, entries=None)
            return True
        return False

    def _follow(self, response: Response, found: Discovery, via: str) -> Iterable[scrapy.Request]:
        meta = response.meta
        if found.error:
            self._failed(response.url, meta, found.error, response.status)
        if via in ("feed", "sitemap"):
            headers = response.headers
            # A sitemap index is always fetched in full: its children may change while
            # it does not, and only a full fetch names them.
            keep = not found.sitemaps
            self.crawler.signals.send_catch_log(
                listing_read, url=response.url, status=response.status,
                etag=_header(headers, b"ETag") if keep else None,
                last_modified=_header(headers, b"Last-Modified") if keep else None,
                entries=len(found.entries) + len(found.sitemaps))
        for entry in found.entries:
            # Every entry of a feed or sitemap is a candidate, whatever its URL looks
            # like (`/a/8xk2Lq`): the page itself says whether it is an article.
            url = canonicalize(entry.url)
            skip = triage(self.ledger, url, entry.published, self.oldest, self.give_up_after)
            if skip is None:
                yield scrapy.Request(url, callback=self.parse_article, errback=self.on_error, meta={
                    "source": meta["source"], "kind": "article", "via": via, "frwatch_url": url,
                    "hint_published": entry.published, "hint_title": entry.title,
                    "listing": response.url,
                })
            elif skip.reason is None:
                self.crawler.stats.inc_value(skip.stat)
            else:
                report_skipped(self.crawler, url, source=meta["source"], reason=skip.reason,
                               via=via, listing=response.url, stat=skip.stat)

    # --- articles ---------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterable[ArticlePage]:
        meta = response.meta
        if not isinstance(response, HtmlResponse):
            self._failed(response.url, meta, f"not HTML ({_content_type(response)})",
                         response.status)
            return
        if not response.body.strip():
            self._failed(response.url, meta, "empty page", response.status)
            return
        yield ArticlePage(
            url=response.url,
            requested_url=meta.get("frwatch_url", response.url),
            source=meta["source"],
            discovered_via=meta.get("via", "page"),
            html=response.text,
            hint_published=meta.get("hint_published"),
            hint_date_source=meta.get("via") if meta.get("hint_published") else None,
            hint_title=meta.get("hint_title"),
            listing=meta.get("listing"),
        )

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy
        reason, status = describe_failure(failure)
        self._failed(request.url, request.meta, reason, status)

    def _failed(self, url: str, meta: dict, reason: str, status: int | None) -> None:
        """Announce a failed request, with what its meta says it was."""
        report_failure(self.crawler, url, source=meta.get("source"),
                       kind=meta.get("kind", "article"), reason=reason, status=status,
                       requested_url=meta.get("frwatch_url", url), listing=meta.get("listing"))


def _left_out(url: str, source: Source) -> str | None:
    """Why a section page's link is not followed, or None to follow it."""
    if source.exclude_pattern and re.search(source.exclude_pattern, url):
        return "excluded by the source's exclude_pattern (section page link)"
    if source.article_pattern:
        if not re.search(source.article_pattern, url):
            return "not matched by the source's article_pattern (section page link)"
        return None
    if not looks_like_article(url):
        return "not an article by its URL (section page link)"
    return None


def _header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None


def _content_type(response: Response) -> str:
    value = (response.headers.get(b"Content-Type") or b"").decode("latin-1").split(";")[0].strip()
    return value or "no content type"


class FeedsSpider(NewsSpider):
    """Only the configured feeds (RSS, Atom, JSON Feed)."""

    name = "feeds"
    kinds = SPIDER_KINDS["feeds"]


class SitemapsSpider(NewsSpider):
    """Only the configured sitemaps and news sitemaps."""

    name = "sitemaps"
    kinds = SPIDER_KINDS["sitemaps"]


class PagesSpider(NewsSpider):
    """Only the configured section pages, one hop to their articles."""

    name = "pages"
    kinds = SPIDER_KINDS["pages"]
