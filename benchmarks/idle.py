"""What a scheduled run costs when there is little to do: `frwatch enrich` with nothing new,
and the rescoring after `frwatch label`, on the demo store (34 articles).

Each command is a fresh process; wall time and peak RSS (psutil, sampled every 10 ms)
are the medians of `--runs` runs. The model is loaded only when a text has no stored
vector, so these runs should never import torch: the RSS says whether they did.

    python -m benchmarks.idle [--runs 5]
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

from benchmarks import REPO, run_frwatch, watch


def timed(*args: str) -> tuple[float, float, str]:
    """Seconds and peak RSS (MiB) of `frwatch ARGS` in a fresh process, and its last line."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "frwatch.cli", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak, _cpu = watch(proc, interval=0.01)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"frwatch {' '.join(args)} exited {proc.returncode}")
    lines = out.strip().splitlines()
    return time.perf_counter() - started, peak / 2**20, lines[-1] if lines else ""


def report(name: str, results: list[tuple[float, float, str]]) -> None:
    seconds = statistics.median(r[0] for r in results)
    rss = statistics.median(r[1] for r in results)
    print(f"{name}: median {seconds:.2f} s, peak RSS {rss:.0f} MiB "
          f"({len(results)} runs; last said: {results[-1][2][:90]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        run_frwatch("demo", "--db", str(db))  # crawl, enrich, alert: the model loads here
        config = Path(tmp) / "demo-sources.yaml"
        common = ("--config", str(config), "--db", str(db))
        report("enrich, nothing new", [timed("enrich", *common, "--no-progress")
                                       for _ in range(args.runs)])
        conn = sqlite3.connect(db)
        ids = [r[0] for r in conn.execute("select id from articles where enrich_note is null "
                                          "order by id limit ?", [args.runs])]
        conn.close()
        rescored = []
        for n, article in enumerate(ids):
            run_frwatch("label", article, "unrelated" if n % 2 else "related", *common)
            rescored.append(timed("enrich", *common, "--no-progress"))
        report("enrich after a label (every verdict rescored)", rescored)
        report("status", [timed("status", *common) for _ in range(args.runs)])


if __name__ == "__main__":
    main()
