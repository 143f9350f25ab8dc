"""A distributed crawl's worker (issue 15): the same spider and pipelines, on the frontier.

A worker is the one-process crawl with three parts swapped, each a Scrapy component:

- the scheduler is scrapy-redis's (`FrontierScheduler`): requests and their fingerprints
  live in Redis, so every URL is fetched by one worker of all;
- the spider reads its listings from the run's start list (scrapy-redis's `RedisMixin`,
  `FrontierSpiderMixin`) instead of the config, and asks a `FrontierLedger`;
- `FrontierPublisher` takes `crawler.recorder.StoreRecorder`'s place: it pushes every
  event to the frontier for the one writer (`crawler.ingest`), and never opens SQLite.

Robots.txt, the address guard, retries and extraction are the same downloader
middlewares, resolver and pipelines as in one process: every worker runs them.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler
from scrapy_redis.spiders import RedisMixin
from scrapy_redis.utils import bytes_to_str
from twisted.internet import task

from crawler import frontier as keys
from crawler import signals as frwatch_signals
from crawler.frontier import Frontier, redis_errors, shown, worker_id
from crawler.ledger import LedgerOwner
from crawler.recorder import COUNTS
from crawler.signals import ArticleNotStored
from frwatch.errors import one_line

logger = logging.getLogger(__name__)

LOST_STAT = "frwatch/frontier_error"


def frontier_lost(crawler: Crawler, exc: BaseException) -> None:
    """Redis went away: note it once (the worker exits 1 with that line) and stop."""
    stats = crawler.stats
    if stats is None or stats.get_value(LOST_STAT):
        return
    url = crawler.settings.get("FRWATCH_FRONTIER", "")
    stats.set_value(LOST_STAT, f"lost Redis at {shown(url)}: {one_line(exc)}")
    # At INFO: the worker's one line on stderr is its exit message (crawler.run).
    logger.info("crawl stopped: lost Redis: %s", one_line(exc))
    if crawler.engine is not None and crawler.engine.spider is not None:
        deferred_from_coro(crawler.engine.close_spider_async(reason="frontier_lost"))


def worker_settings(frontier_url: str, follow: bool, extensions: dict[str, Any]
                    ) -> dict[str, Any]:
    """The Scrapy settings that make a crawl a worker on the frontier at `frontier_url`
    (`extensions`: the project's EXTENSIONS, to swap the store's owner out of)."""
    return {
        "FRWATCH_FRONTIER": frontier_url,
        "FRWATCH_FRONTIER_FOLLOW": follow,
        "SCHEDULER": "crawler.worker.FrontierScheduler",
        "SCHEDULER_PERSIST": True,   # the queue is the frontier's, not this worker's
        "SCHEDULER_QUEUE_KEY": keys.REQUESTS,
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_DUPEFILTER_KEY": keys.DUPEFILTER,
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": frontier_url,
        "REDIS_PARAMS": {"socket_timeout": 15, "socket_connect_timeout": 5},
        "REDIS_START_URLS_KEY": keys.START,
        "EXTENSIONS": {**extensions, "crawler.recorder.StoreRecorder": None,
                       "crawler.worker.FrontierPublisher": 100},
    }


class FrontierLedger:
    """The spider's four questions, answered from the sets the writer filled from the
    store when it opened the run, and that the workers add to as they send results."""

    def __init__(self, frontier: Frontier, crawler: Crawler):
        self.server = frontier.server
        self.crawler = crawler

    def _ask(self, command: str, *args: Any) -> Any:
        try:
            return getattr(self.server, command)(*args)
        except redis_errors() as exc:
            frontier_lost(self.crawler, exc)
            return None

    def validators(self, listing: str) -> dict[str, str]:
        value = self._ask("hget", keys.VALIDATORS, listing)
        return json.loads(value) if value else {}

    def is_known(self, url: str) -> bool:
        return bool(self._ask("sismember", keys.KNOWN, url))

    def is_not_article(self, url: str) -> bool:
        return bool(self._ask("sismember", keys.NOT_ARTICLE, url))

    def failed_runs(self, url: str) -> int:
        return int(self._ask("hget", keys.FAILED_RUNS, url) or 0)


class FrontierPublisher(LedgerOwner):
    """A worker's state owner: sends every event to the frontier's results list, keeps a
    heartbeat saying whether this worker holds work, answers through a FrontierLedger."""

    def __init__(self, crawler: Crawler, frontier: Frontier, follow: bool):
        self.crawler = crawler
        self.frontier = frontier
        self.follow = follow
        self.worker = worker_id()
        self.ledger = FrontierLedger(frontier, crawler)
        self.heartbeat = task.LoopingCall(self.beat)
        self.idle_since: float | None = None
        self.run_seen: str | None = None   # the run this worker joined (without --follow)
        connect = crawler.signals.connect
        connect(self.engine_started, signal=signals.engine_started)
        connect(self.spider_opened, signal=signals.spider_opened)
        connect(self.spider_closed, signal=signals.spider_closed)
        frwatch_signals.connect_events(crawler, self)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierPublisher:
        url = crawler.settings.get("FRWATCH_FRONTIER")
        if not url:
            raise NotConfigured("no frontier: a crawl in one process")
        return cls(crawler, Frontier(keys.client(url), url),
                   crawler.settings.getbool("FRWATCH_FRONTIER_FOLLOW"))

    # --- liveness ---------------------------------------------------------------------
    def engine_started(self) -> None:
        # An idle worker looks at the shared queue on the engine's heartbeat (5 s in
        # Scrapy): work that other workers queue is taken up within half a second.
        engine = self.crawler.engine
        if engine is not None and hasattr(engine, "_SLOT_HEARTBEAT_INTERVAL"):
            engine._SLOT_HEARTBEAT_INTERVAL = 0.5

    def spider_opened(self) -> None:
        self.beat()
        self.heartbeat.start(keys.HEARTBEAT_SECONDS, now=False)

    def holds_work(self) -> bool:
        """Whether this worker has requests in flight or items being extracted."""
        engine = self.crawler.engine
        if engine is None:
            return False
        slot = engine.scraper.slot
        return bool(engine.downloader.active) or (slot is not None and not slot.is_idle())

    def beat(self) -> None:
        try:
            self.frontier.beat(self.worker, self.holds_work())
        except redis_errors() as exc:
            frontier_lost(self.crawler, exc)

    def may_end(self) -> bool:
        """Asked when this worker is idle: whether the frontier is drained (nothing to
        start, nothing queued, no other worker holding work) and has stayed so for
        SETTLE_SECONDS. Never with --follow; a worker started before the writer opened a
        run waits for one, and ends with it."""
        if self.follow:
            return False
        run = self.frontier.run()
        if run.get("state") == "open":
            self.run_seen = run.get("id")
        if not self.run_seen:  # started before the writer opened a run: wait for it
            return False
        if run.get("state") == "done" or run.get("id") != self.run_seen:
            return True
        if not self.frontier.look(exclude=self.worker).empty_for_workers():
            self.idle_since = None
            return False
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        return now - self.idle_since >= keys.SETTLE_SECONDS

    def spider_closed(self, reason: str) -> None:
        if self.heartbeat.running:
            self.heartbeat.stop()
        stats = self.crawler.stats
        assert stats is not None
        if stats.get_value(LOST_STAT):
            return
        counts = {column: stats.get_value(key, 0) for column, key in COUNTS.items()}
        counts["reason"] = reason
        try:
            self.frontier.worker_done(self.worker, counts)
        except redis_errors() as exc:
            frontier_lost(self.crawler, exc)

    # --- events -----------------------------------------------------------------------
    def push(self, event: str, note: tuple[str, list[str]] | None = None, **data: Any) -> bool:
        """Append one event to the results list (and, in the same transaction, `note`'s
        URLs to one of the ledger's sets, so that every worker's next question sees
        them); False (and the worker stops) when Redis is gone."""
        try:
            with self.frontier.server.pipeline() as pipe:
                pipe.rpush(keys.RESULTS, json.dumps(
                    {"event": event, "worker": self.worker, **data}))
                if note and note[1]:
                    pipe.sadd(note[0], *note[1])
                pipe.execute()
            return True
        except redis_errors() as exc:
            frontier_lost(self.crawler, exc)
            return False

    def page_failed(self, url: str, source: str | None, kind: str, reason: str,
                    status: int | None, requested_url: str | None = None,
                    listing: str | None = None) -> None:
        self.push("page_failed", url=url, source=source, kind=kind, reason=reason,
                  status=status, requested_url=requested_url, listing=listing)

    def page_skipped(self, url: str, source: str | None, reason: str, via: str,
                     listing: str) -> None:
        # A page that said it is not an article (or a link that is not one by its URL)
        # is not asked for again in this run, by any worker: as in one process.
        note = (keys.NOT_ARTICLE, [url]) if reason.startswith("not an article") else None
        self.push("page_skipped", note, url=url, source=source, reason=reason, via=via,
                  listing=listing)

    def listing_read(self, url: str, status: int, etag: str | None,
                     last_modified: str | None, entries: int | None) -> None:
        self.push("listing_read", url=url, status=status, etag=etag,
                  last_modified=last_modified, entries=entries)

    def article_extracted(self, record: dict[str, Any], urls: list[str],
                          listing: str | None = None) -> None:
        known = (keys.KNOWN, [record["canonical_url"], *urls])
        if not self.push("article_extracted", known, record=record, urls=urls,
                         listing=listing):
            raise ArticleNotStored("not stored: lost Redis")


class FrontierScheduler(Scheduler):
    """scrapy-redis's scheduler (shared queue and dupefilter), that takes no request
    while the frontier is paused and stops the worker with one line when Redis is lost."""

    paused_checked = 0.0
    paused = False
    counter: Any = None
    df: Any   # scrapy-redis's dupefilter, set by its __init__

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        scheduler = cls.from_settings(crawler.settings)
        # Counted here: scrapy-redis passes `spider=` to the stats, which Scrapy 2.19
        # deprecates with a warning per request.
        scheduler.counter = crawler.stats
        return scheduler

    def _lost(self, exc: BaseException) -> None:
        frontier_lost(self.spider.crawler, exc)

    def open(self, spider: Any) -> None:
        """The shared queue and dupefilter on the frontier's keys (scrapy-redis's `open`
        without its flush-on-start and its deprecated `spider.log`)."""
        self.spider = spider
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=self.queue_key,
            serializer=self.serializer)
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)

    def _is_paused(self) -> bool:
        now = time.monotonic()
        if now - self.paused_checked >= 1.0:
            self.paused_checked = now
            self.paused = bool(self.server.exists(keys.PAUSED))
        return self.paused

    def next_request(self) -> Any:
        try:
            if self._is_paused():
                return None
            request = super().next_request()
            if request is None and self._feed_from_start_list():
                request = super().next_request()
            if request is not None and self.counter is not None:
                self.counter.inc_value("scheduler/dequeued/redis")
            return request
        except redis_errors() as exc:
            self._lost(exc)
            return None

    def _feed_from_start_list(self) -> bool:
        """The queue is empty and this worker has room: queue the next batch of the
        run's listings (scrapy-redis's RedisMixin reads them only when the whole worker
        is idle, which leaves the others waiting while one finishes its last pages)."""
        read = getattr(self.spider, "next_requests", None)
        queued = False
        for request in read() if read is not None else ():
            queued = self.enqueue_request(request) or queued
        return queued

    def enqueue_request(self, request: Any) -> bool:
        try:
            queued = super().enqueue_request(request)
            if queued and self.counter is not None:
                self.counter.inc_value("scheduler/enqueued/redis")
            return queued
        except redis_errors() as exc:
            self._lost(exc)
            return False

    def has_pending_requests(self) -> bool:
        try:
            return super().has_pending_requests()
        except redis_errors() as exc:
            self._lost(exc)
            return False


class FrontierSpiderMixin(RedisMixin):
    """Makes a news spider a worker's: listings come from the run's start list (JSON
    entries the writer pushed: url, source, kind), not from the config; the spider
    ends only when the whole frontier is drained."""

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """With FRWATCH_FRONTIER set (`-s`, the environment, a Scrapyd job's `setting=`),
        the worker's settings: the same whether `frwatch crawl --frontier` or Scrapyd
        starts it."""
        super().update_settings(settings)
        url = settings.get("FRWATCH_FRONTIER")
        if url:
            settings.setdict(worker_settings(url, settings.getbool("FRWATCH_FRONTIER_FOLLOW"),
                                             settings.getdict("EXTENSIONS")),
                             priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)
        return spider

    async def start(self) -> Any:
        """Nothing from the config: the start list is read whenever the worker is idle."""
        return
        yield

    def make_request_from_data(self, data: bytes) -> Any:
        entry = json.loads(bytes_to_str(data, self.redis_encoding))
        return self.listing_request(entry["url"], entry["source"], entry["kind"])

    def spider_idle(self) -> None:
        crawler = self.crawler
        try:
            requests = list(self.next_requests())
            for request in requests:
                crawler.engine.crawl(request)
            publisher = crawler.get_extension(FrontierPublisher)
            if requests or not publisher.may_end():
                raise DontCloseSpider
        except redis_errors() as exc:
            frontier_lost(crawler, exc)  # closes the spider itself, with its reason
            raise DontCloseSpider from None


def frontier_spider(base: type) -> type:
    """`base` (a NewsSpider class) as a worker's spider."""
    return type(f"Frontier{base.__name__}", (FrontierSpiderMixin, base),
                {"__module__": __name__, "__doc__": base.__doc__})
