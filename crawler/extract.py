"""Article extraction with trafilatura, run in worker processes.

`extract_article` is a plain function of (html, url) so that a process pool can run it
while the Scrapy reactor keeps fetching; it imports nothing from Scrapy.
"""

from __future__ import annotations

import html
import json
import logging
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from trafilatura import bare_extraction, html2txt
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document
from trafilatura.utils import load_html

from frwatch.thresholds import MIN_ARTICLE_CHARS

logger = logging.getLogger(__name__)

# A page is "extracted" when its body text has at least this many characters: short
# briefs pass, navigation-only and paywall pages do not. Characters, not words, so that
# Chinese and Japanese pages (no spaces between words) are judged alike.
MIN_CHARS = MIN_ARTICLE_CHARS
# With fast=True, trafilatura's fast result is kept unless it is doubtful (`doubtful`): at
# most this many paragraphs (trafilatura's whole-page rescue gives one), or shorter than
# FALLBACK_MAX_CHARS and than FALLBACK_PAGE_SHARE of the page's visible text. Then the page
# is extracted again without fast mode (readability and justext compared).
FALLBACK_MAX_PARAGRAPHS = 1
FALLBACK_MAX_CHARS = 1000
FALLBACK_PAGE_SHARE = 0.1
# How trafilatura extracts the text (metadata is `page_metadata`'s job).
TEXT_OPTIONS: dict[str, Any] = {"include_comments": False, "include_tables": True,
                                "with_metadata": False}
# Word count with each CJK character counted as a word, as no spaces separate them.
_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_WORDS = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")
_HAS_CJK = re.compile(f"[{_CJK}]")


def word_count(text: str) -> int:
    """The words of `text` as `_WORDS` counts them; without CJK characters these are the
    runs between whitespace (`\\s` and `str.split` agree on what whitespace is), which
    `split` finds at a fraction of the regular expression's cost."""
    return len(_WORDS.findall(text)) if _HAS_CJK.search(text) else len(text.split())


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


NOT_AN_ARTICLE = "not an article"
ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
                 "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
                 "blogposting", "liveblogposting", "report", "scholarlyarticle",
                 "techarticle", "socialmediaposting"}
NOT_ARTICLE_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage",
                     "videoobject", "videogallery", "imagegallery", "aboutpage", "contactpage"}
# A page that says it is not an article, with less text than this, is not stored.
MIN_WORDS_UNMARKED = 300
# A page that says nothing (no og:type, no JSON-LD type) is an article unless it is
# short or lists other pages under linked headings (8 of 181 real pages say nothing).
MIN_WORDS_BARE = 50
MAX_LINKED_HEADINGS_BARE = 4
_WORD = re.compile(r"\w+")
_SEPARATORS = re.compile(r"\s+[|–—:·•»/\\-]{1,2}\s+")
_DATE_PART = re.compile(r"^(\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d\d-\d\d|"
                        r"\d{1,2}\.? \w+ \d{4}|\w+ \d{1,2},? \d{4})$")


def _json_ld(tree: Any) -> list[dict]:
    """The JSON-LD objects of a page, `@graph` flattened."""
    found: list[dict] = []
    for script in tree.iterfind(".//script[@type]"):
        if "ld+json" not in script.get("type", "").lower() or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                found.append(item)
                stack.extend(x for x in item.get("@graph", []) if isinstance(x, dict))
            elif isinstance(item, list):
                stack.extend(item)
    return found


def _types(item: dict) -> set[str]:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds if k}


def _metas(tree: Any) -> dict[str, str]:
    """The page's `<meta>` contents by lower-cased property or name, first non-empty
    one kept: one pass over the page instead of one per name looked up."""
    found: dict[str, str] = {}
    for meta in tree.iterfind(".//meta[@content]"):
        value = (meta.get("content") or "").strip()
        if not value:
            continue
        for key in (meta.get("property", "").lower(), meta.get("name", "").lower()):
            if key:
                found.setdefault(key, value)
    return found


