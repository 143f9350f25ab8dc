"""How close an article is to the topic: several kinds of evidence, none with a veto.

An article is judged on

- the **technology**: the topic's terms and the paraphrases journalists use for them
  (``vocabulary.<lang>.terms`` and ``keywords``) — in the headline, in the lead, how often;
- the **policy angle**: law, ban, court, fine, police, regulator, rights …
  (``vocabulary.<lang>.context``), alone and together with the technology;
- **what the definition leaves out**: face unlock, animals, tutorials, earnings, plate
  readers … (``vocabulary.<lang>.against``);
- **meaning**, from the embedding: closeness to the items of the topic's description
  ("Related: a; b; …"), and how much closer it is to those than to the "Not related"
  items; closeness to the nearest seed story or article a user labelled related.

English lists apply to every article; another language's lists to articles in that
language. The embedding model reads the languages in ``enrich.model_languages``; in any
other, its features are set aside (``foreign``) and the vocabulary carries the verdict.
A page with less text than ``enrich.headline_only_words`` (a paywall teaser) is judged on
its headline, description and teaser, and marked so.

The features are combined by a logistic regression on standardised features, fitted on
the labelled set plus users' labels (`frwatch calibrate`). `reason()` names the evidence
that weighed most on either side.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from frwatch.config import Topic

LEAD_CHARS = 400

FEATURES = (
    "term_title",           # the technology is named in the headline (0/1)
    "term_lead",            # … in the description or the first 400 characters (0/1)
    "term_mentions",        # log(1 + mentions of the technology)
    "context_mentions",     # log(1 + mentions of the policy angle)
    "term_x_context",       # both at once: min(1, technology) × log(1 + policy)
    "against_mentions",     # log(1 + cues of what the definition leaves out)
    "topic_similarity",     # cosine to the nearest "Related" item of the description
    "topic_contrast",       # that minus the cosine to the nearest "Not related" item
    "exemplar_similarity",  # cosine to the nearest seed story or user-labelled article
    "foreign",              # the model does not read the article's language (0/1)
    "headline_only",        # judged on headline and teaser (0/1)
)
MEANING = ("topic_similarity", "topic_contrast", "exemplar_similarity")


# --- words --------------------------------------------------------------------------------

def _pattern(term: str) -> str:
    """A term as a regex: `*` is any word characters, a space or hyphen any run of them."""
    parts = [p for p in re.split(r"[\s\-]+", term.strip()) if p]
    return r"[\s\-]+".join(re.escape(p).replace(r"\*", r"\w*") for p in parts)


class TermList:
    """Whole-word, case-insensitive counting of a list of terms in one regex. Longer terms
    are tried first, so a mention is counted once ("live facial recognition")."""

    def __init__(self, terms: list[str]):
        unique = sorted({t.strip() for t in terms if t.strip()}, key=lambda t: (-len(t), t))
        self.terms = unique
        self.regex = (re.compile(r"(?<!\w)(?:" + "|".join(_pattern(t) for t in unique)
                                 + r")(?!\w)", re.IGNORECASE) if unique else None)

    def count(self, text: str) -> Counter:
        if self.regex is None or not text:
            return Counter()
        return Counter(re.sub(r"[\s\-]+", " ", m.group(0).lower())
                       for m in self.regex.finditer(text))


@dataclass(frozen=True)
class Vocabulary:
    terms: TermList
    context: TermList
    against: TermList


class TopicVocabulary:
    """The topic's lists per language; English (and `keywords`) apply to every article."""

    def __init__(self, topic: Topic):
        english = topic.vocabulary.get("en")
        base_terms = list(topic.keywords) + (english.terms if english else [])
        base_context = english.context if english else []
        base_against = english.against if english else []
        self.default = Vocabulary(TermList(base_terms), TermList(base_context),
                                  TermList(base_against))
        self.by_language = {
            lang: Vocabulary(TermList(base_terms + v.terms), TermList(base_context + v.context),
                             TermList(base_against + v.against))
            for lang, v in topic.vocabulary.items() if lang != "en"}

    def for_language(self, language: str | None) -> Vocabulary:
        return self.by_language.get((language or "")[:2].lower(), self.default)


