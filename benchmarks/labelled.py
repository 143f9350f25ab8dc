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
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from benchmarks import REPO, run_frwatch
from enrich.calibrate import LABELLED_DIR, shipped_examples
from frwatch.db import article_id, open_db, remove_store, utcnow
from frwatch.errors import FrwatchError
from frwatch.paths import DEMO_WEB
from frwatch.urls import canonicalize

__all__ = ["REPO", "Label", "build_store", "copy_store"]

# The outlet's own text of the seed story is not shipped; FRWATCH_ORIGINAL_SEED may name a copy.
REAL_SEED = Path(os.environ["FRWATCH_ORIGINAL_SEED"]) if os.environ.get(
    "FRWATCH_ORIGINAL_SEED") else None
# A row of the file table in seeds/labelled/README.md: | `core-en.jsonl` | 75 | what |
_TABLE_ROW = re.compile(r"^\| `([\w.-]+\.jsonl)` \| (\d+) \|", re.MULTILINE)
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


def check_labelled_files(directory: Path = LABELLED_DIR) -> None:
    """Every file the labelled set's README lists is there with at least the articles it
    lists, so that a lost or truncated file stops the benchmark instead of shrinking the
    set it measures (more articles, or a new file, are fine)."""
    readme = directory / "README.md"
    if not readme.is_file():
        raise FrwatchError(f"{readme}: missing (it lists the labelled set's files)")
    listed = _TABLE_ROW.findall(readme.read_text(encoding="utf-8"))
    if not listed:
        raise FrwatchError(f"{readme}: no table of *.jsonl files and article counts found")
    for name, count in listed:
        file = directory / name
        if not file.is_file():
            raise FrwatchError(f"{file}: missing from the labelled set ({readme.name} lists "
                               f"{count} articles in it)")
        have = sum(1 for line in file.read_text(encoding="utf-8").splitlines() if line.strip())
        if have < int(count):
            raise FrwatchError(f"{file}: {have} articles, {readme.name} lists {count}: the "
                               "labelled set would silently shrink")


def build_store(path: Path) -> dict[str, Label]:
    """Crawl the demo web into a fresh store at `path`, add the labelled articles and the
    real seed text; return the labels by article id. Any labelled article that cannot be
    added is a one-line error: the set is never silently smaller."""
    check_labelled_files()
    if REAL_SEED is not None and not REAL_SEED.is_file():
        raise FrwatchError(f"{REAL_SEED}: FRWATCH_ORIGINAL_SEED names no file")
    remove_store(path)
    run_frwatch("demo", "--crawl-only", "--db", str(path))
    db = open_db(path)
    labels: dict[str, Label] = {}
    # Demo articles: stored under 127.0.0.1:<port>; match them by path.
    demo = json.loads((DEMO_WEB / "labels.json").read_text(encoding="utf-8"))
    by_path = {}
    for row in db.query("select id, canonical_url from articles"):
        by_path[(row["canonical_url"].split("/", 3)[3])] = row["id"]
    lost = sorted({item["canonical"] for item in demo} - {
        item["canonical"] for item in demo if item["canonical"].split("/", 3)[3] in by_path})
    if lost:
        raise FrwatchError(f"{path}: the demo crawl stored {len(demo) - len(lost)} of the "
                           f"labelled pages; missing {len(lost)}, e.g. {lost[0]}")
    demo_ids = {item["url"]: by_path[item["canonical"].split("/", 3)[3]] for item in demo}
    for item in demo:
        if item["url"] != item["canonical"]:
            continue  # an AMP copy, stored as its canonical page
        labels[demo_ids[item["url"]]] = Label(
            related=item["label"] == "related", hard=item["label"] == "hard-negative",
            story=item["story"],
            reprint_of=demo_ids.get(item["reprint_of"]) if item.get("reprint_of") else None,
            kind=item["kind"], language="en")
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
        labels[key] = Label(related=item.related, hard=item.hard, story=item.story,
                            reprint_of=ids.get(item.reprint_of) if item.reprint_of else None,
                            kind=item.kind, language=item.language or "en")
    # The real seed text, as its outlet published it.
    if REAL_SEED is not None:
        key = article_id(canonicalize(REAL_SEED_URL))
        text = REAL_SEED.read_text(encoding="utf-8")
        rows.append({"id": key, "url": REAL_SEED_URL, "canonical_url": REAL_SEED_URL,
                     "source": "Business Insider", "title": "Amazon is suspending police "
                     "use of its controversial facial-recognition software for one year",
                     "published": "2020-06-10", "date_source": "page", "first_seen": utcnow(),
                     "language": "en", "text": text, "word_count": len(text.split()),
                     "discovered_via": "labelled"})
        labels[key] = Label(related=True, hard=False, story="amazon-moratorium",
                            reprint_of=None, kind="vendor", language="en")
    with db.atomic():
        db.table("articles").insert_all(rows, pk="id")
    db.close()
    return labels


def copy_store(source: Path, target: Path) -> None:
    """A copy of the store at `source` (checkpointed first, so its -wal holds nothing the
    copy would miss) at `target`, replacing any store there."""
    remove_store(target)
    db = open_db(source)
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()
    shutil.copyfile(source, target)
