"""Hurdles grouped by meaning, each with a cause; cross-border ones counted by district and Land pair."""

from __future__ import annotations

import json
import sqlite3

from conftest import read_rows

from bot.hurdle_commands import CSV_FIELDS, to_csv
from bot.hurdles import HurdleStore


async def test_the_same_question_from_two_districts_is_one_hurdle_with_two_districts(
        hurdle_store, hurdle_answer):
    log = hurdle_store.log_answer
    await log(hurdle_answer("Namensänderung beantragen in Höxter",
                            places=[("Höxter", "residence", None)]), asker=1)
    await log(hurdle_answer("Wo beantrage ich eine Namensänderung? Hameln",
                            places=[("Hameln", "residence", None)]), asker=2)
    await log(hurdle_answer("Grundbuchauszug Rinteln", places=[("Rinteln", None, None)]), asker=3)
    first, second = await hurdle_store.hurdles()
    assert (first.count, first.askers) == (2, 2)
    assert sorted(first.district_pairs) == ["hameln-pyrmont", "hoexter"]
    assert first.lands == ["NI", "NW"] and first.cause == "no_topic"
    assert second.title == "Grundbuchauszug Rinteln" and second.count == 1


async def test_a_thumbs_down_on_a_logged_reply_joins_its_hurdle(hurdle_store, hurdle_answer):
    question = hurdle_answer("Wer hilft bei einer Taubenplage in Stadthagen?")
    await hurdle_store.log_answer(question, asker=1)
    await hurdle_store.log_answer(question, reason="negative_feedback", asker=1,
                                  group_as="no_topic")
    [hurdle] = await hurdle_store.hurdles()
    assert hurdle.count == 2 and hurdle.askers == 1 and hurdle.reason == "no_topic"


async def test_every_hurdle_has_a_cause_and_a_cross_border_question_makes_it_cross_border(
        hurdle_store, hurdle_answer):
    log = hurdle_store.log_answer
    await log(hurdle_answer("Elterngeld", "needs_place", "elterngeld"), asker=1)
    await log(hurdle_answer("Elterngeld wohne in Lügde arbeite in Hameln", "needs_place",
                            "elterngeld", [("Lügde", "residence", None),
                                           ("Hameln", "business_site", None)]), asker=2)
    await log(hurdle_answer("Hundesteuer Bielefeld", "outside_region", "hundesteuer"), asker=3)
    await log(hurdle_answer("Taubenplage"), asker=4)
    await log(hurdle_answer("Kfz anmelden Rinteln", "answered", "kfz-zulassung",
                            [("Rinteln", "residence", None)]), reason="negative_feedback", asker=5)
    causes = {h.title: h.cause for h in await hurdle_store.hurdles()}
    assert causes == {"Elterngeld": "cross_border", "Hundesteuer Bielefeld": "outside_region",
                      "Taubenplage": "no_topic", "Kfz anmelden Rinteln": "unhelpful"}
    [cross] = await hurdle_store.hurdles(cause="cross_border")
    assert cross.title == "Elterngeld"
    summary = await hurdle_store.causes()
    assert list(summary["by_cause"])[0] == "cross_border"
    assert summary["by_cause"] == {"cross_border": 1, "no_place": 1, "outside_region": 1,
                                   "no_topic": 1, "unhelpful": 1}
    assert summary["cross_districts"] == {"lippe→hameln-pyrmont": 1}
    assert summary["cross_lands"] == {"NI–NW": 1}


async def test_the_export_carries_the_cause(hurdle_store, hurdle_answer):
    await hurdle_store.log_answer(hurdle_answer("Taubenplage"), asker=1)
    hurdles = await hurdle_store.hurdles()
    assert "cause" in CSV_FIELDS
    header, row = to_csv(hurdles).splitlines()
    assert dict(zip(header.split(","), row.split(","), strict=False))["cause"] == "no_topic"
    assert hurdles[0].to_json()["cause"] == "no_topic"


async def test_a_version_2_log_gets_causes_for_its_entries(tmp_path, hurdle_answer, monkeypatch):
    import bot.hurdles as hurdles_module

    path = tmp_path / "hurdles.sqlite"
    monkeypatch.setattr(hurdles_module, "SCHEMA_VERSION", 2)
    store = await HurdleStore.open(path, "s", purge_on_open=False)
    db = store._db
    await db.execute(
        "INSERT INTO hurdles (group_key, topic, reason, title, folded) VALUES "
        "('elterngeld/needs_place', 'elterngeld', 'needs_place', 'Elterngeld Lügde Hameln', "
        "'elterngeld luegde hameln')")
    await db.execute(
        "INSERT INTO entries (ts, lang, question, topic, reason, hurdle_id, districts, lands, path,"
        " places) VALUES ('2099-01-01T10:00:00.000000Z', 'de', 'Elterngeld Lügde Hameln', "
        "'elterngeld', 'needs_place', 1, ?, ?, 'lippe→hameln-pyrmont', ?)",
        (json.dumps(["hameln-pyrmont", "lippe"]), json.dumps(["NI", "NW"]),
         json.dumps([{"text": "lügde"}, {"text": "hameln"}])))
    await store.close()
    monkeypatch.undo()
    async with await HurdleStore.open(path, "s") as store:
        [hurdle] = await store.hurdles()
        assert hurdle.cause == "cross_border"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT folded FROM hurdles").fetchone() == ("elterngeld",)


async def test_retention_removes_the_consent_and_the_link_to_the_chat(hurdle_store, hurdle_answer):
    from datetime import UTC, datetime, timedelta

    await hurdle_store.log_answer(hurdle_answer("Taubenplage"), asker=7)
    assert await hurdle_store.request_handoff(1, 7, 7007, "de", "Taubenplage")
    assert not await hurdle_store.request_handoff(1, 7, 7007, "de", "Taubenplage")  # once
    assert [h.chat_id for h in await hurdle_store.waiting_handoffs(1)] == [7007]
    await hurdle_store.purge(now=datetime.now(UTC) + timedelta(days=366))
    assert await hurdle_store.waiting_handoffs() == []
    assert read_rows(hurdle_store, "SELECT COUNT(*) FROM handoffs") == [(0,)]


async def test_forget_removes_the_askers_hand_offs_only(hurdle_store, hurdle_answer):
    await hurdle_store.log_answer(hurdle_answer("Taubenplage"), asker=7)
    await hurdle_store.log_answer(hurdle_answer("Taubenplage Rinteln"), asker=8)
    await hurdle_store.request_handoff(1, 7, 7007, "de", "Taubenplage")
    await hurdle_store.request_handoff(1, 8, 8008, "en", "Taubenplage Rinteln")
    await hurdle_store.forget(7)
    assert [h.chat_id for h in await hurdle_store.waiting_handoffs()] == [8008]
