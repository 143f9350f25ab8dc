"""URL canonicalisation: one URL per article, whatever link led to it."""

from __future__ import annotations

import ipaddress
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
    """True when an IP address (``[::1]``, ``fe80::1%eth0`` forms too) is not globally
    routable: private, loopback, link-local, reserved or multicast."""
    ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    return not ip.is_global or ip.is_multicast


def same_site(url_a: str, url_b: str) -> bool:
    """True when both URLs share a host (ignoring a leading ``www.``) and port."""
    def key(url: str) -> tuple[str, int | None]:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return (host.removeprefix("www."), parts.port)

    return key(url_a) == key(url_b)
