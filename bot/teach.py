"""Teaching the bot from a hurdle: its phrasings go to a topic in the staff overlay
(`knowledge/taught.yaml`), or into a draft of a new topic (`knowledge/drafts/<id>.yaml`).

Plain file work without Telegram: `/teach N TOPIC` and `weserbot hurdles teach N --topic TOPIC`
both call it. The overlay is only appended to; `undo` puts the previous text back when the
knowledge base would not load with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.grouping import phrase_of
from bot.knowledge import TAUGHT, KnowledgeBase
from bot.normalize import fold
from bot.settings import setting

DRAFTS = "drafts"
"""Folder (in the knowledge folder) for drafted topics; the loader does not read it."""
NEW = "new"
"""`/teach N new`: draft a new topic instead of teaching an existing one."""
MAX_PHRASES = setting("teach_max_phrases")
_EMPTY = "taught: []"

Phrasing = tuple[str, str, list[str]]
"""(question, language, place mentions) as `HurdleStore.phrasings` returns them."""


@dataclass
class Lesson:
    """What a teach wrote, and how to take it back."""

    topic: str
    path: Path
    phrases: list[tuple[str, str]] = field(default_factory=list)
    """(language, phrasing) added."""
    previous: str | None = None
    """The file's text before (None: it did not exist)."""

    def undo(self) -> None:
        if self.previous is None:
            self.path.unlink(missing_ok=True)
        else:
            self.path.write_text(self.previous, encoding="utf-8")


def phrases_for(phrasings: Iterable[Phrasing], known: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(language, phrasing) of each distinct question, without places and filler, and without
    those already `known` (compared folded)."""
    seen = {fold(k) for k in known}
    out = []
    for question, lang, places in phrasings:
        phrase = phrase_of(question, places)
        if phrase and fold(phrase) not in seen:
            seen.add(fold(phrase))
            out.append((lang if lang in ("de", "en") else "de", phrase))
    return out[:MAX_PHRASES]


def teach(folder: Path, kb: KnowledgeBase, topic: str, phrasings: Iterable[Phrasing],
          hurdle_id: int, by: str, now: datetime | None = None) -> Lesson:
    """Append the hurdle's new phrasings for `topic` to the overlay. KeyError for an unknown
    topic; a Lesson without phrases when the topic knows them all already."""
    if topic not in kb.topics:
        raise KeyError(topic)
    known = [p for ps in kb.topics[topic].phrases.values() for p in ps]
    path = Path(folder) / TAUGHT
    lesson = Lesson(topic, path, phrases_for(phrasings, known))
    if not lesson.phrases:
        return lesson
    lesson.previous = path.read_text(encoding="utf-8") if path.exists() else None
    text = lesson.previous or "taught:\n"
    if text.rstrip().endswith(_EMPTY):
        text = text.rstrip()[: -len(_EMPTY)] + "taught:\n"
    if not text.endswith("\n"):
        text += "\n"
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    for lang, phrase in lesson.phrases:
        text += (f"  - {{topic: {topic}, lang: {lang}, phrase: {json.dumps(phrase, ensure_ascii=False)},"
                 f" hurdle: {int(hurdle_id)}, by: {json.dumps(by)}, at: \"{day}\"}}\n")
    path.write_text(text, encoding="utf-8")
    return lesson


def draft(folder: Path, phrasings: Iterable[Phrasing], hurdle_id: int, by: str,
          now: datetime | None = None) -> Lesson:
    """Write a draft topic file from the hurdle's phrasings for a maintainer to complete."""
    phrases = phrases_for(phrasings)
    first = phrases[0][1] if phrases else f"hurdle {hurdle_id}"
    slug = "-".join(fold(first).split()[:4]) or f"hurdle-{hurdle_id}"
    path = Path(folder) / DRAFTS / f"{slug}.yaml"
    path.parent.mkdir(exist_ok=True)
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")

    def listed(lang: str) -> str:
        return ", ".join(json.dumps(p, ensure_ascii=False) for x, p in phrases if x == lang)

    lesson = Lesson(f"{NEW}:{slug}", path, phrases,
                    path.read_text(encoding="utf-8") if path.exists() else None)
    path.write_text(f"""# Draft of a new topic from hurdle #{hurdle_id} ({day}, by {by}).
# To complete: the English title and phrasings (at least 3 per language), the deciding role, the
# office kind (offices/<kind>.yaml), what to bring and links with sources. Then move this file to
# topics/{slug}.yaml, run `weserbot check`, and delete the service from uncovered.yaml if it is
# listed there.
id: {slug}
title: {{de: {json.dumps(first, ensure_ascii=False)}, en: "TODO"}}
role: residence  # TODO: residence, business_site, property, route_start, site or event_place
office_kind: TODO
phrases:
  de: [{listed("de")}]
  en: [{listed("en")}]
bring:
  de: []
  en: []
links: []
""", encoding="utf-8")
    return lesson
