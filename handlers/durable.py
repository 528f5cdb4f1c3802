"""Nothing received is lost: the inbox and the conversation state in the database (bot/state.py).

- `DurableQueue` is the Application's update queue: an update is committed to the inbox before it
  is queued, and python-telegram-bot confirms it to Telegram (the next getUpdates offset, or the
  webhook's HTTP 200) only after that. One already in the inbox is not queued again.
- `StateKeeper` loads a user's conversation data before their update is handled and saves it
  afterwards; the update is marked done in the same transaction, once its first reply was sent
  (`replied`, called by the rate limiter after every successful Bot API call; written when the
  handler ends or at the event loop's next turn, whichever comes first). Then the user's data
  leaves the application's memory (with SQLite the store keeps the text it saved for recent
  users: `StateStore.load`).
- At the start, updates received but not answered before a crash are queued again.

When the database cannot be written (folder missing, locked, disk full), the bot answers from
memory as before, says so once, and catches up when it can.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import inspect
import logging
import pickle
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telegram import Update

from bot.state import StateStore, StateUnavailable, encode_state

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.config import Config

log = logging.getLogger(__name__)

CURRENT: contextvars.ContextVar[Update | None] = contextvars.ContextVar("weserbot_update",
                                                                          default=None)
"""The update being handled in this task (set by the update processor)."""
REPLIES = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup",
                     "answerCallbackQuery", "deleteMessage"})
"""Bot API calls that answer an update: after the first one that worked, it is done."""


class StateKeeper:
    """The bot's way into the inbox and the conversation state."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store: StateStore | None = None
        self.problem: str | None = None
        self.app: Application | None = None
        self._finished: dict[int, str | None] = {}
        """Updates in progress already marked done -> their user's state saved with them."""
        self._sending: set[int] = set()
        """Updates in progress whose answer is on its way."""
        self._unfinished: list[int] = []
        """Done updates whose mark could not be written yet."""
        self._dirty: set[int] = set()
        """Users whose data in memory is newer than in the database."""
        self._taken_over: dict[int, float] = {}
        """Updates of other workers queued here (id -> when), so that each is queued once."""

    def message_key(self, chat_id: int, message_id: int) -> str:
        """A sent message as the state keeps it: no chat id (in a private chat, the user's id)."""
        secret = (self.config.hurdles.secret or "").encode()
        return hmac.new(secret, f"msg:{chat_id}:{message_id}".encode(),
                        hashlib.sha256).hexdigest()[:24]

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, app: Application) -> None:
        """Open the state tables, take over an old pickle file, queue what a crash left unanswered."""
        self.app = app
        h = self.config.hurdles
        try:
            self.store = await StateStore.open(self.config.state_db, h.secret,
                                               h.retention_days)
        except StateUnavailable as exc:
            self._down(exc)
            return
        await self._import_pickle(self.config.telegram.persistence_file)
        try:
            pending, cut_off = await self.store.pending()
        except StateUnavailable as exc:
            self._down(exc)
            return
        for payload in pending:
            update = Update.de_json(payload, app.bot)
            asyncio.Queue.put_nowait(app.update_queue, update)  # already in the inbox
        if pending:
            log.warning("%d message(s) received before the bot stopped unexpectedly are answered "
                        "now", len(pending))
        if cut_off:
            log.warning("%d message(s) were being answered when the bot stopped unexpectedly; "
                        "they are not answered again (a reply may be missing)", cut_off)

    async def take_over(self) -> int:
        """Workers sharing PostgreSQL: queue the updates another worker received and left
        (it died, or is stuck) for database.takeover_after seconds. Handling them takes the
        user's lock and skips any that worker has answered meanwhile, so none is answered
        twice. Returns how many were queued."""
        store, app = self.store, self.app
        if store is None or app is None or not store.shared:
            return 0
        try:
            left = await store.left_behind(self.config.takeover_after)
        except StateUnavailable as exc:
            self._down(exc)
            return 0
        now = time.monotonic()
        for update_id, at in list(self._taken_over.items()):
            if now - at > 10 * self.config.takeover_after:  # long done: the inbox knows it
                del self._taken_over[update_id]
        fresh = [p for p in left if p.get("update_id") not in self._taken_over]
        for payload in fresh:
            self._taken_over[payload["update_id"]] = now
            asyncio.Queue.put_nowait(app.update_queue, Update.de_json(payload, app.bot))
        if fresh:
            log.warning("%d message(s) received by another worker and not answered there are "
                        "answered here", len(fresh))
        return len(fresh)

    async def close(self) -> None:
        if self.store is not None:
            if self._unfinished or self._dirty:
                await self._catch_up()
            store, self.store = self.store, None
            await store.close()

    # -- inbox ------------------------------------------------------------------------------------
    async def received(self, update: Update, raw: dict[str, Any] | None = None) -> bool:
        """Commit an update before it is confirmed; False: already received, do not handle it.
        `raw`: the update as Telegram sent it, when known (else it is made from `update`)."""
        if self.store is None:
            return True
        try:
            fresh = await self.store.receive(update.update_id,
                                             update.to_dict() if raw is None else raw,
                                             self._owner(update))
        except StateUnavailable as exc:
            self._down(exc)
            return True
        except (TypeError, ValueError) as exc:  # cannot be stored: handled, but not durably
            log.warning("update %s not kept in the inbox: %s", update.update_id, exc)
            return True
        self._up()
        return fresh

    # -- per update -------------------------------------------------------------------------------
    async def run(self, update: object, coroutine: Awaitable[Any], idle: Callable[[], bool]
                  ) -> None:
        """Handle one update: load its user's state, run it, save the state and mark it done.

        With workers sharing PostgreSQL, one user's updates are handled one at a time across
        workers and in the order received: the user's lock is taken first; the user's earlier
        updates that reached another worker and wait there are handled here first; an update
        another worker has handled meanwhile is not handled again."""
        store = self.store
        if store is None or not store.shared or not isinstance(update, Update):
            await self._handle(update, coroutine, idle)
            return
        owner = self._owner(update)
        try:
            async with store.owner_lock(owner):
                earlier, taken = await store.turn(owner, update.update_id) if owner else ([],
                                                                                       False)
                for payload in earlier:
                    before = Update.de_json(payload, update.get_bot())
                    await self._handle(before, self._app().process_update(before), lambda: False)
                if taken:
                    coroutine.close()  # type: ignore[attr-defined]
                    return
                await self._handle(update, coroutine, idle)
        except StateUnavailable as exc:
            self._down(exc)
            if inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:  # type: ignore
                await self._handle(update, coroutine, idle)  # answer rather than wait

    async def _handle(self, update: object, coroutine: Awaitable[Any], idle: Callable[[], bool]
                      ) -> None:
        await self.before(update)
        token = CURRENT.set(update if isinstance(update, Update) else None)
        try:
            await coroutine
        finally:
            CURRENT.reset(token)
            await self.after(update, idle=idle())

    def _app(self) -> Application:
        assert self.app is not None
        return self.app

    def _owner(self, update: Update) -> str | None:
        """Whose updates must not overtake each other: the user's (or the chat's)."""
        if self.store is None:
            return None
        if update.effective_user is not None:
            return self.store.owner_key("user", update.effective_user.id)
        if update.effective_chat is not None:
            return self.store.owner_key("chat", update.effective_chat.id)
        return None

    async def before(self, update: object) -> None:
        """Load the user's saved data into context.user_data (unless memory is newer)."""
        user_id = _user_id(update)
        if self.store is None or self.app is None or user_id is None or user_id in self._dirty:
            return
        try:
            saved = await self.store.load(user_id)
        except StateUnavailable as exc:
            self._down(exc)
            return
        data = self.app.user_data[user_id]  # created by python-telegram-bot's defaultdict
        data.clear()
        data.update(saved)

    async def sending(self, endpoint: str, data: dict[str, Any] | None) -> None:
        """A Bot API call is about to answer the current update: note that first, so that a
        crash while it is on its way does not make the next start answer it again."""
        update = CURRENT.get()
        if (self.store is None or endpoint not in REPLIES or not isinstance(update, Update)
                or update.update_id in self._finished or update.update_id in self._sending):
            return
        chat = update.effective_chat
        if endpoint != "answerCallbackQuery" and (
                chat is None or str((data or {}).get("chat_id")) != str(chat.id)):
            return  # e.g. a note to the staff chat: not the answer
        self._sending.add(update.update_id)
        try:
            await self.store.sending(update.update_id)
        except StateUnavailable as exc:
            self._down(exc)

    async def replied(self, endpoint: str, data: dict[str, Any] | None = None) -> None:
        """A Bot API call worked: if it answered the current update, mark that done, with the
        user's state as it is now, so that a crash from here on does not answer it again. The
        mark is written at the event loop's next turn (see _DoneMark)."""
        update = CURRENT.get()
        if not isinstance(update, Update) or update.update_id not in self._sending:
            return
        self._sending.discard(update.update_id)
        self._finished[update.update_id] = _DoneMark(self, update,
                                                     self._encoded([_user_id(update)]))

    async def after(self, update: object, idle: bool) -> None:
        """The update is handled: save what changed, mark it done; `idle`: the user has nothing
        else queued, so their data leaves memory once it is saved."""
        user_id = _user_id(update)
        update_id = update.update_id if isinstance(update, Update) else None
        mark = self._finished.pop(update_id, None) if update_id is not None else None
        self._sending.discard(update_id)
        if isinstance(update, Update):
            now = self._encoded([user_id])
            # No mark yet, or withdrawn before it began: one write, with the state as it is now;
            # a mark written already: once more only when the state changed after the reply.
            if mark is None or mark.withdraw() or await mark.written() != now.get(user_id):
                await self._finish(update, now)
        if (idle and user_id is not None and self.store is not None and self.app is not None
                and user_id not in self._dirty):
            self.app.drop_user_data(user_id)

    async def forget(self, user_id: int) -> None:
        """Delete the user's saved conversation state now."""
        if self.app is not None:
            self.app.user_data[user_id].clear()
        if self.store is not None:
            try:
                await self.store.save(user_id, None)
            except StateUnavailable as exc:
                self._down(exc)
                self._dirty.add(user_id)

    # -- internals --------------------------------------------------------------------------------
    def _encoded(self, user_ids: Iterable[int | None]) -> dict[int, str | None]:
        """Users' data in memory as the state saves it (None: nothing to keep); no user (an
        update without one) is skipped, and data JSON cannot hold is left out with a warning,
        and stays in memory only."""
        found: dict[int, str | None] = {}
        for user_id in user_ids:
            if user_id is None:
                continue
            data = self.app.user_data.get(user_id) if self.app is not None else None
            try:
                found[user_id] = encode_state(data)
            except (TypeError, ValueError) as exc:
                log.warning("conversation state not saved: %s", exc)
        return found

    async def _finish(self, update: Update, encoded: dict[int, str | None] | None = None
                      ) -> str | None:
        """Mark `update` done with its user's current state (`encoded`: that user's, when the
        caller has it already) and the states not saved yet; returns the user's state as saved."""
        user_id = _user_id(update)
        if encoded is None:
            encoded = self._encoded([user_id])
        if self.store is None:
            return encoded.get(user_id)
        ids = [*self._unfinished, update.update_id]
        owners = {*self._dirty, *([user_id] if user_id is not None else [])}
        states = {**self._encoded(self._dirty - {user_id}), **encoded}
        try:
            await self.store.finish(ids, states)
        except StateUnavailable as exc:
            self._down(exc)
            self._unfinished = ids
            self._dirty.update(owners)
            return encoded.get(user_id)
        self._unfinished = []
        self._dirty.clear()
        self._up()
        return encoded.get(user_id)

    async def _catch_up(self) -> None:
        assert self.store is not None
        try:
            await self.store.finish(self._unfinished, self._encoded(self._dirty))
        except StateUnavailable as exc:
            log.error("conversation state still unavailable at shutdown: %s", exc)
            return
        self._unfinished, self._dirty = [], set()

    async def _import_pickle(self, path: Path | None) -> None:
        """The conversation state of an older WeserBot (PicklePersistence): taken over once, then
        the file is renamed; a damaged one is moved aside. One warning line either way."""
        if path is None or not path.is_file() or self.store is None:
            return
        try:
            with path.open("rb") as file:
                users = pickle.load(file).get("user_data") or {}  # the bot's own earlier file
            for user_id, data in users.items():
                await self.store.save(int(user_id), data if isinstance(data, dict) else None)
        except StateUnavailable as exc:
            self._down(exc)
            return
        except Exception as exc:  # damaged, truncated, foreign: the bot starts anyway
            aside = path.with_name(path.name + ".damaged")
            path.replace(aside)
            log.warning("the old conversation state %s cannot be read (%s); moved aside to %s",
                        path, type(exc).__name__, aside)
            return
        done = path.with_name(path.name + ".imported")
        path.replace(done)
        log.warning("conversation state of %d user(s) taken over from %s into %s (the old file "
                    "is now %s)", len(users), path, self.store.path, done)

    def _down(self, exc: StateUnavailable) -> None:
        if self.problem is None:
            log.warning("conversation state unavailable: %s — the bot keeps answering from "
                        "memory and saves when it can", exc)
        self.problem = str(exc)

    def _up(self) -> None:
        if self.problem is not None:
            log.warning("conversation state available again")
        self.problem = None


