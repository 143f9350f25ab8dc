"""Story clusters and reprints: windows, spans, names, shingles."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np

from enrich.clusters import ClusterRule, StoryClusterer, names
from enrich.reprints import Groups, containment, shingles


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_same_story_joins_and_a_later_one_starts_anew():
    clusterer = StoryClusterer(ClusterRule(embedding_weight=0.5, threshold=0.4, window_days=14,
                                         max_span_days=45), [], Counter(), 0)
    day = date(2020, 6, 10)
    a = clusterer.assign(unit(1, 0.1, 0), Counter({"amazon": 2, "rekognition": 1}), day)
    b = clusterer.assign(unit(1, 0.12, 0), Counter({"amazon": 1, "rekognition": 2}),
                         day + timedelta(days=1))
    c = clusterer.assign(unit(1, 0.1, 0), Counter({"amazon": 2}), day + timedelta(days=30))
    assert a == b != c
    assert clusterer.clusters[a].size == 2


def test_a_story_does_not_grow_past_its_span():
    clusterer = StoryClusterer(ClusterRule(embedding_weight=0.5, threshold=0.4, window_days=14,
                                         max_span_days=20), [], Counter(), 0)
    first = date(2021, 1, 1)
    ids = [clusterer.assign(unit(1, 0, 0), Counter({"portland": 1}), first + timedelta(days=d))
           for d in (0, 10, 19, 25)]
    assert ids[:3] == [ids[0]] * 3 and ids[3] != ids[0]


def test_names_skip_sentence_starts_and_ignored_words():
    found = names("Police in Boston met. The Boston council and IBM agreed with Boston.",
                  {"ibm"})
    assert found["boston"] == 3 and "police" not in found and "ibm" not in found


def test_reprints_share_shingles_and_groups_merge():
    text = " ".join(f"word{n}" for n in range(60))
    assert containment(shingles(text), shingles(text + " extra words here")) == 1.0
    assert containment(shingles(text), shingles(" ".join(f"other{n}" for n in range(60)))) == 0
    groups = Groups()
    groups.union("a", "b")
    groups.union("c", "b")
    assert sorted(sorted(g) for g in groups.groups()) == [["a", "b", "c"]]
