"""Per-source extraction health in `frwatch status --json`, in the alert channels and in
Datasette: on stores written directly, and on a site served over real HTTP and crawled."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import yaml

from frwatch.db import open_db
from frwatch.localweb import LocalWeb
from frwatch.paths import BROWSE_DIR
from tests.support.crawl import Crawl, run_cli
from tests.support.datasette import Client
from tests.support.receiver import Receiver


def add_pages(db_path, source: str, start: int, count: int, *, text=True, date=True,
              title=None, failed=False) -> None:
    db = open_db(db_path)
    with db.atomic():
        for n in range(start, start + count):
            at = f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}+00:00"
            if failed:
                db.table("failures").insert({"url": f"https://{source}.example/{n}",
                                             "source": source, "kind": "article", "at": at,
                                             "reason": "empty extraction (12 characters of text)"})
                continue
            db.table("articles").insert({
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
        row = store.table("source_health").get("gazette")  # what Datasette shows
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


# --- a source served over real HTTP whose template breaks and is fixed -----------------
GOOD_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} | The Gazette</title>
<meta property="og:type" content="article"><meta property="og:site_name" content="The Gazette">
<meta name="author" content="Ada Reporter">
<meta property="article:published_time" content="{day}T08:00:00+00:00">
</head><body><header><a href="/">The Gazette</a></header><article><h1>{title}</h1>
<p>{body}</p><p>{body}</p></article></body></html>"""
# The redesign: everything is drawn by a script, nothing is in the page.
EMPTY_PAGE = """<!doctype html><html><head><title>The Gazette</title></head>
<body><div id="app"></div><script src="/app.js"></script></body></html>"""
HEALTH_CONFIG = """
topic: {name: t, keywords: [x]}
sources:
  - name: Gazette
    feeds: [http://gazette.demo/rss.xml]
crawl:
  delay_seconds: 0
  allow_private_addresses: true
alerts:
  - {name: desk, apprise: "json://127.0.0.1:PORT/hook", mode: digest}
"""


def publish(site: Path, numbers: range, *, empty: bool) -> None:
    """Put pages `numbers` on the site, in the working template or the empty one, and
    list just them in its feed (the crawl skips the pages it already knows)."""
    day = datetime.now(UTC).date().isoformat()
    items = []
    for n in numbers:
        title = f"Council votes on street camera rules, part {n}"
        body = (f"Report {n}: the city council debated the use of face recognition by the "
                "police, heard residents and the vendor, and voted to delay the contract "
                "until an independent audit of accuracy and bias has been published. ") * 2
        page = EMPTY_PAGE if empty else GOOD_PAGE.format(title=title, day=day, body=body)
        (site / f"story-{n}.html").write_text(page, encoding="utf-8")
        items.append(f"<item><title>{title}</title><link>http://gazette.demo/story-{n}.html"
                     f"</link><pubDate>{format_datetime(datetime.now(UTC))}</pubDate></item>")
    (site / "rss.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>The Gazette</title>'
        f"<link>http://gazette.demo/</link>{''.join(items)}</channel></rss>",
        encoding="utf-8")


def test_a_site_that_switches_to_an_empty_template_over_http(tmp_path):
    site = tmp_path / "gazette"
    site.mkdir()
    hook = Receiver()
    try:
        with LocalWeb({"gazette": site}) as web:
            crawl = Crawl(web, tmp_path, HEALTH_CONFIG.replace("PORT", str(hook.port)))

            def alert() -> str:
                return run_cli("alert", "--config", str(crawl.config),
                               "--db", str(crawl.db_path)).stdout

            publish(site, range(0, 8), empty=False)
            crawl.run()
            publish(site, range(8, 28), empty=True)  # the redesign
            crawl.run(check=False)
            out = alert()
            assert "health notice for Gazette (broken): sent" in out
            status = health(crawl.db_path)["Gazette"]
            assert status["health"] == "broken" and status["with_text"] == 0
            assert status["pages"] == 20
            rows = health_chart_rows(crawl.db_path)
            assert {(r["part"], r["share"], r["earlier"]) for r in rows} == {
                ("text", 0.0, 1.0), ("title", 0.0, 1.0), ("date", 0.0, 1.0)}
            assert {(r["source"], r["health"]) for r in rows} == {("Gazette", "broken")}
            alert()  # still broken: not told again
            publish(site, range(28, 48), empty=False)  # fixed upstream
            crawl.run()
            alert()
            assert health(crawl.db_path)["Gazette"]["health"] == "ok"
            assert [r["share"] for r in health_chart_rows(crawl.db_path)] == [1.0, 1.0, 1.0]
        notices = [r["body"]["title"] for r in hook.requests
                   if "extraction" in r["body"].get("title", "")]
        assert notices == ["[frwatch] Gazette: extraction broken"]
    finally:
        hook.close()


# --- the Datasette query and chart -------------------------------------------------------
def health_chart_rows(db_path: Path) -> list[dict]:
    """The rows the health dashboard's chart draws, through the real Datasette app; the
    dashboard page and the stored query answer too."""
    dashboard = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))[
        "plugins"]["datasette-dashboards"]["health"]
    client = Client(db_path)
    try:
        page = client.get("/-/dashboards/health")
        assert page.status_code == 200 and "Extraction health" in page.text
        assert client.rows("/frwatch/source_health.json")
        response = client.sql(dashboard["charts"]["extraction-health"]["query"])
        assert response.status_code == 200, response.text[:500]
        return response.json()
    finally:
        client.close()


def test_the_health_chart_says_so_when_nothing_was_checked(tmp_path):
    db = tmp_path / "f.db"
    open_db(db).close()
    rows = health_chart_rows(db)
    assert len(rows) == 1 and rows[0]["source"] is None
    assert rows[0]["note"].startswith("No extraction health yet")
