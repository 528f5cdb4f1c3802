"""The typo look-up finds exactly what scoring every word would find, however it narrows the search."""

from __future__ import annotations

import random

import pytest
from rapidfuzz.distance import OSA

from bot import fuzzy
from bot.fuzzy import FuzzyVocabulary, max_edits

LETTERS = "abdeilnrst"
"""Few letters: many near words, so parts and swaps across the cuts are put to the test."""


def every_word_scored(words: set[str], word: str, at_most: int | None = None):
    """The specification: the nearest words of similar length sharing the first or second letter."""
    if word in words:
        return (word,), 0
    limit = min(max_edits(len(word)), max_edits(len(word)) if at_most is None else at_most)
    found = {w: OSA.distance(word, w) for w in words
             if abs(len(w) - len(word)) <= limit and set(w[:2]) & set(word[:2])}
    found = {w: d for w, d in found.items() if d <= limit}
    if not found:
        return None
    best = min(found.values())
    return tuple(sorted(w for w, d in found.items() if d == best)), best


def typo(rng: random.Random, word: str) -> str:
    """One to four slips: a letter left out, added, changed, or two swapped."""
    letters = list(word)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(letters) + 1)
        slip = rng.randrange(4)
        if slip == 0 and i < len(letters):
            del letters[i]
        elif slip == 1:
            letters.insert(i, rng.choice(LETTERS))
        elif slip == 2 and i < len(letters):
            letters[i] = rng.choice(LETTERS)
        elif slip == 3 and i + 1 < len(letters):
            letters[i], letters[i + 1] = letters[i + 1], letters[i]
    return "".join(letters)


@pytest.mark.parametrize("scan_per_probe", [0, 10**9], ids=["by parts", "whole buckets"])
def test_lookup_finds_what_scoring_every_word_finds(monkeypatch, scan_per_probe):
    monkeypatch.setattr(fuzzy, "SCAN_PER_PROBE", scan_per_probe)
    rng = random.Random(15)
    words = {"".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 18))) for _ in range(1500)}
    vocabulary = FuzzyVocabulary(words)
    listed = sorted(words)
    found = 0
    for _ in range(800):
        word = typo(rng, rng.choice(listed))
        for at_most in (None, 1, 2):
            expected = every_word_scored(words, word, at_most)
            assert vocabulary.lookup(word, at_most) == expected, (word, at_most)
            found += expected is not None
    assert found > 500  # the typos were near enough to be found, not all misses


def test_a_swap_across_a_cut_is_found(monkeypatch):
    monkeypatch.setattr(fuzzy, "SCAN_PER_PROBE", 0)  # by parts even in a vocabulary this small
    vocabulary = FuzzyVocabulary({"fahrerlaubnis", "wohngeldstelle"})
    assert vocabulary.lookup("fahrelraubnis") == (("fahrerlaubnis",), 1)
    assert vocabulary.lookup("wohnegldstelle") == (("wohngeldstelle",), 1)


def test_parts_cover_the_word_longest_last():
    assert fuzzy.parts(10, 3) == [(0, 2), (2, 2), (4, 3), (7, 3)]
    assert fuzzy.reach(4) == 1 and fuzzy.reach(10) == 3 and fuzzy.reach(3) == 0
