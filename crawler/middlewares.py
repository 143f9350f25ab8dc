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
from scrapy.exceptions import CannotResolveHostError, NotConfigured
from scrapy.http import Response
from twisted.internet.error import DNSLookupError

from crawler.resolver import (
    PrivateAddressBlocked,
    allow_private_addresses,
    blocked,
    guarded_resolver_installed,
    refusal_for,
)
from frwatch.urls import is_private_address


class PrivateAddressGuard:
    """Refuses requests to non-public IP literals; off (NotConfigured) when the config's
    `crawl.allow_private_addresses`, or FRWATCH_ALLOW_PRIVATE_ADDRESSES if set, allows them.

    Host names are checked where they are connected to, by `crawler.resolver.
    GuardedResolver` (the address checked is the address used: no DNS rebinding); IP
    literals never reach a resolver, so they are checked here, before robots.txt.
    Redirects pass through here and through the resolver again, so they cannot lead
    around either. Should the guarded resolver not be installed (TWISTED_DNS_RESOLVER
    changed, no reactor), host names are refused: the guard fails closed.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressGuard:
        if allow_private_addresses(crawler.settings):
            raise NotConfigured  # without a message: Scrapy would warn on every crawl
        return cls()

    async def process_request(self, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        if not host:  # Twisted would connect to 0.0.0.0, this machine
            raise PrivateAddressBlocked(f"private address blocked: no host in {request.url}")
        try:
            private = is_private_address(host)
        except ValueError:  # a host name: the resolver decides
            if guarded_resolver_installed():
                return None
            raise PrivateAddressBlocked(
                f"private address blocked: {host} cannot be checked, the guarded "
                "resolver is not installed (TWISTED_DNS_RESOLVER)") from None
        if private:
            raise blocked(host, ipaddress.ip_address(host.split("%", 1)[0]).compressed)
        return None


class PrivateAddressRefusals:
    """Names the guarded resolver's refusals (crawler/resolver.py).

    Twisted reports a refused answer as a failed lookup, which RetryMiddleware would
    retry and the store would record as "DNS lookup failed". Placed after it in the
    chain (a higher number: exceptions travel from the downloader outwards), this turns
    the failure back into PrivateAddressBlocked, which is neither retried nor hidden.
    Off (NotConfigured) when private addresses are allowed: nothing is refused then.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressRefusals:
        if allow_private_addresses(crawler.settings):
            raise NotConfigured  # without a message: Scrapy would warn on every crawl
        return cls()

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            refusal = refusal_for(urlsplit(request.url).hostname or "")
            if refusal is not None:
                raise refusal from exception
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

