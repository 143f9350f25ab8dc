"""`frwatch enrich`: embed, score, fold reprints and cluster every article not yet done.

Work is done in batches, each committed in one transaction together with the articles'
`enriched_at`, so a run killed halfway leaves a store the next run simply continues.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import click
import numpy as np
from sqlite_utils import Database

from enrich.calibration import Calibration, load_calibration
from enrich.clusters import Cluster, StoryClusterer, names
from enrich.model import Embedder, ModelSpec, from_blob, load_embedder, to_blob
from enrich.relevance import (
    Evidence,
    Prototypes,
    TopicVocabulary,
    description_items,
    gather,
    reason,
)
from enrich.reprints import Groups, containment, shingles
from frwatch.config import Config
from frwatch.db import utcnow

logger = logging.getLogger(__name__)

MIN_TEXT_CHARS = 100


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
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        rate = f" ({self.embedded / self.seconds:.1f} articles/s)" if self.embedded else ""
        return (f"Enriched {self.embedded} articles in {self.seconds:.1f} s{rate}: "
                f"{self.related} related, {self.reprints} reprints linked, "
                f"{self.clustered} clustered ({self.new_clusters} new clusters), "
                f"{self.skipped} skipped without text, {self.rescored} rescored.")


def model_spec(config: Config) -> ModelSpec:
    e = config.enrich
    return ModelSpec(name=e.model_name, path=e.model_path, max_tokens=e.max_tokens,
                     quantize=e.quantize)


def passage(title: str | None, text: str, description: str | None = None) -> str:
    """What the model reads of an article: headline and lead (the model truncates); for a
    teaser page the description too, which is most of what there is."""
    parts = [title, description, text] if description else [title, text]
    return "\n".join(p for p in parts if p)


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
    return len(text) >= MIN_TEXT_CHARS or bool(row.get("title") and row.get("description"))


def story_day(row: dict) -> date:
    value = row.get("published") or row.get("first_seen") or utcnow()
    return date.fromisoformat(value[:10])


class Enricher:
    def __init__(self, db: Database, config: Config, embedder: Embedder | None = None,
                 calibration: Calibration | None = None, progress: bool = False):
        self.db = db
        self.config = config
        self.spec = model_spec(config)
        self.embedder = embedder or load_embedder(self.spec)
        self.calibration = calibration or load_calibration(config.calibration_path)
        self.vocabulary = TopicVocabulary(config.topic)
        self.ignore_names = {w.lower() for k in config.topic.keywords for w in k.split()}
        self.progress = progress
        self.summary = EnrichSummary()

    # --- state --------------------------------------------------------------------------
    def _state(self, key: str) -> str | None:
        row = self.db.execute("select value from enrich_state where key = ?", [key]).fetchone()
        return row[0] if row else None

    def _set_state(self, key: str, value: str) -> None:
        self.db["enrich_state"].upsert({"key": key, "value": value}, pk="key")

    def _load_seeds(self) -> None:
        seeds = list(self.db.query("select id, headline, text, published from seeds order by id"))
        have = {r[0] for r in self.db.execute(
            "select seed_id from seed_embeddings where model = ?", [self.spec.key])}
        todo = [s for s in seeds if s["id"] not in have]
        if todo:
            vectors = self.embedder.embed([passage(s["headline"], s["text"]) for s in todo])
            with self.db.atomic():
                self.db["seed_embeddings"].upsert_all(
                    [{"seed_id": s["id"], "model": self.spec.key, "vector": to_blob(v)}
                     for s, v in zip(todo, vectors, strict=True)], pk=("seed_id", "model"))
        stored = {r[0]: from_blob(r[1]) for r in self.db.execute(
            "select seed_id, vector from seed_embeddings where model = ?", [self.spec.key])}
        self.seeds = [s for s in seeds if s["id"] in stored]
        self.seed_matrix = (np.stack([stored[s["id"]] for s in self.seeds]) if self.seeds
                            else np.zeros((0, self.embedder.dimensions), dtype=np.float32))

    def _load_prototypes(self, with_labels: bool = True) -> None:
        """What meaning is measured against: the description's items, the seed stories
        and the articles users labelled (needs the article vectors loaded)."""
        related, unrelated = description_items(self.config.topic.description)
        vectors = self.embedder.embed(related + unrelated)
        labelled = {r["article_id"]: r for r in self.db.query(
            "select c.article_id, c.verdict, a.title from current_labels c "
            "join articles a on a.id = c.article_id order by c.article_id")}
        self.labels = {key: row["verdict"] == "related" for key, row in labelled.items()}
        mine = [k for k in labelled if k in self.index] if with_labels else []
        liked = [k for k in mine if self.labels[k]]
        disliked = [k for k in mine if not self.labels[k]]
        dims = self.embedder.dimensions

        def rows(keys: list[str]) -> np.ndarray:
            return (self.matrix[[self.index[k] for k in keys]] if keys
                    else np.zeros((0, dims), dtype=np.float32))

        self.prototypes = Prototypes(
            related=vectors[:len(related)], related_items=related,
            unrelated=np.vstack([vectors[len(related):], rows(disliked)]),
            unrelated_items=unrelated + [f"labelled unrelated: {labelled[k]['title']}"
                                         for k in disliked],
            exemplars=np.vstack([self.seed_matrix, rows(liked)]),
            exemplar_titles=[f"seed: {s['headline']}" for s in self.seeds]
            + [f"labelled related: {labelled[k]['title']}" for k in liked])
        digest = hashlib.sha256()
        for s in self.seeds:
            digest.update(s["id"].encode())
        digest.update(self.spec.key.encode())
        digest.update(self.calibration.signature().encode())
        digest.update(self.config.topic.model_dump_json(exclude={"base"}).encode())
        digest.update(self.config.enrich.model_dump_json().encode())
        for key in sorted(labelled):
            digest.update(f"{key}={labelled[key]['verdict']}".encode())
        self.signature = digest.hexdigest()[:16]

    def _load_vectors(self) -> None:
        rows = self.db.execute("select article_id, vector from embeddings where model = ?",
                               [self.spec.key]).fetchall()
        self.ids: list[str] = [r[0] for r in rows]
        self.index = {key: i for i, key in enumerate(self.ids)}
        self.matrix = (np.stack([from_blob(r[1]) for r in rows]) if rows
                       else np.zeros((0, self.embedder.dimensions), dtype=np.float32))

    def _load_clusters(self) -> None:
        clusters = []
        self.cluster_pos: dict[int, int] = {}
        for row in self.db.query("select * from clusters where centroid is not null order by id"):
            self.cluster_pos[row["id"]] = len(clusters)
            clusters.append(Cluster(
                id=row["id"], centroid=from_blob(row["centroid"]).copy(), size=row["size"] or 0,
                first=date.fromisoformat(row["first_seen"][:10]),
                last=date.fromisoformat(row["last_seen"][:10]),
                names=Counter(dict(_parse_names(row["names"])))))
        df: Counter = Counter()
        documents = 0
        for row in self.db.query("select title, text from articles where cluster_id is not null"):
            df.update(set(names(f"{row['title'] or ''}\n{row['text'] or ''}",
                                self.ignore_names)))
            documents += 1
        self.clusterer = StoryClusterer(self.calibration.clusters, clusters, df, documents)

    # --- the run --------------------------------------------------------------------------
    def run(self) -> EnrichSummary:
        started = time.perf_counter()
        self._load_seeds()
        self._load_vectors()
        self._load_prototypes()
        self._load_clusters()
        self._load_reprint_groups()
        if self._state("relevance_signature") != self.signature:
            self._rescore_all()
        self._record_topic()
        pending = [r[0] for r in self.db.execute(
            "select a.id from articles a left join embeddings e "
            "on e.article_id = a.id and e.model = ? "
            "where a.enriched_at is null or (e.article_id is null and a.enrich_note is null) "
            "order by coalesce(a.published, a.first_seen), a.id", [self.spec.key])]
        step = self.config.enrich.commit_every
        shown = self.progress and pending
        with (click.progressbar(length=len(pending), label="Enriching") if shown
              else contextlib.nullcontext()) as bar:
            for start in range(0, len(pending), step):
                batch = pending[start:start + step]
                with self.db.atomic():
                    self._enrich_batch(batch)
                    self._mark_seed_clusters()
                if bar is not None:
                    bar.update(len(batch))
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def _record_topic(self) -> None:
        """What the store is about and how it is judged, for the home page and status."""
        topic = self.config.topic
        with self.db.atomic():
            self._set_state("topic_name", topic.name)
            self._set_state("topic_description", topic.description)
            self._set_state("calibration", f"{self.config.calibration_path} "
                                           f"({self.calibration.note})")

    def _rows(self, ids: list[str]) -> list[dict]:
        marks = ",".join("?" * len(ids))
        rows = {r["id"]: r for r in self.db.query(
            f"select id, title, description, text, language, published, first_seen, "
            f"cluster_id, duplicate_of, related from articles where id in ({marks})", ids)}
        return [rows[i] for i in ids if i in rows]

    def _enrich_batch(self, ids: list[str]) -> None:
        now = utcnow()
        rows = self._rows(ids)
        judged = [r for r in rows if usable(r)]
        for row in rows:
            if row not in judged:
                self.db["articles"].update(row["id"], {
                    "enriched_at": now, "related": 0, "relevance": None,
                    "enrich_note": "skipped: no article text (extraction failed or empty)"})
                self.summary.skipped += 1
        if not judged:
            return
        for row in judged:
            if not row["language"]:
                row["language"] = detect_language(row["title"], row["text"])
        vectors = self.embedder.embed([self._passage(r) for r in judged],
                                      batch_size=self.config.enrich.batch_size)
        self.db["embeddings"].upsert_all(
            [{"article_id": r["id"], "model": self.spec.key, "vector": to_blob(v)}
             for r, v in zip(judged, vectors, strict=True)], pk=("article_id", "model"))
        fresh = []
        for row, vector in zip(judged, vectors, strict=True):
            if row["id"] in self.index:  # re-embedded: same row, new vector
                self.matrix[self.index[row["id"]]] = vector
            else:
                self.index[row["id"]] = len(self.ids)
                self.ids.append(row["id"])
                fresh.append(vector)
        if fresh:  # one copy of the matrix per batch, not per article
            self.matrix = np.vstack([self.matrix, np.stack(fresh)])
        self.summary.embedded += len(judged)
        for row, vector in zip(judged, vectors, strict=True):
            update = self._relevance(row, vector)
            row.update(update)
            self.db["articles"].update(row["id"], {**update, "enriched_at": now,
                                                   "enrich_note": None,
                                                   "language": row["language"]})
        self._link_reprints(judged, vectors)
        self._cluster([r for r in judged if r["related"] and r["cluster_id"] is None])

    def _passage(self, row: dict) -> str:
        headline_only = len((row["text"] or "").split()) < self.config.enrich.headline_only_words
        return passage(row["title"], row["text"] or "",
                       row["description"] if headline_only else None)

    def example_features(self, examples: list) -> list[dict[str, float]]:
        """Features of labelled examples (enrich.calibrate.Example) as this enricher would
        judge them, against the topic and seeds only: an article a user labelled must not
        be measured against itself."""
        from enrich.calibrate import feature_rows

        self._load_seeds()
        self._load_vectors()
        self._load_prototypes(with_labels=False)
        rows = [{"title": e.title, "text": e.text, "description": e.description}
                for e in examples]
        vectors = self.embedder.embed([self._passage(r) for r in rows],
                                      batch_size=self.config.enrich.batch_size)
        return feature_rows(examples, vectors, self.evidence)

    def evidence(self, row: dict, vector: np.ndarray) -> Evidence:
        e = self.config.enrich
        return gather(row["title"], row["text"] or "", row["description"], row["language"],
                      vector, self.vocabulary, self.prototypes, e.model_languages,
                      e.headline_only_words)

    def _relevance(self, row: dict, vector: np.ndarray) -> dict[str, Any]:
        model = self.calibration.relevance
        evidence = self.evidence(row, vector)
        relevance = model.score(evidence.features())
        related = relevance >= model.threshold
        why = reason(evidence, model, relevance, related)
        if row["id"] in self.labels:  # a user's label decides; the model's view is kept
            related = self.labels[row["id"]]
            why = f"labelled {'related' if related else 'unrelated'} by a user; model: {why}"
        if related:
            self.summary.related += 1
        return {"relevance": round(relevance, 4), "related": int(related),
                "relevance_reason": why,
                "judged_on": "headline" if evidence.headline_only else "text"}

    def _rescore_all(self) -> None:
        """Seeds, keywords or calibration changed: every stored score follows."""
        ids = [r[0] for r in self.db.execute(
            "select id from articles where enriched_at is not null and enrich_note is null")]
        step = self.config.enrich.commit_every
        for start in range(0, len(ids), step):
            with self.db.atomic():
                rows = [r for r in self._rows(ids[start:start + step]) if r["id"] in self.index]
                newly_related = []
                for row in rows:
                    update = self._relevance(row, self.matrix[self.index[row["id"]]])
                    self.db["articles"].update(row["id"], update)
                    if update["related"] and row["cluster_id"] is None:
                        newly_related.append({**row, **update})
                self._cluster(newly_related)
                self.summary.rescored += len(rows)
        self.summary.related = 0  # counts below are for this run's new articles only
        self._set_state("relevance_signature", self.signature)

    # --- reprints -----------------------------------------------------------------------
    def _load_reprint_groups(self) -> None:
        self.groups = Groups()
        for copy, original in self.db.execute(
                "select id, duplicate_of from articles where duplicate_of is not null"):
            self.groups.union(copy, original)
        self._shingles: dict[str, set[int]] = {}

    def _shingles_of(self, article_id: str, text: str | None = None) -> set[int]:
        if article_id not in self._shingles:
            if text is None:
                row = self.db.execute("select text from articles where id = ?",
                                      [article_id]).fetchone()
                text = row[0] if row else ""
            self._shingles[article_id] = shingles(text or "")
        return self._shingles[article_id]

    def _link_reprints(self, rows: list[dict], vectors: np.ndarray) -> None:
        rule = self.calibration.reprints
        touched = set()
        for row, vector in zip(rows, vectors, strict=True):
            sims = self.matrix @ vector
            mine = self._shingles_of(row["id"], row["text"])
            for j in np.nonzero(sims >= rule.min_similarity)[0]:
                other = self.ids[int(j)]
                if other == row["id"]:
                    continue
                if containment(mine, self._shingles_of(other)) >= rule.min_containment:
                    self.groups.union(row["id"], other)
                    touched.add(self.groups.find(row["id"]))
        for members in self.groups.groups():
            if self.groups.find(members[0]) not in touched:
                continue
            marks = ",".join("?" * len(members))
            ordered = list(self.db.query(
                f"select id, duplicate_of, cluster_id from articles where id in ({marks}) "
                "order by coalesce(published, first_seen), first_seen, id", members))
            original = ordered[0]
            if original["duplicate_of"] is not None:
                self.db["articles"].update(original["id"], {"duplicate_of": None})
            for copy in ordered[1:]:
                if copy["duplicate_of"] != original["id"]:
                    self.db["articles"].update(copy["id"], {"duplicate_of": original["id"]})
                    self.summary.reprints += 1
            for row in rows:
                if row["id"] in members and row["id"] != original["id"]:
                    row["duplicate_of"] = original["id"]

    # --- clusters -----------------------------------------------------------------------
    def _cluster(self, rows: list[dict]) -> None:
        for row in sorted(rows, key=lambda r: (story_day(r), r["id"])):
            vector = self.matrix[self.index[row["id"]]]
            counts = names(f"{row['title'] or ''}\n{row['text'] or ''}", self.ignore_names)
            day = story_day(row)
            cluster_id = self._original_cluster(row)
            if cluster_id is not None and cluster_id in self.cluster_pos:
                index = self.cluster_pos[cluster_id]
                self.clusterer.join(index, vector, counts, day)
            else:
                index = self.clusterer.assign(vector, counts, day)
            cluster = self.clusterer.clusters[index]
            if cluster.id is None:
                cluster.id = self._insert_cluster(cluster)
                self.cluster_pos[cluster.id] = index
                self.summary.new_clusters += 1
            self.db["articles"].update(row["id"], {"cluster_id": cluster.id})
            row["cluster_id"] = cluster.id
            self.summary.clustered += 1
        self._save_touched_clusters()

    def _original_cluster(self, row: dict) -> int | None:
        if not row.get("duplicate_of"):
            return None
        found = self.db.execute("select cluster_id from articles where id = ?",
                                [row["duplicate_of"]]).fetchone()
        return found[0] if found else None

    def _insert_cluster(self, cluster: Cluster) -> int:
        table = self.db["clusters"]
        table.insert({"label": "", "first_seen": cluster.first.isoformat(),
                      "last_seen": cluster.last.isoformat(), "size": 0, "related": 1})
        return int(table.last_pk)

    def _save_touched_clusters(self) -> None:
        for cluster in self.clusterer.clusters:
            if not cluster.touched or cluster.id is None:
                continue
            members = list(self.db.query(
                "select a.title, a.duplicate_of, e.vector from articles a join embeddings e "
                "on e.article_id = a.id and e.model = ? where a.cluster_id = ?",
                [self.spec.key, cluster.id]))
            label = ""
            # The label is an original's headline (a reprint's may be rewritten by the
            # syndicator), the one nearest the cluster's centre.
            originals = [m for m in members if not m["duplicate_of"]] or members
            if originals:
                closeness = [float(from_blob(m["vector"]) @ cluster.centroid)
                             for m in originals]
                label = originals[int(np.argmax(closeness))]["title"] or ""
            self.db["clusters"].update(cluster.id, {
                "label": label, "size": len(members), "first_seen": cluster.first.isoformat(),
                "last_seen": cluster.last.isoformat(), "centroid": to_blob(cluster.centroid),
                "names": _dump_names(cluster.names)})
            cluster.touched = False

    def _mark_seed_clusters(self) -> None:
        """A seed story's cluster is the one its own text would join."""
        for seed, vector in zip(self.seeds, self.seed_matrix, strict=True):
            if self.db.execute("select 1 from clusters where seed_id = ?",
                               [seed["id"]]).fetchone():
                continue
            counts = names(f"{seed['headline']}\n{seed['text']}", self.ignore_names)
            day = date.fromisoformat((seed["published"] or utcnow())[:10])
            index, _ = self.clusterer.best(vector, counts, day)
            if index is not None and self.clusterer.clusters[index].id is not None:
                self.db["clusters"].update(self.clusterer.clusters[index].id,
                                           {"seed_id": seed["id"]})


def _dump_names(counts: Counter) -> str:
    return " ".join(f"{word}:{n}" for word, n in counts.most_common(200))


def _parse_names(text: str | None) -> list[tuple[str, int]]:
    pairs = []
    for item in (text or "").split():
        word, _, n = item.rpartition(":")
        if word and n.isdigit():
            pairs.append((word, int(n)))
    return pairs


def enrich_store(db: Database, config: Config, progress: bool = False) -> EnrichSummary:
    """Enrich everything pending in `db`."""
    return Enricher(db, config, progress=progress).run()

