"""What every handler can reach: the engine, the hurdle log, the configuration, the flood guard."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import CallbackContext, ExtBot

from handlers.safety import FloodGuard
from handlers.texts import ui_lang

if TYPE_CHECKING:
    from bot.config import Config
    from bot.engine import Engine
    from bot.hurdle_queue import HurdleQueue
    from bot.hurdles import HurdleStore
    from handlers.durable import StateKeeper

SERVICES = "weserbot.services"
"""Key in bot_data (bot_data is not persisted)."""
ANSWERS, SEQ, KEYBOARD = "answers", "seq", "kbd"
"""Keys in user_data: the answers whose buttons still work, their counter, a keyboard shown."""


@dataclass
class Services:
    engine: Engine
    """Replaced as a whole by a reload (handlers/reload.py): read it once per answer."""
    config: Config
    flood: FloodGuard
    hurdles: HurdleQueue
    """The way into the hurdle log: writes, or keeps entries in memory while it is down."""
    state: StateKeeper
    """The inbox of updates and the users' conversation state in the database."""
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    reload_on_sighup: bool = False
    """Set by `run` (weserbot run): SIGHUP reloads the knowledge base."""

    @property
    def store(self) -> HurdleStore | None:
        """The open hurdle log, or None while it cannot be opened."""
        return self.hurdles.store


class WeserContext(CallbackContext[ExtBot, dict, dict, dict]):
    """CallbackContext with the bot's services as attributes."""

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES]

    @property
    def engine(self) -> Engine:
        return self.services.engine

    @property
    def store(self) -> HurdleStore | None:
        return self.services.store

    @property
    def hurdles(self) -> HurdleQueue:
        return self.services.hurdles

    @property
    def config(self) -> Config:
        return self.services.config

    def t(self, lang: str, key: str, **values: Any) -> str:
        """The text `key` of the knowledge base in `lang`, placeholders filled in."""
        return self.engine.kb.texts.get(lang, key, **values)

    def lang(self, update: Update | Any) -> str:
        """The language of the bot's own texts for this user."""
        user = getattr(update, "effective_user", None)
        data = self.user_data if user is not None else None
        return ui_lang(data, user.language_code if user else None)
