"""How close an article is to the topic: seed-story similarity plus keyword evidence.

The score is a logistic function of three features, with weights fitted on the labelled
set (`python -m benchmarks.enrich --calibrate`):

- ``seed_similarity``: s, the highest cosine similarity to any seed story;
- ``similarity_x_mentions``: s × log(1 + how often the topic's keywords occur in the
  article's extracted text and title, never its page furniture);
- ``similarity_x_lead``: s × (1 when a keyword is in the title or first 400 characters).

Keyword evidence is weighed by similarity: a keyword in an article about something else
(a private-equity firm that happens to be called Clearview, a phone's face unlock) adds
little, while the same words in an article close to the seed story add much. Fitted this
way, held-out precision went from 0.982 to 1.000 on the labelled set (see README).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

LEAD_CHARS = 400


@dataclass(frozen=True)
class RelevanceModel:
    intercept: float
    seed_similarity: float
    similarity_x_mentions: float
    similarity_x_lead: float
    threshold: float


@dataclass
class Evidence:
    similarity: float
    seed_headline: str | None
    mentions: dict[str, int]
    in_lead: bool

    def features(self) -> tuple[float, float, float]:
        s = self.similarity
        return (s, s * math.log1p(sum(self.mentions.values())), s if self.in_lead else 0.0)


class KeywordMatcher:
    """Whole-word, case-insensitive matching of the topic's keywords; hyphen and space
    variants match each other ("facial-recognition" counts as "facial recognition")."""

    def __init__(self, keywords: list[str]):
        self.keywords = keywords
        self.patterns = [
            (keyword, re.compile(r"(?<!\w)" + r"[\s\-]+".join(
                re.escape(part) for part in re.split(r"[\s\-]+", keyword.strip()))
                + r"(?!\w)", re.IGNORECASE))
            for keyword in keywords if keyword.strip()
        ]

    def count(self, text: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        spans: list[tuple[int, int]] = []
        # Longer keywords first, so "live facial recognition" is not counted twice.
        for keyword, pattern in sorted(self.patterns, key=lambda kp: -len(kp[0])):
            for match in pattern.finditer(text):
                if any(s < match.end() and match.start() < e for s, e in spans):
                    continue
                spans.append(match.span())
                canonical = keyword.lower().replace("-", " ")
                counts[canonical] = counts.get(canonical, 0) + 1
        return counts


def gather(title: str | None, text: str, similarity: float, seed_headline: str | None,
           matcher: KeywordMatcher) -> Evidence:
    title = title or ""
    mentions = matcher.count(f"{title}\n{text}")
    in_lead = bool(matcher.count(f"{title}\n{text[:LEAD_CHARS]}"))
    return Evidence(similarity, seed_headline, mentions, in_lead)


def score(evidence: Evidence, model: RelevanceModel) -> float:
    sim, mentions, lead = evidence.features()
    z = (model.intercept + model.seed_similarity * sim + model.similarity_x_mentions * mentions
         + model.similarity_x_lead * lead)
    return 1.0 / (1.0 + math.exp(-z))


def reason(evidence: Evidence, relevance: float, related: bool) -> str:
    """Why, in words: '0.71 similar to seed "…"; mentions: facial recognition (4)'."""
    seed = f' "{evidence.seed_headline}"' if evidence.seed_headline else ""
    parts = [f"{evidence.similarity:.2f} similar to seed{seed}"]
    if evidence.mentions:
        listed = sorted(evidence.mentions.items(), key=lambda kv: (-kv[1], kv[0]))
        parts.append("mentions: " + ", ".join(f"{k} ({n})" for k, n in listed))
        if not evidence.in_lead:
            parts.append("none in the headline or lead")
    else:
        parts.append("no topic keywords")
    verdict = "related" if related else "not related"
    return f"{verdict} ({relevance:.2f}): " + "; ".join(parts)
