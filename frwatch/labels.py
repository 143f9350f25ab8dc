"""Users' relevance labels: `frwatch label ARTICLE related|unrelated`.

Every label is a row of `labels` (who, when, a note); the latest for an article wins (the
`current_labels` view). The article's verdict follows its label at once; the next
`frwatch enrich` measures other articles against it too (a labelled article is a
prototype of what is or is not related), and `frwatch calibrate` refits on the labels.
"""

from __future__ import annotations

import getpass

from sqlite_utils import Database

from frwatch.db import utcnow
from frwatch.errors import FrwatchError
from frwatch.urls import canonicalize

VERDICTS = ("related", "unrelated")


def find_article(db: Database, article: str) -> dict:
    """An article by id, or by any URL it was stored under."""
    row = db.execute("select id, title, cluster_id from articles where id = ?",
                     [article]).fetchone()
    if row is None and "://" in article:
        try:
            url = canonicalize(article)
        except ValueError:
            url = article
        row = db.execute(
            "select a.id, a.title, a.cluster_id from article_urls u join articles a "
            "on a.id = u.article_id where u.url in (?, ?) union "
            "select id, title, cluster_id from articles where canonical_url = ? or url = ?",
            [url, article, url, article]).fetchone()
    if row is None:
        raise FrwatchError(f"{article}: no such article in the store (give its id or URL)")
    return {"id": row[0], "title": row[1], "cluster_id": row[2]}


def add_label(db: Database, article: str, verdict: str, note: str | None = None,
              by: str | None = None) -> dict:
    """Store a label and make the article's verdict follow it; return the article."""
    if verdict not in VERDICTS:
        raise FrwatchError(f"{verdict!r}: the verdict is `related` or `unrelated`")
    found = find_article(db, article)
    related = verdict == "related"
    with db.atomic():
        db.table("labels").insert({"article_id": found["id"], "verdict": verdict,
                                   "note": note, "labelled_at": utcnow(),
                                   "labelled_by": by or _user()})
        update: dict = {"related": int(related),
                        "relevance_reason": f"labelled {verdict} by a user"
                                            + (f": {note}" if note else "")}
        if not related and found["cluster_id"] is not None:
            update["cluster_id"] = None  # out of its story; the cluster's size follows
        db.table("articles").update(found["id"], update)
        if "cluster_id" in update:
            db.execute("update clusters set size = (select count(*) from articles "
                       "where cluster_id = clusters.id) where id = ?", [found["cluster_id"]])
    return found


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
