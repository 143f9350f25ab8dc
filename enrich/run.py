"""`frwatch enrich`: embed, score, fold reprints and cluster every article not yet done.

The steps (`enrich/steps/`) work over one `EnrichStore`; this module wires them together.
Work is done in batches, each committed in one transaction together with the articles'
`enriched_at`, so a run killed halfway leaves a store the next run simply continues.
Progress is reported through a callable the caller passes (the CLI's draws a bar).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from enrich.calibration import Calibration, load_calibration
from enrich.clusters import ignored_names
from enrich.model import Embedder, ModelSpec, load_embedder
from enrich.steps.clusters import Clusters
from enrich.steps.embed import Embedding
from enrich.steps.relevance import Relevance
from enrich.steps.reprints import Reprints
from enrich.store import EnrichStore
from frwatch.config import Config
from frwatch.db import utcnow
from frwatch.thresholds import MIN_ARTICLE_CHARS

logger = logging.getLogger(__name__)

SKIPPED = "skipped: no article text (extraction failed or empty)"

# Called after each committed batch with the articles done so far and the total pending.
Progress = Callable[[int, int], None]


@dataclass
class EnrichSummary:
    embedded: int = 0
    skipped: int = 0
    rescored: int = 0
    related: int = 0
    reprints: int = 0
    clustered: int = 0
    new_clusters: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        rate = f" ({self.embedded / self.seconds:.1f} articles/s)" if self.embedded else ""
        return (f"Enriched {self.embedded} articles in {self.seconds:.1f} s{rate}: "
                f"{self.related} related, {self.reprints} reprints linked, "
                f"{self.clustered} clustered ({self.new_clusters} new clusters), "
                f"{self.skipped} skipped without text, {self.rescored} rescored.")


def detect_language(title: str | None, text: str | None) -> str | None:
    """The language of an article from its words (py3langid), when there are enough."""
    sample = f"{title or ''}\n{(text or '')[:2000]}"
    if len(sample.split()) < 8:
        return None
    import py3langid

    return str(py3langid.classify(sample)[0])


def usable(row: dict) -> bool:
    """Enough to judge: article text, or a headline with a description (a teaser)."""
    text = (row.get("text") or "").strip()
    return len(text) >= MIN_ARTICLE_CHARS or bool(row.get("title") and row.get("description"))


def judging(db: Database, config: Config, calibration: Calibration,
            with_labels: bool = False) -> tuple[Embedding, Relevance]:
    """The embedding and relevance steps alone, as `frwatch enrich` builds them: what
    calibration and the benchmark measure (against topic and seeds only, by default)."""
    spec = ModelSpec.of(config.enrich)
    embedder = load_embedder(spec)
    store = EnrichStore(db, spec.key)
    embedding = Embedding(store, embedder, config.enrich)
    seeds = embedding.seeds()
    return embedding, Relevance(store, embedding, config, calibration, seeds,
                                with_labels=with_labels)


class Enrichment:
    """One run of the steps over one store."""

    def __init__(self, db: Database, config: Config, calibration: Calibration | None = None,
                 embedder: Embedder | None = None):
        spec = ModelSpec.of(config.enrich)
        embedder = embedder or load_embedder(spec)
        self.calibration = calibration or load_calibration(config.calibration_path)
        self.config = config
        self.started = time.perf_counter()  # the run, not the model's loading
        self.summary = EnrichSummary()
        self.store = EnrichStore(db, spec.key)
        self.embedding = Embedding(self.store, embedder, config.enrich)
        seeds = self.embedding.seeds()
        vectors = self.embedding.vectors
        self.relevance = Relevance(self.store, self.embedding, config, self.calibration,
                                   seeds)
        self.clusters = Clusters(self.store, self.calibration.clusters, vectors,
                                 ignored_names(config.topic.keywords), seeds)
        self.reprints = Reprints(self.store, self.calibration.reprints, vectors)

    def run(self, progress: Progress | None = None) -> EnrichSummary:
        if self.store.state("relevance_signature") != self.relevance.signature:
            self.rescore_all()
        self.store.record_topic(self.config.topic.name, self.config.topic.description,
                                f"{self.config.calibration_path} ({self.calibration.note})")
        pending = self.store.pending()
        step = self.config.enrich.commit_every
        if progress is not None and pending:
            progress(0, len(pending))
        for start in range(0, len(pending), step):
            with self.store.atomic():
                self.enrich_batch(pending[start:start + step])
                self.clusters.mark_seeds()
            if progress is not None:
                progress(min(start + step, len(pending)), len(pending))
        self.summary.seconds = time.perf_counter() - self.started
        return self.summary

    def rescore_all(self) -> None:
        """Seeds, keywords, labels or calibration changed: every stored verdict follows,
        and an article now related joins a cluster."""
        vectors = self.embedding.vectors
        ids = self.store.judged()
        step = self.config.enrich.commit_every
        for start in range(0, len(ids), step):
            with self.store.atomic():
                rows = [r for r in self.store.articles(ids[start:start + step])
                        if r["id"] in vectors]
                newly_related = []
                for row in rows:
                    verdict = self.relevance.judge(row, vectors.of(row["id"]))
                    self.store.save_verdict(row["id"], verdict)
                    if verdict["related"] and row["cluster_id"] is None:
                        newly_related.append({**row, **verdict})
                self.cluster(newly_related)
                self.summary.rescored += len(rows)
        self.store.set_state("relevance_signature", self.relevance.signature)

    def enrich_batch(self, ids: list[str]) -> None:
        """Skip what cannot be judged; embed, judge, link reprints, cluster the rest."""
        now = utcnow()
        rows = self.store.articles(ids)
        judged = [r for r in rows if usable(r)]
        for row in rows:
            if row not in judged:
                self.store.skip(row["id"], now, SKIPPED)
                self.summary.skipped += 1
        if not judged:
            return
        for row in judged:
            if not row["language"]:
                row["language"] = detect_language(row["title"], row["text"])
        vectors = self.embedding.embed_articles(judged)
        self.summary.embedded += len(judged)
        self.judge(judged, vectors, now)
        self.summary.reprints += self.reprints.link(judged, vectors)
        self.cluster([r for r in judged if r["related"] and r["cluster_id"] is None])

    def judge(self, rows: list[dict], vectors: np.ndarray, now: str) -> None:
        """Store each new article's verdict (and language); count the related ones."""
        for row, vector in zip(rows, vectors, strict=True):
            verdict = self.relevance.judge(row, vector)
            row.update(verdict)
            self.summary.related += verdict["related"]
            self.store.save_verdict(row["id"], {**verdict, "enriched_at": now,
                                                "enrich_note": None,
                                                "language": row["language"]})

    def cluster(self, rows: list[dict]) -> None:
        clustered, created = self.clusters.assign(rows)
        self.summary.clustered += clustered
        self.summary.new_clusters += created


def enrich_store(db: Database, config: Config, progress: Progress | None = None,
                 calibration: Calibration | None = None,
                 embedder: Embedder | None = None) -> EnrichSummary:
    """Enrich everything pending in `db`; `progress`, if given, hears after each batch.
    The calibration is the config's file unless one is given."""
    return Enrichment(db, config, calibration, embedder).run(progress)
