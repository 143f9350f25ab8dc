"""The `frwatch` command line: the one place where the stages are strung together."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from crawler.spiders import SPIDER_KINDS
from frwatch.config import DEFAULT_CONFIG, Config, load_config, relocate
from frwatch.errors import FrwatchError
from frwatch.paths import DEMO_WEB


class _Command(click.Command):
    """Prints a user's error as one line on stderr and exits 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FrwatchError as exc:
            # Several mistakes (a config's): one line each, all at once.
            for line in str(exc).splitlines() or [""]:
                click.echo(f"frwatch: error: {line}", err=True)
            ctx.exit(1)


class _Group(click.Group):
    command_class = _Command


def _options(func: Any) -> Any:
    func = click.option("--db", "db_path",
                        type=click.Path(dir_okay=False, path_type=Path),
                        help="SQLite file (default: the config's `db`, "
                             "else data/frwatch.db).")(func)
    func = click.option("--config", "config_path", default=str(DEFAULT_CONFIG),
                        show_default=True, type=click.Path(dir_okay=False, path_type=Path),
                        help="The sources.yaml to use.")(func)
    return func


def _wait_option(func: Any) -> Any:
    return click.option(
        "--wait", type=click.FloatRange(0, 86400), default=0, show_default=True,
        metavar="SECONDS", help="If another frwatch writer holds the store, wait up to "
        "this long for it (0: say so and exit 0 at once).")(func)


@contextlib.contextmanager
def _writer(db: Path, wait: float) -> Iterator[None]:
    """Every command that writes the store holds `<db>.lock` while it does; a second
    writer waits up to `wait` seconds, then says so and exits 0 (cron runs overlap)."""
    from frwatch.lock import RunLock, RunLocked

    try:
        lock = RunLock(db, wait=wait).__enter__()
    except RunLocked as exc:
        click.echo(f"frwatch: {exc}", err=True)
        raise click.exceptions.Exit(0) from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def _load(config_path: Path, db_path: Path | None) -> tuple[Config, Path]:
    config = load_config(config_path)
    return config, (db_path or config.db_path)


def _db_only(config_path: Path, db_path: Path | None) -> Path:
    """The store for commands that only read it: `--db` alone is enough when the default
    config is not there (an installed frwatch run from anywhere)."""
    if db_path and config_path == DEFAULT_CONFIG and not config_path.is_file():
        return db_path
    return _load(config_path, db_path)[1]


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (blank lines, `# comments` and a leading `export ` allowed; a
    value may be in single or double quotes); a malformed line is a one-line error."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FrwatchError(f"{path}: cannot read the env file: {exc.strerror or exc}") from None
    values = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier():
            raise FrwatchError(f"{path}: line {number}: expected KEY=VALUE")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


