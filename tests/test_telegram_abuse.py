"""Hostile text that reaches the hurdle log is stored as text: no injected SQL, no markup back."""

from __future__ import annotations

from conftest import read_rows

from bot.hurdles import HurdleStore

MALLORY = 9501
HOSTILE = ("Namensänderung in Hameln?'); DROP TABLE entries; -- \u200b<b>x</b> "
           "\" OR 1=1; UPDATE hurdles SET status='not_a_hurdle'")


async def test_a_sql_looking_question_is_logged_verbatim_and_the_log_stays_whole(
        telegram_api, start_bot, hurdle_store: HurdleStore):
    async with start_bot():
        waiting = telegram_api.next_message(MALLORY)
        telegram_api.send_text(telegram_api.user(MALLORY), HOSTILE)
        reply = await waiting
    assert "<b>x</b>" not in reply.text  # the fake Bot API parsed the reply's HTML strictly
    if hurdle_store.url.is_file:
        assert read_rows(hurdle_store, "PRAGMA integrity_check") == [("ok",)]
    [(question,)] = read_rows(hurdle_store, "SELECT question FROM entries")
    [(status,)] = read_rows(hurdle_store, "SELECT status FROM hurdles")
    assert question == HOSTILE.replace("\u200b", " ").replace("  ", " ")  # invisible char gone
    assert status == "new"


FORGED = ["", "fb", "fb:", "fb::+", "fb:1:", "fb:x:+", "fb:99999999999999999999999:-", "fb:٣:+",
          "alt:1:", "alt:1:nicht-da", "c:1:999999", "d:1:2", "d:7:1", "o:", "n:5", "x:", "x:0",
          "t:", "t:gibt-es-nicht", "tp:-1", "tp:999999", "lang:xx", "lang:", "h:p:1", "h:set:1:x",
          "²", "\u0000", "a" * 64, "🙂" * 16, "<b>x</b>", "'; DROP TABLE hurdles; --"]


async def test_forged_button_data_gets_a_polite_answer_and_breaks_nothing(
        telegram_api, start_bot, caplog):
    async with start_bot():
        card = await ask_and_wait(telegram_api, "Kita-Platz in Lügde")
        for i, data in enumerate(FORGED):  # one presser each: the flood limit stays out of it
            seen = len(telegram_api.calls_to("answerCallbackQuery"))
            telegram_api.press(telegram_api.user(MALLORY + 1 + i), card, data)
            await telegram_api.wait_for_call("answerCallbackQuery", seen + 1)
        after = await ask_and_wait(telegram_api, "Wohngeld in Hameln")
    assert "error while handling" not in caplog.text
    assert "Hameln" in after.plain


async def ask_and_wait(api, text: str):
    waiting = api.next_message(MALLORY)
    api.send_text(api.user(MALLORY), text)
    return await waiting
