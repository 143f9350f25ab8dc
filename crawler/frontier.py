"""The shared frontier of a distributed crawl (issue 15): what Redis holds, and how.

Workers (`frwatch crawl --frontier URL`) and the one writer (`frwatch ingest --frontier
URL --db PATH`) meet only here. The request queue and the seen-fingerprints are
scrapy-redis's own (a sorted set and a set); everything else is a few plain keys, all
under `frwatch:` in the Redis database the URL names (a second frontier: another DB
number). The keys outlive a run, so a `--follow` worker serves one run after another;
the writer empties the per-run ones when it opens a run.

No Scrapy here: the writer uses this module alone.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from frwatch.config import Config
from frwatch.errors import FrwatchError, one_line

PREFIX = "frwatch"
# scrapy-redis's keys (its Scheduler, dupefilter and RedisMixin read these names).
REQUESTS = f"{PREFIX}:requests"       # sorted set: pickled requests, by priority
DUPEFILTER = f"{PREFIX}:dupefilter"   # set: fingerprints of every request queued this run
START = f"{PREFIX}:start"             # list: this run's listings, as JSON
# frwatch's own.
RUN = f"{PREFIX}:run"                 # hash: id (the store's crawl_runs id), state, db, …
KNOWN = f"{PREFIX}:known"             # set: URLs of stored articles (the ledger's is_known)
NOT_ARTICLE = f"{PREFIX}:not_article"  # set: pages that said they are not articles
FAILED_RUNS = f"{PREFIX}:failed_runs"  # hash: URL -> in how many earlier crawls it failed
VALIDATORS = f"{PREFIX}:validators"   # hash: listing -> JSON conditional-GET headers
RESULTS = f"{PREFIX}:results"         # list: the workers' events, JSON, oldest first
PROCESSING = f"{PREFIX}:processing"   # list: events the writer took but has not committed
LISTINGS = f"{PREFIX}:listings"       # hash: listing -> JSON listing_read event (the writer's)
INCOMPLETE = f"{PREFIX}:incomplete"   # set: listings with an article that failed
COUNTS = f"{PREFIX}:counts"           # hash: the writer's own counts (articles new/updated)
WORKERS = f"{PREFIX}:workers"         # set: every worker that joined this run
WORKER = f"{PREFIX}:worker:"          # + id: "busy" or "idle", expires without a heartbeat
STATS = f"{PREFIX}:stats"             # hash: worker id -> JSON counts, set when it ends
WRITER = f"{PREFIX}:writer"           # string: the writer's lock, expires without a heartbeat
PAUSED = f"{PREFIX}:paused"           # string: while it exists, workers take no request

# Cleared by the writer when it opens a run (not RESULTS/PROCESSING: events a late worker
# pushed after the last run ended are written into the next one rather than lost).
PER_RUN = (REQUESTS, DUPEFILTER, START, KNOWN, NOT_ARTICLE, FAILED_RUNS, VALIDATORS,
           LISTINGS, INCOMPLETE, COUNTS, WORKERS, STATS)

HEARTBEAT_SECONDS = 1.0      # how often a worker and the writer say they are alive
ALIVE_SECONDS = 6            # a worker or writer silent this long is taken for dead
SETTLE_SECONDS = 2.0         # drained for this long before a worker or the writer ends

# The config's source fields a spider reads -> the kind of listing each holds.
KIND_OF_FIELD = {"feeds": "feed", "sitemaps": "sitemap", "pages": "page"}


def shown(url: str) -> str:
    """The Redis URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def client(url: str) -> Any:
    """A Redis client for `url` that has answered a PING (FrwatchError otherwise)."""
    try:
        import redis
    except ImportError:
        raise FrwatchError("--frontier needs the Redis client: pip install "
                           "'frwatch[distributed]'") from None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise FrwatchError(f"--frontier {url}: expected redis://HOST:PORT/DB")
    try:
        server = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5,
                                      socket_timeout=15)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise FrwatchError(f"cannot reach Redis at {shown(url)}: {one_line(exc)}") from None
    return server


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean Redis was lost (the client is an optional dependency; it
    raises its ConnectionError, a RedisError, for socket errors too). Not OSError: a
    disk-full store must not be reported as a lost Redis."""
    import redis

    return (redis.RedisError,)


def listings(config: Config, fields: Iterable[str]) -> list[dict[str, str]]:
    """This run's start list: every listing of every source, as the spider's `start`
    would request them (`fields` names the config fields the spider reads)."""
    out = []
    for source in config.sources:
        for name in fields:
            for url in getattr(source, name):
                out.append({"url": url, "source": source.name, "kind": KIND_OF_FIELD[name]})
    return out


def writer_id() -> str:
    """The writer lock's holder: host and pid, so that a dead holder on this host is
    recognised (`Frontier.take_writer_lock`)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_id() -> str:
    """A name for this worker that says where it runs: host, pid, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Drain:
    """What the frontier still holds, from one look."""

    start: int
    queued: int
    results: int
    busy: list[str]

    def empty_for_workers(self) -> bool:
        return not (self.start or self.queued or self.busy)

    def empty_for_writer(self) -> bool:
        return self.empty_for_workers() and not self.results


def _utc(timestamp: str | None) -> str | None:
    """A Unix time kept as text in Redis, as a UTC date and time; None when it is not one."""
    try:
        when = datetime.fromtimestamp(float(timestamp or ""), UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return f"{when:%Y-%m-%d %H:%M:%S} UTC"


@dataclass
class FrontierStatus:
    """One look at a frontier, for `frwatch frontier status`."""

    run: dict[str, str]
    paused_since: str | None
    drain: Drain
    workers: int
    lost: list[str]
    ended: int
    writer: str | None

    def lines(self, url: str) -> list[str]:
        run = self.run
        state = (f"run #{run.get('id', '?')} {run.get('state', '?')}" if run
                 else "no run yet")
        if opened := _utc(run.get("started")):
            state += f" (opened {opened})"
        paused = ""
        if self.paused_since is not None:  # `frontier pause` writes the time; redis-cli any
            since = _utc(self.paused_since)
            paused = f"; PAUSED since {since}" if since else "; PAUSED"
        d = self.drain
        return [f"Frontier {shown(url)}: {state}{paused}",
                f"  left: {d.start} listings not yet read, {d.queued} requests queued, "
                f"{d.results} results not yet written",
                f"  workers this run: {self.workers} ({len(d.busy)} busy, {self.ended} "
                f"ended, {len(self.lost)} lost); writer: {self.writer or 'none'}"]


class Frontier:
    """The frontier's keys on one Redis server (`server`: a decode_responses client)."""

    def __init__(self, server: Any, url: str):
        self.server = server
        self.url = url

    @classmethod
    def connect(cls, url: str) -> Frontier:
        return cls(client(url), url)

    # --- the run ----------------------------------------------------------------------
    def run(self) -> dict[str, str]:
        """The current run's hash: {} before the first, state "open" or "done"."""
        return self.server.hgetall(RUN)

    def paused(self) -> bool:
        return bool(self.server.exists(PAUSED))

    def pause(self) -> bool:
        """Workers take no new request until `resume` (those in flight finish and are
        written). False when it already was paused."""
        return bool(self.server.set(PAUSED, str(time.time()), nx=True))

    def resume(self) -> bool:
        """Workers take requests again. False when it was not paused."""
        return bool(self.server.delete(PAUSED))

    def status(self) -> FrontierStatus:
        """What a person asks of a frontier: the run, what is left, who works on it."""
        drain = self.look()
        workers = sorted(self.server.smembers(WORKERS))
        return FrontierStatus(run=self.run(), paused_since=self.server.get(PAUSED),
                              drain=drain, workers=len(workers), lost=self.lost_workers(),
                              ended=len(self.server.hkeys(STATS)),
                              writer=self.server.get(WRITER))

    # --- workers ----------------------------------------------------------------------
    def beat(self, worker: str, busy: bool) -> None:
        """A worker's heartbeat: alive, and whether it holds work."""
        with self.server.pipeline() as pipe:
            pipe.sadd(WORKERS, worker)
            pipe.set(WORKER + worker, "busy" if busy else "idle", ex=ALIVE_SECONDS)
            pipe.execute()

    def worker_done(self, worker: str, counts: dict[str, Any]) -> None:
        """A worker that ends cleanly leaves its counts, and is no longer busy."""
        with self.server.pipeline() as pipe:
            pipe.hset(STATS, worker, json.dumps(counts))
            pipe.set(WORKER + worker, "idle", ex=ALIVE_SECONDS)
            pipe.execute()

    def look(self, exclude: str | None = None) -> Drain:
        """Start list, queue and results lengths, and the workers holding work."""
        with self.server.pipeline() as pipe:
            pipe.llen(START)
            pipe.zcard(REQUESTS)
            pipe.llen(RESULTS)
            pipe.llen(PROCESSING)
            pipe.smembers(WORKERS)
            start, queued, results, processing, workers = pipe.execute()
        others = sorted(w for w in workers if w != exclude)
        states = self.server.mget([WORKER + w for w in others]) if others else []
        busy = [w for w, state in zip(others, states, strict=True) if state == "busy"]
        return Drain(start, queued, results + processing, busy)

    def lost_workers(self) -> list[str]:
        """Workers of this run that stopped answering without ending cleanly: what they
        had taken from the queue may never have been fetched."""
        workers = sorted(self.server.smembers(WORKERS))
        if not workers:
            return []
        ended = set(self.server.hkeys(STATS))
        alive = self.server.mget([WORKER + w for w in workers])
        return [w for w, state in zip(workers, alive, strict=True)
                if state is None and w not in ended]

    # --- the writer's lock ------------------------------------------------------------
    def take_writer_lock(self, holder: str) -> None:
        """One writer per frontier: take the lock or say who holds it. A holder on this
        host whose process is gone (kill -9) is replaced at once; elsewhere its lock
        expires ALIVE_SECONDS after its last heartbeat."""
        if self.server.set(WRITER, holder, nx=True, ex=ALIVE_SECONDS):
            return
        current = self.server.get(WRITER) or ""
        host, _, pid = current.partition(":")
        if current == holder or (host == socket.gethostname() and pid.isdigit()
                                 and not _alive(int(pid))):
            self.server.set(WRITER, holder, ex=ALIVE_SECONDS)
            return
        raise FrwatchError(f"another ingest is writing this frontier ({current} on "
                           f"{shown(self.url)}); not starting a second one")

    def keep_writer_lock(self, holder: str) -> None:
        """The writer's heartbeat: extend the lock while it is still ours."""
        if self.server.get(WRITER) != holder:
            raise FrwatchError(f"lost the writer lock on {shown(self.url)} to "
                               f"{self.server.get(WRITER)}")
        self.server.expire(WRITER, ALIVE_SECONDS)

    def release_writer_lock(self, holder: str) -> None:
        if self.server.get(WRITER) == holder:
            self.server.delete(WRITER)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