@click.group(cls=_Group)
@click.version_option(package_name="frwatch")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read KEY=VALUE lines from this file into the environment first (the "
                   "secrets that ${VAR}s in alert URLs name); its values win.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, env_file: Path | None) -> None:
    """frwatch: a media monitor for news about the topic your config describes."""
    import os

    # Scrapy installs its own log handler for crawls at this level; the other stages
    # log through the same root logger.
    ctx.obj = {"log_level": ["WARNING", "INFO", "DEBUG"][min(verbose, 2)],
               "env_file": env_file}
    if env_file is not None:
        try:
            os.environ.update(read_env_file(env_file))
        except FrwatchError as exc:
            click.echo(f"frwatch: error: {exc}", err=True)
            ctx.exit(1)


@cli.command()
@_options
@click.option("--spider", type=click.Choice(list(SPIDER_KINDS)),
              default="news", show_default=True, help="Which discovery to run.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting, e.g. -s RETRY_TIMES=0 (repeatable).")
@_wait_option
@click.option("--frontier", metavar="redis://HOST:PORT/DB",
              help="Be one worker of a distributed crawl on this Redis frontier: fetch "
                   "and extract, send results to `frwatch ingest`, never open the store.")
@click.option("--follow", is_flag=True,
              help="With --frontier: keep polling for work instead of exiting when the "
                   "frontier is drained.")
@click.pass_context
def crawl(ctx: click.Context, config_path: Path, db_path: Path | None, spider: str,
          overrides: tuple[str, ...], wait: float, frontier: str | None,
          follow: bool) -> None:
    """Discover, fetch, extract and store new articles from every configured source.

    Examples:

    \b
        frwatch crawl --config seeds/sources.yaml
        frwatch crawl --config seeds/sources.yaml --frontier redis://queue:6379/0
    """
    settings = {}
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise FrwatchError(f"-s {item}: expected NAME=VALUE")
        settings[name.strip()] = value
    if frontier:
        _crawl_worker(ctx, config_path, db_path, frontier, follow, settings)
        return
    if follow:
        raise FrwatchError("--follow is for a worker: give --frontier too")
    config, db = _load(config_path, db_path)
    with _writer(db, wait):
        run = run_crawl(config, db, spider=spider, log_level=ctx.obj["log_level"],
                        settings=settings)
    report, nothing = _crawl_report(config, db, run, spider)
    click.echo(report)
    if nothing:
        raise FrwatchError(nothing)


def _crawl_worker(ctx: click.Context, config_path: Path, db_path: Path | None, frontier: str,
                  follow: bool, settings: dict[str, Any]) -> None:
    """`crawl --frontier`: one worker of a distributed crawl; it never opens the store."""
    from crawler.run import run_worker

    if db_path is not None:
        raise FrwatchError("a worker (--frontier) never opens the store: give --db to "
                           "`frwatch ingest`")
    config = load_config(config_path)
    stats = run_worker(config, frontier, log_level=ctx.obj["log_level"], settings=settings,
                       follow=follow)
    click.echo(f"Worker done: {stats.get('downloader/request_count', 0)} requests, "
               f"{stats.get('item_scraped_count', 0)} articles sent, "
               f"{stats.get('frwatch/failures', 0)} failures.")


@cli.command()
@_options
@click.option("--frontier", required=True, metavar="redis://HOST:PORT/DB",
              help="The Redis frontier the workers (`crawl --frontier`) share.")
@click.option("--spider", type=click.Choice(list(SPIDER_KINDS)),
              default="news", show_default=True, help="Which listings to hand out.")
@click.option("--follow", is_flag=True,
              help="Keep writing as results arrive instead of ending the run when the "
                   "frontier is drained (until Ctrl-C).")
@_wait_option
def ingest(config_path: Path, db_path: Path | None, frontier: str, spider: str,
           follow: bool, wait: float) -> None:
    """Be the one writer of a distributed crawl: open a run on the frontier, write the
    workers' results into the store, close the run when the frontier is drained.

    Example:

    \b
        frwatch ingest --config seeds/sources.yaml --frontier redis://queue:6379/0
    """
    from crawler.frontier import Frontier, writer_id
    from crawler.ingest import Ingest
    from frwatch.db import open_db
    from frwatch.seeds import sync_seeds

    config, db = _load(config_path, db_path)
    queue = Frontier.connect(frontier)  # one line, exit 1, when Redis is not there
    queue.take_writer_lock(writer_id())  # a second ingest: one line, exit 1
    with _writer(db, wait):
        store = open_db(db)
        try:
            sync_seeds(store, config)
        finally:
            store.close()
        report = Ingest(queue, config, db, SPIDER_KINDS[spider], follow=follow,
                        say=click.echo).run()
    run = _last_run(db)
    text, _nothing = _crawl_report(config, db, run, spider)
    click.echo(text)
    lost = (f"; {len(report.lost_workers)} worker(s) died before they ended: the next "
            "run reads every listing in full" if report.lost_workers else "")
    click.echo(f"Writer: {report.events} events in {report.writing_seconds:.1f} s of "
               f"writing ({report.rows_per_second:.0f} rows/s){lost}.")


def _last_run(db_path: Path) -> dict:
    from frwatch.db import open_db

    db = open_db(db_path)
    try:
        return next(db.query("select * from crawl_runs order by id desc limit 1"), {})
    finally:
        db.close()


@cli.command()
@_options
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: when writing to a terminal).")
@_wait_option
def enrich(config_path: Path, db_path: Path | None, progress: bool | None,
           wait: float) -> None:
    """Embed, score, fold reprints and cluster every article not yet enriched.

    Example:

    \b
        frwatch enrich --db data/frwatch.db
    """
    config, db = _load(config_path, db_path)
    with _writer(db, wait):
        summary = run_enrich(config, db,
                             progress=sys.stderr.isatty() if progress is None else progress)
    click.echo(summary.line())


