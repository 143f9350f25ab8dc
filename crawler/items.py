"""What the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ArticlePage:
    """A fetched article page, before and after extraction."""

    url: str                    # where the page was finally fetched (after redirects)
    requested_url: str          # the canonical discovered URL that was requested
    source: str                 # the configured source's name
    discovered_via: str         # "feed", "sitemap" or "page"
    html: str
    hint_published: str | None = None   # date from the feed or sitemap entry
    hint_date_source: str | None = None
    hint_title: str | None = None
    listing: str | None = None          # the feed, sitemap or section page that listed it
    extracted: dict[str, Any] = field(default_factory=dict)
