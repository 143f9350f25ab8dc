"""Spiders: `news` discovers through feeds, sitemaps and section pages; `feeds`,
`sitemaps` and `pages` each use one of the three.

`SPIDER_KINDS` is the one list of spiders (name -> the kinds of listing it reads, as
the config's source fields are named); the spider classes and the CLI's `--spider`
choice both come from it. No Scrapy import here, so the CLI can read it cheaply.
"""

SPIDER_KINDS: dict[str, tuple[str, ...]] = {
    "news": ("feeds", "sitemaps", "pages"),
    "feeds": ("feeds",),
    "sitemaps": ("sitemaps",),
    "pages": ("pages",),
}
