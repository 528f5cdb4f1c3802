"""Typo-tolerant word lookup that stays fast as the vocabulary grows.

Words sit in sorted buckets by (length, first or second letter): an exact hit is a binary search.
A typo is matched to words of similar length that share the first or the second letter (a typo
rarely changes both) within a few edits (rapidfuzz, optimal string alignment distance). Those are
not found by scoring whole buckets, which grow with the vocabulary, but by pigeonhole: a word is
cut into one part more than the edits a look-up may allow, so one part survives every typo intact
(a swap of the two letters at a cut is tried both ways); only words sharing such a part, at about
its place, are scored.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Container, Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.settings import setting

MIN_FUZZY_LENGTH = setting("min_fuzzy_length")
MOST_EDITS = 3
"""The most edits `max_edits` tolerates for any length."""


def max_edits(length: int) -> int:
    """Edits tolerated for a word of this length: 1 up to 7 letters, 2 up to 12, then 3."""
    if length < MIN_FUZZY_LENGTH:
        return 0
    if length <= 7:
        return 1
    return 2 if length <= 12 else 3


SCAN_PER_PROBE = setting("scan_per_probe")


def _probes(limit: int) -> int:
    """About how many parts a look-up tolerating `limit` edits probes (see `_pieces`)."""
    return (2 * limit + 1) * (limit + 1) * (2 * limit + 3) * 4


def reach(length: int) -> int:
    """The most edits any look-up that may find a word of this length tolerates."""
    return max((max_edits(n) for n in range(max(1, length - MOST_EDITS), length + MOST_EDITS + 1)
                if abs(n - length) <= max_edits(n)), default=0)


def parts(length: int, edits: int) -> list[tuple[int, int]]:
    """(start, size) of the `edits + 1` parts a word of this length is cut into; later parts take
    the remainder, so the longest (most telling) come last."""
    count = edits + 1
    size, longer = divmod(length, count)
    out, start = [], 0
    for j in range(count):
        n = size + (j >= count - longer)
        out.append((start, n))
        start += n
    return out


def _pieces(word: str, start: int, size: int, shift: int) -> set[str]:
    """What a part `size` long that sat at `start` may look like in `word`, moved by up to `shift`
    insertions or deletions before it and with a letter at either edge swapped with its
    neighbour outside the part."""
    found = set()
    end = len(word)
    for x in range(max(0, start - shift - 1), min(end - size, start + shift + 1) + 1):
        found.add(word[x:x + size])
        # a swap across the left edge: the part's first letter sits one place before the rest
        if x + size + 1 <= end:
            found.add(word[x] + word[x + 2:x + size + 1])
        # across the right edge: the part's last letter sits one place after the rest
        if x + size + 1 <= end:
            found.add(word[x:x + size - 1] + word[x + size])
        # across both edges
        if size >= 2 and x + size + 2 <= end:
            found.add(word[x] + word[x + 2:x + size] + word[x + size + 1])
    return found


class FuzzyVocabulary:
    """A set of words (or multi-word names) with typo-tolerant lookup."""

    def __init__(self, words: Iterable[str], cache_size: int = 8192, *,
                 members: Container[str] | None = None) -> None:
        """`members`: a set or mapping the caller keeps anyway that holds exactly these words;
        membership is then one hash look-up instead of a bisect in a bucket."""
        self._members = members
        buckets: dict[tuple[int, str], list[str]] = defaultdict(list)
        for word in words:
            for letter in set(word[:2]):
                buckets[(len(word), letter)].append(word)
        # The buckets hold every word; membership is answered from them, not from a second set.
        self._buckets = {key: tuple(sorted(set(ws))) for key, ws in buckets.items()}
        pieces: dict[tuple[int, int], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for (_, letter), bucket in self._buckets.items():
            for word in bucket:
                edits = reach(len(word))
                if edits and word[0] == letter:  # each word once: under its first letter
                    for j, (start, size) in enumerate(parts(len(word), edits)):
                        pieces[(len(word), j)][word[start:start + size]].append(word)
        self._parts = {key: {piece: tuple(ws) for piece, ws in table.items()}
                       for key, table in pieces.items()}
        """(length, part number) → a part → the words of that length with that part there."""
        self.lookup = lru_cache(maxsize=cache_size)(self._lookup)

    def __contains__(self, word: str) -> bool:
        if self._members is not None:
            return word in self._members
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
        letters = set(word[:2])
        lengths = range(len(word) - limit, len(word) + limit + 1)
        buckets = [b for n in lengths for x in letters if (b := self._buckets.get((n, x)))]
        if sum(map(len, buckets)) <= SCAN_PER_PROBE * _probes(limit):
            candidates = {w for b in buckets for w in b}  # a small vocabulary: score it all
            return self._nearest(word, candidates, limit)
        candidates = set()
        for length in lengths:
            # `limit` edits leave one of any `limit + 1` parts intact: the longest are the rarest.
            for j, (start, size) in list(enumerate(parts(length, reach(length))))[-(limit + 1):]:
                table = self._parts.get((length, j))
                if table:
                    for piece in _pieces(word, start, size, limit):
                        candidates.update(table.get(piece, ()))
        return self._nearest(word, {w for w in candidates if letters & set(w[:2])}, limit)

    @staticmethod
    def _nearest(word: str, candidates: set[str], limit: int
                 ) -> tuple[tuple[str, ...], int] | None:
        found = {hit: int(distance) for hit, distance, _ in process.extract(
            word, list(candidates), scorer=OSA.distance, score_cutoff=limit, limit=None)}
        if not found:
            return None
        best = min(found.values())
        return tuple(sorted(w for w, d in found.items() if d == best)), best
