"""A JSON webhook on 127.0.0.1 for alert tests: keeps every request it is sent."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """A JSON webhook on 127.0.0.1 that keeps every request: path, headers, body."""

    def __init__(self, status: int = 200, pause: float = 0.0):
        self.status = status
        self.pause = pause
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.pause)
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                              "body": json.loads(body)})
                # A refusal that echoes what it was sent, secrets included.
                answer = f"refused {self.headers.get('Authorization')} {self.path}".encode()
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def messages(self) -> list[str]:
        return [r["body"]["message"] for r in self.requests]
