"""The one writer of a crawl's results: the crawl's events, applied to the store.

`StoreWriter` takes the events of `crawler.signals` (a failure, a skip, a listing read,
an article) as plain method calls and knows nothing of Scrapy, so the same writer serves
a crawl in one process (`crawler.recorder.StoreRecorder` connects it to the signals) and
a distributed crawl's ingest (issue 15), which reads the events from the frontier.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.store import CrawlStore
from crawler.titles import Affix, SharedAffixes


@dataclass(frozen=True)
class ListingState:
    """A feed's or sitemap's `feed_state` row as this run leaves it."""

    url: str
    status: int
    etag: str | None
    last_modified: str | None
    entries: int | None


class ListingBook:
    """The listings read in this run, and those with an article that failed.

    A listing's validators are kept only when the crawl finished and every new article
    it listed was stored: otherwise the next run must fetch it in full (no 304) to find
    those articles again — after a kill, or to retry a page that failed.
    """

    def __init__(self) -> None:
        self.read: dict[str, ListingState] = {}
        self.incomplete: set[str] = set()

    def listing_read(self, url: str, status: int, etag: str | None,
                     last_modified: str | None, entries: int | None) -> None:
        self.read[url] = ListingState(url, status, etag, last_modified, entries)

    def article_failed(self, listing: str | None) -> None:
        if listing:
            self.incomplete.add(listing)

    def states(self, finished: bool) -> list[ListingState]:
        """Every listing read, its validators dropped where they must not be kept."""
        out = []
        for url, state in self.read.items():
            if not finished or url in self.incomplete:
                state = ListingState(url, state.status, None, None, state.entries)
            out.append(state)
        return out


class StoreWriter:
    """Applies one crawl's events to the store at `path`; the store is opened here and
    closed by `close`. A write that fails for good sets `fatal_error`."""

    def __init__(self, path: str | Path):
        self.store = CrawlStore(path)
        self.listings = ListingBook()
        self.affixes = SharedAffixes()
        self.affixes_applied: set[tuple[str, Affix]] = set()  # cut from stored titles

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def fatal_error(self) -> str | None:
        """"disk full writing …" once the store takes no more writes, else None."""
        return self.store.fatal_error

    def run_started(self, config_path: str) -> None:
        self.store.start_run(config_path)

    def page_failed(self, url: str, source: str | None, kind: str, reason: str,
                    status: int | None, listing: str | None = None) -> None:
        self.listings.article_failed(listing)
        self.store.record_failure(url, source, kind, reason, status)

    def page_skipped(self, url: str, source: str | None, reason: str, via: str,
                     listing: str) -> None:
        self.store.record_skipped(url, source, reason, via, listing)

    def listing_read(self, url: str, status: int, etag: str | None,
                     last_modified: str | None, entries: int | None) -> None:
        self.listings.listing_read(url, status, etag, last_modified, entries)

    def article_extracted(self, record: dict[str, Any], urls: list[str]) -> bool:
        """Store one article; True when it is new. Raises StoreWriteError.

        A decoration the source's other headlines share ("… | Wirtschaft") is cut here,
        where every article of the run passes (one process or a distributed ingest);
        when it is first recognised, the source's stored headlines lose it too.
        """
        source = record.get("source") or ""
        if not self.affixes.knows(source):
            self.affixes.remember(source, self.store.recent_titles(source))
        title, affix = self.affixes.clean(source, record.get("title"))
        is_new = self.store.save_article({**record, "title": title}, urls)
        if affix is not None and (source, affix) not in self.affixes_applied:
            self.store.strip_title_affix(source, affix)  # once per decoration and run
            self.affixes_applied.add((source, affix))
        return is_new

    def run_finished(self, reason: str, counts: dict[str, Any]) -> None:
        """Save the listings' state and close the run's row (may raise sqlite3.Error or
        OSError: the caller reports it)."""
        for state in self.listings.states(finished=reason == "finished"):
            self.store.save_feed_state(state.url, state.status, state.etag,
                                       state.last_modified, state.entries)
        self.store.finish_run(reason, counts)

    def close(self) -> None:
        self.store.close()
