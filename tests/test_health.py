"""Per-source extraction health in `frwatch status --json`, on a real store."""

from __future__ import annotations

import json

from frwatch.db import open_db
from tests.conftest import run_cli
from tests.support.receiver import Receiver


def add_pages(db_path, source: str, start: int, count: int, *, text=True, date=True,
              title=None, failed=False) -> None:
    db = open_db(db_path)
    with db.atomic():
        for n in range(start, start + count):
            at = f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}+00:00"
            if failed:
                db["failures"].insert({"url": f"https://{source}.example/{n}", "source": source,
                                       "kind": "article", "at": at,
                                       "reason": "empty extraction (12 characters of text)"})
                continue
            db["articles"].insert({
                "id": f"{source}-{n}", "url": f"https://{source}.example/{n}",
                "canonical_url": f"https://{source}.example/{n}", "source": source,
                "title": title or f"Story number {n}", "author": "A. Writer",
                "published": "2026-01-01" if date else None, "first_seen": at,
                "text": "word " * (300 if text else 10), "word_count": 300 if text else 10})
    db.close()


def health(db_path) -> dict:
    out = run_cli("status", "--json", "--db", str(db_path)).stdout
    return {s["name"]: s["extraction"] for s in json.loads(out)["sources"]}


def test_a_broken_template_turns_broken_then_ok_again(tmp_path):
    db = tmp_path / "f.db"
    add_pages(db, "gazette", 0, 30)
    add_pages(db, "steady", 0, 30)
    assert health(db)["gazette"]["health"] == "ok"
    add_pages(db, "gazette", 30, 20, failed=True)  # the new template extracts nothing
    status = health(db)
    assert status["gazette"]["health"] == "broken"
    assert status["gazette"]["with_text"] == 0
    assert status["steady"]["health"] == "ok"
    text = run_cli("status", "--db", str(db)).stdout
    assert "gazette: broken" in text
    add_pages(db, "gazette", 50, 20)  # fixed upstream
    assert health(db)["gazette"]["health"] == "ok"


def test_dates_and_titles_that_vanish_are_degraded(tmp_path):
    db = tmp_path / "f.db"
    add_pages(db, "herald", 0, 30)
    add_pages(db, "herald", 30, 20, date=False)
    assert health(db)["herald"]["health"] == "degraded"
    db2 = tmp_path / "g.db"
    add_pages(db2, "tribune", 0, 30)
    add_pages(db2, "tribune", 30, 20, title="The Tribune")  # the site's name as every title
    status = health(db2)["tribune"]
    assert status["health"] == "degraded" and status["with_title"] == 0


def test_few_pages_are_unknown(tmp_path):
    db = tmp_path / "f.db"
    add_pages(db, "weekly", 0, 3)
    assert health(db)["weekly"]["health"] == "unknown"


def test_a_health_notice_goes_out_once_and_again_after_a_recovery(tmp_path):
    db = tmp_path / "f.db"
    hook = Receiver()
    config = tmp_path / "sources.yaml"
    config.write_text(f"""
topic: {{name: t, keywords: [x]}}
sources: [{{name: gazette, feeds: ["http://gazette.example/rss"]}}]
alerts:
  - {{name: desk, apprise: "json://127.0.0.1:{hook.port}/hook", mode: digest}}
""")
    try:
        add_pages(db, "gazette", 0, 30)

        def alert() -> str:
            return run_cli("alert", "--config", str(config), "--db", str(db)).stdout

        def notices() -> list[str]:
            return [r["body"]["title"] for r in hook.requests
                    if "extraction" in r["body"].get("title", "")]

        alert()
        assert notices() == []
        add_pages(db, "gazette", 30, 20, failed=True)
        out = alert()
        assert "health notice for gazette (broken): sent" in out
        store = open_db(db)
        row = store["source_health"].get("gazette")  # what Datasette shows
        store.close()
        assert row["health"] == "broken" and row["with_text"] == 0
        assert row["earlier_with_text"] == 1.0
        alert()
        assert notices() == ["[frwatch] gazette: extraction broken"]  # once
        add_pages(db, "gazette", 50, 20)
        alert()
        add_pages(db, "gazette", 70, 20, failed=True)
        alert()
        assert notices() == ["[frwatch] gazette: extraction broken"] * 2
    finally:
        hook.close()
