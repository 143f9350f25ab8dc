"""Downloader middlewares: the private-address guard and retry backoff."""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from frwatch.urls import is_private_address


class PrivateAddressBlocked(IgnoreRequest):
    """The request's host is, or resolves to, a private, loopback or link-local address."""


class PrivateAddressGuard:
    """Refuses requests to non-public addresses unless FRWATCH_ALLOW_PRIVATE_ADDRESSES.

    Host names are resolved first, so a public-looking name that points at 127.0.0.1 is
    refused too; redirects pass through here again, so they cannot lead around it.
    """

    def __init__(self, allow: bool):
        self.allow = allow

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        return cls(crawler.settings.getbool("FRWATCH_ALLOW_PRIVATE_ADDRESSES"))

    async def process_request(self, request: Request) -> None:
        if self.allow:
            return None
        host = urlsplit(request.url).hostname or ""
        try:
            addresses = [ipaddress.ip_address(host.strip("[]")).compressed]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None)
            except (OSError, UnicodeError):
                return None  # the download itself will report the DNS failure
            addresses = [info[4][0] for info in infos]
        blocked = [a for a in addresses if is_private_address(a)]
        if blocked:
            raise PrivateAddressBlocked(
                f"private address blocked: {host} is {blocked[0]} "
                "(set crawl.allow_private_addresses to allow)")
        return None


class FollowEveryRedirect(RedirectMiddleware):
    """Redirect targets are fetched even when already requested in this run.

    Scrapy's duplicate filter would drop them without a word: a redirect loop would
    vanish instead of failing, and an old address that redirects to a known article
    would never be remembered. Loops now end at REDIRECT_MAX_TIMES with a recorded
    failure; the cost is an occasional second fetch of a page.
    """

    def process_response(self, request: Request, response: Response,
                         spider: object = None) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request) and result is not request:
            result.dont_filter = True
        return result


class RetryBackoff:
    """Waits before each retry: FRWATCH_RETRY_BACKOFF_BASE * 2**(n-1) seconds, or what the
    server asked for in Retry-After if that is longer, capped at FRWATCH_RETRY_BACKOFF_MAX,
    so that a struggling server is not hammered."""

    def __init__(self, base: float, cap: float):
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoff:
        settings = crawler.settings
        return cls(settings.getfloat("FRWATCH_RETRY_BACKOFF_BASE"),
                   settings.getfloat("FRWATCH_RETRY_BACKOFF_MAX"))

    async def process_request(self, request: Request) -> None:
        retries = request.meta.get("retry_times", 0)
        if retries and self.base > 0:
            wait = max(self.base * 2 ** (retries - 1), request.meta.get("retry_after", 0.0))
            await asyncio.sleep(min(self.cap, wait))
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        # Runs before RetryMiddleware builds the retry (a copy of this request's meta).
        value = response.headers.get(b"Retry-After")
        if value and response.status in (429, 503):
            seconds = _retry_after_seconds(value.decode("latin-1"))
            if seconds is not None and seconds > self.cap:
                # Longer than we wait within a run: record the failure now and let the
                # next run try again, rather than hold the whole run back.
                request.meta["dont_retry"] = True
            elif seconds is not None:
                request.meta["retry_after"] = seconds
        return response


def _retry_after_seconds(value: str) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

