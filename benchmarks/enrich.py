"""Enrichment quality on the labelled set, and its speed.

    python -m benchmarks.enrich                 # evaluate the shipped calibration
    python -m benchmarks.enrich --calibrate     # fit it again, write seeds/calibration.json
    python -m benchmarks.enrich --variants      # compare model/representation variants

Quality: relevance precision/recall (and against a keyword-only baseline), reprint
precision/recall, B-cubed precision/recall/F1 of story clusters over related articles.
Speed: articles per second of `frwatch enrich` on a store of the labelled set plus the
181 Zyte benchmark pages, and the peak RSS of that process.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from datetime import date
from pathlib import Path
from typing import NamedTuple

import numpy as np

from benchmarks import watch
from benchmarks.labelled import REPO, Label, build_store, copy_store
from enrich.calibrate import L2, Scores, held_out, scores
from enrich.calibration import Calibration
from enrich.clusters import ClusterRule, StoryClusterer, ignored_names, names
from enrich.model import ModelSpec, from_blob, load_embedder
from enrich.relevance import TermList, fit
from enrich.reprints import ReprintRule
from enrich.run import detect_language, enrich_store, judging
from enrich.steps.embed import Embedding
from enrich.steps.relevance import Relevance
from enrich.store import EnrichStore
from frwatch.config import load_config, relocate
from frwatch.db import open_db
from frwatch.paths import DEMO_CONFIG, SEEDS_DIR

CALIBRATION = SEEDS_DIR / "calibration.json"


# --- metrics --------------------------------------------------------------------------
# The plain keyword filter that relevance has to beat (issue 9's baseline).
BASELINE_KEYWORDS = ["facial recognition", "face recognition", "Rekognition", "Clearview",
                     "face surveillance"]


class ReprintFigures(NamedTuple):
    precision: float
    recall: float
    links: int
    copies: int


def bcubed(gold: Mapping[str, Hashable], predicted: Mapping[str, Hashable]) -> Scores:
    """B-cubed precision, recall, F1 of `predicted` cluster keys against `gold` ones."""
    by_gold, by_pred = defaultdict(set), defaultdict(set)
    for item, key in gold.items():
        by_gold[key].add(item)
        by_pred[predicted[item]].add(item)
    p = sum(len(by_pred[predicted[i]] & by_gold[gold[i]]) / len(by_pred[predicted[i]])
            for i in gold) / len(gold)
    r = sum(len(by_pred[predicted[i]] & by_gold[gold[i]]) / len(by_gold[gold[i]])
            for i in gold) / len(gold)
    return Scores(p, r, 2 * p * r / (p + r))


def labelled_features(db_path: Path, labels: dict[str, Label], config) -> tuple[
        list[str], list[dict[str, float]]]:
    """Features of every labelled article in an enriched store, as `frwatch enrich`
    computes them (topic and seeds only, no user labels)."""
    db = open_db(db_path)
    embedding, relevance = judging(db, config, Calibration())
    vectors = embedding.vectors
    rows = [r for r in embedding.store.all_articles() if r["id"] in labels and r["id"] in vectors]
    out = [relevance.evidence(r, vectors.of(r["id"])).features() for r in rows]
    db.close()
    return [r["id"] for r in rows], out


def held_out_figures(ids: list[str], features: list[dict[str, float]],
                     labels: dict[str, Label], threshold: float = 0.5) -> dict:
    """Leave-one-kind-out and leave-one-language-out figures."""
    truth = [labels[i].related for i in ids]
    by_kind = held_out(features, truth, [labels[i].kind for i in ids])
    guess = [p >= threshold for p in by_kind]
    out: dict = {"overall": scores(truth, guess), "kinds": {}, "languages": {}}
    for kind in sorted({labels[i].kind for i in ids}):
        members = [n for n, i in enumerate(ids) if labels[i].kind == kind]
        hits = sum(1 for n in members if guess[n])
        out["kinds"][kind] = (hits, len(members), labels[ids[members[0]]].related)
    hard = [n for n, i in enumerate(ids) if labels[i].hard]
    out["hard_fp"] = (sum(1 for n in hard if guess[n]), len(hard))
    by_language = held_out(features, truth, [labels[i].language for i in ids])
    for lang in sorted({labels[i].language for i in ids} - {"en"}):
        members = [n for n, i in enumerate(ids) if labels[i].language == lang]
        rel = [n for n in members if truth[n]]
        neg = [n for n in members if not truth[n]]
        out["languages"][lang] = (sum(1 for n in rel if by_language[n] >= threshold), len(rel),
                                  sum(1 for n in neg if by_language[n] >= threshold), len(neg))
    foreign = [n for n, i in enumerate(ids) if labels[i].language != "en" and truth[n]]
    out["foreign_recall"] = (sum(1 for n in foreign if by_language[n] >= threshold),
                             len(foreign))
    return out


def evaluate(db_path: Path, labels: dict[str, Label], config) -> dict:
    db = open_db(db_path)
    rows = {r["id"]: r for r in db.query(
        "select id, title, text, related, cluster_id, duplicate_of from articles")}
    seed_cluster = db.execute("select id from clusters where seed_id is not null").fetchone()
    db.close()
    items = [i for i in labels if i in rows]
    truth = [labels[i].related for i in items]
    out: dict = {"articles": len(items)}
    out["relevance"] = scores(truth, [bool(rows[i]["related"]) for i in items])
    out["hard_negatives_wrong"] = sum(1 for i in items if labels[i].hard and rows[i]["related"])
    out["hard_negatives"] = sum(1 for i in items if labels[i].hard)
    baseline = TermList(BASELINE_KEYWORDS)
    guess = [bool(baseline.count(f"{rows[i]['title']}\n{rows[i]['text']}")) for i in items]
    out["baseline"] = scores(truth, guess)
    out["baseline_hard_negatives_wrong"] = sum(
        1 for i, g in zip(items, guess, strict=True) if labels[i].hard and g)

    # Reprints: a link is right when both ends are copies of the same original.
    def group(i: str) -> str:
        return labels[i].reprint_of or i
    links = [(i, rows[i]["duplicate_of"]) for i in items if rows[i]["duplicate_of"]]
    right = sum(1 for a, b in links if b in labels and group(a) == group(b))
    copies = [i for i in items if labels[i].reprint_of]
    found = sum(1 for i in copies if rows[i]["duplicate_of"] in labels
                and group(rows[i]["duplicate_of"]) == group(i))
    out["reprints"] = ReprintFigures(right / len(links) if links else 1.0,
                                     found / len(copies) if copies else 1.0, len(links),
                                     len(copies))
    # Clusters: over the related articles that were judged related; a story in another
    # language is its own gold story (the shipped model does not read across languages).
    gold = {i: f"{labels[i].story}/{labels[i].language}" for i in items
            if labels[i].related and rows[i]["related"]}
    predicted = {i: rows[i]["cluster_id"] or f"alone-{i}" for i in gold}
    out["clusters"] = bcubed(gold, predicted)
    english = {i: k for i, k in gold.items() if labels[i].language == "en"}
    out["clusters_en"] = bcubed(english, predicted)
    real_seed = [i for i in items if labels[i].related and labels[i].story == "amazon-moratorium"]
    out["seed_cluster_holds_moratorium"] = bool(seed_cluster) and all(
        rows[i]["cluster_id"] == seed_cluster[0] for i in real_seed)
    ids, features = labelled_features(db_path, labels, config)
    out["held_out"] = held_out_figures(ids, features, labels)
    return out


def report(name: str, m: dict) -> str:
    rel, base, rep, clu = m["relevance"], m["baseline"], m["reprints"], m["clusters"]
    h = m["held_out"]
    out = h["overall"]
    lines = [
        f"{name} on {m['articles']} labelled articles",
        f"  held out (leave-one-kind-out): P {out.precision:.3f} R {out.recall:.3f} "
        f"F1 {out.f1:.3f}; hard negatives "
        f"wrong {h['hard_fp'][0]}/{h['hard_fp'][1]} "
        f"({h['hard_fp'][0] / max(1, h['hard_fp'][1]):.1%})",
        f"  non-English recall (leave-one-language-out): {h['foreign_recall'][0]}/"
        f"{h['foreign_recall'][1]} = {h['foreign_recall'][0] / max(1, h['foreign_recall'][1]):.3f}",
        f"  keyword baseline: P {base.precision:.3f} R {base.recall:.3f} F1 {base.f1:.3f} "
        f"(hard negatives wrong {m['baseline_hard_negatives_wrong']}/{m['hard_negatives']}); "
        f"held-out F1 − baseline F1 = {out.f1 - base.f1:+.3f}",
        f"  in-sample, shipped calibration through `frwatch enrich`: P {rel.precision:.3f} "
        f"R {rel.recall:.3f} F1 {rel.f1:.3f} (hard negatives wrong "
        f"{m['hard_negatives_wrong']}/{m['hard_negatives']})",
        f"  reprints P {rep.precision:.3f} R {rep.recall:.3f} ({rep.links} links, "
        f"{rep.copies} copies); clusters B-cubed P {clu.precision:.3f} R {clu.recall:.3f} "
        f"F1 {clu.f1:.3f} (English only F1 {m['clusters_en'].f1:.3f}); "
        f"seed cluster right: {m['seed_cluster_holds_moratorium']}",
        "  held out, per kind (related: found/all; others: wrongly related/all):"]
    for kind, (hits, total, related) in h["kinds"].items():
        lines.append(f"    {kind:<20} {'recall' if related else 'false pos'} "
                     f"{hits}/{total} = {hits / total:.2f}")
    lines.append("  held out, per language (related found/all, unrelated wrong/all):")
    for lang, (hit, rel, wrong, neg) in h["languages"].items():
        lines.append(f"    {lang}  {hit}/{rel}  {wrong}/{neg}")
    return "\n".join(lines)


def step_costs(db_path: Path, config) -> str:
    """Milliseconds per article of the steps relevance adds beside the embedding."""
    db = open_db(db_path)
    spec = ModelSpec.of(config.enrich)
    embedder = load_embedder(spec)
    store = EnrichStore(db, spec.key)
    embedding = Embedding(store, embedder, config.enrich)
    seeds = embedding.seeds()
    vectors = embedding.vectors
    started = time.perf_counter()
    relevance = Relevance(store, embedding, config, Calibration(), seeds)
    prototypes = time.perf_counter() - started
    rows = [r for r in store.all_articles() if r["id"] in vectors]
    db.close()
    started = time.perf_counter()
    for r in rows:
        detect_language(r["title"], r["text"])
    language = (time.perf_counter() - started) / len(rows)
    started = time.perf_counter()
    for r in rows:
        relevance.evidence(r, vectors.of(r["id"]))
    evidence = (time.perf_counter() - started) / len(rows)
    return (f"  added steps: language detection {language * 1000:.2f} ms/article, evidence "
            f"(vocabulary in 10 languages + prototypes) {evidence * 1000:.2f} ms/article, "
            f"embedding the description's items {prototypes * 1000:.0f} ms once per run")


# --- calibration ----------------------------------------------------------------------
def fit_clusters(rows: list[dict], vectors: np.ndarray, labels: dict[str, Label],
                 ignore: set[str]) -> tuple[ClusterRule, str]:
    related = [(r, v) for r, v in zip(rows, vectors, strict=True) if labels[r["id"]].related
               and not labels[r["id"]].reprint_of]
    related.sort(key=lambda rv: ((rv[0]["published"] or rv[0]["first_seen"])[:10], rv[0]["id"]))
    counts = [names(f"{r['title']}\n{r['text']}", ignore) for r, _ in related]
    gold = {r["id"]: labels[r["id"]].story for r, _ in related}
    best = None
    for weight in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        for threshold in np.arange(0.25, 0.75, 0.025):
            for window in (7, 14, 30):
                rule = ClusterRule(embedding_weight=round(weight, 2),
                                   threshold=round(float(threshold), 3), window_days=window)
                clusterer = StoryClusterer(rule, [], Counter(), 0)
                predicted = {}
                for (row, vector), c in zip(related, counts, strict=True):
                    day = date.fromisoformat((row["published"] or row["first_seen"])[:10])
                    predicted[row["id"]] = clusterer.assign(vector, c, day)
                f1 = bcubed(gold, predicted).f1
                key = (round(f1, 4), -abs(weight - 0.5), window == 14)
                if best is None or key > best[0]:
                    best = (key, rule, f1)
    # The threshold chosen is the middle of the best-scoring run of thresholds, not its edge.
    assert best is not None   # the grid above is never empty
    _, rule, f1 = best
    return rule, f"clusters in-sample B-cubed F1 {f1:.3f} at {rule}"


def calibrate(base: Path, labels: dict[str, Label], spec: ModelSpec) -> Calibration:
    """Fit relevance on every labelled article and the cluster rule on the related ones,
    from a store enriched once (any calibration: vectors do not depend on it)."""
    config = spec_config(spec)
    work = base.parent / "calibrate.db"
    enrich_copy(base, work, spec, Calibration())
    ids, features = labelled_features(work, labels, config)
    truth = [labels[i].related for i in ids]
    relevance = fit(features, truth, l2=L2)
    h = held_out_figures(ids, features, labels)
    db = open_db(work)
    rows = {r["id"]: r for r in db.query("select id, title, text, published, first_seen "
                                         "from articles")}
    vectors = {r["article_id"]: from_blob(r["vector"]) for r in db.query(
        "select article_id, vector from embeddings")}
    db.close()
    ordered = [rows[i] for i in ids]
    ignore = ignored_names(config.topic.keywords)
    clusters, in_sample = fit_clusters(ordered, np.stack([vectors[i] for i in ids]), labels,
                                       ignore)
    overall = h["overall"]
    note = (f"fitted by benchmarks/enrich.py on {len(ids)} labelled articles with "
            f"{spec.key}; relevance leave-one-kind-out P {overall.precision:.3f} "
            f"R {overall.recall:.3f}; {in_sample}")
    return Calibration(relevance=relevance, reprints=ReprintRule(), clusters=clusters, note=note)


def spec_config(spec: ModelSpec):
    config = load_config(DEMO_CONFIG)
    return config.model_copy(update={"enrich": config.enrich.model_copy(update={
        "max_tokens": spec.max_tokens, "quantize": spec.quantize})})


# --- runs -----------------------------------------------------------------------------
def enrich_copy(base: Path, target: Path, spec: ModelSpec, calibration: Calibration) -> float:
    copy_store(base, target)
    config = spec_config(spec)
    db = open_db(target)
    summary = enrich_store(db, config, calibration=calibration)
    db.close()
    return summary.embedded / summary.seconds if summary.seconds else math.nan


def speed(base: Path, workdir: Path, spec: ModelSpec, calibration: Calibration) -> dict:
    """`frwatch enrich` in its own process on the labelled set plus the Zyte pages."""

    from benchmarks.zyte import ZYTE_CONFIG, zyte_site
    from frwatch.localweb import LocalWeb

    big = workdir / "speed.db"
    copy_store(base, big)
    with LocalWeb({"zyte": zyte_site()}) as web:
        config = workdir / "zyte.yaml"
        config.write_text(web.rewrite(ZYTE_CONFIG), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "frwatch.cli", "crawl", "--config", str(config),
                        "--db", str(big)], check=True, capture_output=True, cwd=REPO)
    calibration_file = workdir / "calibration.json"
    calibration_file.write_text(calibration.to_json(), encoding="utf-8")
    enrich_config = workdir / "enrich.yaml"
    enrich_config.write_text(relocate(
        DEMO_CONFIG.read_text(encoding="utf-8"), DEMO_CONFIG.parent,
        enrich={"max_tokens": spec.max_tokens, "quantize": spec.quantize,
                "calibration": str(calibration_file)}), encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "frwatch.cli", "enrich", "--config",
                             str(enrich_config), "--db", str(big), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO)
    peak, _cpu = watch(proc, interval=0.05)
    wall = time.perf_counter() - started
    line = proc.communicate()[0].decode().strip()
    db = open_db(big)
    count = db.execute("select count(*) from articles where enriched_at is not null").fetchone()[0]
    db.close()
    return {"line": line, "articles": count, "wall": wall, "peak_mb": peak / 2**20}


VARIANTS = [
    ModelSpec(max_tokens=256, quantize=False),
    ModelSpec(max_tokens=128, quantize=False),
    ModelSpec(max_tokens=256, quantize=True),
    ModelSpec(max_tokens=128, quantize=True),
    ModelSpec(max_tokens=64, quantize=True),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true",
                        help=f"fit the calibration again and write {CALIBRATION.name}")
    parser.add_argument("--variants", action="store_true",
                        help="fit and evaluate every model/representation variant")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    config = load_config(DEMO_CONFIG)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = work / "labelled.db"
        labels = build_store(base)
        related = sum(1 for label in labels.values() if label.related)
        print(f"labelled set: {len(labels)} articles, {related} related in "
              f"{len({label.story for label in labels.values() if label.related})} stories, "
              f"{sum(1 for label in labels.values() if label.hard)} hard negatives, "
              f"{sum(1 for label in labels.values() if label.reprint_of)} reprints")
        specs = VARIANTS if args.variants else [ModelSpec(
            max_tokens=config.enrich.max_tokens, quantize=config.enrich.quantize)]
        for spec in specs:
            if args.calibrate or args.variants:
                calibration = calibrate(base, labels, spec)
                print(calibration.note)
            else:
                from enrich.calibration import load_calibration
                calibration = load_calibration(CALIBRATION)
            rate = enrich_copy(base, work / "eval.db", spec, calibration)
            print(report(spec.key, evaluate(work / "eval.db", labels, spec_config(spec))))
            print(step_costs(work / "eval.db", spec_config(spec)))
            if not args.no_speed:
                s = speed(base, work, spec, calibration)
                print(f"  speed: {s['line']}  [{s['articles']} articles; process "
                      f"{s['wall']:.1f} s with model load; peak RSS {s['peak_mb']:.0f} MiB]")
            else:
                print(f"  labelled-set enrich rate {rate:.1f} articles/s")
            if args.calibrate and spec == specs[0]:
                CALIBRATION.write_text(calibration.to_json(), encoding="utf-8")
                print(f"wrote {CALIBRATION}")


if __name__ == "__main__":
    main()