def run_enrich(config: Config, db_path: Path, progress: bool = False):
    """Enrich the store in this process and return the run's summary; with `progress`, a
    bar on the terminal follows the batches (enrich itself knows nothing of click)."""
    from enrich.run import enrich_store
    from frwatch.db import open_db
    from frwatch.seeds import sync_seeds

    db = open_db(db_path)
    try:
        sync_seeds(db, config)
        with contextlib.ExitStack() as stack:
            bars: list = []

            def show(done: int, total: int) -> None:
                """Opens the bar on the first report, closed with the stack."""
                if not bars:
                    bars.append(stack.enter_context(
                        click.progressbar(length=total, label="Enriching")))
                bars[0].update(done - bars[0].pos)

            return enrich_store(db, config, progress=show if progress else None)
    finally:
        db.close()


@cli.command()
@_options
@click.argument("article")
@click.argument("verdict", metavar="related|unrelated")
@click.option("--note", help="Why, for whoever reads the label later.")
@click.option("--by", "by", help="Who labels (default: the user name).")
@_wait_option
def label(config_path: Path, db_path: Path | None, article: str, verdict: str,
          note: str | None, by: str | None, wait: float) -> None:
    """Label an article (its id or URL) related or unrelated. Its verdict follows the
    label at once; the next `enrich` and `calibrate` learn from it.

    Example:

    \b
        frwatch label 3f2a9c0d1e4b5a67 unrelated --note "phone review"
    """
    from frwatch.db import open_db
    from frwatch.labels import add_label

    db_file = _db_only(config_path, db_path)
    with _writer(db_file, wait):
        db = open_db(db_file)
        try:
            found = add_label(db, article, verdict, note, by)
        finally:
            db.close()
    click.echo(f"Labelled {found['id']} {verdict}: {found['title']}")


@cli.command()
@_options
@click.option("--force", is_flag=True, help="Write the calibration even if it is worse.")
@_wait_option
def calibrate(config_path: Path, db_path: Path | None, force: bool, wait: float) -> None:
    """Refit relevance on the shipped labelled set plus your labels; print the
    cross-validated precision and recall before and after; write the config's calibration
    file only if the refit is not worse (or with --force). The next `enrich` rescores.

    Example:

    \b
        frwatch calibrate --config seeds/sources.yaml
    """
    from enrich.calibrate import calibrate_store
    from frwatch.db import open_db

    config, db_file = _load(config_path, db_path)
    if config.enrich.calibration == "default":
        raise FrwatchError(f"{config.path}: enrich.calibration is `default` (the file shipped "
                           "with frwatch); name a file of your own to calibrate into")
    with _writer(db_file, wait):
        db = open_db(db_file)
        try:
            result = calibrate_store(db, config, force=force,
                                     progress=lambda line: click.echo(line, err=True))
        finally:
            db.close()
    for line in result.lines():
        click.echo(line)
    if not result.written:
        raise FrwatchError("calibration not written: the refit is worse than the current "
                           "one (use --force to write it anyway)")


@cli.command()
@_options
@click.option("--backfill", is_flag=True,
              help="Also send what is stored and not yet sent to a channel (on its first "
                   "run: the backlog; later: articles recorded as backlog).")
@click.option("--channel", metavar="NAME", help="Only this channel (its `name`).")
@click.option("--test", "test", is_flag=True,
              help="Send one clearly marked test message to each channel and report each "
                   "result; nothing is stored.")
@click.option("--preview", is_flag=True,
              help="Print what the next run would send; nothing is sent or stored.")
