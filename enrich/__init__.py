"""Enrichment of stored articles: embeddings, relevance, reprints, story clusters.

Reads and writes the store only (never Scrapy). Arrives with the enrichment issue.
"""
