"""`frwatch alert`: tell each channel, once, about new related coverage.

Delivery is **at most once** per article and channel. Before a message goes out its
articles are recorded as ``sending`` and committed; after it, ``sent`` or ``failed``. A
run killed between the two leaves ``sending`` rows, which the next run turns into
``unknown`` and never sends again: a lost alert is the price of never sending one twice.
``failed`` sends are retried on the next run. Reprints of an article already alerted on
a channel are recorded as ``folded`` and not sent; reprints arriving with their original
are named in the original's message.

The first run of a channel does not send the backlog of what is already stored: those
articles are recorded as ``backlog`` unless `backfill` is asked for.
"""

from __future__ import annotations

import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlite_utils import Database

from enrich.atom import write_atom
from frwatch.config import Alert, Config
from frwatch.db import utcnow
from frwatch.errors import FrwatchError

logger = logging.getLogger(__name__)

DONE = ("sent", "sending", "unknown", "backlog", "folded")
_ENV = re.compile(r"\$\{(\w+)\}")


@dataclass
class ChannelResult:
    channel: str
    sent: int = 0
    failed: int = 0
    folded: int = 0
    backlog: int = 0
    error: str | None = None


@dataclass
class AlertSummary:
    channels: list[ChannelResult] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(c.sent for c in self.channels)

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.channels)

    def line(self) -> str:
        if not self.channels:
            return "No alert channels configured."
        parts = []
        for c in self.channels:
            text = f"{c.channel}: {c.sent} sent"
            if c.folded:
                text += f", {c.folded} reprints folded"
            if c.backlog:
                text += f", {c.backlog} already stored (backlog, not sent; --backfill sends)"
            if c.failed:
                text += f", {c.failed} FAILED ({c.error})"
            parts.append(text)
        return "Alerts: " + "; ".join(parts) + "."


def expand_secrets(template: str, where: str) -> tuple[str, list[str]]:
    """The URL with ${VAR} filled in from the environment, and the values filled in
    (so that they can be scrubbed from any error text)."""
    values = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise FrwatchError(f"{where}: environment variable {name} is not set")
        values.append(os.environ[name])
        return os.environ[name]

    return _ENV.sub(fill, template), [v for v in values if v]


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


class Alerter:
    def __init__(self, db: Database, config: Config, backfill: bool = False):
        self.db = db
        self.config = config
        self.backfill = backfill

    def run(self) -> AlertSummary:
        summary = AlertSummary()
        with self.db.atomic():
            # A run that died mid-send: whether those went out is unknown; never resend.
            self.db.execute("update alerts set status = 'unknown', error = "
                            "'interrupted between sending and recording' "
                            "where status = 'sending'")
        for index, alert in enumerate(self.config.alerts):
            summary.channels.append(self._channel(alert, f"alerts.{index}"))
        return summary

    # --- selection ----------------------------------------------------------------------
    def _pending(self, channel: str) -> list[dict]:
        return list(self.db.query(
            "select a.id, a.title, a.url, a.source, a.published, a.first_seen, a.description, "
            "a.text, a.relevance_reason, a.duplicate_of, a.cluster_id, c.label as cluster_label, "
            "c.size as cluster_size from articles a left join clusters c on c.id = a.cluster_id "
            "where a.related = 1 and a.enriched_at is not null and not exists (select 1 from "
            "alerts x where x.article_id = a.id and x.channel = ? and x.status in "
            f"({','.join('?' * len(DONE))})) order by coalesce(a.published, a.first_seen), a.id",
            [channel, *DONE]))

    def _record(self, ids: list[str], channel: str, status: str,
                error: str | None = None) -> None:
        now = utcnow()
        self.db["alerts"].upsert_all(
            [{"article_id": i, "channel": channel, "sent_at": now, "status": status,
              "error": error} for i in ids], pk=("article_id", "channel"))

    def _alerted(self, article_id: str, channel: str) -> bool:
        return self.db.execute(
            "select 1 from alerts where article_id = ? and channel = ? and status in "
            "('sent', 'sending', 'unknown', 'backlog')",
            [article_id, channel]).fetchone() is not None

    def _channel(self, alert: Alert, where: str) -> ChannelResult:
        channel = alert.channel
        result = ChannelResult(channel)
        pending = self._pending(channel)
        first_time = self.db.execute("select 1 from alerts where channel = ? limit 1",
                                     [channel]).fetchone() is None
        if first_time and not self.backfill and alert.atom is None:
            with self.db.atomic():
                self._record([a["id"] for a in pending], channel, "backlog")
            result.backlog = len(pending)
            return result
        # Fold reprints: of something already alerted, or of an original sent now.
        originals: dict[str, dict] = {}
        reprints: dict[str, list[dict]] = defaultdict(list)
        folded: list[str] = []
        pending_ids = {a["id"] for a in pending}
        for article in pending:
            original = article["duplicate_of"]
            if original and (original in pending_ids):
                reprints[original].append(article)
            elif original and self._alerted(original, channel):
                folded.append(article["id"])
            else:
                originals[article["id"]] = article
        if folded:
            with self.db.atomic():
                self._record(folded, channel, "folded")
            result.folded += len(folded)
        if not originals:
            if alert.atom is not None:
                self._write_atom(alert)
            return result
        if alert.atom is not None:
            return self._to_atom(alert, list(originals.values()), reprints, result)
        return self._to_apprise(alert, where, list(originals.values()), reprints, result)

    # --- delivery -----------------------------------------------------------------------
    def _to_atom(self, alert: Alert, articles: list[dict], reprints: dict[str, list[dict]],
                 result: ChannelResult) -> ChannelResult:
        with self.db.atomic():
            self._record([a["id"] for a in articles], alert.channel, "sent")
            self._record([r["id"] for a in articles for r in reprints.get(a["id"], [])],
                         alert.channel, "folded")
        self._write_atom(alert)
        result.sent = len(articles)
        result.folded += sum(len(reprints.get(a["id"], [])) for a in articles)
        return result

    def _write_atom(self, alert: Alert) -> None:
        path = self.config.resolve(alert.atom or "")
        entries = list(self.db.query(
            "select a.id, a.title, a.url, a.source, a.author, a.published, a.first_seen, "
            "a.description, a.text, a.relevance_reason, c.label as cluster_label, x.sent_at "
            "from alerts x join articles a on a.id = x.article_id "
            "left join clusters c on c.id = a.cluster_id "
            "where x.channel = ? and x.status = 'sent' "
            "order by coalesce(a.published, a.first_seen) desc, a.id limit ?",
            [alert.channel, alert.max_entries]))
        write_atom(path, entries, title=f"frwatch: {self.config.topic.name}")

    def _to_apprise(self, alert: Alert, where: str, articles: list[dict],
                    reprints: dict[str, list[dict]], result: ChannelResult) -> ChannelResult:
        import apprise

        url, secrets = expand_secrets(alert.apprise or "", f"{where}.apprise")
        target = apprise.Apprise()
        if not target.add(url):
            raise FrwatchError(f"{where}.apprise: not a notification URL apprise understands")
        batches = [articles] if alert.mode == "digest" else [[a] for a in articles]
        for batch in batches:
            ids = [a["id"] for a in batch]
            copies = [r["id"] for a in batch for r in reprints.get(a["id"], [])]
            with self.db.atomic():
                self._record(ids + copies, alert.channel, "sending")
            title, body = (digest_message(batch, reprints, self.config.topic.name)
                           if alert.mode == "digest" else story_message(batch[0], reprints))
            errors: list[str] = []
            outcome = target.notify(body=body, title=title,
                                    body_format=apprise.NotifyFormat.MARKDOWN,
                                    log_callback=_collect(errors))
            with self.db.atomic():
                if outcome:
                    self._record(ids, alert.channel, "sent")
                    self._record(copies, alert.channel, "folded")
                    result.sent += len(ids)
                    result.folded += len(copies)
                else:
                    error = scrub(_last_error(errors), secrets)
                    # Failed: retried on the next run (the rows leave the DONE states).
                    self._record(ids + copies, alert.channel, "failed", error)
                    result.failed += len(ids)
                    result.error = error
        return result


