"""Word counts of extracted text: CJK characters count one word each (no spaces
separate them); other text counts its runs between whitespace."""

from __future__ import annotations

import pytest

from crawler.extract import word_count


@pytest.mark.parametrize("text, words", [
    ("Police face curbs\u00a0in Prague\u2028today", 6),  # no-break and line separators
    ("a\x1cb  c\td", 4),  # \x1c is whitespace to str.split and to the pattern alike
    ("", 0),
    ("顔認証の規制 passes 議会", 9),
    ("얼굴 인식 금지", 6),
])
def test_word_count(text, words):
    assert word_count(text) == words
