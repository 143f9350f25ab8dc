"""The labelled store (a demo-web crawl plus the labelled articles), built once a session,
and the same store enriched, also once a session.

The `labelled_store` fixture, the enriched store and the Datasette browsing store all start
from one build, so the demo crawl behind it runs once however many test modules need it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.labelled import Label, build_store, copy_store
from frwatch.config import relocate
from frwatch.paths import DEMO_CONFIG, DEMO_WEB
from tests.support.crawl import run_cli

_BUILT: dict[Path, dict[str, Label]] = {}


def labelled_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Label]]:
    """The store's path and its labels by article id; built on the session's first call.
    Callers copy it (`benchmarks.labelled.copy_store`) before writing to it."""
    path = tmp_path_factory.getbasetemp() / "labelled" / "labelled.db"
    if path not in _BUILT:
        path.parent.mkdir(exist_ok=True)
        _BUILT[path] = build_store(path)
    return path, _BUILT[path]


_ENRICHED: dict[Path, Path] = {}


def enriched_labelled_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The labelled store after `frwatch enrich` with the demo config (real model), and
    that config; enriched on the session's first call. Copy it before writing to it."""
    folder = tmp_path_factory.getbasetemp() / "enriched"
    path = folder / "enriched.db"
    config = folder / "sources.yaml"
    if path not in _ENRICHED:
        folder.mkdir(exist_ok=True)
        copy_store(labelled_store(tmp_path_factory)[0], path)
        config.write_text(relocate(DEMO_CONFIG.read_text(encoding="utf-8"), DEMO_WEB),
                          encoding="utf-8")
        run_cli("enrich", "--config", str(config), "--db", str(path), "--no-progress")
        _ENRICHED[path] = config
    return path, config
