"""From a hurdle to an answer: a question handed to a person, the staff's reply, teaching the bot,
and the weekly digest in the staff chat.

Hand-off is opt-in: the asker presses "Ein Mensch soll antworten", agrees, and only then the
question's text goes to the staff chat with its hurdle number, never a name or user id. The link
from hurdle to chat is kept in the hurdle log until the answer is delivered and then until
retention or /forget, like the asker's entries.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import time as clock
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, filters

from bot.answer import Reason
from bot.digest import render_digest
from bot.hurdles import HurdleStore, StoreUnavailable
from bot.knowledge import BUNDLED
from bot.teach import NEW, draft, teach
from handlers.context import ANSWERS, SERVICES, Services, WeserContext
from handlers.reload import reload_knowledge
from handlers.render import button, esc, fit, keyboard
from handlers.send import reply
from handlers.staff import staff_allowed

log = logging.getLogger(__name__)

HANDOFF_REASONS = frozenset({Reason.NO_TOPIC, Reason.OUTSIDE_REGION})
"""Replies that offer a person's answer at once; any reply rated 👎 offers it, too."""
MARK = "🙋"
"""The start of a hand-off message in the staff chat: a reply to it answers its hurdle."""
DIGEST_JOB = "weekly-digest"
TEACH_LOCK = "weserbot.teach_lock"
"""Key in bot_data: one teach at a time (write, reload, maybe undo)."""
_HURDLE_NO = re.compile(r"#(\d{1,9})\b")


def handoff_offered(context: WeserContext, update: Update, reason: str, rated: str | None) -> bool:
    """Whether an answer gets the hand-off button: a staff chat is configured, the chat is
    private (the answer must reach only the asker), and the reply did not help."""
    chat = update.effective_chat
    return (context.config.staff_chat_id is not None and chat is not None
            and chat.type == ChatType.PRIVATE and (reason in HANDOFF_REASONS or rated == "-"))


def staff_lang(context: WeserContext) -> str:
    return context.config.staff_language


# -- the asker ---------------------------------------------------------------------------------------
async def on_handoff(update: Update, context: WeserContext) -> None:
    """'Ein Mensch soll antworten' (hp:), then the consent (hy: yes, hn: no)."""
    query = update.callback_query
    kind, rid = query.data.split(":", 1)
    lang = context.lang(update)
    record = (context.user_data.get(ANSWERS) or {}).get(rid)
    if record is None or context.config.staff_chat_id is None:
        await query.answer(context.t(lang, "telegram.gone"))
        return
    await query.answer()
    if kind == "hp":
        markup = keyboard([[button(context.t(lang, "telegram.handoff_yes"), f"hy:{rid}"),
                            button(context.t(lang, "telegram.handoff_no"), f"hn:{rid}")]])
        await reply(update, context, context.t(lang, "telegram.handoff_consent"), markup)
        return
    await _drop_buttons(query.message)
    if kind == "hn":
        await reply(update, context, context.t(lang, "telegram.handoff_declined"))
        return
    await _hand_off(update, context, record["question"], lang)


async def _hand_off(update: Update, context: WeserContext, question: str, lang: str) -> None:
    """The asker agreed: link their chat to the hurdle and show the question in the staff chat."""
    store = context.store
    user, chat = update.effective_user, update.effective_chat
    try:
        if store is None:
            raise StoreUnavailable("the hurdle log is not open")
        hurdle_id = await store.hurdle_of(user.id, question)
        hurdle = await store.hurdle(hurdle_id) if hurdle_id else None
        if hurdle is None:
            raise StoreUnavailable("the question is not (yet) in the hurdle log")
        new = await store.request_handoff(hurdle.id, user.id, chat.id, lang, question)
    except StoreUnavailable as exc:
        log.warning("hand-off not possible: %s", exc)
        await reply(update, context, context.t(lang, "telegram.handoff_unavailable"))
        return
    if not new:
        await reply(update, context, context.t(lang, "telegram.handoff_already", id=hurdle.id))
        return
    slang = staff_lang(context)
    text = context.t(slang, "staff.handoff", id=hurdle.id, question=esc(question),
                     cause=esc(_cause(context, slang, hurdle.cause)),
                     topic=esc(_topic(context, slang, hurdle.topic)))
    try:
        shown = await context.bot.send_message(context.config.staff_chat_id, text,
                                               parse_mode="HTML")
        await store.handoff_shown(hurdle.id, user.id, shown.chat_id, shown.message_id)
    except (TelegramError, StoreUnavailable) as exc:
        log.warning("hand-off #%s not shown in the staff chat: %s", hurdle.id, exc)
    await reply(update, context, context.t(lang, "telegram.handoff_sent", id=hurdle.id))


async def forget_handoffs(context: WeserContext, user_id: int) -> list[tuple[int, int]]:
    """Before /forget: the staff-chat messages showing this asker's questions (read first, as
    forgetting deletes the link)."""
    store = context.store
    if store is None:
        return []
    try:
        return await store.handoff_messages(user_id)
    except StoreUnavailable as exc:
        log.warning("forget: hand-off messages not found: %s", exc)
        return []


