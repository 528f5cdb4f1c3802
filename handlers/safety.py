"""Staying well-behaved: cleaned input, a per-user flood limit, retries, and ordered concurrency."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
import unicodedata
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

from bot.settings import setting

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_QUESTION = setting("message_max_chars")
NETWORK_ATTEMPTS = setting("network_attempts")
RETRY_BASE_DELAY = setting("retry_base_delay")
MAX_RETRIES = setting("max_retries")
MAX_CONCURRENT_UPDATES = setting("max_concurrent_updates")
_INVISIBLE = {"Cc", "Cf", "Cs"}
"""Control, format (zero-width, bidi overrides) and lone surrogate characters."""


def clean_text(text: str | None, limit: int = MAX_QUESTION) -> str:
    """A message as the engine should see it: no control or invisible characters, no runs of
    whitespace, at most `limit` characters."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(" " if unicodedata.category(ch) in _INVISIBLE else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()[:limit]


class FloodGuard:
    """At most `per_minute` messages per user in any 60 seconds; the first one over gets a notice."""

    def __init__(self, per_minute: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, user_id: int) -> str:
        """'ok' to handle the message, 'warn' to send the notice once, 'drop' to stay silent."""
        if self.per_minute <= 0:
            return "ok"
        now = self.clock()
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        if len(seen) < self.per_minute:
            seen.append(now)
            self._warned.pop(user_id, None)
            if len(self._seen) > 10_000:
                self._forget_idle(now)
            return "ok"
        if user_id in self._warned:
            return "drop"
        self._warned[user_id] = now
        return "warn"

    def _forget_idle(self, now: float) -> None:
        for user_id in [u for u, s in self._seen.items() if not s or now - s[-1] >= self.window]:
            del self._seen[user_id]


async def retry_network(call: Callable[[], Awaitable[T]], *, attempts: int = NETWORK_ATTEMPTS,
                        base_delay: float = RETRY_BASE_DELAY, what: str = "request") -> T:
    """Await `call()`, retrying network errors and timeouts with exponential backoff.

    BadRequest (a NetworkError subclass in python-telegram-bot) is our fault: never retried."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except BadRequest:
            raise
        except NetworkError as exc:  # includes TimedOut
            if attempt == attempts:
                raise
            delay = base_delay * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
            log.warning("%s failed (%s); retry %d/%d in %.1fs", what, exc, attempt,
                        attempts - 1, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (overall and per-group limits, waits out 429 RetryAfter `max_retries`
    times) that also retries every Bot API call that failed with a network error or 5xx."""

    def __init__(self, *, network_attempts: int = NETWORK_ATTEMPTS,
                 base_delay: float = RETRY_BASE_DELAY,
                 **limits: Any) -> None:
        limits.setdefault("max_retries", MAX_RETRIES)
        super().__init__(**limits)
        self.network_attempts = network_attempts
        self.base_delay = base_delay
        self.before_call: Callable[[str, Any], Awaitable[None]] | None = None
        self.after_call: Callable[[str, Any], Awaitable[None]] | None = None
        """Awaited with the method's name and parameters before every call and after every call
        that worked (handlers/durable.py)."""

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        limited = super().process_request
        if self.before_call is not None:
            await self.before_call(endpoint, data)
        result = await retry_network(
            lambda: limited(callback, args, kwargs, endpoint, data, rate_limit_args),
            attempts=self.network_attempts, base_delay=self.base_delay, what=endpoint)
        if self.after_call is not None:
            await self.after_call(endpoint, data)
        return result


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Different users are served concurrently; one user's updates run one after the other, so a
    follow-up ('Lügde') is never handled before the question it completes.

    A waiting update holds one of the `max_concurrent_updates` slots (python-telegram-bot takes
    the slot first), hence the generous default; the flood limit keeps any one user's queue short.
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._queues: dict[Any, tuple[asyncio.Lock, list[int]]] = {}
        self.keeper: Any = None
        """Loads and saves the user's state around each update (handlers/durable.StateKeeper)."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _owner(update)
        lock, users = self._queues.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                if self.keeper is not None:
                    await self.keeper.run(update, coroutine, idle=lambda: users[0] == 1)
                else:
                    await coroutine
        finally:
            users[0] -= 1
            if not users[0]:
                del self._queues[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _owner(update: object) -> Any:
    if isinstance(update, Update):
        if update.effective_user:
            return ("user", update.effective_user.id)
        if update.effective_chat:
            return ("chat", update.effective_chat.id)
    return None
