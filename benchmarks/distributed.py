"""Distributed crawl: pages/s for 1, 2 and 4 workers on one Redis frontier (issue 15).

A generated web (benchmarks.soakweb: news sites with RSS feeds and news sitemaps, each
site on its own loopback address so that per-domain politeness applies per site) is
crawled by `frwatch ingest` plus N `frwatch crawl --frontier` workers, with the same
per-worker settings for every N (one request at a time per site, a download delay,
Scrapy's AutoThrottle), on three webs:

- **delayed**: every page answers after 150–300 ms, as a real site far away does; fetching,
  not CPU, is the bottleneck — the case that distribution is for;
- **plain**: pages answer at once, same settings: each worker is held by its own
  politeness, so workers still add up until the cores run out;
- **plain-unthrottled**: pages at once, politeness off (no delay, 8 requests per site):
  extraction (CPU) is the bottleneck and the machine's cores cap it, however many
  workers there are.

The workers are started first and wait for a run, as long-lived workers do; the clock
starts when the writer opens the run. pages/s = articles stored / seconds from then to the
last article stored; also from the first article stored to the last (without the
listings' round trips and each worker's extraction process starting).
The writer's rows/s is events applied per second of writing (not of waiting); "events
waiting" is the longest the results list got (sampled every 50 ms).

    python -m benchmarks.distributed [--articles 400] [--sites 4] [--workers 1 2 4]

Needs `redis-server` on the PATH and the distributed extra (scrapy-redis, redis).
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import REPO
from benchmarks.soakweb import SoakWeb
from frwatch.config import relocate
from frwatch.localweb import LocalWeb
from frwatch.paths import DEMO_WEB

DELAY = (0.15, 0.30)
CRAWL = {"max_age_days": 100000, "delay_seconds": 0.1, "concurrency_per_domain": 1,
         "allow_private_addresses": True}
# The third web: the plain one with politeness off, so that extraction (CPU) is the cap.
UNTHROTTLED = {**CRAWL, "delay_seconds": 0, "concurrency_per_domain": 8}
WEBS = {"delayed": CRAWL, "plain": CRAWL, "plain-unthrottled": UNTHROTTLED}
WORKER_SETTINGS = ["-s", "FRWATCH_EXTRACT_WORKERS=1"]
VERBOSE = False


class Delayed(dict):
    """A site's pages (path -> (content_type, body)), each answered after a random
    150–300 ms; robots.txt at once."""

    def __init__(self, pages: dict, rng: random.Random):
        super().__init__(pages)
        self.rng = rng

    def __getitem__(self, path: str) -> Any:
        if path != "/robots.txt":
            time.sleep(self.rng.uniform(*DELAY))
        return super().__getitem__(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    server = shutil.which("redis-server")
    if server is None:
        sys.exit("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save",
                             "", "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def frwatch(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "frwatch.cli", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def one_run(config: Path, folder: Path, workers: int) -> dict[str, float]:
    """One distributed crawl of the served web into a fresh store; its figures."""
    import redis

    proc, url = start_redis(folder)
    client = redis.Redis.from_url(url, decode_responses=True)
    db = folder / "bench.db"
    try:
        # Workers first, as they run in production (long-lived, `--follow` or started
        # by a scheduler): each waits for a run; the clock starts when the writer opens it.
        crew = [frwatch("crawl", "--config", str(config), "--frontier", url,
                        *WORKER_SETTINGS) for _ in range(workers)]
        while client.scard("frwatch:workers") < workers:
            if any(w.poll() is not None for w in crew):
                raise SystemExit(f"a worker ended: {[w.communicate() for w in crew]}")
            time.sleep(0.05)
        writer = frwatch("ingest", "--config", str(config), "--db", str(db),
                         "--frontier", url)
        while client.hget("frwatch:run", "state") != "open":
            if writer.poll() is not None:
                raise SystemExit(f"ingest ended: {writer.communicate()}")
            time.sleep(0.01)
        started = time.monotonic()
        stored, first, last, backlog = 0, 0.0, started, 0
        while any(w.poll() is None for w in crew) or writer.poll() is None:
            now_stored = int(client.hget("frwatch:counts", "articles_new") or 0) \
                if writer.poll() is None else stored
            backlog = max(backlog, client.llen("frwatch:results"))
            if now_stored != stored:
                stored, last = now_stored, time.monotonic()
                first = first or last
            time.sleep(0.05)
        for w in crew:
            out, err = w.communicate()
            if w.returncode:
                raise SystemExit(f"worker exited {w.returncode}: {err[-500:]}")
            if VERBOSE:
                print("   ", out.strip(), err[-2000:])
        out, err = writer.communicate()
        if writer.returncode:
            raise SystemExit(f"ingest exited {writer.returncode}: {err[-500:]}")
        rate = re.search(r"\(([\d.]+) rows/s\)", out)
        return {"stored": stored, "seconds": last - started,
                "pages_per_s": stored / (last - started) if last > started else 0.0,
                "steady_pages_per_s": (stored - 1) / (last - first) if last > first else 0.0,
                "startup_s": first - started,
                "most_waiting": backlog,
                "writer_rows_per_s": float(rate.group(1)) if rate else 0.0}
    finally:
        proc.kill()
        proc.wait()


def serve(web: SoakWeb, delayed: bool) -> list[LocalWeb]:
    rng = random.Random(5)
    servers = []
    for i, (name, site) in enumerate(web.content.items()):
        pages = Delayed(dict(site), rng) if delayed else dict(site)
        servers.append(LocalWeb({name: pages}, host=f"127.0.0.{i + 2}").start())
    return servers


def write_config(web: SoakWeb, servers: list[LocalWeb], path: Path, crawl: dict) -> None:
    text = relocate((DEMO_WEB / "sources.yaml").read_text(encoding="utf-8"), DEMO_WEB,
                    sources=web.sources(), crawl=crawl)
    for server in servers:
        text = server.rewrite(text)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--web", choices=[*WEBS, "all"], default="all")
    args = parser.parse_args()
    web = SoakWeb(args.sites, seed=3)
    web.publish(1, args.articles)
    kinds = list(WEBS) if args.web == "all" else [args.web]
    results: dict[str, dict[int, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="frwatch-distributed-") as tmp:
        for kind in kinds:
            servers = serve(web, delayed=kind == "delayed")
            try:
                config = Path(tmp) / f"{kind}.yaml"
                write_config(web, servers, config, WEBS[kind])
                for n in args.workers:
                    folder = Path(tmp) / f"{kind}-{n}"
                    folder.mkdir()
                    results.setdefault(kind, {})[n] = figures = one_run(config, folder, n)
                    print(f"{kind:17} {n} worker(s): {figures['stored']:.0f} articles in "
                          f"{figures['seconds']:.1f} s = {figures['pages_per_s']:.1f} pages/s "
                          f"({figures['steady_pages_per_s']:.1f} pages/s from the first "
                          f"article, {figures['startup_s']:.1f} s to it); writer "
                          f"{figures['writer_rows_per_s']:.0f} rows/s, at most "
                          f"{figures['most_waiting']:.0f} events waiting for it", flush=True)
            finally:
                for server in servers:
                    server.stop()
    for kind, runs in results.items():
        one = runs.get(1, {}).get("pages_per_s")
        if one:
            steady = runs[1]["steady_pages_per_s"] or 1.0
            speedups = ", ".join(
                f"{n} workers {r['pages_per_s'] / one:.2f}x "
                f"({r['steady_pages_per_s'] / steady:.2f}x from the first article)"
                for n, r in runs.items() if n != 1)
            print(f"{kind}: speed-up over one worker: {speedups}")


if __name__ == "__main__":
    main()
