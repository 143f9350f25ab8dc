"""Soak test: the whole pipeline (`frwatch run`) against a generated web, in waves, with faults.

A seeded generator writes N article pages (about 5 % on facial-recognition policy) across
S news sites served from loopback (`frwatch.localweb.LocalWeb`, one address per site so
that per-domain concurrency applies per site). Each site lists its pages in an RSS feed,
a Google News sitemap (some through a sitemap index) or both. The crawl runs in waves:
each wave publishes new pages (the listings grow), lays faults over a few % of the new
pages (stalls past the crawl timeout, connection resets, 500s, 503s with Retry-After;
plus some that fail only on their first request), then runs `frwatch run` in a fresh
process, alerting a JSON webhook (per story, and a digest) and an Atom file. Faults of
wave k are healed before wave k+1. After the last wave a healing wave (no new pages, no
faults, listings unchanged) runs, and if articles are still missing, a further wave with
the listings re-stamped (same entries, new bytes).

Per wave: pages crawled per second (new articles / `crawl_runs.seconds`), enrichment
articles per second (from the run's "Enriched N articles in S s" line), peak RSS of the
`frwatch run` process tree, and the invariants: no published healthy page missing, no
duplicate rows, no article alerted twice, no stored article fetched again.

    python -m benchmarks.soak [--articles 10000] [--sites 20] [--waves 4]
    python -m benchmarks.soak --articles 2000 --sites 8 --waves 3    # quick: ~2 min

The default takes about 7 minutes on 2 cores. `--keep DIR` keeps the database, config and
each wave's log.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import psutil

from benchmarks import REPO
from benchmarks.soakweb import Page, Receiver, SoakWeb
from frwatch.config import relocate
from frwatch.localweb import Fault, LocalWeb
from frwatch.paths import DEMO_WEB as DEMO_DIR
from frwatch.urls import canonicalize

TIMEOUT = 5.0                         # crawl.timeout_seconds
STALL = TIMEOUT + 3.0                 # a stalled page answers after the crawler gave up
URL = re.compile(r"http://127\.\d+\.\d+\.\d+:\d+/[^\s)\]>\"'<]+")


def _quiet_handle_error(self: ThreadingHTTPServer, request: Any, client_address: Any) -> None:
    """LocalWeb's servers: a client that hung up (a stalled or reset page) is expected;
    anything else is printed as usual."""
    if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
        ThreadingHTTPServer.handle_error(self, request, client_address)


# --- the frwatch run process -------------------------------------------------------------------
@dataclass
class Peak:
    tree: int = 0          # summed RSS of the process and its children
    main: int = 0          # the `frwatch run` process alone
    processes: int = 0


def sample_rss(proc: subprocess.Popen, peak: Peak, interval: float = 0.05) -> None:
    try:
        parent = psutil.Process(proc.pid)
    except psutil.Error:
        return
    while proc.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            rss = []
            for p in tree:
                with contextlib.suppress(psutil.Error):
                    rss.append(p.memory_info().rss)
            peak.tree = max(peak.tree, sum(rss))
            peak.main = max(peak.main, parent.memory_info().rss)
            peak.processes = max(peak.processes, len(tree))
        except psutil.Error:
            pass
        time.sleep(interval)


@dataclass
class Wave:
    name: str
    published: int = 0                      # new pages this wave
    faulty: Counter = field(default_factory=Counter)   # kind -> pages
    transient: int = 0
    returncode: int = 0
    wall: float = 0.0
    crawl_seconds: float = 0.0
    active_seconds: float = 0.0             # crawl start to the last article stored
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after
    stored_new: int = 0
    requests: int = 0
    failures: Counter = field(default_factory=Counter)
    enriched: int = 0
    enrich_seconds: float = 0.0
    peak: Peak = field(default_factory=Peak)
    missing: int = 0                        # healthy published pages not stored
    missing_examples: list[str] = field(default_factory=list)
    transient_stored: int = 0
    refetched: int = 0                      # stored articles requested again
    posts: int = 0
    alerted_urls: int = 0
    related_new: int = 0
    not_modified: int = 0                   # listings answered 304
    listings: int = 0
    stdout: str = ""
    stderr_tail: str = ""

    @property
    def crawl_rate(self) -> float:
        return self.stored_new / self.crawl_seconds if self.crawl_seconds else 0.0

    @property
    def active_rate(self) -> float:
        return self.stored_new / self.active_seconds if self.active_seconds else 0.0

    @property
    def enrich_rate(self) -> float:
        return self.enriched / self.enrich_seconds if self.enrich_seconds else 0.0


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.rng = random.Random(args.seed + 7)
        self.web = SoakWeb(args.sites, seed=args.seed)
        if args.one_host:
            self.servers = [LocalWeb(self.web.content)]
        else:
            self.servers = [LocalWeb({name: site}, host=f"127.0.0.{i + 2}")
                            for i, (name, site) in enumerate(self.web.content.items())]
        self.receiver = Receiver()
        self.db = workdir / "soak.db"
        self.config = workdir / "soak.yaml"
        self.atom = workdir / "related.atom"
        self.waves: list[Wave] = []
        self.origin: dict[str, str] = {}
        self.persistent: set[tuple[str, str]] = set()   # (site, path) failing this wave
        self.transient: set[tuple[str, str]] = set()

    # --- setup --------------------------------------------------------------------------
    def start(self) -> None:
        for server in self.servers:
            server.start()
            self.origin.update(server.origins)
            for http in server._servers:
                http.handle_error = _quiet_handle_error.__get__(http)  # type: ignore[method-assign]
        text = relocate(
            (DEMO_DIR / "sources.yaml").read_text(encoding="utf-8"), DEMO_DIR,
            sources=self.web.sources(),
            crawl={"max_age_days": 100000, "delay_seconds": 0, "concurrency_per_domain": 4,
                   "allow_private_addresses": True, "timeout_seconds": TIMEOUT},
            alerts=[{"name": "hook", "mode": "story", "apprise": self.receiver.url("/story"),
                     "max_messages": 1000},  # a message per story: counted below
                    {"name": "digest", "mode": "digest",
                     "apprise": self.receiver.url("/digest")},
                    {"name": "atom", "atom": str(self.atom), "max_entries": 200}])
        for server in self.servers:
            text = server.rewrite(text)
        self.config.write_text(text, encoding="utf-8")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.receiver.stop()

    def url(self, page: Page) -> str:
        return canonicalize(self.origin[page.site] + page.path)

    # --- faults -------------------------------------------------------------------------
    def inject(self, new: list[Page], wave: Wave) -> None:
        """Persistent faults (all wave long) on `--fault-rate` of the new pages, spread over
        a couple of sites per kind; transient ones (first request only) on 1 %."""
        by_site: dict[str, list[Page]] = {}
        for page in new:
            by_site.setdefault(page.site, []).append(page)
        names = list(by_site)
        total = round(self.args.fault_rate * len(new))
        kinds = {
            "stall": (0.15, Fault(delay=STALL, body=b"<html>too late</html>")),
            "reset": (0.25, Fault(reset=True)),
            "500": (0.30, Fault(status=500, body=b"<h1>Internal Server Error</h1>")),
            "503+Retry-After": (0.30, Fault(status=503, body=b"<h1>Busy</h1>", headers={
                "Retry-After": str(self.args.retry_after)})),
        }
        taken: set[str] = set()

        def pick(count: int, sites: int) -> list[Page]:
            chosen_sites = self.rng.sample(names, min(sites, len(names)))
            pool = [p for s in chosen_sites for p in by_site[s] if p.path not in taken]
            self.rng.shuffle(pool)
            return pool[:count]

        for kind, (share, fault) in kinds.items():
            for page in pick(max(1, round(total * share)), 2):
                taken.add(page.path)
                self.web.content[page.site].faults[page.path] = fault
                self.persistent.add((page.site, page.path))
                wave.faulty[kind] += 1
        transient = [Fault(status=503, body=b"<h1>Busy</h1>", headers={"Retry-After": "1"}),
                     Fault(reset=True)]
        for i, page in enumerate(pick(max(1, round(0.01 * len(new))), 3)):
            taken.add(page.path)
            self.web.content[page.site].transient[page.path] = [transient[i % 2], 1]
            self.transient.add((page.site, page.path))
            wave.transient += 1

    def heal(self) -> None:
        for site in self.web.content.values():
            site.faults.clear()
            site.transient.clear()
        self.persistent.clear()
        self.transient.clear()

    # --- one wave -----------------------------------------------------------------------
    def run_wave(self, name: str, count: int, backfill: bool = False, faults: bool = True,
                 restamp: bool = False) -> Wave:
        wave = Wave(name)
        stored_before = self.stored_urls()
        new: list[Page] = []
        if count:
            new = self.web.publish(len(self.waves) + 1, count)
            wave.published = len(new)
            if faults:
                self.inject(new, wave)
        if restamp:
            built = self.web.start + timedelta(days=10 * (len(self.waves) + 1))
            self.web.rebuild_listings(built, stamp=f"re-stamped for wave {name}")
        hits_before = {s: Counter(site.hits) for s, site in self.web.content.items()}
        posts_before = len(self.receiver.posts)
        args = [sys.executable, "-m", "frwatch.cli", "run", "--config", str(self.config),
                "--db", str(self.db)] + (["--backfill"] if backfill else [])
        log = self.workdir / f"wave-{name}.log"
        started = time.perf_counter()
        load_before = os.getloadavg()[0]
        with log.open("w") as stderr:
            proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr,
                                    text=True)
            sampler = threading.Thread(target=sample_rss, args=(proc, wave.peak), daemon=True)
            sampler.start()
            wave.stdout, _ = proc.communicate()
            sampler.join()
        wave.wall = time.perf_counter() - started
        wave.load = (load_before, os.getloadavg()[0])
        wave.returncode = proc.returncode
        if proc.returncode:
            wave.stderr_tail = log.read_text(errors="replace")[-3000:]
        found = re.search(r"Enriched (\d+) articles in ([\d.]+) s", wave.stdout)
        if found:
            wave.enriched, wave.enrich_seconds = int(found.group(1)), float(found.group(2))
        self.measure(wave, stored_before, hits_before, posts_before)
        self.waves.append(wave)
        self.heal()
        return wave

    def stored_urls(self) -> set[str]:
        if not self.db.exists():
            return set()
        with self.connect() as conn:
            return {r[0] for r in conn.execute("select canonical_url from articles")}

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)

    def measure(self, wave: Wave, stored_before: set[str], hits_before: dict,
                posts_before: int) -> None:
        with self.connect() as conn:
            run = conn.execute("select id, seconds, articles_new, requests, started "
                               "from crawl_runs order by id desc limit 1").fetchone()
            if run:
                run_id, wave.crawl_seconds, wave.stored_new, wave.requests = (
                    run[0], run[1] or 0.0, run[2] or 0, run[3] or 0)
                last = conn.execute("select max(first_seen) from articles where first_seen "
                                    ">= ?", [run[4]]).fetchone()[0]
                if last:
                    # Timestamps are to the second: count the last second in.
                    wave.active_seconds = (datetime.fromisoformat(last)
                                           - datetime.fromisoformat(run[4])).total_seconds() + 1
                wave.failures = Counter(dict(conn.execute(
                    "select reason, count(*) from failures where run_id = ? group by reason",
                    [run_id]).fetchall()))
            wave.not_modified, wave.listings = conn.execute(
                "select sum(last_status = 304), count(*) from feed_state").fetchone()
            stored = {r[0] for r in conn.execute("select canonical_url from articles")}
            related = {r[0] for r in conn.execute(
                "select canonical_url from articles where related = 1")}
        related_before: set[str] = getattr(self, "_related_before", set())
        wave.related_new = len(related - related_before)
        self._related_before = related
        bad = self.persistent
        missing = [self.url(p) for p in self.web.pages
                   if (p.site, p.path) not in bad and self.url(p) not in stored]
        wave.missing = len(missing)
        wave.missing_examples = missing[:3]
        wave.transient_stored = sum(1 for p in self.web.pages if (p.site, p.path) in
                                    self.transient and self.url(p) in stored)
        refetched = 0
        for p in self.web.pages:
            if self.url(p) in stored_before:
                site = self.web.content[p.site]
                refetched += site.hits[p.path] > hits_before[p.site][p.path]
        wave.refetched = refetched
        new_posts = self.receiver.posts[posts_before:]
        wave.posts = len(new_posts)
        wave.alerted_urls = len({u for path, post in new_posts if path == "/story"
                                 for u in URL.findall(post.get("message", ""))})

    # --- invariants over the whole soak --------------------------------------------------
    def invariants(self) -> dict:
        with self.connect() as conn:
            q = lambda sql, *a: conn.execute(sql, a).fetchone()[0]  # noqa: E731
            out = {
                "rows": q("select count(*) from articles"),
                "duplicate_canonical": q("select count(*) from (select canonical_url from "
                                         "articles group by canonical_url having count(*) > 1)"),
                "duplicate_url": q("select count(*) from (select url from articles "
                                   "group by url having count(*) > 1)"),
                "related": q("select count(*) from articles where related = 1"),
                "reprints": q("select count(*) from articles where duplicate_of is not null"),
                "not_enriched": q("select count(*) from articles where enriched_at is null"),
                "no_text": q("select count(*) from articles where enrich_note is not null"),
                "clusters": q("select count(*) from clusters"),
                "largest_cluster": conn.execute(
                    "select size, first_seen, last_seen from clusters order by size desc "
                    "limit 1").fetchone() or (0, "-", "-"),
                "alert_rows": dict(conn.execute(
                    "select channel || ':' || status, count(*) from alerts group by 1")),
                "alert_pk_dups": q("select count(*) from (select article_id, channel from "
                                   "alerts group by 1, 2 having count(*) > 1)"),
            }
            stored = {r[0] for r in conn.execute("select canonical_url from articles")}
            to_alert = {r[0] for r in conn.execute(
                "select url from articles where related = 1 and duplicate_of is null")}
            fr_related = {r[0] for r in conn.execute(
                "select canonical_url from articles where related = 1")}
            dates = conn.execute("select count(*) from articles where published is null"
                                 ).fetchone()[0]
        published = {self.url(p): p for p in self.web.pages}
        out["published"] = len(published)
        out["lost"] = sorted(set(published) - stored)
        out["unexpected_rows"] = len(stored - set(published))
        out["no_date"] = dates
        fr = {u for u, p in published.items() if p.topic == "fr"}
        out["fr_pages"] = len(fr)
        out["fr_related"] = len(fr & fr_related)
        out["other_related"] = len(fr_related - fr)
        story: Counter[str] = Counter()
        story_posts_multi = 0
        digest: Counter[str] = Counter()
        for path, post in self.receiver.posts:
            urls = set(URL.findall(post.get("message", "")))
            if path == "/story":
                story.update(urls)
                story_posts_multi += len(urls) != 1
            else:
                digest.update(urls)
        out["story_posts"] = sum(1 for path, _ in self.receiver.posts if path == "/story")
        out["digest_posts"] = sum(1 for path, _ in self.receiver.posts if path == "/digest")
        out["story_dups"] = sum(1 for n in story.values() if n > 1)
        out["digest_dups"] = sum(1 for n in digest.values() if n > 1)
        out["story_posts_not_one_url"] = story_posts_multi
        canon_alerted = {canonicalize(u) for u in story}
        out["never_alerted"] = len({canonicalize(u) for u in to_alert} - canon_alerted)
        out["digest_missing"] = len({canonicalize(u) for u in to_alert}
                                    - {canonicalize(u) for u in digest})
        feed = feedparser.parse(self.atom) if self.atom.exists() else None
        out["atom_entries"] = len(feed.entries) if feed is not None else 0
        out["atom_ok"] = feed is not None and not feed.bozo and len(
            {e.id for e in feed.entries}) == len(feed.entries)
        return out


# --- reporting ----------------------------------------------------------------------------------
MiB = 2**20


def wave_line(w: Wave) -> str:
    faults = ", ".join(f"{n} {k}" for k, n in w.faulty.items()) or "none"
    fails = ", ".join(f"{n}× {r}" for r, n in w.failures.most_common(4)) or "none"
    return (f"wave {w.name}: published {w.published} new (faults: {faults}; "
            f"{w.transient} transient) | crawl {w.stored_new} new in {w.crawl_seconds:.1f} s "
            f"= {w.crawl_rate:.1f} pages/s ({w.active_rate:.1f} to the last stored, "
            f"{w.active_seconds:.0f} s), {w.requests} requests | enrich {w.enriched} in "
            f"{w.enrich_seconds:.1f} s = {w.enrich_rate:.1f} art/s | run {w.wall:.0f} s, "
            f"exit {w.returncode}, load {w.load[0]:.1f}→{w.load[1]:.1f} | peak RSS tree "
            f"{w.peak.tree / MiB:.0f} MiB (main "
            f"{w.peak.main / MiB:.0f}, {w.peak.processes} procs)\n"
            f"    missing healthy pages {w.missing}, transient stored {w.transient_stored}/"
            f"{w.transient}, stored articles re-fetched {w.refetched}, listings 304 "
            f"{w.not_modified or 0}/{w.listings} | related +{w.related_new}, webhook POSTs "
            f"{w.posts} ({w.alerted_urls} story URLs) | failures: {fails}")


def summary(soak: Soak, inv: dict, command: str, elapsed: float) -> str:
    waves = soak.waves
    rows = ["| wave | new pages | faulty / transient | stored new | crawl s | pages/s | "
            "pages/s to last stored | enriched | enrich s | art/s | peak RSS (tree) | "
            "missing | POSTs |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for w in waves:
        rows.append(f"| {w.name} | {w.published} | {sum(w.faulty.values())} / {w.transient} | "
                    f"{w.stored_new} | {w.crawl_seconds:.1f} | {w.crawl_rate:.1f} | "
                    f"{w.active_rate:.1f} | "
                    f"{w.enriched} | {w.enrich_seconds:.1f} | {w.enrich_rate:.1f} | "
                    f"{w.peak.tree / MiB:.0f} MiB | {w.missing} | {w.posts} |")
    stored = sum(w.stored_new for w in waves)
    crawl_s = sum(w.crawl_seconds for w in waves)
    active_s = sum(w.active_seconds for w in waves)
    enriched = sum(w.enriched for w in waves)
    enrich_s = sum(w.enrich_seconds for w in waves)
    main = [w for w in waves if w.published]
    peaks = [w.peak.tree / MiB for w in waves]
    growth = (peaks[len(main) - 1] - peaks[0]) / peaks[0] * 100 if peaks and peaks[0] else 0
    ok = lambda v: "ok" if not v else "FAIL"  # noqa: E731
    lost = len(inv["lost"])
    lines = [
        f"Soak: {inv['published']} article pages on {len(soak.web.sites)} sites, "
        f"{len(main)} publishing waves + {len(waves) - len(main)} healing, "
        f"{elapsed / 60:.1f} min in all",
        "",
        *rows,
        "",
        f"Overall: crawl {stored} articles in {crawl_s:.0f} s = {stored / crawl_s:.1f} pages/s "
        f"({stored / active_s:.1f} pages/s to the last article stored of each wave, "
        f"{active_s:.0f} s; the rest is waiting out retries of faulty pages); "
        f"enrich {enriched} in {enrich_s:.0f} s = {enriched / enrich_s:.1f} articles/s; "
        f"peak RSS per wave {min(peaks):.0f}–{max(peaks):.0f} MiB "
        f"(last publishing wave vs first: {growth:+.0f} %).",
        f"Store: {inv['rows']} articles, {inv['related']} related "
        f"({inv['fr_related']}/{inv['fr_pages']} facial-recognition pages, "
        f"{inv['other_related']} others), {inv['reprints']} reprints linked, "
        f"{inv['clusters']} clusters (largest {inv['largest_cluster'][0]} articles, "
        f"{inv['largest_cluster'][1]} to {inv['largest_cluster'][2]}), "
        f"{inv['not_enriched']} not enriched, "
        f"{inv['no_text']} without text, {inv['no_date']} without date.",
        "Invariants:",
        f"  articles lost (published, healthy, not stored): {lost} [{ok(lost)}]",
        f"  duplicate rows (canonical_url with > 1 row): {inv['duplicate_canonical']} "
        f"[{ok(inv['duplicate_canonical'])}]; rows for no published page: "
        f"{inv['unexpected_rows']} [{ok(inv['unexpected_rows'])}]",
        f"  duplicate alerts (URL POSTed twice): story {inv['story_dups']} "
        f"[{ok(inv['story_dups'])}], digest {inv['digest_dups']} [{ok(inv['digest_dups'])}]; "
        f"alerts rows (article, channel) repeated: {inv['alert_pk_dups']}",
        f"  related originals never alerted: story {inv['never_alerted']} "
        f"[{ok(inv['never_alerted'])}], digest {inv['digest_missing']} "
        f"[{ok(inv['digest_missing'])}]; story POSTs {inv['story_posts']}, digest POSTs "
        f"{inv['digest_posts']}, Atom entries {inv['atom_entries']} "
        f"({'valid' if inv['atom_ok'] else 'INVALID'})",
        f"  stored articles fetched again: {sum(w.refetched for w in waves)} "
        f"[{ok(sum(w.refetched for w in waves))}]; runs that failed: "
        f"{sum(1 for w in waves if w.returncode)} [{ok(sum(1 for w in waves if w.returncode))}]",
        f"  alerts rows: {', '.join(f'{k} {v}' for k, v in sorted(inv['alert_rows'].items()))}",
        "",
        f"Machine: {os.cpu_count()} cores; 1-minute load average during the waves "
        f"{min(min(w.load) for w in waves):.1f}–{max(max(w.load) for w in waves):.1f}.",
        f"Command: {command}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--waves", type=int, default=4)
    parser.add_argument("--fault-rate", type=float, default=0.03,
                        help="share of each wave's new pages failing all wave long")
    parser.add_argument("--retry-after", type=int, default=10, metavar="SECONDS",
                        help="Retry-After of the failing 503s (frwatch waits for it, up to "
                             "FRWATCH_RETRY_BACKOFF_MAX, before each of its 2 retries)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one-host", action="store_true",
                        help="serve every site on 127.0.0.1 (one Scrapy download slot)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR and keep the database, config and logs")
    args = parser.parse_args()
    options = [f"--articles {args.articles}", f"--sites {args.sites}", f"--waves {args.waves}"]
    for name, default in (("fault_rate", 0.03), ("retry_after", 10), ("seed", 1)):
        if getattr(args, name) != default:
            options.append(f"--{name.replace('_', '-')} {getattr(args, name)}")
    if args.one_host:
        options.append("--one-host")
    command = "python -m benchmarks.soak " + " ".join(options)
    started = time.perf_counter()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for old in args.keep.glob("soak.db*"):
            old.unlink()
        workdir, cleanup = args.keep, None
    else:
        workdir = Path(tempfile.mkdtemp(prefix="frwatch-soak-"))
        cleanup = workdir
    soak = Soak(args, workdir)
    try:
        soak.start()
        print(f"{args.sites} sites ({', '.join(sorted({s.listing for s in soak.web.sites}))} "
              f"listings) on {len(soak.servers)} loopback address(es); work dir {workdir}",
              flush=True)
        per_wave = [args.articles // args.waves + (i < args.articles % args.waves)
                    for i in range(args.waves)]
        for i, count in enumerate(per_wave, start=1):
            wave = soak.run_wave(str(i), count, backfill=i == 1)
            print(wave_line(wave), flush=True)
        wave = soak.run_wave("heal", 0)
        print(wave_line(wave), flush=True)
        lost = soak.invariants()["lost"]
        if lost:
            print(f"  {len(lost)} pages still missing after the healing wave with the listings "
                  f"unchanged, e.g. {lost[0]}; one more wave with the listings re-stamped:",
                  flush=True)
            wave = soak.run_wave("restamp", 0, restamp=True)
            print(wave_line(wave), flush=True)
        inv = soak.invariants()
        print("\n" + "=" * 78)
        print(summary(soak, inv, command, time.perf_counter() - started))
        print("=" * 78)
        failed = [w for w in soak.waves if w.returncode]
        for w in failed:
            print(f"\nwave {w.name} exited {w.returncode}; stderr tail:\n{w.stderr_tail}")
        if inv["lost"]:
            print(f"\nlost, e.g.: {', '.join(inv['lost'][:5])}")
    finally:
        soak.stop()
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)


if __name__ == "__main__":
    main()
