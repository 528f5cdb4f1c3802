"""Understanding a message: its language, what kind of message it is, its topic, its places and roles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.index import MIN_COMPOUND_PART, PlaceIndex, PlaceRef, TopicIndex
from bot.knowledge import KnowledgeBase, Language
from bot.lexicon import is_real_word
from bot.normalize import Token, tokenize
from bot.settings import setting

# What each decides: bot/settings.py.
TOPIC_MIN_SCORE = setting("topic_min_score")
TOPIC_CLOSE = setting("topic_close")
TOPIC_ASK = setting("topic_ask")
TOPIC_ASK_COVERAGE = setting("topic_ask_coverage")
FUZZY_TOKEN_SIMILARITY = setting("fuzzy_token_similarity")
COMPOUND_PART_SIMILARITY = setting("compound_part_similarity")
STRAY_PART_SIMILARITY = setting("stray_part_similarity")
MOVE_SIMILARITY = setting("move_similarity")
LOOKBACK = setting("lookback")
LOOKAHEAD = setting("lookahead")
LOWERCASE_CONTEXT = setting("lowercase_context")
DOMINANCE = setting("dominance")
REGION_PRIOR = setting("region_prior")
SHORT_NAME_WEIGHT = setting("short_name_weight")

_POSTCODE = re.compile(r"^\d{5}$")


@dataclass
class Mention:
    """A place named in the message."""

    start: int
    end: int
    text: str
    refs: list[PlaceRef]
    edits: int = 0
    role: str | None = None
    direction: str | None = None  # "from" | "to" in "von A nach B"
    others: list[PlaceRef] = field(default_factory=list)
    """Other places of the same name, not chosen but offered as a one-tap alternative."""
    other_person: bool = False
    """The place of someone else the message speaks of ("meine Mutter wohnt in …")."""
    self_person: bool = False
    """The asker's own place ("ich wohne in …"), as opposed to someone else's or no one's."""
    not_role: str | None = None
    """A role the message denies for this place ("keinen Wohnsitz in Isernhagen")."""

    def to_json(self) -> dict:
        return {"text": self.text, "role": self.role, "direction": self.direction,
                "edits": self.edits, "not_role": self.not_role, "self_person": self.self_person,
                "refs": [{"kind": r.kind, "key": r.key, "via": r.via} for r in self.refs],
                "others": [{"kind": r.kind, "key": r.key, "via": r.via} for r in self.others],
                "other_person": self.other_person}


@dataclass
class TopicGuess:
    topic: str
    score: float
    evidence: float = 0.0
    """How much of the message the topic's words explain (weighted): the tie-breaker."""


@dataclass
class Understanding:
    text: str
    lang: str
    kind: str  # question | place_only | small_talk | off_topic | empty
    topics: list[TopicGuess] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    moving: bool = False
    administrative: bool = False
    other_person: bool = False
    """The message speaks of someone else (a parent, a child), with or without their place."""

    @property
    def topic(self) -> TopicGuess | None:
        return self.topics[0] if self.topics else None


def _compounds(tokens: list[Token]) -> list[str]:
    """The words for topic matching: hyphenated compounds stay one word ("kfz-steuer")."""
    words: list[str] = []
    previous = -2
    for t in tokens:
        if t.hyphenated and previous == t.index - 1 and words:
            words[-1] = f"{words[-1]}-{t.text}"
        else:
            words.append(t.text)
        previous = t.index
    return words


def _contains(flat: list[str], present: set[str], phrase: tuple[str, ...]) -> bool:
    """Whether the message holds the phrase, as written apart or as one compound."""
    if "".join(phrase) in present:
        return True
    n = len(phrase)
    if n == 1 or not all(w in present for w in phrase):
        return False
    return any(tuple(flat[i:i + n]) == phrase for i in range(len(flat) - n + 1))


class _Cues:
    """Cue words, some ending in * for a prefix ("umzieh*"): one set and one tuple to test."""

    def __init__(self, cues: tuple[str, ...] | frozenset[str]) -> None:
        self.exact = frozenset(c for c in cues if not c.endswith("*"))
        self.prefixes = tuple(c[:-1] for c in cues if c.endswith("*"))

    def match(self, word: str) -> bool:
        return word in self.exact or (bool(self.prefixes) and word.startswith(self.prefixes))


