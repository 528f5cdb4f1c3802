"""Generate a bigger knowledge base from the bundled one, for benchmarks: `factor` times the size.

The real districts, places, topics and offices stay as they are; synthetic topics (with German and
English phrasings, keywords, what to bring) and synthetic municipalities (with AGS, postcodes,
localities, aliases) are added until there are `factor` times as many of each. Generated words are
made-up compounds that never equal a real name, phrase word or keyword (nor a word of the `reserved`
texts, e.g. the evaluation questions), so the real questions keep their meaning and the synthetic
content mostly just makes the indexes bigger. A made-up name can still lie within a typo of an
ordinary word, as real names do: how often answers change with size is part of what
`weserbot bench` reports (its "same" column).

Each district key leaves room for 999 municipalities; when a factor needs more, synthetic districts
(Lower Saxony keys 039xx) are added and every office kind gets one office that serves them.

    python -m bot.kbgen 10 /tmp/kb-10x            # from the bundled base
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import BUNDLED, LANGS, KnowledgeBase, load_knowledge
from bot.normalize import fold

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

SEED = 20261125
MAX_PER_DISTRICT = 999
"""Municipality numbers 001..999 within a district key (AGS = 5-digit key + 3 digits)."""

# -- word material ---------------------------------------------------------------------------------
_ONSETS = ("b", "br", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h", "k", "kl", "kn", "kr", "l",
           "m", "n", "p", "pl", "r", "s", "sch", "schl", "schm", "schw", "sp", "st", "str", "t",
           "tr", "w", "z", "zw")
_VOWELS = ("a", "e", "i", "o", "u", "au", "ei", "ie", "ä", "ö", "ü", "eu")
_CODAS = ("", "", "n", "r", "l", "m", "s", "ck", "ng", "nd", "rt", "lk", "st", "nt", "rn", "lm")

_PLACE_SUFFIXES = ("hausen", "dorf", "feld", "beck", "hagen", "stedt", "burg", "rode", "born",
                   "heide", "bruch", "büttel", "horst", "ingen", "sen", "winkel", "brück", "berg",
                   "mühlen", "loh", "wede", "ahlen", "trup", "holz")
_PLACE_PREFIXES = ("Groß", "Klein", "Ober", "Nieder", "Alt", "Neu", "Bad", "Hohen")
_PLACE_TAILS = ("am Deister", "an der Weser", "im Solling", "am Süntel", "an der Aue", "am Ith")

_DE_HEADS = ("zulage", "genehmigung", "bescheinigung", "erlaubnis", "ausweis", "beihilfe",
             "zuschuss", "register", "anzeige", "prüfung", "abgabe", "karte", "meldung", "plakette",
             "förderung", "gebühr", "lizenz", "nachweis", "berechtigung", "pass")
_EN_HEADS = ("allowance", "permit", "licence", "grant", "card", "certificate", "registration",
             "subsidy", "exemption", "inspection", "pass", "levy", "badge", "entitlement")

_DE_TEMPLATES = (
    "{C}", "{C} beantragen", "Antrag auf {C}", "{C} verlängern", "{C} Formular",
    "{C} online beantragen", "wo bekomme ich {C}", "{C} Antrag stellen", "{C} Kosten",
    "{C} Voraussetzungen", "{C} ändern lassen", "{C} abmelden", "Bescheid über {C}", "{C} Frist",
    "Zuständigkeit für {C}", "{C} neu ausstellen", "{C} verloren", "Termin für {C}",
    "{C} für mein Kind", "{C} im Landkreis", "{C} Unterlagen", "Widerspruch gegen {C}",
    "{C} Erstantrag", "{C} Folgeantrag", "{C} Ablehnung",
)
_EN_TEMPLATES = (
    "{c}", "apply for {c}", "renew my {c}", "{c} application", "{c} form", "where do I get {c}",
    "{c} fees", "{c} requirements", "change my {c}", "cancel {c}", "{c} deadline", "{c} office",
    "lost my {c}", "first {c}", "{c} for my child", "appeal against {c} decision",
    "{c} documents", "appointment for {c}", "{c} online", "replace {c}",
)
_BRING = {
    "de": ("Personalausweis oder Reisepass", "Meldebescheinigung", "ausgefülltes Formular",
           "Nachweis über das Einkommen", "Vollmacht, wenn jemand anderes kommt"),
    "en": ("ID card or passport", "registration certificate", "completed form",
           "proof of income", "power of attorney if someone else comes"),
}


class _Words:
    """Made-up words that are unique (after folding) and never equal reserved words."""

    def __init__(self, rng: random.Random, reserved: set[str]) -> None:
        self.rng = rng
        self.taken = set(reserved)

    def root(self, syllables: int) -> str:
        r = self.rng
        return "".join(r.choice(_ONSETS) + r.choice(_VOWELS) + r.choice(_CODAS)
                       for _ in range(syllables))

    def unique(self, make: Callable[[], tuple[str, str]]) -> str:
        """`make` returns (word, core): neither the word nor its made-up core may be taken."""
        for _ in range(1000):
            word, core = make()
            key, core = fold(word), fold(core)
            if key and key not in self.taken and core not in self.taken:
                self.taken.update((key, core))
                return word
        raise RuntimeError("kbgen: ran out of unique words")  # pragma: no cover

    def place(self) -> str:
        r = self.rng

        def make() -> tuple[str, str]:
            name = (self.root(r.choice((1, 2, 2))) + r.choice(_PLACE_SUFFIXES)).capitalize()
            roll = r.random()
            if roll < 0.12:
                return f"{r.choice(_PLACE_PREFIXES)} {name}", name
            if roll < 0.16:
                return f"{name} {r.choice(_PLACE_TAILS)}", name
            return name, name
        return self.unique(make)

    def concept_de(self) -> str:
        def make() -> tuple[str, str]:
            word = (self.root(2) + self.rng.choice(_DE_HEADS)).capitalize()
            return word, word
        return self.unique(make)

    def concept_en(self) -> str:
        def make() -> tuple[str, str]:
            word = self.root(2)
            return word, word
        return self.unique(make)


# -- reading the source ----------------------------------------------------------------------------
def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)


def _write(path: Path, data: Any, header: str = "") -> None:
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(header + text, encoding="utf-8")


def _reserved_words(kb: KnowledgeBase) -> set[str]:
    """Every folded name and word of the real base: generated words must differ from all."""
    words: set[str] = set()

    def add(text: str) -> None:
        key = fold(text)
        if key:
            words.add(key)
            words.update(key.split())

    for m in kb.municipalities.values():
        for name in (m.name, *m.aliases, *m.localities, m.samtgemeinde or ""):
            add(name)
    for d in kb.districts.values():
        for name in (d.id, d.name, *d.aliases):
            add(name)
    for p in kb.outside:
        add(p.name)
    for t in kb.topics.values():
        for lang in LANGS:
            for text in (*t.phrases[lang], *t.keywords[lang], t.title.get(lang, "")):
                add(text)
                words.add(fold(text).replace(" ", ""))
    lang = kb.language
    for group in (*lang.stopwords.values(), lang.off_topic, lang.admin_cues, lang.from_cues,
                  lang.to_cues, lang.place_prepositions, lang.common_words, lang.not_money):
        for word in group:
            add(word)
    for group in (*lang.small_talk.values(), *lang.role_cues.values(), lang.move_words,
                  lang.admin_suffixes):
        for word in group:
            add(word.rstrip("*"))
    return words


def _postcodes(rng: random.Random, used: set[str]) -> Iterator[str]:
    """Five-digit codes in a shuffled order, skipping the real ones (and any reserved)."""
    codes = [f"{n:05d}" for n in range(100000)]
    rng.shuffle(codes)
    return (c for c in codes if c not in used)


# -- topics ----------------------------------------------------------------------------------------
def _synthetic_topic(n: int, words: _Words, model: Any, rng: random.Random, n_de: int,
                     n_en: int, n_kw_de: int, n_kw_en: int) -> dict[str, Any]:
    concepts_de = [words.concept_de() for _ in range(3)]
    concepts_en = [words.concept_en() for _ in range(2)]
    heads_en = rng.sample(_EN_HEADS, 2)
    terms_en = [f"{c} {h}" for c, h in zip(concepts_en, heads_en, strict=True)]

    def phrases(templates: tuple[str, ...], terms: list[str], count: int, key: str) -> list[str]:
        out: list[str] = []
        combos = [(t, c) for t in templates for c in terms]
        rng.shuffle(combos)
        for template, term in combos[:count]:
            out.append(template.format(**{key: term}))
        return out

    de = phrases(_DE_TEMPLATES, concepts_de, n_de, "C")
    en = phrases(_EN_TEMPLATES, terms_en, n_en, "c")
    kw_de = [fold(c).replace(" ", "") for c in concepts_de]
    while len(kw_de) < n_kw_de:  # more compounds that only this topic knows
        kw_de.append(fold(words.concept_de()).replace(" ", ""))
    kw_en = list(concepts_en)
    while len(kw_en) < n_kw_en:
        kw_en.append(words.concept_en())
    tid = f"gen-{n:05d}-{fold(concepts_de[0]).replace(' ', '')}"
    return {
        "id": tid,
        "title": {"de": concepts_de[0], "en": terms_en[0]},
        "role": model.role,
        "office_kind": model.office_kind,
        "phrases": {"de": de, "en": en},
        "keywords": {"de": kw_de, "en": kw_en},
        "bring": {lang: rng.sample(_BRING[lang], 3) for lang in LANGS},
        "links": [{"title": f"Informationen zu {concepts_de[0]}",
                   "url": f"https://example.org/weserbot/{tid}"}],
    }


def _write_topics(kb: KnowledgeBase, out: Path, factor: int, words: _Words,
                  rng: random.Random) -> int:
    real = sorted(kb.topics.values(), key=lambda t: t.id)
    if not real:
        return 0

    def mean(values: Iterable[int]) -> int:
        values = list(values)
        return max(1, round(sum(values) / len(values)))

    n_de = max(3, mean(len(t.phrases["de"]) for t in real))
    n_en = max(3, mean(len(t.phrases["en"]) for t in real))
    n_kw_de = mean(len(t.keywords["de"]) for t in real)
    n_kw_en = mean(len(t.keywords["en"]) for t in real)
    count = (factor - 1) * len(real)
    for n in range(count):
        topic = _synthetic_topic(n, words, real[n % len(real)], rng, n_de, n_en, n_kw_de, n_kw_en)
        _write(out / "topics" / f"{topic['id']}.yaml", topic, "# Generated by bot/kbgen.py.\n")
    return count


# -- places ----------------------------------------------------------------------------------------
def _free_numbers(kb: KnowledgeBase, did: str, key: str) -> list[str]:
    used = {a[len(key):] for a in kb.municipalities if a.startswith(key)}
    return [f"{n:03d}" for n in range(1, MAX_PER_DISTRICT + 1) if f"{n:03d}" not in used]


def _centre(kb: KnowledgeBase, did: str) -> tuple[float, float] | None:
    points = [m.coordinates for m in kb.municipalities.values()
              if m.district == did and m.coordinates]
    if not points:
        return None
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _municipality(ags: str, land: str, words: _Words, rng: random.Random, codes: Iterator[str],
                  localities_per_town: float, samtgemeinden: list[str],
                  centre: tuple[float, float] | None) -> dict[str, Any]:
    name = words.place()
    town = rng.random() < 0.2
    samtgemeinde = None
    if land == "NI" and not town and rng.random() < 0.45:
        if not samtgemeinden or rng.random() < 0.25:
            samtgemeinden.append(words.place())
        samtgemeinde = samtgemeinden[-1]
    n_loc = max(0, round(rng.gauss(localities_per_town, localities_per_town / 2)))
    item: dict[str, Any] = {
        "name": name,
        "ags": ags,
        "type": "stadt" if town else "gemeinde",
        "samtgemeinde": samtgemeinde,
        "postcodes": [next(codes) for _ in range(2 if rng.random() < 0.2 else 1)],
        "aliases": [words.place()] if rng.random() < 0.15 else [],
        "localities": [words.place() for _ in range(n_loc)],
    }
    if centre:
        item["coordinates"] = [round(centre[0] + rng.uniform(-0.2, 0.2), 5),
                               round(centre[1] + rng.uniform(-0.3, 0.3), 5)]
    return item


def _write_places(kb: KnowledgeBase, source: Path, out: Path, factor: int, words: _Words,
                  rng: random.Random, codes: Iterator[str]) -> tuple[int, list[dict[str, Any]]]:
    """Add municipalities to the districts' files; returns the count and any synthetic districts."""
    needed = (factor - 1) * len(kb.municipalities)
    if needed <= 0:
        return 0, []
    localities = sum(len(m.localities) for m in kb.municipalities.values())
    per_town = localities / max(len(kb.municipalities), 1)
    slots = {d.id: _free_numbers(kb, d.id, d.key) for d in kb.districts.values() if d.key}
    plan: dict[str, list[str]] = {did: [] for did in slots}
    # Round robin over the districts so each grows alike.
    while needed and any(slots.values()):
        for did, free in slots.items():
            if needed and free:
                plan[did].append(kb.districts[did].key + free.pop(0))
                needed -= 1
    synthetic: list[dict[str, Any]] = []
    keys = {d.key for d in kb.districts.values()}
    number = 900
    while needed:
        number += 1
        key = f"03{number:03d}"
        if key in keys:
            continue
        root = words.place()
        did = f"gen-kreis-{number - 900:02d}"
        synthetic.append({"id": did, "name": f"Landkreis {root}", "land": "NI", "key": key,
                          "aliases": [f"Kreis {root}"]})
        take = min(needed, MAX_PER_DISTRICT)
        plan[did] = [f"{key}{n:03d}" for n in range(1, take + 1)]
        needed -= take
    land_of = {d.id: d.land for d in kb.districts.values()} | {d["id"]: "NI" for d in synthetic}
    files = {p.stem: p for p in (source / "places").glob("*.yaml") if p.stem != "outside"}
    for did, agss in plan.items():
        if not agss:
            continue
        centre = _centre(kb, did)
        samtgemeinden: list[str] = []
        items = [_municipality(a, land_of[did], words, rng, codes, per_town, samtgemeinden, centre)
                 for a in agss]
        target = out / "places" / f"{did}.yaml"
        data = _read(files[did]) if did in files else None
        if not data or data.get("district") != did:
            # The district's places may live in a file of another name: add a file of our own.
            if target.exists():
                target = out / "places" / f"{did}-generated.yaml"
            data = {"district": did, "source": "generated by bot/kbgen.py (synthetic places)",
                    "municipalities": []}
        data["municipalities"] = list(data.get("municipalities") or []) + items
        _write(target, data, "# Real places plus synthetic ones generated by bot/kbgen.py.\n")
    return sum(len(a) for a in plan.values()), synthetic


