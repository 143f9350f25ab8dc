"""Every command that writes the store holds its lock; unusable paths get one line."""

from __future__ import annotations

import os
import threading
import time

import pytest

from benchmarks.labelled import copy_store
from frwatch.db import open_db
from frwatch.lock import RunLock
from tests.support.crawl import run_cli


@pytest.fixture
def enriched_copy(enriched_store, tmp_path):
    """A private copy of the labelled store enriched once for the session (conftest)."""
    db = tmp_path / "frwatch.db"
    copy_store(enriched_store[0], db)
    return db, enriched_store[1]


def counts(db_path) -> tuple:
    db = open_db(db_path)
    try:
        return (db["labels"].count, db["crawl_runs"].count,
                db.execute("select count(*) from articles where enriched_at is null")
                .fetchone()[0], db["alerts"].count)
    finally:
        db.close()


@pytest.mark.parametrize("command", [
    ["crawl"], ["enrich", "--no-progress"], ["alert", "--backfill"], ["run"],
    ["label", "ARTICLE", "unrelated"], ["calibrate"],
    ["seeds", "add", "SEED"],
])
def test_a_second_writer_says_so_and_writes_nothing(enriched_copy, command, tmp_path):
    db, config = enriched_copy
    article = open_db(db).execute("select id from articles limit 1").fetchone()[0]
    seed = tmp_path / "seed.md"
    seed.write_text("---\nheadline: A seed\n---\nSome words about a ban. " * 20)
    args = [article if a == "ARTICLE" else str(seed) if a == "SEED" else a for a in command]
    before = counts(db)
    with RunLock(db):
        proc = run_cli(*args, "--config", str(config), "--db", str(db), check=False)
    assert proc.returncode == 0, proc.stderr
    assert "another frwatch run is in progress" in proc.stderr
    assert counts(db) == before


def test_wait_lets_a_writer_run_after_the_first(enriched_copy):
    db, config = enriched_copy
    article = open_db(db).execute("select id from articles limit 1").fetchone()[0]
    lock = RunLock(db).__enter__()
    releaser = threading.Timer(1.0, lambda: lock.__exit__(None, None, None))
    releaser.start()
    started = time.monotonic()
    proc = run_cli("label", article, "related", "--wait", "60", "--config", str(config),
                   "--db", str(db))
    assert proc.stdout.startswith(f"Labelled {article} related")
    assert time.monotonic() - started >= 1.0  # it did wait for the first writer
    assert counts(db)[0] == 1


def test_a_db_path_under_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    proc = run_cli("status", "--db", str(blocker / "frwatch.db"), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"frwatch: error: {blocker / 'frwatch.db'}: no database yet (run `frwatch crawl` first)"]
    proc = run_cli("enrich", "--db", str(blocker / "frwatch.db"), check=False)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert f"{blocker} is a file" in proc.stderr or "lock file" in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_a_read_only_directory_is_one_line(store, tmp_path):
    db, config, _ = store
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "frwatch.db"
    target.write_bytes(db.read_bytes())
    folder.chmod(0o555)
    try:
        for command in (["run"], ["enrich", "--no-progress"], ["status"]):
            proc = run_cli(*command, "--config", str(config), "--db", str(target), check=False)
            assert proc.returncode == 1
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
            assert "read-only" in proc.stderr or "lock file" in proc.stderr
    finally:
        folder.chmod(0o755)
