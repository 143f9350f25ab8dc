"""Alert helpers: a JSON webhook that can be down and come up, and the alert CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from frwatch.config import relocate
from frwatch.db import open_db
from tests.support.paths import REPO
from tests.support.smtp import free_port


class Webhook:
    """A JSON webhook receiver that can be down (not listening) and come up later."""

    def __init__(self):
        self.port = free_port()
        self.posts: list[dict] = []
        self.server = None

    def up(self):
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()



def with_alerts(config: Path, alerts: list[dict]) -> Path:
    """Rewrite the config at `config` with these `alerts:` channels."""
    config.write_text(relocate(config.read_text(), config.parent, alerts=alerts))
    return config


def alert(config, db, *extra, env=None) -> str:
    """`frwatch alert` in a fresh process; its standard output (it must succeed)."""
    proc = subprocess.run([sys.executable, "-m", "frwatch.cli", "alert", "--config",
                           str(config), "--db", str(db), *extra], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def statuses(db, channel) -> dict[str, dict]:
    """The `alerts` rows of `channel` by article id."""
    conn = open_db(db)
    try:
        return {r["article_id"]: r for r in conn.query(
            "select * from alerts where channel = ?", [channel])}
    finally:
        conn.close()


def to_alert(db):
    """Related articles that are not reprints: one message each in story mode."""
    conn = open_db(db)
    try:
        return {r["id"]: r for r in conn.query(
            "select id, title, url from articles where related = 1 and duplicate_of is null")}
    finally:
        conn.close()
