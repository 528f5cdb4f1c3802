"""Load the YAML knowledge base into typed objects and validate it, naming file, line and field."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.normalize import fold
from bot.roles import Role
from bot.texts import Texts, load_texts
from bot.yamlfile import LineDict, LineList, Problem, YamlError, load_yaml

ROLES = tuple(Role)
LANGS = ("de", "en")
BUNDLED = Path(__file__).resolve().parent.parent / "knowledge"
TAUGHT = "taught.yaml"
"""The staff overlay: phrasings taught from hurdles (/teach, `weserbot hurdles teach`)."""

_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_PLZ = re.compile(r"^\d{5}$")
_AGS = re.compile(r"^\d{8}$")
UNREADABLE = object()
"""What `_Reader.load` returns for a file with a syntax error."""
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL = re.compile(r"https?://[^\s\"'<>]+\.[^\s\"'<>]+")


def source_problem(source: str) -> str | None:
    """What keeps a `source` from being a citation a person can open, or None."""
    if not _URL.search(source):
        return "needs the full URL of the page the facts were read from"
    last = source.split()[-1]
    if not _URL.search(last) and last.isalpha() and last.islower():
        return f"ends mid-sentence ('… {last}'): give the whole citation"
    return None


class KnowledgeError(Exception):
    """The knowledge base is invalid; `problems` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class District:
    id: str
    name: str
    land: str
    key: str
    aliases: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        """The name as a list of districts reads it ("Hameln-Pyrmont", "Region Hannover")."""
        for prefix in ("Landkreis ", "Kreis "):
            if self.name.startswith(prefix):
                return self.name[len(prefix):]
        return self.name


@dataclass(frozen=True, slots=True)
class Municipality:
    ags: str
    name: str
    district: str
    type: str
    samtgemeinde: str | None
    postcodes: tuple[str, ...]
    aliases: tuple[str, ...]
    localities: tuple[str, ...]
    coordinates: tuple[float, float] | None = None
    """Approximate centre (lat, lon): enough to find the town nearest to a shared location."""
    population: int = 0
    """Residents (Destatis): of two places with one name, the likelier is the larger."""

    @property
    def authority(self) -> str:
        """Who runs the municipal offices: the Samtgemeinde for its members, else the town itself."""
        if self.samtgemeinde:
            return f"Samtgemeinde {self.samtgemeinde}"
        return f"{'Stadt' if self.type == 'stadt' else 'Gemeinde'} {self.name}"


@dataclass(frozen=True, slots=True)
class OutsidePlace:
    """A municipality outside the ten districts (from the gazetteer), or a whole Land."""

    key: str
    """AGS of a municipality, or the two-digit Land key of a Land."""
    name: str
    district: str
    """The district's name ("Landkreis Verden"), empty for a Land."""
    land: str
    population: int = 0
    postcodes: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    """Names people use besides the official one ("Frankfurt" for Frankfurt am Main)."""

    @property
    def is_land(self) -> bool:
        return len(self.key) == 2


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    land: str | None = None
    """The Land whose law or portal it is: shown only when that Land applies."""


@dataclass(frozen=True)
class Topic:
    id: str
    title: dict[str, str]
    role: str
    office_kind: str
    phrases: dict[str, tuple[str, ...]]
    keywords: dict[str, tuple[str, ...]]
    bring: dict[str, tuple[str, ...]]
    links: tuple[Link, ...]
    land_notes: dict[str, dict[str, str]]
    cross_border: dict[str, str]
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Phrases that name something else ("Hundeführerschein" for the driving licence): a message
    containing one is never given this topic."""
    for_others: bool = False
    """Often asked on behalf of someone (care for a parent): that person's place decides."""
    about_others: bool = False
    """Always about someone else (the deceased for a Erbschein): the asker's own place never
    decides, and the question back asks about that person."""


