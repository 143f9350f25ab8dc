"""The crawl's own signals: how spider and pipelines tell the state owner what happened.

Components never call each other's methods for this: they send one of these signals
(through `report_failure`, `report_skipped` or `crawler.signals.send_catch_log`), and
whatever owns the crawl's state receives it — in one process `crawler.recorder.
StoreRecorder`, which writes the store. A distributed crawl (issue 15) connects a
publisher to the same signals instead and feeds the events to one writer elsewhere, so
every keyword argument below is plain data (str, int, None, dict of those).

Signals and their keyword arguments:

- `page_failed`: a listing or article could not be fetched or kept.
  url, source, kind ("feed", "sitemap", "page", "article"), reason (one line),
  status (HTTP status or None), requested_url (the URL as discovered, canonical),
  listing (the feed or sitemap that listed an article, else None).
- `page_skipped`: a listed URL that is not fetched, or a fetched page not stored as an
  article, and why. url, source, reason, via ("feed", "sitemap", "page"), listing.
- `listing_read`: a feed or sitemap answered. url, status (200 or 304), etag and
  last_modified (its validators, None when they must not be kept), entries (how many
  it listed, None for a 304).
- `article_extracted`: an extracted article to keep. record (the `articles` row without
  id and times), urls (the URL as discovered first, then every URL it was fetched
  under), listing (as for `page_failed`). A receiver that cannot keep it
  raises `ArticleNotStored`, which the sender sees in `send_catch_log`'s results.
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

page_failed = object()
page_skipped = object()
listing_read = object()
article_extracted = object()


# Each event by name: a state owner has a method of the same name for each.
EVENTS = {"page_failed": page_failed, "page_skipped": page_skipped,
          "listing_read": listing_read, "article_extracted": article_extracted}


def connect_events(crawler: Crawler, owner: object) -> None:
    """Connect every event of the crawl to `owner`'s method of the same name."""
    for name, signal in EVENTS.items():
        crawler.signals.connect(getattr(owner, name), signal=signal)


class ArticleNotStored(Exception):
    """Raised by an `article_extracted` receiver that could not keep the article."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def report_failure(crawler: Crawler, url: str, *, source: str | None, kind: str,
                   reason: str, status: int | None, requested_url: str | None = None,
                   listing: str | None = None) -> None:
    """Log, count and announce one failed URL: the one way a component reports it."""
    logger.info("failure (%s) %s: %s", kind, url, reason)
    if crawler.stats is not None:
        crawler.stats.inc_value("frwatch/failures")
    crawler.signals.send_catch_log(page_failed, url=url, source=source, kind=kind,
                                   reason=reason, status=status,
                                   requested_url=requested_url or url, listing=listing)


def report_skipped(crawler: Crawler, url: str, *, source: str | None, reason: str, via: str,
                   listing: str | None, stat: str | None = None) -> None:
    """Announce a URL left out (and count it under `stat`): never a silent skip."""
    if stat and crawler.stats is not None:
        crawler.stats.inc_value(stat)
    crawler.signals.send_catch_log(page_skipped, url=url, source=source, reason=reason,
                                   via=via, listing=listing or "")


def article_not_stored(results: list[tuple[object, object]]) -> str | None:
    """The reason an `article_extracted` receiver gave for not keeping the article, if
    one did (`send_catch_log` hands back each receiver's result or Failure)."""
    for _receiver, result in results:
        value = getattr(result, "value", None)
        if isinstance(value, ArticleNotStored):
            return value.reason
    return None
