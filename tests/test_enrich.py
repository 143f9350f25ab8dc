"""Enrichment with the real model on real SQLite files built by real crawls."""

from __future__ import annotations

import re

from benchmarks.enrich import evaluate
from enrich.model import Embedder, ModelSpec
from enrich.run import enrich_store
from frwatch.config import load_config
from frwatch.db import open_db
from frwatch.localweb import LocalWeb
from tests.support.crawl import run_cli
from tests.support.paths import DEMO_WEB


def enrich(config, db, *extra):
    proc = run_cli("enrich", "--config", str(config), "--db", str(db), "--no-progress", *extra)
    line = proc.stdout.strip().splitlines()[-1]
    return line, {key: int(value) for value, key in re.findall(
        r"(\d+) (articles in|related|reprints|clustered|new clusters|skipped|rescored)", line)}


def rows(db_path, sql, params=()):
    db = open_db(db_path)
    try:
        return list(db.query(sql, list(params)))
    finally:
        db.close()


def test_quality_on_the_labelled_set(enriched):
    db, config, labels = enriched  # the labelled store after one `frwatch enrich`
    m = evaluate(db, labels, load_config(config))
    precision, recall, _ = m["relevance"]
    assert precision >= 0.95 and recall >= 0.95, m
    assert m["hard_negatives_wrong"] < m["baseline_hard_negatives_wrong"], m
    reprint_precision, reprint_recall, links, copies = m["reprints"]
    assert (reprint_precision, reprint_recall) == (1.0, 1.0), m
    assert m["clusters"][2] >= 0.9, m
    assert m["seed_cluster_holds_moratorium"], m


def test_second_run_does_no_work(enriched):
    db, config, labels = enriched
    done = rows(db, "select count(*) as n from articles where enriched_at is not null")
    assert done[0]["n"] == len(labels)
    again, counts = enrich(config, db)
    assert again.startswith("Enriched 0 articles")
    assert counts["rescored"] == 0 and counts["clustered"] == 0


def test_every_related_article_has_a_reason_and_a_cluster(enriched):
    db, config, _ = enriched
    related = rows(db, "select relevance, relevance_reason, cluster_id from articles "
                       "where related = 1")
    assert related
    for row in related:
        assert row["cluster_id"] is not None
        # The verdict, then the evidence that weighed most: "related (0.97): for: …".
        assert re.match(r"related \(\d\.\d\d\)[^:]*: for: \S", row["relevance_reason"]), row
    clusters = rows(db, "select * from clusters")
    assert all(c["label"] and c["size"] >= 1 and c["first_seen"] <= c["last_seen"]
               for c in clusters)
    assert sum(c["size"] for c in clusters) == len(related)
    assert len([c for c in clusters if c["seed_id"]]) == 1


def test_cluster_ids_never_change_and_new_articles_join(store, tmp_path):
    db, config, _ = store
    # Enrich half the store first: hide the labelled articles, then bring them back.
    hidden = rows(db, "select * from articles where discovered_via = 'labelled'")
    conn = open_db(db)
    conn.execute("delete from articles where discovered_via = 'labelled'")
    conn.close()
    enrich(config, db)
    before = {r["id"]: r["cluster_id"] for r in rows(db, "select id, cluster_id from articles "
                                                          "where cluster_id is not null")}
    conn = open_db(db)
    conn.table("articles").insert_all(hidden, pk="id")
    conn.close()
    _, counts = enrich(config, db)
    assert counts["articles in"] == len(hidden)
    after = {r["id"]: r["cluster_id"] for r in rows(db, "select id, cluster_id from articles "
                                                         "where cluster_id is not null")}
    assert {k: after[k] for k in before} == before
    assert set(before.values()) & {after[r["id"]] for r in hidden if after.get(r["id"])}


def test_an_article_without_text_is_skipped_with_a_reason(enriched):
    db, config, _ = enriched
    conn = open_db(db)
    conn.table("articles").insert({"id": "empty0000000000", "url": "https://x.test/empty",
                                   "canonical_url": "https://x.test/empty", "title": "Empty",
                                   "text": "", "first_seen": "2020-06-10T00:00:00+00:00"})
    conn.close()
    _, counts = enrich(config, db)
    assert counts["skipped"] == 1
    row = rows(db, "select * from articles where id = 'empty0000000000'")[0]
    assert row["enrich_note"].startswith("skipped: no article text")
    assert row["related"] == 0 and row["enriched_at"]