def page_kind(tree: Any, metas: dict[str, str] | None = None,
              json_ld: list[dict] | None = None) -> tuple[bool | None, str]:
    """Whether the page says it is an article (True), says it is something else (False),
    or says nothing (None); and what it said, for the failure reason."""
    metas = _metas(tree) if metas is None else metas
    json_ld = _json_ld(tree) if json_ld is None else json_ld
    og_type = metas.get("og:type", "").lower()
    types: set[str] = set().union(*(_types(item) for item in json_ld))
    if types & ARTICLE_TYPES or og_type == "article":
        return True, og_type or ", ".join(sorted(types & ARTICLE_TYPES))
    said = [f"og:type {og_type}"] if og_type else []
    said += [f"JSON-LD {t}" for t in sorted(types & NOT_ARTICLE_TYPES)]
    if og_type.startswith(("video", "profile", "music", "book")) or types & NOT_ARTICLE_TYPES:
        return False, ", ".join(said)
    if og_type == "website":
        return False, ", ".join(said)
    return None, ""


def _clean_text(text: str) -> str:
    return " ".join(html.unescape(text).split())


def _headlines(tree: Any, metas: dict[str, str] | None = None,
               json_ld: list[dict] | None = None) -> tuple[list[str], list[str]]:
    """The page's headline candidates: the texts of its h1 elements (what a reader sees),
    and what its metadata says (JSON-LD `headline` of an article, og:title,
    twitter:title), each in page order."""
    metas = _metas(tree) if metas is None else metas
    json_ld = _json_ld(tree) if json_ld is None else json_ld
    meta = [item["headline"] for item in json_ld
            if _types(item) & ARTICLE_TYPES and isinstance(item.get("headline"), str)]
    meta += [v for v in (metas.get("og:title"), metas.get("twitter:title")) if v]
    h1s = ["".join(h.itertext()) for h in tree.iter("h1")]
    keep = [t for t in (_clean_text(x) for x in h1s) if 3 <= len(t) <= 300]
    return keep, [t for t in (_clean_text(x) for x in meta) if 3 <= len(t) <= 300]


def choose_title(h1s: list[str], meta: list[str], html_title: str | None,
                 sitename: str | None, url: str) -> str | None:
    """The headline a reader sees: an h1 that the page's metadata or `<title>` agrees
    with (most of its words), else the only h1 that is not the site's name, else the
    metadata's headline, else the `<title>`; site names and dates cut off."""
    names = _site_words(sitename, url)

    def usable(text: str | None) -> str | None:
        cleaned = clean_title(text, sitename, url)
        return cleaned if cleaned and _squeeze(cleaned) not in names else None

    visible = [t for t in (usable(h) for h in h1s) if t]
    stated = [t for t in (usable(m) for m in [*meta, html_title]) if t]
    stated_words = [set(_WORD.findall(t.lower())) for t in stated]
    for headline in visible:
        words = set(_WORD.findall(headline.lower()))
        if words and any(len(words & other) >= 0.5 * len(words) for other in stated_words):
            return headline
    if len(visible) == 1:
        return visible[0]
    return stated[0] if stated else (visible[0] if visible else None)


@lru_cache(maxsize=1024)
def _squeeze(text: str) -> str:
    """Lower-case letters and digits only, umlauts and accents folded (Börsen → boersen).
    Cached: a page's title candidates squeeze the same site names and parts again."""
    text = text.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    folded = unicodedata.normalize("NFKD", text)
    return re.sub(r"\W+", "", "".join(c for c in folded if not unicodedata.combining(c)))


@lru_cache(maxsize=256)
def _site_words(sitename: str | None, url: str) -> frozenset[str]:
    """The squeezed names a site goes by: its stated name and its host's name; cached,
    as every title candidate of a page asks again."""
    names = set()
    if sitename:
        names.add(_squeeze(sitename))
    host = urlsplit(url).hostname or ""
    parts = [p for p in host.split(".") if p not in ("www", "m", "amp", "edition", "news")]
    if parts:
        names.add(_squeeze(parts[0]))
        if len(parts) > 2:
            names.add(_squeeze("".join(parts[:-1])))
    return frozenset(n for n in names if n)


