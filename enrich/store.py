"""Enrichment's reads and writes of the store: articles, vectors, seeds, labels, clusters,
verdicts, reprint links and the topic record. Every SQL statement of enrichment lives
here, so that a column renamed is a change to this one module (as `crawler/store.py` is
for the crawler).

Vectors are stored per model key (`ModelSpec.key`): one store keeps the vectors of every
model it was enriched with, and each run reads only its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
from sqlite_utils import Database

from enrich.model import from_blob, to_blob

# What a step needs of an article to embed, judge, link and cluster it.
ARTICLE_COLUMNS = ("id, title, description, text, language, published, first_seen, "
                   "cluster_id, duplicate_of, related")


def _marks(values: list) -> str:
    return ",".join("?" * len(values))


class EnrichStore:
    """One enrichment run's view of the store, for the vectors of one model (the key
    matters only to reads and writes of vectors)."""

    def __init__(self, db: Database, model_key: str = ""):
        self.db = db
        self.model_key = model_key

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction: a batch is written whole or not at all."""
        with self.db.atomic():
            yield

    # --- state and the topic record -----------------------------------------------------
    def state(self, key: str) -> str | None:
        row = self.db.execute("select value from enrich_state where key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str) -> None:
        self.db.table("enrich_state").upsert({"key": key, "value": value}, pk="key")

    def record_topic(self, name: str, description: str, calibration: str) -> None:
        """What the store is about and how it is judged, for the home page and status."""
        with self.db.atomic():
            self.set_state("topic_name", name)
            self.set_state("topic_description", description)
            self.set_state("calibration", calibration)

    # --- seeds and labels ---------------------------------------------------------------
    def seeds(self) -> list[dict]:
        return list(self.db.query("select id, headline, text, published from seeds order by id"))

    def seed_vectors(self) -> dict[str, np.ndarray]:
        return {r[0]: from_blob(r[1]) for r in self.db.execute(
            "select seed_id, vector from seed_embeddings where model = ?", [self.model_key])}

    def save_seed_vectors(self, seed_ids: list[str], vectors: np.ndarray) -> None:
        with self.db.atomic():
            self.db.table("seed_embeddings").upsert_all(
                [{"seed_id": key, "model": self.model_key, "vector": to_blob(v)}
                 for key, v in zip(seed_ids, vectors, strict=True)], pk=("seed_id", "model"))

    def labels(self) -> dict[str, dict]:
        """Users' latest label per article, with the article's title, by article id."""
        return {r["article_id"]: r for r in self.db.query(
            "select c.article_id, c.verdict, a.title from current_labels c "
            "join articles a on a.id = c.article_id order by c.article_id")}

    def labelled_articles(self) -> list[dict]:
        """The articles users labelled, with their text and latest verdict."""
        return list(self.db.query(
            "select a.id, a.title, a.text, a.description, a.language, c.verdict "
            "from current_labels c join articles a on a.id = c.article_id "
            "order by c.article_id"))

    # --- articles and their vectors -----------------------------------------------------
    def article_vectors(self) -> tuple[list[str], list[np.ndarray]]:
        rows = self.db.execute("select article_id, vector from embeddings where model = ?",
                               [self.model_key]).fetchall()
        return [r[0] for r in rows], [from_blob(r[1]) for r in rows]

    def pending(self) -> list[str]:
        """Articles not enriched yet, or without a vector of this model, oldest first."""
        return [r[0] for r in self.db.execute(
            "select a.id from articles a left join embeddings e "
            "on e.article_id = a.id and e.model = ? "
            "where a.enriched_at is null or (e.article_id is null and a.enrich_note is null) "
            "order by coalesce(a.published, a.first_seen), a.id", [self.model_key])]

    def judged(self) -> list[str]:
        """Articles enriched with a verdict (not skipped)."""
        return [r[0] for r in self.db.execute(
            "select id from articles where enriched_at is not null and enrich_note is null")]

    def articles(self, ids: list[str]) -> list[dict]:
        """The articles of `ids` that exist, in that order."""
        rows = {r["id"]: r for r in self.db.query(
            f"select {ARTICLE_COLUMNS} from articles where id in ({_marks(ids)})", ids)}
        return [rows[i] for i in ids if i in rows]

    def all_articles(self) -> list[dict]:
        return list(self.db.query(
            "select id, title, description, text, language from articles"))

    def text_of(self, article_id: str) -> str:
        row = self.db.execute("select text from articles where id = ?", [article_id]).fetchone()
        return (row[0] if row else "") or ""

    def save_embeddings(self, ids: list[str], vectors: np.ndarray) -> None:
        self.db.table("embeddings").upsert_all(
            [{"article_id": key, "model": self.model_key, "vector": to_blob(v)}
             for key, v in zip(ids, vectors, strict=True)], pk=("article_id", "model"))

    def passage_vectors(self, digests: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors of texts by digest (of this model), those that exist."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(digests), 500):
            part = digests[start:start + 500]
            found.update((r[0], from_blob(r[1])) for r in self.db.execute(
                f"select digest, vector from passage_vectors where model = ? "
                f"and digest in ({_marks(part)})", [self.model_key, *part]))
        return found

    def save_passage_vectors(self, digests: list[str], vectors: np.ndarray) -> None:
        with self.db.atomic():
            self.db.table("passage_vectors").upsert_all(
                [{"model": self.model_key, "digest": d, "vector": to_blob(v)}
                 for d, v in zip(digests, vectors, strict=True)], pk=("model", "digest"))

    def skip(self, article_id: str, now: str, note: str) -> None:
        self.db.table("articles").update(article_id, {
            "enriched_at": now, "related": 0, "relevance": None, "enrich_note": note})

    def save_verdict(self, article_id: str, verdict: dict[str, Any]) -> None:
        self.db.table("articles").update(article_id, verdict)

    # --- reprints -----------------------------------------------------------------------
    def reprint_links(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.db.execute(
            "select id, duplicate_of from articles where duplicate_of is not null")]

    def by_first_published(self, ids: list[str]) -> list[dict]:
        """Copies of one text, the earliest first (the original)."""
        return list(self.db.query(
            f"select id, duplicate_of, cluster_id from articles where id in ({_marks(ids)}) "
            "order by coalesce(published, first_seen), first_seen, id", ids))

    def set_duplicate_of(self, article_id: str, original: str | None) -> None:
        self.db.table("articles").update(article_id, {"duplicate_of": original})

    # --- clusters -----------------------------------------------------------------------
    def clusters(self) -> list[dict]:
        return list(self.db.query(
            "select * from clusters where centroid is not null order by id"))

    def clustered_texts(self) -> Iterator[dict]:
        return self.db.query("select title, text from articles where cluster_id is not null")

    def cluster_of(self, article_id: str) -> int | None:
        found = self.db.execute("select cluster_id from articles where id = ?",
                                [article_id]).fetchone()
        return found[0] if found else None

    def insert_cluster(self, first: str, last: str) -> int:
        table = self.db.table("clusters")
        table.insert({"label": "", "first_seen": first, "last_seen": last, "size": 0,
                      "related": 1})
        return int(cast(int, table.last_pk))

    def set_cluster(self, article_id: str, cluster_id: int) -> None:
        self.db.table("articles").update(article_id, {"cluster_id": cluster_id})

    def cluster_members(self, cluster_id: int) -> list[dict]:
        """Title, reprint link and vector (decoded) of each member of a cluster."""
        return [{**m, "vector": from_blob(m["vector"])} for m in self.db.query(
            "select a.title, a.duplicate_of, e.vector from articles a join embeddings e "
            "on e.article_id = a.id and e.model = ? where a.cluster_id = ?",
            [self.model_key, cluster_id])]

    def save_cluster(self, cluster_id: int, values: dict[str, Any]) -> None:
        if "centroid" in values:
            values = {**values, "centroid": to_blob(values["centroid"])}
        self.db.table("clusters").update(cluster_id, values)

    def seed_has_cluster(self, seed_id: str) -> bool:
        return self.db.execute("select 1 from clusters where seed_id = ?",
                               [seed_id]).fetchone() is not None

    def set_cluster_seed(self, cluster_id: int, seed_id: str) -> None:
        self.db.table("clusters").update(cluster_id, {"seed_id": seed_id})
