"""The store: migrations, idempotent writes, bad files, seed stories."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from crawler.store import CrawlStore
from frwatch.config import load_config
from frwatch.db import migrations, open_db
from frwatch.errors import FrwatchError
from frwatch.seeds import read_seed, sync_seeds
from tests.support.crawl import run_cli
from tests.support.paths import REPO

ARTICLE: dict[str, Any] = {
    "url": "https://news.test/a?utm_source=x", "canonical_url": "https://news.test/a",
    "source": "News", "title": "A story", "text": "Some text " * 30, "word_count": 60}


def test_new_database_is_wal_with_every_table(tmp_path):
    db = open_db(tmp_path / "f.db")
    assert db.journal_mode == "wal"
    assert {"articles", "articles_fts", "seeds", "clusters", "embeddings", "alerts",
            "crawl_runs", "failures", "feed_state", "article_urls"} <= set(db.table_names())
    assert [m.name for m in migrations.applied(db)] == [m.name for m in migrations._migrations]


def test_older_database_is_upgraded_without_loss(tmp_path):
    path = tmp_path / "old.db"
    # A database as the first release made it: only the first migration applied.
    old = Database(path)
    migrations.apply(old, stop_before="m002_crawl_run_seconds")
    old.table("crawl_runs").insert({"started": "2026-01-01T00:00:00+00:00", "status": "finished"})
    assert "seconds" not in old["crawl_runs"].columns_dict
    old.close()
    db = open_db(path)
    assert [m.name for m in migrations.applied(db)] == [m.name for m in migrations._migrations]
    assert "seconds" in db["crawl_runs"].columns_dict
    assert [r["started"] for r in db.query("select started from crawl_runs")] == [
        "2026-01-01T00:00:00+00:00"]


def test_save_article_is_idempotent_and_keeps_first_seen(tmp_path):
    store = CrawlStore(tmp_path / "f.db")
    assert store.save_article(dict(ARTICLE), [ARTICLE["url"]]) is True
    first_seen = store.db.execute("select first_seen from articles").fetchone()[0]
    assert store.save_article({**ARTICLE, "title": "A better title"}, []) is False
    rows = list(store.db.query("select title, first_seen from articles"))
    assert rows == [{"title": "A better title", "first_seen": first_seen}]
    assert store.is_known("https://news.test/a")
    # Full-text search follows updates.
    hits = list(store.db.query(
        "select title from articles_fts where articles_fts match 'better'"))
    assert hits == [{"title": "A better title"}]


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(FrwatchError, match="cannot open database"):
        open_db(path)
    assert path.read_bytes() == before
    proc = run_cli("status", "--config", str(REPO / "seeds/sources.yaml"), "--db", str(path),
                   check=False)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == before


def test_unwritable_location_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("crawl", "--config", str(REPO / "seeds/sources.yaml"),
                   "--db", str(blocker / "sub" / "f.db"), check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("frwatch: error: ") and "Traceback" not in proc.stderr


def test_seed_story_loads_into_seeds(tmp_path):
    db = open_db(tmp_path / "f.db")
    config = load_config(REPO / "seeds" / "sources.yaml")
    assert sync_seeds(db, config) == 1
    assert sync_seeds(db, config) == 1  # again: updated, not duplicated
    row = next(db.query("select * from seeds"))
    assert row["outlet"] == "Business Insider"
    assert row["published"] == "2020-06-10"
    assert "Rekognition" in row["text"] and "28" in row["text"]
    assert db["seeds"].count == 1


# The outlet's original text is not ours to ship: point FRWATCH_ORIGINAL_SEED at a copy
# of it to check that the seed story is told in the project's own words.
ORIGINAL_SEED = os.environ.get("FRWATCH_ORIGINAL_SEED")


@pytest.mark.skipif(not ORIGINAL_SEED or not Path(ORIGINAL_SEED).is_file(),
                    reason="the original seed text is not shipped; set FRWATCH_ORIGINAL_SEED "
                           "to a copy of it to compare")
def test_seed_text_is_the_projects_own_words():
    ours = read_seed(REPO / "seeds/articles/amazon-rekognition-moratorium.md")["text"]
    assert ORIGINAL_SEED is not None  # the skipif above
    original = Path(ORIGINAL_SEED).read_text(encoding="utf-8")

    def grams(text: str, n: int = 8) -> set[tuple[str, ...]]:
        words = "".join(c.lower() if c.isalnum() else " " for c in text).split()
        return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}

    assert not grams(ours) & grams(original)


def test_bad_seed_file(tmp_path):
    bad = tmp_path / "seed.md"
    bad.write_text("---\nheadline: x\n")
    with pytest.raises(FrwatchError, match="never closed"):
        read_seed(bad)


def test_wal_lets_a_reader_in_while_writing(tmp_path):
    path = tmp_path / "f.db"
    store = CrawlStore(path)
    store.db.execute("begin immediate")
    store.db.execute("insert into failures (url, reason) values ('u', 'r')")
    reader = sqlite3.connect(path, timeout=0.1)
    assert reader.execute("select count(*) from articles").fetchone() == (0,)
    store.db.execute("commit")
    assert reader.execute("select count(*) from failures").fetchone() == (1,)
