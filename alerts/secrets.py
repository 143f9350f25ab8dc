"""Secrets in alert URLs: ${VAR} filled in from the environment when sending, and every
value scrubbed, raw or URL-encoded in any form, from whatever is printed or stored."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from frwatch.config import ENV_VAR
from frwatch.errors import FrwatchError


def expand_secrets(template: str, where: str) -> tuple[str, list[str]]:
    """The URL with ${VAR} filled in from the environment, each value URL-encoded (a
    password may hold `@`, `/`, `:`, `#` or `?`; apprise decodes it again), and the raw
    values filled in (so that they can be scrubbed, in any encoding, from error texts)."""
    values = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise FrwatchError(f"{where}: environment variable {name} is not set")
        values.append(os.environ[name])
        return quote(os.environ[name], safe="")

    return ENV_VAR.sub(fill, template), [v for v in values if v]


def _hex(byte: int) -> str:
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in f"{byte:02X}")


def _any_encoding(secret: str) -> str:
    """A pattern for `secret` raw or URL-encoded in any way: each character as itself or
    percent-encoded (either case of hex digit, even twice), a space also as `+`."""
    parts = []
    for char in secret:
        encoded = "".join(f"%(?:25)?{_hex(b)}" for b in char.encode("utf-8"))
        space = r"|\+" if char == " " else ""
        parts.append(f"(?:{encoded}{space}|{re.escape(char)})")  # `%25` before `%`
    return "".join(parts)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret, raw or URL-encoded in any form, replaced by ***."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = re.sub(_any_encoding(secret), "***", text)
    return text


class _Scrubber(logging.Filter):
    """Scrubs secrets from a library's log records (printed if logging is configured)."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self.secrets), None
        return True


@contextmanager
def scrubbed_logs(logger: str, secrets: list[str]) -> Iterator[None]:
    """While inside: every record `logger` makes has the secrets scrubbed as it is made
    (apprise logs URLs and server answers, shown with -v)."""
    scrubber = _Scrubber(secrets)
    log = logging.getLogger(logger)
    log.addFilter(scrubber)
    try:
        yield
    finally:
        log.removeFilter(scrubber)
