"""Extraction's pure parts: clean titles, what a page says it is, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from trafilatura.utils import load_html

from crawler.extract import choose_title, clean_title, extract_article, page_kind
from crawler.middlewares import _retry_after_seconds


@pytest.mark.parametrize("title, site, url, expected", [
    ("Policie chce kamery - Seznam Zprávy", "Seznam Zprávy", "https://www.seznamzpravy.cz/a",
     "Policie chce kamery"),
    ("Gericht stoppt Gesichtserkennung | Börsen-Zeitung", None,
     "https://www.boersen-zeitung.de/x", "Gericht stoppt Gesichtserkennung"),
    ("EU-Parlament stimmt zu – DW – 28.04.2023", "DW", "https://www.dw.com/de/x",
     "EU-Parlament stimmt zu"),
    ("Le Monde.fr - La CNIL sanctionne Clearview", "Le Monde", "https://www.lemonde.fr/x",
     "La CNIL sanctionne Clearview"),
    ("The Verge: Amazon bans police use", "The Verge", "https://www.theverge.com/x",
     "Amazon bans police use"),
    ("Face recognition: what the law says", "Example", "https://example.com/x",
     "Face recognition: what the law says"),
    ("Boston - Cambridge bans face surveillance - The Harbour Times", "The Harbour Times",
     "http://harbourtimes.demo/x", "Boston - Cambridge bans face surveillance"),
    ("Opinion | Police and faces", "The New York Times", "https://www.nytimes.com/x",
     "Opinion | Police and faces"),
])
def test_titles_lose_the_site_name_and_dates(title, site, url, expected):
    assert clean_title(title, site, url) == expected


def test_the_visible_headline_wins_unless_it_is_the_site_name():
    # The h1 the <title> agrees with, over the first h1 (the blog's name).
    assert choose_title(["The GiveWell Blog", "Why we give"], [], "Why we give | GiveWell",
                        "GiveWell", "https://blog.givewell.example/x") == "Why we give"
    # The only h1 a reader sees, though the SEO title says something else.
    assert choose_title(["We had some issues, exec says"], ["Glitches blamed on demand"],
                        "Glitches blamed on demand - Times", "Times",
                        "https://times.example/x") == "We had some issues, exec says"
    # An h1 that is the site's name: the metadata's headline instead.
    assert choose_title(["Entermedia"], ["Ban passes council"], "Ban passes council",
                        "Entermedia", "http://entermedia.example/1") == "Ban passes council"
    # A site name that only starts a longer part stays: it is the headline's own words.
    assert clean_title("Take C.A.R.E. - comwrap at DMEXCO 2018", None,
                       "https://www.comwrap.example/x") == "Take C.A.R.E. - comwrap at DMEXCO 2018"


@pytest.mark.parametrize("head, expected", [
    ('<meta property="og:type" content="article">', True),
    ('<script type="application/ld+json">{"@type": "NewsArticle"}</script>', True),
    ('<script type="application/ld+json">{"@graph": [{"@type": "CollectionPage"}]}</script>',
     False),
    ('<meta property="og:type" content="video.other">', False),
    ('<meta property="og:type" content="website">', False),
    ("", None),
])
def test_page_kind_reads_og_type_and_json_ld(head, expected):
    tree = load_html(f"<html><head>{head}</head><body><p>x</p></body></html>")
    assert page_kind(tree)[0] is expected


def test_a_tag_page_is_not_an_article_and_says_why():
    teasers = "".join(f"<h3><a href='/a/{n}'>Story {n}</a></h3><p>Teaser text for story "
                      f"{n} with a few more words.</p>" for n in range(8))
    html = (f"<html><head><title>Tag: police</title><script type='application/ld+json'>"
            f'{{"@type": "CollectionPage"}}</script></head><body><main>{teasers}'
            f"</main></body></html>")
    result = extract_article(html, "https://news.example/tag/police")
    assert result["error"].startswith("not an article (JSON-LD collectionpage")


def test_retry_after_seconds_and_dates():
    assert _retry_after_seconds("120") == 120.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    waited = _retry_after_seconds(later)
    assert waited is not None and 80 <= waited <= 90
    assert _retry_after_seconds("soon") is None
