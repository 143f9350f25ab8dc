"""`frwatch alert`: tell each channel, once, about new related coverage.

Delivery is **at most once** per article and channel. Before a message goes out its
articles are recorded as ``sending`` and committed; after it, ``sent`` or ``failed``. A
run killed between the two leaves ``sending`` rows, which the next run turns into
``unknown`` and never sends again: a lost alert is the price of never sending one twice.
``failed`` sends are retried on the next run. Reprints of an article already alerted on
a channel are recorded as ``folded`` and not sent; reprints arriving with their original
are named in the original's message.

The first run of a channel does not send the backlog of what is already stored: those
articles are recorded as ``backlog`` unless `backfill` is asked for. `backfill` on any
later run sends what is stored and not yet sent there, ``backlog`` rows included.

`preview` says what the next run would send and `test` sends one marked test message to
each channel; neither writes to the store.

Articles are *claimed* for a channel in one ``BEGIN IMMEDIATE`` transaction that checks
no other run holds them (the row key is (article, channel)), so two runs at once never
send the same article twice. Messages are plain text: what crawled pages wrote is never
markup or a link (see `enrich.atom.plain`); the only link is the article's own URL. A
story-mode channel with more new stories than its `max_messages` gets one digest
instead, so that a burst is neither a flood nor minutes of rate-limited sends.
"""

from __future__ import annotations

import logging
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlite_utils import Database

from enrich.atom import clip, plain, safe_url, write_atom
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
    digest: bool = False   # story mode, over max_messages: sent as one digest


@dataclass
class AlertSummary:
    channels: list[ChannelResult] = field(default_factory=list)
    health: list[str] = field(default_factory=list)   # health notices sent this run

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
            if c.digest:
                text += " (as one digest: more new stories than max_messages)"
            if c.folded:
                text += f", {c.folded} reprints folded"
            if c.backlog:
                text += f", {c.backlog} already stored (backlog, not sent; --backfill sends)"
            if c.failed:
                text += f", {c.failed} FAILED ({c.error})"
            parts.append(text)
        notices = "".join(f"\n  {line}" for line in self.health)
        return "Alerts: " + "; ".join(parts) + "." + notices


def expand_secrets(template: str, where: str) -> tuple[str, list[str]]:
    """The URL with ${VAR} filled in from the environment, each value URL-encoded (a
    password may hold `@`, `/`, `:`, `#` or `?`; apprise decodes it again), and the raw
    values filled in (so that they can be scrubbed, in any encoding, from error texts)."""
    values = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise FrwatchError(f"{where}: environment variable {name} is not set")
        values.append(os.environ[name])
        return quote(os.environ[name], safe="")

    return _ENV.sub(fill, template), [v for v in values if v]


def _hex(byte: int) -> str:
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in f"{byte:02X}")


def _any_encoding(secret: str) -> str:
    """A pattern for `secret` raw or URL-encoded in any way: each character as itself or
    percent-encoded (either case of hex digit, even twice), a space also as `+`."""
    parts = []
    for char in secret:
        encoded = "".join(f"%(?:25)?{_hex(b)}" for b in char.encode("utf-8"))
        space = r"|\+" if char == " " else ""
        parts.append(f"(?:{encoded}{space}|{re.escape(char)})")  # `%25` before `%`
    return "".join(parts)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret, raw or URL-encoded in any form, replaced by ***."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = re.sub(_any_encoding(secret), "***", text)
    return text


class _Scrubber(logging.Filter):
    """Scrubs secrets from apprise's log records (printed if logging is configured)."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self.secrets), None
        return True


def select_channels(config: Config, name: str | None = None) -> list[tuple[int, Alert]]:
    """(index, alert) of every channel, or of the one called `name` (its `name` or the
    channel name it is recorded under); an unknown name is an error naming the others."""
    channels = list(enumerate(config.alerts))
    if name is None:
        return channels
    chosen = [(i, a) for i, a in channels if name in (a.name, a.channel)]
    if not chosen:
        known = ", ".join(a.channel for _, a in channels) or "none configured"
        raise FrwatchError(f"no alert channel called {name!r} (channels: {known})")
    return chosen


@dataclass
class _Plan:
    """What a channel's next run would do, decided without writing anything."""

    backlog: list[str] = field(default_factory=list)     # first run: recorded, not sent
    folded: list[str] = field(default_factory=list)      # reprints of what it already had
    originals: list[dict] = field(default_factory=list)  # to send, in date order
    reprints: dict[str, list[dict]] = field(default_factory=dict)


