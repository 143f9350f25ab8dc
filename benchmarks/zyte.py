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

from benchmarks import TEST_DATA

# The benchmark's pages and gold texts, copied into the repository with their licence.
BENCHMARK_DIR = TEST_DATA / "zyte-article-benchmark"
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


def zyte_site(directory: Path = BENCHMARK_DIR) -> dict[str, tuple[str, bytes]]:
    """The benchmark pages as a site for `LocalWeb`: ``/<key>.html`` and a news sitemap."""
    keys = sorted(ground_truth(directory))
    files = {f"/{key}.html": ("text/html", page_html(key, directory)) for key in keys}
    locs = "".join(
        f"<url><loc>http://zyte.demo/{key}.html</loc><news:news><news:publication>"
        "<news:name>Zyte benchmark</news:name><news:language>en</news:language>"
        "</news:publication><news:publication_date>2020-06-10</news:publication_date>"
        "</news:news></url>" for key in keys)
    files["/sitemap.xml"] = ("application/xml", (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{locs}</urlset>").encode())
    return files


ZYTE_CONFIG = """
topic: {name: Zyte benchmark}
sources:
  - name: Zyte benchmark
    sitemaps: [http://zyte.demo/sitemap.xml]
crawl:
  max_age_days: 100000
  delay_seconds: 0
  concurrency_per_domain: 16
  allow_private_addresses: true
"""


def stored_bodies(db_path: Path) -> dict[str, str]:
    """``{key: text}`` of the benchmark pages stored by a crawl (missing pages: absent)."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("select url, text from articles").fetchall()
    finally:
        conn.close()
    return {url.rsplit("/", 1)[-1].removesuffix(".html"): text or "" for url, text in rows}
