"""The apprise channel: e-mail, Slack, Matrix, ntfy, JSON webhooks… any URL apprise knows.

Messages are plain text (a title holding <script> or [x](http://…) stays text
everywhere). The URL's ${VAR}s are filled in from the environment only while sending,
and their values are scrubbed from every error and log line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alerts.channel import Batch, Channel, ChannelCheck, Delivery
from alerts.messages import Message, render, trial_message
from alerts.secrets import expand_secrets, scrub, scrubbed_logs
from frwatch.errors import FrwatchError


class AppriseChannel(Channel):
    kind = "apprise"

    def describe(self) -> str:
        return self.alert.mode

    def batches(self, articles: list[dict], reprints: dict[str, list[dict]]) -> list[Batch]:
        """Story mode: a message per story, unless there are more than `max_messages`
        (then one digest: a burst is neither a flood nor minutes of the pause apprise
        makes between two messages to most services). Digest mode: one per run."""
        topic = self.config.topic.name
        if self.alert.mode == "digest" or len(articles) > self.alert.max_messages:
            return [Batch(articles, reprints, topic, digest=True,
                          overflow=self.alert.mode == "story")]
        return [Batch([article], reprints, topic) for article in articles]

    @contextmanager
    def session(self) -> Iterator[None]:
        """The apprise target with its secrets filled in; apprise's log records (shown
        with -v, and collected for errors) are scrubbed as they are made."""
        import apprise

        url, self._secrets = expand_secrets(self.target, f"{self.where}.apprise")
        with scrubbed_logs("apprise", self._secrets):
            self._apprise = apprise.Apprise()
            if not self._apprise.add(url):
                raise FrwatchError(f"{self.where}.apprise: not a notification URL apprise "
                                   "understands")
            try:
                yield
            finally:
                del self._apprise

    def deliver(self, batch: Batch, sent: list[dict]) -> Delivery:
        try:
            return self._send(render(batch))
        except _Raised as exc:  # left `sending`: the next run makes it `unknown`
            raise FrwatchError(f"{self.name}: sending failed: {exc}") from None

    def _send(self, message: Message) -> Delivery:
        """Send one message (inside `session`). An exception apprise raises comes out
        as `_Raised`, its text scrubbed."""
        import apprise

        title, body = message
        errors: list[str] = []
        try:
            ok = self._apprise.notify(body=body, title=title,
                                      body_format=apprise.NotifyFormat.TEXT,
                                      log_callback=lambda entry, plugin: errors.append(str(entry)))
        except Exception as exc:
            raise _Raised(scrub(str(exc), self._secrets)) from None
        if ok:
            return Delivery(True)
        # Scrubbed before it is cut short, so that no part of a secret is left.
        return Delivery(False, _last_error([scrub(line, self._secrets) for line in errors]))

    def preview_head(self, batches: list[Batch]) -> str:
        why = (" (as one digest: more new stories than max_messages)"
               if any(batch.overflow for batch in batches) else "")
        return f"{len(batches)} message{'s' if len(batches) != 1 else ''}{why}"

    def preview(self, batches: list[Batch]) -> list[str]:
        lines = []
        for number, batch in enumerate(batches, 1):
            title, body = render(batch)
            lines += [f"--- message {number}: {title}", body, ""]
        return lines

    def notify(self, title: str, body: str) -> ChannelCheck:
        """Send one message; a failure (an unset ${VAR} included) is a failed check."""
        try:
            with self.session():
                delivery = self._send((title, body))
        except (FrwatchError, _Raised) as exc:
            return ChannelCheck(self.name, False, str(exc)[:300])
        return ChannelCheck(self.name, delivery.ok, delivery.error or "sent")

    def test(self) -> ChannelCheck:
        check = self.notify(*trial_message(self.config.topic.name, self.name))
        return ChannelCheck(check.channel, check.ok,
                            "test message sent" if check.ok else check.detail)


class _Raised(Exception):
    """Apprise raised while sending; the text is already scrubbed."""


def _last_error(lines: list[str]) -> str:
    """The last warning or error apprise logged, without its time and level; at most
    300 characters."""
    relevant = [line.split(" - ", 2)[-1] for line in lines
                if "WARNING" in line or "ERROR" in line]
    return (relevant[-1] if relevant else "the notification service refused it")[:300]
