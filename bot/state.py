"""Conversation state and the inbox of received updates, in SQLite or PostgreSQL.

By default in the hurdle log's database, in tables of their own (`state_*`), on a connection of
their own. Plain data in and out: no Telegram import.

- **Inbox.** `receive` commits an update (its JSON) before the bot confirms it to Telegram;
  `finish` marks it done (and drops its JSON) once its reply is sent, in the same transaction as
  the user's new state. After a crash, `pending` gives what was received and not answered; an
  update that is already in the inbox is never taken twice.
- **State.** One row per user, keyed by a pseudonym (a keyed hash of the user id), holding the
  user's conversation data as JSON. Rows unused for `retention_days` are deleted, like hurdles.
  With SQLite (one writer) the text last written for recent users is kept and not read again.
- **Workers.** With PostgreSQL several workers share the tables: `owner_lock` keeps one user's
  updates to one worker at a time, and `turn` tells it which of them wait, and whether this one
  was handled already.

- **Groups.** Calls that arrive while the database is busy are written together, in one
  transaction (one thread switch and one commit with SQLite): under load the bot's several
  writes per message cost a fraction of a transaction each.

Every wait for a locked database is bounded by `busy_timeout_ms` (100 ms by default): a reply
never waits longer; the caller decides what to do with the failure (StateUnavailable).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot import jsontext
from bot.database import (
    MIGRATION_WAIT_MS,
    Backend,
    DatabaseError,
    DatabaseURL,
    Db,
    Statement,
    lock_key,
    parse_url,
    to_ts,
)
from bot.settings import setting

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = setting("state_busy_timeout")
KEEP_DONE = timedelta(seconds=setting("state_keep_done"))
PURGE_EVERY_S = setting("state_purge_every")
OWNER_LOCKS = setting("owner_locks")
RECENT_USERS = setting("state_recent_users")
OWNER_LOCK_TIMEOUT_S = setting("owner_lock_timeout")


class StateUnavailable(Exception):
    """The state tables cannot be used right now (locked, read-only, full, missing folder)."""


def _now() -> str:
    return to_ts(datetime.now(UTC))


@dataclass(frozen=True)
class _Job:
    """Statements waiting to be written with the next group, and where their results go."""
    statements: list[Statement]
    durable: bool
    write: bool
    result: asyncio.Future[list[Any]]
    saves: dict[str, str | None]
    """The users' states (by key) these statements save: remembered once they are committed."""


def encode_state(data: dict | None) -> str | None:
    """A user's data as the state keeps it: JSON text, or None when there is nothing to keep (the
    row is deleted). TypeError or ValueError when JSON cannot hold it."""
    return jsontext.dumps(data) if data else None


