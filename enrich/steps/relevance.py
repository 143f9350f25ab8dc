"""Relevance: the evidence about an article and the calibrated model's verdict on it.

What meaning is measured against (the prototypes) is built once per run from the topic's
description, the seed stories and users' labels. The run's `signature` changes whenever
any of those, the model or the calibration changes; a stored signature that differs means
every stored verdict must be judged again (`frwatch enrich` does that first).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from enrich.calibration import Calibration
from enrich.relevance import (
    Evidence,
    Prototypes,
    TopicVocabulary,
    description_items,
    gather,
    reason,
)
from enrich.steps.embed import Embedding, Seeds
from enrich.store import EnrichStore
from frwatch.config import Config


def build_prototypes(embedding: Embedding, description: str, seeds: Seeds,
                     labelled: dict[str, dict]) -> Prototypes:
    """The description's items, the seed stories and the labelled articles (those with a
    vector), each with what it stands for."""
    related, unrelated = description_items(description)
    items = embedding.embed_texts(related + unrelated)
    vectors = embedding.vectors
    mine = [k for k in labelled if k in vectors]
    liked = [k for k in mine if labelled[k]["verdict"] == "related"]
    disliked = [k for k in mine if labelled[k]["verdict"] != "related"]
    return Prototypes(
        related=items[:len(related)], related_items=related,
        unrelated=np.vstack([items[len(related):], vectors.rows(disliked)]),
        unrelated_items=unrelated + [f"labelled unrelated: {labelled[k]['title']}"
                                     for k in disliked],
        exemplars=np.vstack([seeds.matrix, vectors.rows(liked)]),
        exemplar_titles=[f"seed: {s['headline']}" for s in seeds.rows]
        + [f"labelled related: {labelled[k]['title']}" for k in liked])


def signature(config: Config, model_key: str, calibration: Calibration, seeds: Seeds,
              labelled: dict[str, dict]) -> str:
    """What every verdict depends on besides the article, as a short digest."""
    digest = hashlib.sha256()
    for s in seeds.rows:
        digest.update(s["id"].encode())
    digest.update(model_key.encode())
    digest.update(calibration.signature().encode())
    digest.update(config.topic.model_dump_json(exclude={"base"}).encode())
    digest.update(config.enrich.model_dump_json().encode())
    for key in sorted(labelled):
        digest.update(f"{key}={labelled[key]['verdict']}".encode())
    return digest.hexdigest()[:16]


class Relevance:
    """Judges articles against the topic. `with_labels=False` measures against the topic
    and seeds only (calibration: an article a user labelled must not be measured against
    itself); a user's label still decides that article's verdict."""

    def __init__(self, store: EnrichStore, embedding: Embedding, config: Config,
                 calibration: Calibration, seeds: Seeds, with_labels: bool = True):
        labelled = store.labels()
        self.settings = config.enrich
        self.model = calibration.relevance
        self.vocabulary = TopicVocabulary(config.topic)
        self.labels = {key: row["verdict"] == "related" for key, row in labelled.items()}
        self.prototypes = build_prototypes(embedding, config.topic.description, seeds,
                                           labelled if with_labels else {})
        self.signature = signature(config, store.model_key, calibration, seeds, labelled)

    def evidence(self, row: dict, vector: np.ndarray) -> Evidence:
        e = self.settings
        return gather(row["title"], row["text"] or "", row["description"], row["language"],
                      vector, self.vocabulary, self.prototypes, e.model_languages,
                      e.headline_only_words)

    def judge(self, row: dict, vector: np.ndarray) -> dict[str, Any]:
        """The article's verdict columns: relevance, related, the reason, what was read."""
        evidence = self.evidence(row, vector)
        relevance = self.model.score(evidence.features())
        related = relevance >= self.model.threshold
        why = reason(evidence, self.model, relevance, related)
        if row["id"] in self.labels:  # a user's label decides; the model's view is kept
            related = self.labels[row["id"]]
            why = f"labelled {'related' if related else 'unrelated'} by a user; model: {why}"
        return {"relevance": round(relevance, 4), "related": int(related),
                "relevance_reason": why,
                "judged_on": "headline" if evidence.headline_only else "text"}
