"""How ordinary a word is: word frequencies of German and English from `wordfreq`.

A place is read from a word only when the evidence outweighs the word's being an ordinary word:
"diesen" is far too frequent to be a typo of Giesen, and "Lage" is as much a word as a town.
wordfreq loads its tables on first use (about half a second), so nothing here runs at import. A
one-off command may install a `FrequentWords` table instead (bot/engine_cache.py keeps one): it
answers the same for every plain word, and wordfreq is loaded only for the other words.
"""

from __future__ import annotations

import math
import re
from array import array
from functools import lru_cache

from bot.settings import setting

LANGUAGES = ("de", "en")

# What each decides: bot/settings.py.
TYPO_MAX_ZIPF = setting("typo_max_zipf")
ORDINARY_MIN_ZIPF = setting("ordinary_min_zipf")
ORDINARY_MARGIN = setting("ordinary_margin")


PLAIN_WORD = re.compile(r"[a-zäöüß]+")
"""Words wordfreq reads (in German and English) as one token that it only case-folds (ß → ss):
their frequency is a plain look-up of that token in wordfreq's list."""


class FrequentWords:
    """wordfreq's Zipf values, per language, of every plain word at or above `floor`: a plain word
    not in the table is below the floor. Built once from wordfreq's lists; compact, so that it
    loads in a millisecond: per language and word length the words sorted and joined into one
    string, and their values in an array."""

    def __init__(self, floor: float, tables: dict[str, dict[int, tuple[str, array]]]) -> None:
        self.floor = floor
        self.tables = tables

    @classmethod
    def from_wordfreq(cls, floor: float) -> FrequentWords:
        from wordfreq import get_frequency_dict

        tables: dict[str, dict[int, tuple[str, array]]] = {}
        for lang in LANGUAGES:
            by_length: dict[int, list[tuple[str, float]]] = {}
            value_of: dict[float, float] = {}  # frequency → Zipf value, as wordfreq rounds it
            for word, freq in get_frequency_dict(lang).items():
                if not PLAIN_WORD.fullmatch(word):
                    continue
                if freq not in value_of:
                    value_of[freq] = zipf(word, lang)  # wordfreq's own arithmetic, once a value
                if value_of[freq] >= floor:
                    by_length.setdefault(len(word), []).append((word, value_of[freq]))
            tables[lang] = {length: ("".join(w for w, _ in sorted(items)),
                                     array("d", (z for _, z in sorted(items))))
                            for length, items in by_length.items()}
        return cls(floor, tables)

    def value(self, word: str, lang: str | None = None) -> float | None:
        """The word's Zipf value (the higher of German and English without `lang`) when at least
        the floor, 0.0 when below it; None for a word that is not plain: ask wordfreq."""
        if not PLAIN_WORD.fullmatch(word) or lang not in (None, *self.tables):
            return None
        token = word.casefold()
        found = [self._find(token, x) for x in ((lang,) if lang else LANGUAGES)]
        return max((z for z in found if z is not None), default=0.0)

    def _find(self, token: str, lang: str) -> float | None:
        size = len(token)
        blob, values = self.tables[lang].get(size, ("", array("d")))
        lo, hi = 0, len(values)
        while lo < hi:  # binary search over words of one length, side by side in `blob`
            mid = (lo + hi) // 2
            if blob[mid * size:(mid + 1) * size] < token:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(values) and blob[lo * size:(lo + 1) * size] == token:
            return values[lo]
        return None


FREQUENT_FLOOR = min(TYPO_MAX_ZIPF, ORDINARY_MIN_ZIPF)
"""The lowest value the tests below ask about: a FrequentWords table with this floor answers them
all."""
_frequent: FrequentWords | None = None


def use_frequent_words(table: FrequentWords | None) -> None:
    """Answer plain words from `table` (None: from wordfreq again)."""
    global _frequent
    if table is not None and table.floor > min(TYPO_MAX_ZIPF, ORDINARY_MIN_ZIPF):
        raise ValueError(f"a table from Zipf {table.floor} cannot answer every test here")
    _frequent = table


def _zipf(word: str, lang: str | None = None) -> float:
    """zipf(), or a value on the same side of every threshold here from the installed table."""
    known = _frequent.value(word, lang) if _frequent is not None else None
    return zipf(word, lang) if known is None else known


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
    z = _zipf(name, lang)
    return z >= ORDINARY_MIN_ZIPF and z > place_zipf(population) + ORDINARY_MARGIN


def is_real_word(word: str) -> bool:
    """True when a word is too frequent to be a typo of a place name."""
    return _zipf(word) >= TYPO_MAX_ZIPF
