"""One crawl in this process: Scrapy's settings for it, the run, the run's row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from frwatch.config import Config
from frwatch.db import open_db
from frwatch.errors import FrwatchError


def run_crawl(config: Config, db_path: Path, spider: str = "news",
              log_level: str = "WARNING", settings: dict[str, Any] | None = None) -> dict:
    """Run one crawl (`spider` names one of crawler.spiders.SPIDER_KINDS) and return its
    `crawl_runs` row. Scrapy's reactor starts once per process: one crawl per process."""
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings

    open_db(db_path).close()  # fail early, with one line, on an unusable database
    scrapy_settings = Settings()
    scrapy_settings.setmodule("crawler.settings", priority="project")
    scrapy_settings.setdict({"FRWATCH_CONFIG": str(config.path), "FRWATCH_DB": str(db_path),
                             "LOG_LEVEL": log_level, **(settings or {})}, priority="cmdline")
    process = AsyncCrawlerProcess(scrapy_settings)
    crawler = process.create_crawler(spider)  # by name, from SPIDER_MODULES
    process.crawl(crawler)
    process.start()
    store_error = crawler.stats.get_value("frwatch/store_error") if crawler.stats else None
    if store_error:  # disk full, I/O error: stopped; the next run picks up the rest
        raise FrwatchError(f"crawl stopped: {store_error}")
    db = open_db(db_path)
    try:
        return next(db.query("select * from crawl_runs order by id desc limit 1"), {})
    finally:
        db.close()


def run_worker(config: Config, frontier_url: str, log_level: str = "WARNING",
               settings: dict[str, Any] | None = None, follow: bool = False) -> dict:
    """Run one worker of a distributed crawl (crawler.worker) on the frontier at
    `frontier_url` until it is drained (or, with `follow`, until stopped), and return
    its counts. It never opens the store: the writer is `frwatch ingest`."""
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings

    from crawler.frontier import client

    client(frontier_url).close()  # one line, exit 1, when Redis is not there
    from crawler.spiders.news import NewsSpider
    from crawler.worker import LOST_STAT, frontier_spider, worker_settings

    scrapy_settings = Settings()
    scrapy_settings.setmodule("crawler.settings", priority="project")
    extensions = scrapy_settings.getdict("EXTENSIONS")
    scrapy_settings.setdict({"FRWATCH_CONFIG": str(config.path), "LOG_LEVEL": log_level,
                             **worker_settings(frontier_url, follow, extensions),
                             **(settings or {})}, priority="cmdline")
    process = AsyncCrawlerProcess(scrapy_settings)
    crawler = process.create_crawler(frontier_spider(NewsSpider))
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if stats.get(LOST_STAT):
        raise FrwatchError(str(stats[LOST_STAT]))
    return stats
