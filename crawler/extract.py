"""Article extraction with trafilatura, run in worker processes.

`extract_article` is a plain function of (html, url) so that a process pool can run it
while the Scrapy reactor keeps fetching; it imports nothing from Scrapy.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from trafilatura import bare_extraction
from trafilatura.utils import load_html

logger = logging.getLogger(__name__)

# A page is "extracted" when its body text has at least this many characters: short
# briefs pass, navigation-only and paywall pages do not. Characters, not words, so that
# Chinese and Japanese pages (no spaces between words) are judged alike.
MIN_CHARS = 100
# Word count with each CJK character counted as a word, as no spaces separate them.
_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_WORDS = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


def _lang_of(tree: Any) -> str | None:
    lang = tree.get("lang") or tree.get("xml:lang")
    if not lang:
        for meta in tree.iterfind(".//meta[@http-equiv]"):
            if meta.get("http-equiv", "").lower() == "content-language":
                lang = meta.get("content")
                break
    if not lang:
        return None
    return lang.strip().split(",")[0].replace("_", "-").lower()[:12] or None


def _canonical_of(tree: Any, base_url: str) -> str | None:
    for link in tree.iterfind(".//link[@rel][@href]"):
        if "canonical" in link.get("rel", "").lower().split():
            href = link.get("href", "").strip()
            if href:
                return urljoin(base_url, href)
    return None


def extract_article(html: str | bytes, url: str, *, fast: bool = False) -> dict[str, Any]:
    """Extract text and metadata from one article page.

    Returns a dict with ``title, author, published, date_source, sitename, description,
    language, text, word_count, rel_canonical`` and ``error`` (None when the page gave
    an article, else the reason it did not).
    """
    result: dict[str, Any] = {"error": None, "rel_canonical": None, "language": None}
    tree = load_html(html)
    if tree is None:
        result["error"] = "unparseable HTML"
        return result
    result["language"] = _lang_of(tree)
    result["rel_canonical"] = _canonical_of(tree, url)
    today = datetime.now(UTC).date()
    # Conservative dates: no guessing from footers or free text (a copyright year is
    # not a publication date), never later than tomorrow.
    date_params = {
        "extensive_search": False,
        "original_date": True,
        "outputformat": "%Y-%m-%d",
        "max_date": (today + timedelta(days=1)).isoformat(),
    }
    try:
        doc = bare_extraction(
            tree,
            url=url,
            fast=fast,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
            date_extraction_params=date_params,
        )
    except Exception as exc:  # trafilatura raises on some pathological trees
        logger.debug("trafilatura failed on %s", url, exc_info=True)
        result["error"] = f"extraction error: {type(exc).__name__}"
        return result
    if doc is None:
        result["error"] = "empty extraction"
        return result
    text = (doc.text or "").strip()
    published = doc.date if plausible_date(doc.date) else None
    result.update(
        title=(doc.title or "").strip() or None,
        author=(doc.author or "").strip() or None,
        published=published,
        date_source="page" if published else None,
        sitename=(doc.sitename or "").strip() or None,
        description=(doc.description or "").strip() or None,
        text=text,
        word_count=len(_WORDS.findall(text)),
    )
    if not result["language"] and doc.language:
        result["language"] = doc.language
    if len(text) < MIN_CHARS:
        result["error"] = f"empty extraction ({len(text)} characters of text)"
    return result


def plausible_date(value: str | None) -> bool:
    """A publication date no earlier than 1995 (news on the web) and no later than
    tomorrow (time zones); anything else is a parsing accident or a wrong clock."""
    if not value:
        return False
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return False
    today = datetime.now(UTC).date()
    return date(1995, 1, 1) <= day <= today + timedelta(days=1)
