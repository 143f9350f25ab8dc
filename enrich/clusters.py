"""Story clusters: one cluster per news story, assigned incrementally.

A single sentence embedding puts every facial-recognition policy story near every other,
so an article joins a cluster on a blend of two similarities — its embedding against the
cluster's mean vector, and the names it mentions (people, places, organisations: the
capitalised words, weighted by rarity) against the cluster's names — and only when its
date falls within `window_days` of the cluster's coverage: the same topic a year later
is a new story. Cluster ids never change once given; labels may improve as clusters grow.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np

# Capitalised words that begin sentences or name months and days say nothing about
# which story an article belongs to.
_STOP = set("""
a an the this that these those it its he she they we you i his her their our your
in on at of for to from by with as and or but if when while after before over under
about into than then there here what which who whom whose where why how all any some
no not one two three four five six seven eight nine ten first last new more most many
mr mrs ms dr said says say according also however meanwhile yet still even just only
monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
""".split())
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w'’&-]*[A-Za-z])", re.MULTILINE)


def names(text: str, ignore: set[str] | frozenset[str] = frozenset()) -> Counter:
    """Capitalised words that are not sentence starts, lower-cased, minus stopwords."""
    found: Counter = Counter()
    for match in _CAPITALISED.finditer(text):
        word = match.group(1).lower().replace("’", "'").removesuffix("'s")
        if word not in _STOP and word not in ignore and len(word) > 1:
            found[word] += 1
    return found


@dataclass(frozen=True)
class ClusterRule:
    embedding_weight: float = 0.5
    threshold: float = 0.5
    window_days: int = 14
    # A story does not grow for ever: steady coverage of a topic would otherwise chain
    # into one cluster, each article within `window_days` of the last.
    max_span_days: int = 45


@dataclass
class Cluster:
    id: int | None
    centroid: np.ndarray            # unit-length mean of the members' vectors
    size: int
    first: date
    last: date
    names: Counter = field(default_factory=Counter)
    touched: bool = False


class StoryClusterer:
    """Assigns articles, in date order, to existing clusters or new ones."""

    def __init__(self, rule: ClusterRule, clusters: list[Cluster], document_frequency: Counter,
                 documents: int):
        self.rule = rule
        self.clusters = clusters
        self.df = document_frequency
        self.documents = max(documents, 1)

    def _weights(self, counts: Counter) -> dict[str, float]:
        # Smoothed idf (never zero), so that the first articles of a new store, when
        # every name is still rare, are compared on their names too.
        return {w: (1 + math.log(n)) * (1 + math.log((1 + self.documents)
                                                     / (1 + self.df.get(w, 0))))
                for w, n in counts.items()}

    def _name_similarity(self, a: Counter, b: Counter) -> float:
        wa, wb = self._weights(a), self._weights(b)
        dot = sum(v * wb.get(k, 0.0) for k, v in wa.items())
        norm = math.sqrt(sum(v * v for v in wa.values())) * math.sqrt(
            sum(v * v for v in wb.values()))
        return dot / norm if norm else 0.0

    def score(self, vector: np.ndarray, counts: Counter, day: date, cluster: Cluster) -> float:
        window, span = self.rule.window_days, self.rule.max_span_days
        if (day - cluster.last).days > window or (cluster.first - day).days > window:
            return -1.0
        if (day - cluster.first).days > span or (cluster.last - day).days > span:
            return -1.0
        w = self.rule.embedding_weight
        return (w * float(vector @ cluster.centroid)
                + (1 - w) * self._name_similarity(counts, cluster.names))

    def best(self, vector: np.ndarray, counts: Counter, day: date) -> tuple[int | None, float]:
        scored = [(self.score(vector, counts, day, c), i) for i, c in enumerate(self.clusters)]
        if not scored:
            return None, -1.0
        value, index = max(scored)
        return (index, value) if value >= self.rule.threshold else (None, value)

    def assign(self, vector: np.ndarray, counts: Counter, day: date) -> int:
        """The index in `clusters` of the cluster the article joins (perhaps a new one)."""
        index, _ = self.best(vector, counts, day)
        if index is None:
            self.clusters.append(Cluster(None, vector.copy(), 0, day, day))
            index = len(self.clusters) - 1
        self.join(index, vector, counts, day)
        return index

    def join(self, index: int, vector: np.ndarray, counts: Counter, day: date) -> None:
        # The article counts towards name rarity from now on, as in a batch run over
        # the same articles in the same order.
        self.df.update(set(counts))
        self.documents += 1
        cluster = self.clusters[index]
        total = cluster.centroid * cluster.size + vector
        cluster.centroid = (total / np.linalg.norm(total)).astype(np.float32)
        cluster.size += 1
        cluster.first, cluster.last = min(cluster.first, day), max(cluster.last, day)
        cluster.names.update(counts)
        cluster.touched = True


def ignored_names(keywords: list[str]) -> set[str]:
    """The topic's own words: every article of the topic names them, so they say nothing
    about which story it belongs to."""
    return {word.lower() for keyword in keywords for word in keyword.split()}


def dump_names(counts: Counter) -> str:
    """A cluster's names as stored: `word:count`, the 200 most frequent."""
    return " ".join(f"{word}:{n}" for word, n in counts.most_common(200))


def parse_names(text: str | None) -> Counter:
    """The inverse of `dump_names`; malformed items are left out."""
    found: Counter = Counter()
    for item in (text or "").split():
        word, _, n = item.rpartition(":")
        if word and n.isdigit():
            found[word] = int(n)
    return found


def label_of(members: list[dict], centroid: np.ndarray) -> str:
    """A cluster's label: the headline of the original (a reprint's may be rewritten by
    the syndicator) nearest the cluster's centre. Members have title, duplicate_of and
    vector."""
    originals = [m for m in members if not m["duplicate_of"]] or members
    if not originals:
        return ""
    closeness = [float(m["vector"] @ centroid) for m in originals]
    return originals[int(np.argmax(closeness))]["title"] or ""
