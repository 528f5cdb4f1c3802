"""The reply: structured fields for JSON and Telegram, and plain text a person reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.knowledge import KnowledgeBase, Office, Topic
from bot.resolve import Resolution

ROLE_QUESTION = {
    "de": {
        "residence": "In welchem Ort wohnen Sie (Ort, Ortsteil oder Postleitzahl)?",
        "business_site": "In welchem Ort liegt der Betrieb bzw. die Betriebsstätte?",
        "property": "In welchem Ort liegt das Grundstück?",
        "route_start": "In welchem Ort beginnt der Transport?",
        "site": "In welchem Ort soll das Vorhaben stattfinden (z. B. die Wasserentnahme)?",
        "event_place": "In welchem Ort ist es geschehen (z. B. Geburtsort, Sterbeort, Ort der Trauung)?",
    },
    "en": {
        "residence": "Which town do you live in (town, village or postcode)?",
        "business_site": "In which town is the business or company site?",
        "property": "In which town is the property?",
        "route_start": "In which town does the transport start?",
        "site": "In which town will it take place (e.g. where the water is taken)?",
        "event_place": "In which town did it happen (e.g. place of birth, death or marriage)?",
    },
}

TEXT = {
    "de": {
        "small_talk": "Hallo! Ich bin WeserBot. Ich sage Ihnen, welches Amt im Weserbergland und "
                      "Umgebung für Sie zuständig ist. Fragen Sie z. B.: „Ich wohne in Lügde – wo "
                      "verlängere ich meine Aufenthaltserlaubnis?“",
        "off_topic": "Dabei kann ich leider nicht helfen. Ich beantworte Fragen dazu, welches Amt "
                     "für Sie zuständig ist, z. B. „Wo melde ich mein Auto an? Ich wohne in Rinteln.“",
        "empty": "Ich habe keine Frage erkannt. Schreiben Sie mir z. B.: „Wo beantrage ich Wohngeld? "
                 "Ich wohne in Hameln.“",
        "no_topic": "Zu dieser Frage habe ich noch keine verlässliche Auskunft. Ich habe sie "
                    "notiert, damit das Team die Wissensbasis ergänzen kann. Wenden Sie sich bis "
                    "dahin an das Bürgerbüro Ihrer Stadt oder Gemeinde.",
        "outside_region": "{place} liegt{land} außerhalb meines Gebiets (Landkreise Hameln-Pyrmont, "
                          "Holzminden, Schaumburg, Hildesheim, Nienburg, Region Hannover; Kreise "
                          "Lippe, Minden-Lübbecke, Höxter, Herford). Für {topic} ist dort die "
                          "örtliche {label} zuständig.",
        "needs_place": "Bei „{topic}“ kommt es darauf an, {why}.",
        "choose": "Der Ort ist nicht eindeutig – gemeint sein kann: {towns}.",
        "responsible": "Zuständig für „{topic}“:",
        "because": "(maßgeblich: {role} in {place})",
        "bring": "Mitbringen:",
        "links": "Mehr dazu:",
        "cross_border": "Wohn- und Arbeitsort liegen in verschiedenen Bundesländern:",
        "source": "Quelle: {source}, geprüft am {checked}.",
        "unsure": "Ich bin mir nicht ganz sicher, ob ich Sie richtig verstanden habe – bitte "
                  "prüfen Sie die Angaben.",
        "alternatives": "Meinten Sie vielleicht: {titles}?",
        "which_topic": "Meinten Sie {titles}?",
        "place_noted": "Ich habe mir {place} gemerkt. Wobei kann ich helfen? Fragen Sie z. B. "
                       "„Wo melde ich mein Auto an?“ oder „Wo beantrage ich Wohngeld?“",
        "place_outside": "{place} liegt{land} außerhalb meines Gebiets (Landkreise Hameln-Pyrmont, "
                         "Holzminden, Schaumburg, Hildesheim, Nienburg, Region Hannover; Kreise "
                         "Lippe, Minden-Lübbecke, Höxter, Herford). Wobei kann ich helfen?",
        "or": "oder",
        "other_places": "Falls Sie einen anderen Ort dieses Namens meinen: {places}.",
        "in_land": " in {land},",
        "phone": "Telefon", "email": "E-Mail", "web": "Web",
    },
    "en": {
        "small_talk": "Hello! I am WeserBot. I tell you which office in the Weser region is "
                      "responsible for you. Ask me, for example: \"I live in Lügde – where do I "
                      "extend my residence permit?\"",
        "off_topic": "Sorry, I can't help with that. I answer which office is responsible for you, "
                     "e.g. \"Where do I register my car? I live in Rinteln.\"",
        "empty": "I did not find a question. Try: \"Where do I apply for housing benefit? I live in "
                 "Hameln.\"",
        "no_topic": "I don't have reliable information on this yet. I have noted the question so "
                    "that the team can add it. Until then, please ask your town hall (Bürgerbüro).",
        "outside_region": "{place} is{land} outside my area (districts Hameln-Pyrmont, Holzminden, "
                          "Schaumburg, Hildesheim, Nienburg, Region Hannover, Lippe, "
                          "Minden-Lübbecke, Höxter, Herford). For {topic}, the local {label} there "
                          "is responsible.",
        "needs_place": "For “{topic}” it depends on {why}.",
        "choose": "That place name is not unique – it could be: {towns}.",
        "responsible": "Responsible office for “{topic}”:",
        "because": "(deciding: {role} in {place})",
        "bring": "Bring:",
        "links": "More:",
        "cross_border": "Your places lie in different federal states:",
        "source": "Source: {source}, checked {checked}.",
        "unsure": "I am not completely sure I understood you – please double-check.",
        "alternatives": "Did you perhaps mean: {titles}?",
        "which_topic": "Did you mean {titles}?",
        "place_noted": "I have noted {place}. What can I help you with? Ask, for example, \"Where do "
                       "I register my car?\" or \"Where do I apply for housing benefit?\"",
        "place_outside": "{place} is{land} outside my area (districts Hameln-Pyrmont, Holzminden, "
                         "Schaumburg, Hildesheim, Nienburg, Region Hannover, Lippe, "
                         "Minden-Lübbecke, Höxter, Herford). What can I help you with?",
        "or": "or",
        "other_places": "If you mean another place of that name: {places}.",
        "in_land": " in {land},",
        "phone": "Phone", "email": "E-mail", "web": "Web",
    },
}

ROLE_QUESTION_OTHER = {
    "de": {"residence": "In welchem Ort wohnt die Person, um die es geht (Ort, Ortsteil oder "
                        "Postleitzahl)?"},
    "en": {"residence": "Which town does the person concerned live in (town, village or "
                        "postcode)?"},
}
ROLE_WHY_OTHER = {
    "de": {"residence": "wo die Person wohnt, um die es geht"},
    "en": {"residence": "where the person concerned lives"},
}
ROLE_WHY = {
    "de": {"residence": "wo Sie wohnen", "business_site": "wo der Betrieb seinen Sitz hat",
           "property": "wo das Grundstück liegt", "route_start": "wo der Transport beginnt",
           "site": "wo das Vorhaben stattfindet", "event_place": "wo das Ereignis stattfand"},
    "en": {"residence": "where you live", "business_site": "where the business is located",
           "property": "where the property is", "route_start": "where the transport starts",
           "site": "where it takes place", "event_place": "where it happened"},
}
ROLE_NAME = {
    "de": {"residence": "Wohnort", "business_site": "Betriebssitz", "property": "Grundstück",
           "route_start": "Start des Transports", "site": "Ort des Vorhabens",
           "event_place": "Ort des Ereignisses"},
    "en": {"residence": "residence", "business_site": "business site", "property": "property",
           "route_start": "start of the route", "site": "site", "event_place": "place of the event"},
}

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


CONFIDENT = 0.7
"""Below this confidence an answer carries a 'please double-check' line."""
LOGGED_REASONS = frozenset({"no_topic", "outside_region"})
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


def office_lines(office: Office, lang: str) -> list[str]:
    """Name, address and contact of an office, one item a line, only what is known."""
    t = TEXT[lang]
    lines = [office.name]
    a = office.address
    street = a.get("street")
    town = " ".join(x for x in (a.get("postcode"), a.get("town")) if x)
    if street or town:
        lines.append(", ".join(x for x in (street, town) if x))
    if office.phone:
        lines.append(f"{t['phone']}: {office.phone}")
    if office.email:
        lines.append(f"{t['email']}: {office.email}")
    if office.url:
        lines.append(f"{t['web']}: {office.url}")
    return lines


def compose_topic_choice(kb: KnowledgeBase, question: str, lang: str, topics: list[str],
                         places: list[dict[str, Any]]) -> Answer:
    """Two topics fit equally well and lead to different offices: ask which one is meant."""
    t = TEXT[lang]
    titles = [f"„{kb.topics[x].title[lang]}“" if lang == "de" else f"“{kb.topics[x].title[lang]}”"
              for x in topics]
    joined = f"{', '.join(titles[:-1])} {t['or']} {titles[-1]}"
    return Answer(question, lang, "needs_topic", t["which_topic"].format(titles=joined),
                  alternatives=list(topics), choices=[kb.topics[x].title[lang] for x in topics],
                  places=places)


def compose_place_only(kb: KnowledgeBase, question: str, lang: str,
                       place: tuple[str, str | None, bool], places: list[dict[str, Any]]) -> Answer:
    """A message that names only a place: noted (inside) or told it lies outside; which topic?"""
    t = TEXT[lang]
    name, land, inside = place
    if inside:
        text = t["place_noted"].format(place=name)
    else:
        text = t["place_outside"].format(place=name,
                                         land=t["in_land"].format(land=land) if land else "")
    return Answer(question, lang, "needs_topic", text, places=places)


def compose(kb: KnowledgeBase, question: str, lang: str, kind: str, res: Resolution | None,
            alternatives: list[str], places: list[dict[str, Any]]) -> Answer:
    """Build the reply for a message that was understood as `kind` and resolved as `res`."""
    t = TEXT[lang]
    if res is None:
        # An empty or emoji-only message is treated like a greeting: friendly, never logged.
        return Answer(question, lang, kind if kind != "empty" else "small_talk", t[kind],
                      places=places)
    topic: Topic | None = res.topic
    answer = Answer(question, lang, res.reason, "", topic=topic.id if topic else None,
                    role=res.role, needs=res.needs, confidence=res.confidence,
                    alternatives=alternatives, places=places, lands=sorted(res.lands),
                    districts=sorted(res.districts))
    alt_line = ""
    if alternatives:
        titles = ", ".join(kb.topics[a].title[lang] for a in alternatives)
        alt_line = t["alternatives"].format(titles=titles)
    if res.reason == "no_topic":
        answer.text = t["no_topic"]
        return answer
    assert topic is not None
    title = topic.title[lang]
    if res.reason == "outside_region":
        label = kb.office_kinds[topic.office_kind].label[lang]
        land = t["in_land"].format(land=res.outside_land) if res.outside_land else ""
        answer.text = t["outside_region"].format(place=res.outside, land=land, topic=title,
                                                 label=label)
        return answer
    if res.reason == "needs_place":
        why = (ROLE_WHY_OTHER if res.for_other else ROLE_WHY)[lang].get(res.needs)
        parts = [t["needs_place"].format(topic=title, why=why or ROLE_WHY[lang][res.needs])]
        if res.choices:
            answer.choices = list(res.choices)
            parts.append(t["choose"].format(towns=", ".join(answer.choices)))
        questions = ROLE_QUESTION_OTHER if res.for_other else ROLE_QUESTION
        parts.append(questions[lang].get(res.needs) or ROLE_QUESTION[lang][res.needs])
        if alt_line:
            parts.append(alt_line)
        answer.text = " ".join(parts)
        return answer
    office = res.office
    assert office is not None
    answer.office = office
    answer.district = res.district.id if res.district else None
    answer.municipality = res.municipality.name if res.municipality else None
    answer.bring = list(topic.bring[lang])
    answer.links = [{"title": link.title, "url": link.url} for link in topic.links]
    land = res.district.land if res.district else None
    if land in topic.land_notes:
        answer.notes.append(topic.land_notes[land][lang])
    if office.note:
        answer.notes.append(office.note[lang])
    cross = ""
    if len(res.lands) > 1:
        others = sorted(res.lands - {land})
        cross_lines = [t["cross_border"], *(topic.land_notes[x][lang] for x in others
                                              if x in topic.land_notes)]
        if topic.cross_border:
            cross_lines.append(topic.cross_border[lang])
        cross = " ".join(cross_lines)
    lines = [t["responsible"].format(topic=title), *office_lines(office, lang)]
    if res.district is not None and res.role:
        place = res.municipality.name if res.municipality else res.district.name
        lines.append(t["because"].format(role=ROLE_NAME[lang][res.role], place=place))
    if answer.bring:
        lines.append(f"{t['bring']} " + ", ".join(answer.bring))
    lines.extend(answer.notes)
    if cross:
        lines.append(cross)
        answer.notes.append(cross)
    if answer.links:
        lines.append(f"{t['links']} " + " ".join(link["url"] for link in answer.links))
    lines.append(t["source"].format(source=office.source, checked=office.checked))
    if res.confidence < CONFIDENT:
        lines.append(t["unsure"])
    if alt_line:
        lines.append(alt_line)
    if res.other_places:
        answer.other_places = list(res.other_places)
        lines.append(t["other_places"].format(places="; ".join(res.other_places)))
    answer.text = "\n".join(lines)
    return answer
