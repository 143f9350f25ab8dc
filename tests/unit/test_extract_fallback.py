"""The fast-mode fallback of `extract_article`: a fast result that looks doubtful (one
paragraph, or short and a small share of the page) is extracted again without
trafilatura's fast mode; a full one is kept."""

from __future__ import annotations

from trafilatura import bare_extraction
from trafilatura.settings import Document
from trafilatura.utils import load_html

from crawler.extract import doubtful, extract_article

SENTENCE = ("Der Gemeinderat hat am Dienstag nach langer Debatte beschlossen, die alte Brücke "
            "über den Fluss im kommenden Frühjahr zu sanieren und den Verkehr umzuleiten. ")
MENU = "<ul>" + "".join(f"<li><a href='/r/{i}'>Rubrik {i}</a></li>" for i in range(30)) + "</ul>"
URL = "https://example.org/2024/05/14/bruecke-wird-saniert"


def _page(body: str) -> str:
    return f"<html lang='de'><head><title>Brücke</title></head><body>{body}</body></html>"


def _fast(html: str, fast: bool = True) -> Document:
    doc = bare_extraction(html, url=URL, fast=fast, include_comments=False,
                          include_tables=True, with_metadata=False)
    assert isinstance(doc, Document)
    return doc


# The article's lead in <article>, the rest of its text in a bare <div>: trafilatura's fast
# mode keeps the lead only; its comparison with readability/justext finds the rest.
SPLIT = _page(f"{MENU}<article><p>{SENTENCE[:200]}</p></article><div>{SENTENCE * 2}</div>")
# Six distinct paragraphs (trafilatura drops repeated ones) in the <article>.
FULL = _page(f"{MENU}<article>" + "".join(f"<p>Absatz {i}: {SENTENCE * 2}</p>" for i in range(6))
             + "</article>")


def test_a_doubtful_fast_text_is_extracted_again_without_fast_mode():
    fast, full = _fast(SPLIT), _fast(SPLIT, fast=False)
    assert doubtful(fast, load_html(SPLIT))
    assert len(full.text or "") > len(fast.text or "")  # a page where the modes differ
    assert extract_article(SPLIT, URL, fast=True)["text"] == (full.text or "").strip()


def test_a_full_fast_text_is_kept():
    fast = _fast(FULL)
    assert not doubtful(fast, load_html(FULL))
    assert extract_article(FULL, URL, fast=True)["text"] == (fast.text or "").strip()


def test_no_result_is_doubtful():
    assert doubtful(None, load_html(FULL))
