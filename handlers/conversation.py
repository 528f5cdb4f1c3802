"""Questions and follow-ups: Telegram messages in, engine answers out, 👍/👎 and 'did you mean'.

What a user's conversation keeps (user_data, persisted across restarts):
  pending  the engine's open question (Context.to_json()) while the bot waits for a place
  place    a town from a shared location, used for the next question that needs a place
  answers  the recipes of the last answers (text, context, topic), so that 👎 can log exactly
           that answer and 'did you mean' can ask again with another topic
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import filters

from bot.answer import Answer
from bot.engine import Context, Engine
from handlers.context import WeserContext
from handlers.render import FEEDBACK_REASONS, answer_view, esc, without_buttons
from handlers.safety import clean_text
from handlers.send import reply
from handlers.staff import log_hurdle
from handlers.texts import t

log = logging.getLogger(__name__)

PENDING, PLACE, ANSWERS, SEQ = "pending", "place", "answers", "seq"
KEEP_ANSWERS = 20
"""Answers per user that can still be rated or re-asked."""
CHAT_REASONS = frozenset({"small_talk", "off_topic"})
"""Replies that are not a new question: an open question stays open across them."""


class Addressed(filters.MessageFilter):
    """Private chats always; in groups only messages that mention the bot or reply to it."""

    def filter(self, message: Message) -> bool:
        if message.chat.type == ChatType.PRIVATE:
            return True
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied and replied.from_user and replied.from_user.id == bot.id:
            return True
        kinds = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
        found = {**message.parse_entities(kinds), **message.parse_caption_entities(kinds)}
        for entity, text in found.items():
            if entity.type == MessageEntity.TEXT_MENTION and entity.user:
                if entity.user.id == bot.id:
                    return True
            elif bot.username and text.lower() == f"@{bot.username.lower()}":
                return True
        return False


ADDRESSED = Addressed(name="addressed")


def without_mention(text: str, username: str | None) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.I) if username else text


async def on_text(update: Update, context: WeserContext) -> None:
    """A question or the answer to 'where?': the engine's answer, with buttons."""
    text = without_mention(update.effective_message.text or "", context.bot.username)
    await answer_question(update, context, clean_text(text))


async def on_location(update: Update, context: WeserContext) -> None:
    """A shared location: its nearest town completes an open question or the next one."""
    lang = context.lang(update)
    where = update.effective_message.location
    place = nearest_place(context, where.latitude, where.longitude)
    if place is NO_GEO:
        await reply(update, context, t(lang, "location_off"))
    elif place is None:
        await reply(update, context, t(lang, "location_unknown"))
    elif context.user_data.get(PENDING):
        await answer_question(update, context, place)
    else:
        context.user_data[PLACE] = place
        await reply(update, context, t(lang, "location_noted", place=esc(place)))


async def on_media(update: Update, context: WeserContext) -> None:
    """Photos, stickers, voice, files: say what the bot understands."""
    await reply(update, context, t(context.lang(update), "media"))


async def on_feedback(update: Update, context: WeserContext) -> None:
    """👍/👎 under an answer; 👎 logs that question and answer as a hurdle."""
    query = update.callback_query
    lang = context.lang(update)
    _, rid, vote = query.data.split(":", 2)
    record = _record(update, context, rid)
    if record is None:
        await query.answer(t(lang, _why_not(update, context)))
        return
    if record.get("rated"):
        await query.answer(t(lang, "rated_already"))
        return
    record["rated"] = vote
    await query.answer(t(lang, "thanks_down" if vote == "-" else "thanks_up"))
    if vote == "-":
        answer = ask(context, record)
        await log_hurdle(context, answer, "negative_feedback", update.effective_user.id)
    await query.edit_message_reply_markup(without_buttons(
        query.message.reply_markup, lambda b: str(b.callback_data or "").startswith("fb:")))


async def on_alternative(update: Update, context: WeserContext) -> None:
    """A 'did you mean …' button: the same question, answered for the other topic."""
    query = update.callback_query
    _, rid, topic = query.data.split(":", 2)
    record = _record(update, context, rid)
    if record is None or topic not in record.get("alts", ()):
        await query.answer(t(context.lang(update), _why_not(update, context)))
        return
    await query.answer()
    await answer_question(update, context, record["question"], topic=topic)


