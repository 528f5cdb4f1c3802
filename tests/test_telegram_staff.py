"""Staff review the hurdle log in Telegram; nobody else can read or change it."""

from __future__ import annotations

import pytest
from conftest import TELEGRAM_STAFF_ID as STAFF
from conftest import press_button
from fake_bot_api import FakeBotApi

from bot.answer import Answer
from bot.hurdles import HurdleStore

ANNA = 3001
REFUSAL = "Dieser Befehl ist dem WeserBot-Team vorbehalten."
SECRET_QUESTION = "Wo beantrage ich einen <Jagdschein> & Waffenschein in Hameln?"


async def seed(store: HurdleStore, count: int = 1) -> None:
    """`count` open hurdles; the first is asked twice by two people."""
    for i in range(count):
        question = SECRET_QUESTION if i == 0 else f"Seltene Frage Nummer {i}"
        answer = Answer(question, "de", "no_topic", "", topic=None if i == 0 else f"seed-{i}")
        await store.log_answer(answer, asker=4000 + i)
    await store.log_answer(Answer(SECRET_QUESTION, "de", "no_topic", ""), asker=4999)


async def ask(api: FakeBotApi, user_id: int, text: str, chat_id: int | None = None):
    chat = user_id if chat_id is None else chat_id
    waiting = api.next_message(chat)
    api.send_text(api.user(user_id), text, chat_id=chat_id)
    return await waiting




@pytest.mark.parametrize("command", ["/hurdles", "/hurdle 1", "/hurdle", "/stats",
                                     "/hurdles 99999999999999999999"])
async def test_others_get_a_polite_refusal_that_reveals_nothing(telegram_api, start_bot,
                                                                hurdle_store, command):
    await seed(hurdle_store)
    async with start_bot():
        reply = await ask(telegram_api, ANNA, command)
    assert reply.plain == REFUSAL and not reply.buttons


async def test_a_forged_status_button_from_someone_else_changes_nothing(telegram_api, start_bot,
                                                                       hurdle_store):
    await seed(hurdle_store)
    async with start_bot():
        staff_view = await ask(telegram_api, STAFF, "/hurdle 1")
        own_message = await ask(telegram_api, ANNA, "/start")
        on_staff_message = await press_button(telegram_api, ANNA, staff_view, "h:set:1:not_a_hurdle")
        on_own_message = await press_button(telegram_api, ANNA, own_message, "h:set:1:answered_by_update")
        listing = await press_button(telegram_api, ANNA, own_message, "h:p:0")
    assert on_staff_message == on_own_message == listing == REFUSAL
    assert (await hurdle_store.hurdle(1)).status == "new"
    assert SECRET_QUESTION not in own_message.plain
    assert [c for c in telegram_api.calls_to("editMessageText")] == []


async def test_staff_commands_stay_out_of_other_groups(telegram_api, start_bot, hurdle_store):
    await seed(hurdle_store)
    async with start_bot():
        reply = await ask(telegram_api, STAFF, "/hurdles", chat_id=-100555)
    assert reply.plain == REFUSAL


async def test_staff_page_through_open_hurdles_open_one_and_set_its_status(
        telegram_api, start_bot, hurdle_store):
    await seed(hurdle_store, count=7)
    async with start_bot():
        page1 = await ask(telegram_api, STAFF, "/hurdles")
        first_page = page1.plain
        assert await press_button(telegram_api, STAFF, page1, page1.button("Weiter")["callback_data"]) == ""
        await telegram_api.wait_for(lambda: "(Seite 2)" in page1.plain, what="page 2")
        second_page = page1.plain
        detail = await ask(telegram_api, STAFF, "/hurdle 1")
        done = await press_button(telegram_api, STAFF, detail, detail.button("in Prüfung")["callback_data"])
        await telegram_api.wait_for(lambda: "in Prüfung" in detail.plain.split("\n")[0],
                                    what="edited status")
        stats = await ask(telegram_api, STAFF, "/stats")
    assert first_page.startswith("Offene Hürden (Seite 1)")
    assert "#1 · 2× · 👤 2 · neu" in first_page and SECRET_QUESTION in first_page
    assert first_page.count("×") == 5 and second_page.count("×") == 2
    assert SECRET_QUESTION in detail.plain and "&lt;Jagdschein&gt; &amp;" in detail.text
    assert done == "Status von #1: in Prüfung"
    assert (await hurdle_store.hurdle(1)).status == "in_review"
    assert "Einträge: 8" in stats.plain and "Hürden: 7" in stats.plain


async def test_missing_hurdles_and_bad_numbers_are_answered_plainly(telegram_api, start_bot):
    async with start_bot():
        missing = await ask(telegram_api, STAFF, "/hurdle 42")
        nonsense = await ask(telegram_api, STAFF, "/hurdle <b>x</b>")
        empty = await ask(telegram_api, STAFF, "/hurdles")
    assert missing.plain.startswith("Hürde #42 gibt es nicht")
    assert nonsense.plain == "Bitte so: /hurdle 12"  # not "Hürde #0 gibt es nicht"
    assert empty.plain == "Keine offenen Hürden. 🎉"


async def test_the_staff_chat_hears_of_each_new_hurdle_once(telegram_api, start_bot, bot_config,
                                                           hurdle_store):
    bot_config.staff_chat_id = -100999
    question = "Wo bekomme ich eine Namensänderung? Ich wohne in Hameln."
    async with start_bot(config=bot_config):
        await ask(telegram_api, ANNA, question)
        await ask(telegram_api, ANNA, question)
        [notice] = await telegram_api.wait_for_messages(-100999, 1)
        await ask(telegram_api, STAFF, "/hurdles", chat_id=-100999)  # allowed in the staff chat
    assert notice.plain.startswith("🆕 Neue Hürde #1 (kein Thema, Thema: –)")
    assert question in notice.plain
    assert len(telegram_api.sent_to(-100999)) == 2
