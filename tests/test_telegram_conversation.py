"""A person asks WeserBot in Telegram: answers, follow-ups, buttons, commands, groups, odd input.

Every test runs the real Application against the fake Bot API and reads what the bot sent."""

from __future__ import annotations

import pytest
from conftest import press_button
from fake_bot_api import BOT_USERNAME, FakeBotApi

from bot.engine import Engine
from bot.knowledge import load_knowledge
from handlers.render import TOPICS_PER_PAGE

ANNA = 1001  # German Telegram app
JOHN = 1002  # English Telegram app
GROUP = -100777

CROSS_BORDER = ("Ich wohne in Lügde und arbeite in Hameln – wo verlängere ich meine "
                "Aufenthaltserlaubnis?")

RESIDENCE_QUESTION = load_knowledge().texts.get("de", "role.residence.question")


async def ask(api: FakeBotApi, user_id: int, text: str, language: str = "de"):
    """Send one message and return the bot's reply to it."""
    user = api.user(user_id, "Anna" if user_id == ANNA else "John", language)
    waiting = api.next_message(user_id)
    api.send_text(user, text)
    return await waiting


async def test_start_greets_in_the_users_language_and_commands_are_registered_in_both(
        telegram_api, start_bot):
    async with start_bot():
        de = await ask(telegram_api, ANNA, "/start")
        en = await ask(telegram_api, JOHN, "/start", "en")
    assert de.plain.startswith("Hallo Anna!") and "Lügde" in de.plain
    assert en.plain.startswith("Hello John!") and "residence permit" in en.plain
    english = [c["command"] for c in telegram_api.commands_for()]
    german = telegram_api.commands_for(language_code="de")
    assert english == [c["command"] for c in german] == ["start", "help", "topics", "cancel",
                                                         "language",
                                                         "privacy", "forget"]
    assert german[0]["description"] == "Begrüßung und Beispiel"
    staff = telegram_api.commands_for(scope={"type": "chat", "chat_id": 900})
    assert [c["command"] for c in staff][-5:] == ["hurdles", "hurdle", "stats", "reply", "teach"]


async def test_help_and_privacy_explain_themselves(telegram_api, start_bot):
    async with start_bot():
        help_text = await ask(telegram_api, ANNA, "/help")
        privacy = await ask(telegram_api, ANNA, "/privacy")
        unknown = await ask(telegram_api, ANNA, "/wetter")
    assert unknown.plain == "Diesen Befehl kenne ich nicht. /help zeigt, was ich kann."
    assert "/topics" in help_text.plain and f"@{BOT_USERNAME}" in help_text.plain
    assert "Pseudonym" in privacy.plain and "365 Tagen" in privacy.plain
    assert "/forget" in privacy.plain


async def test_an_answer_names_office_address_contact_with_link_button_and_feedback(
        telegram_api, start_bot, engine: Engine):
    expected = engine.ask(CROSS_BORDER)
    office = expected.office
    async with start_bot():
        reply = await ask(telegram_api, ANNA, CROSS_BORDER)
    assert reply.parse_mode == "HTML"
    assert f"<b>{office.name}</b>" in reply.text
    assert office.address["street"] in reply.plain and office.phone in reply.plain
    assert reply.button("🌐")["url"] == office.url
    assert "⚠️ Wohn- und Arbeitsort liegen in verschiedenen Bundesländern" in reply.plain
    assert reply.plain.rstrip().endswith("Hilfreich?")
    assert [b["text"] for b in reply.buttons][-2:] == ["👍", "👎"]
    assert "Mitbringen:" not in reply.plain  # behind Details


@pytest.mark.parametrize("place", ["Lügde", "32676"])
async def test_when_the_place_is_missing_the_bot_asks_and_the_next_message_completes_it(
        telegram_api, start_bot, engine: Engine, place):
    question = "Wo bekomme ich einen Kita-Platz?"
    first = engine.ask(question)
    expected = engine.ask(place, context=first.context)
    async with start_bot():
        asked = await ask(telegram_api, ANNA, question)
        answer = await ask(telegram_api, ANNA, place)
    assert RESIDENCE_QUESTION in asked.plain
    assert not asked.buttons  # no feedback on a question back
    assert expected.reason == "answered" and expected.municipality == "Lügde"
    assert expected.office.name in answer.plain and "Wohnort in Lügde" in answer.plain


