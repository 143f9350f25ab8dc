"""`frwatch alert`: tell each channel, once, about new related coverage.

Delivery is **at most once** per article and channel. Before a message goes out its
articles are recorded as ``sending`` and committed; after it, ``sent`` or ``failed``. A
run killed between the two leaves ``sending`` rows, which the next run turns into
``unknown`` and never sends again: a lost alert is the price of never sending one twice.
``failed`` sends are retried on the next run. Reprints of an article already alerted on
a channel are recorded as ``folded`` and not sent; reprints arriving with their original
are named in the original's message. (alerts/status.py has the states.)

The first run of a channel does not send the backlog of what is already stored: those
articles are recorded as ``backlog`` unless `backfill` is asked for. `backfill` on any
later run sends what is stored and not yet sent there, ``backlog`` rows included. A
channel that keeps a file (Atom) takes the backlog, and records articles ``sent`` before
it rewrites the file, on every run.

`preview` says what the next run would send and `test` sends one marked test message to
each channel; neither writes to the store.

Articles are *claimed* for a channel in one ``BEGIN IMMEDIATE`` transaction that checks
no other run holds them (the row key is (article, channel)), so two runs at once never
send the same article twice. What a message says is alerts/messages.py; how it travels,
the channel classes (alerts/registry.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sqlite_utils import Database

from alerts.channel import Batch, Channel, ChannelCheck, ChannelResult
from alerts.messages import health_message
from alerts.registry import make_channel
from alerts.status import HELD, Status, done, placeholders
from frwatch.config import Alert, Config
from frwatch.db import utcnow
from frwatch.errors import FrwatchError


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


def channels(config: Config, name: str | None = None) -> list[Channel]:
    """The channel objects of `select_channels`."""
    return [make_channel(alert, config, f"alerts.{index}")
            for index, alert in select_channels(config, name)]


@dataclass
class _Plan:
    """What a channel's next run would do, decided without writing anything."""

    backlog: list[str] = field(default_factory=list)     # first run: recorded, not sent
    folded: list[str] = field(default_factory=list)      # reprints of what it already had
    originals: list[dict] = field(default_factory=list)  # to send, in date order
    reprints: dict[str, list[dict]] = field(default_factory=dict)


def _groups(articles: list[dict], reprints: dict[str, list[dict]]
            ) -> list[tuple[str, list[str]]]:
    """(article id, its reprints' ids) for each article."""
    return [(a["id"], [r["id"] for r in reprints.get(a["id"], [])]) for a in articles]


