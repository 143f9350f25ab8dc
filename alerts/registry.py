"""Which channel class serves an `alerts:` entry of the config: the registry key is the
config key that names the entry's target (`apprise: <url>`, `atom: <path>`).

A new channel is one module with a `Channel` subclass and one line here (plus its key on
`frwatch.config.Alert`, so that the config accepts it)."""

from __future__ import annotations

from alerts.apprise_channel import AppriseChannel
from alerts.atom_channel import AtomChannel
from alerts.channel import Channel
from frwatch.config import Alert, Config
from frwatch.errors import FrwatchError

CHANNELS: dict[str, type[Channel]] = {
    "apprise": AppriseChannel,
    "atom": AtomChannel,
}


def channel_class(alert: Alert) -> type[Channel]:
    """The class for `alert`: the one whose key is set on it (the config allows one)."""
    for kind, cls in CHANNELS.items():
        if getattr(alert, kind, None) is not None:
            return cls
    raise FrwatchError(f"alert channel {alert.channel}: none of {', '.join(CHANNELS)} is set")


def make_channel(alert: Alert, config: Config, where: str) -> Channel:
    """The channel for the config's entry `alert`, found at `where` (e.g. `alerts.0`)."""
    return channel_class(alert)(alert, config, where)