def test_adding_a_seed_rescores(enriched, tmp_path):
    db, config, _ = enriched
    boston = "select relevance from articles where title like '%Boston%' and related = 1"
    before = [r["relevance"] for r in rows(db, boston)]
    seed = tmp_path / "boston.md"
    seed.write_text(
        "---\nheadline: Boston bans government use of face surveillance\noutlet: Test\n"
        "published: 2020-06-24\n---\n"
        "Boston's city council voted unanimously on Wednesday to ban city agencies, the "
        "police department among them, from using face surveillance technology, making "
        "Boston the second-largest US city after San Francisco to do so. Councillors "
        "Michelle Wu and Ricardo Arroyo sponsored the ordinance, which the ACLU of "
        "Massachusetts campaigned for; the police commissioner said the department did "
        "not use the technology because it was unreliable.\n", encoding="utf-8")
    added = run_cli("seeds", "add", str(seed), "--config", str(config), "--db", str(db))
    assert "Boston bans government use of face surveillance" in added.stdout
    _, counts = enrich(config, db)
    assert counts["rescored"] > 0
    after = [r["relevance"] for r in rows(db, boston)]
    assert len(after) >= len(before) and min(after) > min(before)
    reasons = rows(db, "select relevance_reason from articles where title like '%Boston%' "
                       "and related = 1")
    assert any("Boston bans government use" in r["relevance_reason"] for r in reasons)


def test_seed_from_a_url(store, tmp_path):
    db, config, _ = store
    page = (DEMO_WEB / "civicwire").rglob("*.html")
    story = next(p for p in page if "boston" in p.name)
    with LocalWeb({"civicwire": DEMO_WEB / "civicwire"}) as web:
        url = web.url("civicwire", "/" + str(story.relative_to(DEMO_WEB / "civicwire")))
        proc = run_cli("seeds", "add", url, "--config", str(config), "--db", str(db))
    assert "Seed " in proc.stdout and "Boston" in proc.stdout
    listed = run_cli("seeds", "list", "--config", str(config), "--db", str(db)).stdout
    assert len(listed.strip().splitlines()) == 2


def test_a_model_change_re_embeds(enriched, tmp_path):
    db, config, labels = enriched
    other = tmp_path / "other.yaml"
    other.write_text(config.read_text().replace("enrich:", "enrich:\n  max_tokens: 64"))
    _, counts = enrich(other, db)
    assert counts["articles in"] == len(labels)
    models = {r["model"] for r in rows(db, "select distinct model from embeddings")}
    assert len(models) == 2




def test_runs_with_nothing_to_embed_never_load_the_model(enriched):
    """A cron run with nothing new, and the rescoring after a label, read stored vectors
    only (the model costs seconds to load); a new description item is embedded once."""
    db_path, config_path, _ = enriched
    config = load_config(config_path)
    unrelated = rows(db_path, "select id from articles where related = 0 "
                              "and enrich_note is null order by id limit 1")[0]["id"]
    run_cli("label", unrelated, "related", "--config", str(config_path), "--db", str(db_path))
    db = open_db(db_path)
    try:
        embedder = Embedder(ModelSpec.of(config.enrich))  # not this process's shared one
        summary = enrich_store(db, config, embedder=embedder)
        assert summary.rescored > 0 and summary.embedded == 0
        assert not embedder.loaded
        assert db.execute("select related from articles where id = ?",
                          [unrelated]).fetchone()[0] == 1
        wider = config.model_copy(update={"topic": config.topic.model_copy(update={
            "description": config.topic.description
            + "\nRelated: city councils voting on police drones"})})
        enrich_store(db, wider, embedder=embedder)
        assert embedder.loaded  # the new item had no stored vector
        again = Embedder(ModelSpec.of(config.enrich))
        assert enrich_store(db, wider, embedder=again).rescored == 0
        assert not again.loaded
    finally:
        db.close()
