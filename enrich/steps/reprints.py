"""Reprints: an article whose vector is close to another's and whose text mostly repeats
it is linked (`duplicate_of`) to the earliest of the copies."""

from __future__ import annotations

import numpy as np

from enrich.reprints import Groups, ReprintRule, containment, links_to_original, shingles
from enrich.steps.embed import Vectors
from enrich.store import EnrichStore


class Reprints:
    """Links new articles to their copies among every article with a vector."""

    def __init__(self, store: EnrichStore, rule: ReprintRule, vectors: Vectors):
        self.store = store
        self.rule = rule
        self.vectors = vectors
        self.groups = Groups()
        for copy, original in store.reprint_links():
            self.groups.union(copy, original)
        self.shingled: dict[str, set[int]] = {}

    def shingles_of(self, article_id: str, text: str | None = None) -> set[int]:
        """An article's shingles, computed once per run (text read from the store when
        not given)."""
        if article_id not in self.shingled:
            if text is None:
                text = self.store.text_of(article_id)
            self.shingled[article_id] = shingles(text or "")
        return self.shingled[article_id]

    def match(self, rows: list[dict], vectors: np.ndarray) -> set[str]:
        """Join each row's group with its copies; the roots of the groups that grew."""
        touched = set()
        for row, vector in zip(rows, vectors, strict=True):
            sims = self.vectors.matrix @ vector
            mine = self.shingles_of(row["id"], row["text"])
            for j in np.nonzero(sims >= self.rule.min_similarity)[0]:
                other = self.vectors.ids[int(j)]
                if other == row["id"]:
                    continue
                if containment(mine, self.shingles_of(other)) >= self.rule.min_containment:
                    self.groups.union(row["id"], other)
                    touched.add(self.groups.find(row["id"]))
        return touched

    def link(self, rows: list[dict], vectors: np.ndarray) -> int:
        """Link `rows` (just embedded as `vectors`) and their copies to each group's
        original; sets `duplicate_of` on the rows too. The number of copies linked anew."""
        touched = self.match(rows, vectors)
        linked = 0
        for members in self.groups.groups():
            if self.groups.find(members[0]) not in touched:
                continue
            ordered = self.store.by_first_published(members)
            for article_id, original in links_to_original(ordered):
                self.store.set_duplicate_of(article_id, original)
                linked += original is not None
            for row in rows:
                if row["id"] in members and row["id"] != ordered[0]["id"]:
                    row["duplicate_of"] = ordered[0]["id"]
        return linked
