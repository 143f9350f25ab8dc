"""`frwatch status`: what is stored, what the last run did, what failed."""

from __future__ import annotations

from pathlib import Path

from frwatch.db import open_db


def render_status(db_path: Path, failures: int = 10) -> str:
    db = open_db(db_path)
    try:
        lines = [f"Database: {db_path}"]
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
        recent = list(db.query(
            "select url, kind, reason, source, at from failures order by id desc limit ?",
            [failures]))
        if recent:
            lines.append(f"Recent failures (latest {len(recent)}):")
            for f in recent:
                lines.append(f"  {f['at'][:19]}  {f['kind']:<7}  "
                             f"{f['reason'][:60]:<60}  {f['url']}")
        return "\n".join(lines)
    finally:
        db.close()
