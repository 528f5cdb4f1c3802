"""Precision on real text: a place needs evidence, an outside town is told so, a compound is not
its head word's topic, and an administrative question without a topic is logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.knowledge import KnowledgeError, load_knowledge
from tests.conftest import ask

# --- places need evidence ------------------------------------------------------------------------


@pytest.mark.parametrize("sentence", [
    "Kann ich diesen Antrag auch online stellen und muss ich dafür zahlen?",
    "Im Rahmen der Reise halten wir uns an die Auflagen der anderen Behörde.",
    "Die erste Rate ist fällig, wenn die Hofstelle übergeben wird.",
    "An wen muss ich mich wenden, wenn die Halle nicht in der Lage ist?",
])
def test_ordinary_words_are_no_places(engine: Engine, sentence: str):
    assert ask(engine, sentence)["places"] == []


@pytest.mark.parametrize(("question", "district"), [
    ("Wohngeld beantragen, ich wohne in Lage", "lippe"),
    ("Hundesteuer Wohnort Enger", "herford"),
    ("Kfz anmelden 32689 Kalletal", "lippe"),
])
def test_a_name_that_is_also_a_word_counts_with_a_cue(engine: Engine, question: str, district: str):
    reply = ask(engine, question)
    assert (reply["reason"], reply["district"]) == ("answered", district)


@pytest.mark.parametrize(("question", "district"), [
    ("Wohngeld in Hamlen beantragen", "hameln-pyrmont"),
    ("kindergeld holzmindn", "holzminden"),
    ("Personalausweis verlängern in Bad Pyrmnt", "hameln-pyrmont"),
])
def test_typos_of_real_place_names_are_still_found(engine: Engine, question: str, district: str):
    assert ask(engine, question)["district"] == district


# --- outside the region --------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "town", "land"), [
    ("Kfz anmelden, ich wohne in Flensburg", "Flensburg", "Schleswig-Holstein"),
    ("Wo beantrage ich Elterngeld? Wohne in Marburg.", "Marburg", "Hessen"),
])
def test_a_town_outside_is_told_with_its_land_and_gets_no_office(
        engine: Engine, question: str, town: str, land: str):
    reply = ask(engine, question)
    assert reply["reason"] == "outside_region"
    assert reply["office"] is None
    assert town in reply["text"] and land in reply["text"]


def test_a_name_inside_and_outside_is_asked_back_region_first(engine: Engine):
    reply = ask(engine, "Wohngeld beantragen in Halle")
    assert reply["reason"] == "needs_place"
    assert "Landkreis Holzminden" in reply["choices"][0]
    assert any("Sachsen-Anhalt" in c for c in reply["choices"][1:])


def test_a_region_town_wins_over_a_small_namesake_which_is_offered(engine: Engine):
    reply = ask(engine, "Kindergeld beantragen, ich wohne in Gehrden")
    assert (reply["reason"], reply["district"]) == ("answered", "region-hannover")
    assert reply["other_places"]


@pytest.mark.parametrize(("question", "district"), [
    ("Kitaplatz gesucht, wir wohnen in Holzhausen bei Bad Pyrmont", "hameln-pyrmont"),
    ("Kleingewerbe anmelden in Fürstenberg an der Weser", "holzminden"),
])
def test_a_qualified_name_settles_the_place(engine: Engine, question: str, district: str):
    reply = ask(engine, question)
    assert (reply["reason"], reply["district"]) == ("answered", district)


# --- topics --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "wrong_topic"), [
    ("Hundeführerschein Hameln", "fuehrerschein"),
    ("Parkerlaubnis für Handwerker in Hameln", "handwerkskammer"),
])
def test_a_compound_is_not_its_head_words_topic(engine: Engine, question: str, wrong_topic: str):
    reply = ask(engine, question)
    assert reply["topic"] != wrong_topic
    assert not reply["answered"]


@pytest.mark.parametrize(("question", "topic"), [
    ("Kfz-Steuer Hameln", "kfz-steuer"),
    ("Baumfällung Minden", "baumfaellung"),
    ("Umweltplakette Hameln", "umweltplakette"),
    ("Unterhaltsvorschuss Minden", "unterhaltsvorschuss"),
    ("Ich möchte mich einbürgern lassen, ich wohne in Rinteln", "einbuergerung"),
    ("Wo kann ich Zeugnisse beglaubigen lassen?", "beglaubigung"),
])
def test_services_people_ask_for_have_a_topic_of_their_own(engine: Engine, question, topic):
    assert ask(engine, question)["topic"] == topic


def test_a_topics_exclusion_phrase_keeps_it_out(engine: Engine):
    reply = ask(engine, "Kita-Anmeldung in Herford")
    assert (reply["topic"], reply["district"]) == ("kita-platz", "herford")


def test_a_typo_in_one_long_word_is_not_read_as_two_topics(engine: Engine):
    assert ask(engine, "schwerbehindertausweis beantargen stadthagen")["topic"] == \
        "schwerbehindertenausweis"


@pytest.mark.parametrize("question", [
    "Namensänderung beantragen, ich wohne in Minden",
    "Grundbuchauszug anfordern Hameln",
    "Schiedsmann gesucht in Detmold",
    "Wer hilft bei einer Taubenplage in Stadthagen?",
])
def test_an_administrative_question_without_a_topic_is_logged(engine: Engine, question: str):
    reply = ask(engine, question)
    assert (reply["reason"], reply["logs_hurdle"]) == ("no_topic", True)


@pytest.mark.parametrize("question", ["Wie wird das Wetter morgen in Hameln?", "Erzähl mir einen Witz"])
def test_a_plainly_other_request_stays_off_topic(engine: Engine, question: str):
    reply = ask(engine, question)
    assert (reply["reason"], reply["logs_hurdle"]) == ("off_topic", False)


# --- whose place ---------------------------------------------------------------------------------


def test_a_relatives_place_decides_care(engine: Engine):
    reply = ask(engine, "Meine Mutter wohnt in Barntrup, ich wohne in Hameln. "
                        "Wo beantragt sie Hilfe zur Pflege?")
    assert (reply["reason"], reply["district"]) == ("answered", "lippe")


def test_the_question_back_asks_about_the_relative(engine: Engine):
    reply = ask(engine, "Meine Oma braucht Hilfe zur Pflege. Ich selbst wohne in Nienburg, sie nicht.")
    assert reply["reason"] == "needs_place"
    assert "Person, um die es geht" in reply["text"]


def test_a_role_word_after_und_belongs_to_the_next_place(engine: Engine):
    reply = ask(engine, "Ich verliere meinen Job in Detmold und wohne in Bad Pyrmont")
    assert (reply["topic"], reply["district"]) == ("arbeitslos-melden", "hameln-pyrmont")


# --- the data behind it --------------------------------------------------------------------------


def test_a_broken_gazetteer_line_names_file_and_line(kb_copy: Path):
    path = kb_copy / "places" / "germany.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    n = next(i for i, line in enumerate(lines) if line.strip().startswith("01001000;"))
    lines[n] = lines[n].replace(";", ",", 2)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb_copy)
    assert f"knowledge/places/germany.yaml:{n + 1}:" in str(err.value)


def test_an_uncovered_service_that_is_a_topic_is_reported(kb_copy: Path):
    path = kb_copy / "uncovered.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("id: schaedlinge", "id: wohngeld"),
                    encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb_copy)
    assert "knowledge/uncovered.yaml:" in str(err.value) and "'wohngeld' is a topic" in str(err.value)


# --- close topics: ask which one is meant ---------------------------------------------------------


def test_two_topics_that_fit_equally_and_differ_in_office_are_asked_back(engine: Engine):
    reply = ask(engine, "Wohngeld oder Bürgergeld in Hameln")
    assert reply["reason"] == "needs_topic" and reply["office"] is None
    assert sorted(reply["alternatives"]) == ["buergergeld", "wohngeld"]
    assert reply["text"].startswith("Meinten Sie") and not reply["logs_hurdle"]


def test_a_runner_up_that_explains_less_of_the_message_does_not_make_the_bot_ask(engine: Engine):
    reply = ask(engine, "How do I get a disability ID card? I live in Warburg.")
    assert (reply["reason"], reply["topic"]) == ("answered", "schwerbehindertenausweis")


# --- a place alone ---------------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["Wohnort Elze", "Ich wohne in Lügde", "I live in Minden"])
def test_a_message_that_only_names_a_place_asks_what_it_is_about(engine: Engine, message: str):
    reply = ask(engine, message)
    assert reply["reason"] == "needs_topic" and not reply["logs_hurdle"]
    assert reply["places"][0]["districts"]


def test_an_outside_place_alone_is_told_it_lies_outside(engine: Engine):
    reply = ask(engine, "Ich wohne in Flensburg")
    assert reply["reason"] == "needs_topic" and "Schleswig-Holstein" in reply["text"]
    assert reply["places"][0]["districts"] == []


# --- a denied role ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "town"), [
    ("Ich wohne nicht in Hameln, sondern in Rinteln. Wo melde ich mein Auto an?", "Rinteln"),
    ("I don't live in Hameln, I live in Rinteln. Car registration?", "Rinteln"),
])
def test_a_place_where_the_asker_does_not_live_does_not_decide(engine: Engine, question, town):
    assert ask(engine, question)["municipality"] == town


def test_a_denied_residence_is_asked_for_rather_than_assumed(engine: Engine):
    reply = ask(engine, "Wir haben keinen Wohnsitz in Isernhagen, wollen aber in Isernhagen heiraten.")
    assert (reply["reason"], reply["needs"]) == ("needs_place", "residence")


@pytest.mark.parametrize(("question", "town"), [
    ("Wohngeld, ich wohne in Gehrden bei Hannover", "Gehrden"),
    ("Springe bei Hannover Wohngeld", "Springe"),
    ("Kitaplatz gesucht, wir wohnen in Holzhausen bei Bad Pyrmont", "Bad Pyrmont"),
])
def test_x_bei_y_names_one_place_not_two(engine: Engine, question: str, town: str):
    reply = ask(engine, question)
    assert (reply["reason"], reply["municipality"], len(reply["places"])) == ("answered", town, 1)


def test_for_a_topic_always_about_someone_else_the_askers_own_place_does_not_decide(engine: Engine):
    own = ask(engine, "Erbschein beantragen, ich wohne in Hameln")
    assert (own["reason"], own["office"]) == ("needs_place", None)
    assert "Person" in own["text"]
    theirs = ask(engine, "Erbschein, meine Tante wohnte in Bodenwerder")
    assert (theirs["reason"], theirs["municipality"]) == ("answered", "Bodenwerder")
