"""The engine: message → understanding → responsibility → answer. No Telegram in here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answer import Answer, compose, compose_place_only, compose_topic_choice
from bot.index import PlaceIndex, PlaceRef, TopicIndex
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.render_text import render_text
from bot.resolve import Resolver
from bot.understand import TOPIC_ASK, TOPIC_ASK_COVERAGE, Mention, Understander, Understanding


@dataclass
class Context:
    """What a follow-up message needs from the previous turn: the open question, as plain data."""

    question: str
    topic: str
    needs: str
    places: list[dict[str, Any]] = field(default_factory=list)
    lang: str = "de"
    """The language of the question: a bare reply such as "Lügde" does not tell it."""

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "topic": self.topic, "needs": self.needs,
                "places": self.places, "lang": self.lang}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Context:
        return cls(data["question"], data["topic"], data["needs"], list(data.get("places", [])),
                   data.get("lang", "de"))


def _mention_from_json(data: dict[str, Any]) -> Mention:
    refs = [PlaceRef(r["kind"], r["key"], r["via"]) for r in data["refs"]]
    others = [PlaceRef(r["kind"], r["key"], r["via"]) for r in data.get("others", ())]
    return Mention(-1, -1, data["text"], refs, data.get("edits", 0), data.get("role"),
                   data.get("direction"), others, data.get("other_person", False),
                   self_person=data.get("self_person", False), not_role=data.get("not_role"))


class Engine:
    """Answers questions from one loaded knowledge base; build once, call `ask` many times."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        places = PlaceIndex(kb)
        place_words = {name for name in places.names if " " not in name}
        self.understander = Understander(kb, TopicIndex(kb, place_words), places)
        self.resolver = Resolver(kb, places)

    @classmethod
    def load(cls, knowledge_dir: Path | str | None = None) -> Engine:
        """Load and validate a knowledge base (bundled by default); raises KnowledgeError."""
        return cls(load_knowledge(Path(knowledge_dir) if knowledge_dir else None))

    def ask(self, text: str, context: Context | None = None, topic: str | None = None) -> Answer:
        """Answer one message. `context` continues an open question; `topic` fixes the topic."""
        answer = self._answer(text, context, topic)
        # Rendered once, for the reply given: readings compared and dropped need no text.
        answer.text = render_text(self.kb, answer)
        return answer

    def _answer(self, text: str, context: Context | None, topic: str | None) -> Answer:
        if context is not None and context.topic not in self.kb.topics:
            context = None  # its topic went with a reload: the reply is a new question
        u = self.understander.understand(text if isinstance(text, str) else "",
                                         expecting_place=context is not None)
        new_topic = u.topic and u.topic.topic != context.topic if context else False
        if context and topic is None and not new_topic and (u.mentions or u.kind == "question"):
            return self._continue(u, context)
        if topic is not None and topic in self.kb.topics:
            return self._resolve(u, topic, 1.0, [])
        if u.kind == "place_only":
            return compose_place_only(self.kb, text, u.lang, self.resolver.place_note(u),
                                      self._places(u))
        if not u.topic:  # small talk, off-topic, or an administrative question without a topic
            res = self.resolver.resolve(u, None, 0.0) if u.kind == "question" else None
            return compose(self.kb, text, u.lang, u.kind, res, [], self._places(u))
        alternatives = [g.topic for g in u.topics[1:]]
        best = self._resolve(u, u.topic.topic, u.topic.score, alternatives)
        close = [g.topic for g in u.topics[1:]
                 if u.topic.score - g.score <= TOPIC_ASK
                 and g.evidence >= TOPIC_ASK_COVERAGE * u.topic.evidence]
        if close and any(self._differs(best, self._resolve(u, c, 1.0, [])) for c in close):
            return compose_topic_choice(self.kb, text, u.lang, [u.topic.topic, *close],
                                        self._places(u))
        return best

    @staticmethod
    def _differs(a: Answer, b: Answer) -> bool:
        """Two readings of a message lead to different replies (another office or question)."""
        if a.reason != b.reason:
            return True
        if a.office is not None and b.office is not None:
            return a.office.id != b.office.id or a.office.name != b.office.name
        return a.needs != b.needs

    def _continue(self, u: Understanding, context: Context) -> Answer:
        """A reply to 'where do you live?': its places take the asked-for role."""
        for m in u.mentions:
            if not m.role:
                m.role = context.needs
        earlier = [_mention_from_json(p) for p in context.places]
        if any(m.role == context.needs for m in u.mentions):
            # The reply names the place that was asked for: it replaces an unclear earlier one.
            earlier = [m for m in earlier if m.role not in (None, context.needs)]
        u.mentions = earlier + u.mentions
        u.text = f"{context.question} / {u.text}"
        u.lang = context.lang
        return self._resolve(u, context.topic, 1.0, [])

    def _resolve(self, u: Understanding, topic_id: str, score: float,
                 alternatives: list[str]) -> Answer:
        topic = self.kb.topics[topic_id]
        res = self.resolver.resolve(u, topic, min(score, 1.0))
        answer = compose(self.kb, u.text, u.lang, u.kind, res, alternatives, self._places(u))
        if res.reason == "needs_place":
            answer.context = Context(u.text, topic_id, res.needs or topic.role, answer.places, u.lang)
        return answer

    def _places(self, u: Understanding) -> list[dict[str, Any]]:
        """The places as plain data, each with the districts it may lie in (for the hurdle log)."""
        return [m.to_json() | {"districts": sorted(self.resolver.districts_of([m]))}
                for m in u.mentions]
