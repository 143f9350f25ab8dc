"""Property-based tests: URL canonicalisation, config loading, and the feed, sitemap and
link entry points never fail in ways a user would see as a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.discovery import looks_like_article, parse_date, parse_feed, parse_sitemap
from frwatch.config import load_config
from frwatch.errors import FrwatchError
from frwatch.urls import canonicalize, is_tracking_param

segment = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                  min_size=0, max_size=12)
hosts = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}(\.[A-Za-z]{2,6}){1,2}", fullmatch=True)
params = st.lists(st.tuples(st.sampled_from(
    ["id", "page", "q", "utm_source", "utm_medium", "fbclid", "gclid", "ref", "section",
     "UTM_Campaign", "mc_cid"]), segment), max_size=6)


@st.composite
def urls(draw):
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "HttpS"]))
    host = draw(hosts)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/".join(draw(st.lists(segment, max_size=4)))
    query = "&".join(f"{k}={v}" for k, v in draw(params))
    fragment = draw(st.sampled_from(["", "#comments", "#top"]))
    return f"{scheme}://{host}{port}/{path}" + (f"?{query}" if query else "") + fragment


@given(urls())
@settings(max_examples=300)
def test_canonical_urls_are_stable_and_clean(url):
    canonical = canonicalize(url)
    assert canonicalize(canonical) == canonical
    parts = urlsplit(canonical)
    assert parts.scheme in ("http", "https")
    assert parts.netloc == parts.netloc.lower()
    assert not parts.fragment
    assert not any(is_tracking_param(k) for k, _ in parse_qsl(parts.query,
                                                              keep_blank_values=True))
    assert not (parts.scheme == "http" and parts.netloc.endswith(":80"))
    assert not (parts.scheme == "https" and parts.netloc.endswith(":443"))


@given(urls())
def test_tracking_parameters_never_split_an_article(url):
    base = url.split("#")[0]
    tracked = base + ("&" if "?" in base else "?") + "utm_source=rss&fbclid=x"
    assert canonicalize(tracked) == canonicalize(url)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)
config_like = st.fixed_dictionaries({}, optional={
    "topic": st.fixed_dictionaries({"name": yaml_values}, optional={
        "seeds": yaml_values, "keywords": yaml_values}) | yaml_values,
    "sources": st.lists(st.fixed_dictionaries({"name": yaml_values}, optional={
        "feeds": st.lists(st.sampled_from(["https://a.example/rss", "a.example/rss", "ftp://x",
                                           ""]) | yaml_values, max_size=3)}), max_size=3)
    | yaml_values,
    "crawl": st.dictionaries(st.sampled_from(["max_age_days", "delay_seconds", "colour",
                                              "allow_private_addresses"]), yaml_values)
    | yaml_values,
    "alerts": st.lists(st.dictionaries(st.sampled_from(["apprise", "atom", "mode", "name"]),
                                       yaml_values, max_size=3), max_size=2) | yaml_values,
    "db": yaml_values,
})


@given(config_like)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_config_loads_or_fails_in_one_line(document):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sources.yaml"
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
        try:
            load_config(path)
        except FrwatchError as exc:
            message = str(exc)
            # Every error in the file at once, one line each, each naming the file.
            assert message.splitlines()
            assert all(line.startswith(f"{path}: ") for line in message.splitlines())


@given(st.text(max_size=300))
def test_any_text_as_config_loads_or_fails_in_one_line(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sources.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_config(path)
        except FrwatchError as exc:
            assert "\n" not in str(exc)


FEED_PARTS = st.lists(st.sampled_from([
    "<rss version='2.0'>", "<channel>", "<item>", "<title>T</title>",
    "<link>https://n.example/2020/06/a-story-about-this</link>", "<link>/relative/path</link>",
    "<pubDate>Wed, 10 Jun 2020 14:30:00 GMT</pubDate>", "<pubDate>yesterday</pubDate>",
    "</item>", "</channel>", "</rss>", "<feed xmlns='http://www.w3.org/2005/Atom'>",
    "<entry><link href='https://n.example/e'/></entry>", "</feed>", "<![CDATA[", "&amp;",
    "&bogus;", "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>", "\x00", "ü", "{", '"items": [', "]", "}",
    '{"url": "https://n.example/j"}', "<urlset>", "<url><loc>https://n.example/s</loc>",
    "<news:publication_date>2020-06-10</news:publication_date>", "</url>", "</urlset>",
    "<sitemapindex>", "<sitemap><loc>https://n.example/s.xml</loc></sitemap>",
]), max_size=25).map("".join)


@given(FEED_PARTS | st.binary(max_size=500) .map(lambda b: b.decode("latin-1")),
       st.sampled_from(["", "application/rss+xml", "application/json", "text/html"]))
@settings(max_examples=400)
def test_feed_and_sitemap_parsers_never_raise(body, content_type):
    for raw in (body.encode("utf-8", "surrogatepass"), body.encode("latin-1", "replace")):
        feed = parse_feed(raw, "https://n.example/feed", content_type)
        sitemap = parse_sitemap(raw, "https://n.example/sitemap.xml")
        for found in (feed, sitemap):
            assert found.error is None or isinstance(found.error, str)
            for entry in found.entries + found.sitemaps:
                assert entry.url.startswith(("http://", "https://"))
                assert entry.published is None or parse_date(entry.published)


@given(urls())
def test_link_classifier_never_raises(url):
    assert looks_like_article(url) in (True, False)
