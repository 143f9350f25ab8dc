"""Seed stories: Markdown files with YAML front matter, kept in the `seeds` table.

    ---
    headline: "Amazon suspends police use of its Rekognition software for one year"
    outlet: Business Insider
    published: 2020-06-10
    author: Rosalie Chan
    url: https://www.businessinsider.com/...
    ---
    The story, in the project's own words.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from sqlite_utils import Database

from frwatch.config import Config
from frwatch.db import utcnow
from frwatch.errors import FrwatchError

FIELDS = ("headline", "outlet", "published", "author", "url")


def read_seed(path: Path) -> dict[str, Any]:
    """The seed story at `path` as a `seeds` row (without `added`)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FrwatchError(f"{path}: cannot read seed story: {exc.strerror}") from None
    meta: dict[str, Any] = {}
    body = raw
    if raw.startswith("---"):
        _, _, rest = raw.partition("\n")
        front, sep, body = rest.partition("\n---")
        if not sep:
            raise FrwatchError(f"{path}: front matter opened with --- but never closed")
        try:
            meta = yaml.safe_load(front) or {}
        except yaml.YAMLError as exc:
            raise FrwatchError(f"{path}: front matter is not valid YAML: "
                               f"{getattr(exc, 'problem', exc)}") from None
        if not isinstance(meta, dict):
            raise FrwatchError(f"{path}: front matter must be a mapping of fields")
        body = body.partition("\n")[2]
    text = body.strip()
    if not text:
        raise FrwatchError(f"{path}: seed story has no text")
    headline = meta.get("headline") or text.splitlines()[0][:120]
    key = str(meta.get("url") or path.name)
    return {
        "id": hashlib.sha256(key.encode("utf-8")).hexdigest()[:16],
        "path": str(path),
        "text": text,
        **{name: (str(meta[name]) if meta.get(name) is not None else None) for name in FIELDS},
        "headline": str(headline),
    }


def sync_seeds(db: Database, config: Config) -> int:
    """Load the config's seed stories into `seeds` (updating changed ones); returns how many."""
    rows = [read_seed(path) for path in config.seed_paths]
    now = utcnow()
    with db.atomic():
        for row in rows:
            exists = db.execute("select 1 from seeds where id = ?", [row["id"]]).fetchone()
            if exists:
                db.table("seeds").update(row["id"], row)
            else:
                db.table("seeds").insert({**row, "added": now})
    return len(rows)


def add_seed(db: Database, source: str, allow_private: bool = False) -> dict[str, Any]:
    """Add a seed story from a Markdown file or a web page URL; returns its row."""
    if source.startswith(("http://", "https://")):
        from crawler.seed_fetch import fetch_seed

        row = fetch_seed(source, allow_private=allow_private)
    else:
        row = read_seed(Path(source))
    with db.atomic():
        db.table("seeds").upsert({**row, "added": utcnow()}, pk="id")
    return row