@dataclass(frozen=True)
class Uncovered:
    """A service people ask about that the catalogue has no topic for yet (`uncovered.yaml`).

    A message it fits best is logged as a knowledge gap instead of getting the nearest topic."""

    id: str
    title: dict[str, str]
    phrases: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Office:
    id: str
    kind: str
    name: str
    districts: tuple[str, ...]
    municipalities: tuple[str, ...]
    per_municipality: bool
    address: dict[str, str]
    phone: str | None
    email: str | None
    url: str | None
    source: str
    checked: str
    note: dict[str, str]
    """For the citizen; editorial remarks go in `staff_note`, which no answer shows."""
    as_of: str | None = None
    """The date the source itself gives (Stand), when it gives one."""
    derived: str | None = None
    """The rule this office follows from ("Kreisaufgabe nach …"), when no page names it directly."""
    staff_note: str | None = None
    hours: dict[str, str] = field(default_factory=dict)
    """Opening hours per language, when a source gives them (shown on the answer card)."""
    topic_notes: dict[str, dict[str, str]] = field(default_factory=dict)
    """Notes for one topic only, by topic id: an office kind shared by several topics (the road
    traffic authority for no-parking zones and disabled parking) says each its own thing."""

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "address": self.address or None,
                "phone": self.phone, "email": self.email, "url": self.url,
                "source": self.source, "checked": self.checked, "as_of": self.as_of,
                "derived": self.derived}


@dataclass(frozen=True)
class OfficeKind:
    kind: str
    label: dict[str, str]
    offices: tuple[Office, ...]


def offices_for(kind: OfficeKind, m: Municipality) -> list[Office]:
    """The most specific offices of a kind for a municipality: own office > district > per town."""
    for test in (
        lambda o: m.ags in o.municipalities,
        lambda o: m.district in o.districts and not o.municipalities,
        lambda o: o.per_municipality,
    ):
        found = [o for o in kind.offices if test(o)]
        if found:
            return found
    return []


@dataclass
class Language:
    """Conversation knowledge: the words that tell languages, small talk, roles and cues apart."""

    stopwords: dict[str, frozenset[str]]
    small_talk: dict[str, tuple[str, ...]]
    off_topic: frozenset[str]
    admin_cues: frozenset[str]
    admin_suffixes: tuple[str, ...]
    role_cues: dict[str, tuple[str, ...]]
    from_cues: frozenset[str]
    to_cues: frozenset[str]
    move_words: tuple[str, ...]
    move_concept: str
    place_prepositions: frozenset[str]
    common_words: frozenset[str]
    not_money: frozenset[str]
    place_cues: frozenset[str]
    determiners: frozenset[str]
    qualifiers: frozenset[str]
    name_links: frozenset[str] = frozenset()
    conjunctions: frozenset[str] = frozenset()
    negations: frozenset[str] = frozenset()
    """"kein", "nicht", "not": a role word right after one does not hold ("keinen Wohnsitz in X")."""
    other_persons: frozenset[str] = frozenset()
    """Words for someone else ("Mutter", "my father"): a place after them is that person's."""
    self_words: frozenset[str] = frozenset()
    """"und", "aber": a role word after them speaks of the next place, not of the one before."""
    """Words that continue a town's name after it ("Fürstenberg an der Weser"): no role cue."""


@dataclass
class KnowledgeBase:
    root: Path
    lands: dict[str, dict[str, str]]
    districts: dict[str, District]
    municipalities: dict[str, Municipality]
    ambiguous: dict[str, tuple[str, ...]]
    outside: list[OutsidePlace]
    topics: dict[str, Topic]
    office_kinds: dict[str, OfficeKind]
    language: Language
    uncovered: dict[str, Uncovered] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    texts: Texts = field(default_factory=Texts)
    """Every text a person reads, per language (texts.yaml)."""


