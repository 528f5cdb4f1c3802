"""How ordinary a word is: word frequencies of German and English from `wordfreq`.

A place is read from a word only when the evidence outweighs the word's being an ordinary word:
"diesen" is far too frequent to be a typo of Giesen, and "Lage" is as much a word as a town.
wordfreq loads its tables on first use (about half a second), so nothing here runs at import.
"""

from __future__ import annotations

import math
from functools import lru_cache

LANGUAGES = ("de", "en")

TYPO_MAX_ZIPF = 2.0
"""A word at least this frequent (Zipf scale: 3 = once per million words) is a real word, never a
typo of a place name; real typos ("hamlen", "holzmindn") are rare or unknown."""
ORDINARY_MIN_ZIPF = 3.0
"""A place name less frequent than this is not an ordinary word, whatever the town's size."""
ORDINARY_MARGIN = 0.5
"""How far a name's frequency may exceed what a town of its size explains before it counts as an
ordinary word too ("Lage", "Enger", "Wenden", "Halle"): such names need a cue to be a place."""


@lru_cache(maxsize=65536)
def zipf(word: str, lang: str | None = None) -> float:
    """The word's frequency on the Zipf scale in `lang`, or the higher of German and English."""
    from wordfreq import zipf_frequency  # lazy: loading the tables costs ~0.5 s

    return max(zipf_frequency(word, x) for x in ((lang,) if lang else LANGUAGES))


def place_zipf(population: int) -> float:
    """About the highest frequency a town of this size has as a name alone.

    Fitted on all German municipalities of one word (Destatis population, wordfreq 3.1): the upper
    quartile of name frequencies lies near log10(population) - 1 for towns of 1,000 to 500,000.
    """
    return math.log10(max(population, 1000)) - 1.0


def is_ordinary_word(name: str, population: int, lang: str) -> bool:
    """True when a place name is mostly used as an ordinary word of the message's language ("Enger"
    is a German word, not an English one): then it needs a cue to be a place."""
    z = zipf(name, lang)
    return z >= ORDINARY_MIN_ZIPF and z > place_zipf(population) + ORDINARY_MARGIN


def is_real_word(word: str) -> bool:
    """True when a word is too frequent to be a typo of a place name."""
    return zipf(word) >= TYPO_MAX_ZIPF
