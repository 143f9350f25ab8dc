"""Extraction processes die with the crawl, however the crawl dies.

The forkserver (child of the crawl) and the extraction workers (children of the
forkserver) ask Linux to SIGKILL them when their parent dies (`PR_SET_PDEATHSIG`), so a
`kill -9` of `frwatch run` leaves no process behind. The forkserver gets it by importing
`crawler.lifeline_forkserver` as its preload; the crawl process itself never does.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """SIGKILL this process when its parent process ends (Linux; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request above took effect
        os._exit(1)