def clean_title(title: str | None, sitename: str | None, url: str) -> str | None:
    """A headline without the site's name or a date around it: "Police face curbs -
    Seznam Zprávy" → "Police face curbs"; "… – DW – 28.04.2023" → "…"."""
    if not title:
        return None
    title = " ".join(title.split())
    names = _site_words(sitename, url)

    def decoration(part: str) -> bool:
        squeezed = _squeeze(part)
        if not squeezed:
            return True
        if _DATE_PART.match(part.strip()):
            return True
        # The name itself, the name with a little more ("Le Monde.fr", "BBC News") or a
        # cut-off name ("CBSSp"); not a phrase that merely starts with it.
        return any(squeezed == n or (len(n) >= 4 and (
            (squeezed.startswith(n) and len(squeezed) <= len(n) + 6)
            or (n.startswith(squeezed) and len(squeezed) >= 4)))
                   for n in names)

    head, colon, rest = title.partition(": ")
    if colon and rest and decoration(head):  # "The Verge: Amazon bans police"
        title = rest
    parts = _SEPARATORS.split(title)
    while len(parts) > 1 and decoration(parts[-1]):
        parts.pop()
    while len(parts) > 1 and decoration(parts[0]):
        parts.pop(0)
    cleaned = " - ".join(parts) if len(parts) > 1 else parts[0]
    # Keep the original separators inside the headline itself.
    if len(parts) > 1:
        start = title.find(parts[0])
        end = title.rfind(parts[-1]) + len(parts[-1])
        cleaned = title[start:end] if start >= 0 and end > start else cleaned
    return cleaned.strip() or title


