"""Where the tests' files are: the checkout, the real pages and feeds, the small webs."""

from __future__ import annotations

from pathlib import Path

from frwatch.paths import DEMO_WEB

REPO = Path(__file__).resolve().parents[2]
# Real pages and feeds published by others, with their licences (tests/data/README.md).
TEST_DATA = REPO / "tests" / "data"
TEST_WEBS = REPO / "tests" / "web"

__all__ = ["DEMO_WEB", "REPO", "TEST_DATA", "TEST_WEBS"]
