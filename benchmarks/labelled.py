"""The labelled evaluation set for enrichment, as a store.

It joins the demo web (crawled over HTTP into the store, labels in
`seeds/demo/labels.json`) and the shipped labelled set in `seeds/labelled/*.jsonl`
(inserted as stored articles; see its README), and, when FRWATCH_ORIGINAL_SEED names a
copy, the real seed text (inserted as Business Insider's article, which must come out
related and in the seed's cluster). Borderline articles are stored but not scored.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from enrich.calibrate import shipped_examples
from frwatch.db import article_id, open_db, utcnow
from frwatch.paths import DEMO_WEB
from frwatch.urls import canonicalize

REPO = Path(__file__).resolve().parents[1]
# The outlet's own text of the seed story is not shipped; FRWATCH_ORIGINAL_SEED may name a copy.
REAL_SEED = Path(os.environ.get("FRWATCH_ORIGINAL_SEED", "/nonexistent"))
REAL_SEED_URL = ("https://www.businessinsider.com/"
                 "amazon-rekognition-police-ban-facial-recognition-moratorium-2020-6")


@dataclass(frozen=True)
class Label:
    related: bool
    hard: bool              # a hard negative: shares words or companies with the topic
    story: str | None
    reprint_of: str | None  # article id of the original, for a syndicated copy
    kind: str = ""          # ban, legal, … neg-device, … other (see seeds/labelled/README)
    language: str = "en"


def build_store(path: Path) -> dict[str, Label]:
    """Crawl the demo web into a fresh store at `path`, add the labelled articles and the
    real seed text; return the labels by article id."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "frwatch.cli", "demo", "--crawl-only", "--db",
                    str(path)],
                   check=True, capture_output=True, cwd=REPO)
    db = open_db(path)
    labels: dict[str, Label] = {}
    # Demo articles: stored under 127.0.0.1:<port>; match them by path.
    demo = json.loads((DEMO_WEB / "labels.json").read_text(encoding="utf-8"))
    by_path = {}
    for row in db.query("select id, canonical_url from articles"):
        by_path[(row["canonical_url"].split("/", 3)[3])] = row["id"]
    demo_ids = {}
    for item in demo:
        key = item["canonical"].split("/", 3)[3]
        demo_ids[item["url"]] = by_path[key]
    for item in demo:
        if item["url"] != item["canonical"]:
            continue  # an AMP copy, stored as its canonical page
        labels[demo_ids[item["url"]]] = Label(
            item["label"] == "related", item["label"] == "hard-negative", item["story"],
            demo_ids.get(item["reprint_of"]) if item.get("reprint_of") else None,
            item["kind"], "en")
    # The shipped labelled set (borderline articles are left out by shipped_examples).
    extra = shipped_examples()
    ids = {item.id: article_id(canonicalize(item.url)) for item in extra}
    rows = []
    for item in extra:
        key = ids[item.id]
        rows.append({"id": key, "url": item.url, "canonical_url": canonicalize(item.url),
                     "source": item.source, "title": item.title, "description": item.description,
                     "published": item.published, "date_source": "page",
                     "first_seen": utcnow(), "language": None, "text": item.text,
                     "word_count": len(item.text.split()), "discovered_via": "labelled"})
        labels[key] = Label(item.related, item.hard, item.story,
                            ids.get(item.reprint_of) if item.reprint_of else None,
                            item.kind, item.language or "en")
    # The real seed text, as its outlet published it.
    if REAL_SEED.is_file():
        key = article_id(canonicalize(REAL_SEED_URL))
        text = REAL_SEED.read_text(encoding="utf-8")
        rows.append({"id": key, "url": REAL_SEED_URL, "canonical_url": REAL_SEED_URL,
                     "source": "Business Insider", "title": "Amazon is suspending police "
                     "use of its controversial facial-recognition software for one year",
                     "published": "2020-06-10", "date_source": "page", "first_seen": utcnow(),
                     "language": "en", "text": text, "word_count": len(text.split()),
                     "discovered_via": "labelled"})
        labels[key] = Label(True, False, "amazon-moratorium", None, "vendor", "en")
    with db.atomic():
        db["articles"].insert_all(rows, pk="id")
    db.close()
    return labels


def copy_store(source: Path, target: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    db = open_db(source)
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()
    shutil.copyfile(source, target)
