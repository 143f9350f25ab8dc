"""Enrichment of stored articles: embeddings, relevance, reprints, story clusters.

Reads and writes the store only, through `enrich.store` (never Scrapy, never click):
`enrich.run.enrich_store` wires the steps of `enrich.steps` over it.
"""