class _DoneMark:
    """The done mark of an update whose first reply was sent, with its user's state then.

    Written at the event loop's next turn, not waited for: usually the handler ends before that,
    and `after` writes the mark itself with the state as it is then (the handler notes the sent
    message after the reply), one write instead of two. A handler that goes on (a second call
    to Telegram) lets the mark be written meanwhile."""

    def __init__(self, keeper: StateKeeper, update: Update, encoded: dict[int, str | None]
                 ) -> None:
        self._task: asyncio.Future[str | None] | None = None
        self._encoded = encoded
        self._start = asyncio.get_running_loop().call_soon(self._begin, keeper, update)

    def _begin(self, keeper: StateKeeper, update: Update) -> None:
        self._task = asyncio.ensure_future(keeper._finish(update, self._encoded))

    def withdraw(self) -> bool:
        """Not begun yet: it never will be (True). Begun: False, see `written`."""
        if self._task is None:
            self._start.cancel()
            return True
        return False

    async def written(self) -> str | None:
        """The user's state as written with the mark."""
        assert self._task is not None
        return await self._task


class DurableQueue(asyncio.Queue):
    """The update queue: an update is in the inbox before python-telegram-bot confirms it.

    Webhook (`confirmed_by_fetch` False): python-telegram-bot answers Telegram's HTTP request
    when `put` returns, so `put` waits until the update is committed. Polling: an update is
    confirmed by the next getUpdates (its offset), so `put` only hands the update over and the
    next fetch waits for `settled` first. Then all updates of one fetch are committed in one
    transaction (one sync to disk) instead of one after the other.

    Once an update is being committed it is also queued, even when the fetching that brought it
    is cancelled (python-telegram-bot cancels polling at SIGTERM, possibly mid-batch); anything
    else put here (the application's stop signal) waits for those, so that every update in the
    inbox is answered before the bot stops.

    The inbox keeps an update as Telegram sent it when the fetch handed it over (`fetched`):
    encoding python-telegram-bot's object back to JSON cost about a twentieth of the bot's CPU."""

    def __init__(self, *, confirmed_by_fetch: bool = False) -> None:
        super().__init__()
        self.keeper: StateKeeper | None = None
        self.confirmed_by_fetch = confirmed_by_fetch
        self._receiving: set[asyncio.Task] = set()
        self._raw: dict[int, dict[str, Any]] = {}

    def fetched(self, response: Any) -> None:
        """A getUpdates response as parsed: its updates are put next, before the next fetch."""
        result = response.get("result") if isinstance(response, dict) else None
        self._raw = {u["update_id"]: u for u in result
                     if isinstance(u, dict) and isinstance(u.get("update_id"), int)
                     } if isinstance(result, list) else {}

    async def put(self, item: Any) -> None:
        if not isinstance(item, Update):
            await self.settled()
            await super().put(item)
            return
        task = asyncio.ensure_future(self._receive(item, self._raw.pop(item.update_id, None)))
        self._receiving.add(task)
        task.add_done_callback(self._receiving.discard)
        if not self.confirmed_by_fetch:
            await asyncio.shield(task)

    async def settled(self) -> None:
        """Every update put so far is in the inbox (or is handled without it: see `_receive`)."""
        if self._receiving:
            await asyncio.gather(*self._receiving, return_exceptions=True)

    async def _receive(self, update: Update, raw: dict[str, Any] | None) -> None:
        try:
            fresh = self.keeper is None or await self.keeper.received(update, raw)
        except Exception:  # a fault of ours: answer it anyway, as when the database is down
            log.exception("update %s could not be put into the inbox", update.update_id)
            fresh = True
        if fresh:
            await super().put(update)


def _user_id(update: object) -> int | None:
    user = update.effective_user if isinstance(update, Update) else None
    return user.id if user is not None else None