class _Reader:
    """Collects problems while reading typed fields from line-aware YAML."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.unreadable = False
        """A file could not be parsed: checks across files would only repeat that problem."""
        self.broken: set[str] = set()
        """What could not be parsed: 'districts', 'places', 'offices', 'topics', …"""

    def load(self, path: Path) -> Any:
        try:
            return load_yaml(path, self.rel(path))
        except YamlError as exc:
            self.problems.append(exc.problem)
            self.broken.add(path.parent.name if path.parent != self.root else path.stem)
            self.unreadable = True
            return UNREADABLE

    def reference_error(self, refers_to: str, file: Path, line: int, field_name: str,
                        message: str) -> None:
        """A name that another file should define: not reported while that file is unreadable
        (one syntax error in districts.yaml is one problem, not one per office)."""
        if refers_to not in self.broken:
            self.error(file, line, field_name, message)

    def items(self, file: Path, data: LineDict, key: str) -> Iterator[tuple[str, LineDict]]:
        """The mappings of a required list (`key[i]`, item); items that are no mapping are reported."""
        for i, item in enumerate(self.get(file, data, key, list, "") or []):
            where = f"{key}[{i}]"
            found = self.mapping(file, item, where, data.line_of(key))
            if found is not None:
                yield where, found

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def error(self, file: Path, line: int, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.rel(file), line, field_name, message))

    def mapping(self, file: Path, data: Any, where: str, line: int = 1) -> LineDict | None:
        if isinstance(data, LineDict):
            return data
        if data is UNREADABLE:
            return None  # its syntax error is reported already
        self.error(file, getattr(data, "line", line), where, "must be a mapping (key: value)")
        return None

    def get(
        self, file: Path, data: LineDict, key: str, kind: type | tuple[type, ...], where: str,
        required: bool = True, default: Any = None,
    ) -> Any:
        name = f"{where}.{key}" if where else key
        if key not in data or data[key] is None:
            if required:
                self.error(file, data.line, name, "is missing")
            return default
        value = data[key]
        if not isinstance(value, kind) or (kind is str and not str(value).strip()):
            self.error(file, data.line_of(key), name, f"must be {_kind_name(kind)}")
            return default
        return value

    def strings(self, file: Path, data: LineDict, key: str, where: str, required: bool = False
                ) -> tuple[str, ...]:
        value = self.get(file, data, key, list, where, required=required, default=[])
        name = f"{where}.{key}" if where else key
        out = []
        for i, item in enumerate(value):
            line = value.line_of(i) if isinstance(value, LineList) else data.line_of(key)
            if isinstance(item, bool):
                self.error(file, line, f"{name}[{i}]",
                           f"YAML reads this word as {str(item).lower()}: put it in quotes")
            elif isinstance(item, (str, int)) and str(item).strip():
                out.append(str(item).strip())
            else:
                self.error(file, line, f"{name}[{i}]", "must be a non-empty text")
        return tuple(out)

    def texts(self, file: Path, data: LineDict, key: str, where: str, required: bool = True
              ) -> dict[str, str]:
        """A {de: ..., en: ...} text in both languages."""
        value = self.get(file, data, key, dict, where, required=required, default={})
        name = f"{where}.{key}" if where else key
        out: dict[str, str] = {}
        for lang in LANGS:
            text = value.get(lang) if value else None
            if isinstance(text, str) and text.strip():
                out[lang] = text.strip()
            elif value or required:
                self.error(file, data.line_of(key), f"{name}.{lang}", "is missing")
        return out

    def per_lang(self, file: Path, data: LineDict, key: str, where: str, required: bool = True
                 ) -> dict[str, tuple[str, ...]]:
        value = self.get(file, data, key, dict, where, required=required, default=None)
        out: dict[str, tuple[str, ...]] = {lang: () for lang in LANGS}
        if value is None:
            return out
        for lang in LANGS:
            out[lang] = self.strings(file, value, lang, f"{where}.{key}" if where else key,
                                     required=required)
        return out


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a text", list: "a list", dict: "a mapping", bool: "true or false", int: "a number"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def load_knowledge(root: Path | None = None) -> KnowledgeBase:
    """Read and validate the knowledge base at `root` (the bundled one by default).

    Raises KnowledgeError listing every problem; a base with problems is never returned.
    """
    root = Path(root or BUNDLED).resolve()
    reader = _Reader(root)
    if not root.is_dir():
        raise KnowledgeError([Problem(str(root), 1, "knowledge", "directory not found")])
    lands, districts = _read_districts(reader, root / "districts.yaml")
    municipalities, ambiguous = _read_places(reader, root / "places", districts)
    outside = _read_outside(reader, root / "places" / "germany.yaml", districts)
    office_kinds = _read_offices(reader, root / "offices", districts, municipalities)
    topics = _read_topics(reader, root / "topics", office_kinds, lands)
    for kind in office_kinds.values():
        for office in kind.offices:
            for tid in office.topic_notes:
                if tid not in topics:
                    reader.reference_error("topics", root / "offices" / f"{kind.kind}.yaml", 0,
                                           f"{office.id}.topic_notes", f"unknown topic '{tid}'")
    topics, taught = _read_taught(reader, root / TAUGHT, topics)
    language = _read_language(reader, root / "language.yaml")
    uncovered = _untaught(_read_uncovered(reader, root / "uncovered.yaml", topics), taught)
    kb = KnowledgeBase(root, lands, districts, municipalities, ambiguous, outside, topics,
                       office_kinds, language, uncovered)
    kb.texts = _read_texts(reader, root / "texts.yaml", kb)
    if not reader.unreadable:
        _check_coverage(reader, root, kb)
        _check_names(reader, root, kb)
    if reader.problems:
        raise KnowledgeError(reader.problems)
    return kb


def _read_texts(reader: _Reader, path: Path, kb: KnowledgeBase) -> Texts:
    """texts.yaml, with the region's districts listed per Land in the order of districts.yaml."""
    names: dict[str, list[str]] = {}
    for d in kb.districts.values():
        names.setdefault(d.land, []).append(d.short_name)
    texts, problems = load_texts(path, reader.rel(path), names, kb.lands, ROLES)
    reader.problems.extend(problems)
    return texts


