"""Relevance on articles nobody trained on: other languages, tutorials, teasers, labels.

Real model, real SQLite, the real CLI. The articles below were written for these tests
and are in no labelled set.
"""

from __future__ import annotations

import json
import shutil

import pytest

from frwatch.config import relocate
from frwatch.db import article_id, open_db, utcnow
from frwatch.paths import DEMO_WEB, SEEDS_DIR
from tests.support.crawl import run_cli

ARTICLES = {
    "de-related": {
        "url": "https://stadtblatt.example/2024/05/landtag-gesichtserkennung.html",
        "title": "Landtag streitet über Gesichtserkennung an Bahnhöfen",
        "language": "de",
        "text": (
            "Die Landesregierung will der Polizei erlauben, Videobilder von drei Bahnhöfen "
            "automatisch mit einer Datenbank gesuchter Personen abzugleichen. Der Entwurf "
            "für das neue Polizeigesetz sieht vor, dass die Gesichtserkennungssoftware nur "
            "bei schweren Straftaten eingesetzt werden darf. Die Datenschutzbeauftragte des "
            "Landes hält das Vorhaben für unvereinbar mit den Grundrechten und kündigte an, "
            "den Gesetzentwurf genau zu prüfen. Oppositionspolitiker verlangten im Landtag "
            "ein Verbot der biometrischen Überwachung im öffentlichen Raum. Bürgerrechtler "
            "verweisen auf Studien, nach denen solche Systeme Menschen mit dunkler Haut "
            "häufiger falsch zuordnen. Der Innenminister verteidigte den Plan: Die Polizei "
            "brauche moderne Mittel, und ein Richter müsse jeden Einsatz vorher genehmigen. "
            "Die erste Lesung ist für Juni geplant.")},
    "tutorial": {
        "url": "https://devnotes.example/posts/moderate-user-videos-with-rekognition",
        "title": "Moderating user-uploaded videos with Amazon Rekognition and Lambda",
        "language": "en",
        "text": (
            "In this tutorial we build a small pipeline that checks every video a user "
            "uploads to an S3 bucket. A Lambda function starts an Amazon Rekognition "
            "content-moderation job, waits for the SNS notification and writes the labels "
            "it finds, with their confidence scores and timestamps, to DynamoDB. You will "
            "need an AWS account, Python 3.12 and the boto3 SDK. First create the bucket "
            "and give the function's role permission to call the Rekognition API. The "
            "sample code below calls start_content_moderation with a minimum confidence of "
            "80; lower it if you want more labels. Rekognition also offers face detection "
            "and face search, which we do not need here. The free tier covers the first "
            "thousand minutes of video a month, so the pricing for a hobby project is "
            "close to nothing. In part two we add a review queue for borderline clips.")},
    "stub": {
        "url": "https://dailyledger.example/2024/09/county-bans-police-face-recognition",
        "title": "County commissioners ban sheriff's office from using face recognition",
        "language": "en",
        "description": "A 4-1 vote ends a two-year pilot after a man was wrongly jailed.",
        "text": ("The vote on Tuesday night followed months of public comment. "
                 "Subscribe to continue reading.")},
    "en-related": {
        "url": "https://rivertimes.example/2023/03/school-board-face-scanning-cameras",
        "title": "School board drops plan for face-scanning cameras after parents object",
        "language": "en",
        "text": (
            "The district's board voted on Monday to cancel a contract for cameras that "
            "would have scanned the faces of everyone entering its four high schools and "
            "compared them against a list of people barred from the grounds. Parents and "
            "a civil liberties group had argued that the system would misidentify "
            "students of colour and that the district had no policy on how long the images "
            "would be kept. The state's privacy regulator had asked the district to explain "
            "the legal basis for collecting biometric data from minors. Board members said "
            "they would revisit school safety measures in the autumn.")},
}


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """The four articles in a real store, enriched by the real CLI."""
    tmp = tmp_path_factory.mktemp("relevance")
    db_path = tmp / "frwatch.db"
    db = open_db(db_path)
    rows = []
    for key, a in ARTICLES.items():
        rows.append({"id": article_id(a["url"]), "url": a["url"], "canonical_url": a["url"],
                     "source": key, "title": a["title"], "description": a.get("description"),
                     "text": a["text"], "language": a["language"], "first_seen": utcnow(),
                     "published": "2024-09-01", "word_count": len(a["text"].split())})
    db.table("articles").insert_all(rows, pk="id")
    db.close()
    calibration = tmp / "calibration.json"
    shutil.copyfile(SEEDS_DIR / "calibration.json", calibration)
    config = tmp / "sources.yaml"
    config.write_text(relocate((DEMO_WEB / "sources.yaml").read_text(), DEMO_WEB,
                               enrich={"calibration": str(calibration)}))
    run_cli("enrich", "--config", str(config), "--db", str(db_path), "--no-progress")
    return db_path, config, calibration


