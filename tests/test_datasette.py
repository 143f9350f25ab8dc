"""Datasette on a real store (see tests/support/browsing.py: real crawls, the real model);
requests answered by the real Datasette through its in-process client."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import feedparser
import pytest
import yaml
from markupsafe import escape as markup_escape

from benchmarks.labelled import copy_store
from frwatch.db import open_db
from frwatch.paths import BROWSE_DIR
from tests.support.browsing import HOSTILE_ID
from tests.support.crawl import run_cli
from tests.support.datasette import Client, client, store  # noqa: F401 (fixtures)

QUERIES = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))[
    "databases"]["frwatch"]["queries"]


def one(store: Path, sql: str, params=()) -> dict:
    """The first row of `sql`: every caller reads its columns, so no row fails the test here."""
    db = open_db(store)
    try:
        row = next(iter(db.query(sql, list(params))), None)
    finally:
        db.close()
    assert row is not None, sql
    return row


def test_every_stored_query_answers_with_rows(client, store):
    reprint = one(store, "select id from articles where duplicate_of is not null")
    cluster = one(store, "select id from clusters where size > 1")
    params = {"cluster_timeline": f"?cluster_id={cluster['id']}",
              "more_like_this": f"?article_id={reprint['id']}"}
    for name, query in QUERIES.items():
        assert "write" not in query and query["title"] and query["description"], name
        rows = client.rows(f"/frwatch/{name}.json" + params.get(name, ""))
        assert rows, name
        assert client.get(f"/frwatch/{name}" + params.get(name, "")).status_code == 200


def test_latest_related_folds_reprints(client, store):
    rows = client.rows("/frwatch/latest_related.json")
    copies = {r["id"] for r in open_db(store).query(
        "select id from articles where duplicate_of is not null")}
    assert copies and not copies & {r["article_id"] for r in rows}
    assert any(r["reprints"] for r in rows)
    dates = [r["published"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    assert all(r["reason"].startswith("related") for r in rows)


def test_clusters_mark_the_seed_story(client):
    rows = client.rows("/frwatch/clusters.json")
    assert [r["seed"] for r in rows].count("★") == 1
    assert all(r["label"] and r["size"] >= 1 and r["first_seen"] <= r["last_seen"]
               for r in rows)


def test_a_broken_feed_shows_up(client):
    rows = client.rows("/frwatch/failures_by_source.json")
    broken = {(r["source"], r["kind"]): r for r in rows}
    feed = broken[("Broken Feed Daily", "feed")]
    assert feed["failures"] == 2
    assert feed["last_reason"] in ("HTTP 404", "not a feed") or feed["last_reason"].startswith(
        "not a feed")
    assert ("Faults Gazette", "article") in broken


def test_facets_on_articles(client):
    data = client.get("/frwatch/articles.json?_size=1&_facet_size=max").json()
    facets = data["facet_results"]
    assert {"source", "language", "related", "cluster_id", "published"} <= set(facets)
    sources = {r["value"]: r["count"] for r in facets["source"]["results"]}
    assert sources["Civic Wire"] >= 5 and "Faults Gazette" in sources
    assert facets["published"]["type"] == "date"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", r["value"])
               for r in facets["published"]["results"])
    # Cluster facets are labelled with the cluster's headline, not its number.
    assert all(isinstance(r["label"], str) and len(r["label"]) > 10
               for r in facets["cluster_id"]["results"])
    one_day = facets["published"]["results"][0]
    filtered = client.get(f"/frwatch/articles.json?published__date={one_day['value']}").json()
    assert len(filtered["rows"]) == one_day["count"]


def test_full_text_search(client):
    data = client.get("/frwatch/articles.json?_search=Rekognition&_shape=objects").json()
    rows = data["rows"]
    assert rows and data["filtered_table_rows_count"] < client.rows(
        "/frwatch.json?sql=select+count(*)+as+n+from+articles")[0]["n"]
    assert all("rekognition" in f"{r['title']} {r['text']}".lower() for r in rows)


def test_atom_feed_of_related_coverage(client):
    first = client.get("/frwatch/related_atom.atom")
    assert first.status_code == 200
    feed = feedparser.parse(first.text)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == QUERIES["related_atom"]["title"]
    ids = [e.id for e in feed.entries]
    # The same entry ids as the Atom file the alerts keep (alerts/atom_channel.py).
    assert ids and all(re.fullmatch(r"urn:frwatch:article:[0-9a-z]{16}", i) for i in ids)
    again = feedparser.parse(client.get("/frwatch/related_atom.atom").text)
    assert [e.id for e in again.entries] == ids
    updated = [e.updated_parsed for e in feed.entries]
    assert updated == sorted(updated, reverse=True)
    assert all(e.link.startswith("http") and e.title for e in feed.entries)


def test_more_like_this_ranks_the_same_story_first(client, store):
    db = open_db(store)
    reprints = list(db.query("select id, duplicate_of, cluster_id from articles "
                             "where duplicate_of is not null"))
    groups = {r["id"]: r["duplicate_of"] for r in reprints}
    db.close()
    assert reprints
    for reprint in reprints:
        rows = client.rows(f"/frwatch/more_like_this.json?article_id={reprint['id']}")
        assert 1 < len(rows) <= 20
        assert reprint["id"] not in {r["article_id"] for r in rows}
        similarities = [r["similarity"] for r in rows]
        assert similarities == sorted(similarities, reverse=True)
        top = rows[0]["article_id"]
        # Its original, or another copy of the same original.
        assert top == reprint["duplicate_of"] or groups.get(top) == reprint["duplicate_of"]


def test_more_like_this_sees_articles_embedded_after_startup(store, tmp_path):
    path = tmp_path / "copy.db"
    copy_store(store, path)
    client = Client(path)
    try:
        original = one(path, "select a.id, e.model, e.vector from articles a join embeddings e "
                             "on e.article_id = a.id where a.id in "
                             "(select duplicate_of from articles)")
        assert client.rows(f"/frwatch/more_like_this.json?article_id={original['id']}")
        db = open_db(path)  # a writer, as `frwatch enrich` is
        db.table("articles").insert({"id": "latecomer0000000", "url": "https://late.test/a",
                                     "title": "A late copy", "first_seen": "2020-07-01"})
        db.table("embeddings").insert({"article_id": "latecomer0000000",
                                       "model": original["model"],
                                       "vector": original["vector"]})
        db.close()
        rows = client.rows(f"/frwatch/more_like_this.json?article_id={original['id']}")
        assert rows[0]["article_id"] == "latecomer0000000"
        assert rows[0]["similarity"] == pytest.approx(1.0, abs=1e-4)
    finally:
        client.close()


def test_article_page_reads_like_an_article(client, store):
    reprint = one(store, "select a.*, o.title as original_title from articles a join articles o "
                         "on o.id = a.duplicate_of")
    page = client.get(f"/frwatch/articles/{reprint['id']}")
    assert page.status_code == 200
    html = page.text
    assert f"<h1>{escape(reprint['title'])}</h1>" in html
    paragraphs = [p.strip() for p in reprint["text"].splitlines() if p.strip()]
    for paragraph in paragraphs[1:4]:
        assert f"<p>{escape(paragraph)}</p>" in html
    assert f'href="{reprint["url"]}"' in html
    assert "A reprint of" in html and escape(reprint["original_title"]) in html
    assert f"/frwatch/clusters/{reprint['cluster_id']}" in html
    assert f"/frwatch/more_like_this?article_id={reprint['id']}" in html
    assert escape(reprint["relevance_reason"]) in html
    original = client.get(f"/frwatch/articles/{reprint['duplicate_of']}").text
    assert "Reprinted as:" in original and f"/frwatch/articles/{reprint['id']}" in original


def test_article_text_and_title_are_escaped(client):
    html = client.get(f"/frwatch/articles/{HOSTILE_ID}").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; was pasted" in html
    assert "<b>debates</b>" not in html and "Council &lt;b&gt;debates&lt;/b&gt; rules" in html


def test_cluster_page_lists_its_articles(client, store):
    cluster = one(store, "select * from clusters where seed_id is not null")
    html = client.get(f"/frwatch/clusters/{cluster['id']}").text
    assert f"<h1>{escape(cluster['label'])}</h1>" in html
    assert "★ The coverage of seed story" in html
    db = open_db(store)
    members = list(db.query("select id from articles where cluster_id = ?", [cluster["id"]]))
    db.close()
    assert len(members) == cluster["size"]
    assert all(f"/frwatch/articles/{m['id']}" in html for m in members)


def test_stored_query_cells_link_to_pages(client):
    html = client.get("/frwatch/latest_related").text
    assert re.search(r'<a href="/frwatch/articles/[0-9a-z]{16}">', html)
    assert re.search(r'<a href="/frwatch/clusters/\d+">', html)


def test_dashboard_charts_have_data(client):
    html = client.get("/-/dashboards/coverage").text
    assert "Coverage over time" in html and "vega" in html
    config = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))
    for chart in config["plugins"]["datasette-dashboards"]["coverage"]["charts"].values():
        response = client.get("/frwatch.json?" + _query(chart["query"]))
        assert response.status_code == 200 and response.json()["rows"], chart["title"]


def every_article(path: Path) -> list[dict]:
    db = open_db(path)
    try:
        return list(db.query("select * from articles order by id"))
    finally:
        db.close()


def test_nothing_can_be_written(client, store, tmp_path):
    """frwatch's own guard (the plugin's asgi_wrapper) refuses every request that could
    write. Shown on a private copy served with a writable stored query added, which plain
    Datasette runs on a POST (it deletes every article): the rows must stay as they were."""
    path = tmp_path / "frwatch.db"
    copy_store(store, path)
    before = every_article(path)
    assert before
    writable = Client(path)
    try:
        queries = writable.ds._metadata_local["databases"]["frwatch"].setdefault("queries", {})
        queries["wipe"] = {"sql": "delete from articles", "write": True}
        for route, kwargs in (("/frwatch/wipe", {"data": {}}),
                              ("/frwatch/articles/-/insert",
                               {"json": {"row": {"id": "x", "title": "x"}}}),
                              ("/frwatch/latest_related", {"data": {"x": "1"}})):
            response = writable.post(route, **kwargs)
            assert response.status_code == 405, route
            assert response.text == "frwatch is read-only\n"
    finally:
        writable.close()
    assert every_article(path) == before
    # No plugin that writes.
    plugins = {p["name"] for p in client.get("/-/plugins.json").json()}
    assert plugins == {"datasette-atom", "datasette-dashboards", "datasette-leaflet",
                       "datasette-render-markdown", "frwatch_plugin.py"}


def test_hidden_tables_stay_off_the_database_page(client):
    tables = {t["name"]: t for t in client.get("/frwatch.json").json()["tables"]}
    for name in ("embeddings", "seed_embeddings", "enrich_state", "article_urls",
                 "_sqlite_migrations", "articles_fts"):
        assert tables[name]["hidden"], name
    for name in ("articles", "clusters", "seeds", "failures", "crawl_runs", "feed_state",
                 "alerts"):
        assert not tables[name]["hidden"], name


def escape(text: str) -> str:
    return str(markup_escape(text))


def _query(sql: str) -> str:
    return urlencode({"sql": sql, "_shape": "objects"})


def test_instance_pages_answer(client):
    for path in ("/", "/frwatch", "/-/versions.json", "/-/metadata.json", "/-/dashboards",
                 "/frwatch/articles", "/frwatch/failures", "/frwatch/crawl_runs"):
        assert client.get(path).status_code == 200, path
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/frwatch/articles/0000000000000000").status_code == 404


def test_article_page_shows_the_label_and_how_to_label(store, tmp_path):
    path = tmp_path / "labelled.db"
    copy_store(store, path)
    target = one(path, "select id, title from articles where related = 1 limit 1")
    client = Client(path)
    try:
        html = client.get(f"/frwatch/articles/{target['id']}").text
        assert f"frwatch label {target['id']} unrelated" in html
        assert "Labelled <strong>" not in html
        run_cli("label", target["id"], "unrelated", "--note", "an opinion column",
                "--by", "tester", "--db", str(path))
        html = client.get(f"/frwatch/articles/{target['id']}").text
        assert "Labelled <strong>unrelated</strong> by tester" in html
        assert "an opinion column" in html
        assert f"frwatch label {target['id']} related" in html  # the verdict followed
    finally:
        client.close()
