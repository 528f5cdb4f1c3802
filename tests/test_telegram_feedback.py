"""What reaches the hurdle log from Telegram (a real SQLite store), and /forget taking it back."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from conftest import press_button, read_rows, table_names
from fake_bot_api import FakeBotApi

from bot.engine import Engine
from bot.hurdles import HurdleStore
from handlers.context import SERVICES

ANNA, BOB = 2001, 2002
CAR = "Wo melde ich mein Auto an? Ich wohne in Rinteln."


async def ask(api: FakeBotApi, user_id: int, text: str):
    waiting = api.next_message(user_id)
    api.send_text(api.user(user_id), text)
    return await waiting




async def test_thumbs_down_logs_question_and_answer_as_a_hurdle(telegram_api, start_bot,
                                                                hurdle_store: HurdleStore,
                                                                engine: Engine):
    async with start_bot():
        answer = await ask(telegram_api, ANNA, CAR)
        edits = len(telegram_api.calls_to("editMessageText"))
        thanks = await press_button(telegram_api, ANNA, answer, answer.button("👎")["callback_data"])
        await telegram_api.wait_for_call("editMessageText", edits + 1)
        again = await press_button(telegram_api, ANNA, answer, "fb:1:-")
    [hurdle] = await hurdle_store.hurdles()
    assert (hurdle.reason, hurdle.topic, hurdle.title, hurdle.count) == (
        "negative_feedback", "kfz-zulassung", CAR, 1)
    assert thanks.startswith("Danke! Ich habe die Frage für das Team notiert")
    assert again == "Diese Antwort haben Sie schon bewertet."
    assert "👎" not in [b["text"] for b in answer.buttons]  # rated: only the link button left
    assert answer.button("🌐")["url"] == engine.ask(CAR).office.url


async def test_thumbs_up_logs_nothing(telegram_api, start_bot, hurdle_store: HurdleStore):
    async with start_bot():
        answer = await ask(telegram_api, ANNA, CAR)
        assert await press_button(telegram_api, ANNA, answer, answer.button("👍")["callback_data"]) == (
            "Danke für Ihre Rückmeldung!")
    assert await hurdle_store.hurdles() == []


async def test_forged_or_foreign_feedback_buttons_log_nothing(telegram_api, start_bot,
                                                            hurdle_store: HurdleStore):
    async with start_bot():
        answer = await ask(telegram_api, ANNA, CAR)
        unknown = await press_button(telegram_api, ANNA, answer, "fb:99:-")
        foreign = await press_button(telegram_api, BOB, answer, answer.button("👎")["callback_data"])
        garbage = await press_button(telegram_api, ANNA, answer, "fb:1:-:x'; DROP TABLE hurdles")
        other = await press_button(telegram_api, ANNA, answer, "no-such-button")
    assert await hurdle_store.hurdles() == []
    assert unknown == foreign == garbage == other == (
        "Diese Schaltfläche ist nicht mehr gültig – bitte stellen Sie Ihre Frage neu.")


async def test_unanswerable_questions_are_logged_and_so_is_an_abandoned_where(
        telegram_api, start_bot, hurdle_store: HurdleStore):
    async with start_bot():
        await ask(telegram_api, ANNA, "Wo bekomme ich eine Namensänderung? Ich wohne in Hameln.")
        await ask(telegram_api, ANNA, "Wo bekomme ich einen Kita-Platz?")  # where? …
        await ask(telegram_api, ANNA, "Hallo")  # … small talk keeps it open …
        await ask(telegram_api, ANNA, CAR)  # … a new question abandons it
        await ask(telegram_api, ANNA, "Lügde")  # so this completes nothing
    logged = {(h.reason, h.topic, h.title) for h in await hurdle_store.hurdles()}
    assert logged == {
        ("no_topic", None, "Wo bekomme ich eine Namensänderung? Ich wohne in Hameln."),
        ("needs_place", "kita-platz", "Wo bekomme ich einen Kita-Platz?"),
    }


async def test_forget_deletes_the_users_hurdles_and_conversation_state(
        telegram_api, start_bot, bot_config, hurdle_store: HurdleStore):
    def saved_users() -> set[int]:
        """Whose conversation state is in the database (rows are keyed by a pseudonym)."""
        keeper = app.bot_data[SERVICES].state
        keys = {row[0] for row in read_rows(bot_config, "SELECT user_key FROM state_users")}
        return {u for u in (ANNA, BOB) if keeper.store.user_key(u) in keys}

    async with start_bot() as app:
        answer = await ask(telegram_api, ANNA, CAR)
        await press_button(telegram_api, ANNA, answer, answer.button("👎")["callback_data"])
        await ask(telegram_api, BOB, "Wo bekomme ich eine Namensänderung? Ich wohne in Hameln.")
        await ask(telegram_api, ANNA, "/language")
        await ask(telegram_api, ANNA, "Wo bekomme ich einen Kita-Platz?")
        before = saved_users()
        done = await ask(telegram_api, ANNA, "/forget")
        after = saved_users()
        reply = await ask(telegram_api, ANNA, "Lügde")
        rate_again = await press_button(telegram_api, ANNA, answer, "fb:1:+")
    assert done.plain.startswith("Erledigt") and "1 Eintrag" in done.plain
    assert [h.reason for h in await hurdle_store.hurdles()] == ["no_topic"]  # Bob's stays
    assert before == {ANNA, BOB} and after == {BOB}
    assert "Wohnort in Lügde" not in reply.plain  # the open question is gone
    assert rate_again.startswith("Diese Schaltfläche ist nicht mehr gültig")


async def test_the_saved_conversation_holds_no_telegram_id(telegram_api, start_bot, bot_config):
    carla = 987654321  # an id that cannot appear by chance
    async with start_bot():
        answer = await ask(telegram_api, carla, CAR)
        await press_button(telegram_api, carla, answer, answer.button("👍")["callback_data"])
        await ask(telegram_api, carla, "Wo bekomme ich einen Kita-Platz?")
    rows = [str(row) for t in table_names(bot_config)
            for row in read_rows(bot_config, f"SELECT * FROM {t}")]
    assert rows and not any(str(carla) in row for row in rows)


async def test_without_a_configured_secret_forget_still_works_after_a_restart(
        telegram_api, start_bot, tmp_path):
    from bot.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text(path.read_text().replace("secret: test-secret", "secret: null"))

    async with start_bot(config=load_config(path), store=None):
        await ask(telegram_api, ANNA, "Wo bekomme ich eine Namensänderung? Ich wohne in Hameln.")
    key = tmp_path / "weserbot-hurdles.key"
    assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
    async with start_bot(config=load_config(path), store=None):  # a new start, the same key
        await ask(telegram_api, ANNA, "/forget")
    with closing(sqlite3.connect(tmp_path / "hurdles.sqlite")) as db:
        assert db.execute("SELECT COUNT(*) FROM entries").fetchone() == (0,)