def verdicts(db_path) -> dict[str, dict]:
    db = open_db(db_path)
    try:
        return {r["source"]: r for r in db.query(
            "select id, source, related, relevance, relevance_reason, judged_on from articles")}
    finally:
        db.close()


def test_german_article_with_german_vocabulary_is_related(judged):
    row = verdicts(judged[0])["de-related"]
    assert row["related"] == 1, row
    assert "the headline names it (gesichtserkennung)" in row["relevance_reason"]


def test_vendor_tutorial_is_not_related(judged):
    row = verdicts(judged[0])["tutorial"]
    assert row["related"] == 0, row
    assert "off-topic cues" in row["relevance_reason"]


def test_headline_only_stub_is_related_and_marked(judged):
    row = verdicts(judged[0])["stub"]
    assert row["related"] == 1, row
    assert row["judged_on"] == "headline"
    assert "judged on the headline and teaser only" in row["relevance_reason"]


def test_paraphrase_without_the_keywords_is_related(judged):
    row = verdicts(judged[0])["en-related"]
    assert row["related"] == 1, row


def test_label_then_calibrate_changes_that_verdict_and_no_other(judged, tmp_path):
    db_path, config, calibration = judged
    work = tmp_path / "f.db"
    shutil.copyfile(db_path, work)
    before = verdicts(work)
    target = before["en-related"]
    out = run_cli("label", ARTICLES["en-related"]["url"], "unrelated", "--note", "test",
                  "--config", str(config), "--db", str(work)).stdout
    assert out.startswith(f"Labelled {target['id']} unrelated")
    assert verdicts(work)["en-related"]["related"] == 0  # at once, before any enrich
    proc = run_cli("calibrate", "--config", str(config), "--db", str(work))
    assert "before (fitted without your labels)" in proc.stdout
    assert f"wrote {calibration}" in proc.stdout
    run_cli("enrich", "--config", str(config), "--db", str(work), "--no-progress")
    after = verdicts(work)
    assert after["en-related"]["related"] == 0
    assert after["en-related"]["relevance_reason"].startswith("labelled unrelated by a user")
    changed = {k for k in before if before[k]["related"] != after[k]["related"]}
    assert changed == {"en-related"}


def test_a_worse_calibration_is_refused(judged, tmp_path):
    db_path, config, calibration = judged
    work = tmp_path / "f.db"
    shutil.copyfile(db_path, work)
    original = calibration.read_text()
    # Teach it the opposite of the definition: a stack of clearly related articles
    # labelled unrelated makes the cross-validated refit worse.
    db = open_db(work)
    rows = []
    for n, line in enumerate((SEEDS_DIR / "labelled" / "en-law.jsonl").read_text()
                             .splitlines()[:40]):
        item = json.loads(line)
        rows.append({"id": f"wrong-{n}", "url": item["url"], "canonical_url": item["url"],
                     "title": item["title"], "text": item["text"], "language": "en",
                     "first_seen": utcnow()})
    db.table("articles").insert_all(rows, pk="id")
    db.table("labels").insert_all([{"article_id": r["id"], "verdict": "unrelated",
                                    "labelled_at": utcnow()} for r in rows])
    db.close()
    proc = run_cli("calibrate", "--config", str(config), "--db", str(work), check=False)
    assert proc.returncode == 1
    assert "not written" in proc.stdout
    assert proc.stderr.strip().splitlines()[-1].startswith("frwatch: error: calibration not")
    assert calibration.read_text() == original


@pytest.mark.parametrize("args, message", [
    (["no-such-article", "related"], "no-such-article: no such article"),
    (["ARTICLE", "maybe"], "'maybe': the verdict is `related` or `unrelated`"),
])
def test_bad_label_input_is_one_line(judged, args, message):
    db_path, config, _ = judged
    args = [verdicts(db_path)["tutorial"]["id"] if a == "ARTICLE" else a for a in args]
    proc = run_cli("label", *args, "--config", str(config), "--db", str(db_path), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(f"frwatch: error: {message}")
    assert len(proc.stderr.strip().splitlines()) == 1