def _read_districts(reader: _Reader, path: Path) -> tuple[dict, dict[str, District]]:
    data = reader.mapping(path, reader.load(path), "districts.yaml")
    if data is None:
        return {}, {}
    lands = {}
    for code in reader.get(path, data, "lands", dict, "") or {}:
        lands[code] = reader.texts(path, data["lands"], code, "lands")
    districts: dict[str, District] = {}
    for where, item in reader.items(path, data, "districts"):
        did = reader.get(path, item, "id", str, where)
        land = reader.get(path, item, "land", str, where)
        if did and not _ID.match(did):
            reader.error(path, item.line_of("id"), f"{where}.id", f"'{did}' is not a lowercase id")
        if land and land not in lands:
            reader.error(path, item.line_of("land"), f"{where}.land",
                         f"unknown Land '{land}' (known: {', '.join(lands)})")
        if did in districts:
            reader.error(path, item.line_of("id"), f"{where}.id", f"duplicate district id '{did}'")
        if did:
            districts[did] = District(
                did, reader.get(path, item, "name", str, where, default=did), land or "",
                str(reader.get(path, item, "key", str, where, default="")),
                reader.strings(path, item, "aliases", where),
            )
    return lands, districts


def _read_places(reader: _Reader, folder: Path, districts: dict[str, District]
                 ) -> tuple[dict[str, Municipality], dict[str, tuple[str, ...]]]:
    municipalities: dict[str, Municipality] = {}
    ambiguous: dict[str, tuple[str, ...]] = {}
    declared: list[tuple[Path, int, str, list[str]]] = []
    seen_files = set()
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "germany.yaml":
            continue
        data = reader.mapping(path, reader.load(path), "file")
        if data is None:
            continue
        did = reader.get(path, data, "district", str, "")
        if did and did not in districts:
            reader.reference_error("districts", path, data.line_of("district"), "district",
                                   f"unknown district '{did}'")
            if "districts" in reader.broken:
                reader.broken.add("places")  # its towns are unknown now: no cascade from them
            continue
        seen_files.add(did)
        reader.get(path, data, "source", str, "")
        for name, agss in (reader.get(path, data, "ambiguous", dict, "", required=False) or {}
                           ).items():
            line = data["ambiguous"].line_of(name)
            if not isinstance(agss, list) or len(agss) < 2:
                reader.error(path, line, f"ambiguous.{name}", "must list at least two AGS")
                continue
            key = fold(str(name))
            ambiguous[key] = tuple(sorted({*ambiguous.get(key, ()), *map(str, agss)}))
            declared.append((path, line, str(name), [str(a) for a in agss]))
        for where, item in reader.items(path, data, "municipalities"):
            ags = str(reader.get(path, item, "ags", (str, int), where, default=""))
            name = reader.get(path, item, "name", str, where, default="")
            if ags and not _AGS.match(ags):
                reader.error(path, item.line_of("ags"), f"{where}.ags", f"'{ags}' is not 8 digits")
            elif did and ags and districts[did].key and not ags.startswith(districts[did].key):
                reader.error(path, item.line_of("ags"), f"{where}.ags",
                             f"'{ags}' does not lie in district key {districts[did].key}")
            if ags in municipalities:
                reader.error(path, item.line_of("ags"), f"{where}.ags", f"duplicate AGS '{ags}'")
            postcodes = reader.strings(path, item, "postcodes", where, required=True)
            for code in postcodes:
                if not _PLZ.match(code):
                    reader.error(path, item.line_of("postcodes"), f"{where}.postcodes",
                                 f"'{code}' is not a 5-digit postcode")
            mtype = reader.get(path, item, "type", str, where, default="gemeinde")
            if mtype not in ("stadt", "gemeinde"):
                reader.error(path, item.line_of("type"), f"{where}.type",
                             f"'{mtype}' must be stadt or gemeinde")
            coordinates = _coordinates(reader, path, item, where)
            population = reader.get(path, item, "population", int, where, required=False) or 0
            if ags and name and did:
                municipalities[ags] = Municipality(
                    ags, name, did, mtype,
                    reader.get(path, item, "samtgemeinde", str, where, required=False),
                    postcodes, reader.strings(path, item, "aliases", where),
                    reader.strings(path, item, "localities", where), coordinates, population,
                )
    for did in districts:
        if did not in seen_files and not reader.unreadable:
            reader.error(folder / f"{did}.yaml", 1, "file", f"no places file for district '{did}'")
    if not reader.unreadable:
        for path, line, name, agss in declared:
            for ags in agss:
                if ags not in municipalities:
                    reader.error(path, line, f"ambiguous.{name}", f"unknown AGS '{ags}'")
    return municipalities, ambiguous


