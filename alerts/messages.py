"""What alert messages say: one story, a digest of many, a health notice, a test.

Each is a (title, plain-text body) pair. Every field from a crawled page goes through
`plain`; the one link a message carries is the article's own http(s) URL.
"""

from __future__ import annotations

from collections import defaultdict

from alerts.channel import Batch
from alerts.text import clip, plain, safe_url

Message = tuple[str, str]


def day(article: dict) -> str:
    """The article's date (published, else first seen) as YYYY-MM-DD."""
    return (article.get("published") or article.get("first_seen") or "")[:10]


def headline(article: dict) -> str:
    """The article's title as plain text, else its URL, else a placeholder."""
    return plain(article.get("title")) or safe_url(article.get("url")) or "(untitled)"


def outlet(article: dict) -> str:
    return plain(article.get("source")) or "?"


def also_published(article: dict, reprints: dict[str, list[dict]]) -> str:
    """`Also published by: …` naming the outlets of the article's reprints, or ''."""
    copies = reprints.get(article["id"], [])
    if not copies:
        return ""
    return "Also published by: " + ", ".join(sorted({outlet(c) for c in copies}))


def story_message(article: dict, reprints: dict[str, list[dict]]) -> Message:
    """(title, plain-text body) of a message about one story. Every field from the page
    is `plain`; the one link is the article's URL, if it is http(s)."""
    summary = clip(plain(article.get("description") or (article.get("text") or "")[:600]),
                   300)
    lines = [headline(article), f"{outlet(article)} · {day(article)}"]
    url = safe_url(article.get("url"))
    if url:
        lines.append(url)
    lines += ["", summary, ""] if summary else [""]
    if article.get("cluster_label"):
        lines.append(f"Story: {plain(article['cluster_label'])} "
                     f"({article.get('cluster_size') or 1} articles)")
    lines.append(f"Why: {plain(article.get('relevance_reason')) or '-'}")
    also = also_published(article, reprints)
    if also:
        lines.append(also)
    return f"[frwatch] {headline(article)}", "\n".join(lines)


def digest_message(articles: list[dict], reprints: dict[str, list[dict]],
                   topic: str) -> Message:
    """(title, plain-text body) listing this run's new stories, grouped by story cluster."""
    by_cluster: dict[str, list[dict]] = defaultdict(list)
    for article in articles:
        by_cluster[plain(article.get("cluster_label")) or headline(article)].append(article)
    lines = []
    for label, members in by_cluster.items():
        lines.append(f"## {label}")
        for article in members:
            lines.append(f"- {headline(article)} — {outlet(article)}, {day(article)}")
            url = safe_url(article.get("url"))
            if url:
                lines.append(f"  {url}")
            also = also_published(article, reprints)
            if also:
                lines.append(f"  {also}")
        lines.append("")
    noun = "story" if len(by_cluster) == 1 else "stories"
    things = "article" if len(articles) == 1 else "articles"
    title = f"[frwatch] {len(articles)} new {things} in {len(by_cluster)} {noun}: {topic}"
    return title, "\n".join(lines).strip()


def render(batch: Batch) -> Message:
    """The message a batch is sent as: one digest, or the story of its one article."""
    if batch.digest:
        return digest_message(batch.articles, batch.reprints, batch.topic)
    return story_message(batch.articles[0], batch.reprints)


def health_message(source: str, health: dict) -> Message:
    """A notice that a source's extraction turned degraded or broken, with its shares of
    pages with text, title and date now and before (`frwatch.health.source_health`)."""
    before = health["history"]
    title = f"[frwatch] {plain(source)}: extraction {health['health']}"
    body = (f"Pages from {plain(source)} no longer extract as they did: of its "
            f"latest {health['pages']} pages, {health['with_text']:.0%} have text (was "
            f"{before.get('with_text', 0):.0%}), {health['with_title']:.0%} a title "
            f"(was {before.get('with_title', 0):.0%}), {health['with_date']:.0%} a date "
            f"(was {before.get('with_date', 0):.0%}). The site may have changed "
            "its pages; `frwatch status` has the details.")
    return title, body


def trial_message(topic: str, channel: str) -> Message:
    """The marked message `frwatch alert --test` sends: no news, nothing recorded."""
    title = f"[frwatch] TEST message, not news: {plain(topic)}"
    body = (f"This is a test message from frwatch (`frwatch alert --test`) to the "
            f"channel {channel}, to check that alerts about "
            f"{plain(topic)} reach you. It carries no news; nothing was "
            "recorded.")
    return title, body
