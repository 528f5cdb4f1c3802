"""Hurdles wait in memory while the hurdle log cannot be written, and go in once it can.

A locked, read-only or full SQLite file, or a missing folder, must not cost a single reply:
`HurdleQueue` stands in front of `HurdleStore`. While the store works, `log_answer` writes at
once (committed when it returns, before the bot replies). When the store fails, the entry stays
in a bounded queue in memory, the failure is logged in one line (again only when the state
changes), and the queue is written in order, with each entry's original time, as soon as the
store works again: tried with every new entry and every `retry_every` seconds. A store that could
not be opened at start-up is opened by the same retries.

Entries in memory are lost if the process ends before the store is back; at a clean shutdown
the queue makes a last attempt and says how many it could not write.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.hurdles import HurdleStore, StoreUnavailable
from bot.settings import setting

if TYPE_CHECKING:
    from bot.answer import Answer

log = logging.getLogger(__name__)

# What each decides: bot/settings.py.
MAX_WAITING = setting("hurdle_max_waiting")
MAX_WAIT = setting("hurdle_max_wait")
RETRY_EVERY = setting("hurdle_retry_every")

Opener = Callable[[], Awaitable[HurdleStore]]


@dataclass
class Waiting:
    """One entry for the log, as `HurdleStore.log_answer` takes it, with the time it happened."""

    answer: Answer
    reason: str | None
    asker: int | str | None
    feedback_for: str | None
    at: datetime
    written: bool = False
    group_as: str | None = None
    then: Callable[[], Awaitable[None]] | None = None
    """Run once the entry is written, when the caller stopped waiting for it (a slow log)."""


class HurdleQueue:
    """The bot's way into the hurdle log. Give it an open `store`, or an `opener` that opens one
    (then the queue owns the store and closes it). Call `start()` once the event loop runs and
    `close()` at the end."""

    def __init__(self, store: HurdleStore | None = None, *, opener: Opener | None = None,
                 limit: int = MAX_WAITING, retry_every: float = RETRY_EVERY) -> None:
        if store is None and opener is None:
            raise ValueError("HurdleQueue needs a store or an opener")
        self.store = store
        self.limit = limit
        self.retry_every = retry_every
        self.problem: str | None = None
        """Why the log cannot be written, while it cannot; None while it works."""
        self.dropped = 0
        """Entries dropped since the store went down, because more than `limit` waited."""
        self._opener = opener
        self._owns_store = store is None
        self._waiting: deque[Waiting] = deque()
        self._lock = asyncio.Lock()  # one writer: the order in the file is the order of events
        self._changed = asyncio.Condition()
        self._attempt: asyncio.Task | None = None
        self._timer: asyncio.Task | None = None
        self._follow_ups: set[asyncio.Task] = set()

    # -- state ------------------------------------------------------------------------------------
    @property
    def waiting(self) -> int:
        """Entries in memory, not yet in the log."""
        return len(self._waiting)

    @property
    def available(self) -> bool:
        """The store is open and its last write worked."""
        return self.store is not None and self.problem is None

    async def written(self) -> None:
        """Return once nothing waits and the store works (wrap in asyncio.wait_for)."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._waiting and self.available)

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the store if needed and begin the periodic retries. A store that cannot be opened
        for a passing reason (locked, read-only, full, folder missing) is logged and retried; a
        lasting one (a foreign or newer file, a wrong setting) raises StoreUnavailable."""
        if self.store is None:
            async with self._lock:
                await self._open(strict=True)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._retry_forever(),
                                                                 name="hurdle-queue-retry")

    async def close(self) -> None:
        """Stop retrying, write what waits if the store allows, close the store if it is ours."""
        if self._timer is not None:
            self._timer.cancel()  # it only ever waits in sleep: attempts run as their own task
            with suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        if self._attempt is not None:  # not cancelled: a write cut in half helps nobody
            with suppress(Exception):
                await self._attempt
            self._attempt = None
        if self._waiting:
            await self.flush()
        if self._waiting:
            log.error("hurdle log still unavailable at shutdown: %d waiting hurdle(s) are lost "
                      "(%s)", len(self._waiting), self.problem)
            self._waiting.clear()
        if self._owns_store and self.store is not None:
            store, self.store = self.store, None
            async with self._lock:
                await store.close()
            log.info("hurdle store closed (%s)", store.path)

    # -- writing ----------------------------------------------------------------------------------
    async def log_answer(self, answer: Answer, *, reason: str | None = None,
                         asker: int | str | None = None, feedback_for: str | None = None,
                         group_as: str | None = None,
                         then: Callable[[], Awaitable[None]] | None = None) -> bool:
        """Log one entry. True: it is committed. False: it waits in memory (the store is down or
        slow; an attempt to write the queue then runs in the background, so the caller never
        waits for a locked database), and `then` runs once it is written."""
        entry = Waiting(answer, reason, asker, feedback_for, datetime.now(UTC),
                        group_as=group_as)
        if len(self._waiting) >= self.limit:
            self._waiting.popleft()
            self.dropped += 1
            if self.dropped == 1:
                log.warning("more than %d hurdles wait for the hurdle log: the oldest are dropped",
                            self.limit)
        self._waiting.append(entry)
        self._attempt_soon()
        if self.available and self._attempt is not None:
            # Committed before the reply, unless the log is slow: a locked file must not make
            # askers wait in a row (5 s each with SQLite's busy timeout).
            await asyncio.wait({self._attempt}, timeout=MAX_WAIT)
        if not entry.written:
            entry.then = then
        return entry.written

    async def flush(self) -> int:
        """Write waiting entries in order until none is left or the store fails; opens the store
        first if it is not open. Returns how many were written."""
        count = 0
        async with self._lock:
            if self.store is None and not await self._open(strict=False):
                return 0
            assert self.store is not None
            while self._waiting:
                entry = self._waiting[0]
                try:
                    await self.store.log_answer(entry.answer, reason=entry.reason,
                                                asker=entry.asker, feedback_for=entry.feedback_for,
                                                at=entry.at, group_as=entry.group_as)
                except StoreUnavailable as exc:
                    self._down(exc)
                    if exc.gone and self._owns_store:  # deleted or replaced: open the path anew
                        store, self.store = self.store, None
                        with suppress(Exception):
                            await store.close()
                    await self._notify()
                    return count
                except Exception:  # this entry cannot be stored at all: it must not block the rest
                    log.exception("hurdle entry dropped, it cannot be stored")
                    self._waiting.popleft()
                    continue
                self._waiting.popleft()
                entry.written = True
                count += 1
                if entry.then is not None:
                    self._follow_up(entry.then)
            self._up(count)
        await self._notify()
        return count

    async def forget(self, user_id: int | str) -> int | None:
        """Delete everything of this user: waiting entries and those in the log. Returns how
        many, or None when the log cannot be reached (the waiting ones are deleted anyway)."""
        async with self._lock:
            kept = [e for e in self._waiting if e.asker != user_id and e.asker != str(user_id)]
            dropped = len(self._waiting) - len(kept)
            self._waiting = deque(kept)
            if self.store is None:
                return None
            try:
                return dropped + await self.store.forget(user_id)
            except StoreUnavailable as exc:
                log.warning("forget: %s", exc)
                return None

    # -- internals --------------------------------------------------------------------------------
    async def _open(self, strict: bool) -> bool:
        assert self._opener is not None
        try:
            self.store = await self._opener()
        except StoreUnavailable as exc:
            if strict and not exc.transient:
                raise
            self._down(exc)
            return False
        except Exception as exc:
            if strict:
                raise
            self._down(StoreUnavailable(f"hurdle log: {exc}", transient=True))
            return False
        return True

    def _down(self, exc: StoreUnavailable) -> None:
        if self.problem is None:
            log.warning("hurdle log unavailable: %s — the bot keeps answering; hurdles wait in "
                        "memory and are written when it is back (retry every %gs)", exc,
                        self.retry_every)
        self.problem = str(exc)

    def _up(self, count: int) -> None:
        if self.problem is not None:
            log.warning("hurdle log available again: %d waiting hurdle(s) written%s", count,
                        f", {self.dropped} dropped while it was down" if self.dropped else "")
        self.problem = None
        self.dropped = 0

    def _follow_up(self, then: Callable[[], Awaitable[None]]) -> None:
        """Run what waited for an entry to be written, as a task of its own (kept referenced)."""
        async def run() -> None:
            try:
                await then()
            except Exception:  # a follow-up must not end with an unread exception
                log.exception("hurdle queue: follow-up of a written entry failed")

        task = asyncio.get_running_loop().create_task(run(), name="hurdle-queue-follow-up")
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    def _attempt_soon(self) -> None:
        """One background attempt at a time."""
        if self._attempt is None or self._attempt.done():
            self._attempt = asyncio.get_running_loop().create_task(self._flush_quietly(),
                                                                   name="hurdle-queue-flush")

    async def _retry_forever(self) -> None:
        while True:
            await asyncio.sleep(self.retry_every)
            if self._waiting or self.store is None:
                self._attempt_soon()

    async def _flush_quietly(self) -> None:
        try:
            while await self.flush() and self._waiting and self.available:
                pass  # entries that came while the last one was written
        except Exception:  # a background attempt must not end with an unread exception
            log.exception("hurdle queue: attempt to write failed")

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