class Alerter:
    def __init__(self, db: Database, config: Config, backfill: bool = False,
                 channel: str | None = None):
        self.db = db
        self.config = config
        self.backfill = backfill
        self.channels = select_channels(config, channel)
        # With backfill, articles recorded as `backlog` are sent like new ones.
        self.done = tuple(s for s in DONE if not (backfill and s == "backlog"))

    def run(self) -> AlertSummary:
        summary = AlertSummary()
        with self._immediate():
            # A run that died mid-send: whether those went out is unknown; never resend.
            self.db.execute("update alerts set status = 'unknown', error = "
                            "'interrupted between sending and recording' "
                            "where status = 'sending'")
        for index, alert in self.channels:
            summary.channels.append(self._channel(alert, f"alerts.{index}"))
        summary.health = self._health_notices()
        return summary

    def _health_notices(self) -> list[str]:
        """Tell each apprise channel, once, about a source whose extraction turned
        degraded or broken (frwatch/health.py); a source back to ok is forgotten, so a
        later break is told again. Returns one line per notice sent."""
        from frwatch.health import MIN_PAGES, source_health

        health = source_health(self.db)
        now = utcnow()
        with self._immediate():
            self.db["source_health"].upsert_all([{
                "source": source, "health": h["health"], "pages": h["pages"],
                **{k: h.get(k) for k in ("with_text", "with_title", "with_date",
                                         "with_author")},
                "earlier_pages": h["history"].get("pages"),
                **{f"earlier_{k}": h["history"].get(k)
                   for k in ("with_text", "with_title", "with_date")},
                "checked": now} for source, h in health.items()], pk="source")
        told = {(r["source"], r["channel"]): r["health"]
                for r in self.db.query("select source, channel, health from health_notices")}
        lines = []
        for index, alert in self.channels:
            if alert.atom is not None or not alert.health_notices:
                continue
            for source, h in sorted(health.items()):
                key = (source, alert.channel)
                if h["health"] == "ok" and key in told:
                    with self._immediate():
                        self.db.execute("delete from health_notices where source = ? and "
                                        "channel = ?", list(key))
                if h["health"] not in ("degraded", "broken") or told.get(key) == h["health"]:
                    continue
                if h["history"].get("pages", 0) < MIN_PAGES:
                    continue  # a change is news; a source never seen working is in status

                before = h["history"]
                title = f"[frwatch] {plain(source)}: extraction {h['health']}"
                body = (f"Pages from {plain(source)} no longer extract as they did: of its "
                        f"latest {h['pages']} pages, {h['with_text']:.0%} have text (was "
                        f"{before.get('with_text', 0):.0%}), {h['with_title']:.0%} a title "
                        f"(was {before.get('with_title', 0):.0%}), {h['with_date']:.0%} a date "
                        f"(was {before.get('with_date', 0):.0%}). The site may have changed "
                        "its pages; `frwatch status` has the details.")
                check = _notify(alert, f"alerts.{index}", title, body)
                if check.ok:
                    with self._immediate():
                        self.db["health_notices"].upsert(
                            {"source": source, "channel": alert.channel,
                             "health": h["health"], "at": utcnow()},
                            pk=("source", "channel"))
                lines.append(f"{alert.channel}: health notice for {source} "
                             f"({h['health']}): {check.detail}")
        return lines

    def preview(self) -> list[str]:
        """What the next run would send to each channel, message by message; nothing is
        written (articles held by a run in flight are left out, as that run has them)."""
        lines: list[str] = []
        for _, alert in self.channels:
            plan = self._plan(alert)
            head = f"== {alert.channel} ({'atom file' if alert.atom else alert.mode})"
            if plan.backlog:
                lines += [f"{head}: first run: {len(plan.backlog)} stored articles would be "
                          "recorded as backlog, not sent (--backfill sends them)", ""]
                continue
            note = f", {len(plan.folded)} reprints folded" if plan.folded else ""
            if not plan.originals:
                lines += [f"{head}: nothing new to send{note}", ""]
                continue
            if alert.atom is not None:
                lines.append(f"{head}: {len(plan.originals)} entries would be added to "
                             f"{self.config.resolve(alert.atom)}{note}")
                lines += [f"  - {_title(a)} — {plain(a.get('source')) or '?'}, {_day(a)}"
                          for a in plan.originals]
                lines.append("")
                continue
            digest = alert.mode == "digest" or len(plan.originals) > alert.max_messages
            messages = ([digest_message(plan.originals, plan.reprints, self.config.topic.name)]
                        if digest else [story_message(a, plan.reprints)
                                        for a in plan.originals])
            why = (" (as one digest: more new stories than max_messages)"
                   if digest and alert.mode == "story" else "")
            lines.append(f"{head}: {len(messages)} message{'s' if len(messages) != 1 else ''}"
                         f"{why}{note}")
            for number, (title, body) in enumerate(messages, 1):
                lines += [f"--- message {number}: {title}", body, ""]
        return lines or ["No alert channels configured."]

    # --- claiming -----------------------------------------------------------------------
    @contextmanager
    def _immediate(self) -> Iterator[None]:
        """A write transaction taken at once (BEGIN IMMEDIATE): what it reads cannot be
        changed by another process before it commits."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.execute("COMMIT")

    def _taken(self, ids: list[str], channel: str) -> set[str]:
        taken: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            taken.update(row[0] for row in self.db.execute(
                f"select article_id from alerts where channel = ? and article_id in "
                f"({','.join('?' * len(chunk))}) and status in "
                f"({','.join('?' * len(self.done))})", [channel, *chunk, *self.done]))
        return taken

    def _claim(self, groups: list[tuple[str, list[str]]], channel: str, status: str,
               copies_status: str | None = None) -> list[tuple[str, list[str]]]:
        """Record each (article, its reprints) group not already held on the channel by
        any run as `status` (its reprints as `copies_status`, default the same), in one
        transaction; return the groups claimed, less reprints already held."""
        with self._immediate():
            ids = [i for article, copies in groups for i in (article, *copies)]
            taken = self._taken(ids, channel)
            claimed = [(article, [c for c in copies if c not in taken])
                       for article, copies in groups if article not in taken]
            self._record([article for article, _ in claimed], channel, status)
            self._record([c for _, copies in claimed for c in copies], channel,
                         copies_status or status)
        return claimed

    # --- selection ----------------------------------------------------------------------
    def _pending(self, channel: str) -> list[dict]:
        return list(self.db.query(
            "select a.id, a.title, a.url, a.source, a.published, a.first_seen, a.description, "
            "a.text, a.relevance_reason, a.duplicate_of, a.cluster_id, c.label as cluster_label, "
            "c.size as cluster_size from articles a left join clusters c on c.id = a.cluster_id "
            "where a.related = 1 and a.enriched_at is not null and not exists (select 1 from "
            "alerts x where x.article_id = a.id and x.channel = ? and x.status in "
            f"({','.join('?' * len(self.done))})) order by coalesce(a.published, a.first_seen), "
            "a.id", [channel, *self.done]))

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

    def _plan(self, alert: Alert) -> _Plan:
        channel = alert.channel
        pending = self._pending(channel)
        first_time = self.db.execute("select 1 from alerts where channel = ? limit 1",
                                     [channel]).fetchone() is None
        if first_time and not self.backfill and alert.atom is None:
            return _Plan(backlog=[a["id"] for a in pending])
        # Fold reprints: of something already alerted, or of an original sent now.
        plan = _Plan(reprints=defaultdict(list))
        pending_ids = {a["id"] for a in pending}
        for article in pending:
            original = article["duplicate_of"]
            if original and (original in pending_ids):
                plan.reprints[original].append(article)
            elif original and self._alerted(original, channel):
                plan.folded.append(article["id"])
            else:
                plan.originals.append(article)
        return plan

    def _channel(self, alert: Alert, where: str) -> ChannelResult:
        channel = alert.channel
        result = ChannelResult(channel)
        plan = self._plan(alert)
        if plan.backlog:
            result.backlog = len(self._claim([(i, []) for i in plan.backlog], channel,
                                             "backlog"))
            return result
        if plan.folded:
            result.folded += len(self._claim([(i, []) for i in plan.folded], channel,
                                             "folded"))
        if not plan.originals:
            if alert.atom is not None:
                self._write_atom(alert)
            return result
        if alert.atom is not None:
            return self._to_atom(alert, plan.originals, plan.reprints, result)
        return self._to_apprise(alert, where, plan.originals, plan.reprints, result)

    # --- delivery -----------------------------------------------------------------------
    def _to_atom(self, alert: Alert, articles: list[dict], reprints: dict[str, list[dict]],
                 result: ChannelResult) -> ChannelResult:
        claimed = self._claim(_groups(articles, reprints), alert.channel, "sent", "folded")
        self._write_atom(alert)
        result.sent = len(claimed)
        result.folded += sum(len(copies) for _, copies in claimed)
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
        # Apprise logs (shown with -v, and handed to `_collect`) are scrubbed as they are made.
        scrubber = _Scrubber(secrets)
        apprise_log = logging.getLogger("apprise")
        apprise_log.addFilter(scrubber)
        try:
            target = apprise.Apprise()
            if not target.add(url):
                raise FrwatchError(f"{where}.apprise: not a notification URL apprise "
                                   "understands")
            # Many new stories at once: one digest, not a flood (nor minutes of the pause
            # apprise makes between two messages to most services).
            digest = alert.mode == "digest" or len(articles) > alert.max_messages
            result.digest = digest and alert.mode == "story"
            batches = [articles] if digest else [[a] for a in articles]
            by_id = {a["id"]: a for a in articles}
            for batch in batches:
                self._send(target, alert, batch, by_id, reprints, digest, secrets, result)
        finally:
            apprise_log.removeFilter(scrubber)
        return result

    def _send(self, target, alert: Alert, batch: list[dict], by_id: dict[str, dict],
              reprints: dict[str, list[dict]], digest: bool, secrets: list[str],
              result: ChannelResult) -> None:
        import apprise

        claimed = self._claim(_groups(batch, reprints), alert.channel, "sending")
        if not claimed:
            return  # another run has (or had) them
        ids = [article for article, _ in claimed]
        copies = [c for _, held in claimed for c in held]
        batch = [by_id[i] for i in ids]
        title, body = (digest_message(batch, reprints, self.config.topic.name)
                       if digest else story_message(batch[0], reprints))
        errors: list[str] = []
        try:
            # Plain text: a title holding <script> or [x](http://…) stays text everywhere.
            outcome = target.notify(body=body, title=title,
                                    body_format=apprise.NotifyFormat.TEXT,
                                    log_callback=_collect(errors))
        except Exception as exc:  # left `sending`: the next run makes it `unknown`
            raise FrwatchError(f"{alert.channel}: sending failed: "
                               f"{scrub(str(exc), secrets)}") from None
        with self._immediate():
            if outcome:
                self._record(ids, alert.channel, "sent")
                self._record(copies, alert.channel, "folded")
                result.sent += len(ids)
                result.folded += len(copies)
            else:
                # Scrubbed before it is cut short, so that no part of a secret is left.
                error = _last_error([scrub(line, secrets) for line in errors])
                # Failed: retried on the next run (the rows leave the DONE states).
                self._record(ids + copies, alert.channel, "failed", error)
                result.failed += len(ids)
                result.error = error


def _groups(articles: list[dict], reprints: dict[str, list[dict]]
            ) -> list[tuple[str, list[str]]]:
    return [(a["id"], [r["id"] for r in reprints.get(a["id"], [])]) for a in articles]


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
    return "Also published by: " + ", ".join(sorted({plain(c["source"]) or "?"
                                                    for c in copies}))


def _title(article: dict) -> str:
    return plain(article.get("title")) or safe_url(article.get("url")) or "(untitled)"


def story_message(article: dict, reprints: dict[str, list[dict]]) -> tuple[str, str]:
    """(title, plain-text body) of a message about one story. Every field from the page
    is `plain`; the one link is the article's URL, if it is http(s)."""
    summary = clip(plain(article.get("description") or (article.get("text") or "")[:600]),
                   300)
    lines = [_title(article), f"{plain(article.get('source')) or '?'} · {_day(article)}"]
    url = safe_url(article.get("url"))
    if url:
        lines.append(url)
    lines += ["", summary, ""] if summary else [""]
    if article.get("cluster_label"):
        lines.append(f"Story: {plain(article['cluster_label'])} "
                     f"({article.get('cluster_size') or 1} articles)")
    lines.append(f"Why: {plain(article.get('relevance_reason')) or '-'}")
    also = _also(article, reprints)
    if also:
        lines.append(also)
    return f"[frwatch] {_title(article)}", "\n".join(lines)


