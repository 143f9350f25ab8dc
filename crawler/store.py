"""The crawler's reads and writes of the store: known URLs, feed validators, articles,
failures and crawl runs. One instance per crawl, used from the reactor thread only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frwatch.db import article_id, open_db, utcnow
from frwatch.urls import canonicalize


class CrawlStore:
    def __init__(self, path: str | Path):
        self.db = open_db(path)
        self.run_id: int | None = None

    def close(self) -> None:
        self.db.close()

    # --- runs -------------------------------------------------------------------------
    def start_run(self, config_path: str) -> int:
        table = self.db["crawl_runs"]
        # A run that never finished was killed: say so rather than leave it "running".
        self.db.execute("update crawl_runs set status = 'interrupted' where status = 'running'")
        table.insert({"started": utcnow(), "status": "running", "config": config_path})
        self.run_id = table.last_pk
        return self.run_id

    def finish_run(self, status: str, counts: dict[str, int]) -> None:
        if self.run_id is None:
            return
        self.db["crawl_runs"].update(
            self.run_id, {"finished": utcnow(), "status": status, **counts})

    # --- discovery --------------------------------------------------------------------
    def is_known(self, url: str) -> bool:
        """True when an article was already stored under this (canonical) URL."""
        row = self.db.execute("select 1 from article_urls where url = ?", [url]).fetchone()
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
        self.db["feed_state"].upsert(record, pk="url")

    def failed_runs(self, url: str) -> int:
        """In how many earlier crawls fetching `url` failed."""
        row = self.db.execute("select count(distinct run_id) from failures where url = ? "
                              "and run_id != ?", [url, self.run_id or -1]).fetchone()
        return row[0] if row else 0

    # --- results ----------------------------------------------------------------------
    def record_failure(self, url: str, source: str | None, kind: str, reason: str,
                       status: int | None = None) -> None:
        self.db["failures"].insert({
            "url": url, "run_id": self.run_id, "source": source, "kind": kind,
            "reason": reason, "status": status, "at": utcnow(),
        })

    def save_article(self, record: dict[str, Any], urls: list[str]) -> bool:
        """Insert or update one article; returns True when it is new.

        `first_seen` is kept from the first time; every URL in `urls` is remembered so
        that later runs do not fetch the article again.
        """
        canonical = record["canonical_url"]
        key = article_id(canonical)
        now = utcnow()
        with self.db.atomic():
            exists = self.db.execute("select 1 from articles where id = ?", [key]).fetchone()
            row = {**record, "id": key, "last_fetched": now}
            if exists:
                self.db["articles"].update(key, row)
            else:
                self.db["articles"].insert({**row, "first_seen": now})
            self.db["article_urls"].upsert_all(
                [{"url": canonicalize(u), "article_id": key} for u in {canonical, *urls}],
                pk="url")
        return not exists
