"""The states an article can be in on one alert channel (the `alerts.status` column).

One row per (article, channel). Which states count as *done* (never sent again) is
decided here and nowhere else, for the run and for the SQL that selects what is pending.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SENDING = "sending"   # claimed by a run that is sending it now
    SENT = "sent"         # delivered (or, for a file channel, written to its file)
    FAILED = "failed"     # the channel refused it or was unreachable: retried next run
    UNKNOWN = "unknown"   # a run died between sending and recording: never resent
    BACKLOG = "backlog"   # already stored when the channel first ran: not sent
    FOLDED = "folded"     # a reprint of something the channel already had


# Never sent again on the channel (`failed` is the one state that is retried).
DONE: tuple[Status, ...] = (Status.SENT, Status.SENDING, Status.UNKNOWN, Status.BACKLOG,
                            Status.FOLDED)
# The channel has (or may have) the article itself: a later reprint of it is folded.
HELD: tuple[Status, ...] = (Status.SENT, Status.SENDING, Status.UNKNOWN, Status.BACKLOG)


def done(backfill: bool = False) -> tuple[Status, ...]:
    """The done states of a run; with backfill, `backlog` articles are sent like new."""
    return tuple(s for s in DONE if not (backfill and s is Status.BACKLOG))


def placeholders(statuses: tuple[Status, ...]) -> str:
    """`?, ?, …` for an SQL `status in (…)` over `statuses` (passed as parameters)."""
    return ",".join("?" * len(statuses))
