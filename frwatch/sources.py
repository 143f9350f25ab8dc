"""`frwatch sources check`: ask every configured listing once and say what came back.

Each feed, sitemap and section page of the config is fetched once with plain HTTP
(urllib, no Scrapy reactor), politely: a User-Agent naming frwatch, one request per
listing plus its redirects, the requests to one host one after the other with the
crawl's `delay_seconds` between them, and the private-address check of
`frwatch.urls` on every hop unless `crawl.allow_private_addresses` is set. What came
back is read with the crawler's own discovery code (`crawler.discovery.parse_feed`,
`parse_sitemap`, and for section pages the link extraction and filters of the pages
spider), so the check sees what a crawl would see.

A listing passes when it answers and lists at least one item (an empty feed yields
nothing, so it counts as failed); a source passes when all of its listings do. A
redirect is followed and reported ("moved (301) to …"), not counted as a failure.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from frwatch.config import Config, Source
from frwatch.errors import one_line
from frwatch.urls import is_private_address, same_site

KINDS = (("feed", "feeds"), ("sitemap", "sitemaps"), ("page", "pages"))
ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
          "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5")
MAX_REDIRECTS = 10
HOSTS_AT_ONCE = 8  # different hosts are asked in parallel, one host never twice at once


@dataclass
class ListingResult:
    """What one feed, sitemap or section page answered."""

    source: str
    kind: str                      # feed, sitemap or page
    url: str                       # as configured
    reached: bool = False          # an HTTP server answered (any status)
    ok: bool = False               # answered 2xx and listed at least one item
    status: int | None = None
    final_url: str | None = None   # after redirects
    redirect: tuple[int, str] | None = None   # (first redirect's status, final URL)
    format: str | None = None      # RSS, RSS 1.0, Atom, JSON Feed, sitemap, ..., HTML
    items: int = 0
    newest: str | None = None      # ISO 8601 UTC, the newest dated item
    reason: str | None = None      # why it failed, in one line
    stale_after: int | None = None  # set when its newest item is older than this many days

    @property
    def moved(self) -> str | None:
        if not self.redirect:
            return None
        code, target = self.redirect
        word = "moved" if code in (301, 308) else "redirected"
        return f"{word} ({code}) to {target}"

    def line(self) -> str:
        """One line for the report."""
        if self.ok:
            found = ", ".join(filter(None, [
                self.format, f"{self.items} {_items_word(self.kind, self.format, self.items)}",
                f"newest {_short(self.newest)}" if self.newest else "no dates"]))
            stale = (f"; stale: nothing newer than {self.stale_after} days (crawl.max_age_days)"
                     if self.stale_after else "")
            detail = f"ok: {self.moved + '; ' if self.moved else ''}{found}{stale}"
        else:
            where = "reachable" if self.reached else "unreachable"
            moved = f"; {self.moved}" if self.moved else ""
            detail = f"FAILED ({where}{moved}): {self.reason}"
        return f"  {self.kind:<8}{detail}  {self.url}"


@dataclass
class SourceResult:
    name: str
    language: str | None
    listings: list[ListingResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.listings) and all(listing.ok for listing in self.listings)

    @property
    def reached(self) -> bool:
        return any(listing.reached for listing in self.listings)

    def lines(self) -> list[str]:
        failed = sum(not listing.ok for listing in self.listings)
        if not self.listings:
            state = "no feeds, sitemaps or pages configured"
        elif not failed:
            state = "reachable"
        elif not self.reached:
            state = "unreachable"
        else:
            state = f"reachable, {failed} of {len(self.listings)} listings failed"
        head = f"{'ok' if self.ok else 'FAIL':<6}{self.name} [{self.language or '?'}]: {state}"
        return [head] + [listing.line() for listing in self.listings]


def check_sources(config: Config, timeout: float | None = None,
                  sources: Iterable[Source] | None = None) -> list[SourceResult]:
    """Fetch every listing of `sources` (default: all configured) once; results in
    config order."""
    from crawler.settings import USER_AGENT

    chosen = list(config.sources if sources is None else sources)
    crawl = config.crawl
    seconds = timeout if timeout is not None else crawl.timeout_seconds
    results = [SourceResult(s.name, s.language) for s in chosen]
    # One queue per host; each listing is filled in place, so the report keeps the
    # config's order whatever order the answers come in.
    queues: dict[str, list[ListingResult]] = {}
    for source, result in zip(chosen, results, strict=True):
        for kind, attribute in KINDS:
            for url in getattr(source, attribute):
                listing = ListingResult(source.name, kind, url)
                result.listings.append(listing)
                queues.setdefault(_host_key(url), []).append(listing)

    def run_host(queue: list[ListingResult]) -> None:
        for position, listing in enumerate(queue):
            if position and crawl.delay_seconds:
                time.sleep(crawl.delay_seconds)
            _check_listing(listing, timeout=seconds, max_bytes=crawl.max_page_bytes,
                           allow_private=crawl.allow_private_addresses,
                           user_agent=USER_AGENT)

    with ThreadPoolExecutor(max_workers=HOSTS_AT_ONCE) as pool:
        for future in [pool.submit(run_host, queue) for queue in queues.values()]:
            future.result()
    # A listing whose newest item is older than max_age_days gives a crawl nothing: say so
    # (it still passes: a quiet source is not a broken one).
    oldest = datetime.now(UTC) - timedelta(days=crawl.max_age_days)
    for listing in (item for r in results for item in r.listings):
        if listing.ok and listing.newest and datetime.fromisoformat(listing.newest) < oldest:
            listing.stale_after = crawl.max_age_days
    return results


def render_report(results: list[SourceResult], config_path: object = None) -> str:
    listings = sum(len(r.listings) for r in results)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = f" of {config_path}" if config_path else ""
    lines = [f"Source check{where}, {now}: {len(results)} sources, {listings} listings"]
    for result in results:
        lines.extend(result.lines())
    failed = [r for r in results if not r.ok]
    unreachable = sum(not r.reached for r in failed)
    lines.append(f"{len(results) - len(failed)} of {len(results)} sources passed; "
                 f"{len(failed)} failed ({unreachable} unreachable).")
    return "\n".join(lines)


# --- one listing -----------------------------------------------------------------------

class _Refused(Exception):
    """A request we will not send (private address) or could not address (DNS).
    `after_redirect`: a server did answer, with a redirect to this target."""

    after_redirect = False


def _check_listing(listing: ListingResult, *, timeout: float, max_bytes: int,
                   allow_private: bool, user_agent: str) -> None:
    try:
        status, headers, body, final_url, hops = _fetch(
            listing.url, timeout=timeout, max_bytes=max_bytes,
            allow_private=allow_private, user_agent=user_agent)
    except _Refused as exc:
        listing.reached = exc.after_redirect
        listing.reason = str(exc)
        return
    except _TooLarge as exc:
        listing.reached = True
        listing.reason = str(exc)
        return
    except Exception as exc:  # every network failure becomes a reason, never a crash
        listing.reached, listing.reason = _describe(exc, timeout)
        redirect = getattr(exc, "frwatch_redirect", None)   # set by _fetch
        if redirect:
            listing.reached, listing.redirect = True, redirect
        return
    listing.reached = True
    listing.status = status
    listing.final_url = final_url
    if hops:
        listing.redirect = (hops[0], final_url)
    if status >= 400:
        listing.reason = f"HTTP {status} {http.client.responses.get(status, '')}".rstrip()
        return
    content_type = headers.get("Content-Type", "")
    if headers.get("Content-Encoding", "").lower() in ("gzip", "x-gzip"):
        from crawler.discovery import maybe_gunzip

        try:
            body = maybe_gunzip(body)
        except ValueError as exc:
            listing.reason = f"broken gzip response: {exc}"
            return
    if not body.strip():
        listing.reason = f"empty response (HTTP {status})"
        return
    listing.format = sniff_format(body, content_type)
    {"feed": _read_feed, "sitemap": _read_sitemap, "page": _read_page}[listing.kind](
        listing, body, final_url, content_type)


def _read_feed(listing: ListingResult, body: bytes, url: str, content_type: str) -> None:
    from crawler.discovery import parse_feed

    if listing.format == "HTML":
        listing.reason = "not a feed: the server sent an HTML page"
        return
    found = parse_feed(body, url, content_type)
    if found.error == "broken feed: no Content-type specified" and listing.format in (
            "RSS", "RSS 1.0", "Atom"):
        # parse_feed hands feedparser a Content-Location without a Content-Type, which
        # feedparser flags; with no entries to show, a valid empty feed then reads as
        # "broken". It is empty.
        found.error = None
    if found.error:
        hint = (" (it is a sitemap: list it under sitemaps)"
                if listing.format in ("sitemap", "sitemap index") else "")
        listing.reason = found.error + hint
        return
    _count(listing, found.entries, "the feed lists no items")


def _read_sitemap(listing: ListingResult, body: bytes, url: str, content_type: str) -> None:
    from crawler.discovery import parse_sitemap

    if listing.format == "HTML":
        listing.reason = "not a sitemap: the server sent an HTML page"
        return
    found = parse_sitemap(body, url)
    if found.error:
        listing.reason = found.error
        return
    if found.sitemaps:
        listing.format = "sitemap index"
        _count(listing, found.sitemaps, "")
        return
    if any(entry.news for entry in found.entries):
        listing.format = "sitemap (Google News)"
    _count(listing, found.entries, "the sitemap lists no URLs")


def _read_page(listing: ListingResult, body: bytes, url: str, content_type: str) -> None:
    # The link extraction and filters of the pages spider (crawler/spiders/news.py).
    from scrapy.http import HtmlResponse
    from scrapy.linkextractors import LinkExtractor

    from crawler.discovery import looks_like_article

    if listing.format != "HTML" and "html" not in content_type.lower():
        listing.reason = (f"section page is not HTML "
                          f"({content_type.split(';')[0].strip() or 'no content type'})")
        return
    listing.format = "HTML"
    response = HtmlResponse(url=url, body=body, headers={"Content-Type": content_type
                                                         or "text/html"})
    links = [link for link in LinkExtractor(unique=True).extract_links(response)
             if same_site(link.url, url) and looks_like_article(link.url)]
    listing.items = len(links)
    listing.ok = bool(links)
    if not links:
        listing.reason = "no article links on the page"


def _count(listing: ListingResult, entries: list, empty_reason: str) -> None:
    listing.items = len(entries)
    dates = [entry.published for entry in entries if entry.published]
    listing.newest = max(dates) if dates else None
    listing.ok = bool(entries)
    if not entries:
        listing.reason = f"empty: {empty_reason or 'the index names no sitemaps'}"


# --- HTTP ------------------------------------------------------------------------------

class _TooLarge(Exception):
    pass


def _guard(url: str, allow_private: bool) -> None:
    """Refuse a non-public target (frwatch.urls), resolving host names first."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise _Refused(f"not an http(s) URL: {url}")
    host = parts.hostname or ""
    if allow_private:
        return
    try:
        # An IPv4/IPv6 sockaddr starts with the address as text (the int is other families').
        addresses = [str(info[4][0])
                     for info in socket.getaddrinfo(host, parts.port or None)]
    except (OSError, UnicodeError) as exc:
        raise _Refused(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    blocked = [a for a in addresses if is_private_address(a)]
    if blocked:
        raise _Refused(f"private address blocked: {host} is {blocked[0]} "
                       "(set crawl.allow_private_addresses to allow)")


class _FollowChecked(urllib.request.HTTPRedirectHandler):
    """Follows redirects (up to MAX_REDIRECTS), checking every target and noting the
    status of each hop."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        self.hops: list[int] = []
        self.targets: list[str] = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        try:
            _guard(newurl, self.allow_private)
        except _Refused as exc:
            refused = _Refused(f"redirect ({code}) to {newurl} refused: {exc}")
            refused.after_redirect = True
            raise refused from None
        self.hops.append(code)
        self.targets.append(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch(url: str, *, timeout: float, max_bytes: int, allow_private: bool,
           user_agent: str) -> tuple[int, dict[str, str], bytes, str, list[int]]:
    """(status, headers, body, final URL, redirect statuses); HTTP errors are answers."""
    from w3lib.url import safe_url_string

    url = safe_url_string(url)   # non-ASCII query terms, as Scrapy would send them
    _guard(url, allow_private)
    redirects = _FollowChecked(allow_private)
    opener = urllib.request.build_opener(redirects)
    request = urllib.request.Request(url, headers={
        "User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip"})
    deadline = time.monotonic() + timeout
    try:
        response = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise  # a redirect urllib would not follow: a loop, or no Location
        response = exc
    except Exception as exc:
        if redirects.hops:   # the listing answered; where it sent us did not
            exc.frwatch_redirect = (redirects.hops[0], redirects.targets[-1])  # type: ignore[attr-defined]
        raise
    with response:
        body = _read(response, max_bytes, deadline, timeout)
        headers = {name: value for name, value in response.headers.items()}
        return (response.status, headers, body, response.geturl(), redirects.hops)


def _read(response, max_bytes: int, deadline: float, timeout: float) -> bytes:  # noqa: ANN001
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError(f"timeout after {timeout:g} s (the body never ended)")
        chunk = response.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge(f"too large: more than {max_bytes} bytes (crawl.max_page_bytes)")
        chunks.append(chunk)


def _describe(exc: BaseException, timeout: float) -> tuple[bool, str]:
    """(reached, reason) for an exception raised while fetching."""
    if isinstance(exc, urllib.error.HTTPError):   # a 3xx urllib gave up on
        if "infinite loop" in str(exc.reason) or "redirect" in str(exc.reason).lower():
            return True, "redirect loop (too many redirects)"
        return True, f"HTTP {exc.code} without a usable Location"
    cause: BaseException = exc
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        cause = exc.reason
    if isinstance(cause, _Refused):
        return False, str(cause)
    if isinstance(cause, (TimeoutError, socket.timeout)):
        said = str(cause)
        return False, said if "timeout after" in said else f"timeout after {timeout:g} s"
    if isinstance(cause, ConnectionRefusedError):
        return False, "connection refused"
    if isinstance(cause, socket.gaierror):
        return False, f"cannot resolve host: {cause.strerror or cause}"
    if isinstance(cause, ssl.SSLError):
        return False, f"TLS error: {one_line(cause)}"
    if isinstance(cause, ConnectionResetError):
        return True, "connection reset by the server"
    if isinstance(cause, http.client.RemoteDisconnected):
        return True, "connection closed by the server before it answered"
    if isinstance(cause, http.client.IncompleteRead):
        return True, "connection closed before the whole response arrived"
    if isinstance(cause, (http.client.HTTPException, ValueError)):
        return True, f"broken HTTP response: {one_line(cause)}"
    if isinstance(cause, OSError):
        return False, f"network error: {cause.strerror or one_line(cause)}"
    return False, f"{type(cause).__name__}: {one_line(cause)}"


# --- small helpers ---------------------------------------------------------------------

_DOCTYPE_HTML = re.compile(rb"^\s*<!doctype\s+html", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_ROOTS = {b"rss": "RSS", b"rdf": "RSS 1.0", b"feed": "Atom", b"urlset": "sitemap",
          b"sitemapindex": "sitemap index", b"html": "HTML"}


def sniff_format(body: bytes, content_type: str = "") -> str | None:
    """What a listing's body is, from its first bytes: RSS, RSS 1.0, Atom, JSON Feed,
    sitemap, sitemap index or HTML (None when it is none of these)."""
    from crawler.discovery import maybe_gunzip

    try:
        body = maybe_gunzip(body)
    except ValueError:
        return None
    head = body[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return "JSON Feed" if b"jsonfeed.org" in head else "JSON"
    if _DOCTYPE_HTML.match(head):
        return "HTML"
    # Skip the XML declaration, comments, doctypes and processing instructions.
    cleaned = re.sub(rb"<\?.*?\?>|<!--.*?-->|<![^>]*>", b"", head, flags=re.DOTALL)
    match = _FIRST_ELEMENT.search(cleaned)
    if match:
        name = match.group(1).rsplit(b":", 1)[-1].lower()
        if name in _ROOTS:
            return _ROOTS[name]
    if "html" in content_type.lower():
        return "HTML"
    return None


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"


def _items_word(kind: str, fmt: str | None, count: int) -> str:
    if fmt == "sitemap index":
        word = "sitemap"
    elif kind == "page":
        word = "article link"
    elif kind == "sitemap":
        word = "URL"
    else:
        word = "item"
    return word if count == 1 else word + "s"


def _short(stamp: str) -> str:
    return stamp[:16].replace("T", " ")


