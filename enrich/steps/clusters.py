"""Clusters: related articles assigned, in date order, to story clusters; a reprint joins
its original's cluster; each seed story marks the cluster its own text would join."""

from __future__ import annotations

from collections import Counter
from datetime import date

from enrich.clusters import (
    Cluster,
    ClusterRule,
    StoryClusterer,
    dump_names,
    label_of,
    names,
    parse_names,
)
from enrich.model import from_blob
from enrich.steps.embed import Seeds, Vectors
from enrich.store import EnrichStore
from frwatch.db import utcnow


def story_day(row: dict) -> date:
    """The day an article belongs to: published, else first seen, else today."""
    value = row.get("published") or row.get("first_seen") or utcnow()
    return date.fromisoformat(value[:10])


def stored_cluster(row: dict) -> Cluster:
    """A cluster as the store keeps it (a row of `clusters` with a centroid)."""
    return Cluster(id=row["id"], centroid=from_blob(row["centroid"]).copy(),
                   size=row["size"] or 0, first=date.fromisoformat(row["first_seen"][:10]),
                   last=date.fromisoformat(row["last_seen"][:10]),
                   names=parse_names(row["names"]))


class Clusters:
    """Assigns articles to the store's clusters (or new ones) and keeps them stored."""

    def __init__(self, store: EnrichStore, rule: ClusterRule, vectors: Vectors,
                 ignore: set[str], seeds: Seeds):
        self.store = store
        self.vectors = vectors
        self.ignore = ignore
        self.seeds = seeds
        clusters = [stored_cluster(row) for row in store.clusters()]
        # Cluster id -> its index in the clusterer's list.
        self.positions: dict[int, int] = {c.id: i for i, c in enumerate(clusters)
                                          if c.id is not None}
        df: Counter = Counter()
        documents = 0
        for row in store.clustered_texts():
            df.update(set(self.names_of(row["title"], row["text"])))
            documents += 1
        self.clusterer = StoryClusterer(rule, clusters, df, documents)

    def names_of(self, title: str | None, text: str | None) -> Counter:
        return names(f"{title or ''}\n{text or ''}", self.ignore)

    def assign(self, rows: list[dict]) -> tuple[int, int]:
        """Put each row in a cluster (sets `cluster_id` on it); the number of articles
        clustered and of clusters created."""
        created = 0
        for row in sorted(rows, key=lambda r: (story_day(r), r["id"])):
            index = self._place(row)
            cluster = self.clusterer.clusters[index]
            if cluster.id is None:
                cluster.id = self.store.insert_cluster(cluster.first.isoformat(),
                                                       cluster.last.isoformat())
                self.positions[cluster.id] = index
                created += 1
            self.store.set_cluster(row["id"], cluster.id)
            row["cluster_id"] = cluster.id
        self.save_touched()
        return len(rows), created

    def _place(self, row: dict) -> int:
        """The index of the cluster the row joins: its original's, or the best one."""
        vector = self.vectors.of(row["id"])
        counts = self.names_of(row["title"], row["text"])
        day = story_day(row)
        original = self.store.cluster_of(row["duplicate_of"]) if row.get("duplicate_of") \
            else None
        if original is not None and original in self.positions:
            self.clusterer.join(self.positions[original], vector, counts, day)
            return self.positions[original]
        return self.clusterer.assign(vector, counts, day)

    def save_touched(self) -> None:
        """Write every cluster that changed: label, size, dates, centroid, names."""
        for cluster in self.clusterer.clusters:
            if not cluster.touched or cluster.id is None:
                continue
            members = self.store.cluster_members(cluster.id)
            self.store.save_cluster(cluster.id, {
                "label": label_of(members, cluster.centroid), "size": len(members),
                "first_seen": cluster.first.isoformat(), "last_seen": cluster.last.isoformat(),
                "centroid": cluster.centroid, "names": dump_names(cluster.names)})
            cluster.touched = False

    def mark_seeds(self) -> None:
        """A seed story's cluster is the one its own text would join."""
        for seed, vector in zip(self.seeds.rows, self.seeds.matrix, strict=True):
            if self.store.seed_has_cluster(seed["id"]):
                continue
            counts = names(f"{seed['headline']}\n{seed['text']}", self.ignore)
            day = date.fromisoformat((seed["published"] or utcnow())[:10])
            index, _ = self.clusterer.best(vector, counts, day)
            cluster_id = None if index is None else self.clusterer.clusters[index].id
            if cluster_id is not None:
                self.store.set_cluster_seed(cluster_id, seed["id"])
