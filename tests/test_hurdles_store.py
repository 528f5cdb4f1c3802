"""The hurdle log keeps what the staff need about unanswered questions, and nothing that
identifies the person who asked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import read_rows, stored_bytes

from bot.hurdles import MAX_QUESTION, STATUSES, HurdleStore, StoreUnavailable

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


rows = read_rows
"""Read the database with a connection of its own, as another process (or a curious admin) would."""


# -- opening ---------------------------------------------------------------------------------------
async def test_a_missing_folder_is_reported_clearly_not_created(tmp_path):
    with pytest.raises(StoreUnavailable, match="does not exist"):
        await HurdleStore.open(tmp_path / "nowhere" / "hurdles.sqlite", "s")
    assert not (tmp_path / "nowhere").exists()


async def test_a_file_that_is_not_a_database_is_unavailable(tmp_path):
    path = tmp_path / "hurdles.sqlite"
    path.write_text("this is not SQLite " * 100)
    with pytest.raises(StoreUnavailable, match=str(path)):
        await HurdleStore.open(path, "s")


@pytest.mark.sqlite_only
async def test_the_log_is_in_wal_mode_with_full_sync(hurdle_store):
    assert rows(hurdle_store, "PRAGMA journal_mode") == [("wal",)]
    async with hurdle_store._transaction() as db:
        assert list(await db.fetchall("PRAGMA synchronous")) == [(2,)]  # FULL


async def test_a_closed_store_says_so(hurdle_store, hurdle_answer):
    await hurdle_store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        await hurdle_store.log_answer(hurdle_answer("Wo gibt es Angelscheine?"))


# -- what an entry keeps ---------------------------------------------------------------------------
async def test_an_entry_keeps_what_the_engine_understood(hurdle_store, hurdle_answer):
    answer = hurdle_answer("Ich wohne in Lügde und arbeite in Hameln – Elterngeld?",
                           reason="needs_place", topic="elterngeld",
                           places=[("Lügde", "residence", None), ("Hameln", "business_site", None)])
    entry_id = await hurdle_store.log_answer(answer, asker=4711, at=NOW)
    [row] = rows(hurdle_store, "SELECT ts, lang, question, topic, reason, places, districts, "
                 "lands, path FROM entries WHERE id = ?", (entry_id,))
    ts, lang, question, topic, reason, places, districts, lands, path = row
    assert (lang, question, topic, reason) == ("de", answer.question, "elterngeld", "needs_place")
    assert datetime.fromisoformat(ts) == NOW
    assert [(p["text"], p["role"]) for p in json.loads(places)] == [
        ("lügde", "residence"), ("hameln", "business_site")]
    assert json.loads(districts) == ["hameln-pyrmont", "lippe"]
    assert json.loads(lands) == ["NI", "NW"]
    assert path == "lippe→hameln-pyrmont"


async def test_reason_defaults_to_the_answers_and_can_be_negative_feedback(hurdle_store,
                                                                         hurdle_answer):
    given = hurdle_answer("Wo melde ich mein Auto an? Rinteln", reason="answered",
                          topic="kfz-zulassung", places=[("Rinteln", "residence", None)])
    await hurdle_store.log_answer(hurdle_answer("Angelschein?"))
    await hurdle_store.log_answer(given, reason="negative_feedback", asker=1, feedback_for="m-42")
    assert rows(hurdle_store, "SELECT reason, feedback_for FROM entries ORDER BY id") == [
        ("no_topic", None), ("negative_feedback", "m-42")]
    [hurdle] = await hurdle_store.hurdles(topic="kfz-zulassung")
    assert hurdle.reason == "negative_feedback"


async def test_long_questions_are_cut(hurdle_store, hurdle_answer):
    await hurdle_store.log_answer(hurdle_answer("Hilfe " * 1000))
    [(length,)] = rows(hurdle_store, "SELECT length(question) FROM entries")
    assert length == MAX_QUESTION


async def test_sql_in_a_question_is_just_text(hurdle_store, hurdle_answer):
    question = "x'); DROP TABLE entries; --"
    await hurdle_store.log_answer(hurdle_answer(question))
    assert rows(hurdle_store, "SELECT question FROM entries") == [(question,)]


# -- privacy ---------------------------------------------------------------------------------------
async def test_the_asker_key_is_a_keyed_hash_that_needs_the_secret(tmp_path):
    async with (await HurdleStore.open(tmp_path / "a.sqlite", "secret-A") as store,
                await HurdleStore.open(tmp_path / "b.sqlite", "secret-B") as other):
        key = store.asker_key(123456789)
        assert key == store.asker_key("123456789")
        assert len(key) == 16 and int(key, 16) >= 0
        assert key != other.asker_key(123456789)
        assert store.asker_key(123456790) != key


async def test_no_raw_telegram_id_reaches_the_file(hurdle_store, hurdle_answer):
    await hurdle_store.log_answer(hurdle_answer("Wo gibt es Angelscheine?"), asker=987654321)
    await hurdle_store.close()
    raw = stored_bytes(hurdle_store)
    assert b"987654321" not in raw
    assert rows(hurdle_store, "SELECT asker FROM entries") == [
        (hurdle_store.asker_key(987654321),)]


async def test_repeats_are_counted_per_asker(hurdle_store, hurdle_answer):
    for asker in (1, 1, 2):
        await hurdle_store.log_answer(hurdle_answer("Wo gibt es Angelscheine?"), asker=asker)
    [hurdle] = await hurdle_store.hurdles()
    assert (hurdle.count, hurdle.askers) == (3, 2)


async def test_forget_removes_all_entries_of_one_user_and_their_question_as_title(
        hurdle_store, hurdle_answer):
    await hurdle_store.log_answer(hurdle_answer("Wo bekomme ich einen Angelschein, Lügde"),
                                  asker="alice")
    await hurdle_store.log_answer(hurdle_answer("Wo bekomme ich einen Angelschein?"), asker="bob")
    await hurdle_store.log_answer(hurdle_answer("Wer macht Fischereischeine?"), asker="alice")
    assert await hurdle_store.forget("alice") == 2
    assert await hurdle_store.forget("alice") == 0
    [hurdle] = await hurdle_store.hurdles()
    assert hurdle.title == "Wo bekomme ich einen Angelschein?"
    assert hurdle.examples == ["Wo bekomme ich einen Angelschein?"]
    assert hurdle.count == 1
    raw = stored_bytes(hurdle_store)
    assert b"Fischereischeine" not in raw and b"Angelschein, L" not in raw
    assert b"luegde" not in raw


# -- retention -------------------------------------------------------------------------------------
async def test_purge_deletes_entries_older_than_the_retention(tmp_path, hurdle_answer):
    async with await HurdleStore.open(tmp_path / "h.sqlite", "s", retention_days=30) as store:
        await store.log_answer(hurdle_answer("Angelschein?"), at=NOW - timedelta(days=31))
        await store.log_answer(hurdle_answer("Hundesteuer für Pferde?"),
                               at=NOW - timedelta(days=29))
        assert await store.purge(now=NOW) == 1
        assert [h.title for h in await store.hurdles()] == ["Hundesteuer für Pferde?"]


async def test_opening_the_log_purges_expired_entries(tmp_path, hurdle_answer):
    async with await HurdleStore.open(tmp_path / "h.sqlite", "s", retention_days=30) as store:
        await store.log_answer(hurdle_answer("Angelschein?"),
                               at=datetime.now(UTC) - timedelta(days=40))
        await store.log_answer(hurdle_answer("Hundesteuer für Pferde?"))
    async with await HurdleStore.open(tmp_path / "h.sqlite", "s", retention_days=30) as store:
        assert [h.title for h in await store.hurdles()] == ["Hundesteuer für Pferde?"]
        assert rows(tmp_path / "h.sqlite", "SELECT COUNT(*) FROM hurdles") == [(1,)]


# -- status ----------------------------------------------------------------------------------------
async def test_staff_set_a_status_and_a_note(hurdle_store, hurdle_answer):
    await hurdle_store.log_answer(hurdle_answer("Angelschein?"))
    [hurdle] = await hurdle_store.hurdles()
    assert hurdle.status == "new" and hurdle.note is None
    changed = await hurdle_store.set_status(hurdle.id, "forwarded", "an die Fischereibehörde")
    assert (changed.status, changed.note) == ("forwarded", "an die Fischereibehörde")
    assert changed.status_changed is not None
    kept = await hurdle_store.set_status(hurdle.id, "in_review")
    assert (kept.status, kept.note) == ("in_review", "an die Fischereibehörde")
    assert (await hurdle_store.hurdle(hurdle.id)).status == "in_review"


async def test_unknown_status_and_unknown_hurdle_are_refused(hurdle_store, hurdle_answer):
    await hurdle_store.log_answer(hurdle_answer("Angelschein?"))
    with pytest.raises(ValueError, match="unknown status"):
        await hurdle_store.set_status(1, "done")
    with pytest.raises(KeyError):
        await hurdle_store.set_status(999, "forwarded")
    assert await hurdle_store.hurdle(999) is None


async def test_open_only_hides_hurdles_that_were_dealt_with(hurdle_store, hurdle_answer):
    for question in ("Angelschein?", "Jagdschein?", "Waffenschein?"):
        await hurdle_store.log_answer(hurdle_answer(question, topic=question.lower()))
    await hurdle_store.set_status(1, "answered_by_update")
    await hurdle_store.set_status(2, "in_review")
    assert {h.title for h in await hurdle_store.hurdles(open_only=True)} == {
        "Jagdschein?", "Waffenschein?"}
    assert [h.title for h in await hurdle_store.hurdles(status="answered_by_update")] == [
        "Angelschein?"]


# -- listing ---------------------------------------------------------------------------------------
async def test_hurdles_are_sorted_by_count_then_most_recent(hurdle_store, hurdle_answer):
    log = hurdle_store.log_answer
    await log(hurdle_answer("Angelschein?", topic="a"), at=NOW)
    await log(hurdle_answer("Jagdschein?", topic="b"), at=NOW + timedelta(hours=1))
    for _ in range(3):
        await log(hurdle_answer("Waffenschein?", topic="c"), at=NOW - timedelta(days=5))
    assert [h.title for h in await hurdle_store.hurdles()] == [
        "Waffenschein?", "Jagdschein?", "Angelschein?"]
    assert [h.title for h in await hurdle_store.hurdles(limit=1, offset=1)] == ["Jagdschein?"]


async def test_filters_by_topic_district_and_time(hurdle_store, hurdle_answer):
    log = hurdle_store.log_answer
    await log(hurdle_answer("Kita Platz Lügde, wohne in Lügde", "needs_place", "kita-platz",
                            [("Lügde", "residence", None)]), at=NOW - timedelta(days=10))
    await log(hurdle_answer("Kita Platz Lügde, wohne in Lügde", "needs_place", "kita-platz",
                            [("Lügde", "residence", None)]), at=NOW)
    await log(hurdle_answer("Wohngeld Hameln", "outside_region", "wohngeld",
                            [("Hameln", "residence", None)]), at=NOW)
    assert [h.topic for h in await hurdle_store.hurdles(topic="wohngeld")] == ["wohngeld"]
    assert [h.topic for h in await hurdle_store.hurdles(district="lippe")] == ["kita-platz"]
    [kita] = await hurdle_store.hurdles(district="lippe", since=NOW - timedelta(days=1))
    assert kita.count == 1 and kita.first_seen == NOW
    [early] = await hurdle_store.hurdles(until=NOW)
    assert (early.topic, early.count) == ("kita-platz", 1)
    assert await hurdle_store.hurdles(district="hoexter") == []


async def test_a_hurdle_shows_examples_district_pairs_and_laender(hurdle_store, hurdle_answer):
    log = hurdle_store.log_answer
    for i in range(7):
        await log(hurdle_answer(f"Elterngeld, ich wohne in Lügde und arbeite in Hameln ({i})",
                                "needs_place", "elterngeld",
                                [("Lügde", "residence", None), ("Hameln", "business_site", None)]),
                  at=NOW + timedelta(minutes=i))
    await log(hurdle_answer("Elterngeld, ich wohne in Höxter und arbeite in Holzminden",
                            "needs_place", "elterngeld",
                            [("Höxter", "residence", None), ("Holzminden", "business_site", None)]),
              at=NOW - timedelta(days=1))
    [hurdle] = await hurdle_store.hurdles()
    assert hurdle.count == 8
    assert len(hurdle.examples) == 5
    assert hurdle.examples[0].endswith("(6)")  # most recent first
    assert hurdle.district_pairs == ["lippe→hameln-pyrmont", "hoexter→holzminden"]
    assert hurdle.lands == ["NI", "NW"]
    assert hurdle.first_seen == NOW - timedelta(days=1)
    assert hurdle.last_seen == NOW + timedelta(minutes=6)
    assert hurdle.to_json()["first_seen"] == (NOW - timedelta(days=1)).isoformat()


async def test_stats_give_the_totals_for_an_overview(hurdle_store, hurdle_answer):
    now = datetime.now(UTC)
    log = hurdle_store.log_answer
    await log(hurdle_answer("Angelschein?"), asker=1, at=now - timedelta(days=20))
    await log(hurdle_answer("Angelschein?"), asker=2, at=now)
    await log(hurdle_answer("Kfz Bielefeld", "outside_region", "kfz-zulassung"), asker=1, at=now)
    await hurdle_store.set_status(2, "not_a_hurdle")
    stats = await hurdle_store.stats()
    assert stats["entries"] == 3 and stats["askers"] == 2 and stats["hurdles"] == 2
    assert stats["last_7_days"] == 2
    assert stats["by_status"] == {s: {"new": 1, "not_a_hurdle": 1}.get(s, 0) for s in STATUSES}
    assert stats["by_reason"] == {"no_topic": 2, "outside_region": 1}
    assert stats["by_topic"] == {"(none)": 2, "kfz-zulassung": 1}


async def test_without_a_secret_keys_are_random_per_run_never_reversible(tmp_path,
                                                                         hurdle_answer):
    async with (await HurdleStore.open(tmp_path / "h.sqlite", "") as first,
                await HurdleStore.open(tmp_path / "h.sqlite", "") as second):
        assert first.asker_key(42) != second.asker_key(42)
