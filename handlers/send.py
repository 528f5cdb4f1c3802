"""Sending replies: HTML without link previews, as a reply in groups, with a plain-text fallback."""

from __future__ import annotations

import html
import logging
import re
import warnings
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    LinkPreviewOptions,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackContext
from telegram.warnings import PTBUserWarning

from handlers.render import buttons, is_inline, keyboard

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# `send` calls sendMessage through Bot.do_api_request on purpose (see there), which warns once.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.send_message'",
                        category=PTBUserWarning)


@dataclass(frozen=True, slots=True)
class Sent:
    """Where a message went: all a handler keeps of it (to edit it or point at it later)."""

    chat_id: int
    message_id: int


async def send(bot: Bot, chat_id: int, text: str, **params: Any) -> Sent:
    """sendMessage through the bot (its rate limiter, defaults and hooks included), without
    building a `Message` from Telegram's answer: that object, with its entities and keyboard,
    cost a seventh of the bot's CPU per answer, and only two of its fields are ever read."""
    result = await bot.do_api_request("send_message",
                                      api_kwargs={"chat_id": chat_id, "text": text, **params})
    return Sent(int(result["chat"]["id"]), int(result["message_id"]))


def plain(html_text: str) -> str:
    """What a HTML message says, as plain text (for the fallback)."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


async def reply(update: Update, context: CallbackContext, text: str, markup: Any = None,
                remove_keyboard: bool = False) -> Sent | None:
    """Send `text` (Telegram HTML) to the chat of `update`; in groups as a reply to the message.

    `remove_keyboard` hides a reply keyboard shown before (the place question's); a message
    carries one kind of keyboard only, so inline buttons are then added by an edit.
    Network errors and 429 are retried by the rate limiter. A BadRequest (which our escaping
    should make impossible) is logged and the message is sent again as plain text."""
    chat = update.effective_chat
    if chat is None:
        return None
    kwargs = {}
    message = update.effective_message
    if chat.type != ChatType.PRIVATE and message is not None:
        kwargs["reply_parameters"] = ReplyParameters(message.message_id,
                                                     allow_sending_without_reply=True)
    inline = markup if is_inline(markup) else None
    if remove_keyboard:
        markup = ReplyKeyboardRemove()
    try:
        sent = await send(context.bot, chat.id, text, parse_mode=ParseMode.HTML,
                          reply_markup=markup, link_preview_options=NO_PREVIEW, **kwargs)
        if remove_keyboard and inline is not None:
            await context.bot.edit_message_reply_markup(sent.chat_id, sent.message_id,
                                                        reply_markup=inline)
        return sent
    except BadRequest as exc:
        log.error("Telegram refused a reply (%s); sending it as plain text", exc)
        safe = keyboard([[b for b in row if "url" not in b] for row in buttons(inline)]
                        ) if inline else markup
        return await send(context.bot, chat.id, plain(text), reply_markup=safe,
                          link_preview_options=NO_PREVIEW, **kwargs)
