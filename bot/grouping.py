"""Grouping logged questions into hurdles, and the district pairs a question spans.

Pure functions without a database, so that the rules can be tested (and tuned) on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz

from bot.normalize import fold
from bot.roles import Role
from bot.settings import setting

# What each decides: bot/settings.py.
SIMILARITY = setting("grouping_similarity")
TYPO = setting("grouping_typo")
MIN_PART = setting("grouping_min_part")
SMALLER_WEIGHT = setting("grouping_smaller_weight")

_FILLER_WORDS = """
ich du er sie es wir ihr mein meine meinen meinem meiner mich mir dich dir uns euch ihnen ihm ihn
man und oder aber wo wie was wann wer wen wem welche welcher welches welchem welchen warum wieso
weshalb woher wohin der die das den dem des ein eine einen einem einer eines ist sind bin bist war
habe hat haben hast muss musst muessen kann kannst koennen soll sollte will moechte moechten
brauche brauchst brauchen bitte nicht kein keine noch schon auch nur jetzt hier dort da dann denn
doch mal ja nein im in am an auf aus bei beim mit nach von vom zu zum zur fuer ueber unter gegen
ohne um als wenn dass ob so sehr gibt geht gehe mache machen macht wird werden wurde sich wegen
zustaendig zustaendigkeit unser unsere dein deine sein seine nun hin her hallo danke gibts
beantragen beantrage beantragt beantragung antrag stellen stelle bekomme bekommen kriege erhalte
erhalten hilft helfen hilfe wende wenden melde melden anmelden anmeldung wohne wohnen wohnt lebe
leben arbeite arbeiten amt behoerde stelle frage fragen info infos informationen erledigen
i me my you your he she it we our they them the a an is are am was be been have has had do does
did can could should would will must need needs want please not no yes on at to from of for with
by about into near this that there here now just also so if get got where how what when who which
why responsible apply help office live lives working work
"""
FILLER = frozenset(_FILLER_WORDS.split())
"""Words that say nothing about what is asked: function and question words, and the verbs every
administrative question uses (beantragen, anmelden). Places are taken out separately."""
_ENDINGS = ("ungen", "ung", "en", "ern", "er", "es", "e")


def group_key(topic: str | None, reason: str) -> str:
    """Questions are only compared within one topic and reason: a 👎 on the car registration answer
    and an unanswered 'where do you live?' for it are different failures for the staff."""
    return f"{topic or '-'}/{reason}"


def _stem(word: str) -> str:
    """A German word without its most common ending (Namensänderung/-en, beantragen/-e)."""
    for ending in _ENDINGS:
        if len(word) - len(ending) >= 4 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def content_words(question: str, places: Iterable[str] = ()) -> list[str]:
    """What a question is about: its folded words without filler, question words and the places
    it names (`places`: the place mentions as the engine found them), stemmed, sorted."""
    placed = {w for text in places for w in fold(str(text or "")).split()}
    words = {_stem(w) for w in fold(question).split()
             if w not in FILLER and w not in placed and not w.isdigit() and len(w) > 1}
    return sorted(words)


def folded(question: str, places: Iterable[str] = ()) -> str:
    """The form questions are compared in: their content words, space-separated."""
    return " ".join(content_words(question, places))


def _word_score(a: str, b: str) -> float:
    """1 for one word, a little less for a typo or a compound part, else 0."""
    if a == b:
        return 1.0
    if min(len(a), len(b)) >= MIN_PART and (a in b or b in a):
        return 0.9
    ratio = fuzz.ratio(a, b)
    return ratio / 100 if ratio >= TYPO else 0.0


def similarity(a: str, b: str) -> float:
    """0..100: how far two folded questions (content words) are about the same thing. Each word
    of the shorter question finds its best partner in the other (typos and compound parts count
    nearly full); the share of the longer question's words that found one adds the rest."""
    left, right = a.split(), b.split()
    if not left or not right:
        return 100.0 if not left and not right else 0.0
    small, large = (left, right) if len(left) <= len(right) else (right, left)
    best = [max(_word_score(w, v) for v in large) for w in small]
    covered = sum(1 for v in large if any(_word_score(w, v) for w in small))
    score = SMALLER_WEIGHT * sum(best) / len(small) + (1 - SMALLER_WEIGHT) * covered / len(large)
    return 100 * score


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
    scored = [(similarity(question, text), i) for i, text in candidates.items() if text]
    scored = [(score, i) for score, i in scored if score >= threshold]
    if not scored:
        return None
    best = max(score for score, _ in scored)
    return min(i for score, i in scored if score == best)


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
    return 0 if place.get("role") == Role.RESIDENCE else 1


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


class Cause(StrEnum):
    """Why a hurdle is one, for the staff: what would have to change so that it is answered."""

    CROSS_BORDER = "cross_border"
    """The asker's places lie in two districts or two Länder: what the forum exists to remove."""
    NO_TOPIC = "no_topic"
    """A knowledge gap: no topic fits the question."""
    NO_PLACE = "no_place"
    """The bot asked where, and the place was never given."""
    OUTSIDE_REGION = "outside_region"
    OFFICE_UNKNOWN = "office_unknown"
    """A topic and a place, but no office known for that place."""
    UNHELPFUL = "unhelpful"
    """Answered, and rated 👎."""


CAUSES = tuple(Cause)
"""In the order the staff see them: cross-border first."""
_CAUSE_OF_REASON = {"no_topic": Cause.NO_TOPIC, "needs_place": Cause.NO_PLACE,
                    "outside_region": Cause.OUTSIDE_REGION, "negative_feedback": Cause.UNHELPFUL,
                    "no_office": Cause.OFFICE_UNKNOWN, "answered": Cause.OFFICE_UNKNOWN}


def cause_of(reason: str, districts: Iterable[str] = (), lands: Iterable[str] = ()) -> Cause:
    """The cause of one logged question: cross-border when its places lie in two districts or
    two Länder, else what its reason says (an 'answered' one that was logged had no office)."""
    if len(set(districts)) > 1 or len(set(lands)) > 1:
        return Cause.CROSS_BORDER
    return _CAUSE_OF_REASON.get(reason, Cause.NO_TOPIC)


def land_pair(lands: Iterable[str]) -> str:
    """"NI–NW" for a question in both Länder, "" for one in a single Land."""
    found = sorted(set(lands))
    return "–".join(found) if len(found) > 1 else ""


def phrase_of(question: str, places: Iterable[str] = ()) -> str:
    """A question as a topic phrasing: its words as written, without filler, question words and
    places ("Wo beantrage ich eine Namensänderung? Hameln" → "Namensänderung")."""
    placed = {w for text in places for w in fold(str(text or "")).split()}
    kept = []
    for word in re.findall(r"[^\W_]+(?:-[^\W_]+)*", question):
        key = fold(word)
        if key and key not in FILLER and key not in placed and not key.isdigit():
            kept.append(word)
    return " ".join(kept)