def _coordinates(reader: _Reader, path: Path, item: LineDict, where: str
                 ) -> tuple[float, float] | None:
    value = item.get("coordinates")
    if value is None:
        return None
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and -90 <= value[0] <= 90 and -180 <= value[1] <= 180):
        return float(value[0]), float(value[1])
    reader.error(path, item.line_of("coordinates"), f"{where}.coordinates",
                 "must be [latitude, longitude] in degrees")
    return None


def _read_outside(reader: _Reader, path: Path, districts: dict[str, District]
                  ) -> list[OutsidePlace]:
    """The gazetteer of Germany outside the region: Länder, and one line per municipality."""
    if not path.exists():
        reader.error(path, 1, "file", "missing: run `python -m bot.kbimport` (see knowledge/README.md)")
        return []
    data = reader.mapping(path, reader.load(path), "file")
    if data is None:
        return []
    reader.get(path, data, "source", str, "")
    region_keys = {d.key for d in districts.values()}
    out: list[OutsidePlace] = []
    land_names: dict[str, str] = {}
    lands = reader.get(path, data, "lands", dict, "") or {}
    for key, item in lands.items():
        item = reader.mapping(path, item, f"lands.{key}", lands.line_of(key))
        name = item and reader.get(path, item, "name", str, f"lands.{key}")
        if name:
            land_names[str(key)] = name
            out.append(OutsidePlace(str(key), name, "", name,
                                    short_names=reader.strings(path, item, "aliases", f"lands.{key}")))
    seen: set[str] = set()
    for where, item in reader.items(path, data, "districts"):
        key = str(reader.get(path, item, "key", str, where, default=""))
        dname = reader.get(path, item, "name", str, where, default="")
        if key in region_keys:
            reader.error(path, item.line_of("key"), f"{where}.key",
                         f"district {key} is in the region: its places belong in places/<district>.yaml")
        block = reader.get(path, item, "municipalities", str, where) or ""
        first = item.line_of("municipalities") + 1  # a literal block starts on the next line
        for n, line in enumerate(block.splitlines()):
            if line.strip():
                place = _gazetteer_line(reader, path, first + n, f"{where}.municipalities", line,
                                        key, dname, land_names)
                if place and place.key in seen:
                    reader.error(path, first + n, f"{where}.municipalities", f"duplicate AGS {place.key}")
                elif place:
                    seen.add(place.key)
                    out.append(place)
    return out


def _gazetteer_line(reader: _Reader, path: Path, line: int, where: str, text: str, district_key: str,
                    district: str, lands: dict[str, str]) -> OutsidePlace | None:
    """`AGS; name; population; postcodes; short names` → a place, or a problem naming the line."""
    fields = [f.strip() for f in text.split(";")]
    if len(fields) < 3:
        reader.error(path, line, where, f"'{text.strip()}': needs AGS; name; population; postcodes")
        return None
    ags, name, population = fields[:3]
    codes = tuple(fields[3].split()) if len(fields) > 3 else ()
    shorts = tuple(s.strip() for s in fields[4].split(",") if s.strip()) if len(fields) > 4 else ()
    problem = None
    if not _AGS.match(ags) or not ags.startswith(district_key):
        problem = f"AGS '{ags}' is not 8 digits in district key {district_key}"
    elif not name:
        problem = "name is empty"
    elif not population.isdecimal():
        problem = f"population '{population}' is not a number"
    elif any(not _PLZ.match(c) for c in codes):
        problem = f"postcodes '{fields[3]}' are not 5-digit postcodes"
    elif ags[:2] not in lands:
        problem = f"AGS '{ags}' lies in no Land listed under lands:"
    if problem:
        reader.error(path, line, where, problem)
        return None
    return OutsidePlace(ags, name, district, lands[ags[:2]], int(population), codes, shorts)


