"""Typo-tolerant word lookup that stays fast as the vocabulary grows.

Words sit in sorted buckets by (length, first or second letter): an exact hit is a binary search,
and a typo only scores words of similar length that share the first or the second letter
(rapidfuzz, optimal string alignment distance): a typo rarely changes both.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

MIN_FUZZY_LENGTH = 5
"""Shorter words are matched exactly only: one edit in four letters is a different word."""


def max_edits(length: int) -> int:
    """Edits tolerated for a word of this length: 1 up to 7 letters, 2 up to 12, then 3."""
    if length < MIN_FUZZY_LENGTH:
        return 0
    if length <= 7:
        return 1
    return 2 if length <= 12 else 3


class FuzzyVocabulary:
    """A set of words (or multi-word names) with typo-tolerant lookup."""

    def __init__(self, words: Iterable[str], cache_size: int = 8192) -> None:
        buckets: dict[tuple[int, str], list[str]] = defaultdict(list)
        for word in words:
            for letter in set(word[:2]):
                buckets[(len(word), letter)].append(word)
        # The buckets hold every word; membership is answered from them, not from a second set.
        self._buckets = {key: tuple(sorted(set(ws))) for key, ws in buckets.items()}
        self.lookup = lru_cache(maxsize=cache_size)(self._lookup)

    def __contains__(self, word: str) -> bool:
        bucket = self._buckets.get((len(word), word[:1]), ())
        i = bisect_left(bucket, word)  # buckets are sorted tuples
        return i < len(bucket) and bucket[i] == word

    def _lookup(self, word: str, at_most: int | None = None
                ) -> tuple[tuple[str, ...], int] | None:
        """All vocabulary words at the smallest distance within the tolerance, and that distance.

        Ties are all returned ("parentl" is as near to "parent" as to "parental"): the caller
        knows which reading fits. `at_most` lowers the tolerance for a caller that would discard
        anything farther: the search is much cheaper, and a nearer best is found just the same.
        """
        if word in self:
            return (word,), 0
        limit = max_edits(len(word))
        if at_most is not None:
            limit = min(limit, at_most)
        if not limit:
            return None
        found: dict[str, int] = {}
        for length in range(len(word) - limit, len(word) + limit + 1):
            for letter in set(word[:2]):
                bucket = self._buckets.get((length, letter))
                if bucket:
                    for hit, distance, _ in process.extract(
                            word, bucket, scorer=OSA.distance, score_cutoff=limit, limit=None):
                        found[hit] = int(distance)
        if not found:
            return None
        best = min(found.values())
        return tuple(sorted(w for w, d in found.items() if d == best)), best