class Alerter:
    def __init__(self, db: Database, config: Config, backfill: bool = False,
                 channel: str | None = None):
        self.db = db
        self.config = config
        self.backfill = backfill
        self.channels = channels(config, channel)
        # With backfill, articles recorded as `backlog` are sent like new ones.
        self.done = done(backfill)

    def run(self) -> AlertSummary:
        summary = AlertSummary()
        with self._immediate():
            # A run that died mid-send: whether those went out is unknown; never resend.
            self.db.execute("update alerts set status = ?, error = "
                            "'interrupted between sending and recording' where status = ?",
                            [Status.UNKNOWN, Status.SENDING])
        for channel in self.channels:
            summary.channels.append(self._channel(channel))
        summary.health = self._health_notices()
        return summary

    # --- health notices -----------------------------------------------------------------
    def _health_notices(self) -> list[str]:
        """Tell each channel that takes notices, once, about a source whose extraction
        turned degraded or broken (frwatch/health.py); a source back to ok is forgotten,
        so a later break is told again. Returns one line per notice sent."""
        from frwatch.health import source_health

        health = source_health(self.db)
        self._record_health(health)
        told = {(r["source"], r["channel"]): r["health"]
                for r in self.db.query("select source, channel, health from health_notices")}
        lines = []
        for channel in self.channels:
            if not channel.alert.health_notices:
                continue
            for source, h in sorted(health.items()):
                line = self._health_notice(channel, source, h, told.get((source, channel.name)))
                if line:
                    lines.append(line)
        return lines

    def _record_health(self, health: dict[str, dict]) -> None:
        """Each source's health as computed now, for `status` and the next run."""
        now = utcnow()
        with self._immediate():
            self.db.table("source_health").upsert_all([{
                "source": source, "health": h["health"], "pages": h["pages"],
                **{k: h.get(k) for k in ("with_text", "with_title", "with_date",
                                         "with_author")},
                "earlier_pages": h["history"].get("pages"),
                **{f"earlier_{k}": h["history"].get(k)
                   for k in ("with_text", "with_title", "with_date")},
                "checked": now} for source, h in health.items()], pk="source")

    def _health_notice(self, channel: Channel, source: str, h: dict,
                       told: str | None) -> str | None:
        """Send (and record) the notice `source`'s health `h` calls for on `channel`, if
        any; `told` is the health last told there. Returns the line for the summary."""
        from frwatch.health import MIN_PAGES

        key = [source, channel.name]
        if h["health"] == "ok" and told is not None:
            with self._immediate():
                self.db.execute("delete from health_notices where source = ? and "
                                "channel = ?", key)
        if h["health"] not in ("degraded", "broken") or told == h["health"]:
            return None
        if h["history"].get("pages", 0) < MIN_PAGES:
            return None  # a change is news; a source never seen working is in status
        check = channel.notify(*health_message(source, h))
        if check is None:
            return None  # the channel takes no notices (a file)
        if check.ok:
            with self._immediate():
                self.db.table("health_notices").upsert(
                    {"source": source, "channel": channel.name, "health": h["health"],
                     "at": utcnow()}, pk=("source", "channel"))
        return f"{channel.name}: health notice for {source} ({h['health']}): {check.detail}"

    # --- preview ------------------------------------------------------------------------
    def preview(self) -> list[str]:
        """What the next run would send to each channel, message by message; nothing is
        written (articles held by a run in flight are left out, as that run has them)."""
        lines: list[str] = []
        for channel in self.channels:
            plan = self._plan(channel)
            head = f"== {channel.name} ({channel.describe()})"
            if plan.backlog:
                lines += [f"{head}: first run: {len(plan.backlog)} stored articles would be "
                          "recorded as backlog, not sent (--backfill sends them)", ""]
                continue
            note = f", {len(plan.folded)} reprints folded" if plan.folded else ""
            if not plan.originals:
                lines += [f"{head}: nothing new to send{note}", ""]
                continue
            batches = channel.batches(plan.originals, plan.reprints)
            lines.append(f"{head}: {channel.preview_head(batches)}{note}")
            lines += channel.preview(batches)
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
                f"({','.join('?' * len(chunk))}) and status in ({placeholders(self.done)})",
                [channel, *chunk, *self.done]))
        return taken

    def _claim(self, groups: list[tuple[str, list[str]]], channel: str, status: Status,
               copies_status: Status | None = None) -> list[tuple[str, list[str]]]:
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

    def _record(self, ids: list[str], channel: str, status: Status,
                error: str | None = None) -> None:
        now = utcnow()
        self.db.table("alerts").upsert_all(
            [{"article_id": i, "channel": channel, "sent_at": now, "status": str(status),
              "error": error} for i in ids], pk=("article_id", "channel"))

    # --- selection ----------------------------------------------------------------------
    def _pending(self, channel: str) -> list[dict]:
        return list(self.db.query(
            "select a.id, a.title, a.url, a.source, a.published, a.first_seen, a.description, "
            "a.text, a.relevance_reason, a.duplicate_of, a.cluster_id, c.label as cluster_label, "
            "c.size as cluster_size from articles a left join clusters c on c.id = a.cluster_id "
            "where a.related = 1 and a.enriched_at is not null and not exists (select 1 from "
            "alerts x where x.article_id = a.id and x.channel = ? and x.status in "
            f"({placeholders(self.done)})) order by coalesce(a.published, a.first_seen), "
            "a.id", [channel, *self.done]))

    def _alerted(self, article_id: str, channel: str) -> bool:
        return self.db.execute(
            "select 1 from alerts where article_id = ? and channel = ? and status in "
            f"({placeholders(HELD)})", [article_id, channel, *HELD]).fetchone() is not None

    def _sent(self, channel: Channel) -> list[dict]:
        """The newest articles recorded as sent on `channel` (at most `max_entries`)."""
        return list(self.db.query(
            "select a.id, a.title, a.url, a.source, a.author, a.published, a.first_seen, "
            "a.description, a.text, a.relevance_reason, c.label as cluster_label, x.sent_at "
            "from alerts x join articles a on a.id = x.article_id "
            "left join clusters c on c.id = a.cluster_id "
            "where x.channel = ? and x.status = ? "
            "order by coalesce(a.published, a.first_seen) desc, a.id limit ?",
            [channel.name, Status.SENT, channel.alert.max_entries]))

    def _plan(self, channel: Channel) -> _Plan:
        name = channel.name
        pending = self._pending(name)
        first_time = self.db.execute("select 1 from alerts where channel = ? limit 1",
                                     [name]).fetchone() is None
        if first_time and not self.backfill and not channel.sends_backlog:
            return _Plan(backlog=[a["id"] for a in pending])
        # Fold reprints: of something already alerted, or of an original sent now.
        plan = _Plan(reprints=defaultdict(list))
        pending_ids = {a["id"] for a in pending}
        for article in pending:
            original = article["duplicate_of"]
            if original and (original in pending_ids):
                plan.reprints[original].append(article)
            elif original and self._alerted(original, name):
                plan.folded.append(article["id"])
            else:
                plan.originals.append(article)
        return plan

    # --- delivery -----------------------------------------------------------------------
    def _channel(self, channel: Channel) -> ChannelResult:
        name = channel.name
        result = ChannelResult(name)
        plan = self._plan(channel)
        if plan.backlog:
            result.backlog = len(self._claim([(i, []) for i in plan.backlog], name,
                                             Status.BACKLOG))
            return result
        if plan.folded:
            result.folded += len(self._claim([(i, []) for i in plan.folded], name,
                                             Status.FOLDED))
        if channel.rewrites:
            return self._rewrite(channel, plan, result)
        if not plan.originals:
            return result
        batches = channel.batches(plan.originals, plan.reprints)
        result.digest = any(batch.overflow for batch in batches)
        with channel.session():
            for batch in batches:
                self._send(channel, batch, result)
        return result

    def _rewrite(self, channel: Channel, plan: _Plan, result: ChannelResult) -> ChannelResult:
        """A channel that rewrites its output from the store: record this run's articles
        as sent (their reprints folded), then deliver everything sent, every run."""
        claimed = (self._claim(_groups(plan.originals, plan.reprints), channel.name,
                               Status.SENT, Status.FOLDED) if plan.originals else [])
        by_id = {a["id"]: a for a in plan.originals}
        batch = Batch([by_id[i] for i, _ in claimed], plan.reprints, self.config.topic.name)
        with channel.session():
            channel.deliver(batch, self._sent(channel))
        result.sent = len(claimed)
        result.folded += sum(len(copies) for _, copies in claimed)
        return result

    def _send(self, channel: Channel, batch: Batch, result: ChannelResult) -> None:
        """Claim the batch's articles (those no other run holds), deliver them, record
        how it went. A delivery that raises leaves them `sending`: never sent again."""
        claimed = self._claim(_groups(batch.articles, batch.reprints), channel.name,
                              Status.SENDING)
        if not claimed:
            return  # another run has (or had) them
        ids = [article for article, _ in claimed]
        copies = [c for _, held in claimed for c in held]
        by_id = {a["id"]: a for a in batch.articles}
        delivery = channel.deliver(replace(batch, articles=[by_id[i] for i in ids]), [])
        with self._immediate():
            if delivery.ok:
                self._record(ids, channel.name, Status.SENT)
                self._record(copies, channel.name, Status.FOLDED)
                result.sent += len(ids)
                result.folded += len(copies)
            else:
                # Failed: retried on the next run (the rows leave the done states).
                self._record(ids + copies, channel.name, Status.FAILED, delivery.error)
                result.failed += len(ids)
                result.error = delivery.error


def alert_store(db: Database, config: Config, backfill: bool = False,
                channel: str | None = None) -> AlertSummary:
    return Alerter(db, config, backfill=backfill, channel=channel).run()


def preview_store(db: Database, config: Config, backfill: bool = False,
                  channel: str | None = None) -> str:
    """What `alert` would send now, as text; the store is not written."""
    return "\n".join(Alerter(db, config, backfill=backfill, channel=channel).preview()).rstrip()


def send_test_messages(config: Config, channel: str | None = None) -> list[ChannelCheck]:
    """Send one clearly marked test message to each channel that takes messages (or the
    one named), and check that each file channel could write its file; nothing is
    recorded in the store."""
    return [c.test() for c in channels(config, channel)]
