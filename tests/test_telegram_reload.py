"""Staff reload the knowledge base with /reload: a valid base replaces the running one, a broken
one changes nothing but is reported line by line; the bot answers throughout."""

from __future__ import annotations

import asyncio
import logging
import threading

from conftest import CAR_TITLE, CAR_TITLE_EDITED, break_knowledge, retitle_car_topic
from conftest import TELEGRAM_STAFF_ID as STAFF
from fake_bot_api import FakeBotApi

import handlers.reload
from bot.engine import Engine

ANNA = 8001
CAR = "Wo melde ich mein Auto an? Ich wohne in Rinteln."
OLD_TITLE, NEW_TITLE = CAR_TITLE, CAR_TITLE_EDITED
REFUSAL = "Dieser Befehl ist dem WeserBot-Team vorbehalten."


async def ask(api: FakeBotApi, user_id: int, text: str) -> str:
    waiting = api.next_message(user_id)
    api.send_text(api.user(user_id), text)
    return (await waiting).plain


async def test_reload_switches_the_answers_to_the_changed_knowledge_base(
        telegram_api, start_bot, bot_config, kb_copy):
    bot_config.knowledge_dir = kb_copy
    async with start_bot(config=bot_config, engine_=Engine.load(kb_copy)):
        before = await ask(telegram_api, ANNA, CAR)
        retitle_car_topic(kb_copy)
        unchanged = await ask(telegram_api, ANNA, CAR)  # files alone change nothing
        done = await ask(telegram_api, STAFF, "/reload")
        after = await ask(telegram_api, ANNA, CAR)
    assert OLD_TITLE in before and OLD_TITLE in unchanged
    topics = len(Engine.load(kb_copy).kb.topics)
    assert done.startswith(f"✅ Wissensbasis neu geladen: {topics} Themen, 201 Gemeinden")
    assert NEW_TITLE in after and OLD_TITLE not in after


async def test_a_broken_knowledge_base_is_not_loaded_and_the_staff_get_the_problem_lines(
        telegram_api, start_bot, bot_config, kb_copy, caplog):
    bot_config.knowledge_dir = kb_copy
    caplog.set_level(logging.INFO)
    async with start_bot(config=bot_config, engine_=Engine.load(kb_copy)):
        retitle_car_topic(kb_copy)
        await ask(telegram_api, STAFF, "/reload")
        problems = break_knowledge(kb_copy)
        failed = await ask(telegram_api, STAFF, "/reload")
        after = await ask(telegram_api, ANNA, CAR)
        rent = await ask(telegram_api, ANNA, "Wohngeld beantragen in 32676")
    assert failed.startswith("⚠️ Wissensbasis nicht neu geladen – die bisherige bleibt in "
                             "Betrieb. 2 Probleme:")
    lines = failed.splitlines()
    for problem in problems:  # file:line: field: what is wrong, in the reply and in the log
        assert any(line.startswith(problem) for line in lines), (problem, lines)
        assert any(r.getMessage().startswith(problem) and r.levelno == logging.ERROR
                   for r in caplog.records)
    assert NEW_TITLE in after and "Rinteln" in after  # the last good base answers on
    assert "Wohngeld" in rent and "Lügde" in rent  # the topic whose file is broken, too


async def test_the_bot_keeps_answering_while_a_reload_is_loading(telegram_api, start_bot,
                                                                bot_config, kb_copy, monkeypatch):
    bot_config.knowledge_dir = kb_copy
    engine, real_load = Engine.load(kb_copy), Engine.load
    gate, loading = threading.Event(), threading.Event()

    def slow_load(folder):  # runs in the worker thread
        loading.set()
        assert gate.wait(10), "the answer to Anna never came"
        return real_load(folder)

    monkeypatch.setattr(handlers.reload.Engine, "load", slow_load)
    async with start_bot(config=bot_config, engine_=engine):
        retitle_car_topic(kb_copy)
        reloaded = telegram_api.next_message(STAFF)
        telegram_api.send_text(telegram_api.user(STAFF), "/reload")
        assert await asyncio.wait_for(asyncio.to_thread(loading.wait, 10), 11)
        during = await ask(telegram_api, ANNA, CAR)  # answered while the base is loading
        gate.set()
        done = (await reloaded).plain
        after = await ask(telegram_api, ANNA, CAR)
    assert OLD_TITLE in during and done.startswith("✅")
    assert NEW_TITLE in after


async def test_only_staff_may_reload_and_only_where_staff_commands_are_allowed(
        telegram_api, start_bot, monkeypatch):
    loads = []
    monkeypatch.setattr(handlers.reload.Engine, "load", loads.append)
    async with start_bot():
        refused = await ask(telegram_api, ANNA, "/reload")
        waiting = telegram_api.next_message(-100555)
        telegram_api.send_text(telegram_api.user(STAFF), "/reload", chat_id=-100555)
        in_a_group = (await waiting).plain
    assert refused == in_a_group == REFUSAL
    assert loads == []
