"""The private-address guard (issue 11): the address check, the resolver the crawler
connects with, redirects, DNS rebinding and failed lookups — for crawls and for
`frwatch seeds add`, over real HTTP on loopback only.

A "public-looking" server is a LocalWeb bound to 127.0.0.2, which the address check is
told to count as public through its test-only variable FRWATCH_TEST_PUBLIC_ADDRESSES
(frwatch/urls.py; it honours loopback addresses only). The forbidden side is a server on
127.0.0.1 whose request log must stay empty. Host names are answered by
`ScriptedResolver` below, which replaces only the system lookup of the real
GuardedResolver: every check under test is the production one.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawler.resolver import GuardedResolver, PrivateAnswerRefused
from frwatch.localweb import Fault, LocalWeb
from frwatch.urls import TEST_PUBLIC_ADDRESSES_ENV, is_private_address
from tests.support.crawl import Crawl, run_cli

PUBLIC_LOOKING = "127.0.0.2"
DNS_SCRIPT_ENV = "FRWATCH_TEST_DNS"


# --- the address check ------------------------------------------------------------------
@pytest.mark.parametrize("address", [
    # IPv4 special ranges
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "0.1.2.3", "192.0.0.8", "192.0.2.1", "198.18.0.1",
    "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    # IPv6 special ranges
    "::1", "::", "[::1]", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "fec0::1",
    "feff::1", "ff02::1", "ff0e::1", "2001:db8::1", "100::1", "3fff::1",
    # IPv4 carried in IPv6
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "::127.0.0.1", "::10.0.0.1", "::ffff:0:127.0.0.1",
    "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b::10.1.1.1",
    "64:ff9b:1::808:808", "64:ff9b:1::a9fe:a9fe",
    "2002:7f00:1::", "2002:a00:1::1", "2002:a9fe:a9fe::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::1",
])
def test_special_addresses_are_refused(address):
    assert is_private_address(address)


@pytest.mark.parametrize("address", [
    "8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700::1111", "[2606:4700::1111]",
    "2001:4860:4860::8888", "2a00:1450:4001:80b::200e",
])
def test_public_addresses_are_allowed(address):
    assert not is_private_address(address)


def test_the_test_hook_opens_loopback_only(monkeypatch):
    monkeypatch.setenv(TEST_PUBLIC_ADDRESSES_ENV, "127.0.0.2, 10.0.0.1,169.254.169.254,x")
    assert not is_private_address("127.0.0.2")
    assert is_private_address("10.0.0.1") and is_private_address("169.254.169.254")
    assert is_private_address("127.0.0.1")
    monkeypatch.delenv(TEST_PUBLIC_ADDRESSES_ENV)
    assert is_private_address("127.0.0.2")


# --- the resolver, in this process ------------------------------------------------------
class ScriptedResolver(GuardedResolver):
    """TEST ONLY. GuardedResolver whose system lookup is replaced by a script: the JSON
    object in FRWATCH_TEST_DNS maps a host name to its answers, one per lookup (the last
    one repeats); "fail" is a failed lookup, an unknown name fails too (no real DNS).
    Nothing is cached, as after a zero TTL — the setting of a DNS rebinding."""

    lookups: dict[str, int] = {}

    def lookup(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        answers = json.loads(os.environ.get(DNS_SCRIPT_ENV, "{}")).get(name) or ["fail"]
        count = self.lookups[name] = self.lookups.get(name, 0) + 1
        answer = answers[min(count, len(answers)) - 1]
        if answer == "fail":
            return defer.fail(DNSLookupError(f"scripted failure for {name}"))
        return defer.succeed(answer)


def _outcome(deferred: defer.Deferred[str]) -> object:
    found: list[object] = []
    deferred.addBoth(found.append)
    (result,) = found
    return result.value if hasattr(result, "value") else result


def test_resolver_refuses_private_answers_and_failed_lookups(monkeypatch):
    monkeypatch.setenv(DNS_SCRIPT_ENV, json.dumps({
        "public.test": ["8.8.8.8"], "rebind.test": ["8.8.8.8", "127.0.0.1"],
        "meta.test": ["169.254.169.254"], "gone.test": ["fail"]}))
    monkeypatch.setattr(ScriptedResolver, "lookups", {})
    resolver = ScriptedResolver(reactor=None, cache_size=0, timeout=5)
    assert _outcome(resolver.getHostByName("public.test")) == "8.8.8.8"
    assert _outcome(resolver.getHostByName("rebind.test")) == "8.8.8.8"
    refused = _outcome(resolver.getHostByName("rebind.test"))
    assert isinstance(refused, PrivateAnswerRefused) and resolver.refused["rebind.test"]
    assert isinstance(_outcome(resolver.getHostByName("meta.test")), PrivateAnswerRefused)
    failed = _outcome(resolver.getHostByName("gone.test"))
    assert isinstance(failed, DNSLookupError) and "gone.test" not in resolver.refused
    resolver.allow_private = True
    assert _outcome(resolver.getHostByName("meta.test")) == "169.254.169.254"


def test_guard_refuses_host_names_without_the_guarded_resolver():
    import asyncio

    from scrapy import Request

    from crawler.middlewares import PrivateAddressBlocked, PrivateAddressGuard

    # No reactor with a GuardedResolver in this process: a name cannot be checked.
    with pytest.raises(PrivateAddressBlocked, match="cannot be checked"):
        asyncio.run(PrivateAddressGuard().process_request(
            Request("https://news.example/story")))
    with pytest.raises(PrivateAddressBlocked, match="^private address blocked: ::1 is ::1"):
        asyncio.run(PrivateAddressGuard().process_request(
            Request("http://[::1]:8080/x")))


@pytest.mark.parametrize(("config_allows", "setting", "guarded"), [
    (False, None, True), (True, None, False),       # the config decides by default
    (True, "0", True), (False, "1", False),         # -s FRWATCH_ALLOW_PRIVATE_ADDRESSES wins
])
def test_the_guard_is_off_exactly_when_private_addresses_are_allowed(
        tmp_path, config_allows, setting, guarded):
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    from crawler.middlewares import PrivateAddressGuard, PrivateAddressRefusals

    config = tmp_path / "sources.yaml"
    config.write_text("topic: {name: t}\nsources:\n  - name: One\n    feeds: [https://one.example/rss.xml]\n"
                      f"crawl: {{allow_private_addresses: {str(config_allows).lower()}}}\n",
                      encoding="utf-8")
    settings = {"FRWATCH_CONFIG": str(config)}
    if setting is not None:
        settings["FRWATCH_ALLOW_PRIVATE_ADDRESSES"] = setting
    for component in (PrivateAddressGuard, PrivateAddressRefusals):
        crawler = get_crawler(settings_dict=settings)
        if guarded:
            assert isinstance(component.from_crawler(crawler), component)
        else:
            with pytest.raises(NotConfigured):
                component.from_crawler(crawler)


# --- servers ----------------------------------------------------------------------------
class Inside:
    """The forbidden side: an HTTP server on 127.0.0.1 that logs every request."""

    def __init__(self, port: int = 0):
        self.requests: list[str] = []
        log = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                log.append(self.path)
                body = b"<html><body><p>internal secret</p></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def inside() -> Iterator[Inside]:
    server = Inside()
    yield server
    server.stop()


@pytest.fixture
def public_looking(monkeypatch) -> None:
    # Inherited by the CLI subprocesses (run_cli passes the environment on).
    monkeypatch.setenv(TEST_PUBLIC_ADDRESSES_ENV, PUBLIC_LOOKING)


PARAGRAPHS = (
    "The county board voted five to two on Monday to stop its sheriff's office from "
    "running face searches against driver's licence photos, after an audit found that "
    "most searches had no case number attached to them.",
    "Civil liberties groups had asked for the pause for two years; the sheriff said the "
    "tool had helped in a handful of robbery cases but accepted the audit's findings.",
    "The order lasts until the board adopts a written policy with public reporting, "
    "which the county attorney expects to present before the end of the year.",
)


def story_page(title: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}'
            f"</title></head><body><article><h1>{title}</h1>{body}</article></body>"
            "</html>").encode()


def rss(links: list[str]) -> bytes:
    items = "".join(f"<item><title>Story {n}</title><link>{link}</link>"
                    "<pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate></item>"
                    for n, link in enumerate(links))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Out</title>{items}'
            "</channel></rss>").encode()


def redirect(location: str) -> Fault:
    return Fault(status=302, headers={"Location": location})


CONFIG = """
topic: {name: Test topic, keywords: [face recognition]}
sources:
  - name: Outside Observer
    feeds: [FEED]
