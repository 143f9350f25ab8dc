"""Fitting relevance to labels: the shipped labelled set plus users' own.

`frwatch calibrate` and `python -m benchmarks.enrich` share this module. Features come from
the same relevance step (`enrich.steps.relevance.Relevance.evidence`) that `frwatch enrich`
uses, so what is fitted is what runs.
Cross-validation leaves out whole kinds of article (a kind of related coverage, a kind of
hard negative) so that the figures say how the model does on coverage unlike what it was
fitted on, not how well it remembers its examples.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from sqlite_utils import Database

from enrich.calibration import Calibration, load_calibration
from enrich.relevance import RelevanceModel, fit
from enrich.run import judging
from enrich.steps.embed import Embedding
from enrich.steps.relevance import Relevance
from enrich.store import EnrichStore
from frwatch.config import Config
from frwatch.errors import FrwatchError
from frwatch.paths import SEEDS_DIR

LABELLED_DIR = SEEDS_DIR / "labelled"
L2 = 1.0


@dataclass(frozen=True)
class Example:
    """One labelled article: the shipped set's fields, or a stored article a user labelled."""

    id: str
    title: str
    text: str
    description: str | None
    language: str | None
    related: bool
    kind: str
    label: str = ""            # related / hard-negative / other, as the set has it
    story: str | None = None
    reprint_of: str | None = None
    url: str = ""
    source: str = ""
    published: str | None = None
    stub: bool = False

    @property
    def hard(self) -> bool:
        return self.label == "hard-negative"


def shipped_examples(directory: Path = LABELLED_DIR) -> list[Example]:
    """The labelled set shipped with frwatch (seeds/labelled/*.jsonl), borderline left out.
    A missing or unreadable file is an error: the set is never silently smaller."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise FrwatchError(f"{directory}: no labelled set (*.jsonl) found")
    examples = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise FrwatchError(f"{path}:{n}: not JSON: {exc}") from None
            if item["label"] == "borderline":
                continue
            examples.append(Example(
                id=item["id"], title=item["title"], text=item["text"],
                description=item.get("description"), language=item.get("language", "en"),
                related=item["label"] == "related", kind=item.get("kind", item["label"]),
                label=item["label"], story=item.get("story"), reprint_of=item.get("reprint_of"),
                url=item["url"], source=item["source"], published=item.get("published"),
                stub=bool(item.get("stub"))))
    return examples


def user_examples(db: Database) -> list[Example]:
    """Stored articles that users labelled (`frwatch label`), latest label each."""
    return [Example(id=r["id"], title=r["title"] or "", text=r["text"] or "",
                    description=r["description"], language=r["language"],
                    related=r["verdict"] == "related", kind="user-label",
                    label="related" if r["verdict"] == "related" else "other")
            for r in EnrichStore(db).labelled_articles()]


# --- metrics --------------------------------------------------------------------------------

class Scores(NamedTuple):
    """Precision, recall and F1, read by name (a tuple still, for unpacking)."""

    precision: float
    recall: float
    f1: float


def prf(tp: int, fp: int, fn: int) -> Scores:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return Scores(p, r, (2 * p * r / (p + r) if p + r else 0.0))


def scores(truth: Iterable[bool], guess: Iterable[bool]) -> Scores:
    pairs = list(zip(truth, guess, strict=True))
    return prf(sum(1 for t, g in pairs if t and g), sum(1 for t, g in pairs if g and not t),
               sum(1 for t, g in pairs if t and not g))


def held_out(features: list[dict[str, float]], truth: list[bool], groups: list[str],
             trainable: list[bool] | None = None) -> list[float]:
    """Each example scored by a model fitted without its group (leave-one-group-out);
    `trainable` marks the examples a fit may use (all, by default)."""
    out = [0.0] * len(truth)
    allowed = trainable or [True] * len(truth)
    for group in sorted(set(groups)):
        train = [i for i, g in enumerate(groups) if g != group and allowed[i]]
        test = [i for i, g in enumerate(groups) if g == group]
        model = fit([features[i] for i in train], [truth[i] for i in train], l2=L2)
        for i in test:
            out[i] = model.score(features[i])
    return out


def kind_groups(examples: list[Example]) -> list[str]:
    """Folds for cross-validation: each kind of article is one fold; users' labels are
    spread over five folds of their own."""
    return [e.kind if e.kind != "user-label" else f"user-{i % 5}"
            for i, e in enumerate(examples)]


# --- `frwatch calibrate` --------------------------------------------------------------------

@dataclass
class CalibrateResult:
    before: Scores
    after: Scores
    shipped: int
    users: int
    written: bool
    path: Path

    def lines(self) -> list[str]:
        b, a = self.before, self.after
        verdict = (f"wrote {self.path}" if self.written else
                   f"not written: the refit is worse (F1 {a.f1:.3f} < {b.f1:.3f}); "
                   "--force writes it anyway")
        return [f"Labelled examples: {self.shipped} shipped + {self.users} of yours "
                "(cross-validated, leaving out one kind of article at a time)",
                f"  before (fitted without your labels): P {b.precision:.3f} "
                f"R {b.recall:.3f} F1 {b.f1:.3f}",
                f"  after  (fitted with your labels):    P {a.precision:.3f} "
                f"R {a.recall:.3f} F1 {a.f1:.3f}",
                verdict]


def calibrate_store(db: Database, config: Config, force: bool = False,
                    progress: Callable[[str], None] | None = None) -> CalibrateResult:
    """Refit relevance on the shipped set plus the store's labels and write the config's
    calibration file if the refit is not worse in cross-validation (or `force`)."""
    say = progress or (lambda _: None)
    shipped = shipped_examples()
    users = user_examples(db)
    path = config.calibration_path
    current = load_calibration(path) if path.is_file() else Calibration()
    examples = shipped + users
    say(f"embedding {len(examples)} labelled articles …")
    embedding, relevance = judging(db, config, current)
    features = example_features(examples, embedding, relevance)
    truth = [e.related for e in examples]
    groups = kind_groups(examples)
    threshold = current.relevance.threshold
    before = held_out(features, truth, groups, [e.kind != "user-label" for e in examples])
    after = held_out(features, truth, groups)
    result = CalibrateResult(
        before=scores(truth, [p >= threshold for p in before]),
        after=scores(truth, [p >= threshold for p in after]),
        shipped=len(shipped), users=len(users), written=False, path=path)
    if result.after.f1 + 1e-9 >= result.before.f1 or force:
        model: RelevanceModel = fit(features, truth, l2=L2, threshold=threshold)
        note = (f"relevance fitted by `frwatch calibrate` on {len(shipped)} shipped and "
                f"{len(users)} user-labelled articles with {embedding.store.model_key}; "
                f"leave-one-kind-out P {result.after.precision:.3f} "
                f"R {result.after.recall:.3f}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(replace(current, relevance=model, note=note).to_json(),
                        encoding="utf-8")
        result.written = True
    return result


def example_features(examples: list[Example], embedding: Embedding,
                     relevance: Relevance) -> list[dict[str, float]]:
    """Features of labelled examples as `frwatch enrich` would judge them (against the
    topic and seeds only: an article a user labelled must not be measured against
    itself)."""
    rows = [{"title": e.title, "text": e.text, "description": e.description,
             "language": e.language} for e in examples]
    vectors = embedding.embed_rows(rows)
    return [relevance.evidence(row, vector).features()
            for row, vector in zip(rows, vectors, strict=True)]
