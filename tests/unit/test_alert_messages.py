"""What alert messages say: one story, a digest grouped by story, what strangers' page
text becomes on the way (alerts/messages.py, alerts/text.py)."""

from __future__ import annotations

from alerts.channel import Batch
from alerts.messages import digest_message, health_message, render, story_message
from alerts.text import clip, plain, safe_url


def article(n: int, **extra) -> dict:
    return {"id": f"a{n}", "url": f"https://news.example/{n}", "title": f"Story {n}",
            "source": "Example News", "published": f"2026-01-0{n}T10:00:00+00:00",
            "first_seen": "2026-02-01T00:00:00+00:00", "description": f"What happened {n}.",
            "text": "Body. " * 200, "relevance_reason": "similar to seed: ban", **extra}


def test_a_story_message_has_headline_link_outlet_date_story_and_reason():
    reprint = {"id": "r1", "source": "Wire Copy Daily"}
    title, body = story_message(article(1, cluster_label="City bans face scans",
                                        cluster_size=3), {"a1": [reprint]})
    assert title == "[frwatch] Story 1"
    lines = body.splitlines()
    assert lines[:3] == ["Story 1", "Example News · 2026-01-01", "https://news.example/1"]
    assert "What happened 1." in lines
    assert "Story: City bans face scans (3 articles)" in lines
    assert "Why: similar to seed: ban" in lines
    assert lines[-1] == "Also published by: Wire Copy Daily"


def test_a_story_without_description_is_summarised_from_its_text_at_a_word():
    _, body = story_message(article(1, description=None, text="extraordinary " * 100), {})
    summary = body.splitlines()[4]
    assert summary.endswith("extraordinary…") and len(summary) <= 300


def test_page_text_becomes_one_plain_line_and_a_script_url_is_no_link():
    hostile = article(1, title="Ban [click](http://phish.example/t)\n\u202eevil",
                      url="javascript:alert(1)", source="<b>Evil</b> www.phish.example",
                      relevance_reason="see http://phish.example/r")
    title, body = story_message(hostile, {})
    assert "phish.example" not in title + body and "javascript:" not in body
    assert "\u202e" not in title + body
    assert title == "[frwatch] Ban click evil"
    assert body.splitlines()[1].startswith("<b>Evil</b> [link removed]")
    assert "Why: see [link removed]" in body


def test_a_digest_groups_articles_by_story_and_counts_them():
    articles = [article(1, cluster_label="Ban"), article(2, cluster_label="Ban"),
                article(3)]
    title, body = digest_message(articles, {"a3": [{"id": "r", "source": "Copy"}]},
                                 "Face policy")
    assert title == "[frwatch] 3 new articles in 2 stories: Face policy"
    assert body.splitlines() == [
        "## Ban",
        "- Story 1 — Example News, 2026-01-01", "  https://news.example/1",
        "- Story 2 — Example News, 2026-01-02", "  https://news.example/2",
        "",
        "## Story 3",
        "- Story 3 — Example News, 2026-01-03", "  https://news.example/3",
        "  Also published by: Copy"]
    title, _ = digest_message([article(1)], {}, "Face policy")
    assert title == "[frwatch] 1 new article in 1 story: Face policy"


def test_render_sends_a_digest_batch_as_a_digest_and_else_the_one_story():
    one = Batch([article(1)], {}, "Topic")
    assert render(one) == story_message(article(1), {})
    many = Batch([article(1), article(2)], {}, "Topic", digest=True)
    assert render(many)[0] == "[frwatch] 2 new articles in 2 stories: Topic"


def test_a_health_notice_says_what_fell():
    title, body = health_message("Example News", {
        "health": "degraded", "pages": 20, "with_text": 0.1, "with_title": 1.0,
        "with_date": 0.5, "history": {"with_text": 0.9, "with_title": 1.0, "with_date": 0.5}})
    assert title == "[frwatch] Example News: extraction degraded"
    assert "of its latest 20 pages, 10% have text (was 90%)" in body


def test_plain_clip_and_safe_url():
    assert plain("New data: a report") == "New data: a report"  # not a link
    assert plain("![alt](http://x.example/i.png) and [more](javascript:alert(1))") == \
        "alt and more"
    assert plain(None) == ""
    assert clip("The quick brown fox jumps", 12) == "The quick…"
    assert clip("short", 12) == "short"
    assert safe_url("https://news.example/a?b=1") == "https://news.example/a?b=1"
    for bad in ("javascript:alert(1)", "https://x.example/a b", "ftp://x.example/",
                "https:///nohost", 'https://x.example/"onmouseover', None):
        assert safe_url(bad) is None, bad
