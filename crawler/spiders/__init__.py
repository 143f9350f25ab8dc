"""Spiders: `news` discovers through feeds, sitemaps and section pages; `feeds`,
`sitemaps` and `pages` each use one of the three."""