def extract_article(html: str | bytes, url: str, *, fast: bool = False) -> dict[str, Any]:
    """Extract text and metadata from one article page.

    ``fast=True`` runs trafilatura's fast mode (no comparison with readability and
    justext) and runs trafilatura again without it when the fast text is `doubtful`.
    Measured (text F1; share of pages extracted twice; CPU a page of this function, fast /
    not fast / this): trafilatura's own 990 evaluation pages, mostly German (the rule was
    chosen there): fast 0.9198, not fast 0.9255, this 0.9267; 6.9 %; 24.7 / 30.8 / 27.9 ms.
    The 181 Zyte pages, held out: fast 0.9624, not fast 0.9598, this 0.9623; 2.8 %;
    16.3 / 20.7 / 17.4 ms. So never below trafilatura's default on either set, at a fifth
    to a half of its extra cost.

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
    metas, json_ld = _metas(tree), _json_ld(tree)
    is_article, said = page_kind(tree, metas, json_ld)
    h1s, stated = _headlines(tree, metas, json_ld)
    html_title = _clean_text(tree.findtext(".//title") or "") or None
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
        doc = bare_extraction(tree, url=url, fast=fast, **TEXT_OPTIONS)
        if fast and doubtful(doc, tree):
            doc = bare_extraction(tree, url=url, fast=False, **TEXT_OPTIONS)
        meta = page_metadata(tree, url, date_params) if doc is not None else None
    except Exception as exc:  # trafilatura raises on some pathological trees
        logger.debug("trafilatura failed on %s", url, exc_info=True)
        result["error"] = f"extraction error: {type(exc).__name__}"
        return result
    # bare_extraction gives a dict only when asked (as_dict=True); here a Document or None.
    if not isinstance(doc, Document) or meta is None:
        result["error"] = "empty extraction"
        return result
    text = (doc.text or "").strip()
    published = meta.date if plausible_date(meta.date) else None
    sitename = (meta.sitename or "").strip() or metas.get("og:site_name")
    result.update(
        title=choose_title(h1s, stated + ([meta.title] if meta.title else []), html_title,
                           sitename, url),
        html_title=html_title,
        author=(meta.author or "").strip() or None,
        published=published,
        date_source="page" if published else None,
        sitename=(meta.sitename or "").strip() or None,
        description=(meta.description or "").strip() or None,
        text=text,
        word_count=word_count(text),
    )
    if not result["language"] and meta.language:
        result["language"] = meta.language
    if len(text) < MIN_CHARS:
        result["error"] = f"empty extraction ({len(text)} characters of text)"
    elif is_article is False and result["word_count"] < MIN_WORDS_UNMARKED:
        result["error"] = f"not an article ({said}; {result['word_count']} words of text)"
    elif is_article is None:
        linked = _linked_headings(tree)
        if result["word_count"] < MIN_WORDS_BARE or linked >= MAX_LINKED_HEADINGS_BARE:
            result["error"] = (f"not an article (no article markup; {result['word_count']} "
                               f"words, {linked} linked headings)")
    return result


def doubtful(doc: Any, tree: Any) -> bool:
    """Whether a fast-mode result is worth a second extraction without fast mode: none,
    at most one paragraph, or a short text that is a small share of the page's visible
    text. On those pages the comparison fast mode skips changes the text most often;
    elsewhere it rarely does, and costs a quarter more CPU. (trafilatura's `html2txt`
    copies the tree; it is computed only for the short ones.)"""
    if not isinstance(doc, Document):
        return True
    body = doc.body
    if body is None or len(body.findall(".//p")) <= FALLBACK_MAX_PARAGRAPHS:
        return True
    length = len((doc.text or "").strip())
    return (length < FALLBACK_MAX_CHARS
            and length < FALLBACK_PAGE_SHARE * len(html2txt(tree)))


def warm_up() -> None:
    """Load what trafilatura loads on its first extraction without fast mode (justext's
    stoplists for every language, about a quarter of a second): the extraction forkserver
    calls this once, so that its workers inherit it instead of each paying it on its first
    doubtful page, in the middle of a crawl."""
    page = ("<html><body><nav><a href='/'>Home</a></nav><p>A short page, a few words "
            "long, so that every fallback runs.</p></body></html>")
    bare_extraction(page, url="https://example.org/warm-up", fast=False, **TEXT_OPTIONS)


def page_metadata(tree: Any, url: str, date_params: dict[str, Any]) -> Document:
    """trafilatura's metadata steps for what frwatch stores (title, author, date, site
    name, description, language), in its own order; its category, tag and licence
    scans are left out: a tenth of the extraction time, and nothing here reads them."""
    doc = examine_meta(tree)
    if doc.author and " " not in doc.author:
        doc.author = None  # a lone word is a handle or a site, as trafilatura judges
    try:
        doc = extract_meta_json(tree, doc)
    except Exception:  # trafilatura's JSON-LD reader fails on odd objects: keep the meta
        logger.debug("JSON-LD metadata failed on %s", url, exc_info=True)
    doc.title = doc.title or extract_title(tree)
    doc.author = doc.author or extract_author(tree)
    doc.url = doc.url or extract_url(tree, url)
    doc.date = find_date(tree, **{**date_params, "url": doc.url})
    doc.sitename = doc.sitename or extract_sitename(tree)
    if doc.sitename:
        doc.sitename = doc.sitename.lstrip("@")
        if doc.sitename and "." not in doc.sitename and not doc.sitename[0].isupper():
            doc.sitename = doc.sitename.title()
    elif doc.url and (match := META_URL.match(doc.url)):
        doc.sitename = match[1]
    doc.clean_and_trim()
    return doc


def _linked_headings(tree: Any) -> int:
    """Headings that are links: a listing of other pages, not an article."""
    return sum(1 for h in tree.iter("h2", "h3", "h4")
               if h.find(".//a") is not None or (h.getparent() is not None
                                                  and h.getparent().tag == "a"))


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

