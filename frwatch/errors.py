"""The one exception type for errors a user can cause and fix."""

from __future__ import annotations


class FrwatchError(Exception):
    """A bad config, an unwritable database, an unreachable seed: printed as one line."""
