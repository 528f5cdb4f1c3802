"""The everyday commands: /start /help /topics /cancel /language /privacy /forget."""

from __future__ import annotations

import logging

from telegram import Update

from handlers.answers import delete_handoff_messages, forget_handoffs
from handlers.context import WeserContext
from handlers.conversation import answer_question, cancel
from handlers.render import button, esc, keyboard, topics_view
from handlers.send import reply
from handlers.staff import staff_allowed
from handlers.texts import LANGS

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"de": "🇩🇪 Deutsch", "en": "🇬🇧 English"}


async def start(update: Update, context: WeserContext) -> None:
    """Greeting with an example; `/start <topic-id>` (a deep link t.me/<bot>?start=<topic-id>)
    starts that topic."""
    topic = context.engine.kb.topics.get(context.args[0]) if context.args else None
    if topic is not None:
        await answer_question(update, context, topic.title[context.lang(update)], topic=topic.id)
        return
    name = update.effective_user.first_name if update.effective_user else ""
    await reply(update, context, context.t(context.lang(update), "telegram.start", name=esc(name)))


async def help_command(update: Update, context: WeserContext) -> None:
    """How to ask, and the commands."""
    lang = context.lang(update)
    text = context.t(lang, "telegram.help", bot=esc(context.bot.username))
    if staff_allowed(update, context):
        text += "\n\n" + context.t(lang, "telegram.help_staff")
    await reply(update, context, text)


async def privacy(update: Update, context: WeserContext) -> None:
    """What is stored about a user, why, and for how long."""
    days = context.config.hurdles.retention_days
    await reply(update, context, context.t(context.lang(update), "telegram.privacy", days=days))


async def forget(update: Update, context: WeserContext) -> None:
    """Delete what is stored about this user: hurdle entries, settings, open questions."""
    lang = context.lang(update)
    user_id = update.effective_user.id
    shown = await forget_handoffs(context, user_id)
    count = await context.hurdles.forget(user_id)  # None: the log cannot be reached right now
    await delete_handoff_messages(context, shown)
    context.user_data.clear()
    await context.services.state.forget(user_id)  # now, not after the reply
    if count is None:
        await reply(update, context, context.t(lang, "telegram.forget_partly"))
    else:
        await reply(update, context, context.t(lang, "telegram.forget_done", count=count))


async def cancel_command(update: Update, context: WeserContext) -> None:
    """Drop the open question."""
    await cancel(update, context)


async def unknown_command(update: Update, context: WeserContext) -> None:
    """A command the bot does not have: point to /help."""
    await reply(update, context, context.t(context.lang(update), "telegram.unknown_command"))


async def language(update: Update, context: WeserContext) -> None:
    """Offer German and English."""
    markup = keyboard([[button(LANGUAGE_NAMES[code], f"lang:{code}") for code in LANGS]])
    await reply(update, context, context.t(context.lang(update), "telegram.language_pick"), markup)


async def on_language(update: Update, context: WeserContext) -> None:
    """Remember the chosen language."""
    query = update.callback_query
    code = query.data.partition(":")[2]
    if code not in LANGS:
        await query.answer()
        return
    context.user_data["lang"] = code
    await query.answer()
    await query.edit_message_text(context.t(code, "telegram.language_set"))


async def topics(update: Update, context: WeserContext) -> None:
    """The catalogue of topics as buttons."""
    await reply(update, context, *topics_view(context.engine, context.lang(update), 0))


async def on_topics_page(update: Update, context: WeserContext) -> None:
    """Another page of the catalogue."""
    query = update.callback_query
    page = query.data.partition(":")[2]
    await query.answer()
    text, markup = topics_view(context.engine, context.lang(update), int(page) if page.isdigit() else 0)
    await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)


async def on_topic(update: Update, context: WeserContext) -> None:
    """A topic from the catalogue: ask where (or answer, if a place is known)."""
    query = update.callback_query
    topic_id = query.data.partition(":")[2]
    topic = context.engine.kb.topics.get(topic_id)
    await query.answer()
    if topic is None:
        await reply(update, context, *topics_view(context.engine, context.lang(update), 0))
        return
    await answer_question(update, context, topic.title[context.lang(update)], topic=topic_id)
