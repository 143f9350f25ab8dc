"""The reading pages of `frwatch serve` through Datasette's in-process client (no browser):
the front page, the compact articles table, search, the pickers of the parameter queries,
and the charts' queries on a full and an empty store. See tests/test_browser.py for the
same pages in a real Chromium."""

from __future__ import annotations

import re
import sys
from urllib.parse import urlencode

import pytest
import yaml

from frwatch.db import open_db
from frwatch.paths import BROWSE_DIR
from tests.support.browsing import HOSTILE_ID
from tests.support.datasette import Client, client, store  # noqa: F401 (fixtures)

sys.path.insert(0, str(BROWSE_DIR / "plugins"))
import frwatch_plugin  # noqa: E402

METADATA = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))
CHARTS = METADATA["plugins"]["datasette-dashboards"]["coverage"]["charts"]


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    path = tmp_path_factory.mktemp("empty") / "empty.db"
    open_db(path).close()
    c = Client(path)
    yield c
    c.close()


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def search(client, **params) -> list[dict]:
    return client.rows("/frwatch/search.json?" + urlencode(params))


# --- search --------------------------------------------------------------------------

@pytest.mark.parametrize("typed, expression", [
    ("rekog*", '"rekog" *'),
    ('"face recognition" ban', '"face recognition" "ban"'),
    ("face-recognition", '"face recognition"'),
    ("clearview OR rekognition", '"clearview" OR "rekognition"'),
    ("police NOT amazon", '"police" NOT "amazon"'),
    ('"unclosed phrase', '"unclosed phrase"'),
    ("OR face AND", '"face"'),
    ('col:x (y) ^z', '"col x" "y" "z"'),
    ("***", None), ("", None), ('"', None), (None, None),
])
def test_a_typed_search_becomes_a_safe_fts5_expression(typed, expression):
    assert frwatch_plugin.parse_search(typed)[0] == expression


def test_search_notes_explain_what_was_changed():
    assert "was not closed" in frwatch_plugin.parse_search('"face recog')[1][0]
    assert frwatch_plugin.parse_search("face OR")[1] == [
        "OR needs a word on both sides: ignored."]
    assert "Nothing to search for" in frwatch_plugin.parse_search("***")[1][-1]
    assert frwatch_plugin.parse_search("rekog*")[1] == []


def test_search_ranks_highlights_and_finds_prefixes(client):
    rows = search(client, q="rekog*")
    assert len(rows) >= 5
    assert "<mark>Rekognition</mark>" in rows[0]["headline"]
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    # Headline matches first: bm25 weighs the headline four times the text.
    assert all("<mark>" in r["headline"] for r in rows[:5])
    assert any("<mark>" in r["snippet"] for r in rows)
    assert not search(client, q="rekog")  # a whole word, not a prefix


def test_search_phrases_match_the_phrase(client):
    phrase = search(client, q='"face recognition"')
    words = search(client, q="face recognition")
    assert phrase and len(phrase) < len(words)
    for row in phrase:
        marked = re.findall(r"<mark>(.*?)</mark>", row["headline"] + row["snippet"])
        assert any(m.lower() == "face recognition" for m in marked), row


def test_search_filters(client, store):
    everything = search(client, q="rekognition")
    related = search(client, q="rekognition", related="1")
    assert related and len(related) < len(everything)
    assert all(r["related"] == 1 for r in related)
    one = search(client, q="rekognition", source="Capitol Brief")
    assert one and {r["source"] for r in one} == {"Capitol Brief"}
    dated = search(client, q="facial", since="2021-01-01", until="2021-12-31")
    assert dated and all("2021-01-01" <= r["published"][:10] <= "2021-12-31" for r in dated)


def test_search_misses_and_mistakes_are_explained(client):
    assert search(client, q="zqxjwvk") == []
    html = client.get("/frwatch/search?q=zqxjwvk").text
    assert "No articles match <strong>zqxjwvk</strong>" in html
    for typed in ('"', "***", 'AND "face', "face OR", "NOT", "a:b(", '"""'):
        response = client.get("/frwatch/search?" + urlencode({"q": typed}))
        assert response.status_code == 200, typed
        page = text_of(response.text)
        assert "fts5" not in page and "syntax error" not in page, typed
        assert "frwatch-note" in response.text, typed


