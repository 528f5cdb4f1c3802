"""The hurdle log fails (locked, read-only, full, folder missing): the bot keeps answering, says so
once in the log, keeps the hurdles in memory, and writes them in order when the log is back.

Real SQLite files throughout; the bot runs against the fake Bot API (tests/fake_bot_api.py)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_bot_api import FakeBotApi

from bot.answer import Answer
from bot.hurdle_queue import HurdleQueue
from bot.hurdles import HurdleStore, StoreUnavailable, from_ts
from handlers.context import SERVICES

ANNA, BOB = 7001, 7002
TOWNS = ["Hameln", "Rinteln", "Minden", "Höxter", "Holzminden", "Detmold", "Lügde", "Bückeburg",
         "Stadthagen", "Nienburg", "Herford", "Lemgo", "Hildesheim", "Springe", "Bad Pyrmont",
         "Bodenwerder"]
QUESTIONS = [f"Wo bekomme ich eine Namensänderung? Ich wohne in {town}. "
             + " ".join(["Ich habe schon überall gesucht und nichts gefunden."] * 6)
             for town in TOWNS]
"""Questions the bot cannot answer: each one is logged as a hurdle (long, so that a full disk
shows after a few)."""
WAIT = 10.0


async def ask(api: FakeBotApi, user_id: int, text: str) -> str:
    waiting = api.next_message(user_id)
    api.send_text(api.user(user_id), text)
    return (await waiting).plain


def in_file(path: Path) -> list[tuple[str, str]]:
    """(question, ts) of every entry in the SQLite file, in the order they were written."""
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT question, ts FROM entries ORDER BY id").fetchall()


def queue_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "bot.hurdle_queue" and r.levelno >= logging.WARNING]


async def written(queue: HurdleQueue) -> None:
    await asyncio.wait_for(queue.written(), WAIT)


# -- the faults: each breaks a running store and repairs it at the end of its block -------------
@asynccontextmanager
async def locked(store: HurdleStore) -> AsyncIterator[None]:
    """Another process holds the write lock (e.g. a long `sqlite3` session)."""
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("COMMIT")
        holder.close()


async def _pragma(store: HurdleStore, sql: str) -> None:
    # These settings belong to one connection: they must be made on the store's own.
    assert store._db is not None
    await store._db.execute(sql)


@asynccontextmanager
async def read_only(store: HurdleStore) -> AsyncIterator[None]:
    """SQLite refuses every write, with the error it gives for a file it may not write
    (chmod does not work here: the file is already open, and root ignores it anyway)."""
    await _pragma(store, "PRAGMA query_only = ON")
    try:
        yield
    finally:
        await _pragma(store, "PRAGMA query_only = OFF")


@asynccontextmanager
async def full(store: HurdleStore) -> AsyncIterator[None]:
    """The disk is full: the file may not grow by a single page (max_page_count is clamped
    to the current size)."""
    await _pragma(store, "PRAGMA max_page_count = 1")
    try:
        yield
    finally:
        await _pragma(store, "PRAGMA max_page_count = 1073741823")


FAULTS: dict[str, tuple[Callable, str, bool]] = {
    # name: (fault, what the one log line says, whether a write may still fit at first)
    "locked": (locked, "database is locked", False),
    "read-only": (read_only, "attempt to write a readonly database", False),
    "full": (full, "database or disk is full", True),
}


@pytest.fixture
async def fragile_store(tmp_path: Path, bot_config):
    """A hurdle log that gives up on a lock after 0.1 s (the bot's default waits 5 s). The faults
    are made on its own connection: the conversation state goes to a file of its own here."""
    bot_config.state_path = tmp_path / "state.sqlite"
    store = await HurdleStore.open(tmp_path / "hurdles.sqlite", "test-secret",
                                   busy_timeout_ms=100)
    yield store
    await store.close()


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_failing_log_costs_no_reply_and_no_hurdle(telegram_api, start_bot, fragile_store,
                                                          caplog, fault):
    breaks, message, may_fit = FAULTS[fault]
    caplog.set_level(logging.INFO)
    questions = iter(QUESTIONS)
    async with start_bot(store=fragile_store, retry_every=0.1) as app:
        queue: HurdleQueue = app.bot_data[SERVICES].hurdles
        first = next(questions)
        await ask(telegram_api, ANNA, first)
        assert [q for q, _ in in_file(fragile_store.path)] == [first]

        async with breaks(fragile_store):
            asked = []
            for question in questions:  # until the first hurdle has to wait
                reply = await ask(telegram_api, ANNA, question)
                assert reply.startswith("Zu dieser Frage habe ich noch keine verlässliche Auskunft")
                asked.append(question)
                if queue.waiting:
                    break
            assert queue.waiting == 1 and (may_fit or len(asked) == 1)
            later = [next(questions), next(questions)]
            for question in later:  # answered at once; they wait behind the first
                await ask(telegram_api, BOB, question)
            assert queue.waiting == 3
            assert not queue.available and message in (queue.problem or "")
            assert [q for q, _ in in_file(fragile_store.path)] == [first, *asked[:-1]]
            broken_until = datetime.now(UTC)
            # However many messages and retries (every 0.1 s): one line about it, no traceback.
            [warning] = queue_warnings(caplog)
            assert warning.startswith("hurdle log unavailable") and message in warning
        await written(queue)  # the periodic retry writes the queue once the store works
        stored = in_file(fragile_store.path)

    assert [q for q, _ in stored] == [first, *asked, *later]  # all of them, in order
    waited = [from_ts(ts) for _, ts in stored[-3:]]
    assert waited == sorted(waited) and waited[-1] < broken_until  # with the time they happened
    assert len(queue_warnings(caplog)) == 2 and "available again: 3 waiting" in \
        queue_warnings(caplog)[1]
    assert not [r for r in caplog.records if r.exc_info or r.name == "handlers.staff"]


@pytest.mark.sqlite_only
async def test_with_the_folder_missing_at_start_the_bot_answers_and_writes_once_it_exists(
        telegram_api, start_bot, bot_config, tmp_path, caplog):
    folder = tmp_path / "not-yet-mounted"
    bot_config.hurdles.path = folder / "hurdles.sqlite"
    caplog.set_level(logging.INFO)
    async with start_bot(config=bot_config, store=None, retry_every=0.1) as app:
        queue: HurdleQueue = app.bot_data[SERVICES].hurdles
        [warning] = queue_warnings(caplog)
        assert f"the folder {folder} does not exist" in warning
        answers = [await ask(telegram_api, ANNA, QUESTIONS[0]),
                   await ask(telegram_api, BOB, QUESTIONS[1]),
                   await ask(telegram_api, ANNA, QUESTIONS[2])]
        stats = await ask(telegram_api, 900, "/stats")  # the staff learn that the log is away
        forgotten = await ask(telegram_api, ANNA, "/forget")  # also what waits in memory
        assert queue.waiting == 1 and not folder.exists()
        folder.mkdir()
        await written(queue)
    assert all(a.startswith("Zu dieser Frage habe ich noch keine") for a in answers)
    assert stats == "Das Hürden-Protokoll ist gerade nicht erreichbar."
    assert forgotten.startswith("Ihre Einstellungen und offenen Fragen sind gelöscht. Das "
                                "Protokoll für das Team ist gerade nicht erreichbar")
    assert [q for q, _ in in_file(folder / "hurdles.sqlite")] == [QUESTIONS[1]]
    assert "hurdle store closed" in caplog.text  # the bot opened it, the bot closed it


async def test_an_unreachable_postgresql_at_start_leaves_the_bot_answering_with_one_warning_each(
        telegram_api, start_bot, bot_config, caplog):
    from test_telegram_run import free_port

    bot_config.database_url = f"postgresql://weserbot:pw@127.0.0.1:{free_port()}/weserbot"
    caplog.set_level(logging.INFO)
    async with start_bot(config=bot_config, store=None, retry_every=3600) as app:
        first = await ask(telegram_api, ANNA, QUESTIONS[0])
        second = await ask(telegram_api, ANNA, "Wo melde ich mein Auto an? Ich wohne in Rinteln.")
        assert app.bot_data[SERVICES].hurdles.waiting == 1  # kept in memory for later
    assert first.startswith("Zu dieser Frage habe ich noch keine") and "Schaumburg" in second
    log_down, lost_at_shutdown = queue_warnings(caplog)  # the hurdle waited in memory to the end
    assert "1 waiting hurdle(s) are lost" in lost_at_shutdown
    state_down = [r.getMessage() for r in caplog.records if r.name == "handlers.durable"
                  and "conversation state unavailable" in r.getMessage()]
    assert len(state_down) == 1
    for line in (log_down, *state_down):
        assert "postgresql://weserbot@127.0.0.1" in line and ":pw@" not in line
    assert "Traceback" not in caplog.text


async def test_connections_the_postgresql_server_dropped_are_opened_again(
        telegram_api, start_bot, bot_config, database):
    if not bot_config.database_url:
        pytest.skip("a PostgreSQL server ends sessions; a SQLite file has none")
    import psycopg
    from conftest import read_rows

    def end_every_session() -> None:
        """What a server restart (or an administrator) does to the bot's connections."""
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                         "datname = current_database() AND pid <> pg_backend_pid()")

    async with start_bot(config=bot_config, store=None, retry_every=0.1) as app:
        queue: HurdleQueue = app.bot_data[SERVICES].hurdles
        first = await ask(telegram_api, ANNA, QUESTIONS[0])
        end_every_session()
        asked_back = await ask(telegram_api, BOB, "Wo melde ich mein Auto an?")
        end_every_session()
        second = await ask(telegram_api, ANNA, QUESTIONS[1])
        answered = await ask(telegram_api, BOB, "Rinteln")  # the state survived the drops
        await written(queue)
        state = app.bot_data[SERVICES].state
        assert state.problem is None
    assert first.startswith("Zu dieser Frage") and second.startswith("Zu dieser Frage")
    assert "Schaumburg" not in asked_back and "Schaumburg" in answered
    logged = [q for (q,) in read_rows(bot_config, "SELECT question FROM entries ORDER BY id")]
    assert logged == QUESTIONS[:2]
    inbox = read_rows(bot_config, "SELECT COUNT(*), COUNT(done) FROM state_inbox")
    assert inbox == [(4, 4)]  # every update committed before it was answered, and done


