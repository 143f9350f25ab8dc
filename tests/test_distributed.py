"""A distributed crawl (issue 15): workers on a shared Redis frontier, one store writer.

Every test starts its own `redis-server` on a free loopback port (tests/support/redis.py)
and crawls the demo web over real HTTP on 127.0.0.1 with `frwatch ingest` and several
`frwatch crawl --frontier` processes into a real SQLite file.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from frwatch.localweb import LocalWeb
from tests.support.crawl import Crawl, run_cli
from tests.support.paths import DEMO_WEB, REPO
from tests.support.redis import REDIS_SERVER, RedisServer, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed "
                       "(Debian: apt-get install redis-server; .ci/run does)"),
]
pytest.importorskip("scrapy_redis", reason="the distributed extra is not installed")

LABELS = json.loads((DEMO_WEB / "labels.json").read_text(encoding="utf-8"))
# Small per-worker settings, so that the work spreads over the workers and 2 cores.
WORKER_SETTINGS = ("-s", "CONCURRENT_REQUESTS=2", "-s", "FRWATCH_EXTRACT_WORKERS=1")


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def demo_crawl(web: LocalWeb, folder: Path, extra: str = "") -> Crawl:
    text = (DEMO_WEB / "sources.yaml").read_text(encoding="utf-8") + extra
    return Crawl(web, folder, text, config_dir=DEMO_WEB)


STARTED: list[subprocess.Popen] = []


def frwatch(*args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "frwatch.cli", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    STARTED.append(proc)
    return proc


@pytest.fixture(autouse=True)
def no_process_left():
    """A failed test leaves no worker or writer running."""
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def ingest(crawl: Crawl, redis: RedisServer, *extra: str) -> subprocess.Popen:
    return frwatch("ingest", "--config", str(crawl.config), "--db", str(crawl.db_path),
                   "--frontier", redis.url, *extra)


def workers(crawl: Crawl, redis: RedisServer, n: int) -> list[subprocess.Popen]:
    return [frwatch("crawl", "--config", str(crawl.config), "--frontier", redis.url,
                    *WORKER_SETTINGS) for _ in range(n)]


def finish(proc: subprocess.Popen, ok: bool = True) -> tuple[str, str]:
    out, err = proc.communicate(timeout=180)
    if ok:
        assert proc.returncode == 0, f"exit {proc.returncode}:\n{out}\n{err}"
    return out, err


def wait_until(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def run_open(redis: RedisServer) -> bool:
    return redis.client().hget("frwatch:run", "state") == "open"


def distributed_run(crawl: Crawl, redis: RedisServer, n: int) -> str:
    """One whole run: the writer, then n workers; the writer's output, then each
    worker's ("Worker done: N requests, M articles sent, F failures.")."""
    writer = ingest(crawl, redis)
    wait_until(lambda: run_open(redis))
    said = [finish(worker)[0] for worker in workers(crawl, redis, n)]
    return "\n".join([finish(writer)[0], *said])


def articles_sent(out: str) -> list[int]:
    return [int(n) for n in re.findall(r"Worker done: \d+ requests, (\d+) articles", out)]


def stored_paths(crawl: Crawl) -> list[tuple[str, str]]:
    site_of = {origin.split("/")[2]: site for site, origin in crawl.web.origins.items()}
    return [(site_of[r["canonical_url"].split("/")[2]], _path(r["canonical_url"]))
            for r in crawl.rows("select canonical_url from articles")]


EXPECTED = {(label["site"], _path(label["canonical"])) for label in LABELS}


@pytest.fixture(scope="module")
def web():
    with LocalWeb.from_directory(DEMO_WEB) as served:
        yield served


@pytest.fixture(scope="module")
def single(web, tmp_path_factory):
    """The same web crawled in one process, for comparison."""
    crawl = demo_crawl(web, tmp_path_factory.mktemp("single"))
    crawl.run()
    return crawl


@pytest.fixture
def redis(tmp_path):
    with RedisServer(tmp_path / "redis") as server:
        yield server


ARTICLE_COLUMNS = "canonical_url, source, title, author, published, language, text"


