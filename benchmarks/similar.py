""""More like this" on a 100k-article store, through Datasette.

The store is the enriched labelled store (demo web crawl + labelled articles), its
articles copied under new ids and URLs until there are `--articles` of them, each copy's
embedding the original's plus a little noise, re-normalised. Timed: the `more_like_this`
stored query through Datasette's in-process client (JSON), the same SQL on a connection
prepared by the plugin, and for comparison a plain full scan with `frwatch_similarity`.

    python -m benchmarks.similar [--articles 100000] [--runs 20] [--db /tmp/similar.db]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from benchmarks import run_frwatch
from benchmarks.labelled import build_store
from frwatch.config import relocate
from frwatch.db import article_id, open_db
from frwatch.errors import FrwatchError
from frwatch.paths import BROWSE_DIR, DEMO_CONFIG
from frwatch.serve import datasette_app

NOISE = 0.01  # per dimension; a copy's cosine to its original is about 0.98

FULL_SCAN = """
select a.id, frwatch_similarity(e.vector, t.vector) as similarity
from embeddings e join articles a on a.id = e.article_id
join (select model, vector from embeddings where article_id = :article_id
      order by rowid desc limit 1) t on t.model = e.model
where e.article_id != :article_id
order by similarity desc limit 20
"""


def enriched_store(path: Path) -> Path:
    """Build and enrich the labelled store at `path`; return the config used."""
    build_store(path)
    config = path.parent / "sources.yaml"
    config.write_text(relocate(DEMO_CONFIG.read_text(encoding="utf-8"), DEMO_CONFIG.parent),
                      encoding="utf-8")
    run_frwatch("enrich", "--config", str(config), "--db", str(path), "--no-progress")
    return config


def grow(path: Path, articles: int, seed: int = 0) -> None:
    """Copy the store's embedded articles under new ids until it holds `articles`."""
    rng = np.random.default_rng(seed)
    db = open_db(path)
    originals = list(db.query(
        "select a.*, e.model, e.vector from articles a join embeddings e on e.article_id = a.id"))
    have = db.execute("select count(*) from articles").fetchone()[0]
    copy = 0
    rows: list[dict] = []
    vectors: list[dict] = []
    while have + len(rows) < articles:
        copy += 1
        for row in originals[: articles - have - len(rows)]:
            url = f"{row['canonical_url']}?copy={copy}"
            new = {k: v for k, v in row.items() if k not in ("model", "vector")}
            new.update(id=article_id(url), url=url, canonical_url=url, duplicate_of=None)
            vector = np.frombuffer(row["vector"], dtype=np.float32)
            vector = vector + rng.normal(0, NOISE, vector.shape).astype(np.float32)
            vectors.append({"article_id": new["id"], "model": row["model"],
                            "vector": (vector / np.linalg.norm(vector)).tobytes()})
            rows.append(new)
        if len(rows) >= 5000 or have + len(rows) >= articles:
            with db.atomic():
                db.table("articles").insert_all(rows, pk="id")
                db.table("embeddings").insert_all(vectors, pk=("article_id", "model"))
            have += len(rows)
            rows, vectors = [], []
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()


def summary(name: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{name}: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms ({len(ms)} runs)"


async def through_datasette(path: Path, targets: list[str]) -> tuple[float, list[float]]:
    ds = datasette_app(path)
    url = "/frwatch/more_like_this.json?_shape=array&article_id="
    started = time.perf_counter()
    response = await ds.client.get(url + targets[0])
    cold = time.perf_counter() - started
    assert response.status_code == 200 and len(response.json()) == 20, response.text[:500]
    times = []
    for target in targets[1:]:
        started = time.perf_counter()
        response = await ds.client.get(url + target)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200 and len(response.json()) == 20, response.text[:500]
    return cold, times


def direct_sql(path: Path, sql: str, targets: list[str]) -> list[float]:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "frwatch_plugin_bench", BROWSE_DIR / "plugins" / "frwatch_plugin.py")
    if spec is None or spec.loader is None:
        raise FrwatchError(f"{BROWSE_DIR / 'plugins'}: frwatch_plugin.py cannot be loaded")
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.create_function("frwatch_similarity", 2, plugin.similarity, deterministic=True)
    conn.create_function("frwatch_nearest", 2,
                         lambda a, k: plugin.nearest(conn, str(path), a, int(k)))
    conn.execute(sql, {"article_id": targets[0]}).fetchall()  # loads the vectors
    times = []
    for target in targets[1:]:
        started = time.perf_counter()
        rows = conn.execute(sql, {"article_id": target}).fetchall()
        times.append(time.perf_counter() - started)
        assert len(rows) == 20
    conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", type=Path, help="keep the generated store here (reused if "
                        "it exists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "similar.db"
        if not path.exists():
            started = time.perf_counter()
            enriched_store(path)
            grow(path, args.articles)
            print(f"built {path} in {time.perf_counter() - started:.0f} s")
        conn = sqlite3.connect(path)
        count, embedded = conn.execute("select (select count(*) from articles), "
                                       "(select count(*) from embeddings)").fetchone()
        ids = [r[0] for r in conn.execute("select article_id from embeddings")]
        conn.close()
        print(f"{count} articles, {embedded} embeddings, "
              f"{path.stat().st_size / 2**20:.0f} MiB")
        targets = random.Random(1).sample(ids, args.runs + 1)
        cold, warm = asyncio.run(through_datasette(path, targets))
        print(f"Datasette more_like_this, first query (loads the vectors): {cold * 1000:.0f} ms")
        print(summary("Datasette more_like_this (JSON, in-process client)", warm))
        metadata = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))
        sql = metadata["databases"]["frwatch"]["queries"]["more_like_this"]["sql"]
        print(summary("same SQL, direct sqlite3", direct_sql(path, sql, targets)))
        print(summary("full scan with frwatch_similarity only",
                      direct_sql(path, FULL_SCAN, targets[:6])))


if __name__ == "__main__":
    main()
