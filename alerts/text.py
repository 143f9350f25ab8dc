"""The text rules every alert channel shares: what crawled pages wrote (titles,
descriptions, outlets, reasons) is plain text, one line, without links; the only link an
alert carries is the article's own http(s) URL."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

# [text](target) and ![alt](target): the text stays, the target goes.
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s[^()\n]*)?\)")
# Anything a reader or mail client would make a link of: scheme://…, javascript:, www.…
_LINKISH = re.compile(r"<?(?:\b[a-z][a-z0-9+.\-]*://|\b(?:javascript|vbscript|data|file):(?=\S)"
                      r"|\bwww\.)[^\s<>\"']*>?", re.IGNORECASE)
# Bidi embeddings, overrides and isolates, which can make a line read other than it is.
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def safe_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL with a host and nothing a message could be split
    on (whitespace, control characters, quotes, angle brackets); else None."""
    if not url or any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") or c in "<>\"'`"
                      for c in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def plain(text: str | None) -> str:
    """Text from a stranger's page, made safe to put in an alert: one line, no control or
    bidi-override characters, Markdown links reduced to their text, other links dropped.
    Markup is left as literal text; every channel sends or escapes it as such."""
    if not text:
        return ""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
                   for c in text.translate(_BIDI))
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _LINKISH.sub("[link removed]", text)
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if not text[limit - 1].isspace() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]  # never end mid-word
    return cut.rstrip(" ,;:.-—–") + "…"
