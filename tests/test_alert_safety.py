"""Alerts carry text, never a stranger's markup or links; secrets stay secret; a burst of
stories is one digest; two runs at once never send an article twice. Every receiver is
real and on 127.0.0.1 (an SMTP server, an HTTP webhook); the stores are small and built
here, so that these tests take seconds."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import quote, quote_plus, unquote

import feedparser
import pytest

from alerts.run import Alerter
from alerts.secrets import expand_secrets, scrub
from alerts.text import clip, plain
from frwatch.config import load_config, relocate
from frwatch.db import article_id, open_db, utcnow
from tests.support.paths import DEMO_WEB, REPO
from tests.support.receiver import Receiver
from tests.support.smtp import free_port

HOSTILE_TITLE = ("Police <script>alert('title')</script> ban [click](http://phish.example/t) "
                 "\u202eesrever")
HOSTILE_DESCRIPTION = ('<img src=x onerror="alert(1)"> <a href="javascript:alert(2)">read</a> '
                       "[more](javascript:alert(3)) see http://phish.example/login or "
                       "www.phish.example now. " + "word " * 120)
SECRET = "p@ss/w:rd#x?y z%"


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def add_articles(db_path, articles: list[dict], first: int = 0) -> list[dict]:
    """Related, enriched articles (numbered from `first`), each overridden by its dict."""
    db = open_db(db_path)
    now = utcnow()
    rows = []
    for n, extra in enumerate(articles, start=first):
        url = extra.get("url") or f"https://news.example/story-{n}"
        rows.append({"id": article_id(f"{url}#{n}"), "url": url, "canonical_url": url,
                     "source": "Example News", "title": f"Story number {n}",
                     "published": f"2026-01-{n % 28 + 1:02d}T10:00:00+00:00",
                     "first_seen": now, "description": f"What happened in story {n}.",
                     "text": "Body text. " * 50, "related": 1, "relevance": 0.9,
                     "relevance_reason": "similar to seed: ban", "enriched_at": now,
                     "discovered_via": "feed", **extra})
    db.table("articles").insert_all(rows, pk="id")
    db.close()
    return rows


def tiny_store(tmp_path, articles: list[dict], alerts: list[dict]):
    """A store holding `articles` (related and enriched), and a config with `alerts`."""
    db_path = tmp_path / "frwatch.db"
    rows = add_articles(db_path, articles)
    config = tmp_path / "sources.yaml"
    config.write_text(relocate((DEMO_WEB / "sources.yaml").read_text(), DEMO_WEB,
                               alerts=alerts), encoding="utf-8")
    return db_path, config, rows


def start(config, db, *extra, env=None, verbose=False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "frwatch.cli", *(["-vv"] if verbose else []),
                             "alert", "--config", str(config), "--db", str(db), *extra], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def alert(config, db, *extra, env=None, verbose=False) -> tuple[str, str]:
    proc = start(config, db, *extra, env=env, verbose=verbose)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out, err


def statuses(db) -> dict[str, dict]:
    conn = open_db(db)
    try:
        return {r["article_id"]: r for r in conn.query("select * from alerts")}
    finally:
        conn.close()


class Tags(HTMLParser):
    """Every start tag of an HTML text, with its attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


# --- markup and links -----------------------------------------------------------------------

def test_plain_and_clip():
    text = plain(HOSTILE_TITLE + "\n" + HOSTILE_DESCRIPTION)
    assert "\n" not in text and "\u202e" not in text
    assert "phish.example" not in text and "javascript:" not in text
    assert "click" in text and "more" in text  # a Markdown link keeps its words
    assert plain("New data: a report") == "New data: a report"  # not a link
    assert clip("The quick brown fox jumps", 12) == "The quick…"
    assert clip("short", 12) == "short"
    assert len(clip("word " * 100, 50)) <= 50


