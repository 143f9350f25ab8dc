"""URL canonicalisation: one URL per article, whatever link led to it."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that identify a campaign or a click, never the page itself.
TRACKING_PREFIXES = ("utm_", "at_", "mtm_", "pk_", "hsa_", "ns_", "wt_", "oly_")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "igshid", "mc_cid", "mc_eid", "mkt_tok", "_ga", "_gl", "_hsenc", "_hsmi",
    "ref", "ref_src", "ref_url", "referrer", "cmpid", "cmp", "ocid", "smid", "smtyp",
    "taid", "guccounter", "guce_referrer", "guce_referrer_sig", "mbid", "rss",
    "partner", "ito", "itm_source", "itm_medium", "itm_campaign", "sr_share",
    "__twitter_impression", "s_cid", "spm", "share", "xtor",
})


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonicalize(url: str) -> str:
    """The canonical form of `url`.

    Lower-case scheme and host, no default port, no fragment, no tracking parameters,
    the remaining query parameters sorted; the path is kept as it is (case matters).

    >>> canonicalize("HTTPS://News.Example.com:443/a/Story.html?utm_source=rss&id=7#top")
    'https://news.example.com/a/Story.html?id=7'
    """
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not is_tracking_param(k)]
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = parts.path or "/"
    cleaned = urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))
    return canonicalize_url(cleaned, keep_fragments=False)


def is_private_address(address: str) -> bool:
    """True when an IP address (``[::1]``, ``fe80::1%eth0`` forms too) must not be
    fetched from: anything but a plain public unicast address.

    Refused: every special range `ipaddress` knows (not global, private, loopback,
    link-local, multicast, reserved, unspecified, site-local ``fec0::/10``), a few it may
    not know (`_ALSO_REFUSED`: the local-use NAT64 prefix ``64:ff9b:1::/48`` whole,
    ``192.0.0.0/24``, ``3fff::/20``), and any IPv6 address that carries an
    IPv4 address which is itself refused: IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible
    ``::a.b.c.d``, IPv4-translated ``::ffff:0:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``,
    6to4 ``2002:AABB:CCDD::`` and Teredo ``2001::/32`` (server and client).

    >>> [is_private_address(a) for a in ("8.8.8.8", "::ffff:127.0.0.1", "2002:7f00:1::")]
    [False, True, True]
    """
    ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    if ip in _test_public_addresses():
        return False
    return _refused(ip)


# Special ranges that this Python's `ipaddress` may not know (its tables grow by release):
# IETF protocol assignments (192.0.0.0/24, newer Pythons), the local-use NAT64 prefix
# (RFC 8215), site-local (deprecated), IPv6 documentation (3fff::/20, RFC 9637).
_ALSO_REFUSED = [ipaddress.ip_network(n) for n in (
    "192.0.0.0/24", "64:ff9b:1::/48", "fec0::/10", "3fff::/20")]
_IPV4_CARRIERS = [ipaddress.ip_network(n) for n in (
    "::/96",            # IPv4-compatible (deprecated), also :: and ::1
    "::ffff:0:0/96",    # IPv4-mapped
    "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
    "64:ff9b::/96",     # NAT64 well-known prefix
)]


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local
            or ip.is_multicast or ip.is_reserved or ip.is_unspecified):
        return True
    if any(ip in network for network in _ALSO_REFUSED):
        return True
    if isinstance(ip, ipaddress.IPv4Address):
        return False
    if ip.is_site_local:
        return True
    return any(_refused(embedded) for embedded in _embedded_ipv4(ip))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to, by any of the transition schemes."""
    found = []
    if any(ip in network for network in _IPV4_CARRIERS):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


# TEST ONLY. Loopback addresses named here (comma-separated) count as public, so that
# tests can stand up a "public" server on 127.0.0.2 and check what the guard does on the
# way from it to 127.0.0.1. Anything but a loopback address is ignored: the variable can
# never open the guard to another host. Never set it outside the test suite.
TEST_PUBLIC_ADDRESSES_ENV = "FRWATCH_TEST_PUBLIC_ADDRESSES"


def _test_public_addresses() -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    found = set()
    for item in os.environ.get(TEST_PUBLIC_ADDRESSES_ENV, "").split(","):
        try:
            ip = ipaddress.ip_address(item.strip())
        except ValueError:
            continue
        if ip.is_loopback:
            found.add(ip)
    return found


def same_site(url_a: str, url_b: str) -> bool:
    """True when both URLs share a host (ignoring a leading ``www.``) and port."""
    def key(url: str) -> tuple[str, int | None]:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return (host.removeprefix("www."), parts.port)

    return key(url_a) == key(url_b)
