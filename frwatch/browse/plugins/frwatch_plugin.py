"""frwatch's Datasette plugin: SQL functions for "more like this", and the data behind the
article and story-cluster pages (templates `row-frwatch-articles.html`,
`row-frwatch-clusters.html`).

    frwatch_similarity(vector_a, vector_b)  cosine similarity of two float32 blobs
    frwatch_nearest(article_id, k)          JSON array of the ids of the k articles whose
                                            embeddings (same model) are closest to its own

`frwatch_similarity` over every stored vector is one Python call per row, too slow for
100k articles. `frwatch_nearest` answers from a matrix of all vectors of one model, read at
startup, kept per process and extended when rows are added, so a query costs one matrix
product.
"""

from __future__ import annotations

import json
import math
import threading
from typing import NamedTuple

import datasette.handle_exception
import numpy as np
from datasette.hookspecs import hookimpl  # `from datasette import` reads as first-party here
from datasette.utils import tilde_encode, urlsafe_components
from markupsafe import Markup, escape

# Datasette 0.65 prints every error with rich when rich is importable (it comes with
# typer here), and rich raises on a plain 404, outside an except block, turning "not
# found" into a 500. Datasette's own message and status are all that is needed.
datasette.handle_exception.rich = None

# Columns of the stored queries that name a row: rendered as links to its page.
ROW_LINKS = {"article_id": "articles", "original_id": "articles", "cluster_id": "clusters"}

_lock = threading.Lock()
_cache: dict[tuple[str, str], Vectors] = {}


class Vectors(NamedTuple):
    """All embeddings of one model in one store, as unit rows of a matrix."""

    signature: tuple[int, int]  # (rows, last rowid) of the embeddings table when read
    ids: list[str]
    matrix: np.ndarray


def similarity(vector_a: bytes | None, vector_b: bytes | None) -> float | None:
    if not vector_a or not vector_b or len(vector_a) != len(vector_b):
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


def nearest(conn, path: str, article_id: str, k: int) -> str:
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
    """Browsing only: every request that could change something is refused."""

    def wrap(app):
        async def read_only(scope, receive, send):
            if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
                await send({"type": "http.response.start", "status": 405, "headers": [
                    (b"allow", b"GET, HEAD, OPTIONS"), (b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"frwatch is read-only\n"})
                return
            await app(scope, receive, send)

        return read_only

    return wrap


@hookimpl
def prepare_connection(conn, database, datasette):
    conn.create_function("frwatch_similarity", 2, similarity, deterministic=True)
    db = datasette.databases.get(database)
    if db is not None and db.path:
        path = db.path
        conn.create_function("frwatch_nearest", 2,
                             lambda article_id, k: nearest(conn, path, article_id, int(k)))


@hookimpl
def render_cell(value, column, table, database, datasette):
    if table is None and column in ROW_LINKS and value is not None:
        href = datasette.urls.row(database, ROW_LINKS[column], tilde_encode(str(value)))
        return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')
    return None


@hookimpl
def extra_template_vars(view_name, table, request, datasette, database):
    if view_name != "row" or table not in ("articles", "clusters"):
        return {}

    async def page():
        (key,) = urlsafe_components(request.url_vars["pks"])
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