def test_hostile_page_text_reaches_smtp_as_text(tmp_path, smtp):
    db, config, rows = tiny_store(tmp_path, [
        {"title": HOSTILE_TITLE, "description": HOSTILE_DESCRIPTION,
         "source": "Evil <b>Daily</b> [x](http://phish.example/s)",
         "relevance_reason": "similar to seed [y](http://phish.example/r) <script>x</script>"},
    ], alerts=[{"name": "desk", "apprise": f"mailto://127.0.0.1:{smtp.port}?from="
                "frwatch@example.org&to=desk@example.org&mode=insecure"}])
    # One e-mail per run: apprise waits 5.5 s between two e-mails of one run.
    out, _ = alert(config, db, "--backfill")
    assert "desk: 1 sent" in out
    add_articles(db, [{"url": "javascript:alert('url')",
                       "title": "A story whose link is a script"}], first=1)
    out, _ = alert(config, db)
    assert "desk: 1 sent" in out
    hostile, scripted = smtp.messages
    assert hostile["Subject"].startswith("[frwatch] Police <script>alert('title')</script> ban")
    assert "\u202e" not in hostile["Subject"] and "phish" not in hostile["Subject"]
    for message, own_url in ((hostile, rows[0]["url"]), (scripted, None)):
        plain_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        texts = [plain_part.get_content()] if plain_part else []
        if html_part is not None:  # apprise sends plain text alone, today
            html = html_part.get_content()
            texts.append(html)
            tags = Tags(html).tags
            assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object")]
            assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
            links = {attrs.get("href") or attrs.get("src") for _, attrs in tags} - {None}
            assert links <= ({own_url} if own_url else set())
        assert texts
        for text in texts:
            assert "phish.example" not in text
            assert "javascript:" not in text
        if own_url:
            assert own_url in texts[0]
            assert "&lt;script&gt;" in texts[-1] or "<script>" in texts[0]
    assert "…" in hostile.get_body(preferencelist=("plain", "html")).get_content()


def test_atom_escapes_and_cuts_at_a_word(tmp_path):
    feed_path = tmp_path / "related.atom"
    long_words = " ".join(["extraordinarily"] * 60)
    db, config, rows = tiny_store(tmp_path, [
        {"title": HOSTILE_TITLE, "description": long_words},
        {"url": "javascript:alert(1)"},
    ], alerts=[{"atom": str(feed_path)}])
    alert(config, db)
    parsed = feedparser.parse(feed_path)
    assert not parsed.bozo
    assert [e.link for e in parsed.entries] == [rows[0]["url"]]  # no script URL
    root = ET.parse(feed_path).getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entry = root.find("a:entry", ns)
    assert entry is not None
    title, summary = entry.find("a:title", ns), entry.find("a:summary", ns)
    assert title is not None and summary is not None
    assert len(title) == 0 and len(summary) == 0  # text, not elements
    assert title.text is not None and summary.text is not None
    assert "<script>alert('title')</script>" in title.text
    assert "phish.example" not in ET.tostring(root, encoding="unicode")
    head = summary.text.split(" Why:")[0]
    assert head.endswith("extraordinarily…")  # whole words, then an ellipsis
    assert len(head) <= 400
    assert b"<script>" not in feed_path.read_bytes()  # escaped in the file


# --- secrets --------------------------------------------------------------------------------

def test_secrets_are_url_encoded_and_scrubbed_in_every_form(monkeypatch):
    monkeypatch.setenv("HOOK_PASS", SECRET)
    url, secrets = expand_secrets("json://frwatch:${HOOK_PASS}@127.0.0.1:9/h", "alerts.0")
    assert url == f"json://frwatch:{quote(SECRET, safe='')}@127.0.0.1:9/h"
    assert secrets == [SECRET]
    forms = [SECRET, quote(SECRET, safe=""), quote(SECRET, safe="").lower(), quote_plus(SECRET),
             quote(SECRET), quote(SECRET, safe="@:"), quote(quote(SECRET, safe=""), safe="")]
    clean = scrub(" | ".join(forms), secrets)
    assert clean == " | ".join(["***"] * len(forms))


