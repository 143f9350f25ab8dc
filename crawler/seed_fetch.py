"""A seed story from a web page: fetched under the private-address guard, extracted as
the crawler extracts articles. Plain HTTP in this process (no Scrapy reactor), for
`frwatch seeds add URL`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from frwatch.errors import FrwatchError


def fetch_seed(url: str, allow_private: bool = False, timeout: float = 30) -> dict[str, Any]:
    """A seed story from a web page, extracted as the crawler extracts articles."""
    from crawler.extract import extract_article
    from crawler.settings import REDIRECT_MAX_TIMES, USER_AGENT  # the crawl's own

    html, final_url = fetch_guarded(url, allow_private=allow_private, timeout=timeout,
                                    max_redirects=REDIRECT_MAX_TIMES, user_agent=USER_AGENT)
    found = extract_article(html, final_url)
    if found.get("error"):
        raise FrwatchError(f"{url}: no story text found: {found['error']}")
    return {
        "id": hashlib.sha256(url.encode("utf-8")).hexdigest()[:16],
        "path": None, "url": url, "headline": found.get("title") or url,
        "outlet": found.get("sitename"), "published": found.get("published"),
        "author": found.get("author"), "text": found["text"],
    }


_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_PAGE_BYTES = 10_000_000


def fetch_guarded(url: str, allow_private: bool, timeout: float, max_redirects: int,
                  user_agent: str) -> tuple[bytes, str]:
    """GET `url` under the private-address guard; returns (body, final URL).

    Redirects are followed here, hop by hop, up to `max_redirects`: every hop's host is
    resolved once, each of its addresses is checked, and the connection goes to the
    checked address (TLS still verifies the certificate for the host name) — so neither
    a redirect nor a second DNS answer can lead to a private address. No proxies.
    """
    from urllib.parse import urljoin, urlsplit

    from w3lib.url import safe_url_string

    current = url
    for _hop in range(max_redirects + 1):
        current = safe_url_string(current)
        parts = urlsplit(current)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise FrwatchError(f"{url}: cannot fetch seed story: not a web address: {current}")
        port = port or (443 if parts.scheme == "https" else 80)
        address = _checked_address(url, current, parts.hostname, port, allow_private)
        status, reason, location, body = _get_from(url, parts, address, port, timeout,
                                                   user_agent)
        if status in _REDIRECT_STATUSES and location:
            current = urljoin(current, location)
            continue
        if not 200 <= status < 300:
            raise FrwatchError(f"{url}: cannot fetch seed story: HTTP {status} {reason}")
        return body, current
    raise FrwatchError(f"{url}: cannot fetch seed story: more than {max_redirects} redirects")


def _checked_address(url: str, hop: str, host: str, port: int, allow_private: bool) -> str:
    """The address to connect to for `host`: its first, when none of them is private."""
    import socket

    from frwatch.urls import is_private_address

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise FrwatchError(f"{url}: cannot resolve {host}: {why}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:  # refused when the lookup gives nothing, too
        raise FrwatchError(f"{url}: cannot resolve {host}: no address")
    if not allow_private:
        for address in addresses:
            if is_private_address(address):
                via = "" if hop == url else f"redirected to {hop}, "
                raise FrwatchError(f"{url}: private address blocked: {via}{host} is "
                                   f"{address} (set crawl.allow_private_addresses to allow)")
    return addresses[0]


def _get_from(url: str, parts: Any, address: str, port: int, timeout: float,
              user_agent: str) -> tuple[int, str, str | None, bytes]:
    """(status, reason, Location, body) of a GET of `parts`, connected to `address`."""
    import http.client
    import socket

    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    connection = connection_class(parts.hostname, port, timeout=timeout)

    def connect_to_checked(where: tuple[str, int], timeout: Any = None,
                           source_address: Any = None) -> socket.socket:
        return socket.create_connection((address, where[1]), timeout, source_address)

    # http.client opens its socket through this attribute (connect(), before any TLS):
    # the name stays in Host and in TLS (SNI, certificate), the address is the checked one.
    connection._create_connection = connect_to_checked  # type: ignore[attr-defined]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", target, headers={"User-Agent": user_agent})
        response = connection.getresponse()
        body = response.read(_MAX_PAGE_BYTES + 1) if 200 <= response.status < 300 else b""
        return response.status, response.reason, response.getheader("Location"), body
    except (OSError, http.client.HTTPException) as exc:
        raise FrwatchError(f"{url}: cannot fetch seed story: {exc}") from None
    finally:
        connection.close()
