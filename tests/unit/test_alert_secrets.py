"""${VAR}s in alert URLs: filled in URL-encoded, and scrubbed in every form from errors
and log lines (alerts/secrets.py)."""

from __future__ import annotations

import logging
from urllib.parse import quote, quote_plus

import pytest

from alerts.secrets import expand_secrets, scrub, scrubbed_logs
from frwatch.errors import FrwatchError

SECRET = "p@ss/w:rd#x?y z%"


def test_a_variable_is_filled_in_url_encoded(monkeypatch):
    monkeypatch.setenv("HOOK_PASS", SECRET)
    monkeypatch.setenv("EMPTY", "")
    url, secrets = expand_secrets("json://u:${HOOK_PASS}@127.0.0.1:9/${EMPTY}h", "alerts.0")
    assert url == f"json://u:{quote(SECRET, safe='')}@127.0.0.1:9/h"
    assert secrets == [SECRET]  # an empty value is nothing to scrub


def test_an_unset_variable_is_one_line_naming_where(monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(FrwatchError) as error:
        expand_secrets("json://${NOT_SET_ANYWHERE}@h/", "alerts.2.apprise")
    assert str(error.value) == "alerts.2.apprise: environment variable NOT_SET_ANYWHERE is not set"


def test_scrub_replaces_every_encoding_of_every_secret():
    forms = [SECRET, quote(SECRET, safe=""), quote(SECRET, safe="").lower(), quote_plus(SECRET),
             quote(SECRET), quote(SECRET, safe="@:"), quote(quote(SECRET, safe=""), safe="")]
    assert scrub(" | ".join(forms), [SECRET]) == " | ".join(["***"] * len(forms))
    # The longer secret first, so a secret inside another leaves nothing of it.
    assert scrub("token-abc and abc", ["abc", "token-abc"]) == "*** and ***"
    assert scrub("nothing secret here", []) == "nothing secret here"


def test_log_records_are_scrubbed_while_inside_and_only_then():
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    log = logging.getLogger("frwatch-test-secrets")
    log.setLevel(logging.INFO)
    handler = Keep()
    log.addHandler(handler)
    try:
        with scrubbed_logs("frwatch-test-secrets", [SECRET]):
            log.info("posting to %s", f"json://u:{quote(SECRET, safe='')}@h/")
        log.info("after: %s", "plain text")
    finally:
        log.removeHandler(handler)
    assert records == ["posting to json://u:***@h/", "after: plain text"]
    assert not log.filters
