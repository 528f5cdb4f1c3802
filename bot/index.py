"""Search structures built once from the knowledge base: topic phrases and place names."""

from __future__ import annotations

import math
import sys
from array import array
from collections import defaultdict
from dataclasses import dataclass

from bot.fuzzy import FuzzyVocabulary
from bot.knowledge import LANGS, KnowledgeBase
from bot.lexicon import is_ordinary_word
from bot.normalize import fold
from bot.settings import setting

MIN_COMPOUND_PART = setting("min_compound_part")


class Phrases:
    """All topic phrases as parallel columns: at 100× size, one object per phrase costs ~30 MB."""

    def __init__(self) -> None:
        self.topic: list[str] = []
        self.tokens: list[tuple[str, ...]] = []
        self.weight = array("d")
        """Sum of the token weights: how much evidence a full match of the phrase is."""
        self.english = bytearray()

    def add(self, topic: str, lang: str, tokens: tuple[str, ...]) -> None:
        """Add a phrase; its weight is appended once all token weights are known."""
        self.topic.append(topic)
        self.tokens.append(tokens)
        self.english.append(lang == "en")

    def lang(self, i: int) -> str:
        return "en" if self.english[i] else "de"

    def __len__(self) -> int:
        return len(self.topic)


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """What a place name can mean: a municipality of the region (AGS), a whole district, a
    municipality outside the region (AGS), or a Land outside (Land key)."""

    kind: str  # municipality | district | outside | land
    key: str  # AGS, district id, or Land key
    via: str  # name | alias | short | locality | postcode | district

    @property
    def inside(self) -> bool:
        return self.kind in ("municipality", "district")


LOCALITY_POPULATION = setting("locality_population")
DISTRICT_POPULATION = setting("district_population")


class TopicIndex:
    """Phrases of all topics with token weights (rarer across topics = stronger)."""

    def __init__(self, kb: KnowledgeBase, place_names: set[str] | frozenset[str] = frozenset()
                 ) -> None:
        # Place names inside phrases ("Zulassungsstelle Hameln") are evidence of a place, not of a
        # topic: left in, they would also hide typos of that place.
        self.stopwords = frozenset().union(*kb.language.stopwords.values())
        stop = self.stopwords | set(place_names)
        # Two passes straight into the final columns: no temporary list of every phrase, whose
        # freed memory would stay with the process.
        self.phrases = Phrases()
        topics_of: dict[str, set[str]] = defaultdict(set)
        self.keywords: dict[str, str] = {}

        def add_phrase(owner: str, lang: str, phrase: str) -> tuple[str, ...]:
            tokens = tuple(sys.intern(t) for t in fold(phrase).split() if t not in stop)
            if tokens:
                self.phrases.add(owner, lang, tokens)
                for t in tokens:
                    topics_of[t].add(owner)
            return tokens

        for topic in kb.topics.values():
            tid = sys.intern(topic.id)
            for lang in LANGS:
                for phrase in topic.phrases[lang]:
                    add_phrase(tid, lang, phrase)
                for word in topic.keywords[lang]:
                    key = fold(word).replace(" ", "")
                    if key in place_names:
                        continue
                    self.keywords[key] = tid
                    topics_of[key].add(tid)
        # Services without a topic compete like topics: the nearest topic must not win by default.
        self.uncovered = frozenset(kb.uncovered)
        for service in kb.uncovered.values():
            sid = sys.intern(service.id)
            for lang in LANGS:
                for phrase in service.phrases[lang]:
                    tokens = add_phrase(sid, lang, phrase)
                    if len(tokens) > 1:  # "Kfz-Steuer" is also written "Kfzsteuer"
                        joined = "".join(tokens)
                        if self.keywords.setdefault(joined, sid) == sid:
                            topics_of[joined].add(sid)
        self.exclude: dict[str, tuple[tuple[str, ...], ...]] = {
            topic.id: tuple(ex for lang in LANGS for phrase in topic.exclude.get(lang, ())
                            if (ex := tuple(fold(phrase).split())))
            for topic in kb.topics.values() if any(topic.exclude.values())}
        # Weights come from the catalogue: a word's strength does not change because a service
        # without a topic uses it too ("anmelden" in "Sperrmüll anmelden").
        n_topics = max(len(kb.topics), 1)
        self.weight = {t: math.log(1 + n_topics / (len(ids - self.uncovered) or len(ids)))
                       for t, ids in topics_of.items()}
        self.topics_of: dict[str, frozenset[str]] = {
            t: frozenset(ids) for t, ids in topics_of.items()}
        """Which topics (and uncovered services) use a word: compound parts must share one."""
        by_token: dict[str, list[int]] = defaultdict(list)
        for i, toks in enumerate(self.phrases.tokens):
            self.phrases.weight.append(sum(self.weight[t] for t in toks))
            for t in set(toks):
                by_token[t].append(i)
        self.by_token: dict[str, array] = {t: array("I", ids) for t, ids in by_token.items()}
        self.vocabulary = FuzzyVocabulary(self.weight, members=self.weight)
        self.full_weight = math.log(1 + n_topics)


