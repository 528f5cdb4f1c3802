"""The conversation survives a restart of the bot (its state is in the database: bot/state.py)."""

from __future__ import annotations

import asyncio

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