def description_items(description: str) -> tuple[list[str], list[str]]:
    """The "Related:" and "Not related:" items of a topic description (`;`-separated).
    A description without those headings is one "related" item."""
    related: list[str] = []
    unrelated: list[str] = []
    target: list[str] | None = None
    for line in description.splitlines():
        head, sep, rest = line.partition(":")
        key = head.strip().lower()
        if sep and key == "related":
            target = related
        elif sep and key in ("not related", "unrelated"):
            target = unrelated
        elif sep and key.startswith("borderline"):
            target = None
            continue
        else:
            rest = line
        if target is not None:
            target.extend(item.strip(" .") for item in rest.split(";") if item.strip(" ."))
    if not related and not unrelated and description.strip():
        related = [description.strip()]
    return related, unrelated


# --- evidence ------------------------------------------------------------------------------

@dataclass
class Prototypes:
    """The vectors meaning is measured against, with what each stands for."""

    related: np.ndarray                 # description "Related" items
    related_items: list[str]
    unrelated: np.ndarray               # "Not related" items + user-labelled unrelated
    unrelated_items: list[str]
    exemplars: np.ndarray               # seed stories + user-labelled related articles
    exemplar_titles: list[str]

    @staticmethod
    def empty(dimensions: int) -> Prototypes:
        none = np.zeros((0, dimensions), dtype=np.float32)
        return Prototypes(none, [], none, [], none, [])


def _nearest(matrix: np.ndarray, labels: list[str], vector: np.ndarray) -> tuple[float, str]:
    if not len(labels):
        return 0.0, ""
    sims = matrix @ vector
    best = int(np.argmax(sims))
    return float(sims[best]), labels[best]


@dataclass
class Evidence:
    language: str | None
    foreign: bool
    headline_only: bool
    words: int
    title_terms: Counter
    lead_terms: Counter
    terms: Counter
    context: Counter
    against: Counter
    topic_similarity: float = 0.0
    topic_item: str = ""
    unrelated_similarity: float = 0.0
    unrelated_item: str = ""
    exemplar_similarity: float = 0.0
    exemplar_title: str = ""

    def features(self) -> dict[str, float]:
        policy = math.log1p(sum(self.context.values()))
        meaning = not self.foreign
        return {
            "term_title": float(bool(self.title_terms)),
            "term_lead": float(bool(self.lead_terms)),
            "term_mentions": math.log1p(sum(self.terms.values())),
            "context_mentions": policy,
            "term_x_context": policy if self.terms else 0.0,
            "against_mentions": math.log1p(sum(self.against.values())),
            "topic_similarity": self.topic_similarity if meaning else 0.0,
            "topic_contrast": (self.topic_similarity - self.unrelated_similarity
                               if meaning else 0.0),
            "exemplar_similarity": self.exemplar_similarity if meaning else 0.0,
            "foreign": float(self.foreign),
            "headline_only": float(self.headline_only),
        }


def gather(title: str | None, text: str, description: str | None, language: str | None,
           vector: np.ndarray, vocabulary: TopicVocabulary, prototypes: Prototypes,
           model_languages: list[str], headline_only_words: int) -> Evidence:
    """Everything relevance knows about one article."""
    title = title or ""
    text = text or ""
    words = len(text.split())
    headline_only = words < headline_only_words
    lead = f"{description or ''}\n{text[:LEAD_CHARS]}"
    body = f"{title}\n{description or ''}\n{text}" if headline_only else f"{title}\n{text}"
    lists = vocabulary.for_language(language)
    lang = (language or "")[:2].lower()
    evidence = Evidence(
        language=language, foreign=bool(lang) and lang not in model_languages,
        headline_only=headline_only, words=words,
        title_terms=lists.terms.count(title), lead_terms=lists.terms.count(lead),
        terms=lists.terms.count(body), context=lists.context.count(body),
        against=lists.against.count(body))
    evidence.topic_similarity, evidence.topic_item = _nearest(
        prototypes.related, prototypes.related_items, vector)
    evidence.unrelated_similarity, evidence.unrelated_item = _nearest(
        prototypes.unrelated, prototypes.unrelated_items, vector)
    evidence.exemplar_similarity, evidence.exemplar_title = _nearest(
        prototypes.exemplars, prototypes.exemplar_titles, vector)
    return evidence


