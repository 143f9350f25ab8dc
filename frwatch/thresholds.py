"""Numbers that more than one package must agree on, defined once.

Kept free of imports so that the crawler's extraction workers (started by forkserver, which
imports `crawler.extract` afresh) load nothing more for it.
"""

from __future__ import annotations

# A page is "extracted" when its body text has at least this many characters: short
# briefs pass, navigation-only and paywall pages do not. Characters, not words, so that
# Chinese and Japanese pages (no spaces between words) are judged alike. Enrichment scores
# a shorter text only when the article has a title and a description to go on.
MIN_ARTICLE_CHARS = 100
