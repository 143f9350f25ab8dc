"""Crawl + extract + store throughput on the 181 Zyte benchmark pages served locally.

Each run is a fresh `frwatch crawl` process into a fresh database; peak memory is the
largest summed RSS of that process and its extraction workers, sampled every 20 ms.

    python -m benchmarks.crawl [--runs 5] [--set NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trafilatura import bare_extraction
from trafilatura.settings import Document

from benchmarks import watch
from benchmarks.zyte import ZYTE_CONFIG, ground_truth, page_html, score, stored_bodies, zyte_site
from crawler.extract import extract_article
from frwatch.db import remove_store
from frwatch.localweb import LocalWeb


def crawl_once(web: LocalWeb, workdir: Path, overrides: list[str]) -> dict:
    config = workdir / "sources.yaml"
    config.write_text(web.rewrite(ZYTE_CONFIG), encoding="utf-8")
    db = workdir / "bench.db"
    remove_store(db)
    args = [sys.executable, "-m", "frwatch.cli", "crawl", "--config", str(config), "--db", str(db)]
    for item in overrides:
        args += ["-s", item]
    started = time.perf_counter()
    log = workdir / "crawl.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=stderr)
        peak, cpu = watch(proc)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed: {log.read_text()[-2000:]}")
    conn = sqlite3.connect(db)
    seconds, stored = conn.execute(
        "select seconds, (select count(*) from articles) from crawl_runs").fetchone()
    conn.close()
    return {"seconds": seconds, "wall": wall, "stored": stored, "peak_mb": peak / 2**20,
            "cpu": cpu, "db": db}


def extract_alone(fast: bool, plain: bool = True) -> tuple[float, float, float]:
    """Pages per second of one process extracting every page, its CPU seconds per page
    and the F1 of the text it found: trafilatura alone (plain, the issue's baseline:
    `bare_extraction` with frwatch's options and its metadata), or frwatch's
    `extract_article` (trafilatura plus page kind and headline choice)."""
    truth = ground_truth()
    pages = {key: page_html(key) for key in truth}
    texts: dict[str, str] = {}

    def extract(key: str, html: bytes) -> str:
        if plain:
            doc = bare_extraction(html, url=truth[key]["url"], fast=fast,
                                  include_comments=False, include_tables=True,
                                  with_metadata=True)
            # A Document or None (a dict only with as_dict=True).
            return (doc.text if isinstance(doc, Document) else None) or ""
        return extract_article(html, truth[key]["url"], fast=fast).get("text") or ""

    # Untimed first: lazy imports and compiled patterns (justext, readability when not
    # fast) would otherwise be charged to whichever mode is timed first.
    for key in list(pages)[:20]:
        extract(key, pages[key])
    started, cpu = time.perf_counter(), time.process_time()
    for key, html in pages.items():
        texts[key] = extract(key, html)
    rate = len(pages) / (time.perf_counter() - started)
    per_page = (time.process_time() - cpu) / len(pages)
    quality = score({key: page["articleBody"] for key, page in truth.items()}, texts)
    return rate, per_page, quality["f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="NAME=VALUE", help="a Scrapy setting for the crawls")
    parser.add_argument("--skip-alone", action="store_true",
                        help="skip timing trafilatura alone")
    args = parser.parse_args()
    truth = {key: page["articleBody"] for key, page in ground_truth().items()}
    pages = len(truth)
    print(f"{pages} pages, {sum(len(page_html(k)) for k in truth) / 2**20:.1f} MiB of HTML")
    fast = not any(item.replace(" ", "").lower() in ("frwatch_extract_fast=false",
                                                     "frwatch_extract_fast=0")
                   for item in args.overrides)
    alone: dict[bool, tuple[float, float, float]] = {}
    if not args.skip_alone:
        for mode in (False, True):
            alone[mode] = extract_alone(mode)
            ours = extract_alone(mode, plain=False)
            print(f"trafilatura alone, one process, fast={mode}: {alone[mode][0]:.1f} pages/s "
                  f"({alone[mode][1] * 1000:.1f} ms CPU a page, text F1 {alone[mode][2]:.3f}); "
                  f"frwatch extract_article: {ours[0]:.1f} pages/s ({ours[1] * 1000:.1f} ms, "
                  f"F1 {ours[2]:.3f})")
    results = []
    with LocalWeb({"zyte": zyte_site()}) as web, tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            result = crawl_once(web, Path(tmp), args.overrides)
            results.append(result)
            print(f"run {run}: {result['stored']} stored in {result['seconds']:.2f} s crawl "
                  f"({pages / result['seconds']:.1f} pages/s; {result['wall']:.2f} s with "
                  f"process start), peak RSS {result['peak_mb']:.0f} MiB")
        quality = score(truth, stored_bodies(results[-1]["db"]))
    rates = [pages / r["seconds"] for r in results]
    print(f"crawl+extract+store: median {statistics.median(rates):.1f} pages/s "
          f"(min {min(rates):.1f}, max {max(rates):.1f}) over {len(rates)} runs; "
          f"peak RSS max {max(r['peak_mb'] for r in results):.0f} MiB")
    cpu = statistics.median(r["cpu"] for r in results) / pages
    print(f"CPU a page, whole crawl process tree (start-up included): {cpu * 1000:.1f} ms")
    if alone:
        # Issue 12's baseline is trafilatura with its defaults (fast=False): its body F1
        # for "trafilatura alone" is the one "the fast mode costs". The same-setting
        # ratio says what the pipeline adds beside trafilatura's own work.
        crawl = statistics.median(rates)
        print(f"crawl / trafilatura alone with its defaults (fast=False): "
              f"{crawl / alone[False][0]:.2f}x; / trafilatura alone with the crawl's "
              f"setting (fast={fast}): {crawl / alone[fast][0]:.2f}x")
    print(f"extraction quality of the stored text: P {quality['precision']:.3f} "
          f"R {quality['recall']:.3f} F1 {quality['f1']:.3f}")


if __name__ == "__main__":
    main()
