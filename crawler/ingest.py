"""The one writer of a distributed crawl (issue 15): the frontier's events, into SQLite.

`Ingest` opens a run (or resumes the one a killed writer left open): it starts the
`crawl_runs` row, fills the frontier's ledger sets from the store, and pushes the
sources' listings to the start list. Then it moves the workers' events from the results
list into a processing list (LMOVE), applies them with the same `StoreWriter` a crawl in
one process uses, and deletes them only after SQLite has them: a writer killed at any
point loses nothing, and on restart applies the processing list again first — articles
are upserted by id, skips by URL, and a failure already recorded is not recorded twice.
It ends the run when the frontier is drained, saving the validators of listings whose
articles all arrived; when a worker died holding work, none (its requests were taken
from the queue and may never have been fetched: the next run reads every listing in
full and finds them again).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler import frontier as keys
from crawler.frontier import Frontier, redis_errors, shown, writer_id
from crawler.store import StoreWriteError
from crawler.writer import StoreWriter
from frwatch.config import Config
from frwatch.errors import FrwatchError, one_line

BATCH = 500  # events taken from the results list at once


@dataclass
class IngestReport:
    """What one ingest did: the run, its end, and how fast the writer wrote."""

    run_id: int
    status: str
    events: int = 0
    writing_seconds: float = 0.0     # time spent applying events (not waiting for them)
    lost_workers: list[str] = field(default_factory=list)
    resumed: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.events / self.writing_seconds if self.writing_seconds else 0.0


class Ingest:
    """The writer beside one SQLite file, on one frontier."""

    def __init__(self, frontier: Frontier, config: Config, db_path: Path,
                 fields: tuple[str, ...], follow: bool = False,
                 say: Callable[[str], None] = print):
        self.frontier = frontier
        self.server = frontier.server
        self.config = config
        self.db_path = Path(db_path)
        self.fields = fields
        self.follow = follow
        self.say = say
        self.holder = writer_id()
        self.writer: StoreWriter | None = None
        self.counts = {"articles_new": 0, "articles_updated": 0}
        self.stop_asked = False

    # --- the whole ingest -------------------------------------------------------------
    def run(self) -> IngestReport:
        """Take the writer lock, open or resume the run, write until it is complete."""
        self.frontier.take_writer_lock(self.holder)
        try:
            return self._run_locked()
        except redis_errors() as exc:
            raise FrwatchError(self._lost(exc)) from None
        finally:
            try:
                self.frontier.release_writer_lock(self.holder)
            except redis_errors():
                pass
            if self.writer is not None:
                self.writer.close()

    def _run_locked(self) -> IngestReport:
        self.writer = StoreWriter(self.db_path)
        report = self._resume() or self._open_run()
        previous = {signal.SIGINT: signal.getsignal(signal.SIGINT),
                    signal.SIGTERM: signal.getsignal(signal.SIGTERM)}
        for signum in previous:
            signal.signal(signum, self._ask_stop)
        try:
            self._write_until_drained(report)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self._finish(report)
        return report

    def _ask_stop(self, signum: int, frame: Any) -> None:
        """Ctrl-C or SIGTERM: finish the run with what arrived (no validators saved)."""
        self.stop_asked = True

    # --- opening ----------------------------------------------------------------------
    def _resume(self) -> IngestReport | None:
        """The run a killed writer left open, if any: the same crawl_runs row, its
        listings as recorded so far; its unfinished events are applied first."""
        run = self.frontier.run()
        if run.get("state") != "open":
            return None
        if run.get("db") != str(self.db_path.resolve()):
            raise FrwatchError(f"the open run on {shown(self.frontier.url)} writes "
                               f"{run.get('db')}, not {self.db_path}; finish it there")
        assert self.writer is not None
        store = self.writer.store
        store.run_id = int(run["id"])
        store.db.execute("update crawl_runs set status = 'running' where id = ?",
                         [store.run_id])
        for value in self.server.hvals(keys.LISTINGS):
            state = json.loads(value)
            self.writer.listing_read(state["url"], state["status"], state["etag"],
                                     state["last_modified"], state["entries"])
        for listing in self.server.smembers(keys.INCOMPLETE):
            self.writer.listings.article_failed(listing)
        for name, value in self.server.hgetall(keys.COUNTS).items():
            self.counts[name] = int(value)
        report = IngestReport(store.run_id, "running", resumed=True)
        replayed = self._apply(self.server.lrange(keys.PROCESSING, 0, -1), replay=True)
        self.server.delete(keys.PROCESSING)
        report.events += replayed
        self.say(f"Resumed crawl #{store.run_id} on {shown(self.frontier.url)} "
                 f"({replayed} events applied again).")
        return report

    def _open_run(self) -> IngestReport:
        """A new run: the crawl_runs row, the ledger sets from the store, the listings."""
        assert self.writer is not None
        self.server.hset(keys.RUN, mapping={"state": "seeding"})
        self.server.delete(*keys.PER_RUN)
        self.writer.run_started(str(self.config.path))
        run_id = self.writer.store.run_id
        assert run_id is not None
        self._seed_ledger()
        starts = keys.listings(self.config, self.fields)
        if starts:
            self.server.rpush(keys.START, *[json.dumps(entry) for entry in starts])
        self.server.hset(keys.RUN, mapping={"id": run_id, "state": "open",
                                            "db": str(self.db_path.resolve()),
                                            "started": time.time()})
        self.say(f"Crawl #{run_id} open on {shown(self.frontier.url)}: "
                 f"{len(starts)} listings for the workers.")
        return IngestReport(run_id, "running")

    def _seed_ledger(self) -> None:
        """What the workers' ledger answers from: the store as it is now."""
        assert self.writer is not None
        db = self.writer.store.db
        queries = {
            keys.KNOWN: "select url from article_urls",
            keys.NOT_ARTICLE: "select url from skipped where reason like 'not an article%'",
        }
        for key, sql in queries.items():
            for chunk in _chunks(row[0] for row in db.execute(sql)):
                self.server.sadd(key, *chunk)
        failed = db.execute("select url, count(distinct run_id) from failures "
                            "where run_id != ? group by url", [self.writer.store.run_id])
        for chunk in _chunks(failed):
            self.server.hset(keys.FAILED_RUNS, mapping=dict(chunk))
        validators = {}
        for (url,) in db.execute("select url from feed_state"):
            headers = self.writer.store.feed_validators(url)
            if headers:
                validators[url] = json.dumps(headers)
        if validators:
            self.server.hset(keys.VALIDATORS, mapping=validators)

    # --- writing ----------------------------------------------------------------------
    def _write_until_drained(self, report: IngestReport) -> None:
        drained_since: float | None = None
        while not self.stop_asked:
            self.frontier.keep_writer_lock(self.holder)
            taken = self._take()
            if taken:
                started = time.perf_counter()
                report.events += self._apply(taken, replay=False)
                self.server.delete(keys.PROCESSING)
                report.writing_seconds += time.perf_counter() - started
                drained_since = None
                if self.writer is not None and self.writer.fatal_error:
                    return
                continue
            if self.follow or not self.frontier.look().empty_for_writer():
                drained_since = None
                continue
            now = time.monotonic()
            drained_since = drained_since or now
            if now - drained_since >= keys.SETTLE_SECONDS:
                return

    def _take(self) -> list[str]:
        """Move up to BATCH events from the results list to the processing list,
        waiting up to a second for the first."""
        first = self.server.blmove(keys.RESULTS, keys.PROCESSING, 1.0, "LEFT", "RIGHT")
        if first is None:
            return []
        with self.server.pipeline() as pipe:
            for _ in range(BATCH - 1):
                pipe.lmove(keys.RESULTS, keys.PROCESSING, "LEFT", "RIGHT")
            rest = [event for event in pipe.execute() if event is not None]
        return [first, *rest]

    def _apply(self, events: list[str], replay: bool) -> int:
        """Apply events to the store (and the writer's own notes in Redis)."""
        assert self.writer is not None
        writer, known = self.writer, []
        for raw in events:
            event = json.loads(raw)
            kind = event["event"]
            if kind == "article_extracted":
                known.extend(self._article(event))
            elif kind == "page_failed":
                self._failure(event, replay)
            elif kind == "page_skipped":
                writer.page_skipped(event["url"], event["source"], event["reason"],
                                    event["via"], event["listing"])
            elif kind == "listing_read":
                writer.listing_read(event["url"], event["status"], event["etag"],
                                    event["last_modified"], event["entries"])
                self.server.hset(keys.LISTINGS, event["url"], json.dumps(
                    {k: event[k] for k in ("url", "status", "etag", "last_modified",
                                           "entries")}))
        if known:  # stored under these URLs too (redirects, rel=canonical)
            self.server.sadd(keys.KNOWN, *known)
        return len(events)

    def _article(self, event: dict[str, Any]) -> list[str]:
        assert self.writer is not None
        record, urls = event["record"], event["urls"]
        try:
            is_new = self.writer.article_extracted(record, urls)
        except StoreWriteError as exc:
            self._failure({"url": record["url"], "source": record.get("source"),
                           "kind": "article", "reason": f"not stored: {exc.reason}",
                           "status": None, "listing": event.get("listing")}, replay=False)
            return []
        name = "articles_new" if is_new else "articles_updated"
        self.counts[name] += 1
        self.server.hincrby(keys.COUNTS, name, 1)
        return [record["canonical_url"], *urls]

    def _failure(self, event: dict[str, Any], replay: bool) -> None:
        """Record a failure once: an event applied again after a restart finds its row."""
        assert self.writer is not None
        if event.get("listing"):
            self.server.sadd(keys.INCOMPLETE, event["listing"])
        if replay:
            row = self.writer.store.db.execute(
                "select 1 from failures where run_id = ? and url = ? and kind = ? and "
                "reason = ?", [self.writer.store.run_id, event["url"], event["kind"],
                               event["reason"]]).fetchone()
            if row:
                self.writer.listings.article_failed(event.get("listing"))
                return
        self.writer.page_failed(event["url"], event["source"], event["kind"],
                                event["reason"], event["status"], event.get("listing"))

    # --- closing ----------------------------------------------------------------------
    def _finish(self, report: IngestReport) -> None:
        """Close the run's row: counts from the workers' and the writer's, validators
        only for a run that no worker left unfinished."""
        assert self.writer is not None
        report.lost_workers = self.frontier.lost_workers()
        if self.writer.fatal_error:
            status = "store_error"
        elif self.stop_asked and not self.frontier.look().empty_for_writer():
            status = "interrupted"
        elif report.lost_workers:
            status = "worker_lost"
        else:
            status = "finished"
        counts = self._counts()
        counts["seconds"] = time.time() - float(self.frontier.run().get("started") or 0)
        self.writer.run_finished(status, counts)
        self.server.hset(keys.RUN, "state", "done")
        report.status = status
        if self.writer.fatal_error:
            raise FrwatchError(f"ingest stopped: {self.writer.fatal_error}")

    def _counts(self) -> dict[str, Any]:
        totals: dict[str, Any] = {}
        for value in self.server.hvals(keys.STATS):
            for name, number in json.loads(value).items():
                if isinstance(number, int | float) and name not in self.counts:
                    totals[name] = totals.get(name, 0) + number
        return {**totals, **self.counts}

    def _lost(self, exc: BaseException) -> str:
        """Redis went away mid-run: close the run's row as lost (so no validators are
        kept and the next run reads every listing in full); the one line to print."""
        if self.writer is not None and self.writer.store.run_id is not None:
            # The store's own error, if any, is not the one to report here.
            with contextlib.suppress(sqlite3.Error, OSError):
                self.writer.run_finished("frontier_lost", self.counts)
        return f"lost Redis at {shown(self.frontier.url)}: {one_line(exc)}"


def _chunks(rows: Any, size: int = 1000) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

