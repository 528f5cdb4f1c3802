"""The Telegram renderer: engine answers as HTML (every outside text escaped) and keyboards.

It reads the typed answer and the texts of the knowledge base, never the plain-text rendering."""

from __future__ import annotations

import html
from collections.abc import Iterable
from urllib.parse import urlsplit

from telegram import KeyboardButton, ReplyKeyboardMarkup

from bot.answer import CONFIDENT, Answer, Reason
from bot.engine import Engine
from bot.knowledge import KnowledgeBase
from bot.render_text import lead, link_title, role_text, source_line
from bot.roles import Role
from bot.settings import setting
from bot.texts import Texts
from handlers.texts import LANGS, clip

MAX_MESSAGE = 4096
"""Telegram's limit for a message's text (counted here in UTF-16 units, the stricter measure)."""
MAX_CALLBACK_DATA = 64
FEEDBACK_REASONS = frozenset({Reason.ANSWERED, Reason.OUTSIDE_REGION, Reason.NO_TOPIC})
"""Replies that are answers to a question, and so get 'Helpful? 👍 / 👎'."""

Button = dict[str, str]
"""An inline button as the Bot API takes it: {"text", "callback_data"} or {"text", "url"}.
Keyboards are built as this JSON, not as python-telegram-bot's objects: building those for every
answer, and encoding them back for the request, cost about a twentieth of the bot's CPU."""
Markup = dict[str, list[list[Button]]] | None
"""An inline keyboard ({"inline_keyboard": rows}), or none."""


def is_inline(markup: object) -> bool:
    """Inline buttons (not the place question's reply keyboard, not none)."""
    return isinstance(markup, dict) and "inline_keyboard" in markup


def buttons(markup: Markup) -> list[list[Button]]:
    return markup["inline_keyboard"] if markup else []


def esc(value: object) -> str:
    """Any text from a user or the knowledge base, safe inside Telegram HTML."""
    return html.escape(str(value))


def tg_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(blocks: Iterable[str], keep: Iterable[str] = (), limit: int = MAX_MESSAGE) -> str:
    """Join HTML blocks with blank lines within Telegram's limit. The `keep` blocks (short: the
    source, 'Helpful?') always come last; the others are cut, at a line, where the room ends,
    marked with '…'. Every line of a block must be well-formed HTML on its own."""
    keep = [block for block in keep if block]
    room = limit - sum(tg_len(block) + 2 for block in keep) - 4  # 4: a last "\n…"
    out: list[str] = []
    size = 0
    for block in filter(None, blocks):
        if size + tg_len(block) + 2 <= room:
            out.append(block)
            size += tg_len(block) + 2
            continue
        lines = []
        for line in block.split("\n"):
            if size + tg_len(line) + 1 > room - 2:
                break
            lines.append(line)
            size += tg_len(line) + 1
        out.append("\n".join([*lines, "…"]))
        break
    return "\n\n".join(out + keep) or "…"


