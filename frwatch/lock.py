"""A lock file beside the database, so that two writers (`crawl`, `enrich`, `alert`,
`run`, `seeds add`, `label`, `calibrate`) never overlap."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from frwatch.errors import FrwatchError


class RunLocked(Exception):
    """Another run holds the lock."""


class RunLock:
    """An exclusive, non-blocking `flock` on ``<db>.lock``. The kernel releases it when
    the process ends, however it ends, so a killed run never leaves a stale lock."""

    def __init__(self, db_path: Path, wait: float = 0.0):
        self.path = Path(f"{db_path}.lock")
        self.wait = wait
        self.handle: int | None = None

    def __enter__(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise FrwatchError(f"{self.path}: cannot write the lock file beside the "
                               f"database: {exc.strerror}") from None
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                holder = os.read(handle, 32).decode(errors="replace").strip() or "?"
                os.close(handle)
                waited = f" after waiting {self.wait:g} s" if self.wait else ""
                raise RunLocked(f"another frwatch run is in progress (pid {holder}, "
                                f"lock {self.path}); not starting a second one{waited}"
                                ) from None
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        self.handle = handle
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            os.close(self.handle)
            self.handle = None