def test_webhook_gets_the_right_credentials_and_errors_never_hold_them(tmp_path, receiver):
    ok = receiver()
    db, config, rows = tiny_store(tmp_path, [{}], alerts=[
        {"name": "hook", "apprise": f"json://frwatch:${{HOOK_PASS}}@127.0.0.1:{ok.port}/hook"}])
    out, err = alert(config, db, "--backfill", env={"HOOK_PASS": SECRET})
    assert "hook: 1 sent" in out
    [request] = ok.requests
    assert request["path"] == "/hook"
    assert request["headers"]["Host"] == f"127.0.0.1:{ok.port}"
    expected = base64.b64encode(f"frwatch:{SECRET}".encode()).decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"
    assert rows[0]["url"] in request["body"]["message"]

    # A receiver that refuses, echoing the credentials, and one that is not there.
    refusing = receiver(status=500)
    down = free_port()
    db, config, rows = tiny_store(tmp_path / "refused", [{}, {}], alerts=[
        {"name": "refusing", "apprise":
         f"json://frwatch:${{HOOK_PASS}}@127.0.0.1:{refusing.port}/${{HOOK_PASS}}"},
        {"name": "down", "apprise": f"json://frwatch:${{HOOK_PASS}}@127.0.0.1:{down}/h"}])
    out, err = alert(config, db, "--backfill", env={"HOOK_PASS": SECRET}, verbose=True)
    assert "refusing: 0 sent, 2 FAILED" in out and "down: 0 sent, 2 FAILED" in out
    assert len(refusing.requests) == 2
    assert unquote(refusing.requests[0]["path"]) == "/" + SECRET
    rows = statuses(db)
    assert {r["status"] for r in rows.values()} == {"failed"}
    assert all(r["error"] for r in rows.values())
    conn = open_db(db)
    dump = "\n".join(conn.iterdump())
    conn.close()
    everything = out + err + dump
    for form in (SECRET, quote(SECRET, safe=""), quote(SECRET), quote_plus(SECRET),
                 quote(SECRET, safe="@:"), quote(SECRET, safe="").lower(), "p@ss", "p%40ss"):
        assert form not in everything, form


def test_a_secret_in_a_refusal_is_scrubbed_before_it_is_cut(tmp_path, monkeypatch):
    """Whatever a service echoes into its error (raw or URL-encoded, at any length),
    `alerts.error` and the summary hold none of it."""
    import apprise

    db, config, _ = tiny_store(tmp_path, [{}], alerts=[
        {"name": "hook", "apprise": "json://frwatch:${HOOK_PASS}@127.0.0.1:9/h"}])
    monkeypatch.setenv("HOOK_PASS", SECRET)

    def refuse(self, body, title, body_format=None, log_callback=None, **kwargs):
        padding = "x" * 280  # the secret straddles the 300-character cut
        log_callback(f"2026-01-01 - WARNING - {padding} {SECRET} "
                     f"{quote(SECRET, safe='')} {quote_plus(SECRET)}", None)
        return False

    monkeypatch.setattr(apprise.Apprise, "notify", refuse)
    conn = open_db(db)
    summary = Alerter(conn, load_config(config), backfill=True).run()
    [row] = conn.query("select * from alerts")
    conn.close()
    assert summary.failed == 1
    for text in (row["error"], summary.line()):
        assert "***" in text
        for fragment in ("p@ss", "p%40ss", "%2Fw", "w:rd"):
            assert fragment not in text


# --- a burst is one digest ------------------------------------------------------------------

