"""The private-address guard where the crawler connects: its DNS resolver.

Scrapy's HTTP download handler connects through Twisted, which asks the reactor's
resolver for the address of every host name and then connects to exactly that address.
`GuardedResolver` is that resolver (TWISTED_DNS_RESOLVER in crawler/settings.py): it
refuses a private, loopback, link-local or otherwise non-public answer, so the address
that is checked is the address that is connected to — no second lookup that a DNS
rebinding could answer differently. A failed lookup gives no address, so nothing is
connected. IP literals never reach a resolver; `crawler.middlewares.PrivateAddressGuard`
checks those (and refuses host names when this resolver is not the one installed).

Twisted's name resolution cannot say why it found no address: a refusal reaches the
download as a failed DNS lookup. The resolver remembers its refusals by host name, and
`crawler.middlewares.PrivateAddressRefusals` turns such a failure back into
`PrivateAddressBlocked` (not retried; recorded as ``private address blocked: …``).

Unless the config's `crawl.allow_private_addresses` (or the Scrapy setting
FRWATCH_ALLOW_PRIVATE_ADDRESSES, e.g. ``-s FRWATCH_ALLOW_PRIVATE_ADDRESSES=1``) allows it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.settings import BaseSettings
from scrapy.utils.datatypes import LocalCache
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from frwatch.errors import FrwatchError
from frwatch.urls import is_private_address


class PrivateAddressBlocked(IgnoreRequest):
    """The request's host is, or resolves to, a private, loopback or link-local address."""


class PrivateAnswerRefused(DNSLookupError):
    """The resolver's refusal, as Twisted sees it: no address, so nothing is connected.
    (A DNSLookupError, so that Twisted does not log it as an unexpected error.)"""


def blocked(host: str, address: str) -> PrivateAddressBlocked:
    """The refusal recorded in `failures` (its reason starts ``private address blocked:``)."""
    return PrivateAddressBlocked(f"private address blocked: {host} is {address} "
                                 "(set crawl.allow_private_addresses to allow)")


def allow_private_addresses(settings: BaseSettings) -> bool:
    """Whether the guard is off: FRWATCH_ALLOW_PRIVATE_ADDRESSES if set, else the config's
    `crawl.allow_private_addresses`. The resolver is built from the process's settings,
    before the spider copies the config into the crawler's, so it reads the config
    itself. A config that cannot be read keeps the guard on (the spider reports it)."""
    if settings.get("FRWATCH_ALLOW_PRIVATE_ADDRESSES") is not None:
        return settings.getbool("FRWATCH_ALLOW_PRIVATE_ADDRESSES")
    from frwatch.config import load_config

    try:
        return load_config(settings.get("FRWATCH_CONFIG")).crawl.allow_private_addresses
    except FrwatchError:
        return False


@implementer(IResolverSimple)
class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching threaded resolver, refusing answers that are not public."""

    allow_private: bool = False

    def __init__(self, reactor: Any, cache_size: int, timeout: float):
        super().__init__(reactor, cache_size, timeout)
        # host name -> the address refused for it at its latest lookup
        self.refused: LocalCache[str, str] = LocalCache(10_000)

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = allow_private_addresses(crawler.settings)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        answer = self.lookup(name, timeout)
        if not self.allow_private:
            answer.addCallback(self._public_only, name)
        return answer

    def lookup(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        """The address to connect to for `name`: the system resolver's answer (cached).
        Fails with DNSLookupError when there is none."""
        return super().getHostByName(name, timeout)

    def _public_only(self, address: str, name: str) -> str:
        try:
            private = is_private_address(address)
        except ValueError:
            private = True  # not an address at all: nothing to connect to
        key = name.lower()
        if private:
            self.refused[key] = address
            raise PrivateAnswerRefused(f"private address blocked: {name} is {address}")
        self.refused.pop(key, None)
        return address


def _installed_resolver() -> GuardedResolver | None:
    # Never imports (so never installs) a reactor: without one, nothing is guarded.
    reactor = sys.modules.get("twisted.internet.reactor")
    resolver = getattr(reactor, "resolver", None)
    return resolver if isinstance(resolver, GuardedResolver) else None


def guarded_resolver_installed() -> bool:
    """Whether the running reactor resolves host names through an active GuardedResolver."""
    resolver = _installed_resolver()
    return resolver is not None and not resolver.allow_private


def refusal_for(host: str) -> PrivateAddressBlocked | None:
    """The refusal behind a failed lookup of `host`, if the guarded resolver refused it."""
    resolver = _installed_resolver()
    address = resolver.refused.get(host.lower()) if resolver is not None else None
    return blocked(host, address) if address is not None else None