def _read_offices(reader: _Reader, folder: Path, districts: dict[str, District],
                  municipalities: dict[str, Municipality]) -> dict[str, OfficeKind]:
    kinds: dict[str, OfficeKind] = {}
    ids: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        data = reader.mapping(path, reader.load(path), "file")
        if data is None:
            continue
        kind = reader.get(path, data, "kind", str, "")
        if kind and kind != path.stem:
            reader.error(path, data.line_of("kind"), "kind",
                         f"'{kind}' must equal the file name '{path.stem}'")
        offices = []
        for where, item in reader.items(path, data, "offices"):
            oid = reader.get(path, item, "id", str, where, default="")
            if oid in ids:
                reader.error(path, item.line_of("id"), f"{where}.id", f"duplicate office id '{oid}'")
            ids.add(oid)
            served = reader.strings(path, item, "districts", where)
            for did in served:
                if did not in districts:
                    reader.reference_error("districts", path, item.line_of("districts"),
                                           f"{where}.districts", f"unknown district '{did}'")
            towns = reader.strings(path, item, "municipalities", where)
            for ags in towns:
                if ags not in municipalities:
                    reader.reference_error("places", path, item.line_of("municipalities"),
                                           f"{where}.municipalities",
                                           f"unknown municipality AGS '{ags}'")
            per_town = reader.get(path, item, "per_municipality", bool, where, required=False,
                                  default=False)
            if not (served or towns or per_town):
                reader.error(path, item.line, where,
                             "serves nothing: give districts, municipalities or per_municipality")
            source = reader.get(path, item, "source", str, where, default="")
            if source and (problem := source_problem(source)):
                reader.error(path, item.line_of("source"), f"{where}.source", problem)
            checked = str(reader.get(path, item, "checked", (str,), where, default=""))
            if checked and not _DATE.match(checked):
                reader.error(path, item.line_of("checked"), f"{where}.checked",
                             f"'{checked}' is not a date YYYY-MM-DD")
            as_of = item.get("as_of")
            if as_of is not None and not _DATE.match(str(as_of)):
                reader.error(path, item.line_of("as_of"), f"{where}.as_of",
                             f"'{as_of}' is not a date YYYY-MM-DD")
            address = reader.get(path, item, "address", dict, where, required=False, default={})
            notes = reader.get(path, item, "topic_notes", dict, where, required=False, default={})
            offices.append(Office(
                oid, path.stem, reader.get(path, item, "name", str, where, default=""),
                served, towns, per_town,
                {k: str(v) for k, v in address.items() if v not in (None, "")},
                _opt_str(item.get("phone")), _opt_str(item.get("email")), _opt_str(item.get("url")),
                source, checked,
                reader.texts(path, item, "note", where, required=False),
                _opt_str(as_of),
                reader.get(path, item, "derived", str, where, required=False),
                reader.get(path, item, "staff_note", str, where, required=False),
                hours=reader.texts(path, item, "hours", where, required=False),
                topic_notes={tid: reader.texts(path, notes, tid, f"{where}.topic_notes")
                             for tid in notes},
            ))
        kinds[path.stem] = OfficeKind(path.stem, reader.texts(path, data, "label", ""),
                                      tuple(offices))
    return kinds


def _opt_str(value: Any) -> str | None:
    return str(value).strip() if value not in (None, "") else None