@pytest.mark.parametrize("n", [2, 4])
def test_workers_store_every_article_once_as_one_process_does(web, single, redis,
                                                              tmp_path, n):
    crawl = demo_crawl(web, tmp_path, extra=f"db: {tmp_path / 'never.db'}\n")
    first = len(web.requests)
    out = distributed_run(crawl, redis, n)
    fetched = web.requests[first:]

    assert "finished" in out and "rows/s" in out
    sent = articles_sent(out)
    assert len(sent) == n and sum(1 for m in sent if m) >= 2  # the work was shared
    got = stored_paths(crawl)
    assert len(got) == len(set(got)) == len(EXPECTED) and set(got) == EXPECTED
    rows = crawl.rows(f"select {ARTICLE_COLUMNS} from articles order by canonical_url")
    assert rows == single.rows(f"select {ARTICLE_COLUMNS} from articles "
                               "order by canonical_url")
    states = "select url, last_status, etag, last_modified, entries from feed_state " \
             "order by url"
    assert crawl.rows(states) == single.rows(states)
    assert crawl.rows("select status from crawl_runs") == [{"status": "finished"}]
    assert not crawl.rows("select * from failures")

    # One fetch per URL across all workers; robots.txt is each worker's own.
    pages = Counter((r.site, r.path) for r in fetched if r.path != "/robots.txt")
    assert pages and max(pages.values()) == 1
    robots = Counter(r.site for r in fetched if r.path == "/robots.txt")
    assert max(robots.values()) <= n
    # Every worker honours robots.txt: the linked /private/ drafts are never asked for.
    assert not [r for r in fetched if r.path.startswith("/private/")]
    linked = (DEMO_WEB / "techledger" / "policy" / "index.html").read_text(encoding="utf-8")
    assert "/private/" in linked
    # A worker never opens SQLite: not the config's `db` either.
    assert not (tmp_path / "never.db").exists()


def test_every_worker_runs_the_address_guard(web, redis, tmp_path):
    crawl = demo_crawl(web, tmp_path)
    crawl.config.write_text(crawl.config.read_text(encoding="utf-8").replace(
        "allow_private_addresses: true", "allow_private_addresses: false"), encoding="utf-8")
    first = len(web.requests)
    distributed_run(crawl, redis, 2)
    assert web.requests[first:] == []
    reasons = {r["reason"] for r in crawl.rows("select reason from failures")}
    assert reasons and all("private" in reason for reason in reasons)


def test_the_frontier_spider_is_a_worker_for_scrapyd(web, redis, tmp_path):
    """Scrapyd runs a spider by name with settings: `frontier` and FRWATCH_FRONTIER."""
    import os

    crawl = demo_crawl(web, tmp_path)
    writer = ingest(crawl, redis)
    wait_until(lambda: run_open(redis))
    worker = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "frontier", "-s",
         f"FRWATCH_FRONTIER={redis.url}", "-s", "LOG_LEVEL=WARNING"], cwd=REPO,
        env={**os.environ, "FRWATCH_CONFIG": str(crawl.config)},
        capture_output=True, text=True, timeout=180)
    assert worker.returncode == 0, worker.stderr
    finish(writer)
    got = stored_paths(crawl)
    assert len(got) == len(set(got)) and set(got) == EXPECTED


def test_a_paused_frontier_hands_out_nothing_until_resumed(web, redis, tmp_path):
    crawl = demo_crawl(web, tmp_path)
    client = redis.client()
    paused = run_cli("frontier", "pause", "--frontier", redis.url).stdout
    assert "paused;" in paused and client.exists("frwatch:paused")
    assert "already paused" in run_cli("frontier", "pause", "--frontier", redis.url).stdout
    first = len(web.requests)
    writer = ingest(crawl, redis)
    wait_until(lambda: run_open(redis))
    (worker,) = workers(crawl, redis, 1)
    # The worker took listings into the queue, and leaves them there while paused.
    wait_until(lambda: client.zcard("frwatch:requests") > 0)
    time.sleep(2)
    assert web.requests[first:] == []
    assert worker.poll() is None and writer.poll() is None
    status = run_cli("frontier", "status", "--frontier", redis.url).stdout
    assert re.search(r"run #\d+ open .*; PAUSED since", status), status
    assert re.search(r"[1-9]\d* requests queued", status), status
    assert "workers this run: 1 (" in status, status
    assert "resumed" in run_cli("frontier", "resume", "--frontier", redis.url).stdout
    finish(worker)
    finish(writer)
    got = stored_paths(crawl)
    assert len(got) == len(set(got)) and set(got) == EXPECTED


def _busy_worker(redis: RedisServer) -> int | None:
    client = redis.client()
    for worker in client.smembers("frwatch:workers"):
        if client.get(f"frwatch:worker:{worker}") == "busy":
            return int(worker.split(":")[1])
    return None


