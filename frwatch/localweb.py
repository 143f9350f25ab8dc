"""Serve web sites from disk on 127.0.0.1: the offline demo web and the test webs.

Each site gets its own port, so each is its own host to the crawler (robots.txt,
per-domain politeness). Absolute links written as ``http://<site>.demo`` in the files
are rewritten to the site's real local origin when served. Every request is logged,
so tests can check what the crawler did and did not ask for.

A site is a directory, or a mapping of path to ``(content_type, body)`` or to a `Fault`
(a misbehaving response: any status and headers, a delay, a body streamed slowly or
forever, a connection reset). In a directory a ``_redirects`` file holds lines
``/from /to [status]`` (a redirect, 301 unless given) or ``/path - status`` (that bare
status, e.g. 500 or 503).
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class Fault:
    """A response that misbehaves. `stream`, if given, yields the body in pieces (an
    endless generator makes an endless response); `reset` closes the connection
    without answering; `delay` waits before the status line."""

    status: int = 200
    content_type: str = "text/html"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    stream: Callable[[], Iterator[bytes]] | None = None
    chunk_delay: float = 0.0
    reset: bool = False


SiteFiles = Mapping[str, "tuple[str, bytes] | Fault"]
Site = Path | SiteFiles

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
    ".txt": "text/plain; charset=utf-8",
}
_TEXT_TYPES = ("text/", "application/xml", "application/rss", "application/atom",
               "application/feed+json", "application/json")
_DEMO_ORIGIN = re.compile(rb"http://([a-z0-9-]+)\.demo(?=[/\"'<\s?#]|$)")


@dataclass
class LoggedRequest:
    site: str
    method: str
    path: str
    headers: dict[str, str]


class LocalWeb:
    """A set of sites served on 127.0.0.1 until `stop()` (or the end of a ``with``)."""

    def __init__(self, sites: Mapping[str, Site], host: str = "127.0.0.1", delay: float = 0.0):
        self.sites = dict(sites)
        self.host = host
        self.delay = delay  # seconds before every answer but robots.txt: a slow web
        self.origins: dict[str, str] = {}
        self.requests: list[LoggedRequest] = []
        self._servers: list[ThreadingHTTPServer] = []
        self._lock = threading.Lock()

    @classmethod
    def from_directory(cls, root: Path, delay: float = 0.0) -> LocalWeb:
        """Every subdirectory of `root` is a site named after it."""
        return cls({d.name: d for d in sorted(root.iterdir()) if d.is_dir()}, delay=delay)

    def __enter__(self) -> LocalWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalWeb:
        for name in self.sites:
            server = ThreadingHTTPServer((self.host, 0), self._handler_for(name))
            server.daemon_threads = True
            self.origins[name] = f"http://{self.host}:{server.server_address[1]}"
            threading.Thread(target=server.serve_forever, daemon=True,
                             name=f"localweb-{name}").start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def url(self, site: str, path: str = "/") -> str:
        return self.origins[site] + path

    def rewrite(self, text: str) -> str:
        """Replace ``http://<site>.demo`` origins in `text` with the served ones."""
        return self._rewrite(text.encode("utf-8")).decode("utf-8")

    def _rewrite(self, body: bytes) -> bytes:
        def origin(match: re.Match[bytes]) -> bytes:
            name = match.group(1).decode("ascii")
            return self.origins[name].encode("ascii") if name in self.origins else match.group(0)

        return _DEMO_ORIGIN.sub(origin, body)

    def requested_paths(self, site: str) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests if r.site == site]

    # --- serving ----------------------------------------------------------------------
    def _lookup(self, site: str, path: str) -> tuple[int, str, bytes, dict[str, str]] | Fault:
        content = self.sites[site]
        if not isinstance(content, Path):
            if path in content:
                found = content[path]
                if isinstance(found, Fault):
                    return found
                content_type, body = found
                return 200, content_type, body, {}
            return 404, "text/html", b"<h1>Not found</h1>", {}
        redirect = _redirect_for(content, path)
        if redirect:
            target, status = redirect
            if target == "-":
                return status, "text/html", f"<h1>Error {status}</h1>".encode(), {}
            return status, "text/html", b"", {"Location": target}
        file = (content / unquote(path).lstrip("/")).resolve()
        if not file.is_relative_to(content.resolve()):
            return 404, "text/html", b"<h1>Not found</h1>", {}
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            return 404, "text/html", b"<h1>Not found</h1>", {}
        content_type = _TYPES.get(file.suffix.lower()) or (
            mimetypes.guess_type(file.name)[0] or "application/octet-stream")
        modified = email.utils.formatdate(file.stat().st_mtime, usegmt=True)
        return 200, content_type, file.read_bytes(), {"Last-Modified": modified}

    def _handler_for(self, site: str) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "frwatch-localweb"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self.do_GET(head=True)

            def do_GET(self, head: bool = False) -> None:
                path = urlsplit(self.path).path or "/"
                with web._lock:
                    web.requests.append(LoggedRequest(site, self.command, self.path,
                                                      dict(self.headers.items())))
                if web.delay and path != "/robots.txt":
                    time.sleep(web.delay)
                found = web._lookup(site, path)
                if isinstance(found, Fault):
                    self._fault(found, head)
                    return
                status, content_type, body, headers = found
                if status == 200 and content_type.startswith(_TEXT_TYPES):
                    body = web._rewrite(body)
                if status == 200:
                    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                    headers["ETag"] = etag
                    if self.headers.get("If-None-Match") == etag:
                        status, body = 304, b""
                if "Location" in headers and headers["Location"].startswith("/"):
                    headers["Location"] = web.origins[site] + headers["Location"]
                self.send_response(status)
                if status != 304:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _fault(self, fault: Fault, head: bool) -> None:
                time.sleep(fault.delay)
                if fault.reset:
                    # RST instead of FIN: the client sees "connection reset by peer".
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                self.send_response(fault.status)
                self.send_header("Content-Type", fault.content_type)
                headers = dict(fault.headers)
                if fault.stream is None:
                    headers.setdefault("Content-Length", str(len(fault.body)))
                for name, value in headers.items():
                    if name == "Location" and value.startswith("/"):
                        value = web.origins[site] + value
                    self.send_header(name, value)
                if fault.stream is not None and "Content-Length" not in headers:
                    self.close_connection = True
                self.end_headers()
                if head:
                    return
                try:
                    if fault.stream is None:
                        self.wfile.write(fault.body)
                        return
                    for piece in fault.stream():
                        self.wfile.write(piece)
                        self.wfile.flush()
                        time.sleep(fault.chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

        return Handler


def _redirect_for(directory: Path, path: str) -> tuple[str, int] | None:
    rules = directory / "_redirects"
    if not rules.is_file():
        return None
    for line in rules.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#") and fields[0] == path:
            return fields[1], int(fields[2]) if len(fields) > 2 else 301
    return None
