"""The `frontier` spider: the news spider as one worker of a distributed crawl.

`frwatch crawl --frontier URL` builds the same class itself; this named one is for
Scrapyd (`schedule.json … spider=frontier setting=FRWATCH_FRONTIER=redis://…`) and
`scrapy crawl frontier`. Without the distributed extra (scrapy-redis) it is absent, and
the other spiders load as before.
"""

from __future__ import annotations

from crawler.spiders.news import NewsSpider

try:
    from crawler.worker import FrontierSpiderMixin
except ImportError:  # pip install 'frwatch[distributed]'
    pass
else:

    class FrontierSpider(FrontierSpiderMixin, NewsSpider):
        """Listings from the frontier's start list; every event to the one writer."""

        name = "frontier"
