"""The CLI in a fresh process, and a crawl of a served web into a real SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlite_utils import Database

from frwatch.config import relocate
from frwatch.localweb import LocalWeb
from tests.support.paths import REPO


def run_cli(*args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `frwatch ARGS` in a fresh process (Scrapy's reactor starts once per process)."""
    proc = subprocess.run([sys.executable, "-m", "frwatch.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"frwatch {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


class Crawl:
    """A config written for a served web, a database, and a way to crawl them."""

    def __init__(self, web: LocalWeb, tmp_path: Path, config_text: str,
                 config_dir: Path | None = None):
        self.web = web
        self.config = tmp_path / "sources.yaml"
        text = web.rewrite(config_text)
        if config_dir:  # seed paths in the text are relative to config_dir
            text = relocate(text, config_dir)
        self.config.write_text(text, encoding="utf-8")
        self.db_path = tmp_path / "frwatch.db"

    def run(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return run_cli("crawl", "--config", str(self.config), "--db", str(self.db_path),
                       *extra, check=check)

    @property
    def db(self) -> Database:
        return Database(self.db_path)

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        db = self.db
        try:
            return list(db.query(sql, params or []))
        finally:
            db.close()
