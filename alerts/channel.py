"""What every alert channel is: the interface the alert run (alerts/run.py) drives.

A channel is built from one `alerts:` entry of the config. The run decides *what* is new
on the channel and records it (claims, one send per article, reprints folded); the
channel only turns a batch of new articles into a delivery and says whether it worked.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

from frwatch.config import Alert, Config


@dataclass
class Batch:
    """What one delivery carries."""

    articles: list[dict]                 # new articles, in date order
    reprints: dict[str, list[dict]]      # article id -> its reprints arriving with it
    topic: str                           # the config's topic name
    digest: bool = False                 # send as one digest, not a message per story
    overflow: bool = False               # a digest because of more than max_messages


@dataclass
class Delivery:
    """How one delivery went: `error` is already free of secrets."""

    ok: bool
    error: str | None = None


@dataclass
class ChannelResult:
    """What a run did on one channel, for the summary line."""

    channel: str
    sent: int = 0
    failed: int = 0
    folded: int = 0
    backlog: int = 0
    error: str | None = None
    digest: bool = False   # story mode, over max_messages: sent as one digest


@dataclass
class ChannelCheck:
    """One channel's answer to a test message or a health notice."""

    channel: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok    ' if self.ok else 'FAILED'} {self.channel}: {self.detail}"


class Channel(ABC):
    """One alert channel. Subclasses set `kind` (the config key naming their target,
    e.g. `apprise: <url>`) and implement `describe`, `deliver`, `preview_head`, `preview`
    and `test`."""

    kind: ClassVar[str] = ""
    # False: the first run records what is already stored as `backlog` instead of sending
    # it (no flood); a channel that keeps a file wants the whole history in it.
    sends_backlog: ClassVar[bool] = False
    # True: a delivery rewrites the channel's whole output from what is recorded `sent`
    # (a file), so articles are recorded `sent` before it and it runs on every run. False:
    # a delivery is a message that cannot be taken back, sent at most once.
    rewrites: ClassVar[bool] = False

    def __init__(self, alert: Alert, config: Config, where: str):
        self.alert = alert
        self.config = config
        self.where = where   # e.g. `alerts.0`, for error messages

    @property
    def name(self) -> str:
        """How the channel is recorded in the `alerts` table (no secrets in it)."""
        return self.alert.channel

    @property
    def target(self) -> str:
        """The channel's target as written in the config (a URL with ${VAR}s, a path)."""
        return getattr(self.alert, self.kind)

    @abstractmethod
    def describe(self) -> str:
        """A few words on what the channel is, for `alert --preview`."""

    def batches(self, articles: list[dict], reprints: dict[str, list[dict]]) -> list[Batch]:
        """How this run's new articles are split into deliveries: all in one, by default."""
        return [Batch(articles, reprints, self.config.topic.name)]

    @contextmanager
    def session(self) -> Iterator[None]:
        """Held around a run's deliveries: set up what they share (secrets, a client)."""
        yield

    @abstractmethod
    def deliver(self, batch: Batch, sent: list[dict]) -> Delivery:
        """Deliver `batch`. `sent` is what the store records as sent on this channel, newest
        first (at most `max_entries`), for a channel that `rewrites`; else empty. An
        exception leaves the batch's articles claimed as `sending`, never sent again."""

    @abstractmethod
    def preview_head(self, batches: list[Batch]) -> str:
        """What delivering `batches` would do, in a few words (e.g. `3 messages`)."""

    @abstractmethod
    def preview(self, batches: list[Batch]) -> list[str]:
        """What delivering `batches` would send, as lines of text ending with a blank
        one; nothing is sent."""

    @abstractmethod
    def test(self) -> ChannelCheck:
        """Check the channel works (`frwatch alert --test`); nothing is recorded."""

    def notify(self, title: str, body: str) -> ChannelCheck | None:
        """Send a notice that is not news (source health); None: the channel takes none."""
        return None
