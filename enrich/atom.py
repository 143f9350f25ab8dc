"""The Atom file channel: a feed any reader can subscribe to."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from feedgen.feed import FeedGenerator

FEED_ID = "urn:frwatch:related"


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
        entry = feed.add_entry()
        entry.id(entry_id(article["id"]))
        entry.title(article["title"] or article["url"])
        entry.link(href=article["url"])
        entry.author({"name": article.get("author") or article.get("source") or "unknown"})
        stamp = _when(article.get("published") or article.get("first_seen"))
        entry.published(stamp)
        entry.updated(stamp)
        summary = article.get("description") or (article.get("text") or "")[:400]
        why = article.get("relevance_reason") or ""
        story = article.get("cluster_label")
        entry.summary(" ".join(part for part in (
            summary.strip(), f"Story: {story}." if story else "", f"Why: {why}") if part))
        if article.get("source"):
            entry.category(term=article["source"])
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(feed.atom_str(pretty=True))
    os.replace(temporary, path)
