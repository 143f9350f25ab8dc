"""Where the files frwatch ships live, in a checkout and in an installed package.

In a checkout (or an editable install) the seed stories, calibration and demo web are in
the repository's `seeds/`; a built package carries the same folder as `frwatch/_seeds/`
(see `[tool.setuptools.package-dir]` in pyproject.toml). The Datasette files are package
data in `frwatch/browse/` either way.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
BROWSE_DIR = PACKAGE / "browse"


def _seeds_dir() -> Path:
    installed = PACKAGE / "_seeds"
    return installed if installed.is_dir() else PACKAGE.parent / "seeds"


SEEDS_DIR = _seeds_dir()
DEMO_WEB = SEEDS_DIR / "demo"
DEMO_CONFIG = DEMO_WEB / "sources.yaml"
