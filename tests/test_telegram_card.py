"""The answer card on a phone: short, Details in place, choices as buttons, a way out, deep links.

Every test runs the real Application against the fake Bot API and reads what the bot sent."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TELEGRAM_STAFF_ID as STAFF
from conftest import press_button
from fake_bot_api import FakeBotApi, parse_html

from bot.engine import Engine
from handlers.render import answer_view

ANNA, JOHN = 1001, 1002
CARD_CHARS, OFFICE_WITHIN = 700, 250
EVAL = Path(__file__).resolve().parent.parent / "eval" / "questions.jsonl"


async def ask(api: FakeBotApi, user_id: int, text: str, language: str = "de"):
    user = api.user(user_id, "Anna", language)
    waiting = api.next_message(user_id)
    api.send_text(user, text)
    return await waiting


async def press(api: FakeBotApi, user_id: int, message, label: str):
    """Press a button that makes the bot send a new message; returns that message."""
    waiting = api.next_message(user_id)
    api.press(api.user(user_id), message, message.button(label)["callback_data"])
    return await waiting


def test_every_card_over_the_eval_questions_fits_a_phone(engine: Engine):
    sizes = []
    for line in EVAL.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        answer = engine.ask(json.loads(line)["q"])
        if answer.reason != "answered" or answer.office is None:
            continue
        plain = parse_html(answer_view(engine, answer, "1")[0])
        sizes.append(len(plain))
        assert len(plain) <= CARD_CHARS, answer.question
        assert plain.index(answer.office.name) < OFFICE_WITHIN, answer.question
        assert "Mitbringen" not in plain and "Quelle" not in plain
    assert len(sizes) > 100


async def test_details_expand_the_same_message_and_collapse_it_again(telegram_api, start_bot,
                                                                    engine: Engine):
    question = "Kita-Platz in Lügde"
    expected = engine.ask(question)
    async with start_bot():
        card = await ask(telegram_api, ANNA, question)
        short = card.plain
        assert await press_button(telegram_api, ANNA, card, card.button("Details")[
            "callback_data"]) == ""
        await telegram_api.wait_for_call("editMessageText")
        expanded = card.plain
        await press_button(telegram_api, ANNA, card, card.button("Weniger")["callback_data"])
        await telegram_api.wait_for_call("editMessageText", 2)
    assert "Mitbringen:" in expanded and expected.bring[0] in expanded and "geprüft am" in expanded
    assert card.plain == short and "Mitbringen" not in short
    assert len(telegram_api.sent_to(ANNA)) == 1  # all in place


async def test_an_ambiguous_place_is_chosen_with_a_button_that_answers_once(telegram_api,
                                                                           start_bot):
    async with start_bot():
        asked = await ask(telegram_api, ANNA, "Wohne in Eldagsen, wo Elterngeld beantragen?")
        labels = [b["text"] for b in asked.buttons]
        data = asked.button("Springe")["callback_data"]
        answer = await press(telegram_api, ANNA, asked, "Springe")
        again = await press_button(telegram_api, ANNA, asked, data)
    assert "Springe (Region Hannover)" in labels and labels[-1] == "✖ Andere Frage"
    assert "Region Hannover" in answer.plain and "Springe" in answer.plain
    assert asked.buttons == [] and again in ("Das ist schon erledigt.",
                                             "Diese Schaltfläche ist nicht mehr gültig – bitte "
                                             "stellen Sie Ihre Frage neu.")


async def test_free_text_settles_a_choice_too(telegram_api, start_bot):
    async with start_bot():
        await ask(telegram_api, ANNA, "Wohne in Eldagsen, wo Elterngeld beantragen?")
        answer = await ask(telegram_api, ANNA, "Springe (Region Hannover)")
    assert "Maßgeblich: Wohnort in Springe" in answer.plain
    # Not yet: "Springe bei Hannover" (the engine reads Hannover as a second home).


async def test_the_place_question_offers_location_and_a_placeholder_then_removes_them(
        telegram_api, start_bot):
    async with start_bot():
        asked = await ask(telegram_api, ANNA, "Wo bekomme ich einen Kita-Platz?")
        answer = await ask(telegram_api, ANNA, "Lügde")
        await telegram_api.wait_for_call("editMessageReplyMarkup")
    keyboard = asked.reply_markup
    assert keyboard["input_field_placeholder"] == "Ort oder Postleitzahl"
    assert asked.keyboard[0] == {"text": "📍 Standort senden", "request_location": True}
    assert asked.keyboard[1]["text"] == "✖ Andere Frage"
    sent = [c for c in telegram_api.calls_to("sendMessage") if int(c.params["chat_id"]) == ANNA]
    removed = sent[-1].params["reply_markup"]
    assert (json.loads(removed) if isinstance(removed, str) else removed) == {
        "remove_keyboard": True}
    assert answer.button("Details") and answer.button("👎")  # added by an edit


async def test_cancel_and_other_question_drop_the_open_question(telegram_api, start_bot):
    async with start_bot():
        await ask(telegram_api, ANNA, "Wo bekomme ich einen Kita-Platz?")
        cancelled = await ask(telegram_api, ANNA, "/cancel")
        nothing = await ask(telegram_api, ANNA, "/cancel")
        await ask(telegram_api, ANNA, "Wo bekomme ich einen Kita-Platz?")
        by_key = await ask(telegram_api, ANNA, "✖ Andere Frage")
        lügde = await ask(telegram_api, ANNA, "Lügde")
    assert cancelled.plain.startswith("Gut, die offene Frage ist verworfen")
    assert nothing.plain.startswith("Es ist keine Frage offen")
    assert by_key.plain.startswith("Gut, die offene Frage ist verworfen")
    assert "Kreisjugendamt" not in lügde.plain  # the question was dropped: Lügde alone


async def test_an_off_topic_reply_says_what_is_still_pending(telegram_api, start_bot):
    async with start_bot():
        await ask(telegram_api, ANNA, "Wo bekomme ich einen Kita-Platz?")
        thanks = await ask(telegram_api, ANNA, "Danke")
        weather = await ask(telegram_api, ANNA, "Wie wird das Wetter?")
    assert thanks.plain.startswith("Gern geschehen!") and "Ich warte noch auf den Ort" in thanks.plain
    assert "Kita-Platz" in weather.plain and "Ich warte noch auf den Ort" in weather.plain


async def test_a_place_alone_gets_topic_buttons(telegram_api, start_bot):
    async with start_bot():
        noted = await ask(telegram_api, ANNA, "Ich wohne in Lügde")
        answer = await press(telegram_api, ANNA, noted, "Aufenthaltstitel")
    assert "Wobei kann ich helfen?" in noted.plain and len(noted.buttons) > 3
    assert "Aufenthaltstitel" in answer.plain and "Maßgeblich: Wohnort in Lügde" in answer.plain


async def test_after_an_answer_another_place_and_another_topic(telegram_api, start_bot):
    async with start_bot():
        card = await ask(telegram_api, ANNA, "Kita-Platz in Lügde")
        where = await press(telegram_api, ANNA, card, "Anderer Ort")
        hameln = await ask(telegram_api, ANNA, "Hameln")
        await telegram_api.wait_for_call("editMessageReplyMarkup")  # the card's buttons
        which = await press(telegram_api, ANNA, hameln, "Anderes Thema")
        permit = await press(telegram_api, ANNA, which, "Aufenthaltstitel")
    assert "In welchem Ort wohnen Sie" in where.plain
    assert "Hameln" in hameln.plain and "Kita-Platz" in hameln.plain
    assert "Wobei kann ich helfen?" in which.plain and "Hameln" in which.plain
    assert "Aufenthaltstitel" in permit.plain and "Maßgeblich: Wohnort in Hameln" in permit.plain


async def test_start_with_a_topic_id_starts_that_topic(telegram_api, start_bot):
    async with start_bot():
        deep = await ask(telegram_api, ANNA, "/start kfz-zulassung")
        unknown = await ask(telegram_api, ANNA, "/start nothing-like-this")
    assert "Kfz-Zulassung" in deep.plain and "In welchem Ort wohnen Sie" in deep.plain
    assert unknown.plain.startswith("Hallo Anna!")


async def test_english_users_get_english_cards_and_buttons(telegram_api, start_bot):
    async with start_bot():
        card = await ask(telegram_api, JOHN, "I live in Rinteln, where do I register my dog?",
                         "en")
        await press_button(telegram_api, JOHN, card, card.button("Details")["callback_data"])
        await telegram_api.wait_for_call("editMessageText")
    labels = [b["text"] for b in card.buttons]
    assert "Responsible for" in card.plain and "Source:" in card.plain
    assert "📍 Another place" in labels and "🔄 Another topic" in labels
    assert not any(word in card.plain for word in ("Quelle", "Mitbringen", "Maßgeblich"))


async def test_forget_counts_in_the_right_plural_and_staff_see_their_commands(
        telegram_api, start_bot):
    async with start_bot():
        none = await ask(telegram_api, ANNA, "/forget")
        staff_help = await ask(telegram_api, STAFF, "/help")
        help_text = await ask(telegram_api, ANNA, "/help")
    assert "0 Einträge" in none.plain and "Eintrag/" not in none.plain
    assert "/hurdles" in staff_help.plain and "/hurdles" not in help_text.plain


async def test_details_taps_do_not_count_towards_the_flood_limit(telegram_api, start_bot,
                                                                 bot_config):
    limit = bot_config.telegram.flood_limit
    async with start_bot():
        card = await ask(telegram_api, ANNA, "Kita-Platz in Lügde")
        for i in range(limit + 2):
            label = "Details" if i % 2 == 0 else "Weniger"
            await press_button(telegram_api, ANNA, card, card.button(label)["callback_data"])
            await telegram_api.wait_for_call("editMessageText", i + 1)
        still = await ask(telegram_api, ANNA, "Wohngeld in Lügde")
    assert "Wohngeld" in still.plain and "langsamer" not in still.plain