def _add_districts(out: Path, synthetic: list[dict[str, Any]]) -> None:
    """Synthetic districts in districts.yaml and one office per office kind that serves them."""
    path = out / "districts.yaml"
    data = _read(path)
    data["districts"] = list(data["districts"]) + synthetic
    _write(path, data, "# The real districts plus synthetic ones generated by bot/kbgen.py.\n")
    ids = [d["id"] for d in synthetic]
    for office_file in sorted((out / "offices").glob("*.yaml")):
        offices = _read(office_file)
        label = (offices.get("label") or {}).get("de", office_file.stem)
        offices["offices"] = list(offices.get("offices") or []) + [{
            "id": f"gen-{office_file.stem}",
            "name": f"Synthetisches Amt ({label})",
            "districts": ids,
            "url": "https://example.org/weserbot/office",
            "source": "Generated by bot/kbgen.py: https://example.org/weserbot/office",
            "checked": "2026-01-01",
        }]
        _write(office_file, offices, "# Real offices plus one generated by bot/kbgen.py.\n")


# -- entry point -----------------------------------------------------------------------------------
def generate(source: Path | str | None, factor: int, out: Path | str, *,
             reserved: Iterable[str] = (), seed: int = SEED) -> KnowledgeBase:
    """Write a knowledge base `factor` times the size of `source` to `out` (replaced if present).

    `reserved` texts (e.g. the evaluation questions) lend none of their words to generated names
    and none of their five-digit numbers to generated postcodes, so their answers keep their
    meaning. Returns the source base as loaded.
    """
    if factor < 1:
        raise ValueError("factor must be at least 1")
    source = Path(source or BUNDLED).resolve()
    out = Path(out)
    kb = load_knowledge(source)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc"))
    rng = random.Random(f"{seed}-{factor}")
    reserved = list(reserved)
    taken = _reserved_words(kb) | {w for text in reserved for w in fold(text).split()}
    words = _Words(rng, taken)
    used = {c for m in kb.municipalities.values() for c in m.postcodes}
    used |= {c for p in kb.outside for c in p.postcodes}
    used |= {c for text in reserved for c in re.findall(r"(?<!\d)\d{5}(?!\d)", text)}
    codes = _postcodes(rng, used)
    _write_topics(kb, out, factor, words, rng)
    _, synthetic = _write_places(kb, source, out, factor, words, rng, codes)
    if synthetic:
        _add_districts(out, synthetic)
    return kb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.kbgen", description=__doc__.split("\n")[0])
    parser.add_argument("factor", type=int, help="size relative to the source (1, 10, 100 …)")
    parser.add_argument("out", help="directory to write (replaced if present)")
    parser.add_argument("--source", help="knowledge base to grow (default: the bundled one)")
    args = parser.parse_args(argv)
    generate(Path(args.source) if args.source else None, args.factor, Path(args.out))
    kb = load_knowledge(Path(args.out))
    print(f"{args.out}: {len(kb.topics)} topics, {len(kb.municipalities)} municipalities, "
          f"{len(kb.districts)} districts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