async def test_past_the_limit_the_oldest_waiting_hurdles_are_dropped_with_one_warning(
        tmp_path, hurdle_answer, caplog):
    folder = tmp_path / "later"
    queue = HurdleQueue(opener=lambda: HurdleStore.open(folder / "h.sqlite", "s"), limit=3,
                        retry_every=3600)
    await queue.start()
    for i in range(5):
        assert await queue.log_answer(hurdle_answer(f"Frage {i}")) is False
    assert queue.waiting == 3 and queue.dropped == 2
    folder.mkdir()
    await queue.flush()
    await queue.close()
    assert [q for q, _ in in_file(folder / "h.sqlite")] == ["Frage 2", "Frage 3", "Frage 4"]
    warnings = queue_warnings(caplog)
    assert len(warnings) == 3  # unavailable, dropping, available again (with the count lost)
    assert "the oldest are dropped" in warnings[1] and "2 dropped" in warnings[2]


async def test_a_file_that_is_no_hurdle_log_still_stops_the_start(tmp_path):
    path = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")
    queue = HurdleQueue(opener=lambda: HurdleStore.open(path, "s"))
    with pytest.raises(StoreUnavailable, match="not a WeserBot hurdle log"):
        await queue.start()  # not a passing fault: waiting for it would only hide the mistake


