"""Finding article URLs in feeds, sitemaps and section pages.

Pure functions of a response body, so that they can be tested (and fuzzed) without a
crawl. Nothing here raises on bad input: a body that is not what it claims to be gives
a `Discovery` with an `error`.
"""

from __future__ import annotations

import calendar
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import feedparser
from dateutil import parser as dateparser
from lxml import etree

from frwatch.errors import one_line

MAX_UNZIPPED_BYTES = 50_000_000


@dataclass
class Entry:
    """One article link with what the listing says about it."""

    url: str
    published: str | None = None  # ISO 8601 UTC, when the listing gives a date
    title: str | None = None
    news: bool = True  # False for a plain sitemap entry, which may be any kind of page


@dataclass
class Discovery:
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[Entry] = field(default_factory=list)  # child sitemaps of an index
    error: str | None = None


def parse_date(value: object) -> str | None:
    """An ISO 8601 UTC string for a date in any common format, or None."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = dateparser.parse(value.strip())
    except (ValueError, OverflowError, TypeError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).replace(microsecond=0).isoformat()
    except (ValueError, OverflowError):
        return None


def _struct_to_iso(value: object) -> str | None:
    try:
        stamp = calendar.timegm(value)  # type: ignore[arg-type]
        return datetime.fromtimestamp(stamp, UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def maybe_gunzip(body: bytes, limit: int = MAX_UNZIPPED_BYTES) -> bytes:
    """Decompress a gzip body (a ``.xml.gz`` sitemap), refusing more than `limit` bytes."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"broken gzip: {exc}") from None
    if len(out) > limit:
        raise ValueError(f"gzip expands beyond {limit} bytes")
    return out


def _is_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] in (b"{", b"[")


def parse_feed(body: bytes, base_url: str, content_type: str = "") -> Discovery:
    """Entries of an RSS 0.9x/1.0/2.0, Atom or JSON Feed document."""
    try:
        body = maybe_gunzip(body)
    except ValueError as exc:
        return Discovery(error=f"feed: {exc}")
    if _is_json(body, content_type):
        return _parse_json_feed(body, base_url)
    # A content type, so that feedparser does not flag every feed "no Content-type
    # specified" (an empty but valid feed then read as broken); the XML declaration
    # still decides the encoding.
    parsed = feedparser.parse(body, response_headers={"content-location": base_url,
                                                       "content-type": "application/xml"})
    entries = []
    for item in parsed.entries:
        link = item.get("link") or _first_alternate(item)
        if not link and str(item.get("id", "")).startswith(("http://", "https://")):
            link = item["id"]
        if not link:
            continue
        # Read the raw keys: feedparser's own fallback between the two warns.
        published = (_struct_to_iso(dict.get(item, "published_parsed"))
                     or _struct_to_iso(dict.get(item, "updated_parsed")))
        entries.append(Entry(urljoin(base_url, link.strip()), published,
                             (item.get("title") or "").strip() or None))
    if not entries:
        if not parsed.get("version"):
            reason = parsed.get("bozo_exception")
            detail = f" ({one_line(reason)})" if reason else ""
            return Discovery(error=f"not a feed{detail}")
        if parsed.get("bozo"):
            return Discovery(error=f"broken feed: {one_line(parsed.get('bozo_exception'))}")
    return Discovery(entries=_unique(entries))


def _first_alternate(item: dict) -> str | None:
    for link in item.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return None


def _parse_json_feed(body: bytes, base_url: str) -> Discovery:
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return Discovery(error=f"broken JSON feed: {one_line(exc)}")
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return Discovery(error="not a JSON Feed (no items list)")
    entries = []
    for item in document["items"]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link.strip():
            continue
        title = item.get("title") if isinstance(item.get("title"), str) else None
        entries.append(Entry(urljoin(base_url, link.strip()),
                             parse_date(item.get("date_published") or item.get("date_modified")),
                             (title or "").strip() or None))
    return Discovery(entries=_unique(entries))


_XML_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True,
                              remove_comments=True, remove_pis=True, huge_tree=False)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def parse_sitemap(body: bytes, base_url: str) -> Discovery:
    """Article entries (urlset) or child sitemaps (sitemapindex) of a sitemap."""
    try:
        body = maybe_gunzip(body)
        root = etree.fromstring(body, _XML_PARSER)
    except (ValueError, etree.XMLSyntaxError) as exc:
        return Discovery(error=f"broken sitemap: {one_line(exc)}")
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        return Discovery(error="not a sitemap (no urlset or sitemapindex)")
    found: list[Entry] = []
    for node in root:
        if _local(node.tag) not in ("url", "sitemap"):
            continue
        loc = lastmod = news_date = title = None
        for child in node.iter():
            name = _local(child.tag)
            text = (child.text or "").strip()
            if name == "loc" and loc is None:
                loc = text
            elif name == "lastmod":
                lastmod = text
            elif name == "publication_date":
                news_date = text
            elif name == "title" and title is None:
                title = text or None
        if loc:
            found.append(Entry(urljoin(base_url, loc), parse_date(news_date or lastmod), title,
                               news=news_date is not None))
    if _local(root.tag) == "sitemapindex":
        return Discovery(sitemaps=_unique(found))
    return Discovery(entries=_unique(found))


# Path segments of listing, utility and account pages: never an article.
_NOT_ARTICLE = re.compile(
    r"/(tag|tags|topic|topics|category|categories|section|author|authors|about|contact|"
    r"login|signin|signup|register|subscribe|subscription|newsletter|newsletters|search|"
    r"privacy|terms|cookies|cookie-policy|help|faq|careers|jobs|advertise|shop|events|"
    r"feed|rss|page|video|videos|gallery|podcasts?)(/|$)",
    re.IGNORECASE,
)
_DATE_IN_PATH = re.compile(r"/(19|20)\d{2}[/-]\d{1,2}([/-]|$)")
_LONG_ID = re.compile(r"\d{5,}")
_ASSET = re.compile(r"\.(jpe?g|png|gif|svg|webp|css|js|pdf|zip|mp[34]|xml|json)$", re.I)


def looks_like_article(url: str) -> bool:
    """Whether a link from a section page looks like it leads to an article.

    News article URLs carry a slug of several words, a date, or a long numeric id;
    section, tag and utility pages carry none of these.
    """
    parts = urlsplit(url)
    path = parts.path
    if _ASSET.search(path) or _NOT_ARTICLE.search(path):
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"\.(s?html?|php|aspx?)$", "", last, flags=re.I)
    words = [w for w in re.split(r"[-_]", slug) if w]
    return len(words) >= 3 or bool(_DATE_IN_PATH.search(path)) or bool(_LONG_ID.search(slug))


def _unique(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    out = []
    for entry in entries:
        if entry.url not in seen and entry.url.startswith(("http://", "https://")):
            seen.add(entry.url)
            out.append(entry)
    return out




__all__ = ["Discovery", "Entry", "looks_like_article", "maybe_gunzip", "parse_date",
           "parse_feed", "parse_sitemap"]