def digest_message(articles: list[dict], reprints: dict[str, list[dict]],
                   topic: str) -> tuple[str, str]:
    """(title, plain-text body) listing this run's new stories, grouped by story cluster."""
    by_cluster: dict[str, list[dict]] = defaultdict(list)
    for article in articles:
        by_cluster[plain(article.get("cluster_label")) or _title(article)].append(article)
    lines = []
    for label, members in by_cluster.items():
        lines.append(f"## {label}")
        for article in members:
            lines.append(f"- {_title(article)} — {plain(article.get('source')) or '?'}, "
                         f"{_day(article)}")
            url = safe_url(article.get("url"))
            if url:
                lines.append(f"  {url}")
            also = _also(article, reprints)
            if also:
                lines.append(f"  {also}")
        lines.append("")
    noun = "story" if len(by_cluster) == 1 else "stories"
    things = "article" if len(articles) == 1 else "articles"
    title = f"[frwatch] {len(articles)} new {things} in {len(by_cluster)} {noun}: {topic}"
    return title, "\n".join(lines).strip()


def alert_store(db: Database, config: Config, backfill: bool = False,
                channel: str | None = None) -> AlertSummary:
    return Alerter(db, config, backfill=backfill, channel=channel).run()


def preview_store(db: Database, config: Config, backfill: bool = False,
                  channel: str | None = None) -> str:
    """What `alert` would send now, as text; the store is not written."""
    return "\n".join(Alerter(db, config, backfill=backfill, channel=channel).preview()).rstrip()


