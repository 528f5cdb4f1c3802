"""The engine answers 'which office is responsible for me?' as the DESIGN contract says."""

from __future__ import annotations

import pytest
from conftest import ask

from bot.answer import Reason
from bot.engine import Context, Engine


def test_live_in_one_land_work_in_the_other_residence_decides(engine: Engine):
    a = ask(engine, "Ich wohne in Lügde und arbeite in Hameln – wo verlängere ich meine "
                    "Aufenthaltserlaubnis?")
    assert (a["reason"], a["topic"], a["district"], a["municipality"], a["role"]) == (
        "answered", "aufenthaltstitel", "lippe", "Lügde", "residence")
    assert a["answered"] and a["office"]["name"] and not a["logs_hurdle"]
    assert set(a["lands"]) == {"NI", "NW"}
    assert [(p["text"], p["role"], p["districts"]) for p in a["places"]] == [
        ("luegde", "residence", ["lippe"]), ("hameln", "business_site", ["hameln-pyrmont"])]


def test_business_topic_is_decided_by_the_company_site(engine: Engine):
    a = ask(engine, "Ich wohne in Höxter, mein Betrieb ist in Holzminden. Wo melde ich mein "
                    "Gewerbe an?")
    assert (a["topic"], a["district"], a["role"]) == ("gewerbeanmeldung", "holzminden",
                                                      "business_site")


def test_move_takes_the_new_residence(engine: Engine):
    a = ask(engine, "Ich ziehe von Bad Pyrmont nach Detmold. Wo melde ich meinen Wohnsitz an?")
    assert (a["topic"], a["district"], a["municipality"]) == ("wohnsitz-anmelden", "lippe",
                                                              "Detmold")


def test_transport_starts_where_the_route_starts(engine: Engine):
    a = ask(engine, "Schwertransport von Minden nach Hameln – wer erteilt die Genehmigung?")
    assert (a["topic"], a["district"], a["role"]) == ("schwertransport", "minden-luebbecke",
                                                      "route_start")


@pytest.mark.parametrize("question, topic, district", [
    ("Aufenthlatserlaubnis verlängern in Hamlen", "aufenthaltstitel", "hameln-pyrmont"),
    ("auto zulasung holzmindn", "kfz-zulassung", "holzminden"),
    ("Elterngeldantrag, wohne in 31812", "elterngeld", "hameln-pyrmont"),
    ("Kindergartenplatz gesucht, wir wohnen in Bückeburg", "kita-platz", "schaumburg"),
    ("Wo ist die Wohngeldstelle für Rinteln?", "wohngeld", "schaumburg"),
    ("I live in Bünde, where do I apply for parental allowance?", "elterngeld", "herford"),
    ("I live in Stadthagen and want to register my car", "kfz-zulassung", "schaumburg"),
])
def test_typos_postcodes_compounds_and_english_do_not_defeat_it(engine, question, topic, district):
    a = ask(engine, question)
    assert (a["reason"], a["topic"], a["district"]) == ("answered", topic, district)


def test_missing_deciding_place_is_asked_for(engine: Engine):
    a = ask(engine, "Ich arbeite in Hameln. Wo beantrage ich Wohngeld?")
    assert (a["reason"], a["topic"], a["needs"], a["answered"]) == (
        "needs_place", "wohngeld", "residence", False)
    assert a["office"] is None and "?" in a["text"]


def test_reply_with_the_missing_place_completes_the_question(engine: Engine):
    first = engine.ask("Wo beantrage ich Wohngeld?")
    assert first.reason == "needs_place" and first.context is not None
    saved = first.context.to_json()  # what the bot persists between messages
    second = engine.ask("32676", context=Context.from_json(saved))
    assert (second.reason, second.topic, second.district, second.municipality) == (
        "answered", "wohngeld", "lippe", "Lügde")


def test_an_ambiguous_place_is_offered_as_choices_and_the_reply_settles_it(engine: Engine):
    first = engine.ask("Wohngeld, ich wohne in Holzhausen")
    assert first.reason == "needs_place" and len(first.choices) > 1
    second = engine.ask("Bad Pyrmont", context=Context.from_json(first.context.to_json()))
    assert (second.reason, second.district, second.municipality) == (
        "answered", "hameln-pyrmont", "Bad Pyrmont")


