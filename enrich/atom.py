"""The Atom file channel: a feed any reader can subscribe to.

Also the text rules every alert channel shares: what crawled pages wrote (titles,
descriptions, outlets, reasons) is plain text, one line, without links; the only link
an alert carries is the article's own http(s) URL.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

FEED_ID = "urn:frwatch:related"
SUMMARY_CHARS = 400

# [text](target) and ![alt](target): the text stays, the target goes.
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s[^()\n]*)?\)")
# Anything a reader or mail client would make a link of: scheme://…, javascript:, www.…
_LINKISH = re.compile(r"<?(?:\b[a-z][a-z0-9+.\-]*://|\b(?:javascript|vbscript|data|file):(?=\S)"
                      r"|\bwww\.)[^\s<>\"']*>?", re.IGNORECASE)
# Bidi embeddings, overrides and isolates, which can make a line read other than it is.
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def safe_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL with a host and nothing a message could be split
    on (whitespace, control characters, quotes, angle brackets); else None."""
    if not url or any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") or c in "<>\"'`"
                      for c in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def plain(text: str | None) -> str:
    """Text from a stranger's page, made safe to put in an alert: one line, no control or
    bidi-override characters, Markdown links reduced to their text, other links dropped.
    Markup is left as literal text; every channel sends or escapes it as such."""
    if not text:
        return ""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
                   for c in text.translate(_BIDI))
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _LINKISH.sub("[link removed]", text)
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if not text[limit - 1].isspace() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]  # never end mid-word
    return cut.rstrip(" ,;:.-—–") + "…"


def entry_id(article_id: str) -> str:
    """Stable across runs and machines: the article id is a hash of its canonical URL."""
    return f"urn:frwatch:article:{article_id}"


def _when(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value if "T" in value else f"{value}T00:00:00+00:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def write_atom(path: Path, entries: list[dict], title: str) -> None:
    """Write `entries` (newest first) as an Atom feed at `path`, atomically."""
    feed = FeedGenerator()
    feed.id(FEED_ID)
    feed.title(title)
    feed.subtitle("New related coverage found by frwatch")
    feed.link(href=path.resolve().as_uri(), rel="self")
    feed.language("en")
    newest = max((_when(e.get("published") or e.get("first_seen")) for e in entries),
                 default=datetime.now(UTC))
    feed.updated(newest)
    # feedgen prepends each entry it adds, so add oldest first for a newest-first file.
    for article in reversed(entries):
        url = safe_url(article["url"])
        if url is None:  # an entry links to its article, and only to an http(s) one
            continue
        entry = feed.add_entry()
        entry.id(entry_id(article["id"]))
        entry.title(plain(article["title"]) or url)
        entry.link(href=url)
        entry.author({"name": plain(article.get("author")) or plain(article.get("source"))
                      or "unknown"})
        stamp = _when(article.get("published") or article.get("first_seen"))
        entry.published(stamp)
        entry.updated(stamp)
        # Plain text (feedgen escapes it as type="text"), cut at a word boundary.
        summary = clip(plain(article.get("description") or
                             (article.get("text") or "")[:SUMMARY_CHARS * 2]), SUMMARY_CHARS)
        why = plain(article.get("relevance_reason"))
        story = plain(article.get("cluster_label"))
        entry.summary(" ".join(part for part in (
            summary, f"Story: {story}." if story else "", f"Why: {why}" if why else "")
            if part))
        if plain(article.get("source")):
            entry.category(term=plain(article["source"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(feed.atom_str(pretty=True))
    # mkstemp makes the file 0600: a feed reader or a web server must be able to read it.
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
