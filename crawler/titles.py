"""Decorations a source puts around every headline, learnt from the source's own titles.

`crawler.extract.clean_title` removes what a single page gives away (the site's name
beside a separator, a trailing date). Some decorations name nothing the page states —
"… | Wirtschaft | Nachrichten", "Opinion: …", "… - Latest news" — and only show as a
decoration because the source's other pages carry the very same words. `SharedAffixes`
keeps each source's recent titles and cuts a prefix or suffix (a separator and up to
`MAX_AFFIX_WORDS` words) once `MIN_SHARED` of them carry it, leaving a headline of at
least `MIN_HEADLINE_WORDS` words. Pure: the writer loads the titles and applies the cut.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

# A separator between a headline and its decoration, with the spaces around it.
_SEPARATOR = re.compile(r"\s+(?:[|–—·•»]|::|-{1,2}|:)\s+|(?<=\w):\s+")
MIN_SHARED = 3          # this title and two others of the same source
MAX_AFFIX_WORDS = 6     # a decoration is short; a longer shared tail is a headline series
MIN_HEADLINE_WORDS = 3  # what is left must still read as a headline
RECENT = 50             # titles remembered per source


@dataclass(frozen=True)
class Affix:
    """A decoration: `text` including its separator, at the `end` or the start."""

    text: str
    end: bool

    def carried_by(self, title: str) -> bool:
        """True when `title` carries this decoration around some other words."""
        if len(title) <= len(self.text):
            return False
        return title.endswith(self.text) if self.end else title.startswith(self.text)

    def cut(self, title: str) -> str | None:
        """`title` without the decoration, or None when it does not carry it or too
        little would be left."""
        if self.end and title.endswith(self.text):
            rest = title[: -len(self.text)]
        elif not self.end and title.startswith(self.text):
            rest = title[len(self.text):]
        else:
            return None
        rest = rest.strip()
        return rest if len(rest.split()) >= MIN_HEADLINE_WORDS else None


def candidates(title: str) -> list[Affix]:
    """Every prefix and suffix of `title` cut at a separator (each side shortest first)."""
    found: list[Affix] = []
    cuts = list(_SEPARATOR.finditer(title))
    for match in reversed(cuts):  # suffixes: from the last separator backwards
        tail = title[match.start():]
        if len(tail.split()) - 1 > MAX_AFFIX_WORDS:
            break
        found.append(Affix(tail, end=True))
    for match in cuts:  # prefixes: from the first separator forwards
        head = title[: match.end()]
        if len(head.split()) - 1 > MAX_AFFIX_WORDS:
            break
        found.append(Affix(head, end=False))
    return found


class SharedAffixes:
    """Each source's recent titles, and the decorations they share."""

    def __init__(self) -> None:
        self.recent: dict[str, deque[str]] = {}

    def knows(self, source: str) -> bool:
        return source in self.recent

    def remember(self, source: str, titles: Iterable[str]) -> None:
        """Titles the source already has (oldest first), e.g. loaded from the store."""
        queue = self.recent.setdefault(source, deque(maxlen=RECENT))
        queue.extend(t for t in titles if t)

    def clean(self, source: str, title: str | None) -> tuple[str | None, Affix | None]:
        """`title` without a decoration the source's other titles share, and that
        decoration (None when nothing was cut). The title is remembered as it came."""
        if not title:
            return title, None
        others = self.recent.setdefault(source, deque(maxlen=RECENT))
        cut: tuple[str | None, Affix | None] = (title, None)
        for affix in candidates(title):  # the longest decoration shared wins
            rest = affix.cut(title)
            if rest is None or (cut[1] is not None and len(affix.text) <= len(cut[1].text)):
                continue
            if sum(1 for other in others if affix.carried_by(other)) + 1 >= MIN_SHARED:
                cut = (rest, affix)
        others.append(title)
        return cut