def test_search_escapes_text_but_keeps_the_highlight(client):
    html = client.get("/frwatch/search?q=debates").text
    assert "<script>alert(1)</script>" not in html
    assert "Council &lt;b&gt;<mark>debates</mark>&lt;/b&gt; rules" in html
    assert f"/frwatch/articles/{HOSTILE_ID}" in html
    snippet = client.rows("/frwatch/search.json?q=pasted")[0]["snippet"]
    assert "<script>" in snippet  # the JSON has the text as it is
    html = client.get("/frwatch/search?q=pasted").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; was <mark>pasted</mark>" in html


def test_search_without_a_query_lists_the_newest(client):
    rows = search(client)
    assert rows and all(r["score"] == 0 for r in rows)
    dates = [r["published"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    assert "No search yet: the newest articles" in client.get("/frwatch/search").text


# --- front page ----------------------------------------------------------------------

def test_front_page_shows_the_topic_what_is_new_and_the_ways_in(client, store):
    html = client.get("/").text
    db = open_db(store)
    topic = db.execute("select value from enrich_state where key = 'topic_name'").fetchone()
    db.close()
    assert topic and f"<h1>{topic[0]}</h1>" in html  # as the latest enrich recorded it
    for href in ("/frwatch/search", "/frwatch/clusters", "/frwatch/sources",
                 "/-/dashboards/coverage"):
        assert f'href="{href}"' in html, href
    page = text_of(html)
    assert re.search(r"New since \d{4}-\d\d-\d\d", page)
    db = open_db(store)
    biggest = next(db.query(
        "select c.label, count(*) as n from articles a join clusters c on c.id = a.cluster_id "
        "where a.related = 1 group by c.id order by n desc limit 1"))
    db.close()
    old = text_of(client.get("/?since=2000-01-01").text)
    assert "New since 2000-01-01" in old
    first = html.find('class="frwatch-stories"')
    assert first > 0
    assert f"{biggest['n']} new articles" in old
    assert old.index(frwatch_plugin.escape(biggest["label"])) < old.index("new articles") + 2000


def test_front_page_date_is_checked(client):
    page = text_of(client.get("/?since=not-a-date").text)
    assert re.search(r"New since \d{4}-\d\d-\d\d", page) and "not-a-date" not in page
    page = text_of(client.get("/?since=2099-01-01").text)
    assert "Nothing stored since 2099-01-01" in page


def test_front_page_topic_from_a_topic_table_or_the_title(store, tmp_path):
    from benchmarks.labelled import copy_store

    path = tmp_path / "topic.db"
    copy_store(store, path)
    db = open_db(path)
    db.table("topic").insert({"name": "Gait recognition", "description": "Walking <b>bans</b>"})
    db.close()
    c = Client(path)
    try:
        html = c.get("/").text
        assert "<h1>Gait recognition</h1>" in html and "Walking &lt;b&gt;bans&lt;/b&gt;" in html
    finally:
        c.close()


def test_front_page_of_an_empty_store(empty):
    response = empty.get("/")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "<h1>frwatch</h1>" in response.text  # no topic in the store: the title
    assert "No articles yet" in page


# --- the articles table --------------------------------------------------------------

def test_articles_table_opens_on_a_compact_list_of_related_articles(client, store):
    response = client.get("/frwatch/articles", follow=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/frwatch/articles?related=1"
    html = client.get("/frwatch/articles?related=1").text
    table = html[html.index("frwatch-compact"):]
    db = open_db(store)
    article = next(db.query("select * from articles where related = 1 "
                            "order by published desc limit 1"))
    db.close()
    assert re.findall(r"<th scope=\"col\">(\w+)", table)[:2] == ["Headline", "Source"]
    assert f'<a href="/frwatch/articles/{article["id"]}">' in table
    paragraph = max(article["text"].splitlines(), key=len)
    assert frwatch_plugin.escape(paragraph[:80]) not in html
    assert '<details class="frwatch-columns">' in html
    assert "show all articles" in html


def test_articles_text_stays_in_the_exports(client):
    rows = client.rows("/frwatch/articles.json?related=1&_size=5")
    assert rows and all(r["text"] for r in rows)
    csv = client.get("/frwatch/articles.csv?related=1&_size=5").text
    assert csv.splitlines()[0].count("text")
    # Choosing the columns shows Datasette's own table.
    html = client.get("/frwatch/articles?_col=title&_col=text&related=1").text
    assert "frwatch-compact" not in html and "col-text" in html


def test_article_page_keeps_all_fields(client, store):
    db = open_db(store)
    article = next(db.query("select id from articles where related = 1 limit 1"))
    db.close()
    html = client.get(f"/frwatch/articles/{article['id']}").text
    assert "All fields" in html and "frwatch-compact" not in html


# --- stored queries and their pickers ------------------------------------------------

def test_every_stored_query_answers_without_parameters(client):
    for name in METADATA["databases"]["frwatch"]["queries"]:
        response = client.get(f"/frwatch/{name}")
        assert response.status_code == 200, name
        assert "message-error" not in response.text, name


def test_cluster_timeline_has_a_story_picker(client, store):
    html = client.get("/frwatch/cluster_timeline").text
    assert 'name="cluster_id"' in html and '<select id="cluster-picker"' in html
    assert '<input type="text" id="qp1" name="cluster_id"' not in html
    assert "Pick one of" in html and "0 results" not in html
    db = open_db(store)
    cluster = next(db.query("select id, label from clusters where size > 2"))
    db.close()
    html = client.get(f"/frwatch/cluster_timeline?cluster_id={cluster['id']}").text
    assert f'<option value="{cluster["id"]}" selected>' in html
    assert "<h2>" in html and frwatch_plugin.escape(cluster["label"]) in html
    assert "There is no story" in client.get("/frwatch/cluster_timeline?cluster_id=999999").text


def test_more_like_this_has_an_article_finder(client):
    html = client.get("/frwatch/more_like_this").text
    assert 'name="find"' in html and '<select id="article-picker"' in html
    assert "0 results" not in html
    html = client.get("/frwatch/more_like_this?find=Rekognition").text
    found = re.findall(r'href="/frwatch/more_like_this\?article_id=([0-9a-z]{16})"', html)
    assert found
    html = client.get(f"/frwatch/more_like_this?article_id={found[0]}").text
    assert "<h2>Like" in html and "rows-and-columns" in html
    html = client.get("/frwatch/more_like_this?find=%22").text
    assert "frwatch-note" in html and "fts5" not in html


def test_stored_query_headlines_link_and_links_stay_short(client):
    html = client.get("/frwatch/latest_related").text
    assert re.search(r'<td class="col-title"><a href="/frwatch/articles/[0-9a-z]{16}">', html)
    assert re.search(r'<td class="col-link"><a href="https?://[^"]+" title="[^"]+" '
                     r'rel="noopener noreferrer">[^<]+ ↗</a>', html)


# --- charts --------------------------------------------------------------------------

def _chart_rows(client, chart) -> list[dict]:
    response = client.get("/frwatch.json?" + urlencode({"sql": chart["query"],
                                                        "_shape": "array"}))
    assert response.status_code == 200, response.text[:500]
    return response.json()


def test_charts_have_data_and_no_note_on_a_full_store(client):
    for name, chart in CHARTS.items():
        rows = _chart_rows(client, chart)
        assert rows, name
        assert not any(r.get("note") for r in rows), name
    weeks = _chart_rows(client, CHARTS["related-per-week"])
    assert all(r["week"] < r["week_end"] for r in weeks)
    import datetime as dt
    assert {dt.date.fromisoformat(r["week"]).weekday() for r in weeks} == {6}  # Sundays
    stories = _chart_rows(client, CHARTS["stories-over-time"])
    assert all(r["label"] for r in stories) and any(r["names"] for r in stories)


def test_charts_say_no_data_yet_on_an_empty_store(empty):
    for name, chart in CHARTS.items():
        rows = _chart_rows(empty, chart)
        if chart["library"] == "metric":
            assert rows == [{"n": 0}], name
        else:
            assert len(rows) == 1 and rows[0]["note"].startswith("No "), name
    assert empty.get("/-/dashboards/coverage").status_code == 200
