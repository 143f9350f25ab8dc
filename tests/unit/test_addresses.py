"""URL canonicalisation and the private-address test, without a network."""

from __future__ import annotations

import pytest

from frwatch.urls import canonicalize, is_private_address


def test_canonical_urls_drop_tracking_and_sort_the_query():
    assert canonicalize("HTTP://News.Example:80/a?utm_source=x&b=2&a=1#top") == \
        "http://news.example/a?a=1&b=2"


@pytest.mark.parametrize("address, private", [
    ("127.0.0.1", True), ("10.1.2.3", True), ("169.254.169.254", True), ("::1", True),
    ("::ffff:127.0.0.1", True), ("64:ff9b::a9fe:a9fe", True), ("2002:7f00:1::", True),
    ("fec0::1", True), ("8.8.8.8", False), ("2606:4700::1111", False),
])
def test_private_addresses(address, private):
    assert is_private_address(address) is private
