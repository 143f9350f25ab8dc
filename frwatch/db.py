"""Open the store and keep its schema current.

One SQLite file, WAL mode so that Datasette reads while a crawl writes. The schema is a
list of migrations (sqlite-utils `Migrations`): a database made by an older frwatch is
upgraded when it is opened, never rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from frwatch.errors import FrwatchError

migrations = Migrations("frwatch")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("clusters").create(
        {"id": int, "label": str, "first_seen": str, "last_seen": str, "size": int, "related": int},
        pk="id",
    )
    db.table("articles").create(
        {
            "id": str,
            "url": str,
            "canonical_url": str,
            "source": str,
            "title": str,
            "author": str,
            "published": str,
            "date_source": str,
            "first_seen": str,
            "last_fetched": str,
            "language": str,
            "sitename": str,
            "description": str,
            "text": str,
            "word_count": int,
            "discovered_via": str,
            "duplicate_of": str,
            "cluster_id": int,
            "relevance": float,
            "related": int,
            "relevance_reason": str,
        },
        pk="id",
        foreign_keys=[("duplicate_of", "articles", "id"), ("cluster_id", "clusters", "id")],
    )
    db.table("articles").create_index(["source"])
    db.table("articles").create_index(["published"])
    db.table("articles").create_index(["first_seen"])
    db.table("articles").enable_fts(["title", "text"], create_triggers=True)
    # Every URL under which an article was found (feed link, redirect target,
    # rel=canonical), so later runs skip it before fetching.
    db.table("article_urls").create({"url": str, "article_id": str}, pk="url",
                              foreign_keys=[("article_id", "articles", "id")])
    db.table("seeds").create(
        {"id": str, "path": str, "url": str, "headline": str, "outlet": str,
         "published": str, "author": str, "text": str, "added": str},
        pk="id",
    )
    db.table("embeddings").create(
        {"article_id": str, "model": str, "vector": bytes},
        pk=("article_id", "model"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("crawl_runs").create(
        {"id": int, "started": str, "finished": str, "status": str, "config": str,
         "requests": int, "responses": int, "articles_new": int, "articles_updated": int,
         "skipped_known": int, "skipped_old": int, "feeds_not_modified": int, "failures": int},
        pk="id",
    )
    db.table("failures").create(
        {"id": int, "url": str, "run_id": int, "source": str, "reason": str,
         "status": int, "kind": str, "at": str},
        pk="id",
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db.table("failures").create_index(["run_id"])
    db.table("failures").create_index(["url"])
    # Conditional-request validators per feed or sitemap, kept across runs.
    db.table("feed_state").create(
        {"url": str, "etag": str, "last_modified": str, "last_status": int,
         "last_checked": str, "entries": int},
        pk="url",
    )
    db.table("alerts").create(
        {"article_id": str, "channel": str, "sent_at": str, "status": str, "error": str},
        pk=("article_id", "channel"),
        foreign_keys=[("article_id", "articles", "id")],
    )


@migrations()
def m002_crawl_run_seconds(db: Database) -> None:
    # Wall-clock length of each crawl, for the benchmark and `frwatch status`.
    db.table("crawl_runs").add_column("seconds", float)


@migrations()
def m003_enrichment(db: Database) -> None:
    # When an article was enriched (null: pending) and why it was skipped, if it was.
    db.table("articles").add_column("enriched_at", str)
    db.table("articles").add_column("enrich_note", str)
    db.table("articles").create_index(["enriched_at"])
    db.table("articles").create_index(["cluster_id"])
    db.table("articles").create_index(["duplicate_of"])
    db.table("seed_embeddings").create(
        {"seed_id": str, "model": str, "vector": bytes}, pk=("seed_id", "model"),
        foreign_keys=[("seed_id", "seeds", "id")])
    # A story cluster keeps what incremental assignment needs: the mean vector of its
    # articles, the names they mention, and the seed story it is the coverage of.
    db.table("clusters").add_column("centroid", bytes)
    db.table("clusters").add_column("names", str)
    db.table("clusters").add_column("seed_id", str, fk="seeds", fk_col="id")
    db.table("enrich_state").create({"key": str, "value": str}, pk="key")


@migrations()
def m004_skipped_failing(db: Database) -> None:
    # Pages not asked for again after failing in FRWATCH_GIVE_UP_AFTER_RUNS crawls.
    db.table("crawl_runs").add_column("skipped_failing", int)


@migrations()
def m005_labels(db: Database) -> None:
    # Users' relevance labels (`frwatch label`); every label is kept, the latest wins.
    db.table("labels").create(
        {"id": int, "article_id": str, "verdict": str, "note": str, "labelled_at": str,
         "labelled_by": str},
        pk="id", foreign_keys=[("article_id", "articles", "id")])
    db.table("labels").create_index(["article_id"])
    db.create_view("current_labels", """
        select l.article_id, l.verdict, l.note, l.labelled_at, l.labelled_by
        from labels l
        where l.id = (select max(id) from labels where article_id = l.article_id)""")
    # What the verdict was judged on: `text`, or `headline` for a teaser or paywall stub.
    db.table("articles").add_column("judged_on", str)


@migrations()
def m006_discovery_and_titles(db: Database) -> None:
    # The page's raw <title>, beside the cleaned headline kept in `title`.
    db.table("articles").add_column("html_title", str)
    # Listed URLs that were not fetched, and why (too old, given up, not an article by
    # its URL): one row per URL, brought up to date by every crawl that lists it.
    db.table("skipped").create({"url": str, "source": str, "reason": str, "via": str,
                          "listing": str, "run_id": int, "at": str}, pk="url")
    db.table("skipped").create_index(["source"])


@migrations()
def m007_health_notices(db: Database) -> None:
    # A source's extraction health as last announced on each alert channel: a notice goes
    # out once when it turns degraded or broken, again only after it was ok in between.
    db.table("health_notices").create({"source": str, "channel": str, "health": str, "at": str},
                                pk=("source", "channel"))
    # The latest health of each source, as `frwatch alert` (or `run`) last computed it,
    # for Datasette: shares of its recent pages and of its earlier ones.
    db.table("source_health").create({"source": str, "health": str, "pages": int,
                                "with_text": float, "with_title": float, "with_date": float,
                                "with_author": float, "earlier_pages": int,
                                "earlier_with_text": float, "earlier_with_title": float,
                                "earlier_with_date": float, "checked": str}, pk="source")


@migrations()
def m008_passage_vectors(db: Database) -> None:
    # Vectors of texts that are not stored articles (the topic description's items, the
    # labelled examples shipped with frwatch), by model and text digest: a run with
    # nothing new to embed then needs no model at all.
    db.table("passage_vectors").create({"model": str, "digest": str, "vector": bytes},
                                       pk=("model", "digest"))


def utcnow() -> str:
    """Now, as ISO 8601 UTC to the second: the one timestamp format of the store."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def remove_store(path: str | Path) -> None:
    """Delete the store at `path` with its -wal and -shm files: a leftover -wal beside a
    fresh file would be replayed into it by SQLite."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def article_id(canonical_url: str) -> str:
    """The stable id of an article: a short hash of its canonical URL."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def open_db(path: str | Path) -> Database:
    """Open (creating if needed) and migrate the store at `path`."""
    path = Path(path)
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise FrwatchError(f"{path}: cannot create the database: {parent} is a file, "
                               "not a directory")
    if path.parent.is_dir() and not os.access(path.parent, os.W_OK):
        raise FrwatchError(f"{path}: the directory {path.parent} is read-only (frwatch writes "
                           "the database and its -wal and -shm files there)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        db = Database(conn)
        db.execute("PRAGMA busy_timeout = 30000")
        if db.journal_mode != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise FrwatchError(f"{path}: cannot open database: {exc}") from None
    except OSError as exc:
        raise FrwatchError(f"{path}: cannot create database: {exc.strerror}") from None
    return db