def _read_topics(reader: _Reader, folder: Path, office_kinds: dict[str, OfficeKind],
                 lands: dict[str, dict[str, str]]) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    for path in sorted(folder.glob("*.yaml")):
        data = reader.mapping(path, reader.load(path), "file")
        if data is None:
            continue
        tid = reader.get(path, data, "id", str, "", default="")
        if tid and tid != path.stem:
            reader.error(path, data.line_of("id"), "id", f"'{tid}' must equal the file name")
        if tid in topics:
            reader.error(path, data.line_of("id"), "id", f"duplicate topic id '{tid}'")
        role = reader.get(path, data, "role", str, "", default="")
        if role and role not in ROLES:
            reader.error(path, data.line_of("role"), "role",
                         f"unknown role '{role}' (known: {', '.join(ROLES)})")
        kind = reader.get(path, data, "office_kind", str, "", default="")
        if kind and kind not in office_kinds:
            reader.reference_error("offices", path, data.line_of("office_kind"), "office_kind",
                                   f"no offices/{kind}.yaml for office kind '{kind}'")
        links = []
        for i, link in enumerate(reader.get(path, data, "links", list, "", required=False) or []):
            link = reader.mapping(path, link, f"links[{i}]", data.line_of("links"))
            if link is not None:
                url = reader.get(path, link, "url", str, f"links[{i}]", default="")
                if url and not url.startswith("https://"):
                    reader.error(path, link.line_of("url"), f"links[{i}].url", "must start https://")
                land = reader.get(path, link, "land", str, f"links[{i}]", required=False)
                if land and land not in lands:  # the Länder of districts.yaml
                    reader.reference_error("districts", path, link.line_of("land"),
                                           f"links[{i}].land",
                                           f"unknown Land '{land}' (known: {', '.join(lands)})")
                links.append(Link(reader.get(path, link, "title", str, f"links[{i}]", default=url),
                                  url, land))
        notes = {}
        for land in reader.get(path, data, "land_notes", dict, "", required=False) or {}:
            notes[land] = reader.texts(path, data["land_notes"], land, "land_notes")
        phrases = reader.per_lang(path, data, "phrases", "")
        for lang in LANGS:
            if len(phrases[lang]) < 3:
                reader.error(path, data.line_of("phrases"), f"phrases.{lang}",
                             "needs at least 3 phrasings")
        topics[tid] = Topic(
            tid, reader.texts(path, data, "title", ""), role, kind, phrases,
            reader.per_lang(path, data, "keywords", "", required=False),
            reader.per_lang(path, data, "bring", "", required=False), tuple(links), notes,
            reader.texts(path, data, "cross_border", "", required=False),
            reader.per_lang(path, data, "exclude", "", required=False),
            bool(reader.get(path, data, "for_others", bool, "", required=False, default=False)),
            bool(reader.get(path, data, "about_others", bool, "", required=False, default=False)),
        )
    _check_shared_keywords(reader, folder, topics)
    return topics


def _read_taught(reader: _Reader, path: Path, topics: dict[str, Topic]
                 ) -> tuple[dict[str, Topic], set[str]]:
    """Add the staff's taught phrasings (`taught.yaml`) to their topics. Returns the topics and
    the folded phrasings taught, which no longer count as uncovered services."""
    if not path.exists():
        return topics, set()
    data = reader.mapping(path, reader.load(path), "file")
    if data is None:
        return topics, set()
    added: dict[str, dict[str, list[str]]] = {}
    for where, item in reader.items(path, data, "taught"):
        tid = reader.get(path, item, "topic", str, where, default="")
        lang = reader.get(path, item, "lang", str, where, default="")
        phrase = reader.get(path, item, "phrase", str, where, default="")
        reader.get(path, item, "hurdle", int, where, required=False)
        if tid and tid not in topics:
            reader.error(path, item.line_of("topic"), f"{where}.topic", f"no topic '{tid}'")
        if lang and lang not in LANGS:
            reader.error(path, item.line_of("lang"), f"{where}.lang",
                         f"unknown language '{lang}' ({', '.join(LANGS)})")
        if not phrase.strip() and "phrase" in item:
            reader.error(path, item.line_of("phrase"), f"{where}.phrase", "must be a non-empty text")
        if tid in topics and lang in LANGS and phrase.strip():
            added.setdefault(tid, {}).setdefault(lang, []).append(phrase.strip())
    for tid, by_lang in added.items():
        topic = topics[tid]
        phrases = {lang: tuple(dict.fromkeys([*topic.phrases.get(lang, ()), *by_lang.get(lang, [])]))
                   for lang in LANGS}
        topics[tid] = replace(topic, phrases=phrases)
    return topics, {fold(p) for by_lang in added.values() for ps in by_lang.values() for p in ps}


def _untaught(uncovered: dict[str, Uncovered], taught: set[str]) -> dict[str, Uncovered]:
    """Uncovered services without the phrasings the staff have taught to a topic."""
    if not taught:
        return uncovered
    out = {}
    for sid, item in uncovered.items():
        phrases = {lang: tuple(p for p in ps if fold(p) not in taught)
                   for lang, ps in item.phrases.items()}
        out[sid] = replace(item, phrases=phrases)
    return out


def _read_uncovered(reader: _Reader, path: Path, topics: dict[str, Topic]
                    ) -> dict[str, Uncovered]:
    if not path.exists():
        return {}
    data = reader.mapping(path, reader.load(path), "file")
    if data is None:
        return {}
    out: dict[str, Uncovered] = {}
    for where, item in reader.items(path, data, "services"):
        sid = reader.get(path, item, "id", str, where, default="")
        if sid in topics:
            reader.error(path, item.line_of("id"), f"{where}.id",
                         f"'{sid}' is a topic: a covered service is not uncovered")
        elif sid in out:
            reader.error(path, item.line_of("id"), f"{where}.id", f"duplicate id '{sid}'")
        phrases = reader.per_lang(path, item, "phrases", where)
        if not any(phrases.values()):
            reader.error(path, item.line, f"{where}.phrases", "needs at least one phrasing")
        if sid:
            out[sid] = Uncovered(sid, reader.texts(path, item, "title", where), phrases)
    return out


