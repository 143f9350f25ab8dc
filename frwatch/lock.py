"""A lock file beside the database, so that two `frwatch run` never overlap."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class RunLocked(Exception):
    """Another run holds the lock."""


class RunLock:
    """An exclusive, non-blocking `flock` on ``<db>.lock``. The kernel releases it when
    the process ends, however it ends, so a killed run never leaves a stale lock."""

    def __init__(self, db_path: Path):
        self.path = Path(f"{db_path}.lock")
        self.handle: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 32).decode(errors="replace").strip() or "?"
            os.close(handle)
            raise RunLocked(f"another frwatch run is in progress (pid {holder}, "
                            f"lock {self.path}); not starting a second one") from None
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
