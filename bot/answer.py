"""The typed reply of the engine: office, place, notes, things to bring, sources, choices.

Every text comes from the knowledge base (texts.yaml); `bot/render_text.py` turns an answer into the
plain text of `weserbot ask` (and `text` of the JSON), `handlers/render.py` into Telegram HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.knowledge import KnowledgeBase, Office, Topic
from bot.resolve import Resolution
from bot.roles import Role
from bot.settings import setting


class Reason(StrEnum):
    """Why a reply is what it is (the `reason` of `weserbot ask --json`)."""

    ANSWERED = "answered"
    NEEDS_PLACE = "needs_place"
    NEEDS_TOPIC = "needs_topic"
    """Two topics fit equally, or the message names only a place: which topic is meant?"""
    OUTSIDE_REGION = "outside_region"
    NO_TOPIC = "no_topic"
    OFF_TOPIC = "off_topic"
    SMALL_TALK = "small_talk"


CONFIDENT = setting("confident")
LOGGED_REASONS = frozenset({Reason.NO_TOPIC, Reason.OUTSIDE_REGION})
"""Reasons logged as candidate hurdles at once; an unanswered needs_place is logged by the bot."""


@dataclass
class Answer:
    question: str
    lang: str
    reason: str
    text: str
    topic: str | None = None
    district: str | None = None
    municipality: str | None = None
    role: str | None = None
    needs: str | None = None
    office: Office | None = None
    confidence: float = 0.0
    alternatives: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    other_places: list[str] = field(default_factory=list)
    """Other places of the deciding place's name, offered besides the answer."""
    places: list[dict[str, Any]] = field(default_factory=list)
    lands: list[str] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    bring: list[str] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Notes for the Land that applies and the office's own note (never its staff_note)."""
    topic_title: str | None = None
    place: str | None = None
    """The deciding place as the answer names it (municipality, else district)."""
    cross_border: str | None = None
    """What it changes that the asker's places lie in two Länder (one sentence)."""
    cross_kind: str | None = None
    """Which places differ: home_work, move, route or places (the heading's key in texts.yaml)."""
    land: str | None = None
    """The Land whose rules apply (its name in the answer's language)."""
    outside: str | None = None
    outside_land: str | None = None
    office_label: str | None = None
    for_other: bool = False
    small_talk: str | None = None
    """The kind of small talk (thanks, goodbye, ok, …; None: a greeting)."""
    kind: str | None = None
    """How the message was understood (question, small_talk, off_topic, empty, place_only)."""
    context: Any = field(default=None, repr=False)
    """The open question (engine Context) when the answer asks for a place."""

    @property
    def answered(self) -> bool:
        return self.reason == "answered"

    @property
    def logs_hurdle(self) -> bool:
        return self.reason in LOGGED_REASONS

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question, "lang": self.lang, "answered": self.answered,
            "topic": self.topic, "district": self.district, "municipality": self.municipality,
            "role": self.role, "needs": self.needs,
            "office": self.office.to_json() if self.office else None,
            "reason": self.reason, "logs_hurdle": self.logs_hurdle,
            "confidence": self.confidence, "text": self.text,
            "alternatives": self.alternatives, "choices": self.choices, "other_places": self.other_places,
            "places": self.places,
            "lands": self.lands, "districts": self.districts,
        }


def compose_topic_choice(kb: KnowledgeBase, question: str, lang: str, topics: list[str],
                         places: list[dict[str, Any]]) -> Answer:
    """Two topics fit equally well and lead to different offices: ask which one is meant."""
    answer = Answer(question, lang, Reason.NEEDS_TOPIC, "", alternatives=list(topics),
                    choices=[kb.topics[x].title[lang] for x in topics], places=places,
                    kind="question")
    return answer


def compose_place_only(kb: KnowledgeBase, question: str, lang: str,
                       place: tuple[str, str | None, bool], places: list[dict[str, Any]]) -> Answer:
    """A message that names only a place: noted (inside) or told it lies outside; which topic?"""
    name, land, inside = place
    answer = Answer(question, lang, Reason.NEEDS_TOPIC, "", places=places, kind="place_only")
    if inside:
        answer.place = name
    else:
        answer.outside, answer.outside_land = name, land
    return answer


def compose(kb: KnowledgeBase, question: str, lang: str, kind: str, res: Resolution | None,
            alternatives: list[str], places: list[dict[str, Any]]) -> Answer:
    """The typed answer for a message understood as `kind` and resolved as `res`."""
    if res is None:
        # An empty or emoji-only message is treated like a greeting: friendly, never logged.
        answer = Answer(question, lang, kind if kind != "empty" else Reason.SMALL_TALK, "",
                        places=places, kind=kind)
        if kind == "small_talk":
            answer.small_talk = kb.texts.small_talk_kind(question)
        return answer
    topic: Topic | None = res.topic
    answer = Answer(question, lang, res.reason, "", topic=topic.id if topic else None,
                    role=res.role, needs=res.needs, confidence=res.confidence,
                    alternatives=alternatives, places=places, lands=sorted(res.lands),
                    districts=sorted(res.districts), kind=kind,
                    topic_title=topic.title[lang] if topic else None, for_other=res.for_other)
    if res.reason == Reason.NO_TOPIC or topic is None:
        return answer
    if res.reason == Reason.OUTSIDE_REGION:
        answer.outside, answer.outside_land = res.outside, res.outside_land
        answer.office_label = kb.office_kinds[topic.office_kind].label[lang]
        return answer
    if res.reason == Reason.NEEDS_PLACE:
        answer.choices = list(res.choices)
        return answer
    office = res.office
    assert office is not None
    answer.office = office
    answer.district = res.district.id if res.district else None
    answer.municipality = res.municipality.name if res.municipality else None
    if res.district is not None and res.role:
        answer.place = answer.municipality or res.district.name
    land = res.district.land if res.district else None
    answer.land = kb.lands.get(land, {}).get(lang) if land else None
    answer.bring = list(topic.bring[lang])
    answer.links = [{"title": link.title, "url": link.url} for link in topic.links
                    if link.land is None or link.land == land]
    if land in topic.land_notes:
        answer.notes.append(topic.land_notes[land][lang])
    if office.note:
        answer.notes.append(office.note[lang])
    if topic.id in office.topic_notes:
        answer.notes.append(office.topic_notes[topic.id][lang])
    if len(res.lands) > 1:
        answer.cross_kind = _cross_kind(topic, places)
        answer.cross_border = (topic.cross_border.get(lang)
                               or kb.texts.get(lang, "cross.land", land=answer.land or ""))
    answer.other_places = list(res.other_places)
    return answer


def _cross_kind(topic: Topic, places: list[dict[str, Any]]) -> str:
    """Which of the asker's places lie in two Länder, for the heading of the cross-border line."""
    roles = {p.get("role") for p in places if p.get("districts")}
    directions = {p.get("direction") for p in places if p.get("districts")} - {None}
    if topic.role == Role.ROUTE_START or Role.ROUTE_START in roles:
        return "route"
    if directions and topic.role == Role.RESIDENCE:
        return "move"
    if Role.RESIDENCE in roles and roles & {Role.BUSINESS_SITE, Role.SITE, Role.PROPERTY}:
        return "home_work"
    return "places"
