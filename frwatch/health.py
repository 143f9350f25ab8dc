"""Per-source extraction health: is each outlet still giving us articles?

When an outlet changes its templates, extraction quietly starts returning empty text, no
date, or the site's name as every title. For each source, the share of its most recent
pages (`WINDOW`) with text, a title, a date and an author is compared with the same
shares over its earlier pages:

- `broken`: none of the recent pages gave text;
- `degraded`: a share fell by `DROP` or more against the source's own history (a source
  that never had authors is not degraded for having none);
- `ok`; or `unknown` while there are fewer than `MIN_PAGES` recent pages.

Pages are the stored articles plus article pages that failed as empty extractions.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlite_utils import Database

WINDOW = 20
MIN_PAGES = 5
MIN_WORDS = 50
DROP = 0.4
SHARES = ("with_text", "with_title", "with_date", "with_author")


def _shares(pages: list[dict]) -> dict[str, float]:
    if not pages:
        return {}
    # A title every page shares (the site's name) is no title.
    titles = Counter(p["title"] for p in pages if p["title"])
    boilerplate = {t for t, n in titles.items() if n >= 3 and n > len(pages) / 2}
    counts = {
        "with_text": sum(1 for p in pages if (p["word_count"] or 0) >= MIN_WORDS),
        "with_title": sum(1 for p in pages if p["title"] and p["title"] not in boilerplate),
        "with_date": sum(1 for p in pages if p["published"]),
        "with_author": sum(1 for p in pages if p["author"]),
    }
    return {k: round(v / len(pages), 3) for k, v in counts.items()}


def source_health(db: Database) -> dict[str, dict]:
    """`{source: {pages, with_text, with_title, with_date, with_author, health,
    history: {…}}}` over each source's latest `WINDOW` pages."""
    by_source: dict[str, list[dict]] = defaultdict(list)
    for row in db.query(
            "select source, title, author, published, word_count, first_seen as at "
            "from articles where source is not null union all "
            "select source, null, null, null, 0, at from failures "
            "where kind = 'article' and reason like 'empty extraction%' and source is not null "
            "order by at"):
        by_source[row["source"]].append(row)
    out = {}
    for source, pages in by_source.items():
        recent, earlier = pages[-WINDOW:], pages[:-WINDOW]
        now, before = _shares(recent), _shares(earlier)
        if len(recent) < MIN_PAGES:
            health = "unknown"
        elif now["with_text"] == 0:
            health = "broken"
        elif len(earlier) >= MIN_PAGES and any(before[k] - now[k] >= DROP for k in SHARES):
            health = "degraded"
        else:
            health = "ok"
        out[source] = {"pages": len(recent), **now, "health": health,
                       "history": {"pages": len(earlier), **before}}
    return out
