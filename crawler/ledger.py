"""What the spider asks before it fetches: the crawl's memory of earlier runs.

The spider decides what to request from four questions, and asks them only through a
`Ledger`: it never opens the store. In one process the ledger reads the store
(`StoreLedger`, provided by `crawler.recorder.StoreRecorder`); a distributed crawl's
workers (issue 15) get one backed by the shared frontier instead, seeded by the one
writer, and never open SQLite. `MemoryLedger` is the same in a few dicts.

The component that owns the crawl's state is an extension deriving from `LedgerOwner`;
the spider finds it with `crawler.get_extension(LedgerOwner)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from crawler.store import CrawlStore


class Ledger(Protocol):
    """The four questions discovery asks about a URL. Answers may lag behind writes made
    in the same run (a distributed ledger is a snapshot plus what it has been told)."""

    def validators(self, listing: str) -> dict[str, str]:
        """Conditional-GET headers (If-None-Match, If-Modified-Since) for a feed or
        sitemap whose articles were all stored last time; {} to fetch it in full."""
        ...

    def is_known(self, url: str) -> bool:
        """Whether an article is already stored under this canonical URL."""
        ...

    def is_not_article(self, url: str) -> bool:
        """Whether the page at this URL said before that it is not an article."""
        ...

    def failed_runs(self, url: str) -> int:
        """In how many earlier crawls fetching this URL failed."""
        ...


class LedgerOwner:
    """Base of the extension that owns the crawl's state and answers through `ledger`."""

    ledger: Ledger


class StoreLedger:
    """The ledger of a crawl that writes the store itself: reads its CrawlStore."""

    def __init__(self, store: CrawlStore):
        self.store = store

    def validators(self, listing: str) -> dict[str, str]:
        return self.store.feed_validators(listing)

    def is_known(self, url: str) -> bool:
        return self.store.is_known(url)

    def is_not_article(self, url: str) -> bool:
        return self.store.is_not_article(url)

    def failed_runs(self, url: str) -> int:
        return self.store.failed_runs(url)


@dataclass
class MemoryLedger:
    """A ledger in memory: what a frontier-backed ledger holds, and a ledger for tests."""

    known: set[str] = field(default_factory=set)
    not_articles: set[str] = field(default_factory=set)
    failures: dict[str, int] = field(default_factory=dict)   # URL -> failed earlier runs
    listing_validators: dict[str, dict[str, str]] = field(default_factory=dict)

    def validators(self, listing: str) -> dict[str, str]:
        return dict(self.listing_validators.get(listing, {}))

    def is_known(self, url: str) -> bool:
        return url in self.known

    def is_not_article(self, url: str) -> bool:
        return url in self.not_articles

    def failed_runs(self, url: str) -> int:
        return self.failures.get(url, 0)

    def remember(self, urls: Iterable[str]) -> None:
        """Stored articles' URLs, as the writer reports them, so they are not asked again."""
        self.known.update(urls)


@dataclass(frozen=True)
class Skip:
    """Why a listed URL is not requested: the stat it counts under, and the reason
    recorded in `skipped` (None: counted only, as for an article already stored)."""

    stat: str
    reason: str | None


def too_old(published: str | None, oldest: datetime) -> bool:
    """Whether an entry listed with this ISO date is older than the crawl looks back."""
    return bool(published) and datetime.fromisoformat(str(published)) < oldest


def triage(ledger: Ledger, url: str, published: str | None, oldest: datetime,
           give_up_after: int) -> Skip | None:
    """Whether a feed's or sitemap's entry is fetched (None) or left out, and why. The
    order matters: a too-old entry is recorded as such even when it is stored."""
    if too_old(published, oldest):
        return Skip("frwatch/skipped_old", f"too old (listed as published {published})")
    if ledger.is_known(url):
        return Skip("frwatch/skipped_known", None)
    if ledger.is_not_article(url):  # a page that said so before: not again
        return Skip("frwatch/skipped_not_article", None)
    if ledger.failed_runs(url) >= give_up_after:
        return Skip("frwatch/skipped_failing",
                    f"given up after failing in {give_up_after} crawls")
    return None