async def answer_question(update: Update, context: WeserContext, text: str,
                          topic: str | None = None) -> None:
    """Ask the engine (continuing an open question), reply, and log what the team should see."""
    data = context.user_data
    engine = context.engine  # one engine for the whole answer, also if a reload swaps it now
    pending = data.get(PENDING)
    recipe: dict[str, Any] = {"text": text, "ctx": pending if topic is None else None,
                              "topic": topic}
    answer = ask(context, recipe, engine)
    if pending and topic is None and recipe["ctx"] is None:  # unreadable: dropped, no hurdle
        data.pop(PENDING, None)
        pending = None
    continued = bool(recipe["ctx"]) and answer.topic == recipe["ctx"]["topic"]
    started_new = not continued and answer.reason not in CHAT_REASONS
    if answer.context is not None and data.get(PLACE):
        # A location shared before the question answers its 'where?' at once.
        recipe = {"text": data.pop(PLACE), "ctx": answer.context.to_json(), "topic": None}
        answer = ask(context, recipe, engine)
    if answer.reason == "needs_topic" and not answer.alternatives and any(
            p["districts"] for p in answer.places):
        data[PLACE] = text  # "Ich wohne in Lügde" alone: it answers the next question's 'where?'
    if answer.context is not None:
        data[PENDING] = answer.context.to_json()
    elif continued or started_new:
        data.pop(PENDING, None)
    # Logged before replying: also when Telegram cannot be reached, and never after the reply.
    user_id = update.effective_user.id
    if pending and started_new:
        # The user left a 'where?' unanswered and asked something else: a hurdle, too.
        abandoned = engine.ask(pending["question"], topic=pending["topic"])
        await log_hurdle(context, abandoned, "needs_place", user_id)
    if answer.logs_hurdle:
        await log_hurdle(context, answer, None, user_id)
    record = _remember(data, recipe, answer)
    html, markup = answer_view(engine, answer, record)
    sent = await reply(update, context, html, markup)
    if record is not None and sent is not None:
        data[ANSWERS][record]["msg"] = [sent.chat_id, sent.message_id]


def ask(context: WeserContext, recipe: dict[str, Any], engine: Engine | None = None) -> Answer:
    """The engine's answer for a stored recipe (the same answer again for the same knowledge)."""
    ctx = None
    if recipe.get("ctx"):
        try:
            ctx = Context.from_json(recipe["ctx"])
        except (KeyError, TypeError, ValueError):  # saved by an older WeserBot: start afresh
            log.warning("an open question could not be read back; it is dropped")
            recipe["ctx"] = None
    return (engine or context.engine).ask(recipe["text"], context=ctx, topic=recipe.get("topic"))


def _remember(data: dict, recipe: dict[str, Any], answer: Answer) -> str | None:
    """Keep the recipe of an answer that gets buttons; returns its id for the callback data."""
    if answer.reason not in FEEDBACK_REASONS and not answer.alternatives:
        return None
    data[SEQ] = data.get(SEQ, 0) + 1
    rid = str(data[SEQ])
    answers = data.setdefault(ANSWERS, {})
    answers[rid] = {**recipe, "question": answer.question, "alts": list(answer.alternatives),
                    "rated": None}
    for old in sorted(answers, key=int)[:-KEEP_ANSWERS]:
        del answers[old]
    return rid


def _record(update: Update, context: WeserContext, rid: str) -> dict[str, Any] | None:
    """The presser's own record behind a button, only on the message it was sent with."""
    record = (context.user_data.get(ANSWERS) or {}).get(rid)
    message = update.callback_query.message
    if record is None or message is None or record.get("msg") != [message.chat.id,
                                                                  message.message_id]:
        return None
    return record


def _why_not(update: Update, context: WeserContext) -> str:
    message = update.callback_query.message
    asker = getattr(getattr(message, "reply_to_message", None), "from_user", None)
    if asker is not None and asker.id != update.effective_user.id:
        return "not_yours"
    return "gone"


NO_GEO = object()


def nearest_place(context: WeserContext, lat: float, lon: float) -> Any:
    """The nearest town's name, None when far from the region, NO_GEO without bot.geo."""
    try:
        from bot import geo
    except ImportError:
        return NO_GEO
    try:
        return geo.nearest_place(context.engine.kb, lat, lon)
    except AttributeError:  # the knowledge base has no coordinates (yet)
        log.warning("locations need coordinates in the knowledge base (bot.geo)")
        return NO_GEO
