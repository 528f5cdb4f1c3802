"""The plain-text renderer: a typed answer as a person reads it in a terminal (`weserbot ask`).

Telegram has its own renderer (handlers/render.py); both read the typed answer, never each other's
text. Shared here: the pieces both need in words (the question back, the source line)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.answer import CONFIDENT
from bot.roles import Role

if TYPE_CHECKING:
    from bot.answer import Answer
    from bot.knowledge import KnowledgeBase, Office

_HOST = re.compile(r"(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:/\S*)?", re.I)


def quoted(kb: KnowledgeBase, lang: str, text: str) -> str:
    return kb.texts.get(lang, "answer.quote", text=text)


def or_list(kb: KnowledgeBase, lang: str, items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {kb.texts.get(lang, 'answer.or')} {items[-1]}"


def role_text(kb: KnowledgeBase, lang: str, role: str, what: str, for_other: bool = False) -> str:
    """role.<role>.<what> (name, why, question), the '…_other' form when it is someone else's."""
    if for_other and kb.texts.has(f"role.{role}.{what}_other"):
        return kb.texts.get(lang, f"role.{role}.{what}_other")
    if kb.texts.has(f"role.{role}.{what}"):
        return kb.texts.get(lang, f"role.{role}.{what}")
    return role


def place_question(kb: KnowledgeBase, answer: Answer) -> str:
    """The question back for the missing place ("In welchem Ort wohnen Sie …?")."""
    return role_text(kb, answer.lang, answer.needs or Role.RESIDENCE, "question", answer.for_other)


def outside_land(kb: KnowledgeBase, answer: Answer) -> str:
    if not answer.outside_land:
        return ""
    return kb.texts.get(answer.lang, "answer.in_land", land=answer.outside_land)


def source_line(kb: KnowledgeBase, lang: str, office: Office) -> str:
    """'Quelle: …, geprüft am …'. In English only the sources' web hosts: the source notes
    themselves are German."""
    source = office.source
    if lang != "de":
        hosts = list(dict.fromkeys(m.group(1).lower() for m in _HOST.finditer(source)))
        source = ", ".join(hosts) or source
    return kb.texts.get(lang, "answer.source", source=source, checked=office.checked)


def link_title(lang: str, link: dict[str, str]) -> str:
    """A link's title (German in the knowledge base); in English its web host instead."""
    if lang == "de" or not link.get("url"):
        return link.get("title") or link.get("url", "")
    host = _HOST.match(link["url"])
    return host.group(1) if host else link["url"]


def lead(kb: KnowledgeBase, answer: Answer) -> str:
    """The first sentence(s) of any reply that is not an office card."""
    t, lang = kb.texts, answer.lang
    if answer.reason == "small_talk":
        if answer.kind == "empty":
            return t.get(lang, "answer.empty")
        return t.small_talk_reply(lang, answer.small_talk)
    if answer.reason == "off_topic":
        return t.get(lang, "answer.off_topic")
    if answer.reason == "no_topic":
        return t.get(lang, "answer.no_topic")
    if answer.reason == "outside_region":
        return t.get(lang, "answer.outside_region", place=answer.outside,
                     land=outside_land(kb, answer), topic=answer.topic_title,
                     label=answer.office_label)
    if answer.reason == "needs_topic":
        if answer.alternatives:
            return t.get(lang, "answer.which_topic", titles=or_list(
                kb, lang, [quoted(kb, lang, c) for c in answer.choices]))
        if answer.outside:
            return t.get(lang, "answer.place_outside", place=answer.outside,
                         land=outside_land(kb, answer))
        return t.get(lang, "answer.place_noted", place=answer.place)
    if answer.reason == "needs_place":
        why = role_text(kb, lang, answer.needs or Role.RESIDENCE, "why", answer.for_other)
        parts = [t.get(lang, "answer.needs_place", topic=answer.topic_title, why=why)]
        if answer.choices:
            parts.append(t.get(lang, "answer.choose", towns=", ".join(answer.choices)))
        parts.append(place_question(kb, answer))
        return " ".join(parts)
    return ""


def render_text(kb: KnowledgeBase, answer: Answer) -> str:
    """The whole answer as plain text: the card first, then the details."""
    t, lang = kb.texts, answer.lang
    office = answer.office
    lines: list[str] = []
    if answer.reason != "answered" or office is None:
        lines.append(lead(kb, answer))
        if answer.reason == "needs_place" and answer.alternatives:
            lines.append(t.get(lang, "answer.alternatives", titles=", ".join(
                kb.topics[a].title[lang] for a in answer.alternatives if a in kb.topics)))
        return " ".join(x for x in lines if x)
    lines.append(t.get(lang, "answer.responsible", topic=answer.topic_title))
    lines.extend(office_lines(kb, lang, office))
    if answer.place and answer.role:
        lines.append(t.get(lang, "answer.because",
                           role=role_text(kb, lang, answer.role, "name"), place=answer.place))
    if answer.cross_border:
        lines.append(f"{t.get(lang, f'cross.{answer.cross_kind}')}: {answer.cross_border}")
    if answer.bring:
        lines.append(f"{t.get(lang, 'answer.bring')} " + ", ".join(answer.bring))
    lines.extend(answer.notes)
    if answer.links:
        lines.append(f"{t.get(lang, 'answer.links')} "
                     + " ".join(link["url"] for link in answer.links))
    lines.append(source_line(kb, lang, office))
    if office.as_of:
        lines.append(t.get(lang, "answer.as_of", as_of=office.as_of))
    if answer.confidence < CONFIDENT:
        lines.append(t.get(lang, "answer.unsure"))
    if answer.alternatives:
        lines.append(t.get(lang, "answer.alternatives", titles=", ".join(
            kb.topics[a].title[lang] for a in answer.alternatives if a in kb.topics)))
    if answer.other_places:
        lines.append(t.get(lang, "answer.other_places", places="; ".join(answer.other_places)))
    return "\n".join(lines)


def office_lines(kb: KnowledgeBase, lang: str, office: Office) -> list[str]:
    """Name, address, contact, opening hours and website: only what is known."""
    t = kb.texts
    lines = [office.name]
    a = office.address
    town = " ".join(x for x in (a.get("postcode"), a.get("town")) if x)
    if a.get("street") or town:
        lines.append(", ".join(x for x in (a.get("street"), town) if x))
    if office.phone:
        lines.append(f"{t.get(lang, 'answer.phone')}: {office.phone}")
    if office.email:
        lines.append(f"{t.get(lang, 'answer.email')}: {office.email}")
    if office.hours.get(lang):
        lines.append(t.get(lang, "answer.hours", hours=office.hours[lang]))
    if office.url:
        lines.append(f"{t.get(lang, 'answer.web')}: {office.url}")
    return lines
