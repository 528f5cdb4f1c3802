"""The dialogue without Telegram: (state, message, engine) → answer, new state, hurdles."""

from __future__ import annotations

from bot import dialogue
from bot.engine import Context, Engine


def asker(engine: Engine):
    def ask(recipe):
        ctx = Context.from_json(recipe["ctx"]) if recipe.get("ctx") else None
        return engine.ask(recipe["text"], context=ctx, topic=recipe.get("topic"))
    return ask


def test_a_question_without_place_stays_open_and_the_place_completes_it(engine: Engine):
    ask = asker(engine)
    first = dialogue.take({}, "Wo bekomme ich einen Kita-Platz?", ask)
    assert first.asks_place and first.state["pending"]["topic"] == "kita-platz"
    assert first.hurdles == []
    second = dialogue.take(first.state, "Lügde", ask)
    assert second.answer.reason == "answered" and second.state == {}
    assert second.answer.municipality == "Lügde"


def test_small_talk_keeps_the_open_question_and_says_it_is_pending(engine: Engine):
    ask = asker(engine)
    first = dialogue.take({}, "Wo bekomme ich einen Kita-Platz?", ask)
    thanks = dialogue.take(first.state, "Danke", ask)
    assert thanks.answer.reason == "small_talk" and thanks.answer.text.startswith("Gern geschehen")
    assert thanks.still_open == first.state["pending"] and thanks.state == first.state


def test_an_abandoned_question_is_one_hurdle_and_cancel_drops_it_silently(engine: Engine):
    ask = asker(engine)
    first = dialogue.take({}, "Wo bekomme ich einen Kita-Platz?", ask)
    other = dialogue.take(first.state, "Wo melde ich mein Auto an? Ich wohne in Rinteln.", ask)
    assert [(a.topic, reason) for a, reason in other.hurdles] == [("kita-platz", "needs_place")]
    was_open, state = dialogue.cancel(first.state)
    assert was_open and state == {}
    assert dialogue.cancel({}) == (False, {})


def test_a_place_alone_is_remembered_for_the_next_question(engine: Engine):
    ask = asker(engine)
    place = dialogue.take({}, "Ich wohne in Lügde", ask)
    assert place.answer.reason == "needs_topic" and place.state["place"]
    answer = dialogue.take(place.state, "Wo bekomme ich einen Kita-Platz?", ask)
    assert answer.answer.reason == "answered" and answer.answer.municipality == "Lügde"
    assert "place" not in answer.state


def test_another_topic_keeps_the_place_and_another_place_forgets_it(engine: Engine):
    ask = asker(engine)
    state = dialogue.other_topic({}, "Lügde")
    answer = dialogue.take(state, "Wo beantrage ich Wohngeld?", ask)
    assert answer.answer.reason == "answered" and answer.answer.municipality == "Lügde"
    assert dialogue.other_place({"place": "Lügde"}) == {}


def test_small_talk_gets_a_fitting_reply_never_the_greeting(engine: Engine):
    replies = {text: engine.ask(text).text for text in ("Danke", "tschüss", "ok", "thanks",
                                                         "Hallo")}
    assert replies["Danke"].startswith("Gern geschehen!")
    assert replies["tschüss"].startswith("Auf Wiedersehen")
    assert replies["ok"].startswith("Gut!")
    assert replies["thanks"].startswith("You're welcome")
    assert replies["Hallo"].startswith("Hallo!")


def test_only_the_land_that_applies_gets_notes_and_links(engine: Engine):
    rinteln = engine.ask("Hundesteuer, ich wohne in Rinteln")
    assert rinteln.land == "Niedersachsen"
    assert all("nrw" not in link["url"] for link in rinteln.links)
    assert not any("NRW" in note and "Landeshundegesetz" in note for note in rinteln.notes)


def test_the_cross_border_heading_names_the_roles_involved(engine: Engine):
    work = engine.ask("Ich wohne in Lügde und arbeite in Hameln – wo verlängere ich meine "
                      "Aufenthaltserlaubnis?")
    assert work.cross_kind == "home_work" and work.cross_border
    assert "Wohn- und Arbeitsort" in work.text
    move = engine.ask("Ich ziehe von Hameln nach Lügde, wo melde ich mich an?")
    if move.cross_border:
        assert move.cross_kind == "move" and "Wohn- und Arbeitsort" not in move.text


def test_english_answers_are_english_throughout(engine: Engine):
    answer = engine.ask("I live in Rinteln, where do I register my dog?")
    assert answer.lang == "en"
    assert "Responsible for" in answer.text and "Source:" in answer.text
    assert "Quelle" not in answer.text and "Mitbringen" not in answer.text
