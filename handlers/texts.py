"""Which language a user gets. The texts themselves live in the knowledge base (texts.yaml)."""

from __future__ import annotations

from typing import Any

from bot.settings import setting
from bot.texts import COMMANDS, STAFF_COMMANDS, Texts

LANGS = ("de", "en")
DEFAULT_LANG = "de"
"""For users whose Telegram app does not tell their language, and for the staff chat."""
LABEL_CHARS = setting("label_chars")


def lang_of(language_code: str | None) -> str:
    """Telegram's language code → de or en (German speakers get German, everyone else English)."""
    if not language_code:
        return DEFAULT_LANG
    return "de" if language_code.lower().startswith("de") else "en"


def ui_lang(user_data: dict[str, Any] | None, language_code: str | None) -> str:
    """The language of the bot's own texts: the one chosen with /language, else Telegram's."""
    chosen = (user_data or {}).get("lang")
    return chosen if chosen in LANGS else lang_of(language_code)


def commands(texts: Texts, lang: str, staff: bool = False) -> list[tuple[str, str]]:
    """The command menu (name, description) in `lang`; staff also get theirs."""
    names = [*COMMANDS, *(STAFF_COMMANDS if staff else ())]
    return [(name, texts.get(lang, f"command.{name}")) for name in names]


def clip(label: str, limit: int = LABEL_CHARS) -> str:
    """A label of at most `limit` characters, shortened at a word boundary with '…'."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    cut = label[:limit - 1]
    space = cut.rfind(" ")
    if space > limit // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:–-(") + "…"
