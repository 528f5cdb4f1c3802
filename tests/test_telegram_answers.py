"""From a hurdle to an answer, in Telegram alone: an asker hands a question to a person (opt-in),
the staff answer with /reply or by replying, teach the bot with /teach (reloaded at once), and get
a weekly digest. Everything through the fake Bot API."""

from __future__ import annotations

import pytest
from conftest import TELEGRAM_STAFF_ID as STAFF
from conftest import press_button
from fake_bot_api import FakeBotApi

from bot.engine import Engine
from handlers.answers import DIGEST_JOB

ANNA, BOB = 3101, 3102
STAFF_CHAT = -100777
REFUSAL = "Dieser Befehl ist dem WeserBot-Team vorbehalten."
PIGEONS = "Wer hilft bei einer Taubenplage in Stadthagen?"
PIGEONS_TOO = "Taubenplage in Rinteln – wer ist da zuständig?"
NAME = "Wo beantrage ich eine Namensänderung? Hameln"
ANSWER = "Bei Tauben hilft das Ordnungsamt Ihrer Stadt; es nennt Ihnen Fachbetriebe."


@pytest.fixture
def staff_config(bot_config, kb_copy):
    """The test configuration with a staff chat and a writable copy of the knowledge base."""
    bot_config.staff_chat_id = STAFF_CHAT
    bot_config.knowledge_dir = kb_copy
    return bot_config


async def say(api: FakeBotApi, user_id: int, text: str, chat_id: int | None = None, reply_to=None):
    chat = user_id if chat_id is None else chat_id
    waiting = api.next_message(chat)
    api.send_text(api.user(user_id), text, chat_id=chat_id, reply_to=reply_to)
    return await waiting


async def after(api: FakeBotApi, chat_id: int, seen: int):
    """The first message to `chat_id` after the `seen` ones (counted before the action)."""
    return (await api.wait_for_messages(chat_id, seen + 1))[seen]


async def hand_off(api: FakeBotApi, user_id: int, question: str):
    """Ask, press 'Ein Mensch soll antworten', agree; returns (reply, staff chat message)."""
    answer = await say(api, user_id, question)
    consent = api.next_message(user_id)
    await press_button(api, user_id, answer, answer.button("Ein Mensch soll antworten")
                       ["callback_data"])
    consent = await consent
    assert "ohne Ihren Namen" in consent.plain
    seen = len(api.sent_to(user_id)), len(api.sent_to(STAFF_CHAT))
    await press_button(api, user_id, consent, consent.button("Ja")["callback_data"])
    return await after(api, user_id, seen[0]), await after(api, STAFF_CHAT, seen[1])


async def test_a_handed_off_question_reaches_the_staff_chat_without_the_asker(
        telegram_api, start_bot, staff_config, hurdle_store):
    async with start_bot(config=staff_config):
        sent, announced = await hand_off(telegram_api, ANNA, PIGEONS)
    assert sent.plain.startswith("Ihre Frage liegt jetzt beim Team (Nr. 1)")
    assert announced.plain.startswith("🙋 Frage an einen Menschen – Hürde #1")
    assert PIGEONS in announced.plain and "/reply 1" in announced.plain
    assert str(ANNA) not in announced.text and "Test" not in announced.plain
    [hurdle] = await hurdle_store.hurdles()
    assert (hurdle.handed_off, hurdle.waiting) == (1, 1)


async def test_nothing_is_handed_off_without_consent(telegram_api, start_bot, staff_config,
                                                     hurdle_store):
    async with start_bot(config=staff_config):
        answer = await say(telegram_api, ANNA, PIGEONS)
        consent = telegram_api.next_message(ANNA)
        await press_button(telegram_api, ANNA, answer, answer.button("Ein Mensch")["callback_data"])
        consent = await consent
        declined = telegram_api.next_message(ANNA)
        await press_button(telegram_api, ANNA, consent, consent.button("Nein")["callback_data"])
        assert (await declined).plain.startswith("In Ordnung")
    # The staff chat hears of the new hurdle (as always), but nothing is handed to a person.
    assert [m.plain[:1] for m in telegram_api.sent_to(STAFF_CHAT)] == ["🆕"]
    assert (await hurdle_store.hurdles())[0].handed_off == 0