def _collect(lines: list[str]):
    return lambda entry, plugin: lines.append(str(entry))


def _last_error(lines: list[str]) -> str:
    relevant = [line.split(" - ", 2)[-1] for line in lines
                if "WARNING" in line or "ERROR" in line]
    return (relevant[-1] if relevant else "the notification service refused it")[:300]


def _day(article: dict) -> str:
    return (article.get("published") or article.get("first_seen") or "")[:10]


def _also(article: dict, reprints: dict[str, list[dict]]) -> str:
    copies = reprints.get(article["id"], [])
    if not copies:
        return ""
    return "Also published by: " + ", ".join(sorted({c["source"] or "?" for c in copies}))


def story_message(article: dict, reprints: dict[str, list[dict]]) -> tuple[str, str]:
    """(title, Markdown body) of a message about one story."""
    summary = article.get("description") or (article.get("text") or "")[:300]
    lines = [f"**{article['title']}**", f"{article['source']} · {_day(article)}",
             article["url"], "", summary.strip(), ""]
    if article.get("cluster_label"):
        lines.append(f"Story: {article['cluster_label']} "
                     f"({article.get('cluster_size') or 1} articles)")
    lines.append(f"Why: {article.get('relevance_reason') or '-'}")
    also = _also(article, reprints)
    if also:
        lines.append(also)
    return f"[frwatch] {article['title']}", "\n".join(lines)


def digest_message(articles: list[dict], reprints: dict[str, list[dict]],
                   topic: str) -> tuple[str, str]:
    """(title, Markdown body) listing this run's new stories, grouped by story cluster."""
    by_cluster: dict[str, list[dict]] = defaultdict(list)
    for article in articles:
        by_cluster[article.get("cluster_label") or article["title"]].append(article)
    lines = []
    for label, members in by_cluster.items():
        lines.append(f"## {label}")
        for article in members:
            lines.append(f"- {article['title']} — {article['source']}, {_day(article)}")
            lines.append(f"  {article['url']}")
            also = _also(article, reprints)
            if also:
                lines.append(f"  {also}")
        lines.append("")
    noun = "story" if len(by_cluster) == 1 else "stories"
    title = (f"[frwatch] {len(articles)} new articles in {len(by_cluster)} {noun}: {topic}")
    return title, "\n".join(lines).strip()


def alert_store(db: Database, config: Config, backfill: bool = False) -> AlertSummary:
    return Alerter(db, config, backfill=backfill).run()