@dataclass
class ChannelCheck:
    channel: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok    ' if self.ok else 'FAILED'} {self.channel}: {self.detail}"


def send_test_messages(config: Config, channel: str | None = None) -> list[ChannelCheck]:
    """Send one clearly marked test message to each apprise channel (or the one named)
    and check that each Atom file could be written; nothing is recorded in the store."""
    results = []
    for index, alert in select_channels(config, channel):
        if alert.atom is not None:
            results.append(_test_atom(config, alert))
        else:
            results.append(_test_apprise(config, alert, f"alerts.{index}"))
    return results


def _test_atom(config: Config, alert: Alert) -> ChannelCheck:
    path = config.resolve(alert.atom or "")
    directory = next((d for d in (path.parent, *path.parent.parents) if d.exists()),
                     path.parent)
    if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
        return ChannelCheck(alert.channel, False, f"{path}: cannot write in {directory}")
    return ChannelCheck(alert.channel, True, f"{path} can be written (atom files get no "
                        "test message; the next alert run writes it)")


def _test_apprise(config: Config, alert: Alert, where: str) -> ChannelCheck:
    title = f"[frwatch] TEST message, not news: {plain(config.topic.name)}"
    body = (f"This is a test message from frwatch (`frwatch alert --test`) to the "
            f"channel {alert.channel}, to check that alerts about "
            f"{plain(config.topic.name)} reach you. It carries no news; nothing was "
            "recorded.")
    check = _notify(alert, where, title, body)
    return ChannelCheck(check.channel, check.ok,
                        "test message sent" if check.ok else check.detail)


def _notify(alert: Alert, where: str, title: str, body: str) -> ChannelCheck:
    """Send one plain-text message to an apprise channel; secrets kept out of errors."""
    import apprise

    try:
        url, secrets = expand_secrets(alert.apprise or "", f"{where}.apprise")
    except FrwatchError as exc:
        return ChannelCheck(alert.channel, False, str(exc))
    scrubber = _Scrubber(secrets)
    apprise_log = logging.getLogger("apprise")
    apprise_log.addFilter(scrubber)
    errors: list[str] = []
    try:
        target = apprise.Apprise()
        if not target.add(url):
            return ChannelCheck(alert.channel, False,
                                "not a notification URL apprise understands")
        try:
            ok = target.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT,
                               log_callback=_collect(errors))
        except Exception as exc:
            return ChannelCheck(alert.channel, False, scrub(str(exc), secrets)[:300])
    finally:
        apprise_log.removeFilter(scrubber)
    if ok:
        return ChannelCheck(alert.channel, True, "sent")
    return ChannelCheck(alert.channel, False,
                        _last_error([scrub(line, secrets) for line in errors]))

