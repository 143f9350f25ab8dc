"""kill -9 in the middle of a crawl, an enrich and an alert run; readers throughout.

Each time the next run continues: nothing stored is lost or duplicated, and no alert
goes out twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from frwatch.db import article_id, open_db
from frwatch.localweb import LocalWeb
from tests.support.alerting import Webhook, with_alerts
from tests.support.crawl import Crawl, run_cli
from tests.support.paths import DEMO_WEB, REPO

LABELS = json.loads((DEMO_WEB / "labels.json").read_text(encoding="utf-8"))
ARTICLES = len({label["canonical"] for label in LABELS})


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "frwatch.cli", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # tables not created yet
    finally:
        conn.close()


def kill_when(proc: subprocess.Popen, ready, timeout: float = 120) -> list[psutil.Process]:
    """SIGKILL `proc` once `ready()`; returns the processes it had started by then."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"finished before the kill: {proc.communicate()}"
        assert time.monotonic() < deadline, "never reached the point to kill at"
        time.sleep(0.02)
    children = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return children


def survivors(children: list[psutil.Process], within: float = 5.0) -> list[psutil.Process]:
    """The processes of `children` still alive `within` seconds from now."""
    _, alive = psutil.wait_procs(children, timeout=within)
    return alive


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("pragma integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_kill_during_a_crawl(tmp_path):
    with LocalWeb.from_directory(DEMO_WEB, delay=0.25) as web:
        crawl = Crawl(web, tmp_path, (DEMO_WEB / "sources.yaml").read_text(),
                      config_dir=DEMO_WEB)
        proc = start("crawl", "--config", str(crawl.config), "--db", str(crawl.db_path))
        children = kill_when(
            proc, lambda: count(crawl.db_path, "select count(*) from articles") >= 5)
        # The forkserver and the extraction workers die with the crawl.
        assert len(children) >= 2, children
        assert not survivors(children), [c.cmdline() for c in survivors(children, 0)]
        stored_before = {r["url"].split("/", 3)[3] for r in crawl.rows("select url from articles")}
        assert 5 <= len(stored_before) < ARTICLES
        assert integrity(crawl.db_path) == "ok"
        web.delay = 0
        seen = len(web.requests)
        crawl.run()
        refetched = {r.path.lstrip("/") for r in web.requests[seen:]} & stored_before
    assert not refetched
    rows = crawl.rows("select canonical_url from articles")
    assert len(rows) == len({r["canonical_url"] for r in rows}) == ARTICLES
    runs = crawl.rows("select status from crawl_runs order by id")
    assert [r["status"] for r in runs] == ["interrupted", "finished"]


def test_kill_during_enrich(store):
    db, config, labels = store
    config.write_text(config.read_text().replace("enrich:", "enrich:\n  commit_every: 8"))
    proc = start("enrich", "--config", str(config), "--db", str(db), "--no-progress")
    kill_when(proc, lambda: count(db, "select count(*) from articles "
                                      "where enriched_at is not null") >= 16)
    assert integrity(db) == "ok"
    before = {r["id"]: r["cluster_id"] for r in open_db(db).query(
        "select id, cluster_id from articles where enriched_at is not null")}
    assert 16 <= len(before) < len(labels)
    run_cli("enrich", "--config", str(config), "--db", str(db), "--no-progress")
    conn = open_db(db)
    after = {r["id"]: r["cluster_id"] for r in conn.query("select id, cluster_id from articles")}
    assert {k: after[k] for k in before} == before  # cluster ids kept
    pending = conn.execute("select count(*) from articles where enriched_at is null")
    assert pending.fetchone()[0] == 0
    assert conn.execute("select count(*) from embeddings").fetchone()[0] == len(labels)
    sizes, related = conn.execute("select (select sum(size) from clusters), "
                                  "(select count(*) from articles where related = 1)").fetchone()
    assert sizes == related
    conn.close()


class SlowWebhook(Webhook):
    def __init__(self, pause: float):
        super().__init__()
        self.pause = pause

    def up(self):
        super().up()
        assert self.server is not None  # up() started it
        original = self.server.RequestHandlerClass.do_POST
        hook = self

        def slow(handler):
            time.sleep(hook.pause)
            original(handler)

        self.server.RequestHandlerClass.do_POST = slow


def test_kill_during_alerts_never_sends_twice(store):
    db, config, _ = store
    run_cli("enrich", "--config", str(config), "--db", str(db), "--no-progress")
    hook = SlowWebhook(pause=1.0)
    hook.up()
    # One message per story (no digest above a threshold), so that the kill lands
    # between two sends.
    with_alerts(config, [{"name": "hook", "apprise": f"json://127.0.0.1:{hook.port}/h",
                          "max_messages": 1000}])
    proc = start("alert", "--config", str(config), "--db", str(db), "--backfill")
    kill_when(proc, lambda: len(hook.posts) >= 2)
    hook.pause = 0
    run_cli("alert", "--config", str(config), "--db", str(db))
    hook.down()
    titles = [post["title"] for post in hook.posts]
    assert len(titles) == len(set(titles))  # nothing sent twice
    conn = open_db(db)
    rows = list(conn.query("select status, count(*) as n from alerts group by status"))
    statuses = {r["status"]: r["n"] for r in rows}
    related = conn.execute("select count(*) from articles where related = 1").fetchone()[0]
    conn.close()
    unknown = statuses.get("unknown", 0)
    assert unknown <= 1  # only the message in flight at the kill
    assert sum(statuses.values()) == related  # every related article has one row
    # Every message received is recorded as sent, except perhaps the one in flight.
    assert len(titles) in (statuses["sent"], statuses["sent"] + unknown)


def test_readers_never_see_a_locked_or_torn_store(tmp_path):
    problems: list[str] = []
    reads = [0]
    stop = threading.Event()

    def reader(db: Path) -> None:
        while not stop.is_set():
            if not db.exists():
                time.sleep(0.01)
                continue
            try:
                conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                for key, canonical, text in conn.execute(
                        "select id, canonical_url, text from articles"):
                    if key != article_id(canonical) or not text:
                        problems.append(f"torn row {key}")
                conn.execute("select count(*) from articles_fts where articles_fts match "
                             "'facial'").fetchone()
                conn.execute("select count(*) from clusters").fetchone()
                conn.close()
                reads[0] += 1
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    problems.append(str(exc))
            time.sleep(0.005)

    with LocalWeb.from_directory(DEMO_WEB, delay=0.02) as web:
        crawl = Crawl(web, tmp_path, (DEMO_WEB / "sources.yaml").read_text(),
                      config_dir=DEMO_WEB)
        threads = [threading.Thread(target=reader, args=(crawl.db_path,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        try:
            run_cli("run", "--config", str(crawl.config), "--db", str(crawl.db_path))
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    assert problems == []
    assert reads[0] > 20

