"""The conversation survives a restart of the bot (its state is in the database: bot/state.py)."""

from __future__ import annotations

import asyncio
import json

from conftest import read_rows

from bot.engine import Engine
from bot.knowledge import load_knowledge
from handlers.context import SERVICES

ANNA = 5001

RESIDENCE_QUESTION = load_knowledge().texts.get("de", "role.residence.question")


async def test_a_restart_in_the_middle_of_a_clarification_loses_nothing(telegram_api, start_bot,
                                                                        engine: Engine):
    anna = telegram_api.user(ANNA, "Anna", "de")
    async with start_bot():
        picker = telegram_api.next_message(ANNA)
        telegram_api.send_text(anna, "/language")
        picker = await picker
        telegram_api.press(anna, picker, "lang:en")
        await telegram_api.wait_for(lambda: picker.plain.startswith("Fine"), what="language set")
        telegram_api.send_text(anna, "Wo bekomme ich einen Kita-Platz?")
        [_, asked] = await telegram_api.wait_for_messages(ANNA, 2)
    # The bot is down now; Anna answers anyway. A new process with the same files starts.
    telegram_api.send_text(anna, "Lügde")
    async with start_bot():
        [*_, answer] = await telegram_api.wait_for_messages(ANNA, 3)
        telegram_api.send_text(anna, "/start")
        [*_, start] = await telegram_api.wait_for_messages(ANNA, 4)
    expected = engine.ask("Lügde", context=engine.ask("Wo bekomme ich einen Kita-Platz?").context)
    assert RESIDENCE_QUESTION in asked.plain
    assert expected.office.name in answer.plain and "Wohnort in Lügde" in answer.plain
    assert start.plain.startswith("Hello Anna!")  # the chosen language survived too


async def test_an_open_question_saved_by_an_older_version_is_dropped_quietly(telegram_api,
                                                                            start_bot):
    anna = telegram_api.user(ANNA, "Anna", "de")
    async with start_bot() as app:
        store = app.bot_data[SERVICES].state.store
        await store.save(ANNA, {"pending": {"question": "Kita?", "shape": "of an older version"}})
        telegram_api.send_text(anna, "Kita-Platz in Hameln")
        [answer] = await telegram_api.wait_for_messages(ANNA, 1)
        for _ in range(100):  # until the update is finished and Anna's state saved
            if ANNA not in app.user_data:
                break
            await asyncio.sleep(0.01)
        saved = await store.load(ANNA)
    assert "Wohnort in Hameln" in answer.plain
    assert "pending" not in saved
    assert ANNA not in app.user_data  # saved, and out of memory until Anna writes again


async def test_a_damaged_old_state_file_is_moved_aside_with_one_line_and_the_bot_answers(
        telegram_api, start_bot, bot_config, caplog):
    old = bot_config.telegram.persistence_file
    old.write_bytes(b"\x80\x04not a pickle at all")
    async with start_bot():
        anna = telegram_api.user(ANNA, "Anna", "de")
        waiting = telegram_api.next_message(ANNA)
        telegram_api.send_text(anna, "Kita-Platz in Hameln")
        answer = await waiting
    assert "Wohnort in Hameln" in answer.plain
    assert not old.exists() and old.with_name(old.name + ".damaged").exists()
    lines = [r for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None


async def test_idle_users_are_not_kept_in_memory(telegram_api, start_bot):
    users = range(7000, 7200)
    async with start_bot() as app:
        for user_id in users:
            telegram_api.send_text(telegram_api.user(user_id, "U", "de"), "Kita-Platz in Hameln")
        for user_id in users:
            await telegram_api.wait_for_messages(user_id, 1)
        last = telegram_api.next_message(ANNA)  # one more conversation after all of them
        telegram_api.send_text(telegram_api.user(ANNA, "Anna", "de"), "Kita-Platz in Lügde")
        await last
        kept = [u for u in users if u in app.user_data]
    assert len(kept) <= 2  # not 200: a user's state lives in the database between messages


async def test_a_getupdates_confirms_only_updates_already_in_the_inbox(telegram_api, start_bot,
                                                                      bot_config):
    """Polling: the updates of one fetch are committed together, and the next getUpdates, whose
    offset tells Telegram to forget them, goes out only after that."""
    seen: list[tuple[int, set[int]]] = []

    def at_fetch(call) -> None:
        if call.method == "getUpdates" and int(call.params.get("offset") or 0) > 1:
            kept = read_rows(bot_config, "SELECT update_id FROM state_inbox")
            seen.append((int(call.params["offset"]), {row[0] for row in kept}))

    users = [telegram_api.user(user_id, "U", "de") for user_id in range(7300, 7330)]
    async with start_bot():
        await telegram_api.wait_for_call("getUpdates")
        telegram_api.observe = at_fetch
        sent = [telegram_api.send_text(user, f"Kita-Platz in Hameln, Frage {n}")["update_id"]
                for n in range(3) for user in users]
        for user in users:
            await telegram_api.wait_for_messages(user.id, 3)
    assert seen and max(offset for offset, _ in seen) > max(sent)
    for offset, kept in seen:
        assert {u for u in sent if u < offset} <= kept, offset


async def test_the_inbox_keeps_an_update_as_telegram_sent_it(telegram_api, start_bot, bot_config):
    """Polling: what is committed is Telegram's own JSON, fields python-telegram-bot does not
    know included, not python-telegram-bot's object encoded back."""
    kept: list[str] = []

    def at_reply(call) -> None:  # the update is in the inbox until its answer is done
        if call.method == "sendMessage":
            kept.extend(row[0] for row in read_rows(
                bot_config, "SELECT payload FROM state_inbox WHERE update_id = ?", (update_id,)))

    user = telegram_api.user(7400, "U", "de")
    async with start_bot():
        await telegram_api.wait_for_call("getUpdates")
        telegram_api.observe = at_reply
        sent = telegram_api.send(user, text="Kita-Platz in Hameln",
                                 x_field_from_a_later_api={"kept": [1, "zwei"]})
        update_id = sent["update_id"]
        await telegram_api.wait_for_messages(user.id, 1)
    assert kept and json.loads(kept[0]) == sent
