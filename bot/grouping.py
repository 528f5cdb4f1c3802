"""Grouping logged questions into hurdles, and the district pairs a question spans.

Pure functions without a database, so that the rules can be tested (and tuned) on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rapidfuzz import fuzz, process

from bot.normalize import fold

SIMILARITY = 80
"""token_set_ratio (0..100) from which two questions count as the same hurdle. Lower merges
more (fewer, broader hurdles); higher splits rephrasings of one problem into several."""

def group_key(topic: str | None, reason: str) -> str:
    """Questions are only compared within one topic and reason: a 👎 on the car registration answer
    and an unanswered 'where do you live?' for it are different failures for the staff."""
    return f"{topic or '-'}/{reason}"


def folded(question: str) -> str:
    """The form questions are compared in (lower case, umlauts spelt out, no punctuation)."""
    return fold(question)


def best_match(question: str, candidates: Mapping[int, str],
               threshold: int = SIMILARITY) -> int | None:
    """The id of the candidate (id → folded question) most similar to the folded `question`, if
    it reaches `threshold`; ties go to the oldest (lowest id) hurdle so that grouping is stable."""
    if not candidates:
        return None
    if not question:
        # Nothing to compare (e.g. only emoji): group with other empty questions only.
        empty = [i for i, text in candidates.items() if not text]
        return min(empty) if empty else None
    ids = sorted(candidates)
    matches = process.extract(question, [candidates[i] for i in ids], scorer=fuzz.token_set_ratio,
                              score_cutoff=threshold, limit=None)
    if not matches:
        return None
    best = max(score for _, score, _ in matches)
    return min(ids[index] for _, score, index in matches if score == best)


def _district_of(place: Mapping[str, Any]) -> str | None:
    """The district a place mention lies in (as the engine found it), or None if outside or
    ambiguous."""
    districts = set(place.get("districts") or ())
    districts |= {str(r.get("key")) for r in place.get("refs") or () if r.get("kind") == "district"}
    return districts.pop() if len(districts) == 1 else None


def _order(place: Mapping[str, Any]) -> int:
    """Where a place stands in a path: origin ('from', where one lives) before destination."""
    if place.get("direction") == "from":
        return 0
    if place.get("direction") == "to":
        return 2
    return 0 if place.get("role") == "residence" else 1


def district_path(places: Iterable[Mapping[str, Any]], districts: Iterable[str] = ()) -> str:
    """The districts a question spans, origin first: "lippe→hameln-pyrmont", a single "lippe", or ""
    when no place in the region was named. `districts` (the answer's, unordered) is the fallback
    for places whose district is not given."""
    ordered = sorted(((i, p) for i, p in enumerate(places)), key=lambda ip: (_order(ip[1]), ip[0]))
    path: list[str] = []
    for _, place in ordered:
        district = _district_of(place)
        if district and district not in path:
            path.append(district)
    for district in sorted(districts):
        if district not in path:
            path.append(district)
    return "→".join(path)
