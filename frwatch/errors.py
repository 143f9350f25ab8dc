"""The one exception type for errors a user can cause and fix."""

from __future__ import annotations


class FrwatchError(Exception):
    """A bad config, an unwritable database, an unreachable seed: printed as one line."""


def one_line(value: object, limit: int = 200) -> str:
    """Any message as one line of at most `limit` characters, for failure reasons."""
    return " ".join(str(value).split())[:limit]
