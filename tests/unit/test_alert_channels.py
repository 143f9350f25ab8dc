"""The channel registry and what each channel decides without sending: which class a
config entry gets, how a run's articles are batched, the statuses (alerts/)."""

from __future__ import annotations

import pytest

from alerts.apprise_channel import AppriseChannel
from alerts.atom_channel import AtomChannel
from alerts.channel import Channel, ChannelResult
from alerts.registry import CHANNELS, channel_class, make_channel
from alerts.run import AlertSummary, channels, select_channels
from alerts.status import DONE, HELD, Status, done
from frwatch.config import Alert, Config, load_config
from frwatch.errors import FrwatchError
from tests.support.paths import DEMO_WEB


@pytest.fixture(scope="module")
def demo() -> Config:
    return load_config(DEMO_WEB / "sources.yaml")


def with_alerts(config: Config, *alerts: dict) -> Config:
    return config.model_copy(update={"alerts": [Alert(**a) for a in alerts]})


def test_each_config_entry_gets_the_class_its_key_names(demo):
    config = with_alerts(demo, {"apprise": "json://127.0.0.1:9/h", "name": "hook"},
                         {"atom": "out/related.atom"})
    hook, feed = channels(config)
    assert type(hook) is AppriseChannel and type(feed) is AtomChannel
    assert (hook.name, hook.where, hook.target) == ("hook", "alerts.0", "json://127.0.0.1:9/h")
    assert feed.name == "atom:out/related.atom"
    assert feed.path == DEMO_WEB / "out" / "related.atom"  # relative to the config


def test_every_registered_channel_is_a_channel_a_config_can_name():
    for kind, cls in CHANNELS.items():
        assert issubclass(cls, Channel) and cls.kind == kind
        assert kind in Alert.model_fields  # else no config could ask for it
    assert channel_class(Alert(atom="x.atom")) is AtomChannel
    entry = Alert(atom="x.atom")
    object.__setattr__(entry, "atom", None)  # neither key set: no class to pick
    with pytest.raises(FrwatchError, match="none of apprise, atom is set"):
        channel_class(entry)


def test_an_unknown_channel_name_is_an_error_naming_the_others(demo):
    config = with_alerts(demo, {"apprise": "json://127.0.0.1:9/h", "name": "hook"},
                         {"atom": "a.atom"})
    assert [i for i, _ in select_channels(config, "atom:a.atom")] == [1]
    with pytest.raises(FrwatchError, match=r"no alert channel called 'x' \(channels: "
                                           r"hook, atom:a.atom\)"):
        select_channels(config, "x")


def articles(count: int) -> list[dict]:
    return [{"id": f"a{n}", "title": f"Story {n}"} for n in range(count)]


def test_story_mode_is_a_message_per_story_up_to_max_messages_then_one_digest(demo):
    hook = make_channel(Alert(apprise="json://127.0.0.1:9/h", max_messages=3), demo,
                        "alerts.0")
    few = hook.batches(articles(3), {})
    assert [len(b.articles) for b in few] == [1, 1, 1]
    assert not any(b.digest or b.overflow for b in few)
    [burst] = hook.batches(articles(4), {})
    assert len(burst.articles) == 4 and burst.digest and burst.overflow
    assert hook.preview_head([burst]) == ("1 message (as one digest: more new stories than "
                                          "max_messages)")
    digest = make_channel(Alert(apprise="json://127.0.0.1:9/h", mode="digest"), demo, "a")
    [one] = digest.batches(articles(2), {})
    assert one.digest and not one.overflow and one.topic == demo.topic.name
    assert digest.preview_head([one]) == "1 message"


def test_the_atom_channel_takes_the_backlog_and_rewrites_its_file(demo, tmp_path):
    feed = make_channel(Alert(atom=str(tmp_path / "f.atom")), demo, "alerts.0")
    hook = make_channel(Alert(apprise="json://127.0.0.1:9/h"), demo, "alerts.1")
    assert feed.sends_backlog and feed.rewrites
    assert not hook.sends_backlog and not hook.rewrites
    assert feed.notify("title", "body") is None  # no health notices in a feed
    assert feed.test().ok


def test_an_atom_file_that_cannot_be_written_fails_its_test(demo, tmp_path):
    (tmp_path / "taken").write_text("a file where the feed's directory would be")
    check = make_channel(Alert(atom=str(tmp_path / "taken" / "f.atom")), demo,
                         "alerts.0").test()
    assert not check.ok and "cannot write" in check.detail


def test_an_apprise_test_with_an_unset_variable_fails_without_sending(demo, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    hook = make_channel(Alert(apprise="json://${NOT_SET_ANYWHERE}@127.0.0.1:9/h",
                              name="hook"), demo, "alerts.3")
    check = hook.test()
    assert not check.ok
    assert check.line() == ("FAILED hook: alerts.3.apprise: environment variable "
                            "NOT_SET_ANYWHERE is not set")


def test_done_statuses_and_backfill():
    assert Status.FAILED not in DONE  # the one state that is retried
    assert set(HELD) == set(DONE) - {Status.FOLDED}
    assert Status.BACKLOG in done() and Status.BACKLOG not in done(backfill=True)
    assert {str(s) for s in Status} == {"sending", "sent", "failed", "unknown", "backlog",
                                        "folded"}


def test_the_summary_line():
    summary = AlertSummary()
    assert summary.line() == "No alert channels configured."
    summary.channels = [ChannelResult("hook", sent=12, digest=True, folded=2),
                        ChannelResult("mail", failed=1, error="refused", backlog=3)]
    assert summary.line() == (
        "Alerts: hook: 12 sent (as one digest: more new stories than max_messages), 2 reprints "
        "folded; mail: 0 sent, 3 already stored (backlog, not sent; --backfill sends), "
        "1 FAILED (refused).")
    assert (summary.sent, summary.failed) == (12, 1)
