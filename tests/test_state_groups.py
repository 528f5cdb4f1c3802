"""Under load the state store writes the work of several updates in one transaction (a group):
every caller still gets its own result, or the failure, and none waits for ever."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.database import Db
from bot.state import StateStore, StateUnavailable, encode_state

SECRET = "k" * 32


@pytest.fixture
async def store(database):
    opened = await StateStore.open(database, SECRET)
    yield opened
    await opened.close()


@pytest.fixture
def transactions(monkeypatch) -> list[int]:
    """How many statements each transaction of the stores carried."""
    seen: list[int] = []
    real = Db.batch

    async def counted(self, statements, **kwargs):
        seen.append(len(statements))
        return await real(self, statements, **kwargs)

    monkeypatch.setattr(Db, "batch", counted)
    return seen


def update(update_id: int) -> dict:
    return {"update_id": update_id, "message": {"text": f"Frage {update_id}"}}


async def test_updates_received_at_once_share_transactions_and_each_caller_gets_its_own_result(
        store, transactions):
    firsts = await asyncio.gather(*(store.receive(i, update(i)) for i in range(1, 21)))
    again = await asyncio.gather(store.receive(5, update(5)), store.receive(21, update(21)),
                                 store.save(7, {"place": "Lügde"}))
    assert firsts == [True] * 20
    assert again[:2] == [False, True]  # update 5 was received before; 21 is new
    assert len(transactions) < 20 + 3
    assert sum(transactions) == 20 + 3
    assert await store.load(7) == {"place": "Lügde"}


async def test_the_states_of_recent_users_are_read_from_the_database_only_by_other_workers(
        database, transactions, monkeypatch):
    """With SQLite this process is the only writer: what it wrote last for a recent user is what
    the database holds, and is not read again. With PostgreSQL another worker may have written."""
    monkeypatch.setattr("bot.state.RECENT_USERS", 2)
    store = await StateStore.open(database, SECRET)
    try:
        await store.save(7, {"place": "Lügde"})
        await store.finish([1], {8: encode_state({"topic": "kita"}), 9: encode_state({"a": 1})})
        await store.finish([2], {9: None})  # deleted: 7 is the one beyond the two kept
        before = len(transactions)
        loaded = [await store.load(user) for user in (8, 9, 7)]
        reads = len(transactions) - before
    finally:
        await store.close()
    reopened = await StateStore.open(database, SECRET)
    try:
        again = [await reopened.load(user) for user in (8, 9, 7)]
    finally:
        await reopened.close()
    assert loaded == again == [{"topic": "kita"}, {}, {"place": "Lügde"}]
    assert reads == (3 if store.shared else 1)


async def test_a_caller_that_stops_waiting_leaves_the_others_their_answers(store):
    tasks = [asyncio.create_task(store.receive(i, update(i))) for i in range(1, 11)]
    await asyncio.sleep(0)  # every call has handed over its statement
    tasks[3].cancel()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    assert isinstance(results[3], asyncio.CancelledError)
    assert [r for i, r in enumerate(results) if i != 3] == [True] * 9
    pending, _ = await store.pending()
    assert sorted(p["update_id"] for p in pending) == list(range(1, 11))  # 4 was written too


@pytest.mark.sqlite_only
async def test_a_failed_transaction_fails_every_caller_in_it(store, database):
    with sqlite3.connect(database) as admin:
        admin.execute("DROP TABLE state_users")
    results = await asyncio.gather(store.save(1, {"place": "Hameln"}), store.load(2),
                                   store.save(3, {"place": "Lügde"}), return_exceptions=True)
    assert all(isinstance(r, StateUnavailable) for r in results), results
    assert "state_users" in str(results[0])


async def test_a_closed_store_refuses_calls_and_writes_what_it_was_given_first(database):
    store = await StateStore.open(database, SECRET)
    saving = asyncio.create_task(store.save(9, {"place": "Rinteln"}))
    await asyncio.sleep(0)
    await store.close()
    await saving
    with pytest.raises(StateUnavailable, match="closed"):
        await store.load(9)
    reopened = await StateStore.open(database, SECRET)
    try:
        assert await reopened.load(9) == {"place": "Rinteln"}
    finally:
        await reopened.close()