async def test_reply_delivers_to_every_consenting_asker_records_it_and_confirms(
        telegram_api, start_bot, staff_config, hurdle_store):
    async with start_bot(config=staff_config):
        await hand_off(telegram_api, ANNA, PIGEONS)
        await hand_off(telegram_api, BOB, PIGEONS_TOO)
        seen = len(telegram_api.sent_to(ANNA)), len(telegram_api.sent_to(BOB))
        confirmed = await say(telegram_api, STAFF, f"/reply 1 {ANSWER}", chat_id=STAFF_CHAT)
        to_anna = await after(telegram_api, ANNA, seen[0])
        to_bob = await after(telegram_api, BOB, seen[1])
    assert to_anna.plain.startswith("💬 Antwort des WeserBot-Teams auf Ihre Frage „" + PIGEONS)
    assert ANSWER in to_anna.plain and ANSWER in to_bob.plain and PIGEONS_TOO in to_bob.plain
    assert confirmed.plain.startswith("✅ Antwort zu #1 an 2 Personen zugestellt")
    [hurdle] = await hurdle_store.hurdles()
    assert hurdle.answer == ANSWER and hurdle.status == "in_review"
    assert (hurdle.handed_off, hurdle.waiting) == (2, 0)


async def test_replying_to_the_hand_off_message_answers_too(telegram_api, start_bot,
                                                           staff_config, hurdle_store):
    async with start_bot(config=staff_config):
        _, announced = await hand_off(telegram_api, ANNA, PIGEONS)
        seen = len(telegram_api.sent_to(ANNA))
        confirmed = await say(telegram_api, STAFF, ANSWER, chat_id=STAFF_CHAT, reply_to=announced)
        to_anna = await after(telegram_api, ANNA, seen)
    assert ANSWER in to_anna.plain and confirmed.plain.startswith("✅ Antwort zu #1 an 1 Person")


async def test_only_staff_may_reply(telegram_api, start_bot, staff_config, hurdle_store):
    async with start_bot(config=staff_config):
        _, announced = await hand_off(telegram_api, ANNA, PIGEONS)
        by_command = await say(telegram_api, BOB, "/reply 1 Ich weiß es auch nicht")
        by_reply = await say(telegram_api, BOB, "Falsche Antwort", chat_id=STAFF_CHAT,
                             reply_to=announced)
    assert by_command.plain == by_reply.plain == REFUSAL
    assert [m.plain for m in telegram_api.sent_to(ANNA)][-1].startswith("Ihre Frage liegt")
    [hurdle] = await hurdle_store.hurdles()
    assert hurdle.answer is None and hurdle.waiting == 1


async def test_forget_removes_the_consent_and_the_link_to_the_chat(telegram_api, start_bot,
                                                                   staff_config, hurdle_store):
    async with start_bot(config=staff_config):
        _, anna_shown = await hand_off(telegram_api, ANNA, PIGEONS)
        _, bob_shown = await hand_off(telegram_api, BOB, PIGEONS_TOO)
        await say(telegram_api, ANNA, "/forget")
        seen = len(telegram_api.sent_to(ANNA))
        confirmed = await say(telegram_api, STAFF, f"/reply 1 {ANSWER}", chat_id=STAFF_CHAT)
    assert confirmed.plain.startswith("✅ Antwort zu #1 an 1 Person")
    assert len(telegram_api.sent_to(ANNA)) == seen  # Anna hears nothing any more
    assert [h.question for h in await hurdle_store.waiting_handoffs()] == []
    # Her question is gone from the staff chat (its 🆕 announcement and her hand-off); Bob's stays.
    deleted = [m.plain for m in telegram_api.deleted]
    assert anna_shown.plain in deleted and len(deleted) == 2
    assert any(text.startswith("🆕 Neue Hürde #1") and "Taubenplage" in text for text in deleted)
    assert bob_shown not in telegram_api.deleted


async def test_thumbs_down_offers_a_person(telegram_api, start_bot, staff_config):
    async with start_bot(config=staff_config):
        answer = await say(telegram_api, ANNA, "Wo melde ich mein Auto an? Ich wohne in Rinteln.")
        assert "Ein Mensch" not in str(answer.buttons)
        await press_button(telegram_api, ANNA, answer, answer.button("👎")["callback_data"])
        await telegram_api.wait_for_call("editMessageText")
    assert answer.button("Ein Mensch soll antworten")


