"""Alerts to real receivers on 127.0.0.1 (an SMTP server, an HTTP webhook), the Atom
file, `frwatch run` with its lock, and the schedule/Scrapyd routes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import feedparser

from alerts.text import plain
from frwatch.db import article_id, open_db
from tests.support.alerting import alert, statuses, to_alert, with_alerts
from tests.support.crawl import Crawl, run_cli
from tests.support.paths import DEMO_WEB, REPO


def test_email_reaches_smtp_with_subject_and_links(enriched, smtp):
    """A burst (more new stories than max_messages) is one digest e-mail; a single new
    story is its own e-mail. One e-mail per run: apprise waits 5.5 s between e-mails."""
    db, config, _ = enriched
    with_alerts(config, [{"name": "desk", "apprise":
                          f"mailto://127.0.0.1:{smtp.port}?from=frwatch@example.org"
                          "&to=desk@example.org&mode=insecure"}])
    out = alert(config, db, "--backfill")
    expected = to_alert(db)
    assert len(expected) > 5
    assert f"desk: {len(expected)} sent (as one digest" in out
    [digest] = smtp.messages
    assert digest["Subject"].startswith(f"[frwatch] {len(expected)} new articles in ")
    body = digest.get_body(preferencelist=("plain", "html")).get_content()
    assert all(a["url"] in body for a in expected.values())
    # Then one new story: an e-mail of its own, with its headline, link and reason.
    conn = open_db(db)
    known = next(conn.query("select * from articles where related = 1 and "
                            "duplicate_of is null limit 1"))
    fresh = {**known, "id": article_id("https://news.test/fresh"),
             "url": "https://news.test/fresh", "canonical_url": "https://news.test/fresh",
             "title": "A fresh story about face surveillance", "cluster_id": None}
    conn.table("articles").insert(fresh, pk="id")
    conn.close()
    out = alert(config, db)
    assert "desk: 1 sent." in out
    message = smtp.messages[-1]
    assert message["Subject"] == f"[frwatch] {fresh['title']}"
    body = message.get_body(preferencelist=("plain", "html")).get_content()
    assert fresh["url"] in body
    assert f"Why: {plain(fresh['relevance_reason'])}" in body


def test_digest_to_a_json_webhook_grouped_by_story(enriched, webhook):
    db, config, _ = enriched
    webhook.up()
    with_alerts(config, [{"name": "hook", "mode": "digest",
                          "apprise": f"json://127.0.0.1:{webhook.port}/hook"}])
    alert(config, db, "--backfill")
    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    expected = to_alert(db)
    assert post["title"].startswith(f"[frwatch] {len(expected)} new articles in ")
    assert all(a["url"] in post["message"] for a in expected.values())
    assert post["message"].count("## ") >= 5  # one heading per story cluster


def test_no_duplicates_new_ones_exactly_and_reprints_folded(store, webhook):
    db, config, _ = store
    webhook.up()
    with_alerts(config, [{"name": "hook", "max_messages": 1000,
                          "apprise": f"json://127.0.0.1:{webhook.port}/h"}])
    # Hold back the labelled articles; enrich and alert the demo web alone.
    conn = open_db(db)
    held = list(conn.query("select * from articles where discovered_via = 'labelled'"))
    assert len(held) > 100  # the labelled articles are the "new coverage" below
    conn.execute("delete from articles where discovered_via = 'labelled'")
    conn.close()
    run_cli("enrich", "--config", str(config), "--db", str(db), "--no-progress")
    first = alert(config, db)
    assert "backlog" in first and webhook.posts == []  # no flood on the first run
    assert alert(config, db).startswith("Alerts: hook: 0 sent")
    # New coverage arrives, including a reprint of an already-known story.
    conn = open_db(db)
    conn.table("articles").insert_all(held, pk="id")
    known = next(conn.query("select * from articles where related = 1 and "
                            "duplicate_of is null and title like '%Rekognition%' limit 1"))
    copy = {**known, "id": article_id("https://wire.test/copy"), "url": "https://wire.test/copy",
            "canonical_url": "https://wire.test/copy", "source": "Wire Copy Daily",
            "text": "From our wire partners. " + known["text"], "cluster_id": None,
            "enriched_at": None, "related": None, "relevance": None, "relevance_reason": None,
            "first_seen": "2030-01-01T00:00:00+00:00", "published": None}
    conn.table("articles").insert(copy, pk="id")
    conn.close()
    run_cli("enrich", "--config", str(config), "--db", str(db), "--no-progress")
    before = set(statuses(db, "hook"))
    out = alert(config, db)
    rows = statuses(db, "hook")
    new_related = {k for k, v in to_alert(db).items() if k not in before}
    sent = {k for k, v in rows.items() if v["status"] == "sent"}
    assert sent == new_related
    assert len(webhook.posts) == len(new_related)
    assert rows[copy["id"]]["status"] == "folded"
    assert "reprints folded" in out
    # And once more: nothing.
    assert alert(config, db).startswith("Alerts: hook: 0 sent")
    assert len(webhook.posts) == len(new_related)


def test_a_receiver_that_is_down_gets_it_next_run(enriched, webhook):
    db, config, _ = enriched
    with_alerts(config, [{"name": "hook", "max_messages": 1000,
                          "apprise": f"json://127.0.0.1:{webhook.port}/h"}])
    out = alert(config, db, "--backfill")
    expected = to_alert(db)
    assert f"{len(expected)} FAILED" in out
    rows = statuses(db, "hook")
    assert {r["status"] for r in rows.values()} == {"failed"}
    assert all(r["error"] for r in rows.values())
    webhook.up()
    out = alert(config, db)
    assert f"hook: {len(expected)} sent" in out
    assert len(webhook.posts) == len(expected)
    assert {r["status"] for r in statuses(db, "hook").values()} <= {"sent", "folded"}


def test_interrupted_send_is_never_repeated(enriched, webhook):
    db, config, _ = enriched
    webhook.up()
    with_alerts(config, [{"name": "hook", "max_messages": 1000,
                          "apprise": f"json://127.0.0.1:{webhook.port}/h"}])
    victim = next(iter(to_alert(db)))
    # The state a kill between sending and recording leaves behind.
    conn = open_db(db)
    conn.table("alerts").insert({"article_id": victim, "channel": "hook",
                                 "sent_at": "2026-01-01T00:00:00+00:00", "status": "sending"})
    conn.close()
    alert(config, db)
    rows = statuses(db, "hook")
    assert rows[victim]["status"] == "unknown"
    expected = to_alert(db)
    assert expected[victim]["url"] not in json.dumps(webhook.posts)
    assert len(webhook.posts) == len(expected) - 1  # all the others went out


def test_atom_file_validates_and_keeps_its_ids(enriched, tmp_path):
    db, config, _ = enriched
    feed_path = tmp_path / "related.atom"
    with_alerts(config, [{"atom": str(feed_path), "max_entries": 5}])
    alert(config, db)
    first = feedparser.parse(feed_path)
    assert not first.bozo and first.version == "atom10"
    assert len(first.entries) == 5
    dates = [e.published_parsed for e in first.entries]
    assert dates == sorted(dates, reverse=True)
    alert(config, db)
    second = feedparser.parse(feed_path)
    assert [e.id for e in second.entries] == [e.id for e in first.entries]
    assert all(e.id.startswith("urn:frwatch:article:") for e in first.entries)


def test_secrets_stay_out_of_config_output_and_store(enriched, webhook):
    db, config, _ = enriched
    with_alerts(config, [{"apprise": f"json://frwatch:${{HOOK_SECRET}}@127.0.0.1:"
                          f"{webhook.port}/h"}])
    secret = "s3cr3t-t0ken-value"
    out = alert(config, db, "--backfill", env={"HOOK_SECRET": secret})
    assert "FAILED" in out and secret not in out
    dump = "\n".join(open_db(db).iterdump())
    assert secret not in dump
    missing = subprocess.run([sys.executable, "-m", "frwatch.cli", "alert", "--config",
                              str(config), "--db", str(db)], cwd=REPO, capture_output=True,
                             text=True, env={k: v for k, v in os.environ.items()
                                             if k != "HOOK_SECRET"})
    assert missing.returncode == 1
    assert missing.stderr.strip().endswith("alerts.0.apprise: environment variable "
                                           "HOOK_SECRET is not set")


def test_two_runs_at_once_one_waits_out(demo_web, tmp_path):
    crawl = Crawl(demo_web, tmp_path, (DEMO_WEB / "sources.yaml").read_text(),
                  config_dir=DEMO_WEB)
    with_alerts(crawl.config, [{"atom": str(tmp_path / "related.atom")}])
    args = [sys.executable, "-m", "frwatch.cli", "run", "--config", str(crawl.config),
            "--db", str(crawl.db_path)]
    first = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    lock = tmp_path / "frwatch.db.lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert second.returncode == 0
    assert "another frwatch run is in progress" in second.stderr
    assert "Crawl #1 finished: 34 new articles" in out
    assert "Enriched 34 articles" in out
    assert "Alerts: atom:" in out
    assert "Store: 34 articles, 12 related" in out
    assert len(feedparser.parse(tmp_path / "related.atom").entries) == 10  # 12 less 2 reprints


def test_schedule_prints_cron_and_systemd(tmp_path):
    out = run_cli("schedule", "--config", str(DEMO_WEB / "sources.yaml"), "--db",
                  str(tmp_path / "x.db"), "--every", "20").stdout
    assert f"*/20 * * * * cd {DEMO_WEB} && " in out
    assert f"run --config {DEMO_WEB / 'sources.yaml'} --db {tmp_path / 'x.db'}" in out
    assert "[Timer]" in out and "OnUnitActiveSec=20min" in out
    assert "ExecStart=" in out and "[Install]" in out


def test_scrapyd_egg_builds(tmp_path):
    egg = tmp_path / "frwatch.egg"
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "scrapyd-deploy"),
                           f"--build-egg={egg}"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    import zipfile

    with zipfile.ZipFile(egg) as archive:
        names = archive.namelist()
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    assert "crawler/spiders/news.py" in names
    assert "settings = crawler.settings" in entry_points