async def test_hurdles_waiting_at_shutdown_are_written_if_the_log_is_back(tmp_path, caplog):
    folder = tmp_path / "later"
    queue = HurdleQueue(opener=lambda: HurdleStore.open(folder / "h.sqlite", "s"),
                        retry_every=3600)
    await queue.start()
    await queue.log_answer(Answer("Frage vor dem Ende", "de", "no_topic", ""))
    folder.mkdir()
    await queue.close()  # the last attempt, without waiting for the next retry
    assert [q for q, _ in in_file(folder / "h.sqlite")] == ["Frage vor dem Ende"]


@pytest.mark.sqlite_only
async def test_a_deleted_folder_is_noticed_and_the_hurdles_are_written_when_it_is_back(
        telegram_api, start_bot, bot_config, tmp_path, caplog):
    """Finding 2 of issue 14: SQLite would keep writing into the deleted file."""
    import shutil

    folder = tmp_path / "share"
    folder.mkdir()
    bot_config.hurdles.path = folder / "hurdles.sqlite"
    bot_config.state_path = tmp_path / "state.sqlite"
    caplog.set_level(logging.INFO)
    async with start_bot(store=None, retry_every=0.1) as app:
        queue: HurdleQueue = app.bot_data[SERVICES].hurdles
        await ask(telegram_api, ANNA, QUESTIONS[0])
        shutil.rmtree(folder)
        for question in QUESTIONS[1:3]:
            assert (await ask(telegram_api, ANNA, question)).startswith("Zu dieser Frage")
        assert queue.waiting == 2 and "does not exist" in (queue.problem or "")
        folder.mkdir()
        await written(queue)
    assert [q for q, _ in in_file(folder / "hurdles.sqlite")] == QUESTIONS[1:3]
    [down, up] = queue_warnings(caplog)
    assert "the file is missing" in down and "available again: 2 waiting" in up


async def test_a_locked_log_makes_no_reply_wait_longer_than_100_ms(telegram_api, start_bot,
                                                                   bot_config, tmp_path):
    """Finding 4 of issue 14: ten askers at once while another process holds the lock."""
    import time

    bot_config.state_path = tmp_path / "state.sqlite"
    store = await HurdleStore.open(tmp_path / "hurdles.sqlite", "s")  # busy timeout 5 s
    try:
        async with start_bot(store=store, retry_every=0.1) as app, locked(store):
            users = range(7100, 7110)
            waiting = [telegram_api.next_message(u) for u in users]
            started = time.monotonic()
            for user_id, question in zip(users, QUESTIONS, strict=False):
                telegram_api.send_text(telegram_api.user(user_id), question)
            await asyncio.gather(*waiting)
            took = time.monotonic() - started
            assert app.bot_data[SERVICES].hurdles.waiting >= 1
        assert took < 1.0, took  # 10 x 5 s before; now each reply waits <= 0.1 s, concurrently
    finally:
        await store.close()
