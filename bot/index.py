"""Search structures built once from the knowledge base: topic phrases and place names."""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from dataclasses import dataclass

from bot.fuzzy import FuzzyVocabulary
from bot.knowledge import LANGS, KnowledgeBase
from bot.normalize import fold

MIN_COMPOUND_PART = 4
"""Shortest word a compound is split into ("Wohngeld|stelle", "Kita|platz")."""


@dataclass(frozen=True, slots=True)
class Phrase:
    topic: str
    lang: str
    tokens: tuple[str, ...]
    weight: float
    """Sum of the token weights: how much evidence a full match of this phrase is."""


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """What a place name can mean: a municipality (ags), a whole district, or a place outside."""

    kind: str  # municipality | district | outside
    key: str  # AGS, district id or outside name
    via: str  # name | alias | locality | postcode | district


class TopicIndex:
    """Phrases of all topics with token weights (rarer across topics = stronger)."""

    def __init__(self, kb: KnowledgeBase, place_names: set[str] | frozenset[str] = frozenset()
                 ) -> None:
        # Place names inside phrases ("Zulassungsstelle Hameln") are evidence of a place, not of a
        # topic: left in, they would also hide typos of that place.
        self.stopwords = frozenset().union(*kb.language.stopwords.values())
        stop = self.stopwords | set(place_names)
        raw: list[tuple[str, str, tuple[str, ...]]] = []
        topics_of: dict[str, set[str]] = defaultdict(set)
        self.keywords: dict[str, str] = {}
        for topic in kb.topics.values():
            for lang in LANGS:
                for phrase in topic.phrases[lang]:
                    tokens = tuple(sys.intern(t) for t in fold(phrase).split() if t not in stop)
                    if tokens:
                        raw.append((topic.id, lang, tokens))
                        for t in tokens:
                            topics_of[t].add(topic.id)
                for word in topic.keywords[lang]:
                    key = fold(word).replace(" ", "")
                    if key in place_names:
                        continue
                    self.keywords[key] = topic.id
                    topics_of[key].add(topic.id)
        n_topics = max(len(kb.topics), 1)
        self.weight = {t: math.log(1 + n_topics / len(ids)) for t, ids in topics_of.items()}
        self.phrases = [Phrase(tid, lang, toks, sum(self.weight[t] for t in toks))
                        for tid, lang, toks in raw]
        self.by_token: dict[str, list[int]] = defaultdict(list)
        for i, phrase in enumerate(self.phrases):
            for t in set(phrase.tokens):
                self.by_token[t].append(i)
        self.vocabulary = FuzzyVocabulary(set(self.weight))
        self.full_weight = math.log(1 + n_topics)


class PlaceIndex:
    """Every name, alias, locality and postcode, in and outside the region."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.names: dict[str, list[PlaceRef]] = defaultdict(list)
        self.postcodes: dict[str, list[PlaceRef]] = defaultdict(list)

        def add(name: str, ref: PlaceRef) -> None:
            key = fold(name)
            if key and ref not in self.names[key]:
                self.names[key].append(ref)

        for m in kb.municipalities.values():
            add(m.name, PlaceRef("municipality", m.ags, "name"))
            for alias in m.aliases:
                add(alias, PlaceRef("municipality", m.ags, "alias"))
            for locality in m.localities:
                add(locality, PlaceRef("municipality", m.ags, "locality"))
            for code in m.postcodes:
                self.postcodes[code].append(PlaceRef("municipality", m.ags, "postcode"))
        for d in kb.districts.values():
            for alias in (d.name, *d.aliases):
                if fold(alias) not in self.names:  # a town's own name wins over "Kreis X" short forms
                    add(alias, PlaceRef("district", d.id, "district"))
        for place in kb.outside:
            if fold(place.name) not in self.names:
                add(place.name, PlaceRef("outside", place.name, "name"))
            for code in place.postcodes:
                if code not in self.postcodes:
                    self.postcodes[code].append(PlaceRef("outside", place.name, "postcode"))
        self.max_tokens = max((len(k.split()) for k in self.names), default=1)
        self.vocabulary = FuzzyVocabulary({k for k in self.names if len(k) >= 5})
