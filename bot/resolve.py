"""Responsibility: topic → deciding role → place → district → office."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.index import PlaceIndex, PlaceRef
from bot.knowledge import (
    District,
    KnowledgeBase,
    Municipality,
    Office,
    OfficeKind,
    Topic,
    offices_for,
)
from bot.normalize import fold
from bot.roles import Role
from bot.settings import setting
from bot.understand import Mention, Understanding

# Which other roles may stand in when the deciding role is not named (a well is usually on one's
# own ground; a building plot is a site). Generic: no topic or place is named here.
ROLE_STAND_INS = {Role.SITE: (Role.PROPERTY, Role.BUSINESS_SITE), Role.PROPERTY: (Role.SITE,)}

# What each decides: bot/settings.py.
PLACE_CERTAINTY = {"name": setting("place_certainty_name"), "alias": setting("place_certainty_alias"),
                   "postcode": setting("place_certainty_postcode"),
                   "locality": setting("place_certainty_locality"),
                   "district": setting("place_certainty_district")}
"""How sure a place is, by how it was named (PlaceRef.via)."""
PLACE_CERTAINTY_OTHER = setting("place_certainty_other")
FUZZY_PLACE_PENALTY = setting("fuzzy_place_penalty")
IMPLICIT_ROLE_PENALTY = setting("implicit_role_penalty")
MAX_CHOICES = setting("max_choices")


@dataclass
class Resolution:
    reason: str
    topic: Topic | None = None
    role: str | None = None
    needs: str | None = None
    municipality: Municipality | None = None
    district: District | None = None
    office: Office | None = None
    outside: str | None = None
    """The place outside the region as a person reads it."""
    outside_land: str | None = None
    """Its Land, when known ("Schleswig-Holstein")."""
    confidence: float = 0.0
    lands: set[str] = field(default_factory=set)
    """Länder of every place in the question: more than one means a cross-border case."""
    districts: set[str] = field(default_factory=set)
    """Districts of every place in the question (for the hurdle log's district pairs)."""
    choices: list[str] = field(default_factory=list)
    """When a name or postcode fits several places that differ in office: the ones to choose from,
    the region's first, each as a person can type it back ("Gehrden (Region Hannover)")."""
    other_places: list[str] = field(default_factory=list)
    """Other places of the deciding place's name, offered besides the answer."""
    for_other: bool = False
    """The deciding place is someone else's: the question back asks about that person."""


def render_office(office: Office, m: Municipality) -> Office:
    """The office as shown for this town: a per-town name template filled in."""
    name = office.name.replace("{authority}", m.authority).replace("{municipality}", m.name)
    return replace(office, name=name)


class Resolver:
    def __init__(self, kb: KnowledgeBase, places: PlaceIndex) -> None:
        self.kb = kb
        self.places = places
        self.by_district: dict[str, list[Municipality]] = {}
        for m in kb.municipalities.values():
            self.by_district.setdefault(m.district, []).append(m)
        self.regionwide = {kind.kind: office for kind in kb.office_kinds.values()
                           if (office := self._same_everywhere(kind)) is not None}
        """Office kinds with one office for every town of the region: asking for a place is pointless."""

    def _same_everywhere(self, kind: OfficeKind) -> Office | None:
        # Towns without an office of their own get what their district's other such towns get:
        # one of them per district stands for all (start-up stays flat as the base grows).
        named = {ags for o in kind.offices for ags in o.municipalities}
        standing_for = {m.district: m for m in self.kb.municipalities.values() if m.ags not in named}
        towns = [*standing_for.values(), *(self.kb.municipalities[a] for a in named
                                           if a in self.kb.municipalities)]
        found = {o.id: o for m in towns for o in offices_for(kind, m)}
        if len(found) != 1:
            return None
        office = next(iter(found.values()))
        return None if office.per_municipality else office

    def towns_of(self, mention: Mention) -> list[Municipality]:
        towns: dict[str, Municipality] = {}
        for ref in mention.refs:
            if ref.kind == "municipality":
                towns[ref.key] = self.kb.municipalities[ref.key]
            elif ref.kind == "district":
                towns.update((m.ags, m) for m in self.by_district.get(ref.key, []))
        return list(towns.values())

    def label(self, ref: PlaceRef, key: str = "") -> str:
        """A place as a person reads it and can type it back: name and where it lies."""
        if ref.kind == "municipality":
            town = self.kb.municipalities[ref.key]
            district = self.kb.districts[town.district].name
            if ref.via == "locality":
                name = next((x for x in town.localities if fold(x) == key), key)
                return f"{name} ({town.name}, {district})"
            return f"{town.name} ({district})"
        if ref.kind == "district":
            return self.kb.districts[ref.key].name
        if ref.kind == "outside" and ref.key in self.places.outside:
            place = self.places.outside[ref.key]
            return f"{place.name} ({place.district}, {place.land})"
        return self.places.name_of(ref) if ref.key else ""

    def place_note(self, u: Understanding) -> tuple[str, str | None, bool]:
        """The first place a message names, as read back: (name, its Land, lies inside)."""
        mention = u.mentions[0]
        ref = mention.refs[0]
        if any(r.inside for r in mention.refs):
            return self.label(ref, mention.text), None, True
        place = self.places.outside.get(ref.key)
        if place is None:
            return mention.text, None, False
        return place.name, None if place.is_land else place.land, False

    def districts_of(self, mentions: list[Mention]) -> set[str]:
        return {t.district for m in mentions for t in self.towns_of(m)}

    def deciding(self, u: Understanding, role: str) -> tuple[list[Mention], bool]:
        """Mentions that give the deciding place, and whether the role was only implied."""
        mentions = u.mentions
        tiers: list[tuple[list[Mention], bool]] = [([m for m in mentions if m.role == role], False)]
        if role == Role.RESIDENCE and u.moving:
            tiers.append(([m for m in mentions if m.direction == "to" and not m.role], False))
        if role == Role.ROUTE_START:
            tiers.append(([m for m in mentions if m.direction == "from" and not m.role], False))
        for stand_in in ROLE_STAND_INS.get(role, ()):
            tiers.append(([m for m in mentions if m.role == stand_in], True))
        denied = {(r.kind, r.key) for m in mentions if m.not_role == role for r in m.refs}
        # A place the message denies the role for is no implied candidate, nor is its namesake.
        unmarked = [m for m in mentions if not m.role
                    and not any((r.kind, r.key) in denied for r in m.refs)]
        if role == Role.RESIDENCE and u.moving:
            unmarked = [m for m in unmarked if m.direction != "from"]
        if role == Role.ROUTE_START:
            unmarked = [m for m in unmarked if m.direction != "to"]
        tiers.append((unmarked, True))
        for found, implied in tiers:
            if found:
                return found, implied
        return [], False

    def resolve(self, u: Understanding, topic: Topic | None, topic_score: float) -> Resolution:
        districts = self.districts_of(u.mentions)
        lands = {self.kb.districts[d].land for d in districts}
        if topic is None:
            return Resolution("no_topic", lands=lands, districts=districts)
        res = Resolution("needs_place", topic=topic, needs=topic.role, lands=lands,
                         districts=districts, confidence=round(topic_score, 3))
        if topic.about_others:
            # "Erbschein, ich wohne in Hameln": the deceased's place decides, never the asker's.
            res.for_other = True
            u = replace(u, mentions=[m for m in u.mentions if not m.self_person])
        elif topic.for_others and u.other_person:
            # "Meine Mutter braucht Pflege, ich wohne in Nienburg": her place decides, not mine.
            res.for_other = True
            u = replace(u, mentions=[m for m in u.mentions if m.other_person])
        mentions, implied = self.deciding(u, topic.role)
        if not mentions:
            office = self.regionwide.get(topic.office_kind)
            if office is not None and all(any(r.inside for r in m.refs) for m in u.mentions):
                # The same body for everyone in the region: the place would change nothing.
                res.reason, res.needs, res.office = "answered", None, office
            return res
        res.role = topic.role
        outside = [m for m in mentions if not any(r.inside for r in m.refs)]
        inside = [m for m in mentions if m not in outside]
        if outside and not inside:
            ref = outside[0].refs[0]
            res.reason, res.needs = "outside_region", None
            place = self.places.outside.get(ref.key)
            res.outside = place.name if place else outside[0].text
            res.outside_land = place.land if place and not place.is_land else None
            return res
        mixed = [m for m in inside if not all(r.inside for r in m.refs)]
        if mixed:
            # A name of the region and of a place outside ("Halle"): ask, the region's first.
            res.choices = [self.label(r, mixed[0].text) for r in mixed[0].refs][:MAX_CHOICES]
            return res
        towns: dict[str, Municipality] = {}
        for m in inside:
            towns.update((t.ags, t) for t in self.towns_of(m))
        kind = self.kb.office_kinds[topic.office_kind]
        offered: dict[str, Office] = {}  # by shown name: towns of one Samtgemeinde share one
        for town in towns.values():
            for office in offices_for(kind, town):
                rendered = render_office(office, town)
                offered.setdefault(rendered.name, rendered)
        deciding_districts = {t.district for t in towns.values()}
        if len(offered) != 1 or len(deciding_districts) != 1:
            # Several towns that differ in office or district: ask which one, never pick one.
            # A name that fits a few towns is offered as a choice; a whole district is not.
            named = all(r.kind == "municipality" for m in inside for r in m.refs)
            if named and len(towns) <= MAX_CHOICES:
                res.choices = sorted(f"{t.name} ({self.kb.districts[t.district].name})"
                                     for t in towns.values())
            return res
        office = next(iter(offered.values()))
        certainty = min(
            max(PLACE_CERTAINTY.get(r.via, PLACE_CERTAINTY_OTHER) for r in m.refs)
            - FUZZY_PLACE_PENALTY * m.edits
            for m in inside)
        res.reason, res.needs, res.office = "answered", None, office
        res.district = self.kb.districts[deciding_districts.pop()]
        res.municipality = next(iter(towns.values())) if len(towns) == 1 else None
        res.other_places = [self.label(r, m.text) for m in inside for r in m.others][:MAX_CHOICES]
        penalty = IMPLICIT_ROLE_PENALTY if implied else 0.0
        res.confidence = round(max(0.0, min(1.0, topic_score * certainty - penalty)), 3)
        return res
