"""Enrichment's steps without the model: hand-made vectors over a real SQLite store."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest

from enrich.clusters import (
    ClusterRule,
    dump_names,
    ignored_names,
    label_of,
    parse_names,
)
from enrich.reprints import ReprintRule, links_to_original
from enrich.run import usable
from enrich.steps.clusters import Clusters, story_day
from enrich.steps.embed import Seeds, Vectors, passage
from enrich.steps.reprints import Reprints
from enrich.store import EnrichStore
from frwatch.db import open_db

STORY = " ".join(f"council{n} voted to ban the police use of face scanning" for n in range(8))


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def store(tmp_path):
    db = open_db(tmp_path / "store.db")
    yield EnrichStore(db, "test-model")
    db.close()


def add(store: EnrichStore, key: str, published: str, text: str = STORY,
        title: str | None = None, duplicate_of: str | None = None) -> dict:
    row = {"id": key, "url": f"https://x.test/{key}", "canonical_url": f"https://x.test/{key}",
           "title": title or f"Headline {key}", "text": text, "published": published,
           "first_seen": f"{published}T00:00:00+00:00", "duplicate_of": duplicate_of}
    store.db.table("articles").insert(row)
    return store.articles([key])[0]


# --- pure parts -----------------------------------------------------------------------------

def test_the_first_copy_becomes_the_original_and_only_changed_links_are_written():
    ordered: list[dict] = [{"id": "a", "duplicate_of": "b"},
                           {"id": "b", "duplicate_of": None},
                           {"id": "c", "duplicate_of": "a"}]
    assert links_to_original(ordered) == [("a", None), ("b", "a")]
    assert links_to_original([{"id": "a", "duplicate_of": None},
                              {"id": "b", "duplicate_of": "a"}]) == []


def test_cluster_names_round_trip_and_skip_malformed_items():
    counts = Counter({"boston": 3, "o'neil": 2, "wu": 1})
    assert parse_names(dump_names(counts)) == counts
    assert parse_names("boston:2 broken :3 wu:x portland:1") == Counter(
        {"boston": 2, "portland": 1})
    assert parse_names(None) == Counter()


def test_a_cluster_is_labelled_with_the_original_nearest_its_centre():
    centre = unit(1, 0)
    members: list[dict] = [
        {"title": "Far original", "duplicate_of": None, "vector": unit(0, 1)},
        {"title": "Near original", "duplicate_of": None, "vector": unit(1, 0.1)},
        {"title": "Rewritten reprint", "duplicate_of": "x", "vector": unit(1, 0)}]
    assert label_of(members, centre) == "Near original"
    assert label_of(members[2:], centre) == "Rewritten reprint"  # only copies: one of them
    assert label_of([], centre) == ""


def test_topic_keywords_are_ignored_as_names_word_by_word():
    assert ignored_names(["Facial Recognition", "Clearview"]) == {"facial", "recognition",
                                                                  "clearview"}


@pytest.mark.parametrize("row, expected", [
    ({"text": "x" * 100}, True),
    ({"text": "  " + "x" * 99 + "  "}, False),
    ({"text": "", "title": "A headline", "description": "A teaser"}, True),
    ({"text": None, "title": "A headline"}, False),
])
def test_an_article_is_judged_with_text_or_a_headline_and_description(row, expected):
    assert usable(row) is expected


def test_a_teaser_is_read_with_its_description():
    assert passage("Title", "Body") == "Title\nBody"
    assert passage("Title", "", "Teaser") == "Title\nTeaser"
    assert passage(None, "Body", "Teaser") == "Teaser\nBody"


def test_an_article_belongs_to_the_day_it_was_published_else_first_seen():
    assert story_day({"published": "2020-06-10T09:00:00", "first_seen": "2021-01-01"}) == \
        date(2020, 6, 10)
    assert story_day({"published": None, "first_seen": "2021-01-02T00:00:00"}) == \
        date(2021, 1, 2)


def test_vectors_keep_a_re_embedded_article_in_its_row():
    vectors = Vectors(["a"], [unit(1, 0)], 2)
    vectors.put(["a", "b"], np.stack([unit(0, 1), unit(1, 1)]))
    assert vectors.ids == ["a", "b"] and "b" in vectors and "c" not in vectors
    assert np.allclose(vectors.of("a"), unit(0, 1))
    assert vectors.rows([]).shape == (0, 2)
    assert np.allclose(vectors.rows(["b", "a"]), np.stack([unit(1, 1), unit(0, 1)]))


# --- steps over a real store ------------------------------------------------------------------

def test_reprints_link_to_the_earliest_copy(store):
    earlier = add(store, "orig", "2020-06-10")
    later = add(store, "copy", "2020-06-11", text=STORY + " reprinted with thanks")
    other = add(store, "other", "2020-06-09",
                text=" ".join(f"an unrelated story word{n}" for n in range(40)))
    vectors = Vectors(["orig", "other"], [unit(1, 0), unit(1, 0.01)], 2)
    reprints = Reprints(store, ReprintRule(min_similarity=0.9, min_containment=0.5), vectors)
    new = [later]
    vectors.put(["copy"], np.stack([unit(1, 0.02)]))
    assert reprints.link(new, np.stack([unit(1, 0.02)])) == 1
    assert later["duplicate_of"] == "orig"
    stored = {r["id"]: r["duplicate_of"] for r in store.articles(["orig", "copy", "other"])}
    assert stored == {"orig": None, "copy": "orig", "other": None}
    assert earlier["id"] == "orig" and other["duplicate_of"] is None


def test_clusters_are_created_joined_labelled_and_stored(store):
    rows = [add(store, "a", "2020-06-10", title="Boston bans it"),
            add(store, "b", "2020-06-11", title="Syndicated: Boston bans it",
                duplicate_of="a"),
            add(store, "c", "2020-09-30", title="A later story")]
    vectors = Vectors(["a", "b", "c"], [unit(1, 0), unit(1, 0.3), unit(1, 0)], 2)
    store.save_embeddings(vectors.ids, vectors.matrix)  # members are read with their vectors
    rule = ClusterRule(embedding_weight=0.5, threshold=0.4, window_days=14, max_span_days=45)
    seeds = Seeds([], np.zeros((0, 2), dtype=np.float32))
    clusters = Clusters(store, rule, vectors, set(), seeds)
    assert clusters.assign(rows) == (3, 2)
    ids = {r["id"]: r["cluster_id"] for r in store.articles(["a", "b", "c"])}
    assert ids["a"] == ids["b"] != ids["c"]
    stored = {c["id"]: c for c in store.clusters()}
    assert stored[ids["a"]]["size"] == 2 and stored[ids["a"]]["label"] == "Boston bans it"
    assert stored[ids["c"]]["label"] == "A later story"
    # A new run reads the clusters back and a reprint joins its original's cluster.
    copy = add(store, "d", "2020-10-01", title="Boston bans it (reprint)", duplicate_of="a")
    vectors.put(["d"], np.stack([unit(0, 1)]))  # far from every centre: only the link counts
    store.save_embeddings(["d"], vectors.rows(["d"]))
    again = Clusters(store, rule, vectors, set(), seeds)
    assert again.assign([copy]) == (1, 0) and copy["cluster_id"] == ids["a"]
    assert {c["id"]: c["size"] for c in store.clusters()}[ids["a"]] == 3
