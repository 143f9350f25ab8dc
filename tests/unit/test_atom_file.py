"""Writing the Atom file (alerts/atom_channel.py): valid, newest first, stable ids, text
only, readable by others, replaced whole."""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET

import feedparser

from alerts.atom_channel import FEED_ID, SUMMARY_CHARS, entry_id, write_atom

ATOM = {"a": "http://www.w3.org/2005/Atom"}


def entry(n: int, **extra) -> dict:
    return {"id": f"id{n}", "url": f"https://news.example/{n}", "title": f"Story {n}",
            "source": "Example News", "published": f"2026-01-{n:02d}T10:00:00+00:00",
            "description": f"What happened {n}.", "relevance_reason": "similar to seed",
            **extra}


def test_entries_newest_first_with_article_ids_links_and_summaries(tmp_path):
    path = tmp_path / "feeds" / "related.atom"
    write_atom(path, [entry(3, cluster_label="Ban"), entry(2), entry(1)], title="frwatch: T")
    feed = feedparser.parse(path)
    assert not feed.bozo and feed.version == "atom10"
    assert feed.feed.id == FEED_ID and feed.feed.title == "frwatch: T"
    assert [e.id for e in feed.entries] == [entry_id(f"id{n}") for n in (3, 2, 1)]
    assert entry_id("id3") == "urn:frwatch:article:id3"  # Datasette's feed uses these too
    assert [e.link for e in feed.entries] == [f"https://news.example/{n}" for n in (3, 2, 1)]
    assert feed.entries[0].summary == "What happened 3. Story: Ban. Why: similar to seed"
    assert feed.entries[0].author == "Example News"
    assert [t.term for t in feed.entries[0].tags] == ["Example News"]


def test_markup_stays_text_script_links_are_left_out_and_summaries_cut(tmp_path):
    path = tmp_path / "related.atom"
    write_atom(path, [entry(2, title="<script>x</script> [a](http://phish.example/)",
                            description="extraordinarily " * 60),
                      entry(1, url="javascript:alert(1)")], title="t")
    root = ET.parse(path).getroot()
    [only] = root.findall("a:entry", ATOM)  # the javascript: one is not in the file
    title, summary = only.find("a:title", ATOM), only.find("a:summary", ATOM)
    assert title is not None and summary is not None and summary.text is not None
    assert len(title) == 0 and title.text == "<script>x</script> a"
    assert b"<script>" not in path.read_bytes() and b"phish" not in path.read_bytes()
    head = summary.text.split(" Why:")[0]
    assert head.endswith("extraordinarily…") and len(head) <= SUMMARY_CHARS


def test_the_file_is_world_readable_and_replaced_whole(tmp_path):
    path = tmp_path / "related.atom"
    old = os.umask(0o022)
    try:
        write_atom(path, [entry(1)], title="t")
        write_atom(path, [entry(2), entry(1)], title="t")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert len(feedparser.parse(path).entries) == 2
    assert os.listdir(tmp_path) == ["related.atom"]  # no temporary file left behind


def test_an_empty_feed_is_still_a_valid_feed(tmp_path):
    path = tmp_path / "related.atom"
    write_atom(path, [], title="t")
    feed = feedparser.parse(path)
    assert not feed.bozo and feed.entries == []
