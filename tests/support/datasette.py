"""Datasette's in-process client, driven from synchronous tests on one event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlencode

import pytest

from frwatch.serve import datasette_app
from tests.support.browsing import browsing_store


class Client:
    """Requests to the app `frwatch serve` would run for `db_path` (with `options` such as
    `public=True`). `get` follows Datasette's redirects (a %-encoded id is redirected to
    its ~-encoded form) unless `follow=False`."""

    def __init__(self, db_path: Path, **options):
        self.loop = asyncio.new_event_loop()
        self.ds = datasette_app(db_path, **options)

    def get(self, path: str, follow: bool = True):
        for _ in range(5):
            response = self.loop.run_until_complete(self.ds.client.get(path))
            if not follow or response.status_code not in (301, 302):
                return response
            path = response.headers["location"]
        raise AssertionError(f"redirected in circles: {path}")

    def post(self, path: str, **kwargs):
        return self.loop.run_until_complete(self.ds.client.post(path, **kwargs))

    def rows(self, path: str) -> list[dict]:
        response = self.get(path + ("&" if "?" in path else "?") + "_shape=array")
        assert response.status_code == 200, response.text[:1000]
        return response.json()

    def sql(self, sql: str, **params):
        return self.get("/frwatch.json?" + urlencode({"sql": sql, "_shape": "array", **params}))

    def close(self):
        for db in self.ds.databases.values():
            db.close()
        self.loop.close()


# Fixtures for the Datasette test modules: `from tests.support.datasette import client, store`.
@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Path:
    """The browsing store (tests/support/browsing.py), built once per test module that uses it."""
    return browsing_store(tmp_path_factory)


@pytest.fixture(scope="module")
def client(store):
    c = Client(store)
    yield c
    c.close()
