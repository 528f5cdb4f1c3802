"""Questions and follow-ups: Telegram messages in, engine answers out, and the buttons under them.

The dialogue itself (open question, remembered place, which hurdles to log) is bot/dialogue.py;
these handlers only translate between Telegram and it. What a user's conversation keeps (user_data,
persisted across restarts): the dialogue state (pending, place), `kbd` while the place keyboard is
shown, and `answers`: the recipes of the last answers, so that their buttons (👍/👎, Details,
choices, 'Meinten Sie') act on exactly that answer.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import filters

from bot import dialogue
from bot.answer import Answer
from bot.dialogue import PENDING, PLACE
from bot.engine import Context, Engine
from bot.settings import setting
from handlers.answers import handoff_offered
from handlers.context import ANSWERS, KEYBOARD, SEQ, WeserContext
from handlers.render import (
    FEEDBACK_REASONS,
    Markup,
    answer_view,
    cancel_labels,
    esc,
    is_inline,
    keyboard,
    place_keyboard,
    topics_view,
)
from handlers.safety import clean_text
from handlers.send import NO_PREVIEW, Sent, reply
from handlers.staff import log_hurdle

log = logging.getLogger(__name__)

KEEP_ANSWERS = setting("keep_answers")
STATE_KEYS = (PENDING, PLACE)


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
    """A question, the answer to 'where?', or 'Andere Frage' from the place keyboard."""
    text = clean_text(without_mention(update.effective_message.text or "", context.bot.username))
    if text in cancel_labels(context.engine.kb.texts):
        await cancel(update, context)
        return
    await answer_question(update, context, text)


async def cancel(update: Update, context: WeserContext) -> None:
    """/cancel: drop the open question."""
    was_open, state = dialogue.cancel(_state(context))
    _store_state(context, state)
    key = "telegram.cancelled" if was_open else "telegram.nothing_open"
    await _send(update, context, context.t(context.lang(update), key), None)


async def on_location(update: Update, context: WeserContext) -> None:
    """A shared location: its nearest town completes an open question or the next one."""
    lang = context.lang(update)
    where = update.effective_message.location
    place = nearest_place(context, where.latitude, where.longitude)
    if place is NO_GEO:
        await _send(update, context, context.t(lang, "telegram.location_off"), None)
    elif place is None:
        await _send(update, context, context.t(lang, "telegram.location_unknown"), None)
    elif context.user_data.get(PENDING):
        await answer_question(update, context, place)
    else:
        context.user_data[PLACE] = place
        text = context.t(lang, "telegram.location_noted", place=esc(place))
        await _send(update, context, text, topics_view(context.engine, lang, 0)[1])


async def on_media(update: Update, context: WeserContext) -> None:
    """Photos, stickers, voice, files: say what the bot understands."""
    await reply(update, context, context.t(context.lang(update), "telegram.media"))


async def on_feedback(update: Update, context: WeserContext) -> None:
    """👍/👎 under an answer; 👎 logs that question and answer as a hurdle."""
    query = update.callback_query
    lang = context.lang(update)
    _, rid, vote = query.data.split(":", 2)
    record = _record(update, context, rid)
    if record is None:
        await query.answer(context.t(lang, "telegram." + _why_not(update, context)))
        return
    if record.get("rated"):
        await query.answer(context.t(lang, "telegram.rated_already"))
        return
    record["rated"] = vote
    await query.answer(context.t(lang, "telegram.thanks_down" if vote == "-" else
                                 "telegram.thanks_up"))
    if vote == "-":
        answer = ask(context, record)
        # A reply that was itself logged (no topic, outside the region): the 👎 joins that hurdle.
        await log_hurdle(context, answer, "negative_feedback", update.effective_user.id,
                         group_as=answer.reason if answer.logs_hurdle else None)
    await _redraw(update, context, rid, record)


async def on_details(update: Update, context: WeserContext) -> None:
    """Details / Weniger: the same message, expanded or collapsed in place."""
    query = update.callback_query
    _, rid, how = query.data.split(":", 2)
    record = _record(update, context, rid)
    if record is None:
        await query.answer(context.t(context.lang(update), "telegram." + _why_not(update, context)))
        return
    await query.answer()
    record["open"] = how == "1"
    await _redraw(update, context, rid, record)


async def on_choice(update: Update, context: WeserContext) -> None:
    """A button of a 'which one?' question (a place, or another topic): answered once."""
    query = update.callback_query
    kind, rid, value = query.data.split(":", 2)
    record = _record(update, context, rid)
    lang = context.lang(update)
    if record is None:
        await query.answer(context.t(lang, "telegram." + _why_not(update, context)))
        return
    if record.get("used"):
        await query.answer(context.t(lang, "telegram.done_already"))
        return
    if kind == "alt" and value not in record.get("alts", ()):
        await query.answer(context.t(lang, "telegram.gone"))
        return
    choices = record.get("choices", [])
    if kind == "c" and not (value.isdigit() and int(value) < len(choices)):
        await query.answer(context.t(lang, "telegram.gone"))
        return
    record["used"] = True
    await query.answer()
    await _edit_markup(query, _kept_buttons(query.message.reply_markup))
    if kind == "alt":
        await answer_question(update, context, record["question"], topic=value)
    else:
        await answer_question(update, context, choices[int(value)])


async def on_cancel_button(update: Update, context: WeserContext) -> None:
    """'Andere Frage' under a question back: drop it and its buttons."""
    query = update.callback_query
    await query.answer()
    await _edit_markup(query, None)
    await cancel(update, context)


async def on_other(update: Update, context: WeserContext) -> None:
    """'Anderer Ort' (ask the topic's place again) or 'Anderes Thema' (keep the place)."""
    query = update.callback_query
    kind, rid = query.data.split(":", 1)
    record = _record(update, context, rid)
    lang = context.lang(update)
    if record is None:
        await query.answer(context.t(lang, "telegram." + _why_not(update, context)))
        return
    await query.answer()
    if kind == "o" and record.get("topic_id"):
        _store_state(context, dialogue.other_place(_state(context)))
        title = context.engine.kb.topics[record["topic_id"]].title[lang] \
            if record["topic_id"] in context.engine.kb.topics else record["question"]
        await answer_question(update, context, title, topic=record["topic_id"])
        return
    place = record.get("place") or ""
    _store_state(context, dialogue.other_topic(_state(context), place))
    text = context.t(lang, "telegram.which_topic", place=esc(place))
    await _send(update, context, text, topics_view(context.engine, lang, 0)[1])


async def answer_question(update: Update, context: WeserContext, text: str,
                          topic: str | None = None) -> None:
    """Ask the engine through the dialogue, log what the team should see, reply."""
    engine = context.engine  # one engine for the whole answer, also if a reload swaps it now
    turn = dialogue.take(_state(context), text, lambda recipe: ask(context, recipe, engine),
                         topic)
    _store_state(context, turn.state)
    # Logged before replying: also when Telegram cannot be reached, and never after the reply.
    for answer, reason in turn.hurdles:
        await log_hurdle(context, answer, reason, update.effective_user.id)
    record = _remember(context.user_data, turn.recipe, turn.answer)
    html, markup = answer_view(engine, turn.answer, record, still_open=turn.still_open,
                               handoff=handoff_offered(context, update, turn.answer.reason, None))
    if turn.answer.reason == "needs_topic" and not turn.answer.alternatives:
        markup = topics_view(engine, turn.answer.lang, 0)[1]
    if turn.asks_place and markup is None and update.effective_chat.type == ChatType.PRIVATE:
        markup = place_keyboard(engine.kb.texts, turn.answer.lang)
    sent = await _send(update, context, html, markup)
    if record is not None and sent is not None:
        context.user_data[ANSWERS][record]["msg"] = context.services.state.message_key(
            sent.chat_id, sent.message_id)


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


def _state(context: WeserContext) -> dict[str, Any]:
    return {key: context.user_data[key] for key in STATE_KEYS if key in context.user_data}


def _store_state(context: WeserContext, state: dict[str, Any]) -> None:
    for key in STATE_KEYS:
        if key in state:
            context.user_data[key] = state[key]
        else:
            context.user_data.pop(key, None)


async def _send(update: Update, context: WeserContext, html: str, markup: Any) -> Sent | None:
    """Reply; the place keyboard is shown while a place is asked for and removed after."""
    data = context.user_data
    shows = markup is not None and not is_inline(markup)
    remove = bool(data.get(KEYBOARD)) and not shows
    if shows:
        data[KEYBOARD] = True
    elif remove:
        data.pop(KEYBOARD, None)
    return await reply(update, context, html, markup, remove_keyboard=remove)


async def _redraw(update: Update, context: WeserContext, rid: str, record: dict) -> None:
    """Draw an answer's message again from its recipe (expanded or not, rated or not)."""
    query = update.callback_query
    answer = ask(context, record)
    html, markup = answer_view(context.engine, answer, rid, expanded=bool(record.get("open")),
                               rated=bool(record.get("rated")), used=bool(record.get("used")),
                               handoff=handoff_offered(context, update, answer.reason,
                                                       record.get("rated")))
    try:
        await query.edit_message_text(html, parse_mode="HTML", reply_markup=markup,
                                      link_preview_options=NO_PREVIEW)
    except BadRequest as exc:  # e.g. 'message is not modified' after a double press
        log.info("answer not redrawn: %s", exc)


async def _edit_markup(query: Any, markup: Any) -> None:
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:
        log.info("buttons not changed: %s", exc)


def _kept_buttons(markup: InlineKeyboardMarkup | None) -> Markup:
    """A question's keyboard (as the pressed message brings it) once one of its choices is
    taken: the choices are gone."""
    if markup is None:
        return None
    return keyboard([[b.to_dict() for b in row if not str(b.callback_data or "").startswith(
        ("c:", "alt:", "x:"))] for row in markup.inline_keyboard])


def _remember(data: dict, recipe: dict[str, Any], answer: Answer) -> str | None:
    """Keep the recipe of an answer that gets buttons; returns its id for the callback data."""
    if answer.reason not in FEEDBACK_REASONS and not answer.alternatives and not answer.choices:
        return None
    data[SEQ] = data.get(SEQ, 0) + 1
    rid = str(data[SEQ])
    answers = data.setdefault(ANSWERS, {})
    answers[rid] = {**recipe, "question": answer.question, "alts": list(answer.alternatives),
                    "choices": list(answer.choices), "topic_id": answer.topic,
                    "place": answer.place, "rated": None}
    for old in sorted(answers, key=int)[:-KEEP_ANSWERS]:
        del answers[old]
    return rid


def _record(update: Update, context: WeserContext, rid: str) -> dict[str, Any] | None:
    """The presser's own record behind a button, only on the message it was sent with."""
    record = (context.user_data.get(ANSWERS) or {}).get(rid)
    message = update.callback_query.message
    if record is None or message is None or record.get("msg") != context.services.state.message_key(
            message.chat.id, message.message_id):
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