class StateStore:
    """Open with `await StateStore.open(...)`, close with `await store.close()`."""

    def __init__(self, db: Db, secret: str, retention_days: int) -> None:
        self.url = db.url
        self.path = db.url.display
        self.retention_days = retention_days
        self._db: Db | None = db
        self._secret = (secret or secrets.token_hex(32)).encode()
        self._queued: list[_Job] = []
        self._writer: asyncio.Future[None] | None = None
        self._purged_at = time.monotonic()
        self._owner_locks: Any = None  # PostgreSQL: a pool of connections (psycopg_pool)
        self._recent: OrderedDict[str, str | None] = OrderedDict()
        """User key -> the state last written (None: no row), most recent last; see `load`."""

    @classmethod
    async def open(cls, location: Path | str | DatabaseURL, secret: str,
                   retention_days: int = 365, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
                   ) -> StateStore:
        url = parse_url(location)
        if url.path is not None and not url.path.parent.is_dir():
            raise StateUnavailable(f"conversation state {url.display}: the folder "
                                   f"{url.path.parent} does not exist")
        try:
            db = await Db.open(url, busy_timeout_ms=busy_timeout_ms, setup=_setup)
        except (OSError, DatabaseError) as exc:
            raise StateUnavailable(f"conversation state {url.display}: {exc}") from exc
        store = cls(db, secret, retention_days)
        with suppress(StateUnavailable):
            await store.purge()
        return store

    async def close(self) -> None:
        if self._owner_locks is not None:
            pool, self._owner_locks = self._owner_locks, None
            await pool.close()
        if self._writer is not None:  # what was handed over is written first
            with suppress(Exception):
                await asyncio.shield(self._writer)
        self._recent.clear()  # a closed store answers nothing, from memory neither
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    @property
    def shared(self) -> bool:
        """True when other processes (workers) may use the same tables at the same time."""
        return self.url.backend is Backend.POSTGRESQL

    def user_key(self, user_id: int) -> str:
        """The pseudonym of a user's row: no Telegram id in the file."""
        return hmac.new(self._secret, f"state:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]

    async def _batch(self, statements: list[Statement], durable: bool = False, *,
                     write: bool = True, saves: dict[str, str | None] | None = None
                     ) -> list[Any]:
        """Statements in one transaction; per statement its rows (SELECT) or its row count.

        Under load the work of several updates goes to the database together: what arrives
        while a group is being written joins the next group, one transaction for all of it (with
        SQLite one thread switch and one commit; `durable`: the group waits for the disk)."""
        job = _Job(statements, durable, write, asyncio.get_running_loop().create_future(),
                   saves or {})
        self._queued.append(job)
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write_groups())
        return await job.result

    async def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        [rows] = await self._batch([(sql, params)], write=False)
        return rows

    async def _write_groups(self) -> None:
        try:
            while self._queued:
                group, self._queued = self._queued, []
                await self._write(group)  # the only writer: one transaction at a time
        finally:  # cancelled (the loop ends): nothing waits for ever
            self._writer = None
            left, self._queued = self._queued, []
            for job in left:
                job.result.cancel()

    async def _write(self, group: list[_Job]) -> None:
        """One group in one transaction; every job gets its own results, or the failure."""
        statements = [statement for job in group for statement in job.statements]
        try:
            if self._db is None:
                raise DatabaseError("closed")
            results = await self._db.batch(statements, durable=any(j.durable for j in group),
                                           write=any(j.write for j in group))
        except BaseException as exc:
            waiting = [job.result for job in group if not job.result.done()]  # or gave up
            for result in waiting:
                if isinstance(exc, DatabaseError):
                    result.set_exception(StateUnavailable(f"conversation state {self.path}: {exc}"))
                elif isinstance(exc, asyncio.CancelledError):
                    result.cancel()
                else:  # a fault of ours: its callers see it
                    result.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        at = 0
        for job in group:  # in the order committed: the last state written is remembered
            self._remember(job.saves)
            if not job.result.done():
                job.result.set_result(results[at:at + len(job.statements)])
            at += len(job.statements)

    # -- inbox ------------------------------------------------------------------------------------
    async def receive(self, update_id: int, payload: dict[str, Any], owner: str | None = None
                      ) -> bool:
        """Commit a received update (synced to disk). False: it was received before (done, or
        waiting to be answered again after a crash, or on another worker): do not handle it now.
        `owner`: the user (or chat) it belongs to, as from `owner_key`."""
        [inserted] = await self._batch([(
            "INSERT INTO state_inbox (update_id, received, payload, owner) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (update_id) DO NOTHING",
            (update_id, _now(), jsontext.dumps(payload), owner))], durable=True)
        return inserted == 1

    def owner_key(self, kind: str, ident: int) -> str:
        """The pseudonym of an update's owner (a user, or a chat without a user)."""
        return hmac.new(self._secret, f"owner:{kind}:{ident}".encode(),
                        hashlib.sha256).hexdigest()[:32]

    async def sending(self, update_id: int) -> None:
        """The reply to this update is about to be sent: after a crash it is not sent again
        (Telegram may have it already; a second answer is worse than a missing one)."""
        await self._batch([("UPDATE state_inbox SET sending = ? WHERE update_id = ?",
                             (_now(), update_id))])

    async def turn(self, owner: str, update_id: int) -> tuple[list[dict[str, Any]], bool]:
        """Under the owner's lock, before handling `update_id`: the same owner's updates received
        before it (on any worker) and not handled yet, oldest first (they come first), and
        whether this update itself is taken already (done, or its reply on its way)."""
        rows = await self._read(
            "SELECT update_id, payload, done, sending FROM state_inbox WHERE owner = ? AND "
            "update_id <= ? AND (update_id = ? OR (done IS NULL AND sending IS NULL)) "
            "ORDER BY update_id", (owner, update_id, update_id))
        earlier, taken = [], False
        for found_id, payload, done, sending in rows:
            if found_id == update_id:
                taken = done is not None or sending is not None
                continue
            with suppress(TypeError, ValueError):
                earlier.append(jsontext.loads(payload))
        return earlier, taken

    @asynccontextmanager
    async def owner_lock(self, owner: str | None) -> AsyncIterator[None]:
        """Held while one owner's update is handled. With PostgreSQL, across workers (an advisory
        lock on a connection of its own, released by the server if this process dies); with
        SQLite there is one worker, and the caller's per-user lock is enough."""
        if not self.shared or owner is None:
            yield
            return
        pool = await self._pool()
        try:
            async with pool.connection(timeout=OWNER_LOCK_TIMEOUT_S) as conn:
                await conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(f"owner:{owner}"),))
                try:
                    yield
                finally:
                    await conn.execute("SELECT pg_advisory_unlock(%s)",
                                       (lock_key(f"owner:{owner}"),))
        except _pool_errors() as exc:
            raise StateUnavailable(f"conversation state {self.path}: {exc}") from exc

    async def _pool(self) -> Any:
        if self._owner_locks is None:
            from psycopg_pool import AsyncConnectionPool

            pool = AsyncConnectionPool(self.url.dsn, min_size=1, max_size=OWNER_LOCKS, open=False,
                                       kwargs={"autocommit": True},
                                       check=AsyncConnectionPool.check_connection)
            await pool.open()
            self._owner_locks = pool
        return self._owner_locks

    async def left_behind(self, older_than_s: float, limit: int = 100) -> list[dict[str, Any]]:
        """Updates received more than `older_than_s` seconds ago and not begun (no reply on its
        way, not done), oldest first: with several workers, what a worker that died left."""
        cutoff = to_ts(datetime.now(UTC) - timedelta(seconds=older_than_s))
        rows = await self._read(
            "SELECT payload FROM state_inbox WHERE done IS NULL AND sending IS NULL AND "
            "received < ? ORDER BY update_id LIMIT ?", (cutoff, limit))
        found = []
        for (payload,) in rows:
            with suppress(TypeError, ValueError):
                found.append(jsontext.loads(payload))
        return found

    async def pending(self) -> tuple[list[dict[str, Any]], int]:
        """Updates received and not answered (a crash came in between), oldest first, and how
        many were cut off while their reply was being sent (those are marked done now). With
        PostgreSQL, only what no worker holds is cut off (a live worker finishes its own)."""
        rows = await self._read("SELECT update_id, payload, sending FROM state_inbox "
                                "WHERE done IS NULL ORDER BY update_id")
        found, cut_off = [], []
        for update_id, payload, sending in rows:
            if sending is not None:
                cut_off.append(update_id)
                continue
            try:
                found.append(jsontext.loads(payload))
            except (TypeError, ValueError):
                log.warning("received update %s cannot be read back; it is skipped", update_id)
                cut_off.append(update_id)
        if cut_off:
            await self.finish(cut_off)
        return found, len(cut_off)

    async def finish(self, update_ids: list[int], states: dict[int, str | None] | None = None
                     ) -> None:
        """In one transaction: mark updates done (their JSON is dropped) and save users' states
        (`{user_id: encode_state(data)}`; None deletes the row)."""
        now = _now()
        statements: list[Statement] = [
            ("UPDATE state_inbox SET done = ?, payload = NULL WHERE update_id = ?", (now, u))
            for u in update_ids]
        saves = {self.user_key(user_id): text for user_id, text in (states or {}).items()}
        statements += [self._save_statement(key, text, now) for key, text in saves.items()]
        if statements:
            await self._batch(statements, saves=saves)
        if time.monotonic() - self._purged_at > PURGE_EVERY_S:
            with suppress(StateUnavailable):
                await self.purge()

    # -- state ------------------------------------------------------------------------------------
    async def load(self, user_id: int) -> dict[str, Any]:
        """A user's saved data ({} when there is none, or when it cannot be read: then dropped
        with one warning). With SQLite this process is the only writer, so the state it wrote
        last for a recent user is what the database holds: that is not read again."""
        key = self.user_key(user_id)
        if key in self._recent:
            self._recent.move_to_end(key)
            text = self._recent[key]
        else:
            rows = await self._read("SELECT data FROM state_users WHERE user_key = ?", (key,))
            text = rows[0][0] if rows else None
        if text is None:
            return {}
        try:
            data = jsontext.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a mapping")
        except (TypeError, ValueError) as exc:
            log.warning("the conversation state of one user cannot be read (%s); it is dropped",
                        exc)
            await self.save(user_id, None)
            return {}
        return data

    async def save(self, user_id: int, data: dict | None) -> None:
        """Save (empty data: delete) a user's state; data JSON cannot hold is not saved (logged)."""
        try:
            text = encode_state(data)
        except (TypeError, ValueError) as exc:
            log.warning("conversation state not saved: %s", exc)
            return
        key = self.user_key(user_id)
        await self._batch([self._save_statement(key, text, _now())], saves={key: text})

    def _remember(self, saves: dict[str, str | None]) -> None:
        if self.shared or RECENT_USERS <= 0:
            return
        for key, text in saves.items():
            self._recent[key] = text
            self._recent.move_to_end(key)
        while len(self._recent) > RECENT_USERS:
            self._recent.popitem(last=False)

    def _save_statement(self, key: str, text: str | None, now: str) -> Statement:
        """The statement that saves a user's state (JSON text) under their key, or deletes it
        (None)."""
        if text is None:
            return "DELETE FROM state_users WHERE user_key = ?", (key,)
        return ("INSERT INTO state_users (user_key, data, updated) VALUES (?, ?, ?) "
                "ON CONFLICT (user_key) DO UPDATE SET data = excluded.data, "
                "updated = excluded.updated", (key, text, now))

    async def users(self) -> int:
        """How many users have a saved state."""
        rows = await self._read("SELECT COUNT(*) FROM state_users")
        return int(rows[0][0])

    async def purge(self, now: datetime | None = None) -> int:
        """Delete states unused for retention_days, and done updates older than KEEP_DONE."""
        now = now or datetime.now(UTC)
        cutoff = to_ts(now - timedelta(days=self.retention_days))
        done_cutoff = to_ts(now - KEEP_DONE)
        count, _ = await self._batch([
            ("DELETE FROM state_users WHERE updated < ?", (cutoff,)),
            ("DELETE FROM state_inbox WHERE done < ?", (done_cutoff,))])
        self._purged_at = time.monotonic()
        if count:
            self._recent.clear()  # which rows went is not known here: read them again
        return count


