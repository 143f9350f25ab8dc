"""Relevance's pure parts: term matching, the topic description, fitting and reasons."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from enrich.relevance import (
    FEATURES,
    Evidence,
    Prototypes,
    TermList,
    description_items,
    fit,
    gather,
    reason,
)


@pytest.mark.parametrize("terms, text, expected", [
    (["facial recognition"], "Facial-recognition bans spread; facial recognition again",
     {"facial recognition": 2}),
    (["face match*"], "a face-matching tool and two face matches", {"face matching": 1,
                                                                  "face matches": 1}),
    (["Gesichtserkennung*"], "Die Gesichtserkennungssoftware der Polizei",
     {"gesichtserkennungssoftware": 1}),
    (["rozpoznawani* twarzy"], "system rozpoznawania twarzy", {"rozpoznawania twarzy": 1}),
    (["ban"], "a banner and a bank, no ban-ish word... but a ban", {"ban": 2}),
    (["live facial recognition", "facial recognition"], "live facial recognition vans",
     {"live facial recognition": 1}),
])
def test_terms_match_whole_words_with_stems_and_hyphens(terms, text, expected):
    assert TermList(terms).count(text) == Counter(expected)


def test_an_empty_list_matches_nothing():
    assert TermList([]).count("anything at all") == Counter()


def test_description_items_split_related_and_not():
    related, unrelated = description_items(
        "Related: a ban; a lawsuit.\nNot related: face unlock; pets.\nBorderline: voice")
    assert related == ["a ban", "a lawsuit"]
    assert unrelated == ["face unlock", "pets"]
    assert description_items("Anything about owls") == (["Anything about owls"], [])


def evidence(**counts) -> Evidence:
    base: dict[str, Any] = dict(language="en", foreign=False, headline_only=False, words=300,
                                title_terms=Counter(), lead_terms=Counter(), terms=Counter(),
                                context=Counter(), against=Counter())
    base.update(counts)
    return Evidence(**base)


def test_fit_learns_that_the_technology_with_a_policy_angle_is_related():
    rows, labels = [], []
    for n in range(40):
        on_topic = n % 2 == 0
        e = evidence(terms=Counter({"facial recognition": 3 + n % 3}) if on_topic
                     else Counter(), context=Counter({"ban": 2, "police": 1 + n % 2}),
                     title_terms=Counter({"facial recognition": 1}) if on_topic else Counter())
        e.topic_similarity = 0.4 if on_topic else 0.2
        rows.append(e.features())
        labels.append(on_topic)
    model = fit(rows, labels, l2=1.0)
    assert set(model.weights) == set(FEATURES)
    related = evidence(terms=Counter({"face recognition": 4}), context=Counter({"court": 3}),
                       title_terms=Counter({"face recognition": 1}))
    related.topic_similarity = 0.45
    assert model.score(related.features()) > 0.9
    assert model.score(evidence(context=Counter({"ban": 2})).features()) < 0.1
    text = reason(related, model, model.score(related.features()), True)
    assert text.startswith("related (") and "for: " in text


def test_a_foreign_article_is_judged_on_its_vocabulary_and_says_so():
    topic_vocab = __import__("enrich.relevance", fromlist=["TopicVocabulary"])
    from frwatch.config import Topic, Vocabulary

    vocab = topic_vocab.TopicVocabulary(Topic(name="t", keywords=["Clearview"], vocabulary={
        "en": Vocabulary(terms=["facial recognition"], context=["police"]),
        "de": Vocabulary(terms=["Gesichtserkennung*"], context=["Polizei*"])}))
    vector = np.ones(4, dtype=np.float32) / 2
    found = gather("Polizei testet Gesichtserkennung", "Die Polizei und Clearview. " * 20,
                   None, "de", vector, vocab, Prototypes.empty(4), ["en"], 80)
    assert found.foreign and found.features()["topic_similarity"] == 0.0
    assert found.title_terms == Counter({"gesichtserkennung": 1})
    assert found.terms["clearview"] == 20
    assert found.context["polizei"] == 21
    english = gather("Police test", "Die Polizei " * 20, None, "en", vector, vocab,
                     Prototypes.empty(4), ["en"], 80)
    assert not english.context.get("polizei")  # German lists apply to German articles


def test_a_teaser_is_judged_on_headline_and_description():
    vocab = __import__("enrich.relevance", fromlist=["TopicVocabulary"]).TopicVocabulary(
        __import__("frwatch.config", fromlist=["Topic"]).Topic(
            name="t", keywords=["face recognition"]))
    found = gather("County bans face recognition", "Subscribe to read more.",
                   "Commissioners vote 4-1", "en", np.zeros(4, dtype=np.float32), vocab,
                   Prototypes.empty(4), ["en"], 80)
    assert found.headline_only and found.features()["headline_only"] == 1.0
    assert found.terms == Counter({"face recognition": 1})
