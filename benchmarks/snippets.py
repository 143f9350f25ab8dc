"""Extracted text scored by trafilatura's own evaluation set: about 990 pages (mostly
German blogs and news, some English, French, Spanish, Polish …), each with snippets that
must and must not be in the text. Not shipped here: point it at a checkout of
adbar/trafilatura's `tests/` folder (Apache-2.0), which holds `evaldata.json` and the
pages in `cache/` and `eval/`.

    python -m benchmarks.snippets --tests /path/to/trafilatura/tests

Three extractions of each page's text: trafilatura's fast mode alone, trafilatura's
default, and frwatch's (`extract_article(fast=True)`: fast mode, again without it when
the fast text is doubtful). A snippet counts as trafilatura's evaluation counts it: found
in the whitespace-normalised text or not; precision and recall over all snippets.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trafilatura import bare_extraction
from trafilatura.settings import Document
from trafilatura.utils import load_html

from crawler.extract import TEXT_OPTIONS, doubtful, extract_article

_SPACE = re.compile(r"\s+")


def normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass
class Tally:
    """Snippets found (with) and wrongly found (without), and CPU time."""

    found: int = 0
    missed: int = 0
    wrong: int = 0
    cpu: float = 0.0
    pages: int = 0
    by_language: dict[str, list[int]] = field(default_factory=dict)

    def add(self, text: str, item: dict, language: str, seconds: float) -> None:
        text = normal(text)
        found = sum(normal(s) in text for s in item["with"])
        wrong = sum(normal(s) in text for s in item["without"])
        self.found += found
        self.missed += len(item["with"]) - found
        self.wrong += wrong
        self.cpu += seconds
        self.pages += 1
        counts = self.by_language.setdefault(language, [0, 0, 0])
        counts[0] += found
        counts[1] += len(item["with"]) - found
        counts[2] += wrong

    @staticmethod
    def f1(found: int, missed: int, wrong: int) -> tuple[float, float, float]:
        precision = found / (found + wrong) if found + wrong else 0.0
        recall = found / (found + missed) if found + missed else 0.0
        both = precision + recall
        return precision, recall, (2 * precision * recall / both if both else 0.0)


def pages(tests: Path) -> list[tuple[str, bytes, dict]]:
    """(url, html, snippets) of every page of the evaluation set that is present."""
    data = json.loads((tests / "evaldata.json").read_text(encoding="utf-8"))
    found = []
    for url in sorted(data):
        item = data[url]
        for folder in ("cache", "eval"):
            path = tests / folder / item["file"]
            if path.is_file():
                found.append((url, path.read_bytes(), item))
                break
    if not found:
        raise SystemExit(f"{tests}: no evaluation pages (expected evaldata.json, cache/, eval/)")
    return found


# Each way gives the text, and trafilatura's result where there is one (frwatch's
# fallback asks `doubtful` of the fast one).
Way = Callable[[bytes, str], tuple[str, Any]]


def trafilatura_text(fast: bool) -> Way:
    def extract(html: bytes, url: str) -> tuple[str, Any]:
        doc = bare_extraction(html, url=url, fast=fast, **TEXT_OPTIONS)
        return (doc.text if isinstance(doc, Document) else None) or "", doc
    return extract


def frwatch_text(html: bytes, url: str) -> tuple[str, Any]:
    return extract_article(html, url, fast=True).get("text") or "", None


def language(html: bytes) -> str:
    tree = load_html(html)
    lang = (tree.get("lang") or "") if tree is not None else ""
    return lang.split("-")[0].lower() or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=Path, required=True,
                        help="a checkout of adbar/trafilatura's tests/ folder")
    args = parser.parse_args()
    found = pages(args.tests)
    # frwatch's CPU includes its metadata (title, date, author …); trafilatura's here not.
    ways: dict[str, Way] = {"trafilatura fast": trafilatura_text(True),
                            "trafilatura default": trafilatura_text(False),
                            "frwatch (fast + fallback)": frwatch_text}
    for url, html, _ in found[:10]:  # lazy loading (justext's stoplists) not timed
        for extract in ways.values():
            extract(html, url)
    tallies = {name: Tally() for name in ways}
    redone = 0
    for url, html, item in found:
        lang = language(html)
        for name, extract in ways.items():
            started = time.process_time()
            text, doc = extract(html, url)
            tallies[name].add(text, item, lang, time.process_time() - started)
            if name == "trafilatura fast":
                redone += doubtful(doc, load_html(html))
    print(f"{len(found)} pages; frwatch re-extracted {redone} ({redone / len(found):.1%}) "
          "without fast mode")
    for name, tally in tallies.items():
        p, r, f1 = Tally.f1(tally.found, tally.missed, tally.wrong)
        print(f"{name:<26} P {p:.4f} R {r:.4f} F1 {f1:.4f}  "
              f"{tally.cpu / tally.pages * 1000:.1f} ms CPU a page"
              + (" (with its metadata)" if name.startswith("frwatch") else ""))
    languages = sorted(tallies["frwatch (fast + fallback)"].by_language.items(),
                       key=lambda kv: -sum(kv[1]))
    print("F1 by the page's lang attribute (" + " / ".join(tallies) + "):")
    for lang, _ in languages[:8]:
        scores = [Tally.f1(*t.by_language[lang])[2] for t in tallies.values()]
        print(f"  {lang:<4} " + "  ".join(f"{s:.4f}" for s in scores))


if __name__ == "__main__":
    main()
