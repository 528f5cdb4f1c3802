"""The weekly digest for the staff: new hurdles, top causes, top cross-border pairs, hand-offs
waiting. One text (Telegram HTML) for the staff chat; `weserbot hurdles digest` prints it plain."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from bot.settings import setting
from bot.texts import Texts, number

TOP = setting("digest_top")


def render_digest(data: dict[str, Any], texts: Texts, lang: str) -> str:
    """The digest as Telegram HTML, from `HurdleStore.digest()`."""
    none = texts.get(lang, "staff.digest_none")

    def top(counts: dict[str, int], name=lambda key: key) -> str:
        shown = list(counts.items())[:TOP]
        return ", ".join(f"{escape(name(k))} ({number(lang, n)})" for k, n in shown) or none

    def cause(key: str) -> str:
        return texts.get(lang, f"staff.cause.{key}") if texts.has(f"staff.cause.{key}") else key

    pairs = {**data["cross_districts"], **data["cross_lands"]}
    ids = ", ".join(f"#{i}" for i in data["waiting_hurdles"][:10]) or none
    return "\n".join([
        texts.get(lang, "staff.digest_title", days=data["days"]),
        texts.get(lang, "staff.digest_new", new=number(lang, data["new_hurdles"]),
                  questions=number(lang, data["questions"])),
        texts.get(lang, "staff.digest_causes", causes=top(data["by_cause"], cause)),
        texts.get(lang, "staff.digest_cross", pairs=top(pairs)),
        texts.get(lang, "staff.digest_waiting", count=data["waiting"], ids=ids),
    ])


def plain(html_text: str) -> str:
    """Telegram HTML as plain text (for the terminal)."""
    from html import unescape

    return unescape(re.sub(r"</?[a-z]+>", "", html_text))
