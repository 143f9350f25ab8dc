"""The Zyte article-extraction benchmark: its pages and its scoring.

Scoring follows the benchmark's published method (scrapinghub/article-extraction-benchmark,
``evaluate.py``): word 4-gram shingles per page, true/false positives and negatives
normalised per page, precision and recall averaged over pages, F1 from the averages.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path
from statistics import mean

BENCHMARK_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/zyte-article-benchmark"
_WORD = re.compile(r"\w+", re.UNICODE)


def ground_truth(directory: Path = BENCHMARK_DIR) -> dict[str, dict]:
    """``{sha256: {"url", "articleBody"}}`` for every page of the benchmark."""
    return json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))


def page_html(key: str, directory: Path = BENCHMARK_DIR) -> bytes:
    return gzip.decompress((directory / "html" / f"{key}.html.gz").read_bytes())


def _shingles(text: str, n: int = 4) -> Counter:
    words = _WORD.findall(text or "")
    return Counter(tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))
                   if words[i:i + n])


def _page_counts(truth: str, predicted: str) -> tuple[float, float, float]:
    expected, got = _shingles(truth), _shingles(predicted)
    tp = sum((expected & got).values())
    fp = sum((got - expected).values())
    fn = sum((expected - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def score(truth: dict[str, str], predicted: dict[str, str]) -> dict[str, float]:
    """Precision, recall and F1 of `predicted` bodies against `truth`, by page key."""
    counts = [_page_counts(truth[key], predicted.get(key, "")) for key in truth]

    def precision(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def recall(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))

    p = mean(precision(*c) for c in counts if c[0] + c[1] > 0)
    r = mean(recall(*c) for c in counts if c[0] + c[2] > 0)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r), "pages": len(counts)}
