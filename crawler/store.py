"""The crawler's reads and writes of the store: known URLs, feed validators, articles,
failures and crawl runs. One instance per crawl, used from the reactor thread only.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Any

from crawler.titles import Affix
from frwatch.db import article_id, open_db, utcnow
from frwatch.urls import canonicalize

# SQLite result codes (the primary code, low byte) that mean the store cannot take
# writes at all: the crawl stops rather than fetch pages it cannot keep.
_FATAL_CODES = {8: "database is read-only", 10: "I/O error", 13: "disk full",
                14: "cannot open the database file"}
_FATAL_ERRNOS = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded",
                 errno.EFBIG: "file too large", errno.EIO: "I/O error",
                 errno.EROFS: "read-only filesystem"}


class StoreWriteError(Exception):
    """A write to the store failed; `fatal` when no further write can succeed."""

    def __init__(self, reason: str, fatal: bool):
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal


def describe_write_error(exc: BaseException) -> tuple[str, bool]:
    """A short reason (never the data) and whether the store is unusable for writes."""
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if code in _FATAL_CODES:
            return _FATAL_CODES[code], True
        return f"database error: {str(exc).splitlines()[0][:200]}", False
    if isinstance(exc, OSError) and exc.errno in _FATAL_ERRNOS:
        return _FATAL_ERRNOS[exc.errno], True
    return f"{type(exc).__name__}: {str(exc)[:200]}", False


class CrawlStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = open_db(path)
        self.run_id: int | None = None
        # Set when a write failed for good (disk full, I/O error): "disk full writing …".
        self.fatal_error: str | None = None

    def _write_failed(self, exc: BaseException) -> StoreWriteError:
        reason, fatal = describe_write_error(exc)
        if fatal and self.fatal_error is None:
            self.fatal_error = f"{reason} writing {self.path}"
        return StoreWriteError(reason, fatal)

    def close(self) -> None:
        self.db.close()

    # --- runs -------------------------------------------------------------------------
    def start_run(self, config_path: str) -> int:
        table = self.db.table("crawl_runs")
        # A run that never finished was killed: say so rather than leave it "running".
        self.db.execute("update crawl_runs set status = 'interrupted' where status = 'running'")
        table.insert({"started": utcnow(), "status": "running", "config": config_path})
        run_id = table.last_pk
        assert isinstance(run_id, int)   # crawl_runs.id is an integer primary key
        self.run_id = run_id
        return run_id

    def finish_run(self, status: str, counts: dict[str, int]) -> None:
        if self.run_id is None:
            return
        self.db.table("crawl_runs").update(
            self.run_id, {"finished": utcnow(), "status": status, **counts})

    # --- discovery --------------------------------------------------------------------
    def is_known(self, url: str) -> bool:
        """True when an article was already stored under this (canonical) URL."""
        row = self.db.execute("select 1 from article_urls where url = ?", [url]).fetchone()
        return row is not None

    def is_not_article(self, url: str) -> bool:
        """True when the page at `url` said it is not an article (a tag, section or video
        page); delete its `skipped` row to have it fetched again."""
        row = self.db.execute("select 1 from skipped where url = ? and reason like "
                              "'not an article%'", [url]).fetchone()
        return row is not None

    def feed_validators(self, url: str) -> dict[str, str]:
        row = self.db.execute(
            "select etag, last_modified from feed_state where url = ?", [url]).fetchone()
        if not row:
            return {}
        headers = {}
        if row[0]:
            headers["If-None-Match"] = row[0]
        if row[1]:
            headers["If-Modified-Since"] = row[1]
        return headers

    def save_feed_state(self, url: str, status: int, etag: str | None,
                        last_modified: str | None, entries: int | None) -> None:
        record: dict[str, Any] = {"url": url, "last_status": status, "last_checked": utcnow()}
        if status != 304:
            # A 200 without validators clears the old ones: they no longer apply.
            record.update(etag=etag, last_modified=last_modified, entries=entries)
        self.db.table("feed_state").upsert(record, pk="url")

    def failed_runs(self, url: str) -> int:
        """In how many earlier crawls fetching `url` failed."""
        row = self.db.execute("select count(distinct run_id) from failures where url = ? "
                              "and run_id != ?", [url, self.run_id or -1]).fetchone()
        return row[0] if row else 0

    # --- results ----------------------------------------------------------------------
    def record_failure(self, url: str, source: str | None, kind: str, reason: str,
                       status: int | None = None) -> None:
        """Record a failed URL; a store that cannot take it is noted in `fatal_error`
        (the crawl then stops), never raised into the crawl's callbacks."""
        try:
            self.db.table("failures").insert({
                "url": url, "run_id": self.run_id, "source": source, "kind": kind,
                "reason": reason, "status": status, "at": utcnow(),
            })
        except (sqlite3.Error, OSError) as exc:
            self._write_failed(exc)

    def record_skipped(self, url: str, source: str | None, reason: str, via: str,
                       listing: str) -> None:
        """A listed URL not fetched, and why; one row per URL, the latest reason."""
        try:
            self.db.table("skipped").upsert({"url": url, "source": source, "reason": reason,
                                             "via": via, "listing": listing,
                                             "run_id": self.run_id, "at": utcnow()},
                                            pk="url")
        except (sqlite3.Error, OSError) as exc:
            self._write_failed(exc)

    def save_article(self, record: dict[str, Any], urls: list[str]) -> bool:
        """Insert or update one article; returns True when it is new.

        `first_seen` is kept from the first time; every URL in `urls` is remembered so
        that later runs do not fetch the article again.
        """
        try:
            return self._save_article(record, urls)
        except (sqlite3.Error, OSError) as exc:
            raise self._write_failed(exc) from None

    def _save_article(self, record: dict[str, Any], urls: list[str]) -> bool:
        # Three statements per article in one transaction: the crawl's main process
        # does this for every page, so no per-call table introspection.
        canonical = record["canonical_url"]
        key = article_id(canonical)
        row = {**record, "id": key, "last_fetched": utcnow()}
        columns = list(row)
        with self.db.atomic():
            exists = self.db.execute("select 1 from articles where id = ?", [key]).fetchone()
            if exists:
                assignments = ", ".join(f"[{c}] = ?" for c in columns)
                self.db.execute(f"update articles set {assignments} where id = ?",
                                [*row.values(), key])
            else:
                names = ", ".join(f"[{c}]" for c in [*columns, "first_seen"])
                marks = ", ".join("?" for _ in range(len(columns) + 1))
                self.db.execute(f"insert into articles ({names}) values ({marks})",
                                [*row.values(), row["last_fetched"]])
            self.db.conn.executemany(
                "insert into article_urls (url, article_id) values (?, ?) "
                "on conflict(url) do update set article_id = excluded.article_id",
                [(canonicalize(u), key) for u in {canonical, *urls}])
        return not exists

    # --- titles -----------------------------------------------------------------------
    def recent_titles(self, source: str, limit: int = 50) -> list[str]:
        """The source's latest stored headlines, oldest first."""
        rows = self.db.execute(
            "select title from articles where source = ? and title is not null "
            "order by first_seen desc, id desc limit ?", [source, limit]).fetchall()
        return [row[0] for row in reversed(rows)]

    def strip_title_affix(self, source: str, affix: Affix) -> int:
        """Cut a decoration the source's headlines share from those already stored;
        returns how many changed."""
        pattern = ("%" + _like_escape(affix.text)) if affix.end else (
            _like_escape(affix.text) + "%")
        rows = self.db.execute(
            "select id, title from articles where source = ? and title like ? escape '\\'",
            [source, pattern]).fetchall()
        changes = [(rest, key) for key, title in rows
                   if (rest := affix.cut(title)) is not None]
        try:
            with self.db.atomic():
                self.db.conn.executemany("update articles set title = ? where id = ?",
                                         changes)
        except (sqlite3.Error, OSError) as exc:
            raise self._write_failed(exc) from None
        return len(changes)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