async def test_close_topics_are_offered_as_buttons_that_answer_the_other_topic(
        telegram_api, start_bot, engine: Engine):
    question = "Kita oder Kindergeld in Rinteln"
    assert engine.ask(question).alternatives == ["kita-platz"]
    kita = engine.ask(question, topic="kita-platz")
    title = engine.kb.topics["kita-platz"].title["de"]
    async with start_bot():
        first = await ask(telegram_api, ANNA, question)
        waiting = telegram_api.next_message(ANNA)
        telegram_api.press(telegram_api.user(ANNA), first, first.button(title[:20])["callback_data"])
        second = await waiting
    assert "Oder meinten Sie:" in first.plain
    assert kita.office.name in second.plain and title in second.plain


async def test_topics_are_browsed_with_buttons_then_where_then_the_answer(
        telegram_api, start_bot, engine: Engine):
    anna = telegram_api.user(ANNA)
    pages = -(-len(engine.kb.topics) // TOPICS_PER_PAGE)
    async with start_bot():
        catalogue = await ask(telegram_api, ANNA, "/topics")
        assert f"Seite 1/{pages}" in catalogue.plain
        assert len(catalogue.buttons) == TOPICS_PER_PAGE + 1  # a page of topics + next
        telegram_api.press(anna, catalogue, catalogue.button("Weiter")["callback_data"])
        await telegram_api.wait_for(lambda: f"Seite 2/{pages}" in catalogue.plain, what="page 2")
        telegram_api.press(anna, catalogue, "t:kita-platz")
        where = await telegram_api.next_message(ANNA)
        answer = await ask(telegram_api, ANNA, "Hameln")
    expected = engine.ask("Kita-Platz in Hameln")
    assert RESIDENCE_QUESTION in where.plain
    assert expected.office.name in answer.plain and "Wohnort in Hameln" in answer.plain


async def test_the_chosen_language_is_remembered(telegram_api, start_bot):
    anna = telegram_api.user(ANNA)
    async with start_bot():
        picker = await ask(telegram_api, ANNA, "/language")
        telegram_api.press(anna, picker, picker.button("English")["callback_data"])
        await telegram_api.wait_for(lambda: picker.plain.startswith("Fine"), what="confirmation")
        start = await ask(telegram_api, ANNA, "/start")
    assert start.plain.startswith("Hello Anna!")


@pytest.mark.parametrize("text", [
    "<b>Kiel</b> & <script>alert(1)</script> Auto anmelden",
    "Wo melde ich mein Auto an? <i>Kiel</i> &amp; *fett* _kursiv_ [x](http://evil.example)",
    "Kfz anmelden in Hameln " + "<&>" * 2000,
    "x" * 5000,
    "   ",
    "\u200b\u200d\u2060\ufeff",
    "😀😀😀🎉",
    "مرحبا أين أسجل سيارتي؟ \u202eHameln",
    "Wo melde ich mein Auto an?\x00\x1b[31m\x07 Ich wohne in Hameln",
    "\ud800 kaputt",
])
async def test_odd_input_gets_one_safe_reply_that_never_echoes_markup(telegram_api, start_bot,
                                                                        text):
    async with start_bot():
        reply = await ask(telegram_api, ANNA, text)
        await telegram_api.drained()
    assert reply.parse_mode == "HTML"  # sent as intended: the fake checked the HTML
    assert "<script" not in reply.text and "<i>Kiel" not in reply.text
    assert len(reply.text.encode("utf-16-le")) // 2 <= 4096
    assert len(telegram_api.sent_to(ANNA)) == 1


async def test_an_answer_longer_than_telegram_allows_is_cut_cleanly(telegram_api, start_bot,
                                                                    engine: Engine):
    class Verbose:
        """The real engine, with knowledge that is far too long and full of markup."""

        kb = engine.kb

        def ask(self, *args, **kwargs):
            answer = engine.ask(*args, **kwargs)
            answer.bring = [f"Nachweis <{i}> & \"Kopie\"" for i in range(800)]
            return answer

    async with start_bot(engine_=Verbose()):
        reply = await ask(telegram_api, ANNA, "Kfz anmelden in Hameln")
        assert "Nachweis" not in reply.plain  # the card stays short
        telegram_api.press(telegram_api.user(ANNA), reply, reply.button("Details")["callback_data"])
        await telegram_api.wait_for_call("editMessageText")
    assert reply.parse_mode == "HTML" and "Zulassung" in reply.plain
    assert len(reply.text.encode("utf-16-le")) // 2 <= 4096 and reply.plain.count("…") == 1
    assert "&lt;0&gt; &amp; &quot;Kopie&quot;" in reply.text
    assert reply.plain.endswith("Hilfreich?") and "geprüft am" in reply.plain


@pytest.mark.parametrize("content", [
    {"photo": [{"file_id": "p", "file_unique_id": "p1", "width": 10, "height": 10}]},
    {"sticker": {"file_id": "s", "file_unique_id": "s1", "width": 512, "height": 512,
                 "is_animated": False, "is_video": False, "type": "regular"}},
    {"voice": {"file_id": "v", "file_unique_id": "v1", "duration": 3}},
    {"document": {"file_id": "d", "file_unique_id": "d1", "file_name": "antrag.pdf"}},
])
async def test_pictures_stickers_voice_and_files_get_a_friendly_hint(telegram_api, start_bot,
                                                                     content):
    async with start_bot():
        waiting = telegram_api.next_message(ANNA)
        telegram_api.send(telegram_api.user(ANNA), **content)
        reply = await waiting
    assert reply.plain.startswith("Bilder, Sticker, Sprachnachrichten und Dateien")


async def test_a_shared_location_answers_where(telegram_api, start_bot, engine: Engine):
    anna = telegram_api.user(ANNA)
    luegde = {"location": {"latitude": 51.958, "longitude": 9.249}}
    async with start_bot():
        await ask(telegram_api, ANNA, "Wo bekomme ich einen Kita-Platz?")
        waiting = telegram_api.next_message(ANNA)
        telegram_api.send(anna, **luegde)
        answer = await waiting
        waiting = telegram_api.next_message(ANNA)
        telegram_api.send(anna, **luegde)
        noted = await waiting
        later = await ask(telegram_api, ANNA, "Wo melde ich meinen Hund an?")
        waiting = telegram_api.next_message(ANNA)
        telegram_api.send(anna, location={"latitude": 54.32, "longitude": 10.13})  # Kiel
        far = await waiting
    assert "Wohnort in Lügde" in answer.plain
    assert "Ihr Standort liegt in Lügde" in noted.plain
    assert "Wohnort in Lügde" in later.plain and "Hundesteuer" in later.plain
    assert far.plain.startswith("Diesen Standort kann ich keinem Ort")


async def test_in_groups_the_bot_answers_only_when_mentioned_or_replied_to(telegram_api,
                                                                          start_bot):
    anna = telegram_api.user(ANNA)
    async with start_bot():
        telegram_api.send_text(anna, "Wo bekomme ich einen Kita-Platz?", chat_id=GROUP)
        telegram_api.send_text(anna, f"@{BOT_USERNAME} Wo bekomme ich einen Kita-Platz?",
                               chat_id=GROUP)
        [asked] = await telegram_api.wait_for_messages(GROUP, 1)
        telegram_api.send_text(anna, "Lügde", chat_id=GROUP, reply_to=asked)
        [_, answer] = await telegram_api.wait_for_messages(GROUP, 2)
        telegram_api.send_text(anna, "Danke euch allen", chat_id=GROUP)
        await ask(telegram_api, ANNA, "/help")  # in order after the group message: it was seen
    assert len(telegram_api.sent_to(GROUP)) == 2
    assert "Wohnort in Lügde" in answer.plain
    replied_to = [c.params.get("reply_parameters") for c in telegram_api.calls_to("sendMessage")
                  if int(c.params["chat_id"]) == GROUP]
    assert all(r and r["message_id"] for r in replied_to)


async def test_did_you_mean_offers_both_topics_as_buttons_and_answers_the_one_pressed(
        telegram_api, start_bot, engine: Engine):
    question = "Wohngeld oder Bürgergeld in Hameln"
    jobcenter = engine.ask(question, topic="buergergeld")
    title = engine.kb.topics["buergergeld"].title["de"]
    async with start_bot():
        first = await ask(telegram_api, ANNA, question)
        offered = [b["text"] for b in first.buttons]
        data = first.button(title[:20])["callback_data"]
        waiting = telegram_api.next_message(ANNA)
        telegram_api.press(telegram_api.user(ANNA), first, data)
        second = await waiting
        again = await press_button(telegram_api, ANNA, first, data)  # a second tap: no new answer
    assert first.plain.startswith("Meinten Sie") and len(offered) == 3
    assert offered[-1] == "✖ Andere Frage"
    assert first.buttons == [] and again == "Das ist schon erledigt."
    assert len(telegram_api.sent_to(ANNA)) == 2
    assert jobcenter.reason == "answered" and jobcenter.office.name in second.plain


async def test_a_place_said_alone_answers_the_next_questions_where(
        telegram_api, start_bot, engine: Engine):
    expected = engine.ask("Wohngeld beantragen, ich wohne in Lügde")
    async with start_bot():
        noted = await ask(telegram_api, ANNA, "Ich wohne in Lügde")
        answer = await ask(telegram_api, ANNA, "Wo beantrage ich Wohngeld?")
    assert "Lügde" in noted.plain and "Wobei kann ich helfen" in noted.plain
    assert expected.office.name in answer.plain and "Lügde" in answer.plain
