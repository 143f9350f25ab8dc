"""Shared fixtures (local webs on 127.0.0.1, the labelled store) and the `slow` marker.
Helpers live in tests/support/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from benchmarks.labelled import copy_store
from frwatch.config import relocate
from frwatch.localweb import LocalWeb
from tests.support.alerting import Webhook
from tests.support.labelled import enriched_labelled_store
from tests.support.labelled import labelled_store as build_labelled_store
from tests.support.paths import DEMO_WEB, TEST_WEBS
from tests.support.smtp import smtp  # noqa: F401  (a fixture: a real SMTP server)

# The same examples on every run, so that CI is repeatable; explore new ones with
# HYPOTHESIS_PROFILE=explore.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
    """(path, labels) of the labelled store, shared with the browsing store: copy it
    before writing (the `store` fixture does)."""
    return build_labelled_store(tmp_path_factory)


@pytest.fixture(scope="session")
def enriched_store(tmp_path_factory):
    """(path, config) of the labelled store enriched once for the session (real model):
    copy it before writing (`benchmarks.labelled.copy_store`)."""
    return enriched_labelled_store(tmp_path_factory)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A JSON webhook on a free port, not yet listening (`.up()` starts it)."""
    hook = Webhook()
    yield hook
    hook.down()


@pytest.fixture
def enriched(enriched_store, store):
    """(db, config, labels): a private copy of the enriched labelled store."""
    db, config, labels = store
    copy_store(enriched_store[0], db)
    return db, config, labels


@pytest.fixture
def store(labelled_store, tmp_path):
    """A private copy of the labelled store (demo web crawl + labelled articles)."""
    path = tmp_path / "frwatch.db"
    copy_store(labelled_store[0], path)
    config = tmp_path / "sources.yaml"
    config.write_text(relocate((DEMO_WEB / "sources.yaml").read_text(), DEMO_WEB))
    return path, config, labelled_store[1]


# The longest modules (a minute or more each), run first: `make test` spreads whole
# modules over two processes (pytest-xdist, --dist loadfile), and a long one left for
# last would run alone while the other process idles.
LONGEST_FIRST = ("test_distributed", "test_alerts", "test_crashes", "test_enrich",
                 "test_browser", "test_relevance", "test_everyday", "test_crawl_faults")


def pytest_collection_modifyitems(config, items):
    """Everything outside tests/unit/ starts servers, processes or the model: `slow`.
    `pytest -m "not slow"` runs the unit layer alone, in about a second."""
    unit = Path(__file__).resolve().parent / "unit"
    for item in items:
        if unit not in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.slow)

    def rank(item: pytest.Item) -> int:
        name = Path(item.fspath).stem
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: a module's tests keep their order
