"""Staff review in Telegram (/hurdles, /hurdle N, status buttons, /stats) and hurdle logging.

Only the user ids in staff.user_ids may use it, and only in a private chat or the staff chat:
a hurdle's title and examples are people's questions and must not reach anyone else.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.answer import Answer
from bot.hurdles import STATUSES, Hurdle, HurdleStore, StoreUnavailable
from bot.settings import setting
from bot.texts import number
from handlers.context import WeserContext
from handlers.reload import reload_knowledge
from handlers.render import Button, Markup, button, esc, fit, keyboard
from handlers.send import reply
from handlers.texts import clip

log = logging.getLogger(__name__)

PAGE_SIZE = setting("staff_page_size")
MAX_ID = 2**31
TITLE_CHARS = setting("staff_title_chars")


def staff_allowed(update: Update, context: WeserContext) -> bool:
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.id not in context.config.staff_user_ids:
        return False
    return chat is None or chat.type == ChatType.PRIVATE or chat.id == context.config.staff_chat_id


def staff_lang(update: Update, context: WeserContext) -> str:
    """The staff's language: the one a staff member chose with /language, else staff.language
    (German unless configured)."""
    chosen = context.user_data.get("lang") if update.effective_user else None
    return chosen if chosen in ("de", "en") else context.config.staff_language


async def hurdles_command(update: Update, context: WeserContext) -> None:
    """Staff: the open hurdles, most frequent first, a page at a time (/hurdles 2)."""
    if not await _checked(update, context):
        return
    page = max(_number(context.args[0]) - 1, 0) if context.args else 0
    await _show(update, context, await _list_view(context, page, staff_lang(update, context)))


async def hurdle_command(update: Update, context: WeserContext) -> None:
    """Staff: one hurdle with its examples and buttons to set its status (/hurdle 12)."""
    if not await _checked(update, context):
        return
    lang = staff_lang(update, context)
    if not context.args or not _number(context.args[0]):
        await reply(update, context, context.t(lang, "staff.hurdle_usage"))
        return
    await _show(update, context, await _hurdle_view(context, _number(context.args[0]), lang))


async def stats_command(update: Update, context: WeserContext) -> None:
    """Staff: totals of the hurdle log."""
    if not await _checked(update, context):
        return
    lang = staff_lang(update, context)
    try:
        causes = await _store(context).causes()
        # Cross-border hurdles first: they are what the forum exists to remove.
        stats = {"cross_districts": causes["cross_districts"],
                 "cross_lands": causes["cross_lands"], "by_cause": causes["by_cause"],
                 **await _store(context).stats()}
    except StoreUnavailable as exc:
        log.error("stats: %s", exc)
        await reply(update, context, context.t(lang, "staff.store_down"))
        return
    lines = [context.t(lang, "staff.stats_title")]
    for key, value in stats.items():
        label = esc(_word(context, lang, "staff.stat", key))
        if isinstance(value, dict):
            inner = ", ".join(f"{esc(_value_name(context, lang, key, k))}: {number(lang, v)}"
                              for k, v in value.items()) or "–"
            lines.append(f"{label}: {inner}")
        else:
            lines.append(f"{label}: {esc(number(lang, value) if isinstance(value, int) else value)}")
    await reply(update, context, fit(["\n".join(lines)]))


async def reload_command(update: Update, context: WeserContext) -> None:
    """Staff: load the knowledge base again; on problems the old one stays and they are listed."""
    if not await _checked(update, context):
        return
    lang = staff_lang(update, context)
    result = await reload_knowledge(context.application,
                                    f"/reload from staff member {update.effective_user.id}")
    if result.ok:
        await reply(update, context, context.t(lang, "staff.reload_done", topics=result.topics,
                                       places=result.places, seconds=f"{result.seconds:.1f}"))
        return
    head = context.t(lang, "staff.reload_failed", count=len(result.problems))
    await reply(update, context, fit([head, "\n".join(esc(p) for p in result.problems)]))


async def on_staff_button(update: Update, context: WeserContext) -> None:
    """Staff buttons (pages, a hurdle, a new status); from anyone else they change nothing."""
    query = update.callback_query
    if not await _checked(update, context):
        return
    lang = staff_lang(update, context)
    parts = query.data.split(":")
    kind, number = parts[1], _number(parts[2] if len(parts) > 2 else "")
    if kind == "p":
        view = await _list_view(context, number, lang)
    elif kind == "set" and len(parts) == 4 and parts[3] in STATUSES:
        try:
            await _store(context).set_status(number, parts[3])
        except KeyError:
            pass  # the view below says it is gone
        except StoreUnavailable as exc:
            log.error("set status: %s", exc)
            await query.answer(context.t(lang, "staff.store_down"), show_alert=True)
            return
        view = await _hurdle_view(context, number, lang)
        await query.answer(context.t(lang, "staff.status_set", id=number,
                             status=_word(context, lang, "staff.status", parts[3])))
        await _edit(update, view)
        return
    else:
        view = await _hurdle_view(context, number, lang)
    await query.answer()
    await _edit(update, view)


async def log_hurdle(context: WeserContext, answer: Answer, reason: str | None,
                     asker: int, group_as: str | None = None) -> None:
    """Log a hurdle (committed when the log works, else kept in memory until it does) and tell
    the staff chat when it is a new one: at once, or once a slow log has written it. Never raises
    for a broken store: the person asking still gets their reply, and a broken store is logged
    once by the queue, not per message."""
    hurdles = context.hurdles
    chat_id = context.config.staff_chat_id
    before = await _hurdle_count(context) if chat_id else None

    async def announce_if_new() -> None:
        after = await _hurdle_count(context)
        if before is None or after is None or after <= before or context.store is None:
            return
        try:
            await _announce(context, context.store, chat_id, answer, reason or answer.reason,
                            asker)
        except StoreUnavailable as exc:
            log.info("new hurdle not announced: %s", exc)

    if await hurdles.log_answer(answer, reason=reason, asker=asker, group_as=group_as,
                                then=announce_if_new if before is not None else None):
        await announce_if_new()


async def _hurdle_count(context: WeserContext) -> int | None:
    """The number of hurdles, or None while the log cannot be read."""
    if not context.hurdles.available or context.store is None:
        return None
    try:
        return int((await context.store.stats())["hurdles"])
    except StoreUnavailable:
        return None


async def _announce(context: WeserContext, store: HurdleStore, chat_id: int, answer: Answer,
                    reason: str, asker: int) -> None:
    found = await store.hurdles(topic=answer.topic, reason=reason, limit=None)
    if not found:
        return
    newest = max(found, key=lambda h: h.id)
    lang = context.config.staff_language
    text = context.t(lang, "staff.new_hurdle", id=newest.id,
                     reason=esc(_word(context, lang, "staff.reason", reason)),
                     topic=esc(_topic_name(context, lang, newest.topic)),
                     title=esc(_line(newest.title)))
    try:
        sent = await context.bot.send_message(chat_id, text, parse_mode="HTML")
    except TelegramError as exc:
        log.warning("could not notify the staff chat %s: %s", chat_id, exc)
        return
    await store.announced(newest.id, asker, sent.chat_id, sent.message_id)  # for /forget


async def _checked(update: Update, context: WeserContext) -> bool:
    """True for staff; everyone else gets a polite refusal that tells nothing about the log."""
    if staff_allowed(update, context):
        return True
    lang = context.lang(update)
    if update.callback_query:
        await update.callback_query.answer(context.t(lang, "staff.only"), show_alert=True)
    else:
        await reply(update, context, context.t(lang, "staff.only"))
    return False


def _store(context: WeserContext) -> HurdleStore:
    if context.store is None:
        raise StoreUnavailable("the hurdle log is not open")
    return context.store


def _number(text: str) -> int:
    """A hurdle id or page from a command or a button; 0 for anything else."""
    text = text.strip().lstrip("#")
    if not (text.isascii() and text.isdigit()):  # '²' is a digit to isdigit, not to int
        return 0
    return int(text) if int(text) < MAX_ID else 0


async def _show(update: Update, context: WeserContext, view: tuple[str, Markup]) -> None:
    await reply(update, context, *view)


async def _edit(update: Update, view: tuple[str, Markup]) -> None:
    query = update.callback_query
    try:
        await query.edit_message_text(view[0], parse_mode="HTML", reply_markup=view[1])
    except TelegramError as exc:  # e.g. 'message is not modified' after a double press
        log.info("staff view not edited: %s", exc)


async def _list_view(context: WeserContext, page: int, lang: str) -> tuple[str, Markup]:
    try:
        found = await _store(context).hurdles(open_only=True, limit=PAGE_SIZE + 1,
                                              offset=page * PAGE_SIZE)
    except StoreUnavailable as exc:
        log.error("hurdles: %s", exc)
        return context.t(lang, "staff.store_down"), None
    more, found = len(found) > PAGE_SIZE, found[:PAGE_SIZE]
    if not found and page == 0:
        return context.t(lang, "staff.hurdles_none"), None
    blocks = [context.t(lang, "staff.hurdles_title", page=page + 1)]
    rows: list[list[Button | None]] = []
    for h in found:
        blocks.append(_summary(context, h, lang))
        rows.append([button(f"#{h.id} {_line(h.title)}", f"h:s:{h.id}")])
    nav = []
    if page > 0:
        nav.append(button(context.t(lang, "telegram.previous"), f"h:p:{page - 1}"))
    if more:
        nav.append(button(context.t(lang, "telegram.next"), f"h:p:{page + 1}"))
    rows.append(nav)
    return fit(blocks), keyboard(rows)


def _line(text: str) -> str:
    """A person's question on one line (a view's lines must each be whole HTML), clipped."""
    return clip(str(text), TITLE_CHARS)


def _word(context: WeserContext, lang: str, group: str, key: str) -> str:
    """A staff label (status, reason, statistic) in the staff member's language; the raw key
    only for one the texts do not know."""
    texts = context.engine.kb.texts
    return texts.get(lang, f"{group}.{key}") if texts.has(f"{group}.{key}") else key


def _topic_name(context: WeserContext, lang: str, topic: str | None) -> str:
    found = context.engine.kb.topics.get(topic or "")
    if found is not None:
        return found.title[lang]
    return topic if topic and topic != "(none)" else context.t(lang, "staff.no_topic")


def _value_name(context: WeserContext, lang: str, stat: str, key: str) -> str:
    if stat == "by_status":
        return _word(context, lang, "staff.status", key)
    if stat == "by_reason":
        return _word(context, lang, "staff.reason", key)
    if stat == "by_topic":
        return _topic_name(context, lang, key)
    if stat == "by_cause":
        return _word(context, lang, "staff.cause", key)
    return key


def _summary(context: WeserContext, h: Hurdle, lang: str) -> str:
    status = _word(context, lang, "staff.status", h.status)
    return (f"<b>#{h.id}</b> · {number(lang, h.count)}× · 👤 {number(lang, h.askers)} · "
            f"{esc(status)}\n<i>{esc(_line(h.title))}</i>\n"
            f"{esc(_topic_name(context, lang, h.topic))} · "
            f"{esc(_word(context, lang, 'staff.reason', h.reason))}")


async def _hurdle_view(context: WeserContext, hurdle_id: int, lang: str) -> tuple[str, Markup]:
    try:
        h = await _store(context).hurdle(hurdle_id) if hurdle_id else None
    except StoreUnavailable as exc:
        log.error("hurdle: %s", exc)
        return context.t(lang, "staff.store_down"), None
    if h is None:
        back = button(context.t(lang, "staff.back"), "h:p:0")
        return context.t(lang, "staff.hurdle_missing", id=hurdle_id), keyboard([[back]])
    seen = f"{h.first_seen:%Y-%m-%d} – {h.last_seen:%Y-%m-%d}"
    blocks = [_summary(context, h, lang) + f"\n{seen}"]
    blocks.append(esc(context.t(lang, "staff.cause_line",
                                cause=_word(context, lang, "staff.cause", h.cause or "no_topic"))))
    if h.note:
        blocks.append(f"📝 {esc(h.note)}")
    if h.answer:
        blocks.append(esc(context.t(lang, "staff.answer_line", answer=_line(h.answer))))
    if h.waiting:
        blocks.append(esc(context.t(lang, "staff.waiting_line", waiting=h.waiting,
                                    handed=h.handed_off, id=h.id)))
    blocks.extend(esc(context.t(lang, "staff.taught_line", topic=t["topic"], at=t["at"][:10],
                                by=t["by"])) for t in h.taught)
    if h.examples:
        blocks.append("\n".join(f"• {esc(_line(e))}" for e in h.examples))
    places = [*h.district_pairs[:5], *([" / ".join(h.lands)] if h.lands else [])]
    if places:
        blocks.append(esc(" · ".join(places)))
    statuses = [button(_word(context, lang, "staff.status", s), f"h:set:{h.id}:{s}")
                for s in STATUSES if s != h.status]
    rows = [statuses[i:i + 2] for i in range(0, len(statuses), 2)]
    rows.append([button(context.t(lang, "staff.back"), "h:p:0")])
    return fit(blocks), keyboard(rows)
