"""`frwatch serve`: Datasette on the store, with frwatch's metadata, templates and plugin.

The database is always served as `/frwatch`, whatever its file is called, so that the
metadata, stored queries, dashboards and templates in `frwatch/browse/` apply to it. It is
opened as an ordinary (mutable) file: pages read the latest commit while a crawl writes.
Nothing is writable through Datasette: no write plugin, no writable stored query.
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

logger = logging.getLogger(__name__)


def datasette_app(db_path: Path) -> Datasette:
    """A Datasette instance serving the store at `db_path` as `/frwatch`."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise FrwatchError(f"{db_path}: no database yet (run `frwatch crawl` first)")
    open_db(db_path).close()  # bring the schema up to date; WAL mode
    metadata = yaml.safe_load((BROWSE_DIR / "metadata.yml").read_text(encoding="utf-8"))
    ds = Datasette(metadata=metadata, template_dir=str(BROWSE_DIR / "templates"),
                   plugins_dir=str(BROWSE_DIR / "plugins"))
    ds.remove_database("_memory")  # added because no file was given to the constructor
    ds.add_database(Database(ds, path=str(db_path.resolve()), is_mutable=True),
                    name=DATABASE_NAME)
    return ds


def serve(db_path: Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve the store at `db_path` on http://host:port/ until interrupted."""
    import uvicorn

    app = datasette_app(db_path).app()
    logger.info("serving %s on http://%s:%d/", db_path, host, port)
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="on")