async def delete_handoff_messages(context: WeserContext, shown: list[tuple[int, int]]) -> None:
    """After /forget: the asker's questions disappear from the staff chat, too."""
    for chat_id, message_id in shown:
        try:
            await context.bot.delete_message(chat_id, message_id)
        except TelegramError as exc:  # older than 48 hours, or already deleted
            log.info("hand-off message %s not deleted: %s", message_id, exc)


# -- the staff ---------------------------------------------------------------------------------------
async def reply_command(update: Update, context: WeserContext) -> None:
    """Staff: /reply N text – deliver the answer to every asker of hurdle N who asked for one."""
    if not await _staff_only(update, context):
        return
    args = context.args or []
    text = (update.effective_message.text or "").split(None, 2)[2:]
    number = _number(args[0]) if args else 0
    if not number or not text or not text[0].strip():
        await reply(update, context, context.t(staff_lang(context), "staff.reply_usage"))
        return
    await _deliver(update, context, number, text[0].strip())


class _HandoffReply(filters.MessageFilter):
    """A text that replies to a hand-off message of this bot."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.id == message.get_bot().id
                    and (replied.text or "").startswith(MARK) and _HURDLE_NO.search(replied.text))


HANDOFF_REPLY = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & _HandoffReply()


async def on_handoff_reply(update: Update, context: WeserContext) -> None:
    """Staff: a reply to a hand-off message answers its hurdle, like /reply N text."""
    if not await _staff_only(update, context):
        return
    message = update.effective_message
    found = _HURDLE_NO.search(message.reply_to_message.text or "")
    await _deliver(update, context, int(found.group(1)), (message.text or "").strip())


async def _of_hurdle(update: Update, context: WeserContext, number: int, what: str,
                     fetch: Callable[[HurdleStore], Awaitable[Any]]) -> Any:
    """`fetch(store)` for hurdle `number`; None once the staff were told that the hurdle does
    not exist or the log cannot be read."""
    slang = staff_lang(context)
    store = context.store
    try:
        if store is None:
            raise StoreUnavailable("the hurdle log is not open")
        if await store.hurdle(number) is None:
            await reply(update, context, context.t(slang, "staff.hurdle_missing", id=number))
            return None
        return await fetch(store)
    except StoreUnavailable as exc:
        log.error("%s: %s", what, exc)
        await reply(update, context, context.t(slang, "staff.store_down"))
        return None


async def _deliver(update: Update, context: WeserContext, hurdle_id: int, text: str) -> None:
    slang = staff_lang(context)
    waiting = await _of_hurdle(update, context, hurdle_id, "reply",
                               lambda store: store.waiting_handoffs(hurdle_id))
    if waiting is None:
        return
    store = context.store
    sent, failed = [], 0
    for handoff in waiting:
        message = context.t(handoff.lang, "telegram.staff_answer", question=esc(handoff.question),
                            answer=esc(text))
        try:
            await context.bot.send_message(handoff.chat_id, message, parse_mode="HTML")
        except TelegramError as exc:  # blocked the bot, deleted the chat
            log.info("answer to hurdle #%s not delivered: %s", hurdle_id, exc)
            failed += 1
            continue
        sent.append(handoff.id)
    try:
        await store.delivered(sent)
        await store.record_answer(hurdle_id, text, _pseudonym(store, update))
    except (StoreUnavailable, KeyError) as exc:
        log.error("reply to #%s delivered but not recorded: %s", hurdle_id, exc)
    key = "staff.reply_delivered" if sent else "staff.reply_nobody"
    confirm = context.t(slang, key, id=hurdle_id, count=len(sent))
    if failed:
        confirm += "\n" + context.t(slang, "staff.reply_failed", count=failed)
    await _tell_staff(update, context, confirm)


async def teach_command(update: Update, context: WeserContext) -> None:
    """Staff: /teach N TOPIC adds hurdle N's phrasings to TOPIC and reloads at once;
    /teach N new drafts a new topic file."""
    if not await _staff_only(update, context):
        return
    slang = staff_lang(context)
    args = context.args or []
    number = _number(args[0]) if args else 0
    if len(args) != 2 or not number:
        await reply(update, context, context.t(slang, "staff.teach_usage"))
        return
    topic = args[1].strip().lower()
    engine = context.engine
    if topic != NEW and topic not in engine.kb.topics:
        await reply(update, context, context.t(slang, "staff.teach_unknown", topic=esc(topic)))
        return
    phrasings = await _of_hurdle(update, context, number, "teach",
                                 lambda store: store.phrasings(number))
    if phrasings is None:
        return
    store = context.store
    async with context.application.bot_data.setdefault(TEACH_LOCK, asyncio.Lock()):
        await _teach(update, context, store, number, topic, phrasings)


async def _teach(update: Update, context: WeserContext, store: HurdleStore, number: int,
                 topic: str, phrasings: list) -> None:
    slang = staff_lang(context)
    folder = context.config.knowledge_dir or BUNDLED
    by = _pseudonym(store, update)
    engine = context.engine  # after a teach that waited, the newest knowledge base
    try:
        if topic == NEW:
            lesson = await asyncio.to_thread(draft, folder, phrasings, number, by)
        else:
            lesson = await asyncio.to_thread(teach, folder, engine.kb, topic, phrasings, number,
                                             by)
    except OSError as exc:  # e.g. an installed, read-only knowledge folder
        log.error("teach: %s", exc)
        head = context.t(slang, "staff.teach_failed")
        await reply(update, context, fit([head, esc(str(exc))]))
        return
    if topic == NEW:
        await store.record_teach(number, lesson.topic, by)
        await reply(update, context, context.t(slang, "staff.teach_draft", id=number,
                                               path=esc(f"{folder.name}/drafts/{lesson.path.name}")))
        return
    title = _topic(context, slang, topic)
    if not lesson.phrases:
        await reply(update, context, context.t(slang, "staff.teach_nothing", id=number,
                                               topic=esc(title)))
        return
    result = await reload_knowledge(context.application, f"/teach {number} {topic}")
    if not result.ok:
        await asyncio.to_thread(lesson.undo)
        head = context.t(slang, "staff.teach_failed")
        await reply(update, context, fit([head, "\n".join(esc(p) for p in result.problems)]))
        return
    await store.record_teach(number, topic, by)
    phrases = ", ".join(f"„{p}“" for _, p in lesson.phrases)
    await reply(update, context, context.t(slang, "staff.teach_done", id=number, topic=esc(title),
                                           count=len(lesson.phrases), phrases=esc(phrases)))


# -- the weekly digest -------------------------------------------------------------------------------
def schedule_digest(app: Application) -> None:
    """Send the digest to the staff chat weekly (staff.digest), if a staff chat is set."""
    services: Services = app.bot_data[SERVICES]
    config = services.config
    if app.job_queue is None or config.staff_chat_id is None or config.digest_weekday is None:
        return
    hour, minute = (int(x) for x in config.digest_time.split(":"))
    # python-telegram-bot counts days from Sunday (0) to Saturday (6).
    app.job_queue.run_daily(digest_job, clock(hour, minute), days=((config.digest_weekday + 1) % 7,),
                            name=DIGEST_JOB)


async def digest_job(context: WeserContext) -> None:
    """The weekly digest in the staff chat."""
    services: Services = context.application.bot_data[SERVICES]
    store = services.store
    if store is None:
        log.warning("weekly digest skipped: the hurdle log is not open")
        return
    lang = services.config.staff_language
    try:
        text = render_digest(await store.digest(), services.engine.kb.texts, lang)
    except StoreUnavailable as exc:
        log.warning("weekly digest skipped: %s", exc)
        return
    try:
        await context.bot.send_message(services.config.staff_chat_id, text, parse_mode="HTML")
    except TelegramError as exc:
        log.warning("weekly digest not sent: %s", exc)


# -- helpers -----------------------------------------------------------------------------------------
async def _staff_only(update: Update, context: WeserContext) -> bool:
    if staff_allowed(update, context):
        return True
    await reply(update, context, context.t(context.lang(update), "staff.only"))
    return False


async def _tell_staff(update: Update, context: WeserContext, text: str) -> None:
    """Confirm where the staff member wrote, and in the staff chat if that was elsewhere."""
    await reply(update, context, text)
    chat_id = context.config.staff_chat_id
    if chat_id is not None and update.effective_chat.id != chat_id:
        try:
            await context.bot.send_message(chat_id, text, parse_mode="HTML")
        except TelegramError as exc:
            log.warning("staff chat not told: %s", exc)


def _pseudonym(store: HurdleStore | None, update: Update) -> str:
    """The staff member as the log records them: a pseudonym, never the user id."""
    user_id = update.effective_user.id
    return store.asker_key(f"staff:{user_id}")[:8] if store else "staff"


def _number(text: str) -> int:
    text = text.strip().lstrip("#")
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else 0


def _cause(context: WeserContext, lang: str, cause: str) -> str:
    texts = context.engine.kb.texts
    return texts.get(lang, f"staff.cause.{cause}") if texts.has(f"staff.cause.{cause}") else cause


def _topic(context: WeserContext, lang: str, topic: str | None) -> str:
    found = context.engine.kb.topics.get(topic or "")
    return found.title[lang] if found else (topic or context.t(lang, "staff.no_topic"))


async def _drop_buttons(message: Message | None) -> None:
    if message is None:
        return
    try:
        await message.edit_reply_markup(None)
    except (BadRequest, TelegramError) as exc:
        log.info("consent buttons not removed: %s", exc)