crawl: {max_age_days: 100000, delay_seconds: 0}
"""

STORY = "/news/2026/county-pauses-face-searches-of-licence-photos"
TO_IP = "/news/2026/story-that-redirects-to-the-loopback-address"
TO_NAME = "/news/2026/story-that-redirects-to-localhost-by-name"


@pytest.fixture
def outside(inside: Inside, public_looking: None) -> Iterator[LocalWeb]:
    """A public-looking site whose pages redirect to the inside server."""
    site: dict[str, tuple[str, bytes] | Fault] = {
        "/rss.xml": ("application/rss+xml",
                     rss([f"http://outside.demo{p}" for p in (STORY, TO_IP, TO_NAME)])),
        STORY: ("text/html; charset=utf-8", story_page("County pauses face searches")),
        "/moved": redirect(STORY),
        "/loop": redirect("/loop"),
        TO_IP: redirect(inside.url("/admin/by-ip")),
        TO_NAME: redirect(inside.url("/admin/by-name", host="localhost")),
    }
    with LocalWeb({"outside": site}, host=PUBLIC_LOOKING) as web:
        yield web


# --- redirects --------------------------------------------------------------------------
def test_crawl_refuses_a_redirect_from_a_public_host_to_a_private_one(outside, inside,
                                                                       tmp_path):
    crawl = Crawl(outside, tmp_path, CONFIG.replace("FEED", "http://outside.demo/rss.xml"))
    crawl.run("-s", "RETRY_TIMES=0")
    assert inside.requests == []
    paths = outside.requested_paths("outside")
    assert {"/rss.xml", STORY, TO_IP, TO_NAME} <= set(paths)  # the public side was fetched
    assert [r["title"] for r in crawl.rows("select title from articles")] == [
        "County pauses face searches"]
    reasons = sorted(r["reason"] for r in crawl.rows("select reason from failures"))
    assert len(reasons) == 2, reasons
    assert reasons[0].startswith("private address blocked: 127.0.0.1 is 127.0.0.1")
    assert reasons[1].startswith("private address blocked: localhost is 127.0.0.1")


def test_seeds_add_checks_every_redirect_hop(outside, inside, tmp_path):
    config = tmp_path / "sources.yaml"
    config.write_text(CONFIG.replace("FEED", "http://example.com/rss.xml"))
    db = tmp_path / "frwatch.db"

    def add(path: str, check: bool = False):
        return run_cli("seeds", "add", outside.url("outside", path), "--config", str(config),
                       "--db", str(db), check=check)

    for path, host in ((TO_IP, "127.0.0.1"), (TO_NAME, "localhost")):
        proc = add(path)
        assert proc.returncode == 1
        assert "private address blocked: redirected to " in proc.stderr
        assert f"{host} is " in proc.stderr  # 127.0.0.1, or ::1 for localhost
    looped = add("/loop")
    assert looped.returncode == 1 and "more than 5 redirects" in looped.stderr
    assert inside.requests == []
    # The hook is what lets 127.0.0.2 through; a public hop and a redirect are followed.
    assert "County pauses face searches" in add("/moved", check=True).stdout
    assert outside.requested_paths("outside").count("/loop") == 6


def test_seeds_add_refuses_a_private_first_hop(inside, tmp_path):
    config = tmp_path / "sources.yaml"
    config.write_text(CONFIG.replace("FEED", "http://example.com/rss.xml"))
    for url in (inside.url("/x"), inside.url("/x", host="localhost"),
                inside.url("/x", host="[::ffff:127.0.0.1]")):
        proc = run_cli("seeds", "add", url, "--config", str(config),
                       "--db", str(tmp_path / "frwatch.db"), check=False)
        assert proc.returncode == 1 and "private address blocked: " in proc.stderr, url
    assert inside.requests == []


# --- DNS rebinding and failed lookups, through the resolver the crawl connects with ------
@pytest.fixture
def same_port(public_looking) -> Iterator[tuple[LocalWeb, Inside]]:
    """A public-looking site on 127.0.0.2:P and the inside server on 127.0.0.1:P, so
    that one URL reaches either, depending on what the name resolves to. Every answer
    closes its connection: each request is a new connection, so a new lookup."""
    close = {"Connection": "close"}

    def page(content_type: str, body: bytes) -> Fault:
        return Fault(status=200, content_type=content_type, body=body, headers=close)

    for _ in range(20):
        site: dict = {}
        web = LocalWeb({"outside": site}, host=PUBLIC_LOOKING).start()
        port = int(web.origins["outside"].rsplit(":", 1)[1])
        try:
            inside = Inside(port)
        except OSError:
            web.stop()
            continue
        break
    else:
        pytest.fail("no port free on both 127.0.0.1 and 127.0.0.2")
    stories = [f"http://rebind.test:{port}{STORY}"]
    site["/robots.txt"] = page("text/plain", b"User-agent: *\nAllow: /\n")
    site["/rss.xml"] = page("application/rss+xml", rss(stories))
    site[STORY] = page("text/html; charset=utf-8", story_page("County pauses face searches"))
    try:
        yield web, inside
    finally:
        web.stop()
        inside.stop()


def scripted_crawl(web: LocalWeb, tmp_path, feeds: list[str], answers: dict,
                   monkeypatch, *extra: str) -> Crawl:
    monkeypatch.setenv(DNS_SCRIPT_ENV, json.dumps(answers))
    crawl = Crawl(web, tmp_path, CONFIG.replace("FEED", ", ".join(feeds)))
    # A crawl whose only listing fails exits 1 (nothing fetched); the tests read the store.
    crawl.run("-s", "TWISTED_DNS_RESOLVER=tests.test_guard.ScriptedResolver",
              "-s", "FRWATCH_RETRY_BACKOFF_BASE=0", *extra, check=False)
    return crawl


def test_dns_rebinding_never_reaches_the_private_address(same_port, tmp_path, monkeypatch):
    web, inside = same_port
    port = inside.port
    # robots.txt and the feed get the public-looking answer, the article 127.0.0.1.
    crawl = scripted_crawl(web, tmp_path, [f"http://rebind.test:{port}/rss.xml"],
                           {"rebind.test": [PUBLIC_LOOKING, PUBLIC_LOOKING, "127.0.0.1"]},
                           monkeypatch)
    assert inside.requests == []
    assert web.requested_paths("outside") == ["/robots.txt", "/rss.xml"]
    failures = crawl.rows("select url, reason from failures")
    assert [f["url"] for f in failures] == [f"http://rebind.test:{port}{STORY}"]
    assert failures[0]["reason"].startswith("private address blocked: rebind.test is 127.0.0.1")
    assert crawl.rows("select count(*) as n from articles")[0]["n"] == 0


def test_a_failed_lookup_connects_nowhere_and_is_recorded(same_port, tmp_path, monkeypatch):
    web, inside = same_port
    port = inside.port
    crawl = scripted_crawl(web, tmp_path, [f"http://gone.test:{port}/rss.xml"],
                           {"gone.test": ["fail"]}, monkeypatch)
    assert inside.requests == [] and web.requests == []
    failures = crawl.rows("select url, kind, reason from failures")
    assert [(f["kind"], f["reason"]) for f in failures] == [("feed", "DNS lookup failed")]


def test_allow_private_addresses_turns_the_resolver_guard_off(same_port, tmp_path,
                                                              monkeypatch):
    web, inside = same_port
    port = inside.port
    scripted_crawl(web, tmp_path, [f"http://rebind.test:{port}/rss.xml"],
                   {"rebind.test": ["127.0.0.1"]}, monkeypatch,
                   "-s", "FRWATCH_ALLOW_PRIVATE_ADDRESSES=1")
    assert "/robots.txt" in inside.requests and "/rss.xml" in inside.requests

