"""Headline accuracy on real pages: frwatch's clean titles against trafilatura's own.

    python -m benchmarks.titles

Gold headlines for the 181 pages of the Zyte article-extraction benchmark are in
`tests/data/zyte-titles.json` (read off each page: the visible headline, without site
names or dates; see tests/data/zyte-titles.md). A title counts when it equals the gold
one after whitespace is normalised; "close" also forgives case and punctuation.
"""

from __future__ import annotations

import json
import re

from trafilatura import bare_extraction

from benchmarks.zyte import BENCHMARK_DIR, ground_truth, page_html
from crawler.extract import extract_article

GOLD = BENCHMARK_DIR.parent / "zyte-titles.json"


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def _loose(text: str | None) -> str:
    return re.sub(r"\W+", " ", _norm(text).lower()).strip()


def main() -> None:
    gold = {k: v["title"] for k, v in json.loads(GOLD.read_text(encoding="utf-8")).items()
            if v.get("title")}
    truth = ground_truth()
    ours = exact = close = base_exact = base_close = 0
    misses = []
    for key, title in gold.items():
        html = page_html(key)
        url = truth[key]["url"]
        mine = extract_article(html, url, fast=True).get("title")
        doc = bare_extraction(html, url=url, with_metadata=True, fast=True)
        theirs = doc.title if doc is not None else None
        ours += 1
        exact += _norm(mine) == _norm(title)
        close += _loose(mine) == _loose(title)
        base_exact += _norm(theirs) == _norm(title)
        base_close += _loose(theirs) == _loose(title)
        if _norm(mine) != _norm(title):
            misses.append((title, mine))
    print(f"{ours} pages with a gold headline")
    print(f"frwatch:          exact {exact / ours:.3f}, ignoring case and punctuation "
          f"{close / ours:.3f}")
    print(f"trafilatura alone: exact {base_exact / ours:.3f}, ignoring case and punctuation "
          f"{base_close / ours:.3f}")
    for title, mine in misses[:15]:
        print(f"  gold {title[:70]!r}\n  ours {str(mine)[:70]!r}")


if __name__ == "__main__":
    main()
