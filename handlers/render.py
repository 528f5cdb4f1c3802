"""Engine answers as Telegram messages: HTML (every outside text escaped) and inline keyboards."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.answer import CONFIDENT, ROLE_NAME, Answer
from bot.answer import TEXT as ANSWER_TEXT
from bot.engine import Engine
from handlers.texts import t

MAX_MESSAGE = 4096
"""Telegram's limit for a message's text (counted here in UTF-16 units, the stricter measure)."""
MAX_CALLBACK_DATA = 64
FEEDBACK_REASONS = frozenset({"answered", "outside_region", "no_topic"})
"""Replies that are answers to a question, and so get 'Helpful? 👍 / 👎'."""

Markup = InlineKeyboardMarkup | None


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


def button(text: str, data: str) -> InlineKeyboardButton | None:
    """A callback button, or None when the data would not fit Telegram's 64 bytes."""
    if len(data.encode()) > MAX_CALLBACK_DATA:
        return None
    return InlineKeyboardButton(text[:64], callback_data=data)


def keyboard(rows: Iterable[Iterable[InlineKeyboardButton | None]]) -> Markup:
    kept = [[b for b in row if b is not None] for row in rows]
    kept = [row for row in kept if row]
    return InlineKeyboardMarkup(kept) if kept else None


def topic_title(engine: Engine, topic_id: str, lang: str) -> str:
    topic = engine.kb.topics.get(topic_id)
    return topic.title.get(lang, topic_id) if topic else topic_id


def answer_view(engine: Engine, answer: Answer, record: str | None) -> tuple[str, Markup]:
    """The message for one engine answer. `record` names the stored question behind the
    feedback and alternative buttons (None: no buttons that need it)."""
    lang = answer.lang if answer.lang in ANSWER_TEXT else "de"
    if answer.reason == "answered" and answer.office is not None:
        blocks = _answered_blocks(engine, answer, lang)
    else:
        blocks = [esc(answer.text)]
    rows: list[list[InlineKeyboardButton | None]] = []
    office = answer.office
    if answer.reason == "answered" and office is not None and is_web_url(office.url):
        rows.append([InlineKeyboardButton(t(lang, "website"), url=office.url)])
    keep = [blocks.pop()] if answer.reason == "answered" and office is not None else []
    if record is not None and answer.alternatives:
        if answer.reason == "answered":
            keep.append(esc(t(lang, "alternatives")))
        rows.extend([button(topic_title(engine, alt, lang), f"alt:{record}:{alt}")]
                    for alt in answer.alternatives[:4])
    if record is not None and answer.reason in FEEDBACK_REASONS:
        keep.append(esc(t(lang, "helpful")))
        rows.append([button("👍", f"fb:{record}:+"), button("👎", f"fb:{record}:-")])
    return fit(blocks, keep), keyboard(rows)


def _answered_blocks(engine: Engine, answer: Answer, lang: str) -> list[str]:
    """Office, what to bring, notes, links; last the source (kept whatever the length)."""
    words = ANSWER_TEXT[lang]
    office = answer.office
    head = [f"<b>{esc(words['responsible'].format(topic=topic_title(engine, answer.topic, lang)))}"
            "</b>", f"<b>{esc(office.name)}</b>"]
    address = office.address or {}
    town = " ".join(x for x in (address.get("postcode"), address.get("town")) if x)
    street_town = ", ".join(x for x in (address.get("street"), town) if x)
    if street_town:
        head.append(esc(street_town))
    if office.phone:
        head.append(f"☎️ {esc(office.phone)}")
    if office.email:
        head.append(f"✉️ {esc(office.email)}")
    if answer.role:
        place = answer.municipality or _district_name(engine, answer.district)
        role = ROLE_NAME[lang].get(answer.role, answer.role)
        head.append(f"<i>{esc(words['because'].format(role=role, place=place))}</i>")
    blocks = ["\n".join(head)]
    if answer.bring:
        blocks.append(f"<b>{esc(words['bring'])}</b>\n"
                      + "\n".join(f"• {esc(item)}" for item in answer.bring))
    cross = words["cross_border"]
    notes = [f"{'⚠️' if note.startswith(cross) else 'ℹ️'} {esc(note)}" for note in answer.notes]
    if notes:
        blocks.append("\n".join(notes))
    links = [f'🔗 <a href="{esc(link["url"])}">{esc(link.get("title") or link["url"])}</a>'
             for link in answer.links if is_web_url(link.get("url"))]
    if links:
        blocks.append("\n".join(links))
    tail = [f"<i>{esc(words['source'].format(source=office.source, checked=office.checked))}</i>"]
    if answer.confidence < CONFIDENT:
        tail.append(esc(words["unsure"]))
    blocks.append("\n".join(tail))
    return blocks


def _district_name(engine: Engine, district_id: str | None) -> str:
    district = engine.kb.districts.get(district_id) if district_id else None
    return district.name if district else (district_id or "")


def without_buttons(markup: Markup, drop: Callable[[InlineKeyboardButton], bool]) -> Markup:
    """The same keyboard minus the buttons `drop` selects (e.g. 👍/👎 once rated)."""
    if markup is None:
        return None
    return keyboard([[b for b in row if not drop(b)] for row in markup.inline_keyboard])
