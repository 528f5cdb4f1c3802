"""The dialogue: what one message does to a conversation, without Telegram.

A conversation's state is plain data (persisted by the bot as the user's data):
  pending  the engine's open question (Context.to_json()) while the bot waits for a place
  place    a place named or shared before the question that needs it

`take(state, text, ask)` returns the answer to show, the new state and the hurdles to log.
`ask` is the engine: it answers a *recipe* {text, ctx, topic}, the same answer again for the same
recipe and knowledge (buttons under an answer keep its recipe, not its text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.answer import Answer, Reason

PENDING, PLACE = "pending", "place"
CHAT_REASONS = frozenset({Reason.SMALL_TALK, Reason.OFF_TOPIC})
"""Replies that are not a new question: an open question stays open across them."""

Recipe = dict[str, Any]
Ask = Callable[[Recipe], Answer]


@dataclass
class Turn:
    answer: Answer
    recipe: Recipe
    """How to ask for this answer again (for its buttons)."""
    state: dict[str, Any]
    hurdles: list[tuple[Answer, str | None]] = field(default_factory=list)
    """(answer, reason) to log, in order; reason None: the answer's own."""
    still_open: dict[str, Any] | None = None
    """The open question that a chat reply ('Danke', the weather) left open: say it is pending."""

    @property
    def asks_place(self) -> bool:
        """The answer asks where: the bot may offer to share a location."""
        return self.answer.context is not None


def settle(text: str, choices: list[str]) -> str:
    """A place offered as a choice ("Springe (Region Hannover)", "Gehrden (Brakel, Kreis
    Höxter)"), pressed or typed back, as the engine reads it unambiguously: the municipality."""
    for choice in choices:
        if " ".join(text.split()).casefold() != choice.casefold():
            continue
        name, _, qualifier = choice.partition(" (")
        qualifier = qualifier.rstrip(")")
        return qualifier.split(",")[0].strip() if "," in qualifier else name
    return text


def take(state: dict[str, Any], text: str, ask: Ask, topic: str | None = None) -> Turn:
    """One message (or a topic chosen by button when `topic` is given) in a conversation."""
    state = dict(state)
    pending = state.get(PENDING)
    if pending and topic is None:
        text = settle(text, pending.get("choices", []))
    recipe: Recipe = {"text": text, "ctx": pending if topic is None else None, "topic": topic}
    answer = ask(recipe)
    if pending and topic is None and recipe["ctx"] is None:  # unreadable: dropped, no hurdle
        state.pop(PENDING, None)
        pending = None
    continued = bool(recipe["ctx"]) and answer.topic == recipe["ctx"]["topic"]
    started_new = not continued and answer.reason not in CHAT_REASONS
    if answer.context is not None and state.get(PLACE):
        # A place named or shared before the question answers its 'where?' at once.
        recipe = {"text": state.pop(PLACE), "ctx": answer.context.to_json(), "topic": None}
        answer = ask(recipe)
    if answer.reason == Reason.NEEDS_TOPIC and not answer.alternatives and any(
            p["districts"] for p in answer.places):
        state[PLACE] = text  # "Ich wohne in Lügde" alone: it answers the next question's 'where?'
    if answer.context is not None:
        state[PENDING] = answer.context.to_json() | (
            {"choices": list(answer.choices)} if answer.choices else {})
    elif continued or started_new:
        state.pop(PENDING, None)
    hurdles: list[tuple[Answer, str | None]] = []
    if pending and started_new:
        # The person left a 'where?' unanswered and asked something else: a hurdle, too.
        abandoned = ask({"text": pending["question"], "ctx": None, "topic": pending["topic"]})
        hurdles.append((abandoned, "needs_place"))
    if answer.logs_hurdle:
        hurdles.append((answer, None))
    still_open = state.get(PENDING) if answer.reason in CHAT_REASONS else None
    return Turn(answer, recipe, state, hurdles, still_open)


def cancel(state: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """/cancel or 'Andere Frage': drop the open question and a remembered place. Returns whether
    a question was open, and the new state. Nothing is logged: the person chose to move on."""
    state = dict(state)
    was_open = state.pop(PENDING, None) is not None
    state.pop(PLACE, None)
    return was_open, state


def other_topic(state: dict[str, Any], place: str) -> dict[str, Any]:
    """'Anderes Thema' under an answer: keep its place for the next question."""
    state = dict(state)
    state.pop(PENDING, None)
    state[PLACE] = place
    return state


def other_place(state: dict[str, Any]) -> dict[str, Any]:
    """'Anderer Ort' under an answer: the same topic is asked again, without a remembered place."""
    state = dict(state)
    state.pop(PENDING, None)
    state.pop(PLACE, None)
    return state
