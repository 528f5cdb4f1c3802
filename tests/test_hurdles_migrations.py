"""The log's schema is versioned (PRAGMA user_version): a new file gets the current schema, an
older file is migrated in place with its data kept, and files the store does not know are left
alone."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot import hurdles as hurdles_module
from bot.database import DatabaseError
from bot.hurdles import SCHEMA_VERSION, HurdleStore, StoreUnavailable

V1_SCHEMA = """
CREATE TABLE entries (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, lang TEXT NOT NULL, question TEXT NOT NULL,
    topic TEXT, reason TEXT NOT NULL, asker TEXT);
CREATE INDEX entries_ts ON entries (ts);
PRAGMA user_version = 1;
"""
"""Version 1 as the first release wrote it, spelt out here so that the test does not depend on
the migration code it checks."""


def write(path: Path, script: str) -> None:
    """Prepare a file by hand, as an older WeserBot (or another program) left it."""
    with closing(sqlite3.connect(path)) as db:
        db.executescript(script)


def query(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


def user_version(path: Path) -> int:
    return query(path, "PRAGMA user_version")[0][0]


def tables(path: Path) -> set[str]:
    return {r[0] for r in query(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(path: Path, table: str) -> set[str]:
    return {r[1] for r in query(path, f"PRAGMA table_info({table})")}


async def test_an_empty_file_gets_the_current_schema(tmp_path):
    path = tmp_path / "hurdles.sqlite"
    async with await HurdleStore.open(path, "s"):
        pass
    assert user_version(path) == SCHEMA_VERSION == 4
    assert {"entries", "hurdles"} <= tables(path)
    assert {"hurdle_id", "places", "districts", "lands", "path"} <= columns(path, "entries")


async def test_opening_twice_does_not_migrate_again(tmp_path, hurdle_answer):
    path = tmp_path / "hurdles.sqlite"
    async with await HurdleStore.open(path, "s") as store:
        await store.log_answer(hurdle_answer("Angelschein?"))
    async with await HurdleStore.open(path, "s") as store:
        assert [h.count for h in await store.hurdles()] == [1]


async def test_a_version_1_file_is_migrated_with_its_entries_kept_and_grouped(tmp_path,
                                                                            hurdle_answer):
    path = tmp_path / "hurdles.sqlite"
    # Dates in the future, so that the retention purge on opening keeps them.
    write(path, V1_SCHEMA + """
        INSERT INTO entries (ts, lang, question, topic, reason, asker) VALUES
        ('2099-01-01T10:00:00.000000Z', 'de', 'Wo bekomme ich einen Angelschein?', NULL,
         'no_topic', 'aaaa'),
        ('2099-01-02T10:00:00.000000Z', 'de', 'wo bekomme ich einen Angelschein', NULL,
         'no_topic', 'bbbb'),
        ('2099-01-03T10:00:00.000000Z', 'en', 'car registration Bielefeld', 'kfz-zulassung',
         'outside_region', 'aaaa');""")

    async with await HurdleStore.open(path, "s") as store:
        assert user_version(path) == SCHEMA_VERSION
        hurdles = await store.hurdles()
        assert [(h.title, h.count, h.askers) for h in hurdles] == [
            ("Wo bekomme ich einen Angelschein?", 2, 2), ("car registration Bielefeld", 1, 1)]
        assert hurdles[1].topic == "kfz-zulassung" and hurdles[1].reason == "outside_region"
        # Old entries know no places; new ones are logged in full next to them.
        assert hurdles[0].district_pairs == [] and hurdles[0].lands == []
        await store.log_answer(hurdle_answer("Wo bekomme ich einen Angelschein? Ich wohne in Lügde",
                                             places=[("Lügde", "residence", None)]))
        [angel] = await store.hurdles(district="lippe")
        assert angel.id == hurdles[0].id and angel.count == 1


async def test_a_failed_migration_leaves_the_old_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "hurdles.sqlite"
    write(path, V1_SCHEMA + "INSERT INTO entries (ts, lang, question, reason) VALUES "
                            "('2099-01-01T10:00:00.000000Z', 'de', 'Angelschein?', 'no_topic');")

    async def broken(db):
        await db.execute("CREATE TABLE half_done (x)")
        raise DatabaseError("disk I/O error", transient=True)

    monkeypatch.setitem(hurdles_module.MIGRATIONS, 2, broken)
    with pytest.raises(StoreUnavailable, match="disk I/O error"):
        await HurdleStore.open(path, "s")
    assert user_version(path) == 1
    assert tables(path) == {"entries"}
    assert "hurdle_id" not in columns(path, "entries")


async def test_a_file_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "hurdles.sqlite"
    write(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1};")
    with pytest.raises(StoreUnavailable, match="newer"):
        await HurdleStore.open(path, "s")


async def test_a_foreign_sqlite_file_is_not_touched(tmp_path):
    path = tmp_path / "other.sqlite"
    write(path, "CREATE TABLE customers (name TEXT);")
    with pytest.raises(StoreUnavailable, match="not a WeserBot hurdle log"):
        await HurdleStore.open(path, "s")
    assert tables(path) == {"customers"}
