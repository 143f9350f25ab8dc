"""The store that the Datasette tests browse, built once per test session.

A copy of the enriched labelled store (tests/support/labelled.py: a demo-web crawl plus
the labelled articles, enriched once a session), a crawl of the faults web with a source
whose feeds are broken, an article whose text and title carry HTML, then `frwatch
enrich` with the real model for those new articles.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.labelled import copy_store
from frwatch.config import relocate
from frwatch.db import open_db
from frwatch.localweb import LocalWeb
from tests.support.crawl import Crawl, run_cli
from tests.support.labelled import enriched_labelled_store
from tests.support.paths import DEMO_WEB, TEST_WEBS

HOSTILE_ID = "hostile00000000a"
HOSTILE_TEXT = ("A city council debated facial recognition rules for its police on Monday.\n"
                "<script>alert(1)</script> was pasted into this paragraph by the page.\n\n"
                "Councillors said face recognition should need a warrant, and the vote on a "
                "moratorium on face surveillance is next week.")
BROKEN_FEEDS = """
topic: {name: Test topic, keywords: [facial recognition]}
sources:
  - name: Faults Gazette
    feeds: [http://faults.demo/rss.xml]
    pages: [http://faults.demo/news/]
  - name: Broken Feed Daily
    feeds: [http://faults.demo/feeds/gone.xml, http://faults.demo/robots.txt]
crawl: {max_age_days: 100000, delay_seconds: 0, allow_private_addresses: true}
"""


def browsing_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The enriched store, built on the first call of the session and reused after."""
    work = tmp_path_factory.getbasetemp() / "browsing"
    path = work / "store.db"
    if (work / "done").exists():
        return path
    work.mkdir(exist_ok=True)
    # The enriched labelled store: enrichment below only has the new articles to do.
    copy_store(enriched_labelled_store(tmp_path_factory)[0], path)
    with LocalWeb({"faults": TEST_WEBS / "faults"}) as web:
        (work / "faults").mkdir(exist_ok=True)
        crawl = Crawl(web, work / "faults", BROKEN_FEEDS)
        crawl.db_path = path  # into the same store
        crawl.run("-s", "RETRY_TIMES=0")
    db = open_db(path)
    db.table("articles").insert({
        "id": HOSTILE_ID, "url": "https://hostile.test/story", "source": "Hostile Test",
        "canonical_url": "https://hostile.test/story", "title": "Council <b>debates</b> rules",
        "published": "2020-06-26", "first_seen": "2020-06-26T08:00:00+00:00",
        "language": "en", "text": HOSTILE_TEXT, "word_count": 40})
    db.close()
    config = work / "sources.yaml"
    config.write_text(relocate((DEMO_WEB / "sources.yaml").read_text(), DEMO_WEB))
    run_cli("enrich", "--config", str(config), "--db", str(path), "--no-progress")
    (work / "done").touch()
    return path
