"""What one request to `frwatch serve` can cost, and what `--public` leaves out (issue 11):
the SQLite length limit on every connection, the SQL functions' input checks, the public
app, and 404 for row ids that cannot name a row. In-process through Datasette's client,
plus one real `frwatch serve --public` on a free loopback port."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np
import pytest
import yaml
from datasette.utils import tilde_encode

from benchmarks.labelled import copy_store
from frwatch.config import Crawl
from frwatch.db import open_db
from frwatch.paths import BROWSE_DIR
from frwatch.serve import PUBLIC_SETTINGS, SETTINGS
from tests.support.datasette import Client, client, store  # noqa: F401 (fixtures)
from tests.support.paths import REPO

QUERIES = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))[
    "databases"]["frwatch"]["queries"]
MAX_VALUE_BYTES = 64 * 1024 * 1024  # the plugin's SQLITE_LIMIT_LENGTH
MIB = 1024 * 1024
FUNCTION_ERROR = "user-defined function raised exception"  # what sqlite3 says for any raise
ODD_IDS = ["1,2", "1,", ",", "a,b,c", "1~2C2", "'", "%27", '"', "%22", "x" * 5000, "9" * 40,
           "abc", "-1", "1.5", "1e999", "0x10", "NULL", "~", "~zz", "%FF", "%00", "%20",
           "a%2Fb", "%E2%82%AC"]


@pytest.fixture(scope="module")
def public(store):
    c = Client(store, public=True)
    yield c
    c.close()


def peak_rss() -> int:
    """This process's peak resident memory in bytes (Linux)."""
    status = Path("/proc/self/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match is not None, status
    return int(match[1]) * 1024


def one(store: Path, sql: str, params=()) -> dict:
    db = open_db(store)
    try:
        return next(iter(db.query(sql, list(params))))
    finally:
        db.close()


# The length limit.

@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_huge_blob_is_refused_before_it_is_built(client):
    """The issue's query took 13.6 s and 3.6 GB. zeroblob(n) compares n with the
    connection's SQLITE_LIMIT_LENGTH before it allocates anything, so "string or blob
    too big" means neither argument was made: the answer costs O(1), whatever n is. The
    process's peak memory shows it (a few MiB of slack for the response itself)."""
    before = peak_rss()
    response = client.sql("select frwatch_similarity(zeroblob(900000000), "
                          "randomblob(900000000))")
    assert response.status_code == 400
    assert response.json()["error"] == "string or blob too big"
    assert peak_rss() - before < 32 * MIB
    # The limit is exactly MAX_VALUE_BYTES (length() of a zeroblob allocates nothing).
    at_limit = client.sql(f"select length(zeroblob({MAX_VALUE_BYTES})) as n")
    assert at_limit.json() == [{"n": MAX_VALUE_BYTES}]
    for sql in (f"select zeroblob({MAX_VALUE_BYTES + 1})",
                f"select randomblob({MAX_VALUE_BYTES + 1})",
                f"select length(zeroblob({MAX_VALUE_BYTES // 2 + 1}) || "
                f"zeroblob({MAX_VALUE_BYTES // 2 + 1}))"):
        response = client.sql(sql)
        assert response.status_code == 400, sql
        assert response.json()["error"] == "string or blob too big", sql
    # The concatenation makes its two operands (32 MiB each) before it fails: what a
    # query can hold is counted in values under the limit, not in what it asks for.
    assert peak_rss() - before < 2 * MAX_VALUE_BYTES


def test_the_longest_article_the_crawler_can_store_fits(store, tmp_path):
    """A page is cut off at crawl.max_page_bytes; stored as UTF-8 its text is at most 3
    bytes per byte read ("€" from a single-byte charset). Such a row reads, sorts and
    renders under the connection's limit."""
    page_bytes = Crawl().max_page_bytes
    assert 3 * page_bytes + MIB <= MAX_VALUE_BYTES
    path = tmp_path / "long.db"
    copy_store(store, path)
    text = "€" * page_bytes
    db = open_db(path)
    db.table("articles").insert({
        "id": "longest000000000", "url": "https://long.test/a", "source": "Long Test",
        "canonical_url": "https://long.test/a", "title": "Zz the longest article",
        "description": "€" * 10_000, "first_seen": "2020-07-01T00:00:00+00:00",
        "text": text, "word_count": 1})
    db.close()
    client = Client(path)
    try:
        size = client.sql("select length(cast(text as blob)) as n from articles "
                          "where id = 'longest000000000'")
        assert size.status_code == 200 and size.json() == [{"n": 3 * page_bytes}]
        row = client.get("/frwatch/articles/longest000000000.json?_shape=objects")
        assert row.status_code == 200 and row.json()["rows"][0]["text"] == text
        # A table page sorts whole rows (SQLite's sorter makes a record of each).
        page = client.get("/frwatch/articles.json?source=Long+Test&_sort_desc=title"
                          "&_shape=objects")
        assert page.status_code == 200
        assert page.json()["rows"][0]["id"] == "longest000000000"
        html = client.get("/frwatch/articles/longest000000000")
        assert html.status_code == 200 and "Zz the longest article" in html.text
    finally:
        client.close()


# The SQL functions. Datasette turns on sqlite3's callback tracebacks, so each refusal is
# also printed (an "unraisable" exception to pytest).
REFUSALS_PRINTED = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@REFUSALS_PRINTED
def test_similarity_takes_only_vectors(client, store):
    target = one(store, "select article_id from embeddings limit 1")["article_id"]
    scored = client.sql(
        "select frwatch_similarity(e.vector, e.vector) as same, "
        "frwatch_similarity(e.vector, c.centroid) as to_centroid, "
        "frwatch_similarity(null, e.vector) as unknown from embeddings e "
        "join clusters c on c.centroid is not null where e.article_id = :id limit 1",
        id=target)
    assert scored.status_code == 200, scored.text
    row = scored.json()[0]
    assert row["same"] == pytest.approx(1.0, abs=1e-5)
    assert -1 <= row["to_centroid"] <= 1 and row["unknown"] is None
    for argument in ("zeroblob(1000000)", "zeroblob(1540)", "zeroblob(1532)", "zeroblob(4)",
                     "x''", "'a text'", "42", "4.2"):
        for sql in (f"select frwatch_similarity({argument}, vector) from embeddings limit 1",
                    f"select frwatch_similarity(vector, {argument}) from embeddings limit 1"):
            response = client.sql(sql)
            assert response.status_code == 400, sql
            assert response.json()["error"] == FUNCTION_ERROR, sql


@REFUSALS_PRINTED
def test_a_model_of_another_dimension_has_vectors_too(store, tmp_path):
    """A vector is the dimension of a model in the store times 4 bytes, not only 1536."""
    path = tmp_path / "wide.db"
    copy_store(store, path)
    article = one(path, "select article_id from embeddings limit 1")["article_id"]
    db = open_db(path)
    db.table("embeddings").insert({"article_id": article, "model": "wide@768",
                                   "vector": np.ones(768, np.float32).tobytes()})
    db.close()
    client = Client(path)
    try:
        wide = "(select vector from embeddings where model = 'wide@768')"
        narrow = "(select vector from embeddings where model != 'wide@768' limit 1)"
        assert client.sql(f"select frwatch_similarity({wide}, {wide}) as s").json() == [
            {"s": pytest.approx(1.0)}]
        assert client.sql(f"select frwatch_similarity({wide}, {narrow}) as s").json() == [
            {"s": None}]  # two models: not comparable
        assert client.sql(f"select frwatch_similarity({wide}, zeroblob(3068))").status_code \
            == 400
    finally:
        client.close()


@REFUSALS_PRINTED
def test_nearest_bounds_k(client, store):
    article = one(store, "select article_id from embeddings limit 1")["article_id"]

    def nearest(k: str):
        return client.sql(f"select frwatch_nearest(:id, {k}) as ids", id=article)

    assert len(yaml.safe_load(nearest("5").json()[0]["ids"])) == 5
    assert len(yaml.safe_load(nearest("'7'").json()[0]["ids"])) == 7
    assert nearest("100").status_code == 200
    for k in ("0", "-1", "101", "1000000000000", "1.5", "'abc'", "null", "x'00'"):
        response = nearest(k)
        assert response.status_code == 400, k
        assert response.json()["error"] == FUNCTION_ERROR, k
    assert client.sql("select frwatch_nearest(123, 5)").status_code == 400
    assert client.sql("select frwatch_nearest(null, 5) as ids").json() == [{"ids": "[]"}]


# Settings and --public.

def test_limits_are_set(client, public):
    settings = client.get("/-/settings.json").json()
    assert {k: settings[k] for k in SETTINGS} == SETTINGS
    assert settings["allow_facet"] and settings["default_allow_sql"]
    settings = public.get("/-/settings.json").json()
    assert {k: settings[k] for k in {**SETTINGS, **PUBLIC_SETTINGS}} == {
        **SETTINGS, **PUBLIC_SETTINGS}
    assert client.get("/frwatch.db").status_code == 403


def test_public_names_no_file(public, store):
    databases = public.get("/-/databases.json").json()
    assert [d["name"] for d in databases] == ["frwatch"]
    assert databases[0]["path"] is None
    hidden = [str(store.resolve().parent), str(Path(sys.base_prefix).resolve())]
    for path in ("/-/databases.json", "/-/databases", "/-/threads.json", "/-/threads",
                 "/-/versions.json", "/-/plugins.json", "/-/settings.json",
                 "/-/metadata.json", "/.json", "/", "/frwatch.json", "/frwatch",
                 "/frwatch/articles.json", "/frwatch/clusters/1"):
        response = public.get(path)
        assert response.status_code == 200, path
        assert not any(h in response.text for h in hidden), path
    for path in ("/_internal", "/_internal/databases.json"):
        assert public.get(path).status_code == 403, path


def test_public_refuses_sql_and_keeps_stored_queries(public, store):
    for path in ("/frwatch.json?sql=select+1", "/frwatch?sql=select+1",
                 "/frwatch.json?" + urlencode({"sql": "select frwatch_similarity("
                                               "zeroblob(900000000), randomblob(900000000))"}),
                 "/frwatch/articles.json?_where=1=1", "/-/dashboards/coverage"):
        assert public.get(path).status_code == 403, path
    reprint = one(store, "select id from articles where duplicate_of is not null")
    cluster = one(store, "select id from clusters where size > 1")
    params = {"cluster_timeline": f"?cluster_id={cluster['id']}",
              "more_like_this": f"?article_id={reprint['id']}"}
    for name in QUERIES:
        response = public.get(f"/frwatch/{name}.json?_shape=array&" + params.get(name, "?")[1:])
        assert response.status_code == 200 and response.json(), name
    assert public.get("/frwatch/related_atom.atom").status_code == 200
    assert public.get(f"/frwatch/articles/{reprint['id']}").status_code == 200
    # Facets from the metadata and search stay; a facet on any column does not.
    data = public.get("/frwatch/articles.json?_search=police&_size=1").json()
    assert {"source", "language", "related"} <= set(data["facet_results"]) and data["rows"]
    assert public.get("/frwatch/articles.json?_facet=text").status_code == 400


def test_public_allow_sql(store):
    c = Client(store, public=True, allow_sql=True)
    try:
        assert c.sql("select 1 as one").json() == [{"one": 1}]
        assert c.get("/-/databases.json").json()[0]["path"] is None
    finally:
        c.close()


# Malformed ids.

def test_malformed_row_ids_are_not_found(client, store):
    tables = [r["name"] for r in open_db(store).query(
        "select name from sqlite_master where type in ('table', 'view') "
        "and name not like 'articles_fts_%' order by name")]
    assert {"articles", "clusters", "alerts", "embeddings", "current_labels"} <= set(tables)
    for table in tables:
        for odd in ODD_IDS:
            for suffix in ("", ".json"):
                path = f"/frwatch/{table}/{odd}{suffix}"
                response = client.get(path)
                assert response.status_code == 404, (path, response.status_code)
    html = client.get("/frwatch/clusters/1,2")
    assert html.status_code == 404 and "Record not found" in html.text
    assert client.get("/frwatch/clusters/1,2.json").json()["error"] == "Record not found"
    # Well-formed ids still name their rows, compound keys included.
    embedding = one(store, "select article_id, model from embeddings limit 1")
    key = f"{tilde_encode(embedding['article_id'])},{tilde_encode(embedding['model'])}"
    assert client.get(f"/frwatch/embeddings/{key}.json").status_code == 200
    for path in ("/frwatch/clusters/1", "/frwatch/clusters/1.json", "/frwatch/failures/1",
                 f"/frwatch/articles/{embedding['article_id']}"):
        assert client.get(path).status_code == 200, path


def test_malformed_query_strings_are_bad_requests(client):
    for path in ("/frwatch/seeds.json?_sort=nope", "/frwatch/seeds?_sort_desc=nope",
                 "/frwatch/failures.json?_sort=id&_sort_desc=id",
                 "/frwatch/seeds.json?_through=x", "/frwatch/seeds.json?_through={}",
                 "/frwatch/current_labels.json?_next=abc",
                 "/frwatch/current_labels.json?_next=" + "9" * 40):
        assert client.get(path).status_code == 400, path


# The real server.

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_frwatch_serve_public(store, tmp_path):
    path = tmp_path / "served.db"
    copy_store(store, path)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "frwatch.cli", "serve", "--public", "--db", str(path),
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None  # a pipe: read when the server stops early
        with httpx.Client(base_url=base, timeout=30) as http:
            deadline = time.monotonic() + 120  # startup guard, not a measurement
            while True:
                assert server.poll() is None, server.stdout.read()
                try:
                    if http.get("/-/versions.json").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "frwatch serve did not start"
                time.sleep(0.2)
            databases = http.get("/-/databases.json")
            assert databases.status_code == 200
            assert databases.json()[0]["path"] is None
            assert str(path.parent) not in databases.text
            query = {"sql": "select frwatch_similarity(zeroblob(900000000), "
                            "randomblob(900000000))"}
            assert http.get("/frwatch.json", params=query).status_code == 403
            assert http.get("/frwatch.json", params={"sql": "select 1"}).status_code == 403
            rows = http.get("/frwatch/latest_related.json", params={"_shape": "array"})
            assert rows.status_code == 200 and rows.json()
            assert http.get("/frwatch/clusters/1").status_code == 200
            assert http.get("/frwatch/clusters/1,2").status_code == 404
            assert http.get("/frwatch/embeddings/x.json").status_code == 404
            assert http.post("/frwatch/articles/-/insert", json={}).status_code == 405
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output, output
