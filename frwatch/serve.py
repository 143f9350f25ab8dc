"""`frwatch serve`: Datasette on the store, with frwatch's metadata, templates and plugin.

The database is always served as `/frwatch`, whatever its file is called, so that the
metadata, stored queries, dashboards and templates in `frwatch/browse/` apply to it. It is
opened as an ordinary (mutable) file: pages read the latest commit while a crawl writes.
Nothing is writable through Datasette: no write plugin, no writable stored query.

Every instance runs with the limits in SETTINGS. `public=True` (`frwatch serve --public`)
is for a server others can reach: PUBLIC_SETTINGS on top, the file's location left out of
the introspection pages, and no arbitrary SQL unless `allow_sql=True`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from datasette.app import Datasette
from datasette.database import Database

from frwatch.db import open_db
from frwatch.errors import FrwatchError
from frwatch.paths import BROWSE_DIR

DATABASE_NAME = "frwatch"

# What one request can cost. Each value a query reads or makes is also held under 64 MiB
# on every connection (MAX_VALUE_BYTES in the plugin).
SETTINGS = {
    "sql_time_limit_ms": 1000,  # any query (page, facet count, stored query, SQL) stops after 1 s
    "max_returned_rows": 1000,  # rows one query returns; stored queries return at most 200
    "num_sql_threads": 3,       # queries running at once; more wait for a thread
    "allow_download": False,    # the database file is not offered for download
    "max_csv_mb": 20,           # a CSV export (?_stream=on streams a whole table) stops at 20 MB
}
# And for --public: no ?_facet= on any column (a facet on `text` groups the whole table
# by its longest column) and no facet suggestions (one query per column on a table page);
# the facets in the metadata stay.
PUBLIC_SETTINGS = {"allow_facet": False, "suggest_facets": False}

logger = logging.getLogger(__name__)


class PublicDatasette(Datasette):
    """Datasette that names no file: in 0.65 `/-/databases.json` gives the store's absolute
    path and `/-/threads.json` the source files of the running tasks (of Python itself,
    in the home directory of whoever installed it); here neither does."""

    def _connected_databases(self):
        return [dict(d, path=None) for d in super()._connected_databases()]

    def _threads(self):
        return dict(super()._threads(), tasks=[])


def datasette_app(db_path: Path, public: bool = False,
                  allow_sql: bool | None = None) -> Datasette:
    """A Datasette instance serving the store at `db_path` as `/frwatch`; `public`: for a
    server others can reach (see the module's docstring). Arbitrary SQL is allowed unless
    `public`, or as `allow_sql` says."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise FrwatchError(f"{db_path}: no database yet (run `frwatch crawl` first)")
    open_db(db_path).close()  # bring the schema up to date; WAL mode
    metadata = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))
    settings = dict(SETTINGS, **(PUBLIC_SETTINGS if public else {}))
    if not (allow_sql if allow_sql is not None else not public):
        # Datasette's execute-sql permission: ?sql= and ?_where= answer 403; stored
        # queries, tables, rows, facets and search work. The charts of datasette-dashboards
        # run their SQL from the browser, so /-/dashboards answers 403 as well.
        metadata["allow_sql"] = False
        settings["default_allow_sql"] = False
    ds = (PublicDatasette if public else Datasette)(
        metadata=metadata, settings=settings, template_dir=str(BROWSE_DIR / "templates"),
        plugins_dir=str(BROWSE_DIR / "plugins"))
    ds.remove_database("_memory")  # added because no file was given to the constructor
    ds.add_database(Database(ds, path=str(db_path.resolve()), is_mutable=True),
                    name=DATABASE_NAME)
    return ds


def serve(db_path: Path, host: str = "127.0.0.1", port: int = 8001, public: bool = False,
          allow_sql: bool | None = None) -> None:
    """Serve the store at `db_path` on http://host:port/ until interrupted."""
    import uvicorn

    app = datasette_app(db_path, public=public, allow_sql=allow_sql).app()
    logger.info("serving %s on http://%s:%d/", db_path, host, port)
    # Public: connections beyond 100 at once get a 503 rather than piling up.
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="on",
                limit_concurrency=100 if public else None)
