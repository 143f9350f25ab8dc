"""Syndicated reprints: the same story text on several sites, lightly edited.

Two articles are copies when their embeddings are close *and* most of the shorter text's
word 5-grams occur in the longer one. Embeddings alone cannot tell a reprint from an
independent story on the same event (both are close); shared 5-grams can: independent
writers share names, not sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\w+")
SHINGLE = 5


def shingles(text: str, n: int = SHINGLE) -> set[int]:
    words = _WORD.findall(text.lower())
    return {hash(tuple(words[i:i + n])) for i in range(max(1, len(words) - n + 1))}


def containment(a: set[int], b: set[int]) -> float:
    """The share of the smaller shingle set found in the other one."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


@dataclass(frozen=True)
class ReprintRule:
    min_similarity: float = 0.85
    min_containment: float = 0.5


class Groups:
    """Union-find over article ids: which articles are copies of one another."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = {}
        for key in self.parent:
            out.setdefault(self.find(key), []).append(key)
        return [members for members in out.values() if len(members) > 1]


def links_to_original(ordered: list[dict]) -> list[tuple[str, str | None]]:
    """The `duplicate_of` changes that make the first of a group of copies (ordered by
    publication) the original and every other one a copy of it: (article id, new value),
    only where the stored value differs."""
    original = ordered[0]
    changes: list[tuple[str, str | None]] = []
    if original["duplicate_of"] is not None:
        changes.append((original["id"], None))
    changes.extend((copy["id"], original["id"]) for copy in ordered[1:]
                   if copy["duplicate_of"] != original["id"])
    return changes
