"""Reloading the knowledge base while the bot runs: /reload (staff) and SIGHUP (`weserbot run`).

The new base is loaded and validated in a worker thread, so the bot keeps answering meanwhile.
Only a base without problems replaces the running engine, in one assignment: an answer being
composed finishes with the engine it started with, the next one uses the new engine. With
problems, the old engine stays and every problem is logged as `file:line: field: what is wrong`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from telegram.ext import Application

from bot import heap
from bot.engine import Engine
from bot.knowledge import KnowledgeError
from handlers.context import SERVICES, Services

log = logging.getLogger(__name__)


@dataclass
class ReloadResult:
    ok: bool
    problems: list[str] = field(default_factory=list)
    topics: int = 0
    places: int = 0
    seconds: float = 0.0


async def reload_knowledge(app: Application, why: str) -> ReloadResult:
    """Load the configured knowledge base again and switch to it if it is valid.
    Reloads run one after the other; each reads the files as they are when it starts."""
    services: Services = app.bot_data[SERVICES]
    async with services.reload_lock:
        folder = services.config.knowledge_dir
        started = time.monotonic()
        log.info("reloading the knowledge base (%s)", why)
        try:
            engine = await asyncio.to_thread(Engine.load, folder)
        except KnowledgeError as exc:
            problems = [str(p) for p in exc.problems]
        except Exception as exc:  # a bug must not take the running base with it
            log.exception("knowledge base reload failed")
            problems = [f"{folder or 'knowledge'}: {type(exc).__name__}: {exc}"]
        else:
            services.engine = engine
            heap.thaw(refreeze_after=heap.REFREEZE_AFTER)  # the old engine must be collectable
            kb = engine.kb
            result = ReloadResult(True, [], len(kb.topics), len(kb.municipalities),
                                  time.monotonic() - started)
            log.info("knowledge base reloaded: %d topics, %d municipalities (%.1fs)",
                     result.topics, result.places, result.seconds)
            return result
        log.error("knowledge base NOT reloaded, the previous one stays in use: %d problem(s)",
                  len(problems))
        for problem in problems:
            log.error("%s", problem)
        return ReloadResult(False, problems, seconds=time.monotonic() - started)
