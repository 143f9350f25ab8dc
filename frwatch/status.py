"""`frwatch status`: what is stored, what the last run did, what failed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from frwatch.db import open_db

if TYPE_CHECKING:
    from sqlite_utils import Database

    from frwatch.config import Config


def render_status(db_path: Path, failures: int = 10, config: Config | None = None) -> str:
    """The one-screen summary. `config` names the sources to list; when not given it is
    the config of the `frwatch` command being run (its --config), else the one the
    latest crawl used, when that file is still there."""
    db = open_db(db_path)
    try:
        lines = [f"Database: {db_path}"]
        state = {r["key"]: r["value"] for r in db.query(
            "select key, value from enrich_state where key in ('topic_name', 'calibration')")}
        if state.get("topic_name"):
            lines.append(f"Topic: {state['topic_name']}")
        if state.get("calibration"):
            lines.append(f"Calibration: {state['calibration']}")
        total = db.execute("select count(*) from articles").fetchone()[0]
        lines.append(f"Articles: {total}")
        rows = list(db.query(
            "select source, count(*) as n, max(published) as latest, max(first_seen) as seen "
            "from articles group by source order by n desc"))
        if rows:
            width = max(len(r["source"] or "") for r in rows)
            lines.append(f"  {'source':<{width}}  articles  latest published      last new")
            for r in rows:
                lines.append(f"  {r['source'] or '':<{width}}  {r['n']:>8}  "
                             f"{(r['latest'] or '-')[:19]:<20}  {(r['seen'] or '-')[:19]}")
        enriched = db.execute(
            "select count(enriched_at), sum(related), count(distinct cluster_id), "
            "count(duplicate_of) from articles").fetchone()
        lines.append(f"Enriched: {enriched[0]} of {total}; {enriched[1] or 0} related in "
                     f"{enriched[2]} story clusters; {enriched[3]} reprints linked")
        top = list(db.query("select label, size, first_seen, last_seen, seed_id from clusters "
                            "order by last_seen desc, size desc limit 8"))
        if top:
            lines.append("Latest story clusters:")
            for c in top:
                seed = "  [seed story]" if c["seed_id"] else ""
                lines.append(f"  {c['first_seen']}..{c['last_seen']}  {c['size']:>3}  "
                             f"{(c['label'] or '')[:80]}{seed}")
        alerts = list(db.query("select channel, status, count(*) as n from alerts "
                               "group by channel, status order by channel, status"))
        if alerts:
            lines.append("Alerts: " + "; ".join(f"{a['channel']} {a['status']} {a['n']}"
                                                for a in alerts))
        run = next(db.query("select * from crawl_runs order by id desc limit 1"), None)
        if run:
            lines.append(
                f"Last crawl: #{run['id']} {run['status']}, started {run['started']}, "
                f"finished {run['finished'] or '-'}: {run['articles_new'] or 0} new, "
                f"{run['articles_updated'] or 0} updated, {run['skipped_known'] or 0} skipped "
                f"as already stored, {run['skipped_old'] or 0} as too old, "
                f"{run['feeds_not_modified'] or 0} feeds not modified, "
                f"{run['failures'] or 0} failures")
        else:
            lines.append("Last crawl: none yet")
        lines.extend(_sources_section(db, config or _current_config(db)))
        lines.extend(_health_section(db))
        skipped = list(db.query(  # by the reason's kind: the text before its details
            "select substr(reason, 1, instr(reason || ' (', ' (') - 1) as reason, "
            "count(*) as n from skipped group by 1 order by n desc limit 6"))
        if skipped:
            total = db.execute("select count(*) from skipped").fetchone()[0]
            lines.append(f"Listed but not fetched or not stored: {total} (the `skipped` "
                         "table has each URL):")
            for row in skipped:
                lines.append(f"  {row['n']:>6}  {shorten(row['reason'], 100)}")
        recent = list(db.query(
            "select url, kind, reason, source, at from failures order by id desc limit ?",
            [failures]))
        if recent:
            lines.append(f"Recent failures (latest {len(recent)}):")
            for f in recent:
                # The whole reason (a long one last, never cut mid-word).
                lines.append(f"  {f['at'][:19]}  {f['kind']:<7}  {f['url']}  "
                             f"{shorten(f['reason'] or '?', 300)}")
        return "\n".join(lines)
    finally:
        db.close()


def shorten(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters, cut at a word boundary with an
    ellipsis when it is longer."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if not text[limit - 1].isspace() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


def _sources_section(db: Database, config: Config | None) -> list[str]:
    """Every configured source with its language, whether it was ever reached (a stored
    article, or a `feed_state` row for one of its feeds or sitemaps), when it last
    yielded an article, and its failures; then sources the store knows but the config
    no longer names."""
    if config is None:
        return []
    from frwatch.urls import canonicalize

    articles = {r["source"]: r for r in db.query(
        "select source, count(*) as n, max(first_seen) as last from articles group by source")}
    failures = {r["source"]: r["n"] for r in db.query(
        "select source, count(*) as n from failures group by source")}
    answered = {canonicalize(r["url"]) for r in db.query("select url from feed_state")}
    rows = []
    for source in config.sources:
        listings = {canonicalize(url) for url in [*source.feeds, *source.sitemaps]}
        stored = articles.get(source.name)
        reached = bool(stored) or bool(listings & answered)
        rows.append((source.name, source.language or "-",
                     "yes" if reached else "never reached",
                     _when(stored["last"]) if stored else "-", failures.get(source.name, 0)))
    configured = {source.name for source in config.sources}
    for name in sorted((set(articles) | set(failures)) - configured - {None}):
        stored = articles.get(name)
        rows.append((name, "-", "not in the config",
                     _when(stored["last"]) if stored else "-", failures.get(name, 0)))
    never = sum(row[2] == "never reached" for row in rows)
    lines = [f"Sources ({len(config.sources)} in {config.path}; "
             f"{len(config.sources) - never} reached, {never} never reached):"]
    width = min(40, max(len("source"), *(len(row[0]) for row in rows))) if rows else 6
    lines.append(f"  {'source':<{width}}  lang  {'reached':<17}  {'last article':<16}  failures")
    for name, language, state, last, failed in rows:
        lines.append(f"  {name[:width]:<{width}}  {language:<4}  {state:<17}  {last:<16}  "
                     f"{failed:>8}")
    return lines


def _current_config(db: Database) -> Config | None:
    """The config of the running `frwatch` command (its --config option), else the one
    the latest crawl recorded in `crawl_runs.config`, if either file exists."""
    import click

    from frwatch.config import DEFAULT_CONFIG, load_config
    from frwatch.errors import FrwatchError

    candidates = []
    context = click.get_current_context(silent=True)
    if context is not None and context.params.get("config_path"):
        given = Path(context.params["config_path"])
        if given != DEFAULT_CONFIG or context.params.get("db_path") is None:
            candidates.append(given)
    latest = db.execute("select config from crawl_runs where config is not null "
                        "order by id desc limit 1").fetchone()
    if latest and latest[0]:
        candidates.append(Path(latest[0]))
    for path in candidates:
        if path.is_file():
            try:
                return load_config(path)
            except FrwatchError:
                continue
    return None


def status_json(db_path: Path, config: Config | None = None) -> dict:
    """The whole status as data (`frwatch status --json`)."""
    from frwatch.health import source_health

    db = open_db(db_path)
    try:
        config = config or _current_config(db)
        health = source_health(db)
        articles = {r["source"]: r["n"] for r in db.query(
            "select source, count(*) as n from articles group by source")}
        failures = {r["source"]: r["n"] for r in db.query(
            "select source, count(*) as n from failures group by source")}
        languages = {s.name: s.language for s in config.sources} if config else {}
        names = list(languages) + sorted((set(articles) | set(health)) - set(languages)
                                         - {None})
        sources = [{"name": name, "language": languages.get(name),
                    "configured": name in languages, "articles": articles.get(name, 0),
                    "failures": failures.get(name, 0),
                    "extraction": health.get(name, {"pages": 0, "health": "unknown"})}
                   for name in names]
        total = db.execute("select count(*), count(enriched_at), sum(related), "
                           "count(duplicate_of) from articles").fetchone()
        run = next(db.query("select * from crawl_runs order by id desc limit 1"), None)
        state = {r["key"]: r["value"] for r in db.query("select key, value from enrich_state")}
        return {
            "database": str(db_path),
            "topic": config.topic.name if config else state.get("topic_name"),
            "calibration": state.get("calibration"),
            "articles": total[0], "enriched": total[1], "related": total[2] or 0,
            "reprints": total[3],
            "clusters": db.execute("select count(*) from clusters").fetchone()[0],
            "alerts": list(db.query("select channel, status, count(*) as n from alerts "
                                    "group by channel, status order by channel, status")),
            "last_crawl": run,
            "sources": sources,
        }
    finally:
        db.close()


def _health_section(db: Database) -> list[str]:
    from frwatch.health import source_health

    bad = {s: h for s, h in source_health(db).items() if h["health"] in ("degraded", "broken")}
    if not bad:
        return []
    lines = ["Extraction health (latest pages against the source's own history):"]
    for source, h in sorted(bad.items()):
        before = h["history"]
        lines.append(f"  {source}: {h['health']} — text {h['with_text']:.0%} (was "
                     f"{before.get('with_text', 0):.0%}), title {h['with_title']:.0%} (was "
                     f"{before.get('with_title', 0):.0%}), date {h['with_date']:.0%} (was "
                     f"{before.get('with_date', 0):.0%}) over {h['pages']} pages")
    return lines


def _when(stamp: str | None) -> str:
    return (stamp or "-")[:16].replace("T", " ")
