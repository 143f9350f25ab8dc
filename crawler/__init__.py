"""The Scrapy project: discover, fetch, extract and store news articles."""
