"""Conversation state and the inbox of received updates, in SQLite.

By default in the hurdle log's file, in tables of their own (`state_*`), on a connection of
their own. Plain data in and out: no Telegram import.

- **Inbox.** `receive` commits an update (its JSON) before the bot confirms it to Telegram;
  `finish` marks it done (and drops its JSON) once its reply is sent, in the same transaction as
  the user's new state. After a crash, `pending` gives what was received and not answered; an
  update that is already in the inbox is never taken twice.
- **State.** One row per user, keyed by a pseudonym (a keyed hash of the user id), holding the
  user's conversation data as JSON. Rows unused for `retention_days` are deleted, like hurdles.

Every wait for a locked database is bounded by `busy_timeout_ms` (100 ms by default): a reply
never waits longer; the caller decides what to do with the failure (StateUnavailable).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.keys import create_private

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 100
"""The longest a reply may wait for a database that another process has locked."""
KEEP_DONE = timedelta(days=2)
"""Done updates are remembered this long (only their id): Telegram keeps an unconfirmed update
for 24 hours, so one fetched again after a crash is recognised and not answered twice."""
PURGE_EVERY_S = 24 * 3600
_TS = "%Y-%m-%dT%H:%M:%S.%fZ"


class StateUnavailable(Exception):
    """The state tables cannot be used right now (locked, read-only, full, missing folder)."""


def _now() -> str:
    return datetime.now(UTC).strftime(_TS)


class StateStore:
    """Open with `await StateStore.open(...)`, close with `await store.close()`."""

    def __init__(self, db: aiosqlite.Connection, path: Path, secret: str,
                 retention_days: int) -> None:
        self.path = path
        self.retention_days = retention_days
        self._db: aiosqlite.Connection | None = db
        self._secret = (secret or secrets.token_hex(32)).encode()
        self._lock = asyncio.Lock()
        self._purged_at = time.monotonic()

    @classmethod
    async def open(cls, path: Path, secret: str, retention_days: int = 365, *,
                   busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> StateStore:
        path = Path(path)
        if not path.parent.is_dir():
            raise StateUnavailable(f"conversation state {path}: the folder {path.parent} does "
                                   "not exist")
        db = None
        try:
            create_private(path)
            db = await aiosqlite.connect(path, isolation_level=None)
            await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA secure_delete = ON")
            await _migrate(db)
        except (OSError, sqlite3.Error) as exc:
            if db is not None:
                await db.close()
            raise StateUnavailable(f"conversation state {path}: {exc}") from exc
        store = cls(db, path, secret, retention_days)
        with suppress(StateUnavailable):
            await store.purge()
        return store

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            async with self._lock:
                await db.close()

    def user_key(self, user_id: int) -> str:
        """The pseudonym of a user's row: no Telegram id in the file."""
        return hmac.new(self._secret, f"state:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]

    @asynccontextmanager
    async def _transaction(self, durable: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One serialised write transaction; `durable`: synced to disk at commit (survives a power
        cut), else only written (survives a killed process). SQLite errors: StateUnavailable."""
        async with self._lock:
            db = self._db
            if db is None:
                raise StateUnavailable(f"conversation state {self.path}: closed")
            try:
                await db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    with suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
            except sqlite3.Error as exc:
                with suppress(sqlite3.Error):
                    await db.execute("ROLLBACK")
                raise StateUnavailable(f"conversation state {self.path}: {exc}") from exc

    # -- inbox ------------------------------------------------------------------------------------
    async def receive(self, update_id: int, payload: dict[str, Any]) -> bool:
        """Commit a received update (synced to disk). False: it was received before (done, or
        waiting to be answered again after a crash): do not handle it now."""
        async with self._transaction(durable=True) as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO state_inbox (update_id, received, payload) VALUES (?, ?, ?)",
                (update_id, _now(), json.dumps(payload)))  # ASCII: lone surrogates too
            return cursor.rowcount == 1

    async def sending(self, update_id: int) -> None:
        """The reply to this update is about to be sent: after a crash it is not sent again
        (Telegram may have it already; a second answer is worse than a missing one)."""
        async with self._transaction() as db:
            await db.execute("UPDATE state_inbox SET sending = ? WHERE update_id = ?",
                             (_now(), update_id))

    async def pending(self) -> tuple[list[dict[str, Any]], int]:
        """Updates received and not answered (a crash came in between), oldest first, and how
        many were cut off while their reply was being sent (those are marked done now)."""
        async with self._lock:
            if self._db is None:
                return [], 0
            try:
                rows = await self._db.execute_fetchall(
                    "SELECT update_id, payload, sending FROM state_inbox WHERE done IS NULL "
                    "ORDER BY update_id")
            except sqlite3.Error as exc:
                raise StateUnavailable(f"conversation state {self.path}: {exc}") from exc
        found, cut_off = [], []
        for update_id, payload, sending in rows:
            if sending is not None:
                cut_off.append(update_id)
                continue
            try:
                found.append(json.loads(payload))
            except (TypeError, ValueError):
                log.warning("received update %s cannot be read back; it is skipped", update_id)
                cut_off.append(update_id)
        if cut_off:
            await self.finish(cut_off)
        return found, len(cut_off)

    async def finish(self, update_ids: list[int], states: dict[int, dict | None] | None = None
                     ) -> None:
        """In one transaction: mark updates done (their JSON is dropped) and save users' states
        (`{user_id: data}`; empty or None deletes the row)."""
        async with self._transaction() as db:
            now = _now()
            for update_id in update_ids:
                await db.execute("UPDATE state_inbox SET done = ?, payload = NULL "
                                 "WHERE update_id = ?", (now, update_id))
            for user_id, data in (states or {}).items():
                await self._save(db, user_id, data, now)
        if time.monotonic() - self._purged_at > PURGE_EVERY_S:
            with suppress(StateUnavailable):
                await self.purge()

    # -- state ------------------------------------------------------------------------------------
    async def load(self, user_id: int) -> dict[str, Any]:
        """A user's saved data ({} when there is none, or when it cannot be read: then dropped
        with one warning)."""
        key = self.user_key(user_id)
        async with self._lock:
            if self._db is None:
                raise StateUnavailable(f"conversation state {self.path}: closed")
            try:
                rows = await self._db.execute_fetchall(
                    "SELECT data FROM state_users WHERE user_key = ?", (key,))
            except sqlite3.Error as exc:
                raise StateUnavailable(f"conversation state {self.path}: {exc}") from exc
        if not rows:
            return {}
        try:
            data = json.loads(next(iter(rows))[0])
            if not isinstance(data, dict):
                raise ValueError("not a mapping")
        except (TypeError, ValueError) as exc:
            log.warning("the conversation state of one user cannot be read (%s); it is dropped",
                        exc)
            await self.save(user_id, None)
            return {}
        return data

    async def save(self, user_id: int, data: dict | None) -> None:
        async with self._transaction() as db:
            await self._save(db, user_id, data, _now())

    async def _save(self, db: aiosqlite.Connection, user_id: int, data: dict | None,
                    now: str) -> None:
        key = self.user_key(user_id)
        if not data:
            await db.execute("DELETE FROM state_users WHERE user_key = ?", (key,))
            return
        try:
            text = json.dumps(data)
        except (TypeError, ValueError) as exc:
            log.warning("conversation state not saved: %s", exc)
            return
        await db.execute("INSERT INTO state_users (user_key, data, updated) VALUES (?, ?, ?) "
                         "ON CONFLICT (user_key) DO UPDATE SET data = excluded.data, "
                         "updated = excluded.updated", (key, text, now))

    async def users(self) -> int:
        """How many users have a saved state."""
        async with self._lock:
            assert self._db is not None
            rows = await self._db.execute_fetchall("SELECT COUNT(*) FROM state_users")
        return int(next(iter(rows))[0])

    async def purge(self, now: datetime | None = None) -> int:
        """Delete states unused for retention_days, and done updates older than KEEP_DONE."""
        now = now or datetime.now(UTC)
        cutoff = (now - timedelta(days=self.retention_days)).strftime(_TS)
        done_cutoff = (now - KEEP_DONE).strftime(_TS)
        async with self._transaction() as db:
            cursor = await db.execute("DELETE FROM state_users WHERE updated < ?", (cutoff,))
            count = cursor.rowcount
            await db.execute("DELETE FROM state_inbox WHERE done < ?", (done_cutoff,))
        self._purged_at = time.monotonic()
        return count


async def _migrate(db: aiosqlite.Connection) -> None:
    await db.execute("BEGIN IMMEDIATE")
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS state_version (version INTEGER NOT NULL)")
        rows = await db.execute_fetchall("SELECT version FROM state_version")
        version = next(iter(rows))[0] if rows else 0
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"the conversation state has version {version}, newer "
                                        f"than this WeserBot ({SCHEMA_VERSION}); update WeserBot")
        if version < 1:
            await db.execute("""CREATE TABLE state_inbox (
                update_id INTEGER PRIMARY KEY, received TEXT NOT NULL, payload TEXT, sending TEXT,
                done TEXT)""")
            await db.execute("CREATE INDEX state_inbox_done ON state_inbox (done)")
            await db.execute("""CREATE TABLE state_users (
                user_key TEXT PRIMARY KEY, data TEXT NOT NULL, updated TEXT NOT NULL)""")
            await db.execute("CREATE INDEX state_users_updated ON state_users (updated)")
            await db.execute("DELETE FROM state_version")
            await db.execute("INSERT INTO state_version VALUES (?)", (SCHEMA_VERSION,))
    except BaseException:
        with suppress(sqlite3.Error):
            await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
