"""Staff review in Telegram (/hurdles, /hurdle N, status buttons, /stats) and hurdle logging.

Only the user ids in staff.user_ids may use it, and only in a private chat or the staff chat:
a hurdle's title and examples are people's questions and must not reach anyone else.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.answer import Answer
from bot.hurdles import STATUSES, Hurdle, HurdleStore, StoreUnavailable
from handlers.context import WeserContext
from handlers.reload import reload_knowledge
from handlers.render import Markup, button, esc, fit, keyboard
from handlers.send import reply
from handlers.texts import DEFAULT_LANG, STATUS_NAMES, t

log = logging.getLogger(__name__)

PAGE_SIZE = 5
MAX_ID = 2**31
TITLE_CHARS = 200


def staff_allowed(update: Update, context: WeserContext) -> bool:
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.id not in context.config.staff_user_ids:
        return False
    return chat is None or chat.type == ChatType.PRIVATE or chat.id == context.config.staff_chat_id


async def hurdles_command(update: Update, context: WeserContext) -> None:
    """Staff: the open hurdles, most frequent first, a page at a time (/hurdles 2)."""
    if not await _checked(update, context):
        return
    page = max(_number(context.args[0]) - 1, 0) if context.args else 0
    await _show(update, context, await _list_view(context, page, context.lang(update)))


async def hurdle_command(update: Update, context: WeserContext) -> None:
    """Staff: one hurdle with its examples and buttons to set its status (/hurdle 12)."""
    if not await _checked(update, context):
        return
    lang = context.lang(update)
    if not context.args:
        await reply(update, context, t(lang, "hurdle_usage"))
        return
    await _show(update, context, await _hurdle_view(context, _number(context.args[0]), lang))


async def stats_command(update: Update, context: WeserContext) -> None:
    """Staff: totals of the hurdle log."""
    if not await _checked(update, context):
        return
    lang = context.lang(update)
    try:
        stats = await _store(context).stats()
    except StoreUnavailable as exc:
        log.error("stats: %s", exc)
        await reply(update, context, t(lang, "store_down"))
        return
    lines = [t(lang, "stats_title")]
    for key, value in stats.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{esc(k)}: {v}" for k, v in value.items()) or "–"
            lines.append(f"{esc(key)}: {inner}")
        else:
            lines.append(f"{esc(key)}: {esc(value)}")
    await reply(update, context, fit(["\n".join(lines)]))


async def reload_command(update: Update, context: WeserContext) -> None:
    """Staff: load the knowledge base again; on problems the old one stays and they are listed."""
    if not await _checked(update, context):
        return
    lang = context.lang(update)
    result = await reload_knowledge(context.application,
                                    f"/reload from staff member {update.effective_user.id}")
    if result.ok:
        await reply(update, context, t(lang, "reload_done", topics=result.topics,
                                       places=result.places, seconds=f"{result.seconds:.1f}"))
        return
    head = t(lang, "reload_failed", count=len(result.problems))
    await reply(update, context, fit([head, "\n".join(esc(p) for p in result.problems)]))


async def on_staff_button(update: Update, context: WeserContext) -> None:
    """Staff buttons (pages, a hurdle, a new status); from anyone else they change nothing."""
    query = update.callback_query
    if not await _checked(update, context):
        return
    lang = context.lang(update)
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
            await query.answer(t(lang, "store_down"), show_alert=True)
            return
        view = await _hurdle_view(context, number, lang)
        await query.answer(t(lang, "status_set", id=number,
                             status=STATUS_NAMES[lang].get(parts[3], parts[3])))
        await _edit(update, view)
        return
    else:
        view = await _hurdle_view(context, number, lang)
    await query.answer()
    await _edit(update, view)


async def log_hurdle(context: WeserContext, answer: Answer, reason: str | None,
                     asker: int) -> None:
    """Log a hurdle (committed when the log works, else kept in memory until it does) and tell
    the staff chat when it is a new one. Never raises for a broken store: the person asking still
    gets their reply, and a broken store is logged once by the queue, not per message."""
    hurdles = context.hurdles
    chat_id = context.config.staff_chat_id
    before = await _hurdle_count(context) if chat_id else None
    written = await hurdles.log_answer(answer, reason=reason, asker=asker)
    if not written or before is None:
        return
    after = await _hurdle_count(context)
    if after is not None and after > before and context.store is not None:
        try:
            await _announce(context, context.store, chat_id, answer, reason or answer.reason)
        except StoreUnavailable as exc:
            log.info("new hurdle not announced: %s", exc)


async def _hurdle_count(context: WeserContext) -> int | None:
    """The number of hurdles, or None while the log cannot be read."""
    if not context.hurdles.available or context.store is None:
        return None
    try:
        return int((await context.store.stats())["hurdles"])
    except StoreUnavailable:
        return None


async def _announce(context: WeserContext, store: HurdleStore, chat_id: int, answer: Answer,
                    reason: str) -> None:
    found = await store.hurdles(topic=answer.topic, reason=reason, limit=None)
    if not found:
        return
    newest = max(found, key=lambda h: h.id)
    text = t(DEFAULT_LANG, "new_hurdle", id=newest.id, reason=esc(reason),
             topic=esc(newest.topic or "–"), title=esc(_line(newest.title)))
    try:
        await context.bot.send_message(chat_id, text, parse_mode="HTML")
    except TelegramError as exc:
        log.warning("could not notify the staff chat %s: %s", chat_id, exc)


async def _checked(update: Update, context: WeserContext) -> bool:
    """True for staff; everyone else gets a polite refusal that tells nothing about the log."""
    if staff_allowed(update, context):
        return True
    lang = context.lang(update)
    if update.callback_query:
        await update.callback_query.answer(t(lang, "staff_only"), show_alert=True)
    else:
        await reply(update, context, t(lang, "staff_only"))
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
        return t(lang, "store_down"), None
    more, found = len(found) > PAGE_SIZE, found[:PAGE_SIZE]
    if not found and page == 0:
        return t(lang, "hurdles_none"), None
    blocks = [t(lang, "hurdles_title", page=page + 1)]
    rows: list[list[InlineKeyboardButton | None]] = []
    for h in found:
        blocks.append(_summary(h, lang))
        rows.append([button(f"#{h.id} {_line(h.title)[:40]}", f"h:s:{h.id}")])
    nav = []
    if page > 0:
        nav.append(button(t(lang, "previous"), f"h:p:{page - 1}"))
    if more:
        nav.append(button(t(lang, "next"), f"h:p:{page + 1}"))
    rows.append(nav)
    return fit(blocks), keyboard(rows)


def _line(text: str) -> str:
    """A person's question on one line (a view's lines must each be whole HTML), clipped."""
    return " ".join(str(text).split())[:TITLE_CHARS]


def _summary(h: Hurdle, lang: str) -> str:
    status = STATUS_NAMES[lang].get(h.status, h.status)
    return (f"<b>#{h.id}</b> · {h.count}× · 👤 {h.askers} · {esc(status)}\n"
            f"<i>{esc(_line(h.title))}</i>\n{esc(h.topic or '–')} · {esc(h.reason)}")


async def _hurdle_view(context: WeserContext, hurdle_id: int, lang: str) -> tuple[str, Markup]:
    try:
        h = await _store(context).hurdle(hurdle_id) if hurdle_id else None
    except StoreUnavailable as exc:
        log.error("hurdle: %s", exc)
        return t(lang, "store_down"), None
    if h is None:
        return t(lang, "hurdle_missing", id=hurdle_id), keyboard([[button(t(lang, "back"),
                                                                          "h:p:0")]])
    seen = f"{h.first_seen:%Y-%m-%d} – {h.last_seen:%Y-%m-%d}"
    blocks = [_summary(h, lang) + f"\n{seen}"]
    if h.note:
        blocks.append(f"📝 {esc(h.note)}")
    if h.examples:
        blocks.append("\n".join(f"• {esc(_line(e))}" for e in h.examples))
    places = [*h.district_pairs[:5], *([" / ".join(h.lands)] if h.lands else [])]
    if places:
        blocks.append(esc(" · ".join(places)))
    statuses = [button(STATUS_NAMES[lang].get(s, s), f"h:set:{h.id}:{s}")
                for s in STATUSES if s != h.status]
    rows = [statuses[i:i + 2] for i in range(0, len(statuses), 2)]
    rows.append([button(t(lang, "back"), "h:p:0")])
    return fit(blocks), keyboard(rows)
