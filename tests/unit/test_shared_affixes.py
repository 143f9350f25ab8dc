"""Decorations shared by a source's headlines are cut; a headline's own words are not."""

from __future__ import annotations

from crawler.titles import Affix, SharedAffixes, candidates
from crawler.writer import StoreWriter


def cleaned(source: str, titles: list[str]) -> list[str | None]:
    affixes = SharedAffixes()
    return [affixes.clean(source, title)[0] for title in titles]


def test_a_suffix_three_pages_share_is_cut_from_the_third_on():
    out = cleaned("zb", ["Stadt verbietet Gesichtserkennung | Wirtschaft | Nachrichten",
                         "Polizei testet neue Kameras | Wirtschaft | Nachrichten",
                         "Landtag stoppt Videoüberwachung | Wirtschaft | Nachrichten",
                         "Gericht prüft Software der Polizei | Politik | Nachrichten"])
    assert out[:2] == ["Stadt verbietet Gesichtserkennung | Wirtschaft | Nachrichten",
                       "Polizei testet neue Kameras | Wirtschaft | Nachrichten"]
    assert out[2] == "Landtag stoppt Videoüberwachung"
    # Only "| Nachrichten" is shared with the section "Politik": that much is cut.
    assert out[3] == "Gericht prüft Software der Polizei | Politik"


def test_a_shared_prefix_is_cut_in_any_language():
    out = cleaned("lm", ["Opinión: la ciudad prohíbe el reconocimiento facial",
                         "Opinión: los jueces y las cámaras de la policía",
                         "Opinión: una moratoria que llega tarde"])
    assert out[2] == "una moratoria que llega tarde"


def test_headlines_that_merely_share_words_are_left_alone():
    titles = ["Amazon halts police use of Rekognition for a year",
              "IBM quits the facial recognition business",
              "Microsoft will not sell face recognition to police"]
    assert cleaned("x", titles) == titles
    # Other sources' decorations do not count.
    affixes = SharedAffixes()
    affixes.remember("a", ["One - Wire", "Two - Wire"])
    assert affixes.clean("b", "Three things happened - Wire")[0] == "Three things happened - Wire"
    assert affixes.clean("a", "Four things happened - Wire")[0] == "Four things happened"


def test_too_little_left_or_too_long_a_tail_is_not_a_decoration():
    # A two-word remainder is not a headline: keep the title whole.
    out = cleaned("s", ["Face scanning ban: Oslo", "Face scanning ban: Rome",
                        "Face scanning ban: Paris too"])
    assert out[2] == "Face scanning ban: Paris too"
    assert all(len(a.text.split()) - 1 <= 6 for a in candidates(
        "Short head - and then a very long tail that goes on and on and on"))
    assert Affix(" - Wire", end=True).cut("Tiny - Wire") is None


def test_the_writer_cuts_the_decoration_from_stored_headlines_too(tmp_path):
    writer = StoreWriter(tmp_path / "t.db")
    try:
        writer.run_started("test")
        for n, head in enumerate(["Council bans face scanning", "Police pause the cameras",
                                  "Judge hears the wrongful arrest case"]):
            url = f"https://news.test/{n}"
            writer.article_extracted({"url": url, "canonical_url": url, "source": "News",
                                      "title": f"{head} – Region – The Daily"}, [url])
        titles = [r[0] for r in writer.store.db.execute(
            "select title from articles order by url").fetchall()]
    finally:
        writer.close()
    assert titles == ["Council bans face scanning", "Police pause the cameras",
                      "Judge hears the wrongful arrest case"]
