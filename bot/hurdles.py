"""The hurdle log: questions the bot could not answer, grouped into hurdles for the region's staff.

One SQLite file (WAL mode) behind one aiosqlite connection. Each entry keeps what the engine
understood and why it failed, with a pseudonymous asker key instead of any Telegram identity.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.database import (
    MIGRATION_WAIT_MS,
    Backend,
    DatabaseError,
    DatabaseURL,
    Db,
    from_ts,
    json_items,
    parse_url,
    to_ts,
)
from bot.grouping import (
    CAUSES,
    Cause,
    best_match,
    cause_of,
    district_path,
    folded,
    group_key,
    land_pair,
)
from bot.hurdle_status import OPEN, Status
from bot.settings import setting

if TYPE_CHECKING:
    from bot.answer import Answer

log = logging.getLogger(__name__)

STATUSES = tuple(Status)
SCHEMA_VERSION = 4
MAX_QUESTION = setting("hurdle_max_question")
MAX_EXAMPLES = setting("hurdle_max_examples")
BUSY_TIMEOUT_MS = setting("hurdle_busy_timeout")
WRITE_LOCK = "weserbot:hurdles"
"""Writers of the log take turns under this lock (grouping reads, then writes, a hurdle)."""
NO_LIMIT = 2**62
"""A LIMIT both databases read as none."""
PURGE_EVERY_S = setting("hurdle_purge_every")


class StoreUnavailable(Exception):
    """The hurdle log cannot be used (missing folder, broken or foreign file, disk error)."""

    def __init__(self, message: str, *, transient: bool = False, gone: bool = False) -> None:
        super().__init__(message)
        self._transient = transient or gone
        self.gone = gone
        """The file was deleted or replaced under the open connection: open it anew."""

    @property
    def transient(self) -> bool:
        """True when the cause may pass by itself and is worth retrying: a locked, read-only or
        full database, an I/O error, a missing folder. False for a foreign or newer file, a
        damaged one, or a wrong setting."""
        cause = self.__cause__
        return self._transient or isinstance(cause, OSError) or (
            isinstance(cause, DatabaseError) and cause.transient)


@dataclass
class Hurdle:
    """Similar logged questions of one topic and reason, with what the staff decided about them."""

    id: int
    title: str
    topic: str | None
    reason: str
    status: str
    note: str | None
    count: int
    askers: int
    first_seen: datetime
    last_seen: datetime
    examples: list[str] = field(default_factory=list)
    district_pairs: list[str] = field(default_factory=list)
    lands: list[str] = field(default_factory=list)
    status_changed: datetime | None = None
    cause: str = ""
    """Why it is a hurdle (bot.grouping.Cause); cross_border once any of its questions is."""
    answer: str | None = None
    """The staff's proposed answer (/reply), kept for the knowledge base."""
    answered_at: datetime | None = None
    waiting: int = 0
    """Askers who asked for a person and have not had the staff's answer yet."""
    handed_off: int = 0
    """Askers who asked for a person (consented to the hand-off)."""
    taught: list[dict[str, Any]] = field(default_factory=list)
    """Each teach: {at, by (staff pseudonym), topic}."""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("first_seen", "last_seen", "status_changed", "answered_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class Occurrence:
    """One logged question reduced to what charts need (no text, no asker)."""

    ts: datetime
    topic: str | None
    reason: str
    path: str
    lands: tuple[str, ...] = ()
    """The Länder of the question's places: more than one is a cross-border case."""
    cause: str = ""


@dataclass(frozen=True)
class Handoff:
    """An asker who asked for a person's answer to a hurdle: where to deliver it."""

    id: int
    hurdle_id: int
    chat_id: int
    lang: str
    question: str


# -- schema ---------------------------------------------------------------------------------------
# Migrations are history: never edit one that has shipped, add the next version instead.
Migration = Callable[[Db], Awaitable[None]]


async def _v1(db: Db) -> None:
    """The first log: flat entries, no grouping."""
    await db.execute("""CREATE TABLE entries (
        id INTEGER PRIMARY KEY, ts TEXT NOT NULL, lang TEXT NOT NULL, question TEXT NOT NULL,
        topic TEXT, reason TEXT NOT NULL, asker TEXT)""")
    await db.execute("CREATE INDEX entries_ts ON entries (ts)")


async def _v2(db: Db) -> None:
    """Hurdles with a staff status; entries keep places, districts and Länder."""
    await db.execute("""CREATE TABLE hurdles (
        id INTEGER PRIMARY KEY, group_key TEXT NOT NULL, topic TEXT, reason TEXT NOT NULL,
        title TEXT NOT NULL, folded TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN
            ('new', 'in_review', 'answered_by_update', 'forwarded', 'not_a_hurdle')),
        note TEXT, status_changed TEXT)""")
    await db.execute("CREATE INDEX hurdles_group ON hurdles (group_key)")
    for column in ("hurdle_id INTEGER REFERENCES hurdles (id)", "municipality TEXT",
                   "district TEXT", "needs TEXT", "office TEXT", "feedback_for TEXT",
                   "places TEXT NOT NULL DEFAULT '[]'", "districts TEXT NOT NULL DEFAULT '[]'",
                   "lands TEXT NOT NULL DEFAULT '[]'", "path TEXT NOT NULL DEFAULT ''"):
        await db.execute(f"ALTER TABLE entries ADD COLUMN {column}")
    await db.execute("CREATE INDEX entries_hurdle ON entries (hurdle_id, ts)")
    await db.execute("CREATE INDEX entries_asker ON entries (asker)")
    rows = await db.fetchall("SELECT id, topic, reason, question FROM entries ORDER BY id")
    for entry_id, topic, reason, question in rows:
        hurdle_id = await _hurdle_for(db, topic, reason, question)
        await db.execute("UPDATE entries SET hurdle_id = ? WHERE id = ?", (hurdle_id, entry_id))


async def _v3(db: Db) -> None:
    """Causes; grouping by content words; hand-offs to a person; the staff's answers and teaches."""
    await db.execute("ALTER TABLE entries ADD COLUMN cause TEXT NOT NULL DEFAULT ''")
    for column in ("cause TEXT NOT NULL DEFAULT ''", "answer TEXT", "answered_at TEXT",
                   "answered_by TEXT"):
        await db.execute(f"ALTER TABLE hurdles ADD COLUMN {column}")
    await db.execute("""CREATE TABLE handoffs (
        id INTEGER PRIMARY KEY, hurdle_id INTEGER NOT NULL REFERENCES hurdles (id)
            ON DELETE CASCADE,
        ts TEXT NOT NULL, asker TEXT NOT NULL, chat_id INTEGER NOT NULL, lang TEXT NOT NULL,
        question TEXT NOT NULL, delivered TEXT, staff_chat INTEGER, staff_message INTEGER,
        UNIQUE (hurdle_id, asker))""")
    await db.execute("CREATE INDEX handoffs_asker ON handoffs (asker)")
    await db.execute("""CREATE TABLE teaches (
        id INTEGER PRIMARY KEY, hurdle_id INTEGER NOT NULL REFERENCES hurdles (id)
            ON DELETE CASCADE,
        ts TEXT NOT NULL, staff TEXT NOT NULL, topic TEXT NOT NULL)""")
    rows = await db.fetchall("SELECT id, reason, districts, lands, places, question, "
                                     "hurdle_id FROM entries ORDER BY id")
    for entry_id, reason, districts, lands, places, question, hurdle_id in rows:
        cause = cause_of(reason, json.loads(districts or "[]"), json.loads(lands or "[]"))
        await db.execute("UPDATE entries SET cause = ? WHERE id = ?", (cause, entry_id))
        texts = [p.get("text") for p in json.loads(places or "[]")]
        await db.execute("UPDATE hurdles SET folded = ? WHERE id = ? AND title = ?",
                         (folded(question, texts), hurdle_id, question))
    await db.execute("UPDATE hurdles SET cause = (SELECT e.cause FROM entries e WHERE "
                     "e.hurdle_id = hurdles.id ORDER BY e.cause != 'cross_border', e.id LIMIT 1)")


async def _v4(db: Db) -> None:
    """The staff-chat announcements of new hurdles, so that /forget can take them back."""
    await db.execute("""CREATE TABLE announcements (
        id INTEGER PRIMARY KEY, hurdle_id INTEGER NOT NULL REFERENCES hurdles (id)
            ON DELETE CASCADE,
        ts TEXT NOT NULL, asker TEXT NOT NULL, staff_chat INTEGER NOT NULL,
        staff_message INTEGER NOT NULL)""")
    await db.execute("CREATE INDEX announcements_asker ON announcements (asker)")


MIGRATIONS: dict[int, Migration] = {1: _v1, 2: _v2, 3: _v3, 4: _v4}


async def _hurdle_for(db: Db, topic: str | None, reason: str,
                      question: str, places: Sequence[str] = ()) -> int:
    """The hurdle a question joins: the most similar of its topic and reason (by content words,
    without its places), else a new one."""
    key = group_key(topic, reason)
    text = folded(question, places)
    rows = await db.fetchall("SELECT id, folded FROM hurdles WHERE group_key = ?", (key,))
    found = best_match(text, {row[0]: row[1] for row in rows})
    if found is not None:
        return found
    return await db.insert(
        "INSERT INTO hurdles (group_key, topic, reason, title, folded) VALUES (?, ?, ?, ?, ?)",
        (key, topic, reason, question, text))


def _clip(text: Any, limit: int) -> str:
    return str(text or "")[:limit]


def _places(answer: Answer) -> list[dict[str, Any]]:
    """Only what explains a failure: the mention, its role and what it was taken for."""
    return [{"text": _clip(p.get("text"), 100), "role": p.get("role"),
             "direction": p.get("direction"), "refs": list(p.get("refs") or [])[:10]}
            for p in answer.places[:10]]


class HurdleStore:
    """The hurdle log. Open with `await HurdleStore.open(...)`, close with `await store.close()`."""

    def __init__(self, db: Db, secret: str, retention_days: int) -> None:
        self.url = db.url
        self.path: Path | str = db.url.path or db.url.display
        """The SQLite file, or the PostgreSQL database (without password): for messages."""
        self.retention_days = retention_days
        self._db: Db | None = db
        # Without a configured secret, a random one that is never stored keeps askers unlinkable;
        # repeats are then only counted (and forget() only finds entries) until the process ends.
        self._secret = (secret or secrets.token_hex(32)).encode()
        self._warn_secret = not secret
        # One connection: concurrent coroutines would otherwise interleave inside a transaction.
        self._lock = asyncio.Lock()
        self._purged_at = time.monotonic()
        self._identity = _identity(db.url.path) if db.url.path else None

    def check_file(self) -> None:
        """StoreUnavailable(gone=True) when the file at `path` is not the one this connection
        writes to (deleted, replaced, its folder removed): SQLite would go on writing into the
        deleted file, and every later hurdle would be lost. PostgreSQL: nothing to check."""
        if self.url.path is None:
            return
        now = _identity(self.url.path)
        if now != self._identity:
            what = "is missing" if now is None else "was replaced"
            raise StoreUnavailable(f"hurdle log {self.path}: the file {what}", gone=True)

    @classmethod
    async def open(cls, location: Path | str | DatabaseURL, secret: str,
                   retention_days: int = 365, *, purge_on_open: bool = True,
                   busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> HurdleStore:
        """Open (creating or migrating) the log at `location` (a SQLite file or a database URL)
        and purge expired entries. `busy_timeout_ms`: how long a write waits for another
        process's lock before failing."""
        url = parse_url(location)
        if retention_days < 1:
            raise StoreUnavailable(f"hurdle log: retention_days must be at least 1, "
                                   f"not {retention_days}")
        if url.path is not None and not url.path.parent.is_dir():
            raise StoreUnavailable(f"hurdle log {url.path}: the folder {url.path.parent} does not "
                                   "exist (create it, or set hurdles.path in the config)",
                                   transient=True)
        try:
            db = await Db.open(url, busy_timeout_ms=busy_timeout_ms, setup=_setup)
        except (DatabaseError, StoreUnavailable, OSError) as exc:
            cause = None if isinstance(exc, StoreUnavailable) else exc
            raise StoreUnavailable(f"hurdle log {url.display}: {exc}") from cause
        store = cls(db, secret, retention_days)
        if purge_on_open:
            try:
                await store.purge()
            except BaseException:
                await store.close()  # an unclosed connection keeps its thread (and the process)
                raise
        return store

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            async with self._lock:
                await db.close()

    async def __aenter__(self) -> HurdleStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def asker_key(self, user_id: int | str) -> str:
        """A pseudonym for a user: equal for the same user, useless without the secret."""
        if self._warn_secret:
            log.warning("hurdles.secret is not set: asker keys change at every start")
            self._warn_secret = False
        return hmac.new(self._secret, str(user_id).encode(), hashlib.sha256).hexdigest()[:16]

    @asynccontextmanager
    async def _transaction(self, write: bool = False) -> AsyncIterator[Db]:
        """Serialised access in one transaction; `write`: writers take turns, across processes
        too. Database errors become StoreUnavailable."""
        async with self._lock:
            db = self._db
            if db is None:
                raise StoreUnavailable(f"hurdle log {self.path}: the store is closed")
            try:
                async with db.transaction(write=write, lock=WRITE_LOCK):
                    yield db
            except DatabaseError as exc:
                raise StoreUnavailable(f"hurdle log {self.path}: {exc}") from exc

    # -- writing ----------------------------------------------------------------------------------
    async def log_answer(self, answer: Answer, *, reason: str | None = None,
                         asker: int | str | None = None, feedback_for: str | None = None,
                         at: datetime | None = None, group_as: str | None = None) -> int:
        """Log one unanswered (or 👎) message and group it; returns the entry id once committed.
        `group_as`: the reason whose hurdles it joins (a 👎 on a reply that was itself logged
        joins that hurdle), by default its own."""
        reason = _clip(reason or answer.reason, 40)
        cause = cause_of(reason, answer.districts, answer.lands)
        mentions = [str(p.get("text") or "") for p in answer.places]
        question = _clip(answer.question, MAX_QUESTION)
        office = getattr(answer.office, "name", None)
        row = (to_ts(at or datetime.now(UTC)), _clip(answer.lang, 8), question, answer.topic,
               reason, self.asker_key(asker) if asker is not None else None,
               answer.municipality, answer.district, answer.needs, office,
               _clip(feedback_for, 200) if feedback_for is not None else None,
               json.dumps(_places(answer), ensure_ascii=False),
               json.dumps(sorted(answer.districts)), json.dumps(sorted(answer.lands)),
               district_path(answer.places, answer.districts))
        self.check_file()
        async with self._transaction(write=True) as db:
            hurdle_id = await _hurdle_for(db, answer.topic, _clip(group_as or reason, 40),
                                          question, mentions)
            entry_id = await db.insert(
                "INSERT INTO entries (ts, lang, question, topic, reason, asker, municipality, "
                "district, needs, office, feedback_for, places, districts, lands, path, hurdle_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, hurdle_id))
            await db.execute("UPDATE entries SET cause = ? WHERE id = ?", (cause, entry_id))
            await db.execute("UPDATE hurdles SET cause = ? WHERE id = ? AND (cause = '' OR ? = ?)",
                             (cause, hurdle_id, cause, Cause.CROSS_BORDER))
        assert entry_id is not None
        if time.monotonic() - self._purged_at > PURGE_EVERY_S:
            try:
                await self.purge()
            except StoreUnavailable as exc:  # the entry is committed: do not report it as failed
                self._purged_at = time.monotonic()  # next try in a day, not at every entry
                log.warning("hurdle log: purge of expired entries postponed: %s", exc)
        return entry_id

    async def forget(self, user_id: int | str) -> int:
        """Delete every entry of this user (found by their asker key); returns how many."""
        key = self.asker_key(user_id)
        async with self._transaction(write=True) as db:
            await db.execute("DELETE FROM handoffs WHERE asker = ?", (key,))
            await db.execute("DELETE FROM announcements WHERE asker = ?", (key,))
            count = await self._delete(db, "asker = ?", (key,))
        if count:
            await self._checkpoint()
        return count

    async def purge(self, now: datetime | None = None) -> int:
        """Delete entries older than the retention period; returns how many."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)
        async with self._transaction(write=True) as db:
            await db.execute("DELETE FROM handoffs WHERE ts < ?", (to_ts(cutoff),))
            await db.execute("DELETE FROM announcements WHERE ts < ?", (to_ts(cutoff),))
            count = await self._delete(db, "ts < ?", (to_ts(cutoff),))
        self._purged_at = time.monotonic()
        if count:
            await self._checkpoint()
        return count

    async def _delete(self, db: Db, where: str, params: tuple) -> int:
        """Delete entries, then drop hurdles left empty and re-title those whose title left.
        `where` is one of this class's fixed clauses; every value is passed in `params`."""
        rows = await db.fetchall(
            f"SELECT DISTINCT hurdle_id FROM entries WHERE {where}", params)
        count = await db.execute(f"DELETE FROM entries WHERE {where}", params)
        for (hurdle_id,) in rows:
            first = await db.fetchall(
                "SELECT question, places FROM entries WHERE hurdle_id = ? ORDER BY ts, id LIMIT 1",
                (hurdle_id,))
            if not first:
                await db.execute("DELETE FROM hurdles WHERE id = ?", (hurdle_id,))
                continue
            # The title is a person's question: it must not outlive that person's entries.
            kept = await db.fetchall(
                "SELECT 1 FROM entries e JOIN hurdles h ON h.id = e.hurdle_id "
                "WHERE h.id = ? AND e.question = h.title LIMIT 1", (hurdle_id,))
            if not kept:
                title, places = first[0]
                mentions = [str(p.get("text") or "") for p in json.loads(places or "[]")]
                await db.execute("UPDATE hurdles SET title = ?, folded = ? WHERE id = ?",
                                 (title, folded(title, mentions), hurdle_id))
        return count

    async def _checkpoint(self) -> None:
        """SQLite: copy the WAL into the database and empty it, so deleted text does not linger
        there. (PostgreSQL reuses the space of deleted rows at its next vacuum.)"""
        async with self._lock:
            if self._db is not None and self._db.backend is Backend.SQLITE:
                try:
                    await self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except DatabaseError as exc:  # busy readers: the next checkpoint catches up
                    log.info("hurdle log checkpoint postponed: %s", exc)

    async def set_status(self, hurdle_id: int, status: str, note: str | None = None) -> Hurdle:
        """Record the staff's decision; `note=None` keeps the existing note."""
        if status not in STATUSES:
            raise ValueError(f"unknown status '{status}' (one of: {', '.join(STATUSES)})")
        async with self._transaction(write=True) as db:
            changed = await db.execute(
                "UPDATE hurdles SET status = ?, note = COALESCE(?, note), status_changed = ? "
                "WHERE id = ?", (status, note, to_ts(datetime.now(UTC)), hurdle_id))
            if changed == 0:
                raise KeyError(hurdle_id)
        hurdle = await self.hurdle(hurdle_id)
        if hurdle is None:  # forgotten in between by another process
            raise KeyError(hurdle_id)
        return hurdle

    # -- reading ----------------------------------------------------------------------------------
    async def hurdles(self, *, status: str | None = None, topic: str | None = None,
                      district: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, limit: int | None = 20, offset: int = 0,
                      open_only: bool = False, reason: str | None = None,
                      cause: str | None = None) -> list[Hurdle]:
        """Hurdles by count (then most recent). `since` ≤ time < `until` and `district` select the
        entries that are counted; the other filters select hurdles. `limit=None`: all."""
        where, params = _time_window("e.ts", since, until)
        if district is not None:
            items = json_items(self.url.backend, "e.districts")
            where.append(f"EXISTS (SELECT 1 FROM {items} WHERE value = ?)")
            params.append(district)
        entry_filter, entry_params = " AND ".join(where), list(params)
        for column, value in (("h.status", status), ("h.topic", topic), ("h.reason", reason),
                              ("h.cause", cause)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if open_only:
            where.append(f"h.status IN ({', '.join('?' * len(OPEN))})")
            params.extend(OPEN)
        params.extend((NO_LIMIT if limit is None else limit, offset))
        async with self._transaction() as db:
            rows = await db.fetchall(
                "SELECT h.id, h.title, h.topic, h.reason, h.status, h.note, COUNT(e.id), "
                "COUNT(DISTINCT e.asker), MIN(e.ts), MAX(e.ts), h.status_changed "
                "FROM hurdles h JOIN entries e ON e.hurdle_id = h.id "
                f"WHERE {' AND '.join(where)} GROUP BY h.id "
                "ORDER BY COUNT(e.id) DESC, MAX(e.ts) DESC, h.id LIMIT ? OFFSET ?", params)
            found = [Hurdle(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], from_ts(r[8]),
                            from_ts(r[9]), status_changed=from_ts(r[10]) if r[10] else None)
                     for r in rows]
            await self._details(db, found, entry_filter, entry_params)
        return found

    async def _details(self, db: Db, hurdles: Sequence[Hurdle],
                       entry_filter: str, params: list[Any]) -> None:
        """Fill examples, district pairs and Länder from the counted entries."""
        by_id = {h.id: h for h in hurdles}
        if not by_id:
            return
        marks = ", ".join("?" * len(by_id))
        rows = await db.fetchall(
            f"SELECT e.hurdle_id, e.question, e.path, e.lands FROM entries e "
            f"WHERE e.hurdle_id IN ({marks}) AND {entry_filter} ORDER BY e.ts DESC, e.id DESC",
            [*by_id, *params])
        paths: dict[int, Counter[str]] = {i: Counter() for i in by_id}
        lands: dict[int, set[str]] = {i: set() for i in by_id}
        for hurdle_id, question, path, lands_json in rows:
            hurdle = by_id[hurdle_id]
            if len(hurdle.examples) < MAX_EXAMPLES and question not in hurdle.examples:
                hurdle.examples.append(question)
            if path:
                paths[hurdle_id][path] += 1
            lands[hurdle_id].update(json.loads(lands_json or "[]"))
        for hurdle_id, hurdle in by_id.items():
            ranked = sorted(paths[hurdle_id].items(), key=lambda kv: (-kv[1], kv[0]))
            hurdle.district_pairs = [path for path, _ in ranked]
            hurdle.lands = sorted(lands[hurdle_id])
        await self._answers(db, by_id, marks)

    async def _answers(self, db: Db, by_id: dict[int, Hurdle],
                       marks: str) -> None:
        """Fill cause, the staff's answer, hand-offs and teaches."""
        for hurdle_id, cause, answer, answered_at in await db.fetchall(
                f"SELECT id, cause, answer, answered_at FROM hurdles WHERE id IN ({marks})",
                list(by_id)):
            hurdle = by_id[hurdle_id]
            hurdle.cause, hurdle.answer = cause, answer
            hurdle.answered_at = from_ts(answered_at) if answered_at else None
        for hurdle_id, total, waiting in await db.fetchall(
                f"SELECT hurdle_id, COUNT(*), SUM(CASE WHEN delivered IS NULL THEN 1 ELSE 0 END) "
                f"FROM handoffs "
                f"WHERE hurdle_id IN ({marks}) GROUP BY hurdle_id", list(by_id)):
            by_id[hurdle_id].handed_off, by_id[hurdle_id].waiting = total, waiting or 0
        for hurdle_id, ts, staff, topic in await db.fetchall(
                f"SELECT hurdle_id, ts, staff, topic FROM teaches WHERE hurdle_id IN ({marks}) "
                "ORDER BY id", list(by_id)):
            by_id[hurdle_id].taught.append({"at": from_ts(ts).isoformat(), "by": staff,
                                            "topic": topic})

    async def hurdle(self, hurdle_id: int) -> Hurdle | None:
        """One hurdle with all its entries counted, or None."""
        async with self._transaction() as db:
            rows = await db.fetchall(
                "SELECT h.id, h.title, h.topic, h.reason, h.status, h.note, COUNT(e.id), "
                "COUNT(DISTINCT e.asker), MIN(e.ts), MAX(e.ts), h.status_changed "
                "FROM hurdles h JOIN entries e ON e.hurdle_id = h.id WHERE h.id = ? "
                "GROUP BY h.id", (hurdle_id,))
            if not rows:
                return None
            r = next(iter(rows))
            found = Hurdle(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], from_ts(r[8]),
                           from_ts(r[9]), status_changed=from_ts(r[10]) if r[10] else None)
            await self._details(db, [found], "1 = 1", [])
        return found

    async def stats(self, now: datetime | None = None) -> dict[str, Any]:
        """Totals for a staff overview: hurdles per status, entries per reason and topic, entries
        in the last 7 days, distinct askers."""
        week_ago = to_ts((now or datetime.now(UTC)) - timedelta(days=7))
        async with self._transaction() as db:
            async def pairs(sql: str) -> dict[str, int]:
                return {row[0]: row[1] for row in await db.fetchall(sql)}

            by_status = await pairs("SELECT status, COUNT(*) FROM hurdles GROUP BY status")
            by_reason = await pairs("SELECT reason, COUNT(*) FROM entries GROUP BY reason "
                                    "ORDER BY COUNT(*) DESC, reason")
            by_topic = await pairs("SELECT COALESCE(topic, '(none)'), COUNT(*) FROM entries "
                                   "GROUP BY 1 ORDER BY COUNT(*) DESC, 1")
            totals = next(iter(await db.fetchall(
                "SELECT COUNT(*), COUNT(DISTINCT asker), "
                "(SELECT COUNT(*) FROM hurdles), SUM(CASE WHEN ts >= ? THEN 1 ELSE 0 END) FROM entries",
                (week_ago,))))
        return {"entries": totals[0], "askers": totals[1], "hurdles": totals[2],
                "last_7_days": totals[3] or 0,
                "by_status": {s: by_status.get(s, 0) for s in STATUSES},
                "by_reason": by_reason, "by_topic": by_topic}

    async def occurrences(self, since: datetime | None = None,
                          until: datetime | None = None) -> list[Occurrence]:
        """Every logged question in the period, without text or asker: for charts."""
        where, params = _time_window("ts", since, until)
        async with self._transaction() as db:
            rows = await db.fetchall(
                f"SELECT ts, topic, reason, path, lands, cause FROM entries "
                f"WHERE {' AND '.join(where)} ORDER BY ts", params)
        return [Occurrence(from_ts(r[0]), r[1], r[2], r[3], tuple(json.loads(r[4] or "[]")),
                           r[5]) for r in rows]


    async def causes(self, since: datetime | None = None, until: datetime | None = None
                     ) -> dict[str, Any]:
        """Logged questions by cause (cross-border first), and the cross-border ones by district
        pair and by Land pair, most frequent first."""
        by_cause: Counter[str] = Counter()
        districts: Counter[str] = Counter()
        lands: Counter[str] = Counter()
        for occ in await self.occurrences(since, until):
            by_cause[occ.cause or cause_of(occ.reason)] += 1
            if occ.cause == Cause.CROSS_BORDER:
                if "→" in occ.path:
                    districts[occ.path] += 1
                if land_pair(occ.lands):
                    lands[land_pair(occ.lands)] += 1
        ordered = {c.value: by_cause[c] for c in CAUSES if by_cause[c]}
        return {"by_cause": ordered, "cross_districts": dict(_ranked(districts)),
                "cross_lands": dict(_ranked(lands))}

    # -- hand-off to a person and teaching ------------------------------------------------------
    async def hurdle_of(self, user_id: int | str, question: str) -> int | None:
        """The hurdle of this asker's latest logged entry with this question, or None."""
        key = self.asker_key(user_id)
        async with self._transaction() as db:
            rows = await db.fetchall(
                "SELECT hurdle_id FROM entries WHERE asker = ? AND question = ? "
                "ORDER BY ts DESC, id DESC LIMIT 1", (key, _clip(question, MAX_QUESTION)))
        found = next(iter(rows), None)
        return found[0] if found else None

    async def request_handoff(self, hurdle_id: int, user_id: int | str, chat_id: int,
                              lang: str, question: str) -> bool:
        """Record an asker's consent to get a person's answer in `chat_id`. False when they
        had asked for this hurdle already (and the answer has not come yet)."""
        key = self.asker_key(user_id)
        async with self._transaction(write=True) as db:
            changed = await db.execute(
                "INSERT INTO handoffs (hurdle_id, ts, asker, chat_id, lang, question) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hurdle_id, asker) DO UPDATE SET "
                "ts = excluded.ts, chat_id = excluded.chat_id, lang = excluded.lang, "
                "question = excluded.question, delivered = NULL WHERE handoffs.delivered IS NOT NULL",
                (hurdle_id, to_ts(datetime.now(UTC)), key, int(chat_id), _clip(lang, 8),
                 _clip(question, MAX_QUESTION)))
        return changed > 0

    async def handoff_shown(self, hurdle_id: int, user_id: int | str, chat_id: int,
                            message_id: int) -> None:
        """Remember the staff-chat message that shows this asker's question (deleted by /forget)."""
        async with self._transaction(write=True) as db:
            await db.execute("UPDATE handoffs SET staff_chat = ?, staff_message = ? "
                             "WHERE hurdle_id = ? AND asker = ?",
                             (int(chat_id), int(message_id), hurdle_id, self.asker_key(user_id)))

    async def announced(self, hurdle_id: int, user_id: int | str, chat_id: int,
                        message_id: int) -> None:
        """Remember the staff-chat message that announced a new hurdle from this asker."""
        async with self._transaction(write=True) as db:
            await db.execute("INSERT INTO announcements (hurdle_id, ts, asker, staff_chat, "
                             "staff_message) VALUES (?, ?, ?, ?, ?)",
                             (hurdle_id, to_ts(datetime.now(UTC)), self.asker_key(user_id),
                              int(chat_id), int(message_id)))

    async def handoff_messages(self, user_id: int | str) -> list[tuple[int, int]]:
        """(chat, message) in the staff chat that show this asker's questions: hand-offs and
        announcements of the hurdles they started."""
        key = self.asker_key(user_id)
        async with self._transaction() as db:
            rows = await db.fetchall(
                "SELECT staff_chat, staff_message FROM handoffs WHERE asker = ? AND "
                "staff_message IS NOT NULL UNION SELECT staff_chat, staff_message FROM "
                "announcements WHERE asker = ? ORDER BY 2", (key, key))
        return [(row[0], row[1]) for row in rows]

    async def waiting_handoffs(self, hurdle_id: int | None = None) -> list[Handoff]:
        """Askers still waiting for a person's answer (of one hurdle, or of all)."""
        where, params = ("AND hurdle_id = ?", (hurdle_id,)) if hurdle_id else ("", ())
        async with self._transaction() as db:
            rows = await db.fetchall(
                "SELECT id, hurdle_id, chat_id, lang, question FROM handoffs "
                f"WHERE delivered IS NULL {where} ORDER BY id", params)
        return [Handoff(*row) for row in rows]

    async def delivered(self, handoff_ids: Sequence[int]) -> None:
        """Mark hand-offs as answered; the chat stays linked only until retention or /forget."""
        async with self._transaction(write=True) as db:
            await db.executemany("UPDATE handoffs SET delivered = ? WHERE id = ?",
                                 [(to_ts(datetime.now(UTC)), i) for i in handoff_ids])

    async def record_answer(self, hurdle_id: int, text: str, staff: str) -> Hurdle:
        """Keep the staff's answer as the hurdle's proposed answer; a new hurdle goes in review
        (the answer is a proposal for the knowledge base until it is taught)."""
        async with self._transaction(write=True) as db:
            changed = await db.execute(
                "UPDATE hurdles SET answer = ?, answered_at = ?, answered_by = ?, "
                "status = CASE status WHEN 'new' THEN 'in_review' ELSE status END, "
                "status_changed = CASE status WHEN 'new' THEN ? ELSE status_changed END "
                "WHERE id = ?", (_clip(text, 4000), to_ts(datetime.now(UTC)), staff,
                                 to_ts(datetime.now(UTC)), hurdle_id))
            if changed == 0:
                raise KeyError(hurdle_id)
        return await self._existing(hurdle_id)

    async def phrasings(self, hurdle_id: int) -> list[tuple[str, str, list[str]]]:
        """Each distinct question of a hurdle with its language and the places it named."""
        async with self._transaction() as db:
            rows = await db.fetchall(
                "SELECT question, lang, places FROM entries WHERE hurdle_id = ? ORDER BY ts, id",
                (hurdle_id,))
        out: dict[str, tuple[str, str, list[str]]] = {}
        for question, lang, places in rows:
            out.setdefault(question, (question, lang,
                                      [str(p.get("text") or "") for p in json.loads(places)]))
        return list(out.values())

    async def record_teach(self, hurdle_id: int, topic: str, staff: str) -> Hurdle:
        """Record that the staff taught this hurdle's phrasings to `topic` ("new:<id>" for a
        drafted topic); a taught hurdle counts as answered by an update."""
        now = to_ts(datetime.now(UTC))
        async with self._transaction(write=True) as db:
            changed = await db.execute(
                "UPDATE hurdles SET status = 'answered_by_update', status_changed = ? "
                "WHERE id = ?", (now, hurdle_id))
            if changed == 0:
                raise KeyError(hurdle_id)
            await db.execute("INSERT INTO teaches (hurdle_id, ts, staff, topic) "
                             "VALUES (?, ?, ?, ?)", (hurdle_id, now, staff, _clip(topic, 80)))
        return await self._existing(hurdle_id)

    async def digest(self, now: datetime | None = None, days: int = 7) -> dict[str, Any]:
        """What the weekly digest says: hurdles new in the last `days`, top causes, top
        cross-border pairs, hand-offs waiting for an answer."""
        since = (now or datetime.now(UTC)) - timedelta(days=days)
        causes = await self.causes(since)
        async with self._transaction() as db:
            new = next(iter(await db.fetchall(
                "SELECT COUNT(*) FROM (SELECT hurdle_id FROM entries GROUP BY hurdle_id "
                "HAVING MIN(ts) >= ?) AS fresh", (to_ts(since),))))[0]
        waiting = await self.waiting_handoffs()
        return {"days": days, "new_hurdles": new, "questions": sum(causes["by_cause"].values()),
                **causes, "waiting": len(waiting),
                "waiting_hurdles": sorted({h.hurdle_id for h in waiting})}

    async def _existing(self, hurdle_id: int) -> Hurdle:
        hurdle = await self.hurdle(hurdle_id)
        if hurdle is None:  # forgotten in between by another process
            raise KeyError(hurdle_id)
        return hurdle


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _identity(path: Path) -> tuple[int, int] | None:
    """Device and inode of the file at `path`, None when there is none."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


async def _setup(db: Db) -> None:
    if db.backend is Backend.SQLITE:
        await _configure(db)
    await _migrate(db)


async def _configure(db: Db) -> None:
    """SQLite's settings for the log."""
    # WAL lets the staff's CLI read while the bot writes.
    mode = next(iter(await db.fetchall("PRAGMA journal_mode = WAL")))[0]
    if mode != "wal":
        log.warning("hurdle log: WAL mode not available (journal_mode=%s)", mode)
    # FULL syncs the WAL at every commit, so an entry reported as logged survives a killed process
    # and also a power cut or kernel crash (NORMAL may lose the last commits then). The cost, one
    # fsync per logged message, is nothing at the rate people send messages.
    await db.execute("PRAGMA synchronous = FULL")
    await db.execute("PRAGMA foreign_keys = ON")
    # Deleted entries (forget, purge) are overwritten, not merely unlinked in the file.
    await db.execute("PRAGMA secure_delete = ON")


async def _version(db: Db) -> int:
    """The log's schema version: SQLite keeps it in the file header (user_version), PostgreSQL
    in a table of its own; 0 for a new database."""
    if db.backend is Backend.SQLITE:
        return int(next(iter(await db.fetchall("PRAGMA user_version")))[0])
    await db.execute("CREATE TABLE IF NOT EXISTS hurdles_version (version INTEGER NOT NULL)")
    row = await db.fetchone("SELECT version FROM hurdles_version")
    return int(row[0]) if row else 0


async def _set_version(db: Db, version: int) -> None:
    if db.backend is Backend.SQLITE:
        # PRAGMA takes no parameters; the value is our own integer constant.
        await db.execute(f"PRAGMA user_version = {int(version)}")
        return
    await db.execute("DELETE FROM hurdles_version")
    await db.execute("INSERT INTO hurdles_version VALUES (?)", (version,))


async def _migrate(db: Db) -> None:
    """Bring the database to SCHEMA_VERSION in one transaction (all or nothing); workers that
    start at once take turns."""
    async with db.transaction(write=True, lock=WRITE_LOCK, lock_wait_ms=MIGRATION_WAIT_MS):
        version = await _version(db)
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(f"the hurdle log has schema version {version}, newer than "
                                   f"this WeserBot ({SCHEMA_VERSION}); update WeserBot")
        # state_*: the conversation state's; *_version: the schema versions.
        foreign = [t for t in await db.tables()
                   if not t.startswith("state") and t != "hurdles_version"]
        if version == 0 and foreign:
            raise StoreUnavailable(f"this {'SQLite file' if db.url.is_file else 'database'} is "
                                   "not a WeserBot hurdle log")
        for step in range(version + 1, SCHEMA_VERSION + 1):
            await MIGRATIONS[step](db)
        if version != SCHEMA_VERSION:
            await _set_version(db, SCHEMA_VERSION)


def _time_window(column: str, since: datetime | None, until: datetime | None
                 ) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their parameters) for `since` <= column < `until`."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if since is not None:
        where.append(f"{column} >= ?")
        params.append(to_ts(since))
    if until is not None:
        where.append(f"{column} < ?")
        params.append(to_ts(until))
    return where, params
