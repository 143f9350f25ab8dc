"""A store that fills up: the crawl stops with one line, and nothing is lost for good.

The database's file size is capped with RLIMIT_FSIZE in the crawl's own process (a
filesystem that fills up, without needing root to mount one); SIGXFSZ is ignored so that
writes fail with EFBIG instead of killing the process, as ENOSPC would on a full disk.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys

from frwatch.paths import DEMO_WEB
from tests.support.crawl import Crawl
from tests.support.paths import REPO

LABELS = json.loads((DEMO_WEB / "labels.json").read_text(encoding="utf-8"))
EXPECTED = {item["canonical"].split("/", 3)[3] for item in LABELS}


def crawl_capped(crawl: Crawl, max_bytes: int) -> subprocess.CompletedProcess:
    def cap() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run([sys.executable, "-m", "frwatch.cli", "crawl", "--config",
                           str(crawl.config), "--db", str(crawl.db_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          preexec_fn=cap)


def stored_paths(crawl: Crawl) -> set[str]:
    return {r["canonical_url"].split("/", 3)[3]
            for r in crawl.rows("select canonical_url from articles")}


def test_full_disk_stops_the_crawl_and_the_next_runs_store_everything(demo_web, tmp_path):
    crawl = Crawl(demo_web, tmp_path, (DEMO_WEB / "sources.yaml").read_text(),
                  config_dir=DEMO_WEB)
    crawl.run("--spider", "sitemaps")  # a small store to start from
    before = stored_paths(crawl)
    size = crawl.db_path.stat().st_size
    proc = crawl_capped(crawl, size + 40_000)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("frwatch: error: crawl stopped: "), proc.stderr
    assert f"writing {crawl.db_path}" in lines[-1]
    assert "Traceback" not in proc.stderr
    # No article text in the output: not one paragraph of a stored demo article.
    texts = [r["text"] for r in crawl.rows("select text from articles")]
    assert not any(p.strip()[:60] in proc.stderr + proc.stdout
                   for t in texts for p in t.split("\n") if len(p.strip()) > 60)
    assert before <= stored_paths(crawl)  # nothing already stored was lost
    # Space is back: the next runs read every listing in full and store everything.
    crawl.run()
    crawl.run()
    assert stored_paths(crawl) == EXPECTED