def test_twelve_stories_are_one_digest_all_recorded_sent(tmp_path, receiver):
    hook = receiver()
    db, config, rows = tiny_store(tmp_path, [{} for _ in range(12)], alerts=[
        {"name": "hook", "apprise": f"json://127.0.0.1:{hook.port}/h"}])  # story mode
    started = time.monotonic()
    out, _ = alert(config, db, "--backfill")
    assert time.monotonic() - started < 30
    assert "hook: 12 sent (as one digest" in out
    [message] = hook.requests
    assert message["body"]["title"].startswith("[frwatch] 12 new articles in ")
    assert all(r["url"] in message["body"]["message"] for r in rows)
    recorded = statuses(db)
    assert len(recorded) == 12 and {r["status"] for r in recorded.values()} == {"sent"}
    # At the threshold (5, the default), one message per story again.
    conn = open_db(db)
    now = utcnow()
    conn.table("articles").insert_all([{**rows[0], "id": article_id(f"new-{n}"),
                                        "url": f"https://news.example/new-{n}",
                                        "title": f"New story {n}", "first_seen": now}
                                       for n in range(5)], pk="id")
    conn.close()
    out, _ = alert(config, db)
    assert "hook: 5 sent" in out and "digest" not in out
    assert len(hook.requests) == 6
    assert {r["body"]["title"] for r in hook.requests[1:]} == {
        f"[frwatch] New story {n}" for n in range(5)}


# --- one claim, one send --------------------------------------------------------------------

def _each_once(hook: Receiver, rows: list[dict]) -> None:
    received = [u for message in hook.messages for u in re.findall(r"https://\S+", message)]
    assert sorted(received) == sorted(r["url"] for r in rows)  # every article, exactly once


def test_two_alert_processes_at_once_send_each_article_once(tmp_path, receiver):
    hook = receiver(pause=0.05)
    db, config, rows = tiny_store(tmp_path, [{} for _ in range(20)], alerts=[
        {"name": "hook", "max_messages": 100, "apprise": f"json://127.0.0.1:{hook.port}/h"}])
    first, second = start(config, db, "--backfill"), start(config, db, "--backfill")
    for proc in (first, second):
        out, err = proc.communicate(timeout=120)
        # Both send, or one finds the other holding the store and stands down.
        assert proc.returncode == 0, err
    _each_once(hook, rows)
    assert {r["status"] for r in statuses(db).values()} == {"sent"}


def test_two_alerters_at_once_claim_each_article_once(tmp_path, receiver):
    """Below the command's lock: two runs on their own connections at the same moment."""
    hook = receiver(pause=0.02)
    db, config, rows = tiny_store(tmp_path, [{} for _ in range(30)], alerts=[
        {"name": "hook", "max_messages": 100, "apprise": f"json://127.0.0.1:{hook.port}/h"}])
    loaded = load_config(config)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        conn = open_db(db)
        try:
            barrier.wait()
            results.append(Alerter(conn, loaded, backfill=True).run())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert sum(r.sent for r in results) == 30
    _each_once(hook, rows)
    assert {r["status"] for r in statuses(db).values()} == {"sent"}


def test_a_run_that_looked_before_another_sent_claims_nothing(tmp_path, receiver, monkeypatch):
    """The claim is checked when it is made, not when the run looked at the store: a run
    whose list of pending articles is stale sends none of what another run has sent."""
    hook = receiver()
    db, config, rows = tiny_store(tmp_path, [{} for _ in range(6)], alerts=[
        {"name": "hook", "max_messages": 100, "apprise": f"json://127.0.0.1:{hook.port}/h"}])
    loaded = load_config(config)
    late, early = open_db(db), open_db(db)
    try:
        stale = Alerter(late, loaded, backfill=True)
        looked = stale._pending("hook")
        assert len(looked) == 6
        assert Alerter(early, loaded, backfill=True).run().sent == 6
        # As if it had looked just before (monkeypatch: mypy forbids assigning to a method).
        monkeypatch.setattr(stale, "_pending", lambda channel: looked)
        assert stale.run().sent == 0
    finally:
        late.close()
        early.close()
    _each_once(hook, rows)
    assert {r["status"] for r in statuses(db).values()} == {"sent"}
