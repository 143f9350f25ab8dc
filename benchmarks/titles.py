"""Headline and date accuracy on real pages: frwatch's against trafilatura's own.

    python -m benchmarks.titles

Gold headlines for the 181 pages of the Zyte article-extraction benchmark are in
`tests/data/zyte-titles.json` (read off each page: the visible headline, without site
names or dates; see tests/data/zyte-titles.md). A title counts when it equals the gold
one after whitespace is normalised; "close" also forgives case and punctuation.

Gold publication days for 124 of those pages are in `tests/data/zyte-dates.json` (the
day the page's own date places agree on; see tests/data/zyte-dates.md). A date counts
when its day is the gold day; no date is a miss.
"""

from __future__ import annotations

import json
import re

from trafilatura import bare_extraction
from trafilatura.settings import Document

from benchmarks.zyte import BENCHMARK_DIR, ground_truth, page_html
from crawler.extract import extract_article

GOLD = BENCHMARK_DIR.parent / "zyte-titles.json"
GOLD_DATES = BENCHMARK_DIR.parent / "zyte-dates.json"


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def _loose(text: str | None) -> str:
    return re.sub(r"\W+", " ", _norm(text).lower()).strip()


def main() -> None:
    gold = {k: v["title"] for k, v in json.loads(GOLD.read_text(encoding="utf-8")).items()
            if v.get("title")}
    days = {k: v["published"]
            for k, v in json.loads(GOLD_DATES.read_text(encoding="utf-8")).items()}
    truth = ground_truth()
    ours = exact = close = base_exact = base_close = 0
    dated = {"frwatch": 0, "trafilatura": 0}
    right = {"frwatch": 0, "trafilatura": 0}
    misses = []
    for key, title in gold.items():
        html = page_html(key)
        url = truth[key]["url"]
        found = extract_article(html, url, fast=True)
        mine = found.get("title")
        found_doc = bare_extraction(html, url=url, with_metadata=True, fast=True)
        # A Document or None (a dict only with as_dict=True).
        doc = found_doc if isinstance(found_doc, Document) else None
        theirs = doc.title if doc is not None else None
        if key in days:
            for who, day in (("frwatch", found.get("published")),
                             ("trafilatura", doc.date if doc is not None else None)):
                dated[who] += bool(day)
                right[who] += (day or "")[:10] == days[key]
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
    for who in ("frwatch", "trafilatura"):
        print(f"dates, {who}: exact day {right[who] / len(days):.3f} over {len(days)} pages "
              f"with a gold day ({dated[who]} dated, "
              f"{right[who] / max(1, dated[who]):.3f} of those right)")
    for title, mine in misses[:15]:
        print(f"  gold {title[:70]!r}\n  ours {str(mine)[:70]!r}")


if __name__ == "__main__":
    main()