class Understander:
    """Turns text into an Understanding using the prepared indexes."""

    def __init__(self, kb: KnowledgeBase, topics: TopicIndex, places: PlaceIndex) -> None:
        self.lang: Language = kb.language
        self.topics = topics
        self.places = places
        self.small_talk = {p for phrases in self.lang.small_talk.values() for p in phrases}
        self.small_talk_words = {w for p in self.small_talk for w in p.split()}
        self.move_cues = _Cues(self.lang.move_words)
        self.move_phrases = tuple(c for c in self.lang.move_words if " " in c)
        self.role_cues = [(role, _Cues(cues)) for role, cues in self.lang.role_cues.items()]
        self.cue_words = frozenset().union(*(cues.exact for _, cues in self.role_cues))
        self.admin_suffixes = tuple(self.lang.admin_suffixes)
        self.de_stopwords = self.lang.stopwords.get("de", frozenset())
        self.en_stopwords = self.lang.stopwords.get("en", frozenset())
        self.off_topic_phrases = tuple(f" {c} " for c in self.lang.off_topic if " " in c)
        self.known_words = (topics.stopwords | self.lang.off_topic | self.lang.admin_cues
                            | self.lang.place_prepositions | frozenset(topics.weight)
                            | self.lang.from_cues | self.lang.to_cues | self.lang.common_words
                            | self.small_talk_words | self.cue_words)

    # -- whole message --------------------------------------------------------------------------
    def understand(self, text: str, expecting_place: bool = False) -> Understanding:
        """Read one message; `expecting_place`: it answers our question for a place."""
        tokens = tokenize(text)
        words = [t.text for t in tokens]
        lang = self.detect_language(words, text)
        if not any(len(t.text) > 1 or t.text.isdigit() for t in tokens):
            return Understanding(text, lang, "empty")
        mentions = self.find_places(tokens, lang, expecting_place)
        in_place = {i for m in mentions for i in range(m.start, m.end)}
        rest = [t for t in tokens if t.index not in in_place]
        joined = " ".join(words)
        moving = any(self.move_cues.match(w) for w in words) or any(
            c in joined for c in self.move_phrases)
        # "Ich ziehe nach Detmold" speaks of a move even without the word "Umzug" that phrases use.
        topics = self.match_topics(_compounds(rest),
                                   {self.lang.move_concept: MOVE_SIMILARITY} if moving else {})
        u = Understanding(text, lang, "question", topics, mentions, moving)
        u.administrative = self.is_administrative([t.text for t in rest])
        u.other_person = any(t.text in self.lang.other_persons for t in tokens)
        if topics and topics[0].topic in self.topics.uncovered:
            # A known service without a topic: a knowledge gap to log, not the nearest topic.
            u.topics, u.administrative = [], True
        else:
            u.topics = [g for g in topics if g.topic not in self.topics.uncovered]
        off_topic = self.is_off_topic(words, joined)
        if topics and not u.administrative and off_topic:
            u.topics = []  # "recommend a good restaurant" is not a licence question
        if not u.topics:
            if self.is_small_talk(words):
                u.kind = "small_talk"
            # Someone who names a place to this bot and asks something asks about an office there,
            # unless the request is plainly something else ("Wetter in Hameln"): logged.
            elif mentions and not off_topic and not self._has_content(rest):
                u.kind = "place_only"  # "Wohnort Elze", "Ich wohne in Lügde": a place, no request yet
            elif off_topic or not (u.administrative or (mentions and self._has_content(rest))):
                u.kind = "off_topic"
        return u

    def detect_language(self, words: list[str], raw: str) -> str:
        de = sum(w in self.de_stopwords for w in words)
        en = sum(w in self.en_stopwords for w in words)
        de += 2 * sum(map(raw.count, "äöüßÄÖÜ"))
        if en == de:
            langs = [self._phrase_lang(w) for w in words if w in self.topics.vocabulary]
            en, de = en + langs.count("en"), de + langs.count("de")
        return "en" if en > de else "de"

    def _phrase_lang(self, word: str) -> str | None:
        ids = self.topics.by_token.get(word)
        return self.topics.phrases.lang(ids[0]) if ids else None

    def is_small_talk(self, words: list[str]) -> bool:
        """Only greetings, thanks and chat: no word is left once small talk and stopwords are out."""
        if " ".join(words) in self.small_talk:
            return True
        content = [w for w in words if len(w) > 1 and w not in self.topics.stopwords]
        return all(w in self.small_talk_words for w in content)

    def is_off_topic(self, words: list[str], joined: str) -> bool:
        if any(w in self.lang.off_topic for w in words):
            return True
        padded = f" {joined} "
        return any(phrase in padded for phrase in self.off_topic_phrases)

    def _has_content(self, tokens: list[Token]) -> bool:
        """Words beyond places, role words and stopwords: "Baumfällung Minden", not "Wohnort Elze"."""
        return any(len(t.text) > 2 and not t.text.isdigit() and t.text not in self.topics.stopwords
                   and t.text not in self.cue_words and t.text not in self.lang.place_cues
                   and t.text not in self.small_talk_words for t in tokens)

    def is_administrative(self, words: list[str]) -> bool:
        for w in words:
            if w in self.lang.admin_cues:
                return True
            if w.endswith(self.admin_suffixes) and any(
                    w.endswith(s) and len(w) > len(s) + 2 for s in self.admin_suffixes):
                return True
        return False

    # -- topics ---------------------------------------------------------------------------------
    def expand(self, word: str) -> list[tuple[str, float, frozenset[str] | None]]:
        """Vocabulary words this message word stands for, each with its similarity and the topics
        it may count for (None: any): itself, a typo fix, or compound parts."""
        idx = self.topics
        if "-" in word:  # written with a hyphen: a compound whose parts are known words
            joined = word.replace("-", "")
            if joined in idx.vocabulary:
                return [(joined, 1.0, None)]
            pieces = [p for p in word.split("-") if p not in idx.stopwords]
            expanded = [self.expand(piece) for piece in pieces]
            parts = [p for found in expanded for p, _, _ in found]
            # The last part names the thing: "Boots-Führerschein" is no driving licence. An
            # unknown last part ("IHK-Mitglied") leaves the meaning with the known first one.
            stray = len(pieces) > 1 and not expanded[0] and len(pieces[0]) > 2
            return [] if not parts else self._compound(parts, stray=stray)
        if word in idx.vocabulary:
            return [(word, 1.0, None)]
        if word in idx.stopwords or word in self.cue_words or len(word) < MIN_COMPOUND_PART:
            return []  # a role word ("Arbeitsort") is no typo of a topic word ("arbeitslos")
        # A word the lexicon knows keeps only a one-slip reading (below): nothing farther is sought.
        hit = idx.vocabulary.lookup(word, 1 if is_real_word(word) else None)
        if hit and hit[1] > 1:
            # Two slips rarely include the first letter ("Park-" ≠ "Fahrerlaubnis"), and a word the
            # lexicon knows is meant as written ("passiert" is no "passport").
            hit = (tuple(w for w in hit[0] if w[0] == word[0]), hit[1])
            hit = hit if hit[0] and not is_real_word(word) else None
        fuzzy = [(w, FUZZY_TOKEN_SIMILARITY - 0.05 * (hit[1] - 1), None)
                 for w in hit[0]] if hit else []
        if hit and hit[1] <= 1:  # one slip of the finger beats splitting into parts
            return fuzzy
        parts = self._split_compound(word)
        if parts:
            split = self._compound(parts)
            if fuzzy and split[0][1] < COMPOUND_PART_SIMILARITY:
                return fuzzy  # "schwerbehindertausweis": a typo of one word, not two topics
            return split
        return fuzzy

    def _compound(self, parts: list[str], stray: bool = False
                  ) -> list[tuple[str, float, frozenset[str] | None]]:
        """Parts of one compound count only for the topics that use all of them; generic parts
        ("Antrag", "Anmeldung") follow the others. Parts no topic shares are stray evidence."""
        idx = self.topics
        specific = [p for p in parts if p not in self.lang.admin_cues] or parts
        common = frozenset.intersection(*(idx.topics_of.get(p, frozenset()) for p in specific))
        if stray or not common:
            return [(p, STRAY_PART_SIMILARITY, None) for p in parts]
        return [(p, COMPOUND_PART_SIMILARITY, common) for p in parts]

    def _split_compound(self, word: str) -> list[str]:
        """Split German compounds into known words, longest head first (Elterngeld|antrag)."""
        vocab = self.topics.vocabulary
        for cut in range(len(word) - MIN_COMPOUND_PART + 1, MIN_COMPOUND_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            if head not in vocab:
                continue
            for rest in (tail, tail[1:] if tail.startswith("s") else None):
                if rest and rest in vocab:
                    return [head, rest]
                if rest and len(rest) >= 2 * MIN_COMPOUND_PART:
                    deeper = self._split_compound(rest)
                    if deeper:
                        return [head, *deeper]
            return [head] if len(head) >= 2 * MIN_COMPOUND_PART else []
        return []

    def match_topics(self, words: list[str], implied: dict[str, float] | None = None
                     ) -> list[TopicGuess]:
        """Score every topic (and uncovered service) whose phrases share a word with the message;
        best first. Topics whose `exclude` phrases the message contains are out."""
        idx = self.topics
        seen: dict[str, float] = {w: s for w, s in (implied or {}).items() if w in idx.weight}
        only: dict[str, frozenset[str]] = {}
        """Words that stand only inside a compound, and the topics that compound may mean."""
        free: set[str] = set(seen)
        for word in words:
            for vocab_word, similarity, topics in self.expand(word):
                seen[vocab_word] = max(similarity, seen.get(vocab_word, 0.0))
                if topics is None:
                    free.add(vocab_word)
                else:
                    only[vocab_word] = only.get(vocab_word, frozenset()) | topics
        flat = [p for w in words for p in w.split("-")]
        for left, right in zip(flat, flat[1:], strict=False):
            # "Schwerbehinderten Ausweis", "Kita Platz": a compound written apart
            joined = left + right
            if joined in idx.vocabulary:  # keywords are part of the vocabulary
                seen[joined] = 1.0
                free.add(joined)
        if not seen:
            return []
        for w in free:
            only.pop(w, None)

        def counts(word: str, topic: str) -> bool:
            allowed = only.get(word)
            return allowed is None or topic in allowed

        # Per topic: (score, evidence). Equal scores go to the phrase that explains more of the
        # message: "Arbeitslosengeld 2" beats "Arbeitslosengeld".
        scores: dict[str, tuple[float, float]] = {}
        for word, similarity in seen.items():
            topic = idx.keywords.get(word)
            if topic and counts(word, topic):
                scores[topic] = max(scores.get(topic, (0.0, 0.0)),
                                    (0.95 * similarity, idx.weight[word] * similarity))
        # A phrase can score at most matched / (0.75 * full_weight). Words whose summed evidence
        # stays below what the minimum score needs cannot lift any phrase on their own, so their
        # (long) posting lists are skipped: exact, and it keeps cost flat as phrases grow.
        needed = TOPIC_MIN_SCORE * 0.75 * idx.full_weight
        ordered = sorted(seen, key=lambda w: idx.weight.get(w, 0.0) * seen[w])
        weak, total = set(), 0.0
        for w in ordered:
            total += idx.weight.get(w, 0.0) * seen[w]
            if total >= needed:
                break
            weak.add(w)
        candidates = {i for w in seen if w not in weak for i in idx.by_token.get(w, ())}
        phrases, weights, full = idx.phrases, idx.weight, 0.75 * idx.full_weight
        for i in candidates:
            weight, topic = phrases.weight[i], phrases.topic[i]
            matched = sum([weights[t] * s for t in phrases.tokens[i]
                           if (s := seen.get(t)) and (not only or counts(t, topic))])
            if not matched:
                continue
            # A phrase of only common words ("antrag stellen") is weak evidence even in full.
            strength = min(1.0, weight / full)
            score = (matched / weight * strength, matched)
            if score > scores.get(topic, (0.0, 0.0)):
                scores[topic] = score
        ranked = self._without_excluded(
            sorted(scores.items(), key=lambda kv: kv[1], reverse=True), flat, words)
        if not ranked or ranked[0][1][0] < TOPIC_MIN_SCORE:
            return []
        best = ranked[0][1][0]
        close = [(t, s) for t, (s, _) in ranked if s >= TOPIC_MIN_SCORE and best - s <= TOPIC_CLOSE]
        # Among close topics the one whose words explain more of the message comes first:
        # "disability ID card" is the disability card's ("disability", "ID", "card"), not the ID card's.
        covered = {t: sum(idx.weight[w] * seen[w] for w in seen if w not in weak and counts(w, t)
                          and w in idx.by_token and t in idx.topics_of[w])  # a phrase word of t
                   for t, _ in close}
        close.sort(key=lambda ts: (round(ts[1], 3), round(covered[ts[0]], 3)), reverse=True)
        return [TopicGuess(t, round(s, 3), round(covered[t], 3)) for t, s in close]

    def _without_excluded(self, ranked: list[tuple[str, tuple[float, float]]], flat: list[str],
                          words: list[str]) -> list[tuple[str, tuple[float, float]]]:
        """The best three topics whose `exclude` phrases the message does not contain. Only the
        first ones are tested: most topics scored never come close to the top."""
        exclude = self.topics.exclude
        kept: list[tuple[str, tuple[float, float]]] = []
        present: set[str] | None = None
        for topic, score in ranked:
            if topic in exclude:
                if present is None:
                    present = set(flat) | {w.replace("-", "") for w in words}
                if any(_contains(flat, present, ex) for ex in exclude[topic]):
                    continue
            kept.append((topic, score))
            if len(kept) == 3:
                break
        return kept

    # -- places ---------------------------------------------------------------------------------
    def find_places(self, tokens: list[Token], lang: str = "de", expecting: bool = False
                    ) -> list[Mention]:
        """Every place the message names, each backed by evidence; `expecting`: we asked for one."""
        words = [t for t in tokens if t.text.isalpha()]
        lower = sum(not t.capitalised for t in words[1:])
        # Capitals carry information only where the writer otherwise writes in lower case.
        lowercase_context = len(words) > 3 and lower >= LOWERCASE_CONTEXT * (len(words) - 1)
        mentions: list[Mention] = []
        i = 0
        while i < len(tokens):
            found = self._place_at(tokens, i, lang, expecting, lowercase_context)
            if found:
                mentions.append(found)
                i = found.end
            else:
                i += 1
        mentions = self._apply_qualifiers(tokens, mentions)
        for m in mentions:
            self._choose(m)
        self._assign_roles(tokens, mentions)
        return mentions

    def _place_at(self, tokens: list[Token], i: int, lang: str, expecting: bool,
                  lowercase_context: bool) -> Mention | None:
        idx = self.places
        word = tokens[i].text
        after = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if _POSTCODE.match(word):
            if after in self.lang.not_money:
                return None
            refs = idx.postcodes.get(word) or [PlaceRef("outside", "", "postcode")]
            return Mention(i, i + 1, word, list(refs))
        for n in range(min(idx.longest.get(word, 0), len(tokens) - i), 0, -1):
            key = " ".join(t.text for t in tokens[i:i + n])
            refs = idx.names.get(key)
            if not refs:
                continue
            if n == 1 and any(idx.is_ordinary(key, r, lang) for r in refs):
                # "Lage", "Halle", "Wenden": a place only with a cue, else just the word.
                if self._after_determiner(tokens, i):
                    continue
                if self._has_cue(tokens, i, n, expecting, lowercase_context):
                    return Mention(i, i + n, key, list(refs))
                refs = tuple(r for r in refs if not idx.is_ordinary(key, r, lang))
                if not refs:
                    continue
            return Mention(i, i + n, key, list(refs))
        if word in self.known_words or is_real_word(tokens[i].lower):
            return None
        # German place adjectives and genitives: "Hamelner", "Mindener", "Hamelns"
        for suffix in ("er", "s"):
            stem = word[: -len(suffix)]
            refs = idx.names.get(stem) if word.endswith(suffix) else None
            if refs and not any(idx.is_ordinary(stem, r, lang) for r in refs):
                return Mention(i, i + 1, word, list(refs))
        # Typos: where a place is expected ("in Hamlen", "Holzmindn") more edits are tolerated than
        # for a lowercase word in passing, and a word as near to a topic word is not a place.
        expected = self._has_cue(tokens, i, 1, expecting, lowercase_context) or (
            tokens[i].capitalised and not self._after_determiner(tokens, i))
        for n in (3, 2, 1):
            if i + n > len(tokens):
                continue
            span = tokens[i:i + n]
            if any(t.text in self.known_words or is_real_word(t.lower) for t in span[1:]):
                continue
            joined = " ".join(t.text for t in span)
            if not expected and len(joined) < 6:
                continue
            # Where no place is expected one slip at most is accepted: farther is not sought.
            hit = idx.vocabulary.lookup(joined, None if expected else 1)
            if not hit or hit[1] == 0:
                continue
            names, edits = hit
            # Only a topic word at least as near matters.
            topic_hit = self.topics.vocabulary.lookup(joined, edits) if n == 1 else None
            if topic_hit and topic_hit[1] <= edits:
                continue
            refs = [r for name in names for r in idx.names[name]
                    if not (len(name.split()) == 1 and idx.is_ordinary(name, r, lang))]
            if refs:
                return Mention(i, i + n, joined, refs, edits=edits)
        return None

    def _has_cue(self, tokens: list[Token], i: int, n: int, expecting: bool,
                 lowercase_context: bool) -> bool:
        """Evidence that tokens[i:i+n] name a place rather than being ordinary words."""
        if expecting or (i and tokens[i - 1].text in self.lang.place_cues):
            return True
        if (i and _POSTCODE.match(tokens[i - 1].text)) or (
                i + n < len(tokens) and _POSTCODE.match(tokens[i + n].text)):
            return True
        return bool(i) and lowercase_context and tokens[i].capitalised

    def _after_determiner(self, tokens: list[Token], i: int) -> bool:
        """'die Halle', 'der Lage': a noun, not a town (towns take no article)."""
        return i > 0 and tokens[i - 1].text in self.lang.determiners

    def _apply_qualifiers(self, tokens: list[Token], mentions: list[Mention]) -> list[Mention]:
        """'Holzhausen bei Bad Pyrmont', 'Gehrden (Region Hannover)': the second place narrows
        the first to the towns that lie in it, and is no place of its own."""
        kept: list[Mention] = []
        for m in mentions:
            prev = kept[-1] if kept else None
            if prev is not None and m.start - prev.end <= 1 and (
                    m.start == prev.end or tokens[prev.end].text in self.lang.qualifiers):
                # "Springe bei Hannover" narrows even a name already read as one town: a
                # qualifier word says the second place is no place of its own.
                explicit = m.start != prev.end
                candidates = prev.refs + prev.others
                narrowed = [r for r in candidates if self._lies_in(r, m.refs, near=explicit)]
                if narrowed and (len(candidates) > 1 or explicit):
                    prev.refs = narrowed
                    prev.others = [r for r in prev.others if r not in narrowed
                                   and self._lies_in(r, m.refs, near=explicit)]
                    prev.end = m.end
                    continue
            kept.append(m)
        return kept

    def _lies_in(self, ref: PlaceRef, area: list[PlaceRef], near: bool = False) -> bool:
        """Whether `ref` lies in `area`; `near` ("X bei Y"): also a town of Y's district."""
        kb = self.places.kb
        for a in area:
            if ref == a:
                return False  # the same town twice is no qualifier
            if ref.kind == "municipality":
                town = kb.municipalities[ref.key]
                if (a.kind == "municipality" and a.key == ref.key) or (
                        a.kind == "district" and a.key == town.district):
                    return True
                if a.kind == "municipality" and a.via != "postcode":
                    # "Holzhausen bei Bad Pyrmont": the locality of that town, or a town near it
                    other = kb.municipalities[a.key]
                    if other.district == town.district and (ref.via == "locality" or near):
                        return True
            elif ref.kind == "outside" and a.kind in ("outside", "land"):
                if a.kind == "land" and a.key == ref.key[:2]:
                    return True
                if a.kind == "outside" and a.key[:5] == ref.key[:5] and a.key != ref.key:
                    return True
        return False

    def _choose(self, m: Mention) -> None:
        """Of the places a name may mean, keep the likely one when it clearly dominates
        (a town of the region over a hamlet of the same name); keep the others as alternatives."""
        if len(m.refs) < 2:
            return
        idx = self.places
        weight = {r: idx.population(r) * (SHORT_NAME_WEIGHT if r.via == "short" else 1.0)
                  * (REGION_PRIOR if r.inside else 1.0) for r in m.refs}
        # One town may stand behind several refs (name and locality): weigh each town once.
        by_town: dict[tuple[str, str], float] = {}
        for r, w in weight.items():
            by_town[(r.kind, r.key)] = max(w, by_town.get((r.kind, r.key), 0.0))
        ranked = sorted(by_town.items(), key=lambda kv: -kv[1])
        (best_kind, best_key), best = ranked[0]
        if best_kind == "municipality" and best >= DOMINANCE * ranked[1][1]:
            m.others = [r for r in m.refs if (r.kind, r.key) != (best_kind, best_key)
                        and r.via in ("name", "alias", "short", "locality")]
            m.refs = [r for r in m.refs if (r.kind, r.key) == (best_kind, best_key)]
        else:  # the region first, then by size
            m.refs.sort(key=lambda r: (not r.inside, -weight[r]))

    # -- roles ----------------------------------------------------------------------------------
    def _assign_roles(self, tokens: list[Token], mentions: list[Mention]) -> None:
        for k, m in enumerate(mentions):
            prev_end = mentions[k - 1].end if k else 0
            next_start = mentions[k + 1].start if k + 1 < len(mentions) else len(tokens)
            before = tokens[max(prev_end, m.start - LOOKBACK):m.start]
            if before and before[-1].text in self.lang.from_cues:
                m.direction = "from"
            elif before and before[-1].text in self.lang.to_cues:
                m.direction = "to"
            clause = tokens[m.start].clause
            # Whose place: the nearest person word in its clause, else just before ("für meine
            # Oma, die wohnt in Brakel").
            persons = [t for t in before
                       if t.text in self.lang.other_persons or t.text in self.lang.self_words]
            own = [t for t in persons if t.clause == clause] or persons
            m.other_person = bool(own) and own[-1].text in self.lang.other_persons
            m.self_person = bool(own) and not m.other_person
            after = []
            for tok in tokens[m.end:min(next_start, m.end + LOOKAHEAD)]:
                if (tok.text in self.lang.place_prepositions or tok.clause != clause
                        or tok.text in self.lang.name_links or tok.text in self.lang.conjunctions):
                    break
                after.append(tok)
            # Nearest role word in the place's own clause, before it ("wohne in Lügde") or after
            # it ("Lügde mein Wohnort"); only then one from the clause before.
            for candidates in ([t for t in reversed(before) if t.clause == clause], after,
                               [t for t in reversed(before) if t.clause != clause]):
                cue = next((t for t in candidates if self._role_of(t.text)), None)
                if cue is not None:
                    # "keinen Wohnsitz in X", "wohne nicht in X": a denial near the role word,
                    # or between it and the place
                    upto = m.start if cue.index < m.start else cue.index
                    negated = any(tokens[i].text in self.lang.negations
                                  for i in range(max(0, cue.index - 2), upto))
                    m.role = self._role_of(cue.text)
                    if negated:
                        m.role, m.not_role = None, m.role
                    break

    def _role_of(self, word: str) -> str | None:
        for role, cues in self.role_cues:
            if cues.match(word):
                return role
        return None
