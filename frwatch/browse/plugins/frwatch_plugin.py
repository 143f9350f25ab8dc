"""frwatch's Datasette plugin: SQL functions for "more like this", and the data behind the
article and story-cluster pages (templates `row-frwatch-articles.html`,
`row-frwatch-clusters.html`).

    frwatch_similarity(vector_a, vector_b)  cosine similarity of two float32 blobs
    frwatch_nearest(article_id, k)          JSON array of the ids of the k articles whose
                                            embeddings (same model) are closest to its own
    frwatch_fts_query(q)                    what a person typed in the search box as a
                                            safe FTS5 expression (NULL: nothing to search)

It also gives the front page (`index.html`), the search page and the pickers of the
parameter queries (`query-frwatch-*.html`) their data, renders highlighted snippets, and
sends `/frwatch/articles` to its related articles.

`frwatch_similarity` over every stored vector is one Python call per row, too slow for
100k articles. `frwatch_nearest` answers from a matrix of all vectors of one model, read at
startup, kept per process and extended when rows are added, so a query costs one matrix
product.

Limits, for a server anyone can query: every connection refuses strings, blobs and rows
over MAX_VALUE_BYTES (SQLite builds a function's arguments before calling it, so only the
connection can stop `zeroblob(900000000)`); both functions refuse anything that is not a
vector of the store at once; `k` is at most MAX_NEAREST. Row pages whose id cannot name a
row (wrong number of key parts, an unknown format) answer 404, and query strings Datasette
0.65 answers with a 500 (`_sort` on no column, a broken `_through` or `_next`) answer 400.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import threading
from typing import NamedTuple

import datasette.handle_exception as datasette_errors
import numpy as np
from datasette.hookspecs import hookimpl  # `from datasette import` reads as first-party here
from datasette.utils import tilde_decode, tilde_encode, urlsafe_components
from datasette.utils.asgi import NotFound, Request
from datasette.views.base import DatasetteError
from markupsafe import Markup, escape

# Datasette 0.65 prints every error with rich when rich is importable (it comes with
# typer here), and rich raises on a plain 404, outside an except block, turning "not
# found" into a 500. Datasette's own message and status are all that is needed.
datasette_errors.rich = None

# Columns of the stored queries that name a row: rendered as links to its page.
ROW_LINKS = {"article_id": "articles", "original_id": "articles", "cluster_id": "clusters"}

# SQLITE_LIMIT_LENGTH of every connection: the longest string, blob or row a query may
# read or make. The crawler cuts a page off at crawl.max_page_bytes (10 MB by default);
# stored as UTF-8 its text takes at most 3 bytes per byte read (a single-byte charset's
# "€"), 30 MB, so 64 MiB holds every row frwatch writes up to max_page_bytes of 20 MB,
# and bounds what one value in a query can cost.
MAX_VALUE_BYTES = 64 * 1024 * 1024
VECTOR_BYTES = 384 * 4  # a vector of the shipped model (all-MiniLM-L6-v2): 384 float32
MAX_NEAREST = 100       # the most ids frwatch_nearest returns; more_like_this asks for 40
MAX_KEY_CHARS = 4096    # no stored key is longer (URLs are cut off at 2083 characters)

_lock = threading.Lock()
_cache: dict[tuple[str, str], Vectors] = {}


class Vectors(NamedTuple):
    """All embeddings of one model in one store, as unit rows of a matrix."""

    signature: tuple[int, int]  # (rows, last rowid) of the embeddings table when read
    ids: list[str]
    matrix: np.ndarray


def similarity(vector_a: bytes | None, vector_b: bytes | None,
               lengths=frozenset({VECTOR_BYTES})) -> float | None:
    """Cosine similarity of two vectors; NULL if either is NULL or they are of models of
    different dimensions. Anything else that is not a vector (text, a number, a blob of
    another length than `lengths`) is an error."""
    if vector_a is None or vector_b is None:
        return None
    for value in (vector_a, vector_b):
        if not isinstance(value, bytes) or len(value) not in lengths:
            raise ValueError("frwatch_similarity: arguments must be float32 vectors of "
                             f"{' or '.join(map(str, sorted(lengths)))} bytes")
    if len(vector_a) != len(vector_b):
        return None
    a = np.frombuffer(vector_a, dtype=np.float32)
    b = np.frombuffer(vector_b, dtype=np.float32)
    norms = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / norms if norms else None


def _read(conn, model: str, after_rowid: int = 0) -> tuple[list[str], np.ndarray]:
    rows = conn.execute("select article_id, vector from embeddings where model = ? and "
                        "rowid > ? order by rowid", [model, after_rowid]).fetchall()
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
    matrix = matrix.reshape(len(rows), -1) if rows else np.zeros((0, 0), np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return [r[0] for r in rows], matrix / np.where(norms == 0, 1, norms)


def vectors(conn, path: str, model: str) -> Vectors:
    """The cached vectors of `model`, brought up to date: rows appended since the last
    read are added; anything else (a delete, a model's vectors replaced) reloads all.
    A vector rewritten in place is not noticed: the stored query rescores its candidates
    from the table, so a stale one can only cost a candidate."""
    signature = tuple(conn.execute(
        "select count(*), coalesce(max(rowid), 0) from embeddings").fetchone())
    with _lock:
        cached = _cache.get((path, model))
        if cached and cached.signature == signature:
            return cached
        appended = conn.execute("select count(*) from embeddings where rowid > ?",
                                [cached.signature[1]]).fetchone()[0] if cached else None
        if cached and len(cached.ids) and signature[0] - cached.signature[0] == appended:
            ids, matrix = _read(conn, model, cached.signature[1])
            matrix = np.vstack([cached.matrix, matrix]) if ids else cached.matrix
            cached = Vectors(signature, cached.ids + ids, matrix)
        else:
            cached = Vectors(signature, *_read(conn, model))
        _cache[(path, model)] = cached
        return cached


class VectorLengths:
    """The byte lengths of the vectors in one store, for one connection: the newest
    embedding's and those of the models read into the cache. Read again only when a
    blob does not fit, so a wrong argument costs one indexed query before its error."""

    def __init__(self, conn, path: str | None):
        self.conn, self.path, self.known = conn, path, frozenset({VECTOR_BYTES})

    def similarity(self, vector_a, vector_b):
        try:
            return similarity(vector_a, vector_b, self.known)
        except ValueError:
            if self.path is None:
                raise
            self.known = self.read()
            return similarity(vector_a, vector_b, self.known)

    def read(self) -> frozenset[int]:
        lengths = {VECTOR_BYTES}
        if self.conn.execute("select 1 from sqlite_master where name = 'embeddings'").fetchone():
            newest = self.conn.execute(
                "select length(vector) from embeddings order by rowid desc limit 1").fetchone()
            lengths.update(newest or ())
        with _lock:
            lengths.update(4 * found.matrix.shape[1] for (path, _), found in _cache.items()
                           if path == self.path and found.matrix.size)
        return frozenset(n for n in lengths if n and n % 4 == 0)


def _count(k) -> int:
    """frwatch_nearest's `k`: an integer from 1 to MAX_NEAREST (a URL gives it as text)."""
    digits = isinstance(k, str) and re.fullmatch(r"\s*\d{1,6}\s*", k)
    if digits or (isinstance(k, float) and k.is_integer()):
        k = int(k)
    if not isinstance(k, int) or not 1 <= k <= MAX_NEAREST:
        raise ValueError(f"frwatch_nearest: k must be an integer from 1 to {MAX_NEAREST}")
    return k


def nearest(conn, path: str, article_id: str | None, k) -> str:
    k = _count(k)
    if article_id is None:
        return "[]"
    if not isinstance(article_id, str):
        raise ValueError("frwatch_nearest: article_id must be text")
    target = conn.execute("select model, vector from embeddings where article_id = ? "
                          "order by rowid desc limit 1", [article_id]).fetchone()
    if target is None:
        return "[]"
    found = vectors(conn, path, target[0])
    ids, matrix = found.ids, found.matrix
    vector = np.frombuffer(target[1], dtype=np.float32)
    if not len(ids) or matrix.shape[1] != len(vector):
        return "[]"
    scores = matrix @ vector
    take = min(k + 1, len(ids))
    top = np.argpartition(-scores, take - 1)[:take]
    top = top[np.argsort(-scores[top], kind="stable")]
    return json.dumps([ids[i] for i in top if ids[i] != article_id][:k])


def warm(conn, path: str) -> None:
    """Read the vectors of the newest model now, not within a query's time limit."""
    if conn.execute("select 1 from sqlite_master where name = 'embeddings'").fetchone():
        newest = conn.execute("select model from embeddings order by rowid desc limit 1")
        for (model,) in newest.fetchall():
            vectors(conn, path, model)


@hookimpl
def startup(datasette):
    async def inner():
        for db in datasette.databases.values():
            if db.path:
                await db.execute_fn(lambda conn, path=db.path: warm(conn, path))

    return inner


@hookimpl
def asgi_wrapper(datasette):
    """Browsing only: every request that could change something is refused. A row page
    whose id cannot name a row is "not found" before Datasette looks it up."""

    def wrap(app):
        async def read_only(scope, receive, send):
            if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
                await send({"type": "http.response.start", "status": 405, "headers": [
                    (b"allow", b"GET, HEAD, OPTIONS"), (b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"frwatch is read-only\n"})
                return
            if (scope["type"] == "http" and scope["path"] == "/frwatch/articles"
                    and not scope.get("query_string")):
                # The articles table opens on related coverage; "all articles" is a link.
                await send({"type": "http.response.start", "status": 302, "headers": [
                    (b"location", b"/frwatch/articles?related=1"),
                    (b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b""})
                return
            if scope["type"] == "http" and await _malformed_row_id(datasette, scope):
                request = Request(scope, receive)
                page = datasette_error_page(datasette, request, NotFound("Record not found"))
                await (await page()).asgi_send(send)
                return
            await app(scope, receive, send)

        return read_only

    return wrap


# Datasette 0.65's route for a row page (datasette/app.py); frwatch serves at "/".
ROW_ROUTE = re.compile(
    r"/(?P<database>[^\/\.]+)/(?P<table>[^/]+?)/(?P<pks>[^/]+?)(\.(?P<format>\w+))?$")


async def _malformed_row_id(datasette, scope) -> bool:
    """True for a row page of an existing table whose id has another number of parts
    than the table's key (Datasette 0.65 looks up the first parts, or fails with a 500
    when there are too few), a part too long for any key, or a format nothing renders
    (`/clusters/1.5` would show cluster 1)."""
    raw_path = scope.get("raw_path")
    path = (raw_path.decode("ascii") if raw_path else scope["path"]).partition("?")[0]
    match = ROW_ROUTE.match(path)
    if match is None:
        return False
    try:
        db = datasette.get_database(route=tilde_decode(match["database"]))
    except KeyError:
        return False
    table = tilde_decode(match["table"])
    if not (await db.table_exists(table) or table in await db.view_names()):
        return False
    parts = match["pks"].split(",")
    formats = {"json", "csv", *datasette.renderers}
    return (len(parts) != len(await db.primary_keys(table) or ["rowid"])
            or any(len(part) > MAX_KEY_CHARS for part in parts)
            or (match["format"] is not None and match["format"] not in formats))


# Messages of the errors Datasette 0.65 raises with a 500 for a query string it cannot use.
CLIENT_MISTAKES = ("Cannot sort table by", "Cannot use _sort and _sort_desc",
                   "Invalid _through")


@hookimpl
def handle_exception(datasette, request, exception):
    """A malformed query string is the client's mistake: 400, not 500."""
    message = None
    if isinstance(exception, DatasetteError) and exception.status == 500 and \
            str(exception.message).startswith(CLIENT_MISTAKES):
        message = exception.message
    elif "_through" in request.args and isinstance(exception, (ValueError, KeyError, TypeError)):
        message = "Invalid _through: a JSON object with table, column and value is needed"
    elif "_next" in request.args and (  # a view's _next is an offset: int(), then SQLite
            isinstance(exception, ValueError) and str(exception).startswith("invalid literal")
            or isinstance(exception, sqlite3.IntegrityError)):
        message = "Invalid _next"
    if message is None:
        return None
    return datasette_error_page(datasette, request, DatasetteError(message, status=400))


def datasette_error_page(datasette, request, exception):
    """Datasette's own error page (HTML, or JSON for a .json path) for `exception`."""
    return datasette_errors.handle_exception(datasette=datasette, request=request,
                                             exception=exception)


@hookimpl
def prepare_connection(conn, database, datasette):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    db = datasette.databases.get(database)
    path = db.path if db is not None and db.path else None
    lengths = VectorLengths(conn, path)
    conn.create_function("frwatch_similarity", 2, lengths.similarity, deterministic=True)
    conn.create_function("frwatch_fts_query", 1, fts_query, deterministic=True)
    if path is not None:
        conn.create_function("frwatch_nearest", 2,
                             lambda article_id, k: nearest(conn, path, article_id, k))


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if table is None and column in HIGHLIGHTED and isinstance(value, str):
        return highlighted(value)
    if table is None and column in CLAMPED and isinstance(value, str) and len(value) > 80:
        return Markup(f'<div class="frwatch-clamp" title="{escape(value)}">{escape(value)}</div>')
    if table is None and column == "title" and value is not None and _has(row, "article_id"):
        href = datasette.urls.row(database, "articles", tilde_encode(str(row["article_id"])))
        return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')
    if table is None and column == "link" and isinstance(value, str) and _safe_url(value):
        host = re.sub(r"^https?://(www\.)?", "", value, flags=re.I).split("/")[0]
        return Markup(f'<a href="{escape(value)}" title="{escape(value)}" '
                      f'rel="noopener noreferrer">{escape(host or value)} ↗</a>')
    if table is None and column in ROW_LINKS and value is not None:
        href = datasette.urls.row(database, ROW_LINKS[column], tilde_encode(str(value)))
        return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')
    return None


@hookimpl
def extra_template_vars(template, view_name, table, request, datasette, database):
    if template in BROWSE_PAGES:
        return BROWSE_PAGES[template](datasette, request)
    if view_name != "row" or table not in ("articles", "clusters"):
        return {}

    async def page():
        parts = urlsafe_components(request.url_vars["pks"])
        if len(parts) != 1:
            raise NotFound("Record not found")
        key = parts[0]
        db = datasette.get_database(database)
        if table == "articles":
            return {"article": await _article(db, key)}
        return {"cluster": await _cluster(db, key)}

    return page


def _safe_url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("http://", "https://")) else None


async def _article(db, article_id: str) -> dict | None:
    rows = (await db.execute(
        "select a.*, c.label as cluster_label, c.size as cluster_size from articles a "
        "left join clusters c on c.id = a.cluster_id where a.id = ?", [article_id])).rows
    if not rows:
        return None
    article = dict(rows[0])
    article["url"] = _safe_url(article["url"])
    paragraphs = [p.strip() for p in (article["text"] or "").splitlines() if p.strip()]
    if paragraphs and paragraphs[0].lower() == (article["title"] or "").strip().lower():
        paragraphs = paragraphs[1:]  # extraction often repeats the headline
    article["paragraphs"] = paragraphs
    listing = "select id, title, source, published from articles where {} order by " \
              "coalesce(published, first_seen), id"
    article["original"] = [dict(r) for r in (await db.execute(
        listing.format("id = ?"), [article["duplicate_of"]])).rows]
    article["reprints"] = [dict(r) for r in (await db.execute(
        listing.format("duplicate_of = ?"), [article_id])).rows]
    labels = (await db.execute(
        "select verdict, note, labelled_at, labelled_by from current_labels "
        "where article_id = ?", [article_id])).rows
    article["label"] = dict(labels[0]) if labels else None
    return article


async def _cluster(db, cluster_id: str) -> dict | None:
    rows = (await db.execute(
        "select c.*, s.headline as seed_headline from clusters c "
        "left join seeds s on s.id = c.seed_id where c.id = ?", [cluster_id])).rows
    if not rows:
        return None
    cluster = {k: v for k, v in dict(rows[0]).items() if k != "centroid"}
    cluster["articles"] = [dict(r) for r in (await db.execute(
        "select id, title, source, published, duplicate_of, relevance from articles "
        "where cluster_id = ? order by coalesce(published, first_seen), id",
        [cluster_id])).rows]
    return cluster


# --- Reading in the browser: search, the front page, pickers -------------------------

# Columns of the stored queries holding FTS5 highlight()/snippet() output: the text is
# escaped, then only the <mark> … </mark> pairs that the query put in become tags.
HIGHLIGHTED = {"headline", "snippet"}
# Long one-line explanations in the stored queries: three lines, the rest on hover.
CLAMPED = {"reason", "last_reason", "last_failure"}
OPERATORS = {"OR", "AND", "NOT"}
SEARCH_HELP = ('Type words (all must match), "a phrase" in quotes, the start of a word '
               "with * (rekog*), and OR or NOT between words.")
_TOKENS = re.compile(r'"([^"]*)("?)|(\S+)')


def _has(row, column: str) -> bool:
    try:
        return row is not None and column in row.keys() and row[column] is not None  # noqa: SIM118 (a sqlite3.Row)
    except (AttributeError, TypeError):
        return False


def highlighted(value: str) -> Markup:
    text = str(escape(value))
    if text.count("&lt;mark&gt;") == text.count("&lt;/mark&gt;"):
        text = text.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
    return Markup(text)


def parse_search(q) -> tuple[str | None, list[str]]:
    """A person's search as a safe FTS5 expression, and notes on what was changed.

    Words and "quoted phrases" are kept (each as an FTS5 string, so no character can be
    FTS5 syntax), `word*` is a prefix query, OR / AND / NOT between two terms are
    operators; everything else is dropped with a note. None: nothing to search for."""
    if not isinstance(q, str) or not q.strip():
        return None, []
    notes: list[str] = []
    items: list[str] = []  # terms and operators, in order
    for phrase, closed, word in _TOKENS.findall(q[:500]):
        if word and word in OPERATORS:
            items.append(word)
            continue
        raw = word or phrase
        if not word and not closed:
            notes.append(f'The quote before "{phrase.strip()}" was not closed: '
                         "searched for it as a phrase.")
        prefix = bool(word) and raw.endswith("*")
        pieces = re.findall(r"\w+", raw)
        if not pieces:
            if raw.strip():
                notes.append(f"Ignored {raw.strip()!r}: no letters or digits in it.")
            continue
        term = '"' + " ".join(pieces) + '"'
        items.append(term + (" *" if prefix else ""))
    expression: list[str] = []
    for i, item in enumerate(items):
        if item in OPERATORS:
            before = expression and expression[-1] not in OPERATORS
            after = i + 1 < len(items) and items[i + 1] not in OPERATORS
            if before and after:
                expression.append(item)
            else:
                notes.append(f"{item} needs a word on both sides: ignored.")
            continue
        expression.append(item)
    if not expression:
        notes.append(f"Nothing to search for in {q.strip()!r}. {SEARCH_HELP}")
        return None, notes
    return " ".join(expression), notes


def fts_query(q) -> str | None:
    """SQL function frwatch_fts_query(q): parse_search's expression (NULL: nothing)."""
    return parse_search(q)[0]


def _since(request, days: int = 7) -> str:
    import datetime as dt

    raw = (request.args.get("since") or "").strip()
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


def _names(names: str | None, count: int = 6) -> list[str]:
    """The most mentioned names of a cluster (`names` is "name:count name:count …")."""
    found = []
    for part in (names or "").split():
        name, _, n = part.rpartition(":")
        if name and n.isdigit():
            found.append((int(n), name))
    found.sort(key=lambda pair: -pair[0])
    return [name for _, name in found[:count]]


async def _rows(db, sql: str, params=()) -> list[dict]:
    params = params if isinstance(params, dict) else list(params)
    return [dict(r) for r in (await db.execute(sql, params)).rows]


async def _topic(datasette, db) -> dict:
    """The topic's name and description: from the store if it has them (a `topic` table
    or `enrich_state` keys), else from the config of the latest crawl, else the title."""
    tables = set(await db.table_names())
    try:
        if "topic" in tables:
            row = (await _rows(db, "select * from topic limit 1") or [{}])[0]
            if row.get("name"):
                return {"name": row["name"], "description": row.get("description") or ""}
        if "enrich_state" in tables:
            state = {r["key"]: r["value"] for r in await _rows(
                db, "select key, value from enrich_state where key in "
                    "('topic_name', 'topic_description')")}
            if state.get("topic_name"):
                return {"name": state["topic_name"],
                        "description": state.get("topic_description") or ""}
        if "crawl_runs" in tables:
            for (path,) in (await db.execute(
                    "select config from crawl_runs where config is not null "
                    "order by id desc limit 5")).rows:
                topic = _topic_of_config(path)
                if topic:
                    return topic
    except Exception:  # a store of another version: fall back to the title
        pass
    return {"name": None, "description": ""}


def _topic_of_config(path: str) -> dict | None:
    from pathlib import Path

    try:
        from frwatch.config import load_config

        if not Path(path).is_file():
            return None
        topic = load_config(path).topic
        return {"name": topic.name, "description": topic.description or ""}
    except Exception:  # a config since broken or moved
        return None


def _index_vars(datasette, request):
    async def inner():
        db = datasette.get_database("frwatch") if "frwatch" in datasette.databases else None
        if db is None or not await db.table_exists("articles"):
            return {"frwatch": None}
        since = _since(request)
        new = "coalesce(a.first_seen, a.published) >= :since"
        counts = (await _rows(db, f"""
            select count(*) as articles, coalesce(sum(a.related = 1), 0) as related,
              coalesce(sum(a.related = 1 and a.duplicate_of is null), 0) as originals,
              count(distinct case when a.related = 1 then a.cluster_id end) as stories,
              count(distinct a.source) as sources
            from articles a where {new}""", {"since": since}))[0]
        totals = (await _rows(db, "select count(*) as articles, "
                                  "coalesce(sum(related = 1), 0) as related from articles"))[0]
        stories = await _rows(db, f"""
            select a.cluster_id, c.label, c.names, c.size, c.seed_id,
              count(*) as new, group_concat(distinct a.source) as sources,
              max(coalesce(a.published, a.first_seen)) as latest
            from articles a left join clusters c on c.id = a.cluster_id
            where {new} and a.related = 1
            group by a.cluster_id
            order by a.cluster_id is null, new desc, latest desc
            limit 40""", {"since": since})
        for story in stories:
            story["names"] = _names(story["names"])
            story["sources"] = sorted(set((story["sources"] or "").split(",")) - {""})
            story["headlines"] = await _rows(db, f"""
                select a.id, a.title, a.source,
                  coalesce(a.published, substr(a.first_seen, 1, 10)) as published
                from articles a
                where {new} and a.related = 1 and a.duplicate_of is null
                  and a.cluster_id is :cluster
                order by coalesce(a.published, a.first_seen) desc, a.id limit 3""",
                {"since": since, "cluster": story["cluster_id"]})
        return {"frwatch": {"topic": await _topic(datasette, db), "since": since,
                            "counts": counts, "totals": totals, "stories": stories}}

    return inner


async def _sources(db) -> list[str]:
    return [r["source"] for r in await _rows(
        db, "select distinct source from articles where source is not null order by source")]


def _search_vars(datasette, request):
    async def inner():
        db = datasette.get_database("frwatch")
        expression, notes = parse_search(request.args.get("q"))
        return {"search": {"q": request.args.get("q") or "", "expression": expression,
                           "notes": notes, "help": SEARCH_HELP,
                           "sources": await _sources(db)}}

    return inner


def _timeline_vars(datasette, request):
    async def inner():
        db = datasette.get_database("frwatch")
        clusters = await _rows(db, "select id, label, size, first_seen, last_seen, names "
                                   "from clusters where size > 0 "
                                   "order by last_seen desc, id desc limit 500")
        for cluster in clusters:
            cluster["names"] = _names(cluster["names"], 3)
        chosen = (request.args.get("cluster_id") or "").strip()
        current = next((c for c in clusters if str(c["id"]) == chosen), None)
        return {"picker": {"clusters": clusters, "chosen": chosen, "current": current}}

    return inner


def _more_like_this_vars(datasette, request):
    async def inner():
        db = datasette.get_database("frwatch")
        find = (request.args.get("find") or "").strip()
        expression, notes = parse_search(find)
        found = []
        if expression:
            found = await _rows(db, """
                select a.id, a.title, a.source,
                  coalesce(a.published, substr(a.first_seen, 1, 10)) as published, a.related
                from articles_fts join articles a on a.rowid = articles_fts.rowid
                where articles_fts match :expression
                order by bm25(articles_fts, 4.0, 1.0) limit 30""", {"expression": expression})
        chosen = (request.args.get("article_id") or "").strip()
        current = None
        if chosen:
            matches = await _rows(db, "select id, title, source from articles where id = ?",
                                  [chosen])
            current = matches[0] if matches else None
        recent = await _rows(db, """
            select id, title, source from articles
            where related = 1 and duplicate_of is null
            order by coalesce(published, first_seen) desc, id limit 100""")
        return {"picker": {"find": find, "found": found, "notes": notes, "chosen": chosen,
                           "current": current, "recent": recent, "help": SEARCH_HELP}}

    return inner


BROWSE_PAGES = {
    "index.html": _index_vars,
    "query-frwatch-search.html": _search_vars,
    "query-frwatch-cluster_timeline.html": _timeline_vars,
    "query-frwatch-more_like_this.html": _more_like_this_vars,
}
