"""Embedding: articles and seed stories as unit vectors of one model, kept in memory for
the other steps (similarity is a matrix product) and stored for the next run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from enrich.model import Embedder
from enrich.store import EnrichStore
from frwatch.config import Enrich


def passage(title: str | None, text: str, description: str | None = None) -> str:
    """What the model reads of an article: headline and lead (the model truncates); for a
    teaser page the description too, which is most of what there is."""
    parts = [title, description, text] if description else [title, text]
    return "\n".join(p for p in parts if p)


def empty(dimensions: int) -> np.ndarray:
    return np.zeros((0, dimensions), dtype=np.float32)


class Vectors:
    """The store's article vectors of one model: an id list and a matrix, row per id."""

    def __init__(self, ids: list[str], vectors: list[np.ndarray], dimensions: int):
        self.ids = list(ids)
        self.index = {key: i for i, key in enumerate(self.ids)}
        self.matrix = np.stack(vectors) if vectors else empty(dimensions)

    def __contains__(self, key: object) -> bool:
        return key in self.index

    def of(self, key: str) -> np.ndarray:
        return self.matrix[self.index[key]]

    def rows(self, keys: list[str]) -> np.ndarray:
        return self.matrix[[self.index[k] for k in keys]] if keys else empty(
            self.matrix.shape[1])

    def put(self, ids: list[str], vectors: np.ndarray) -> None:
        """New vectors for `ids`: a re-embedded article keeps its row, new ones are
        appended (one copy of the matrix per call, not per article)."""
        fresh = []
        for key, vector in zip(ids, vectors, strict=True):
            if key in self.index:
                self.matrix[self.index[key]] = vector
            else:
                self.index[key] = len(self.ids)
                self.ids.append(key)
                fresh.append(vector)
        if fresh:
            self.matrix = np.vstack([self.matrix, np.stack(fresh)])


@dataclass(frozen=True)
class Seeds:
    """The seed stories that have a vector of this model, and those vectors, row by row."""

    rows: list[dict]
    matrix: np.ndarray


class Embedding:
    """Embeds articles (storing their vectors) and seeds; owns the in-memory `vectors`."""

    def __init__(self, store: EnrichStore, embedder: Embedder, settings: Enrich):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        ids, vectors = store.article_vectors()
        if vectors:  # their width, so that no model is loaded to learn it
            embedder.know_dimensions(len(vectors[0]))
        self.vectors = Vectors(ids, vectors, embedder.dimensions)

    def seeds(self) -> Seeds:
        """Every seed story with its vector, embedding (and storing) those without one."""
        seeds = self.store.seeds()
        have = self.store.seed_vectors()
        todo = [s for s in seeds if s["id"] not in have]
        if todo:
            vectors = self.embedder.embed([passage(s["headline"], s["text"]) for s in todo])
            self.store.save_seed_vectors([s["id"] for s in todo], vectors)
            have = self.store.seed_vectors()
        rows = [s for s in seeds if s["id"] in have]
        matrix = (np.stack([have[s["id"]] for s in rows]) if rows
                  else empty(self.embedder.dimensions))
        return Seeds(rows, matrix)

    def passage(self, row: dict) -> str:
        """A teaser (too few words of text) is read with its description."""
        headline_only = len((row["text"] or "").split()) < self.settings.headline_only_words
        return passage(row["title"], row["text"] or "",
                       row["description"] if headline_only else None)

    def embed(self, rows: list[dict]) -> np.ndarray:
        """Vectors of article rows (title, description, text), nothing stored."""
        return self.embedder.embed([self.passage(r) for r in rows],
                                   batch_size=self.settings.batch_size)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Vectors of texts that are not stored articles (the topic's items, labelled
        examples), kept in the store by digest: the model is loaded only for new ones."""
        if not texts:
            return empty(self.vectors.matrix.shape[1])
        digests = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        have = self.store.passage_vectors(sorted(set(digests)))
        todo = sorted({d: t for d, t in zip(digests, texts, strict=True)
                       if d not in have}.items())
        if todo:
            fresh = self.embedder.embed([t for _, t in todo],
                                        batch_size=self.settings.batch_size)
            self.store.save_passage_vectors([d for d, _ in todo], fresh)
            have.update(zip([d for d, _ in todo], fresh, strict=True))
        return np.stack([have[d] for d in digests])

    def embed_rows(self, rows: list[dict]) -> np.ndarray:
        """Vectors of article-like rows that are not stored articles, cached by text."""
        return self.embed_texts([self.passage(r) for r in rows])

    def embed_articles(self, rows: list[dict]) -> np.ndarray:
        """Vectors of stored articles, written to the store and to `vectors`."""
        vectors = self.embed(rows)
        ids = [r["id"] for r in rows]
        self.store.save_embeddings(ids, vectors)
        self.vectors.put(ids, vectors)
        return vectors