@_wait_option
def alert(config_path: Path, db_path: Path | None, backfill: bool, channel: str | None,
          test: bool, preview: bool, wait: float) -> None:
    """Send new related coverage to every alert channel, once per channel.

    Example:

    \b
        frwatch alert --test                 # does every channel work?
        frwatch alert --preview              # what would the next run send?
        frwatch alert --config seeds/sources.yaml
    """
    from alerts.run import select_channels, send_test_messages

    config, db = _load(config_path, db_path)
    if test and preview:
        raise FrwatchError("--test and --preview: give one of them")
    # An unknown --channel or an unset ${VAR}: one line each, before anything is sent.
    config.check_channels([index for index, _ in select_channels(config, channel)])
    if test:
        results = send_test_messages(config, channel)
        for result in results:
            click.echo(result.line())
        if not results:
            click.echo("No alert channels configured.")
        failed = sum(not r.ok for r in results)
        if failed:
            raise FrwatchError(f"{failed} of {len(results)} channels failed the test")
        return
    if preview:
        from alerts.run import preview_store
        from frwatch.db import open_db

        if not db.exists():
            raise FrwatchError(f"{db}: no database yet (run `frwatch crawl` first)")
        store = open_db(db)
        try:
            click.echo(preview_store(store, config, backfill=backfill, channel=channel))
        finally:
            store.close()
        return
    with _writer(db, wait):
        summary = run_alert(config, db, backfill=backfill, channel=channel)
    click.echo(summary.line())
    if summary.failed:
        click.echo("Failed alerts are retried on the next run.", err=True)


def run_alert(config: Config, db_path: Path, backfill: bool = False,
              channel: str | None = None):
    from alerts.run import alert_store
    from frwatch.db import open_db

    db = open_db(db_path)
    try:
        return alert_store(db, config, backfill=backfill, channel=channel)
    finally:
        db.close()


@cli.command(name="run")
@_options
@click.option("--backfill", is_flag=True, help="See `frwatch alert --backfill`.")
@_wait_option
@click.pass_context
def run_all(ctx: click.Context, config_path: Path, db_path: Path | None, backfill: bool,
            wait: float) -> None:
    """Crawl, enrich and alert in one go: the command for cron or a systemd timer.

    A lock beside the database keeps two runs from overlapping; the second one says so
    and exits at once.

    Example:

    \b
        frwatch run --config seeds/sources.yaml
    """
    from frwatch.db import open_db

    config, db = _load(config_path, db_path)
    config.check_channels()  # an unset ${VAR}: say so before crawling, not after
    with _writer(db, wait):
        crawl = run_crawl(config, db, log_level=ctx.obj["log_level"])
        enriched = run_enrich(config, db)
        alerts = run_alert(config, db, backfill=backfill)
    store = open_db(db)
    try:
        total = store.execute("select count(*), sum(related) from articles").fetchone()
        clusters = store.execute("select count(*) from clusters").fetchone()[0]
    finally:
        store.close()
    report, nothing = _crawl_report(config, db, crawl, "news")
    click.echo("\n".join([
        report,
        enriched.line(),
        alerts.line(),
        f"Store: {total[0]} articles, {total[1] or 0} related, {clusters} story clusters.",
    ]))
    if nothing:
        raise FrwatchError(nothing)


@cli.command()
@_options
@click.option("--every", default=30, show_default=True, type=click.IntRange(5, 1440),
              help="Minutes between runs.")
@click.option("--env-file", "env_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The file of KEY=VALUE secrets the scheduled run reads (passed to it "
                   "as `frwatch --env-file PATH run`).")
@click.pass_context
def schedule(ctx: click.Context, config_path: Path, db_path: Path | None, every: int,
             env_file: Path | None) -> None:
    """Print crontab lines and a systemd service and timer for `frwatch run`, every
    --every minutes exactly (several cron lines where one cannot say it).

    Example:

    \b
        frwatch schedule --every 90 --env-file ~/.config/frwatch/env
    """
    from frwatch.schedule import render_schedule

    config, db = _load(config_path, db_path)
    click.echo(render_schedule(config.path, db, every, topic=config.topic.name,
                               env_file=env_file or ctx.obj.get("env_file")))


@cli.command()
@_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@click.option("--public", is_flag=True,
              help="For a server others can reach: no arbitrary SQL (stored queries "
                   "still run), no file paths shown, no ?_facet= or facet suggestions.")
@click.option("--allow-sql", is_flag=True,
              help="With --public: allow arbitrary SQL (and the charts) all the same.")
