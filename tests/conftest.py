"""Shared fixtures: local webs on 127.0.0.1, crawls run through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlite_utils import Database

from benchmarks.labelled import build_store, copy_store
from frwatch.config import relocate
from frwatch.localweb import LocalWeb
from frwatch.paths import DEMO_WEB

REPO = Path(__file__).resolve().parent.parent
# The same examples on every run, so that CI is repeatable; explore new ones with
# HYPOTHESIS_PROFILE=explore.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Real pages and feeds published by others, with their licences (tests/data/README.md).
TEST_DATA = REPO / "tests" / "data"
TEST_WEBS = Path(__file__).resolve().parent / "web"


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


@pytest.fixture
def demo_web() -> Iterator[LocalWeb]:
    with LocalWeb.from_directory(DEMO_WEB) as web:
        yield web


@pytest.fixture
def faults_web() -> Iterator[LocalWeb]:
    with LocalWeb({"faults": TEST_WEBS / "faults"}) as web:
        yield web


@pytest.fixture(scope="session")
def labelled_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("labelled") / "labelled.db"
    labels = build_store(path)
    return path, labels


@pytest.fixture
def store(labelled_store, tmp_path):
    """A private copy of the labelled store (demo web crawl + labelled articles)."""
    path = tmp_path / "frwatch.db"
    copy_store(labelled_store[0], path)
    config = tmp_path / "sources.yaml"
    config.write_text(relocate((DEMO_WEB / "sources.yaml").read_text(), DEMO_WEB))
    return path, config, labelled_store[1]


def pytest_collection_modifyitems(config, items):
    """Everything outside tests/unit/ starts servers, processes or the model: `slow`.
    `pytest -m "not slow"` runs the unit layer alone, in about a second."""
    unit = Path(__file__).resolve().parent / "unit"
    for item in items:
        if unit not in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.slow)
