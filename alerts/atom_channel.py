"""The Atom file channel: a feed any reader can subscribe to.

Each run rewrites the file from what the store records as sent on the channel (the
newest `max_entries`), so a lost or edited file is whole again after the next run. Entry
ids are `urn:frwatch:article:<id>`, the ids Datasette's own Atom feed uses
(frwatch/browse/metadata.yml), so a reader subscribed to both sees one entry per article.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from alerts.channel import Batch, Channel, ChannelCheck, Delivery
from alerts.messages import day, headline, outlet
from alerts.text import clip, plain, safe_url

FEED_ID = "urn:frwatch:related"
SUMMARY_CHARS = 400


def entry_id(article_id: str) -> str:
    """Stable across runs and machines: the article id is a hash of its canonical URL."""
    return f"urn:frwatch:article:{article_id}"


def _when(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value if "T" in value else f"{value}T00:00:00+00:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _summary(article: dict) -> str:
    """Plain text (feedgen escapes it as type="text"), cut at a word boundary, then the
    story and the reason it is related."""
    summary = clip(plain(article.get("description") or
                         (article.get("text") or "")[:SUMMARY_CHARS * 2]), SUMMARY_CHARS)
    why = plain(article.get("relevance_reason"))
    story = plain(article.get("cluster_label"))
    return " ".join(part for part in (
        summary, f"Story: {story}." if story else "", f"Why: {why}" if why else "") if part)


def write_atom(path: Path, entries: list[dict], title: str) -> None:
    """Write `entries` (newest first) as an Atom feed at `path`, atomically."""
    from feedgen.feed import FeedGenerator

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
        entry.summary(_summary(article))
        if plain(article.get("source")):
            entry.category(term=plain(article["source"]))
    _replace(path, feed.atom_str(pretty=True))


def _replace(path: Path, content: bytes) -> None:
    """`path` holds `content` or what it held before, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(content)
    # mkstemp makes the file 0600: a feed reader or a web server must be able to read it.
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


class AtomChannel(Channel):
    kind = "atom"
    sends_backlog = True   # a new feed starts with what is already stored
    rewrites = True

    @property
    def path(self) -> Path:
        return self.config.resolve(self.target)

    def describe(self) -> str:
        return "atom file"

    def deliver(self, batch: Batch, sent: list[dict]) -> Delivery:
        write_atom(self.path, sent, title=f"frwatch: {batch.topic}")
        return Delivery(True)

    def preview_head(self, batches: list[Batch]) -> str:
        count = sum(len(batch.articles) for batch in batches)
        return f"{count} entries would be added to {self.path}"

    def preview(self, batches: list[Batch]) -> list[str]:
        articles = [a for batch in batches for a in batch.articles]
        return [f"  - {headline(a)} — {outlet(a)}, {day(a)}" for a in articles] + [""]

    def test(self) -> ChannelCheck:
        """The file could be written (nearest existing directory writable); no entry."""
        path = self.path
        directory = next((d for d in (path.parent, *path.parent.parents) if d.exists()),
                         path.parent)
        if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
            return ChannelCheck(self.name, False, f"{path}: cannot write in {directory}")
        return ChannelCheck(self.name, True, f"{path} can be written (atom files get no "
                            "test message; the next alert run writes it)")