def is_web_url(url: str | None) -> bool:
    """Only http(s) addresses with a host become link buttons (Telegram rejects others)."""
    if not url or any(ch.isspace() for ch in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def button(text: str, data: str) -> Button | None:
    """A callback button (label shortened at a word boundary), or None when the data would not
    fit Telegram's 64 bytes."""
    if len(data.encode()) > MAX_CALLBACK_DATA:
        return None
    return {"text": clip(text), "callback_data": data}


def link_button(text: str, url: str) -> Button:
    return {"text": text, "url": url}


def keyboard(rows: Iterable[Iterable[Button | None]]) -> Markup:
    kept = [[b for b in row if b is not None] for row in rows]
    kept = [row for row in kept if row]
    return {"inline_keyboard": kept} if kept else None


def topic_title(engine: Engine, topic_id: str, lang: str) -> str:
    topic = engine.kb.topics.get(topic_id)
    return topic.title.get(lang, topic_id) if topic else topic_id


def answer_view(engine: Engine, answer: Answer, record: str | None, expanded: bool = False,
                still_open: dict | None = None, rated: bool = False, used: bool = False,
                handoff: bool = False) -> tuple[str, Markup]:
    """The message for one engine answer. An office answer is a short card; `expanded` adds
    what to bring, notes, links and sources (the Details button). `record` names the stored
    recipe behind the buttons (None: no buttons that need it). `handoff`: offer a person's
    answer ('Ein Mensch soll antworten')."""
    kb = engine.kb
    lang = answer.lang if answer.lang in LANGS else "de"
    texts = kb.texts
    office = answer.office
    rows: list[list[Button | None]] = []
    card = answer.reason == "answered" and office is not None
    if card:
        blocks = [card_html(kb, answer)]
        if expanded:
            blocks.extend(details_blocks(kb, answer))
        if is_web_url(office.url):
            rows.append([link_button(texts.get(lang, "telegram.website"), office.url)])
    else:
        blocks = [esc(lead(kb, answer))]
        if still_open:
            blocks.append(esc(still_open_text(engine, lang, still_open)))
    keep: list[str] = [blocks.pop()] if card and expanded else []  # the source stays
    if record is not None and not used:
        if answer.reason == "needs_place":
            rows.extend([button(choice, f"c:{record}:{i}")]
                        for i, choice in enumerate(answer.choices[:8]))
        if answer.alternatives:
            if card:
                keep.append(esc(texts.get(lang, "telegram.alternatives")))
            rows.extend([button(topic_title(engine, alt, lang), f"alt:{record}:{alt}")]
                        for alt in answer.alternatives[:4])
        if answer.reason in ("needs_place", "needs_topic") and (answer.choices or
                                                               answer.alternatives):
            rows.append([button(texts.get(lang, "telegram.cancel_button"), f"x:{record}")])
    if record is not None:
        if card:
            rows.append([button(texts.get(lang, "telegram.less" if expanded else "telegram.details"),
                                f"d:{record}:{0 if expanded else 1}")])
            rows.append([button(texts.get(lang, "telegram.other_place"), f"o:{record}"),
                         button(texts.get(lang, "telegram.other_topic"), f"n:{record}")])
        if answer.reason in FEEDBACK_REASONS and not rated:
            keep.append(esc(texts.get(lang, "telegram.helpful")))
            rows.append([button("👍", f"fb:{record}:+"), button("👎", f"fb:{record}:-")])
        if handoff:
            rows.append([button(texts.get(lang, "telegram.handoff_button"), f"hp:{record}")])
    return fit(blocks, keep), keyboard(rows)


def card_html(kb: KnowledgeBase, answer: Answer) -> str:
    """The card: office, address, contact, opening hours, the deciding place in one line, and
    one sentence when the asker's places lie in two Länder."""
    texts, lang, office = kb.texts, answer.lang, answer.office
    assert office is not None
    head = [f"<b>{esc(texts.get(lang, 'answer.responsible', topic=answer.topic_title))}</b>",
            f"<b>{esc(office.name)}</b>"]
    address = office.address or {}
    town = " ".join(x for x in (address.get("postcode"), address.get("town")) if x)
    street_town = ", ".join(x for x in (address.get("street"), town) if x)
    if street_town:
        head.append(esc(street_town))
    if office.phone:
        head.append(f"☎️ {esc(office.phone)}")
    if office.email:
        head.append(f"✉️ {esc(office.email)}")
    if office.hours.get(lang):
        head.append(f"🕐 {esc(office.hours[lang])}")
    if answer.place and answer.role:
        role = role_text(kb, lang, answer.role, "name")
        head.append(f"<i>{esc(texts.get(lang, 'answer.because', role=role, place=answer.place))}"
                    "</i>")
    if answer.cross_border:
        heading = texts.get(lang, f"cross.{answer.cross_kind or 'places'}")
        head.append(f"⚠️ <b>{esc(heading)}:</b> {esc(answer.cross_border)}")
    if answer.confidence < CONFIDENT:
        head.append(esc(texts.get(lang, "answer.unsure")))
    return "\n".join(head)


def details_blocks(kb: KnowledgeBase, answer: Answer) -> list[str]:
    """Behind 'Details': what to bring, notes, links, other places, source and Stand."""
    texts, lang, office = kb.texts, answer.lang, answer.office
    assert office is not None
    blocks = []
    if answer.bring:
        blocks.append(f"<b>{esc(texts.get(lang, 'answer.bring'))}</b>\n"
                      + "\n".join(f"• {esc(item)}" for item in answer.bring))
    if answer.notes:
        blocks.append("\n".join(f"ℹ️ {esc(note)}" for note in answer.notes))
    links = [f'🔗 <a href="{esc(link["url"])}">{esc(link_title(lang, link))}</a>'
             for link in answer.links if is_web_url(link.get("url"))]
    if links:
        blocks.append("\n".join(links))
    if answer.other_places:
        blocks.append(esc(texts.get(lang, "answer.other_places",
                                    places="; ".join(answer.other_places))))
    tail = [f"<i>{esc(source_line(kb, lang, office))}</i>"]
    if office.as_of:
        tail.append(f"<i>{esc(texts.get(lang, 'answer.as_of', as_of=office.as_of))}</i>")
    blocks.append("\n".join(tail))
    return blocks


def still_open_text(engine: Engine, lang: str, pending: dict) -> str:
    """'Ich warte noch auf den Ort für …': what an open question still needs."""
    kb = engine.kb
    question = role_text(kb, lang, pending.get("needs") or Role.RESIDENCE, "question")
    return kb.texts.get(lang, "telegram.still_open",
                        topic=topic_title(engine, pending.get("topic", ""), lang),
                        question=question)


def place_keyboard(texts: Texts, lang: str) -> ReplyKeyboardMarkup:
    """Under a question for a place: share the location, or leave the question."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.get(lang, "telegram.send_location"), request_location=True)],
         [KeyboardButton(texts.get(lang, "telegram.cancel_button"))]],
        resize_keyboard=True, one_time_keyboard=True,
        input_field_placeholder=texts.get(lang, "telegram.place_placeholder"))


def cancel_labels(texts: Texts) -> set[str]:
    """The 'Andere Frage' label in every language (a reply-keyboard press arrives as text)."""
    return {texts.get(lang, "telegram.cancel_button") for lang in LANGS}


TOPICS_PER_PAGE = setting("topics_per_page")


def topics_view(engine: Engine, lang: str, page: int) -> tuple[str, Markup]:
    """The catalogue of topics as buttons, a page at a time."""
    texts = engine.kb.texts
    found = sorted(engine.kb.topics.values(), key=lambda tp: tp.title[lang].casefold())
    pages = max(1, -(-len(found) // TOPICS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = found[page * TOPICS_PER_PAGE:(page + 1) * TOPICS_PER_PAGE]
    rows: list[list[Button | None]] = [
        [button(tp.title[lang], f"t:{tp.id}")] for tp in shown]
    nav = []
    if page > 0:
        nav.append(button(texts.get(lang, "telegram.previous"), f"tp:{page - 1}"))
    if page < pages - 1:
        nav.append(button(texts.get(lang, "telegram.next"), f"tp:{page + 1}"))
    rows.append(nav)
    return texts.get(lang, "telegram.topics", page=page + 1, pages=pages), keyboard(rows)


