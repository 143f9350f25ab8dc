"""Downloader middlewares: the private-address guard and retry backoff."""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest


class PrivateAddressBlocked(IgnoreRequest):
    """The request's host is, or resolves to, a private, loopback or link-local address."""


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not ip.is_global or ip.is_multicast


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
        blocked = [a for a in addresses if _private(a)]
        if blocked:
            raise PrivateAddressBlocked(
                f"private address blocked: {host} is {blocked[0]} "
                "(set crawl.allow_private_addresses to allow)")
        return None


class RetryBackoff:
    """Waits before each retry: FRWATCH_RETRY_BACKOFF_BASE * 2**(n-1) seconds, capped at
    FRWATCH_RETRY_BACKOFF_MAX, so that a struggling server is not hammered."""

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
            await asyncio.sleep(min(self.cap, self.base * 2 ** (retries - 1)))
        return None


__all__ = ["PrivateAddressBlocked", "PrivateAddressGuard", "RetryBackoff"]