async def test_teach_adds_the_phrasings_and_the_question_is_answered_at_once(
        telegram_api, start_bot, staff_config, hurdle_store, kb_copy):
    async with start_bot(config=staff_config, engine_=Engine.load(kb_copy)):
        before = await say(telegram_api, ANNA, NAME)
        refused = await say(telegram_api, ANNA, "/teach 1 personenstandsurkunden")
        taught = await say(telegram_api, STAFF, "/teach 1 personenstandsurkunden")
        after = await say(telegram_api, BOB, "Namensänderung beantragen in Höxter")
    assert refused.plain == REFUSAL
    assert "Standesamt" not in before.plain
    assert taught.plain.startswith("📚 #1: 1 Formulierung zu „Geburts-, Ehe- und Sterbeurkunde")
    assert "„Namensänderung“" in taught.plain and "neu geladen" in taught.plain
    assert "Standesamt Stadt Höxter" in after.plain
    overlay = (kb_copy / "taught.yaml").read_text(encoding="utf-8")
    assert 'phrase: "Namensänderung"' in overlay and "hurdle: 1" in overlay
    assert str(STAFF) not in overlay
    hurdle = await hurdle_store.hurdle(1)
    assert hurdle.status == "answered_by_update"
    [record] = hurdle.taught
    assert record["topic"] == "personenstandsurkunden" and record["by"] and str(STAFF) not in \
        record["by"]


async def test_teach_rejects_an_unknown_topic_and_new_drafts_a_topic_file(
        telegram_api, start_bot, staff_config, hurdle_store, kb_copy):
    async with start_bot(config=staff_config, engine_=Engine.load(kb_copy)):
        await say(telegram_api, ANNA, "Grundbuchauszug für Rinteln bekommen")
        unknown = await say(telegram_api, STAFF, "/teach 1 grundbuch")
        drafted = await say(telegram_api, STAFF, "/teach 1 new")
        missing = await say(telegram_api, STAFF, "/teach 99 new")
    assert unknown.plain.startswith("Das Thema „grundbuch“ gibt es nicht")
    assert drafted.plain.startswith("📝 #1: Entwurf für ein neues Thema angelegt")
    draft = (kb_copy / "drafts" / "grundbuchauszug.yaml").read_text(encoding="utf-8")
    assert "id: grundbuchauszug" in draft and '"Grundbuchauszug"' in draft
    assert missing.plain == "Hürde #99 gibt es nicht."
    assert (await hurdle_store.hurdle(1)).taught[0]["topic"] == "new:grundbuchauszug"
    assert not (kb_copy / "topics" / "grundbuchauszug.yaml").exists()


async def test_the_weekly_digest_goes_to_the_staff_chat(telegram_api, start_bot, staff_config,
                                                        hurdle_store, hurdle_answer):
    cross = hurdle_answer("Elterngeld, wohne in Lügde, arbeite in Hameln", "needs_place",
                          "elterngeld", [("Lügde", "residence", None),
                                         ("Hameln", "business_site", None)])
    await hurdle_store.log_answer(cross, asker=1)
    async with start_bot(config=staff_config) as app:
        await hand_off(telegram_api, ANNA, PIGEONS)
        [job] = app.job_queue.get_jobs_by_name(DIGEST_JOB)
        seen = len(telegram_api.sent_to(STAFF_CHAT))
        await job.run(app)
        digest = await after(telegram_api, STAFF_CHAT, seen)
    lines = digest.plain.splitlines()
    assert lines[0] == "📬 Wochenüberblick Hürden (letzte 7 Tage)"
    assert lines[1] == "Neue Hürden: 2 · Fragen protokolliert: 2"
    assert lines[2].startswith("Ursachen: grenzüberschreitend (1)")
    assert lines[3] == "Grenzüberschreitend: lippe→hameln-pyrmont (1), NI–NW (1)"
    assert lines[4] == "Warten auf eine Antwort: 1 (#2)"


