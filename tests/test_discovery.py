"""Feed, sitemap and link discovery on real published feeds and hand-made sitemaps."""

from __future__ import annotations

import gzip

import pytest

from crawler.discovery import looks_like_article, parse_date, parse_feed, parse_sitemap
from frwatch.urls import canonicalize
from tests.support.paths import TEST_DATA

FEEDS = TEST_DATA / "feeds"


@pytest.mark.parametrize("name, count, first_title", [
    ("guardian.rss", 55, "Trump State of the Union address promised unity but emphasized discord"),
    ("heise.atom", 15, "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei"),
    ("tpm.atom", 20, "Hannity Announces Fox Has Hired Sebastian Gorka As NatSec Strategist"),
    ("npr-technology.json", 25, "Keller Rinaudo: How can delivery drones save lives?"),
    ("uolNoticias.rss", 15, None),
    ("wapowellness.xml", 29, None),
    ("feedburner.atom", 25, None),
    ("heraldsun.rss", 2, None),
    ("encoding.rss", 40, None),
])
def test_real_feeds_parse(name, count, first_title):
    found = parse_feed((FEEDS / name).read_bytes(), f"http://feeds.test/{name}")
    assert found.error is None
    assert len(found.entries) == count
    assert all(e.url.startswith(("http://", "https://")) for e in found.entries)
    if first_title:
        assert found.entries[0].title == first_title
        assert found.entries[0].published  # a date, in ISO 8601 UTC
        assert found.entries[0].published.endswith("+00:00")


def test_relative_links_resolve_against_the_feed():
    found = parse_feed((FEEDS / "tpm.atom").read_bytes(), "http://feeds.test/tpm.atom")
    assert found.entries[0].url.startswith("http://feeds.test/livewire/")


@pytest.mark.parametrize("name", ["illegally-nested.xml", "saxerror.xml",
                                  "invalid-characters-gzipped.xml", "guid-dupes.xml"])
def test_broken_feeds_give_what_they_can(name):
    found = parse_feed((FEEDS / name).read_bytes(), f"http://feeds.test/{name}")
    urls = [e.url for e in found.entries]
    assert len(urls) == len(set(urls))  # duplicated GUIDs/links collapse


def test_html_is_not_a_feed():
    found = parse_feed((FEEDS / "notafeed.html").read_bytes(), "http://feeds.test/x",
                       "text/html")
    assert found.entries == []
    assert found.error is not None and found.error.startswith("not a feed")


@pytest.mark.parametrize("body", [b"", b"\x00\x01binary", b"{not json", b"[1, 2]",
                                  b'{"items": "nope"}', b"<rss><channel><item>"])
def test_garbage_never_raises(body):
    found = parse_feed(body, "http://feeds.test/x")
    assert found.entries == [] or all(e.url for e in found.entries)
    sitemap = parse_sitemap(body, "http://feeds.test/x")
    assert sitemap.entries == [] and sitemap.error


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://news.test/2020/06/10/amazon-pauses-rekognition</loc>
    <news:news><news:publication><news:name>News</news:name><news:language>en</news:language>
    </news:publication><news:publication_date>2020-06-10T14:30:00-04:00</news:publication_date>
    <news:title>Amazon pauses Rekognition</news:title></news:news></url>
  <url><loc>https://news.test/about</loc><lastmod>2019-01-01</lastmod></url>
</urlset>"""


def test_news_sitemap_dates_and_titles():
    found = parse_sitemap(NEWS_SITEMAP, "https://news.test/sitemap.xml")
    first, second = found.entries
    assert first.published == "2020-06-10T18:30:00+00:00"
    assert first.title == "Amazon pauses Rekognition"
    assert first.news and not second.news
    assert second.published == "2019-01-01T00:00:00+00:00"


def test_sitemap_index_and_gzip():
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://news.test/s1.xml.gz</loc><lastmod>2020-06-11</lastmod></sitemap>
    </sitemapindex>"""
    found = parse_sitemap(gzip.compress(index), "https://news.test/index.xml")
    assert [s.url for s in found.sitemaps] == ["https://news.test/s1.xml.gz"]
    assert found.entries == []


def test_gzip_bomb_refused():
    bomb = gzip.compress(b"<urlset>" + b" " * 60_000_000 + b"</urlset>")
    found = parse_sitemap(bomb, "https://news.test/bomb.xml.gz")
    assert found.error is not None and "beyond" in found.error


@pytest.mark.parametrize("url, expected", [
    ("https://news.test/2020/06/10/amazon-rekognition", True),
    ("https://news.test/technology/amazon-pauses-police-use-of-rekognition.html", True),
    ("https://news.test/story/123456", True),
    ("https://news.test/technology/", False),
    ("https://news.test/tag/facial-recognition-news/", False),
    ("https://news.test/about", False),
    ("https://news.test/author/jane-q-reporter", False),
    ("https://news.test/images/a-big-photo-of-things.jpg", False),
])
def test_article_links_are_told_from_the_rest(url, expected):
    assert looks_like_article(url) is expected


@pytest.mark.parametrize("url, expected", [
    ("https://News.Test:443/a/Story.html?utm_source=rss&utm_medium=feed&id=7#comments",
     "https://news.test/a/Story.html?id=7"),
    ("http://news.test/x?b=2&a=1&fbclid=abc&gclid=d", "http://news.test/x?a=1&b=2"),
    ("http://news.test", "http://news.test/"),
    ("http://news.test:8080/y?ref=home", "http://news.test:8080/y"),
])
def test_canonical_urls(url, expected):
    assert canonicalize(url) == expected
    assert canonicalize(expected) == expected


def test_dates():
    assert parse_date("Wed, 10 Jun 2020 14:30:00 GMT") == "2020-06-10T14:30:00+00:00"
    assert parse_date("2020-06-10") == "2020-06-10T00:00:00+00:00"
    assert parse_date("not a date") is None
    assert parse_date("") is None


def test_rss_1_0_rdf():
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://news.test/"><title>News</title><link>https://news.test/</link>
    <items><rdf:Seq><rdf:li resource="https://news.test/2020/06/ibm-exits-face-recognition"/>
    </rdf:Seq></items></channel>
  <item rdf:about="https://news.test/2020/06/ibm-exits-face-recognition">
    <title>IBM exits face recognition</title>
    <link>https://news.test/2020/06/ibm-exits-face-recognition</link>
    <dc:date>2020-06-08T22:00:00Z</dc:date></item>
</rdf:RDF>"""
    found = parse_feed(rdf, "https://news.test/index.rdf")
    assert [(e.url, e.published, e.title) for e in found.entries] == [
        ("https://news.test/2020/06/ibm-exits-face-recognition", "2020-06-08T22:00:00+00:00",
         "IBM exits face recognition")]
