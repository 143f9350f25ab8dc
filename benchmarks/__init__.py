"""Benchmarks, run from a checkout as `python -m benchmarks.NAME`.

The checkout's paths and the way to run the CLI are defined here once; benchmarks never
import the tests.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from frwatch.errors import FrwatchError, one_line

REPO = Path(__file__).resolve().parents[1]
# Real pages and feeds published by others, with their licences (tests/data/README.md).
TEST_DATA = REPO / "tests" / "data"


def run_frwatch(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run `frwatch ARGS` in a fresh process from the checkout (Scrapy's reactor starts once
    per process); a failure is one line with the command and the last line it printed."""
    proc = subprocess.run([sys.executable, "-m", "frwatch.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        said = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise FrwatchError(f"frwatch {args[0] if args else ''} exited {proc.returncode}: "
                           f"{one_line(said[-1] if said else 'no output')}")
    return proc


def watch(proc: subprocess.Popen, interval: float = 0.02) -> tuple[int, float]:
    """Until `proc` ends: the peak summed RSS (bytes) of it and its children, and the CPU
    seconds its processes used (as last seen alive): on a shared machine CPU time is the
    figure that load from others does not change much."""
    import psutil  # the bench extra

    parent = psutil.Process(proc.pid)
    peak = 0
    cpu: dict[int, float] = {}
    while proc.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            for p in tree:
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
        except psutil.Error:
            pass
        time.sleep(interval)
    return peak, sum(cpu.values())