# --- the model -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RelevanceModel:
    """Logistic regression on standardised features, weights by feature name."""

    intercept: float
    weights: dict[str, float]
    mean: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.5

    def contributions(self, features: dict[str, float]) -> dict[str, float]:
        return {name: w * (features.get(name, 0.0) - self.mean.get(name, 0.0))
                / (self.scale.get(name, 1.0) or 1.0) for name, w in self.weights.items()}

    def score(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(self.contributions(features).values())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_dict(self) -> dict:
        return asdict(self)


def fit(rows: list[dict[str, float]], labels: list[bool], l2: float = 1.0,
        weights: list[float] | None = None, threshold: float = 0.5) -> RelevanceModel:
    """Fit the model by Newton's method (L2-penalised logistic regression): a few dozen
    features and a few hundred articles, no library needed."""
    x = np.array([[r[name] for name in FEATURES] for r in rows], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    w_sample = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([np.ones((len(y), 1)), (x - mean) / scale])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0  # the intercept is not shrunk
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -60, 60)))
        gradient = z.T @ (w_sample * (p - y)) + penalty * beta
        hessian = (z.T * (w_sample * p * (1 - p))) @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return RelevanceModel(
        intercept=round(float(beta[0]), 6),
        weights={n: round(float(b), 6) for n, b in zip(FEATURES, beta[1:], strict=True)},
        mean={n: round(float(m), 6) for n, m in zip(FEATURES, mean, strict=True)},
        scale={n: round(float(s), 6) for n, s in zip(FEATURES, scale, strict=True)},
        threshold=threshold)


# --- the reason ------------------------------------------------------------------------------

def _listed(counts: Counter, limit: int = 3) -> str:
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{term} ({n})" if n > 1 else term for term, n in top)


def _phrase(name: str, e: Evidence, value: float) -> str:
    if name == "term_title":
        return (f"the headline names it ({_listed(e.title_terms, 2)})" if e.title_terms
                else "the headline does not name the technology")
    if name == "term_lead":
        return (f"the lead names it ({_listed(e.lead_terms, 2)})" if e.lead_terms
                else "the lead does not name the technology")
    if name == "term_mentions":
        if not e.terms:
            return "no mention of the technology"
        few = "only " if value < 0 else ""
        return f"{few}{sum(e.terms.values())} mention(s) of the technology: {_listed(e.terms)}"
    if name == "context_mentions":
        if not e.context:
            return "no policy angle"
        return f"{'little ' if value < 0 else ''}policy angle: {_listed(e.context)}"
    if name == "term_x_context":
        if e.terms and e.context:
            return f"the technology with a policy angle ({_listed(e.context, 2)})"
        return ("the technology without a policy angle" if e.terms
                else "no technology for the policy angle to be about")
    if name == "against_mentions":
        return (f"off-topic cues: {_listed(e.against)}" if e.against
                else "no off-topic cues")
    if name == "topic_similarity":
        return f'{e.topic_similarity:.2f} similar to the topic ("{e.topic_item}")'
    if name == "topic_contrast":
        return (f'closer to "{e.topic_item}" than to any excluded kind'
                if e.topic_similarity >= e.unrelated_similarity
                else f'closer to "{e.unrelated_item}" (not related)')
    if name == "exemplar_similarity":
        return f'{e.exemplar_similarity:.2f} similar to "{e.exemplar_title}"'
    if name == "foreign":
        return (f"in {e.language}, which the model does not read: the vocabulary decides"
                if e.foreign else "a language the model reads")
    if name == "headline_only":
        return "judged on the headline and teaser"
    return name


def reason(evidence: Evidence, model: RelevanceModel, relevance: float, related: bool) -> str:
    """Why, in words: the verdict, then the evidence that weighed most on either side,
    e.g. 'related (0.97): for: the headline names it (facial recognition); policy angle:
    police (4), ban (2), council (2); against: off-topic cues: API'."""
    contributions = model.contributions(evidence.features())
    ranked = sorted(contributions.items(), key=lambda kv: -abs(kv[1]))
    merged: dict[str, list[str]] = {"for": [], "against": []}
    seen: set[str] = set()
    for name, value in ranked:
        if abs(value) < 0.25 or name in ("foreign", "headline_only"):
            continue
        if evidence.foreign and name in MEANING:  # set aside: the model does not read it
            continue
        phrase = _phrase(name, evidence, value)
        if phrase in seen:
            continue
        seen.add(phrase)
        side = merged["for" if value > 0 else "against"]
        if len(side) < 3:
            side.append(phrase)
    verdict = "related" if related else "not related"
    head = f"{verdict} ({relevance:.2f})"
    if evidence.headline_only:
        head += f", judged on the headline and teaser only ({evidence.words} words of text)"
    if evidence.foreign:
        head += f"; in {evidence.language}, judged on the vocabulary"
    parts = [f"{side}: " + "; ".join(items) for side, items in merged.items() if items]
    return head + (": " + " — ".join(parts) if parts else "")
