"""Where the tests' files are: the checkout, the real pages and feeds, the small webs."""

from __future__ import annotations

from benchmarks import REPO, TEST_DATA
from frwatch.paths import DEMO_WEB

TEST_WEBS = REPO / "tests" / "web"

__all__ = ["DEMO_WEB", "REPO", "TEST_DATA", "TEST_WEBS"]