def test_a_killed_worker_loses_nothing_after_the_next_run(redis, tmp_path):
    with LocalWeb.from_directory(DEMO_WEB, delay=0.3) as slow:
        crawl = demo_crawl(slow, tmp_path)
        writer = ingest(crawl, redis)
        wait_until(lambda: run_open(redis))
        crew = workers(crawl, redis, 2)
        wait_until(lambda: redis.client().scard("frwatch:known") >= 3
                   and _busy_worker(redis) is not None)
        victim = next(w for w in crew if w.pid == _busy_worker(redis))
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        for worker in crew:
            if worker is not victim:
                finish(worker)  # the others finish the run
        out = finish(writer)[0]
        assert "died before they ended" in out
        assert crawl.rows("select status from crawl_runs") == [{"status": "worker_lost"}]
        # No validators kept: the next run reads every listing in full.
        assert not crawl.rows("select 1 from feed_state where etag is not null "
                              "or last_modified is not null")

        distributed_run(crawl, redis, 1)
        got = stored_paths(crawl)
        assert len(got) == len(set(got)) and set(got) == EXPECTED
        assert crawl.rows("select status from crawl_runs order by id")[-1] == \
            {"status": "finished"}


def test_a_killed_writer_restarted_loses_and_duplicates_nothing(redis, tmp_path):
    with LocalWeb.from_directory(DEMO_WEB, delay=0.2) as slow:
        crawl = demo_crawl(slow, tmp_path)
        writer = ingest(crawl, redis)
        wait_until(lambda: run_open(redis))
        crew = workers(crawl, redis, 2)
        wait_until(lambda: int(redis.client().hget("frwatch:counts", "articles_new")
                               or 0) >= 3)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        restarted = ingest(crawl, redis)
        for worker in crew:
            finish(worker)
        out = finish(restarted)[0]
    assert "Resumed crawl #1" in out
    got = stored_paths(crawl)
    assert len(got) == len(set(got)) and set(got) == EXPECTED
    assert crawl.rows("select id, status from crawl_runs") == [{"id": 1, "status": "finished"}]
    failures = crawl.rows("select url, kind, reason from failures")
    assert len(failures) == len({tuple(f.values()) for f in failures})
    assert redis.client().llen("frwatch:processing") == 0


def test_redis_down_at_start_is_one_line(web, tmp_path):
    crawl = demo_crawl(web, tmp_path)
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    for args in (["crawl", "--config", str(crawl.config), "--frontier", nowhere],
                 ["ingest", "--config", str(crawl.config), "--db", str(crawl.db_path),
                  "--frontier", nowhere],
                 ["frontier", "status", "--frontier", nowhere],
                 ["frontier", "pause", "--frontier", nowhere]):
        proc = frwatch(*args)
        out, err = finish(proc, ok=False)
        assert proc.returncode == 1
        assert len(err.strip().splitlines()) == 1
        assert err.startswith(f"frwatch: error: cannot reach Redis at {nowhere}")


def test_redis_lost_mid_run_stops_everyone_with_one_line(tmp_path):
    with LocalWeb.from_directory(DEMO_WEB, delay=0.3) as slow:
        crawl = demo_crawl(slow, tmp_path)
        server = RedisServer(tmp_path / "redis").start()
        writer = ingest(crawl, server)
        wait_until(lambda: run_open(server))
        crew = workers(crawl, server, 2)
        wait_until(lambda: int(server.client().hget("frwatch:counts", "articles_new")
                               or 0) >= 3)
        server.stop()
        for proc in [*crew, writer]:
            _out, err = finish(proc, ok=False)
            assert proc.returncode == 1, err
            lines = err.strip().splitlines()
            assert len(lines) == 1, err
            assert lines[0].startswith(f"frwatch: error: lost Redis at {server.url}")
        db = sqlite3.connect(crawl.db_path)
        try:
            assert db.execute("pragma integrity_check").fetchone() == ("ok",)
        finally:
            db.close()
        assert crawl.rows("select status from crawl_runs") == [{"status": "frontier_lost"}]

        with RedisServer(tmp_path / "redis2") as again:
            distributed_run(crawl, again, 2)
        got = stored_paths(crawl)
        assert len(got) == len(set(got)) and set(got) == EXPECTED


def test_a_second_ingest_is_refused_with_one_line(web, redis, tmp_path):
    crawl = demo_crawl(web, tmp_path)
    first = ingest(crawl, redis)
    wait_until(lambda: run_open(redis))
    (tmp_path / "other").mkdir()
    other = demo_crawl(web, tmp_path / "other")
    second = frwatch("ingest", "--config", str(other.config), "--db", str(other.db_path),
                     "--frontier", redis.url)
    out, err = finish(second, ok=False)
    assert second.returncode == 1
    assert err.strip().splitlines() == [err.strip()]
    assert err.startswith("frwatch: error: another ingest is writing this frontier")
    first.terminate()  # no worker came: Ctrl-C ends the run, with what arrived
    finish(first)
    assert crawl.rows("select status from crawl_runs") == [{"status": "interrupted"}]