async def test_stats_lead_with_the_cross_border_pairs_and_the_causes(
        telegram_api, start_bot, staff_config, hurdle_store, hurdle_answer):
    await hurdle_store.log_answer(hurdle_answer(
        "Elterngeld, wohne in Lügde, arbeite in Hameln", "needs_place", "elterngeld",
        [("Lügde", "residence", None), ("Hameln", "business_site", None)]), asker=1)
    await hurdle_store.log_answer(hurdle_answer("Taubenplage"), asker=2)
    async with start_bot(config=staff_config):
        stats = await say(telegram_api, STAFF, "/stats")
        view = await say(telegram_api, STAFF, "/hurdle 1")
        wrong = await say(telegram_api, STAFF, "/hurdle abc")
    lines = stats.plain.splitlines()
    assert lines[1] == "grenzüberschreitend nach Kreisen: lippe→hameln-pyrmont: 1"
    assert lines[2] == "grenzüberschreitend nach Ländern: NI–NW: 1"
    assert lines[3] == ("nach Ursache: grenzüberschreitend: 1, Wissenslücke (kein Thema): 1")
    assert "Ursache: grenzüberschreitend" in view.plain
    assert wrong.plain == "Bitte so: /hurdle 12"


async def test_staff_texts_follow_staff_language(telegram_api, start_bot, staff_config,
                                                hurdle_store):
    staff_config.staff_language = "en"
    async with start_bot(config=staff_config):
        _, announced = await hand_off(telegram_api, ANNA, PIGEONS)
        stats = await say(telegram_api, STAFF, "/stats")
    assert announced.plain.startswith("🙋 Question for a person – hurdle #1")
    assert "by cause: knowledge gap (no topic): 1" in stats.plain
    new = [m.plain for m in telegram_api.sent_to(STAFF_CHAT) if m.plain.startswith("🆕")]
    assert new and new[0].startswith("🆕 New hurdle #1")


async def test_thumbs_down_on_a_reply_that_was_a_hurdle_joins_that_hurdle(
        telegram_api, start_bot, staff_config, hurdle_store):
    async with start_bot(config=staff_config):
        answer = await say(telegram_api, ANNA, PIGEONS)
        await press_button(telegram_api, ANNA, answer, answer.button("👎")["callback_data"])
        await telegram_api.wait_for_call("editMessageText")
    [hurdle] = await hurdle_store.hurdles()
    assert (hurdle.count, hurdle.askers, hurdle.reason) == (2, 1, "no_topic")
    assert [m.plain[:1] for m in telegram_api.sent_to(STAFF_CHAT)] == ["🆕"]  # announced once


async def test_one_question_from_two_districts_is_one_hurdle_for_the_staff(
        telegram_api, start_bot, staff_config, hurdle_store):
    async with start_bot(config=staff_config):
        await say(telegram_api, ANNA, NAME)
        await say(telegram_api, BOB, "Namensänderung beantragen in Höxter")
        view = await say(telegram_api, STAFF, "/hurdle 1")
        missing = await say(telegram_api, STAFF, "/hurdle 2")
    assert view.plain.startswith("#1 · 2× · 👤 2")
    assert "hameln-pyrmont" in view.plain and "hoexter" in view.plain and "NI / NW" in view.plain
    assert "Namensänderung beantragen in Höxter" in view.plain
    assert missing.plain.startswith("Hürde #2 gibt es nicht")
    assert len([m for m in telegram_api.sent_to(STAFF_CHAT) if m.plain.startswith("🆕")]) == 1


@pytest.mark.sqlite_only
async def test_a_new_hurdle_is_announced_even_when_the_log_was_too_slow_to_wait_for(
        telegram_api, start_bot, staff_config, hurdle_store, tmp_path):
    import sqlite3
    from contextlib import closing

    async with start_bot(config=staff_config):
        with closing(sqlite3.connect(tmp_path / "hurdles.sqlite", isolation_level=None)) as cli:
            cli.execute("BEGIN IMMEDIATE")  # e.g. the staff's CLI, holding the write lock
            reply = await say(telegram_api, ANNA, PIGEONS)  # answered without waiting for it
            assert telegram_api.sent_to(STAFF_CHAT) == []
            cli.execute("COMMIT")
        [announced] = await telegram_api.wait_for_messages(STAFF_CHAT, 1)
    assert reply.plain.startswith("Zu dieser Frage habe ich noch keine")
    assert announced.plain.startswith("🆕 Neue Hürde #1")