class PlaceIndex:
    """Every name, alias, locality and postcode of the region, and every municipality of Germany."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.names: dict[str, tuple[PlaceRef, ...]] = {}
        self.postcodes: dict[str, tuple[PlaceRef, ...]] = {}
        self.spelling: dict[str, str] = {}
        """A folded name → the name in lower case as written (wordfreq knows "lügde", not "luegde")."""
        self.outside = {p.key: p for p in kb.outside}
        shared: dict[PlaceRef, PlaceRef] = {}

        def add(name: str, ref: PlaceRef, table: dict[str, tuple[PlaceRef, ...]] | None = None
                ) -> None:
            table = self.names if table is None else table
            key = sys.intern(fold(name)) if table is self.names else name
            if table is self.names:
                self.spelling.setdefault(key, name.lower())
            ref = shared.setdefault(ref, ref)  # one object per (town, kind of name)
            refs = table.get(key, ())
            if key and ref not in refs:
                table[key] = (*refs, ref)  # tuples: most names mean one town

        for m in kb.municipalities.values():
            add(m.name, PlaceRef("municipality", m.ags, "name"))
            for alias in m.aliases:
                add(alias, PlaceRef("municipality", m.ags, "alias"))
            for locality in m.localities:
                add(locality, PlaceRef("municipality", m.ags, "locality"))
            for code in m.postcodes:
                add(code, PlaceRef("municipality", m.ags, "postcode"), self.postcodes)
        for d in kb.districts.values():
            for alias in (d.name, *d.aliases):
                if fold(alias) not in self.names:  # a town's own name wins over "Kreis X" short forms
                    add(alias, PlaceRef("district", d.id, "district"))
        region_lands = {kb.lands[d.land]["de"] for d in kb.districts.values() if d.land in kb.lands}
        for place in kb.outside:
            if place.is_land:
                if place.name in region_lands:
                    continue  # "Niedersachsen" does not tell which town: no place, not outside
                kind = "land"
            else:
                kind = "outside"
            add(place.name, PlaceRef(kind, place.key, "name"))
            for short in place.short_names:
                add(short, PlaceRef(kind, place.key, "short"))
            for code in place.postcodes:
                if code not in self.postcodes:
                    add(code, PlaceRef("outside", place.key, "postcode"), self.postcodes)
        self.longest: dict[str, int] = {}
        """First word of a name → most words of a name it begins: other words need no lookup."""
        for key in self.names:
            first, n = key.split(" ", 1)[0], key.count(" ") + 1
            if n > self.longest.get(first, 0):
                self.longest[first] = n
        self.vocabulary = FuzzyVocabulary(k for k in self.names if len(k) >= 5)
        self._ordinary: dict[tuple[str, PlaceRef, str], bool] = {}

    def population(self, ref: PlaceRef) -> int:
        if ref.kind == "municipality":
            if ref.via == "locality":
                return LOCALITY_POPULATION
            return self.kb.municipalities[ref.key].population or LOCALITY_POPULATION
        if ref.kind == "outside":
            return self.outside[ref.key].population
        return DISTRICT_POPULATION if ref.kind == "district" else 10 * DISTRICT_POPULATION

    def is_ordinary(self, key: str, ref: PlaceRef, lang: str) -> bool:
        """Whether this name, read as this place, is mostly an ordinary word of `lang` ("Lage")."""
        found = self._ordinary.get((key, ref, lang))
        if found is None:
            if " " in key:
                found = False
            else:
                found = key in self.kb.language.common_words or is_ordinary_word(
                    self.spelling.get(key, key), self.population(ref), lang)
            self._ordinary[(key, ref, lang)] = found
        return found

    def name_of(self, ref: PlaceRef) -> str:
        """The place's name as a person reads it."""
        if ref.kind == "municipality":
            return self.kb.municipalities[ref.key].name
        if ref.kind == "district":
            return self.kb.districts[ref.key].name
        return self.outside[ref.key].name