def serve(config_path: Path, db_path: Path | None, host: str, port: int, public: bool,
          allow_sql: bool) -> None:
    """Browse the store in Datasette: search, facets, stored queries, "more like this",
    an Atom feed of related coverage and charts. Read-only; safe while a crawl runs.
    Queries stop after 1 s and return at most 1000 rows, whatever the options.

    Example:

    \b
        frwatch serve --db data/demo.db --port 8001
        frwatch serve --public --host 0.0.0.0 --port 8001
    """
    from frwatch.serve import serve as serve_datasette

    db = _db_only(config_path, db_path)
    if not public and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Note: {host} may be reachable from other machines; anyone there can "
                   "run SQL on the store. --public turns that off.", err=True)
    click.echo(f"Serving {db} on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    serve_datasette(db, host=host, port=port, public=public, allow_sql=allow_sql or None)


@cli.group(cls=_Group)
def seeds() -> None:
    """Seed stories: the articles the topic is measured against."""


@seeds.command(name="add")
@_options
@click.argument("source")
@_wait_option
def seeds_add(config_path: Path, db_path: Path | None, source: str, wait: float) -> None:
    """Add a seed story from a Markdown file (with front matter) or a web page URL.

    Scores follow on the next `frwatch enrich`.

    Example:

    \b
        frwatch seeds add seeds/articles/ibm-exits-face-recognition.md
        frwatch seeds add https://www.example.com/news/boston-bans-face-surveillance
    """
    from frwatch.db import open_db
    from frwatch.seeds import add_seed

    config, db_file = _load(config_path, db_path)
    with _writer(db_file, wait):
        db = open_db(db_file)
        try:
            row = add_seed(db, source, allow_private=config.crawl.allow_private_addresses)
        finally:
            db.close()
    click.echo(f"Seed {row['id']} added: {row['headline']}")


@seeds.command(name="list")
@_options
def seeds_list(config_path: Path, db_path: Path | None) -> None:
    """List the seed stories in the store."""
    from frwatch.db import open_db

    db = open_db(_db_only(config_path, db_path))
    try:
        for row in db.query("select id, published, outlet, headline from seeds order by added"):
            click.echo(f"{row['id']}  {row['published'] or '-':<10}  {row['outlet'] or '-'}: "
                       f"{row['headline']}")
    finally:
        db.close()


@cli.group(cls=_Group)
def frontier() -> None:
    """A distributed crawl's Redis frontier: look at it, pause and resume its workers."""


def _frontier_option(func: Any) -> Any:
    return click.option("--frontier", "url", required=True, metavar="redis://HOST:PORT/DB",
                        help="The Redis frontier the workers share.")(func)


@frontier.command(name="status")
@_frontier_option
def frontier_status(url: str) -> None:
    """The run on the frontier, what is left of it, and its workers and writer.

    Example:

    \b
        frwatch frontier status --frontier redis://queue:6379/0
    """
    from crawler.frontier import Frontier

    for line in Frontier.connect(url).status().lines(url):
        click.echo(line)


@frontier.command(name="pause")
@_frontier_option
def frontier_pause(url: str) -> None:
    """Workers take no new request (those in flight finish and are written) until
    `frwatch frontier resume`; the writer keeps writing.

    Example:

    \b
        frwatch frontier pause --frontier redis://queue:6379/0
    """
    from crawler.frontier import Frontier, shown

    done = Frontier.connect(url).pause()
    click.echo(f"{shown(url)}: {'paused' if done else 'already paused'}; "
               "`frwatch frontier resume` lets the workers go on.")


@frontier.command(name="resume")
@_frontier_option
def frontier_resume(url: str) -> None:
    """Workers take requests again after `frwatch frontier pause`.

    Example:

    \b
        frwatch frontier resume --frontier redis://queue:6379/0
    """
    from crawler.frontier import Frontier, shown

    done = Frontier.connect(url).resume()
    click.echo(f"{shown(url)}: {'resumed' if done else 'was not paused'}.")


@cli.group(cls=_Group)
def sources() -> None:
    """The configured sources: feeds, sitemaps and section pages."""


@sources.command(name="check")
@click.option("--config", "config_path", default=str(DEFAULT_CONFIG), show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The sources.yaml to use.")
@click.option("--allow-failures", is_flag=True,
              help="Exit 0 even when sources fail (the report still says which).")
@click.option("--timeout", "timeout", type=click.FloatRange(min=0, min_open=True),
              metavar="S", help="Seconds per request (default: crawl.timeout_seconds).")
def sources_check(config_path: Path, allow_failures: bool, timeout: float | None) -> None:
    """Fetch every feed, sitemap and section page once and report per source: reachable
    or not, the format found, how many items, the newest item's date, redirects, and
    why each failure failed. Exits 1 when a source fails, unless --allow-failures.

    Example:

    \b
        frwatch sources check --config seeds/sources.yaml --timeout 20
    """
    from frwatch.sources import check_sources, render_report

    config = load_config(config_path)
    results = check_sources(config, timeout=timeout)
    click.echo(render_report(results, config.path))
    failed = sum(not result.ok for result in results)
    if failed and not allow_failures:
        raise FrwatchError(f"{failed} of {len(results)} sources failed the check "
                           "(--allow-failures to exit 0 anyway)")


@cli.command()
@_options
@click.option("--failures", "failure_count", default=10, show_default=True,
              help="How many recent failures to list.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the whole status as JSON (sources with their extraction health).")
def status(config_path: Path, db_path: Path | None, failure_count: int,
           as_json: bool) -> None:
    """Articles per source, the last crawl run, recent failures.

    Example:

    \b
        frwatch status --db data/frwatch.db
    """
    import json

    from frwatch.status import render_status, status_json

    db = _db_only(config_path, db_path)
    if not db.exists():
        raise FrwatchError(f"{db}: no database yet (run `frwatch crawl` first)")
    # The config's sources are listed when it was named, or when it is the store's own
    # (no --db); `--db` alone lists the sources of the config its latest crawl used.
    named = config_path != DEFAULT_CONFIG or db_path is None
    config = load_config(config_path) if named and config_path.is_file() else None
    if as_json:
        click.echo(json.dumps(status_json(db, config), indent=2, ensure_ascii=False))
    else:
        click.echo(render_status(db, failure_count, config=config))


@cli.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("data/demo.db"), show_default=True,
              help="Where to write the demo database (replaced if it exists).")
@click.option("--web", "web_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEMO_WEB, help="The demo web to serve.")
@click.option("--crawl-only", is_flag=True, help="Stop after the crawl (no enrich, no alerts).")
@click.option("--serve", "serve_after", is_flag=True,
              help="Then browse it: Datasette on --port while the demo web stays up (so "
                   "\"original article\" links open), until Ctrl-C.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535),
              help="Datasette's port with --serve.")
@click.pass_context
def demo(ctx: click.Context, db_path: Path, web_dir: Path, crawl_only: bool,
         serve_after: bool, port: int) -> None:
    """Serve the bundled offline demo web on 127.0.0.1, crawl it into a fresh database,
    enrich it and write the related coverage to an Atom file beside the database.

    Example:

    \b
        frwatch demo
        frwatch demo --serve      # and browse it, links and all, until Ctrl-C
    """
    from frwatch.db import remove_store
    from frwatch.localweb import LocalWeb

    config_file = web_dir / "sources.yaml"
    if not config_file.is_file():
        raise FrwatchError(f"{config_file}: demo config not found")
    remove_store(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with LocalWeb.from_directory(web_dir) as web:
        # The served config is the demo's own with the sites' local origins put in,
        # written next to the database.
        served = db_path.parent / "demo-sources.yaml"
        text = web.rewrite(config_file.read_text(encoding="utf-8"))
        atom = db_path.parent.resolve() / "demo-related.atom"
        served.write_text(relocate(text, web_dir, db=str(db_path.resolve()),
                                   alerts=[{"atom": str(atom)}]), encoding="utf-8")
        config = load_config(served)
        click.echo(f"Serving the demo web: {', '.join(web.origins.values())}")
        run = run_crawl(config, db_path, log_level=ctx.obj["log_level"])
        click.echo(_run_summary(run))
        if not crawl_only:
            click.echo(run_enrich(config, db_path).line())
            click.echo(run_alert(config, db_path).line())
        from frwatch.status import render_status

        click.echo(render_status(db_path, failures=5))
        if serve_after:
            _serve_demo(db_path, port)
            return
    click.echo(f"\nBrowse it:  frwatch serve --db {db_path}   (Datasette on http://127.0.0.1:8001)"
               f"\n            frwatch status --db {db_path}"
               + ("" if crawl_only else f"\n            subscribe to {atom} in a feed reader")
               + "\n            (`frwatch demo --serve` keeps the demo web up, so links open)")


def _serve_demo(db_path: Path, port: int) -> None:
    """Datasette on the demo store, in its own process (this one has run Scrapy's
    reactor), while the caller keeps the demo web up; returns on Ctrl-C."""
    import signal
    import subprocess

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    click.echo(f"\nBrowse it on http://127.0.0.1:{port}/ (the demo web stays up, so "
               "\"original article\" links open). Ctrl-C to stop.", err=True)
    command = [sys.executable, "-m", "frwatch.cli", "serve", "--db", str(db_path),
               "--port", str(port)]
    child = subprocess.Popen(command)
    signal.signal(signal.SIGTERM, stop)  # stopped by a service manager: Datasette too
    try:
        code = child.wait()
    except KeyboardInterrupt:
        child.terminate()  # it has the Ctrl-C too; this is in case it was not
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        return
    if code:
        raise FrwatchError(f"Datasette stopped with exit status {code}")


def run_crawl(config: Config, db_path: Path, spider: str = "news",
              log_level: str = "WARNING", settings: dict[str, Any] | None = None) -> dict:
    """Sync the config's seed stories into the store (one line on an unusable database),
    then run one crawl in this process (crawler.run) and return its `crawl_runs` row."""
    from crawler.run import run_crawl as crawl_in_process
    from frwatch.db import open_db
    from frwatch.seeds import sync_seeds

    db = open_db(db_path)
    try:
        sync_seeds(db, config)
    finally:
        db.close()
    return crawl_in_process(config, db_path, spider=spider, log_level=log_level,
                            settings=settings)


def _crawl_report(config: Config, db_path: Path, run: dict, spider: str
                  ) -> tuple[str, str | None]:
    """The run's summary, then one line per source that failed in it (full reasons stay
    in `failures`: `frwatch status`, Datasette); and, when every listing the spider asked
    for failed, the one-line reason to exit 1 with."""
    from frwatch.db import open_db
    from frwatch.status import shorten

    text = _run_summary(run)
    if not run:
        return text, None
    db = open_db(db_path)
    try:
        rows = list(db.query("select source, kind, reason, url from failures where run_id = ? "
                             "order by id", [run["id"]]))
    finally:
        db.close()
    kinds = SPIDER_KINDS[spider]
    listings = {url: source.name for source in config.sources for kind in kinds
                for url in getattr(source, kind)}
    failed_listings = {r["url"] for r in rows if r["url"] in listings}
    by_source: dict[str, list[dict]] = {}
    for row in rows:
        by_source.setdefault(row["source"] or "(no source)", []).append(row)
    lines = [text]
    for name, failures in by_source.items():
        mine = [u for u, owner in listings.items() if owner == name]
        dead = [r for r in failures if r["url"] in listings]
        reasons: dict[str, int] = {}
        for r in failures:
            reasons[r["reason"] or "?"] = reasons.get(r["reason"] or "?", 0) + 1
        said = ", ".join(f"{reason} ({n})" if n > 1 else reason for reason, n in reasons.items())
        if mine and len({r["url"] for r in dead}) == len(mine):
            head = (f"FAILED {name}: nothing fetched, "
                    f"{'its listing' if len(mine) == 1 else 'all its listings'} failed")
        elif dead:
            head = f"FAILED {name}: {len({r['url'] for r in dead})} of {len(mine)} listings failed"
        else:
            head = f"{name}: {len(failures)} page{'s' if len(failures) != 1 else ''} failed"
        lines.append("  " + shorten(f"{head}: {said}", 150))
    if by_source:
        lines.append("  (every reason: `frwatch status`, or the failures table in Datasette)")
    nothing = None
    if listings and failed_listings >= set(listings):
        nothing = (f"every listing failed ({len(listings)} of {len(listings)}); nothing was "
                   "fetched")
    return "\n".join(lines), nothing


def _run_summary(run: dict) -> str:
    if not run:
        return "No crawl was recorded."
    return (f"Crawl #{run['id']} {run['status']}: {run['articles_new']} new articles, "
            f"{run['articles_updated']} updated, {run['skipped_known']} already stored, "
            f"{run['skipped_old']} too old, {run['feeds_not_modified']} feeds not modified, "
            f"{run['failures']} failures ({run['requests']} requests).")


def main() -> None:
    cli(prog_name="frwatch")


if __name__ == "__main__":
    main()
