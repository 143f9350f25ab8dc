"""Scrapy settings for frwatch.

The values here are the polite defaults; the spider overrides delay and per-domain
concurrency from the `crawl:` section of the frwatch config (FRWATCH_CONFIG).
"""

from __future__ import annotations

import os

from frwatch import __version__

BOT_NAME = "frwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# The frwatch config and store; the CLI sets both, `scrapy crawl` reads the environment.
FRWATCH_CONFIG = os.environ.get("FRWATCH_CONFIG", "seeds/sources.yaml")
FRWATCH_DB = os.environ.get("FRWATCH_DB")  # None: the config's `db`, else data/frwatch.db
# A distributed crawl's Redis frontier (redis://HOST:PORT/DB), for the `frontier` spider
# (a worker: crawler/worker.py); `frwatch crawl --frontier` sets it. None: one process.
FRWATCH_FRONTIER = os.environ.get("FRWATCH_FRONTIER")
FRWATCH_FRONTIER_FOLLOW = bool(os.environ.get("FRWATCH_FRONTIER_FOLLOW"))
# Extraction worker processes (0: one per core) and trafilatura's fast mode, with the page
# extracted again without it when the fast text is doubtful (crawler.extract.doubtful):
# on two evaluation sets as accurate as trafilatura's default, at far less CPU (README).
FRWATCH_EXTRACT_WORKERS = 0
FRWATCH_EXTRACT_FAST = True
# A page that failed in this many earlier crawls is not asked for again.
FRWATCH_GIVE_UP_AFTER_RUNS = 3
# Retry backoff: the n-th retry of a request waits base * 2**(n-1) seconds, up to max.
FRWATCH_RETRY_BACKOFF_BASE = 2.0
FRWATCH_RETRY_BACKOFF_MAX = 30.0  # a longer Retry-After waits for the next run

USER_AGENT = (
    f"frwatch/{__version__} (+https://github.com/frwatch/frwatch; "
    "a news monitor)"
)
ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 32
# Scrapy starts this many tasks for every response's output; an article page yields one
# item and a listing a few hundred requests, so 100 (the default) spent ~100 tasks a page.
CONCURRENT_ITEMS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10_000_000
DOWNLOAD_WARNSIZE = 5_000_000
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
# The private-address guard for host names: the resolver the downloader connects with
# refuses non-public answers (crawler/resolver.py). Its switch is the config's
# crawl.allow_private_addresses, or FRWATCH_ALLOW_PRIVATE_ADDRESSES if given (-s); that
# setting is deliberately not defined here, so that the config decides by default.
TWISTED_DNS_RESOLVER = "crawler.resolver.GuardedResolver"
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19 starts a remote-control server (Python over a token) with every crawl:
# nothing here needs one.
REMOTE_CONTROL_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.FollowEveryRedirect": 600,
    # IP literals; before robots.txt (100) so that not even robots.txt is asked for.
    "crawler.middlewares.PrivateAddressGuard": 50,
    # Host names: the resolver's refusals, named before RetryMiddleware (550) sees them.
    "crawler.middlewares.PrivateAddressRefusals": 580,
    "crawler.middlewares.RetryBackoff": 560,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 300,
    "crawler.pipelines.StorePipeline": 800,
}
EXTENSIONS = {
    # Owns the store: the run's row, every failure, skip, listing and article written,
    # the spider's questions answered (crawler/recorder.py).
    "crawler.recorder.StoreRecorder": 100,
    # Network, DNS and robots.txt errors: no tracebacks (each is a `failures` row).
    "crawler.extensions.QuietNetworkErrors": 110,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