async def _setup(db: Db) -> None:
    if db.backend is Backend.SQLITE:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA secure_delete = ON")
    await _migrate(db)


# Migrations are history: never edit one that has shipped, add the next version instead.
async def _v1(db: Db) -> None:
    await db.execute("""CREATE TABLE state_inbox (
        update_id INTEGER PRIMARY KEY, received TEXT NOT NULL, payload TEXT, sending TEXT,
        done TEXT)""")
    await db.execute("CREATE INDEX state_inbox_done ON state_inbox (done)")
    await db.execute("""CREATE TABLE state_users (
        user_key TEXT PRIMARY KEY, data TEXT NOT NULL, updated TEXT NOT NULL)""")
    await db.execute("CREATE INDEX state_users_updated ON state_users (updated)")


async def _v2(db: Db) -> None:
    """Whose update it is: with several workers, one user's updates are handled in order."""
    await db.execute("ALTER TABLE state_inbox ADD COLUMN owner TEXT")
    await db.execute("CREATE INDEX state_inbox_owner ON state_inbox (owner, update_id)")


MIGRATIONS = {1: _v1, 2: _v2}


async def _migrate(db: Db) -> None:
    """Bring the tables to SCHEMA_VERSION in one transaction; two workers starting at once take
    turns (the write lock)."""
    async with db.transaction(write=True, lock="weserbot:state:migrate",
                              lock_wait_ms=MIGRATION_WAIT_MS):
        await db.execute("CREATE TABLE IF NOT EXISTS state_version (version INTEGER NOT NULL)")
        row = await db.fetchone("SELECT version FROM state_version")
        version = row[0] if row else 0
        if version > SCHEMA_VERSION:
            raise DatabaseError(f"the conversation state has version {version}, newer than this "
                                f"WeserBot ({SCHEMA_VERSION}); update WeserBot")
        for step in range(version + 1, SCHEMA_VERSION + 1):
            await MIGRATIONS[step](db)
        if version != SCHEMA_VERSION:
            await db.execute("DELETE FROM state_version")
            await db.execute("INSERT INTO state_version VALUES (?)", (SCHEMA_VERSION,))


def _pool_errors() -> tuple[type[BaseException], ...]:
    import psycopg
    from psycopg_pool import PoolTimeout

    return (psycopg.Error, PoolTimeout)
