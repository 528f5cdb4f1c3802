"""The everyday commands: /start /help /topics /language /privacy /forget."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, Update

from handlers.context import WeserContext
from handlers.conversation import answer_question
from handlers.render import Markup, button, esc, keyboard
from handlers.send import reply
from handlers.texts import LANGS, t

log = logging.getLogger(__name__)

TOPICS_PER_PAGE = 8
LANGUAGE_NAMES = {"de": "🇩🇪 Deutsch", "en": "🇬🇧 English"}


async def start(update: Update, context: WeserContext) -> None:
    """Greeting in the user's language: what the bot does, and an example."""
    name = update.effective_user.first_name if update.effective_user else ""
    await reply(update, context, t(context.lang(update), "start", name=esc(name)))


async def help_command(update: Update, context: WeserContext) -> None:
    """How to ask, and the commands."""
    await reply(update, context, t(context.lang(update), "help", bot=esc(context.bot.username)))


async def privacy(update: Update, context: WeserContext) -> None:
    """What is stored about a user, why, and for how long."""
    days = context.config.hurdles.retention_days
    await reply(update, context, t(context.lang(update), "privacy", days=days))


async def forget(update: Update, context: WeserContext) -> None:
    """Delete what is stored about this user: hurdle entries, settings, open questions."""
    lang = context.lang(update)
    user_id = update.effective_user.id
    count = await context.hurdles.forget(user_id)  # None: the log cannot be reached right now
    context.user_data.clear()
    await context.services.state.forget(user_id)  # now, not after the reply
    if count is None:
        await reply(update, context, t(lang, "forget_partly"))
    else:
        await reply(update, context, t(lang, "forget_done", count=count))


async def unknown_command(update: Update, context: WeserContext) -> None:
    """A command the bot does not have: point to /help."""
    await reply(update, context, t(context.lang(update), "unknown_command"))


async def language(update: Update, context: WeserContext) -> None:
    """Offer German and English."""
    markup = keyboard([[button(LANGUAGE_NAMES[code], f"lang:{code}") for code in LANGS]])
    await reply(update, context, t(context.lang(update), "language_pick"), markup)


async def on_language(update: Update, context: WeserContext) -> None:
    """Remember the chosen language."""
    query = update.callback_query
    code = query.data.partition(":")[2]
    if code not in LANGS:
        await query.answer()
        return
    context.user_data["lang"] = code
    await query.answer()
    await query.edit_message_text(t(code, "language_set"))


async def topics(update: Update, context: WeserContext) -> None:
    """The catalogue of topics as buttons."""
    await reply(update, context, *topics_view(context, context.lang(update), 0))


async def on_topics_page(update: Update, context: WeserContext) -> None:
    """Another page of the catalogue."""
    query = update.callback_query
    page = query.data.partition(":")[2]
    await query.answer()
    text, markup = topics_view(context, context.lang(update), int(page) if page.isdigit() else 0)
    await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)


async def on_topic(update: Update, context: WeserContext) -> None:
    """A topic from the catalogue: ask where (or answer, if a place is known)."""
    query = update.callback_query
    topic_id = query.data.partition(":")[2]
    topic = context.engine.kb.topics.get(topic_id)
    await query.answer()
    if topic is None:
        await reply(update, context, *topics_view(context, context.lang(update), 0))
        return
    await answer_question(update, context, topic.title[context.lang(update)], topic=topic_id)


def topics_view(context: WeserContext, lang: str, page: int) -> tuple[str, Markup]:
    found = sorted(context.engine.kb.topics.values(), key=lambda tp: tp.title[lang].casefold())
    pages = max(1, -(-len(found) // TOPICS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = found[page * TOPICS_PER_PAGE:(page + 1) * TOPICS_PER_PAGE]
    rows: list[list[InlineKeyboardButton | None]] = [
        [button(tp.title[lang], f"t:{tp.id}")] for tp in shown]
    nav = []
    if page > 0:
        nav.append(button(t(lang, "previous"), f"tp:{page - 1}"))
    if page < pages - 1:
        nav.append(button(t(lang, "next"), f"tp:{page + 1}"))
    rows.append(nav)
    return t(lang, "topics", page=page + 1, pages=pages), keyboard(rows)