def test_a_bare_reply_keeps_the_language_of_the_question(engine: Engine):
    first = engine.ask("Where do I apply for housing benefit?")
    second = engine.ask("Lügde", context=Context.from_json(first.context.to_json()))
    assert (second.lang, second.district) == ("en", "lippe")


def test_place_outside_the_region_is_said_so(engine: Engine):
    a = ask(engine, "Ich wohne in Bielefeld – wo verlängere ich meinen Aufenthaltstitel?")
    assert (a["reason"], a["topic"], a["answered"]) == ("outside_region", "aufenthaltstitel",
                                                        False)


def test_administrative_question_outside_the_catalogue_is_logged_not_guessed(engine: Engine):
    a = ask(engine, "Wo bekomme ich in Hameln eine Namensänderung?")
    assert (a["reason"], a["topic"], a["answered"], a["logs_hurdle"]) == (
        "no_topic", None, False, True)


@pytest.mark.parametrize("text", ["Hallo", "Danke!", "Moin moin", "thanks a lot", "👍"])
def test_small_talk_is_neither_answered_nor_logged(engine, text):
    a = ask(engine, text)
    assert a["reason"] in ("small_talk", "off_topic") and not a["logs_hurdle"]
    assert not a["answered"]


@pytest.mark.parametrize("text", ["Wie wird das Wetter morgen in Hameln?", "Tell me a joke"])
def test_off_topic_requests_are_refused_politely(engine, text):
    a = ask(engine, text)
    assert (a["reason"], a["answered"], a["logs_hurdle"]) == ("off_topic", False, False)


def test_language_follows_the_question(engine: Engine):
    assert ask(engine, "Where can I get my ID card? I live in Minden.")["lang"] == "en"
    assert ask(engine, "Wo bekomme ich meinen Personalausweis? Ich wohne in Minden.")["lang"] == "de"


def test_town_with_its_own_office_overrides_the_district(engine: Engine):
    town = ask(engine, "Aufenthaltserlaubnis verlängern, ich wohne in Hameln")
    county = ask(engine, "Aufenthaltserlaubnis verlängern, ich wohne in Aerzen")
    assert town["district"] == county["district"] == "hameln-pyrmont"
    assert town["office"]["id"] != county["office"]["id"]


def test_a_fixed_topic_is_resolved_without_matching(engine: Engine):
    a = engine.ask("Lügde", topic="kita-platz")
    assert (a.reason, a.topic, a.district) == ("answered", "kita-platz", "lippe")


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "🙂🙂🙂", "a" * 100_000,
                                  "'; DROP TABLE hurdles; --", "<b>Hameln</b>", "مرحبا كيف حالك"])
def test_any_text_gets_a_valid_reply(engine, text):
    a = ask(engine, text)
    assert a["reason"] in {r.value for r in Reason}
    assert a["text"] and 0 <= a["confidence"] <= 1


def test_a_role_word_after_the_place_counts_too(engine: Engine):
    a = ask(engine, "Hameln ist mein Arbeitsort, Lügde mein Wohnort. Wo melde ich mein Auto an?")
    assert (a["topic"], a["district"], a["municipality"]) == ("kfz-zulassung", "lippe", "Lügde")


def test_a_district_is_enough_when_the_whole_district_has_one_office(engine: Engine):
    a = ask(engine, "Kfz-Zulassung im Kreis Lippe")
    assert (a["reason"], a["district"], a["municipality"]) == ("answered", "lippe", None)


def test_a_postcode_shared_by_towns_of_one_samtgemeinde_still_has_one_office(engine: Engine):
    a = ask(engine, "Gewerbe anmelden, Betrieb in 37619")
    assert (a["reason"], a["district"]) == ("answered", "holzminden")
    assert "Samtgemeinde" in a["office"]["name"]


def test_a_word_close_to_a_topic_word_is_not_taken_for_a_place(engine: Engine):
    a = ask(engine, "Wo melde ich mich arbeitslos? Mein letzter Arbeitgeber war in Minden.")
    assert (a["reason"], a["topic"], a["needs"]) == ("needs_place", "arbeitslos-melden",
                                                     "residence")