def _check_shared_keywords(reader: _Reader, folder: Path, topics: dict[str, Topic]) -> None:
    owners: dict[str, str] = {}
    for topic in topics.values():
        for lang in LANGS:
            for word in topic.keywords[lang]:
                key = fold(word)
                other = owners.setdefault(key, topic.id)
                if other != topic.id:
                    reader.error(folder / f"{topic.id}.yaml", 1, f"keywords.{lang}",
                                 f"keyword '{word}' is also a keyword of topic '{other}'")


def _read_language(reader: _Reader, path: Path) -> Language:
    data = reader.mapping(path, reader.load(path), "file") or LineDict()
    if not hasattr(data, "key_lines"):
        data.key_lines = {}

    def words(key: str) -> frozenset[str]:
        return frozenset(fold(w) for w in reader.strings(path, data, key, "", required=True))

    def by_lang(key: str) -> dict[str, tuple[str, ...]]:
        return {k: tuple(fold(w) for w in v) for k, v in reader.per_lang(path, data, key, "").items()}

    cues = reader.get(path, data, "role_cues", dict, "", default={}) or {}
    role_cues = {}
    for role in cues:
        if role not in ROLES:
            reader.error(path, cues.line_of(role), f"role_cues.{role}", f"unknown role '{role}'")
        role_cues[role] = tuple(w.lower() for w in reader.strings(path, cues, role, "role_cues"))
    return Language(
        stopwords={k: frozenset(v) for k, v in by_lang("stopwords").items()},
        small_talk=by_lang("small_talk"),
        off_topic=words("off_topic"),
        admin_cues=words("admin_cues"),
        admin_suffixes=tuple(fold(w) for w in reader.strings(path, data, "admin_suffixes", "")),
        role_cues=role_cues,
        from_cues=words("from_cues"),
        to_cues=words("to_cues"),
        move_words=tuple(w.lower() for w in reader.strings(path, data, "move_words", "", True)),
        move_concept=fold(str(reader.get(path, data, "move_concept", str, "", default="umzug"))),
        place_prepositions=words("place_prepositions"),
        common_words=words("common_words"),
        not_money=words("not_postcode_after"),
        place_cues=words("place_cues"),
        determiners=words("determiners"),
        qualifiers=words("qualifiers"),
        name_links=words("name_links"),
        conjunctions=words("conjunctions"),
        negations=words("negations"),
        other_persons=words("other_persons"),
        self_words=words("self_words"),
    )


def _check_coverage(reader: _Reader, root: Path, kb: KnowledgeBase) -> None:
    """Every topic's office kind must have an office for every municipality of every district."""
    used = defaultdict(list)
    for topic in kb.topics.values():
        used[topic.office_kind].append(topic.id)
    for kind, topic_ids in used.items():
        if kind not in kb.office_kinds:
            continue
        missing = defaultdict(list)
        for m in kb.municipalities.values():
            if not offices_for(kb.office_kinds[kind], m):
                missing[m.district].append(m.name)
        for did, names in missing.items():
            sample = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
            reader.error(root / "offices" / f"{kind}.yaml", 1, "offices",
                         f"no office in district '{did}' ({sample}) for topic "
                         f"{', '.join(topic_ids)}")


def _check_names(reader: _Reader, root: Path, kb: KnowledgeBase) -> None:
    """A place name that points to two municipalities must be declared under `ambiguous:`."""
    owners: dict[str, set[str]] = defaultdict(set)
    for m in kb.municipalities.values():
        for name in (m.name, *m.aliases, *m.localities):
            owners[fold(name)].add(m.ags)
    for name, agss in owners.items():
        if len(agss) > 1 and not agss <= set(kb.ambiguous.get(name, ())):
            names = sorted(f"{kb.municipalities[a].name} ({a})" for a in agss)
            district = kb.municipalities[sorted(agss)[0]].district
            reader.error(root / "places" / f"{district}.yaml", 1, "ambiguous",
                         f"place name '{name}' means {' and '.join(names)}: list it under "
                         "ambiguous:")
