"""Similar questions of one topic and reason form one hurdle; district pairs read origin first."""

from __future__ import annotations

from bot.grouping import (
    SIMILARITY,
    Cause,
    best_match,
    cause_of,
    content_words,
    district_path,
    folded,
    group_key,
    land_pair,
    phrase_of,
    similarity,
)

LUEGDE, HAMELN, MINDEN, RINTELN = "05766044", "03252006", "05770024", "03257028"
DISTRICT_OF = {LUEGDE: "lippe", "05766020": "lippe", HAMELN: "hameln-pyrmont",
               MINDEN: "minden-luebbecke", RINTELN: "schaumburg"}


def place(key: str, role: str | None = None, direction: str | None = None,
          kind: str = "municipality") -> dict:
    """A place as the engine reports it in Answer.places."""
    districts = [DISTRICT_OF[key]] if kind == "municipality" and key in DISTRICT_OF else []
    return {"text": key, "role": role, "direction": direction, "districts": districts,
            "refs": [{"kind": kind, "key": key, "via": "name"}]}


# -- similarity ------------------------------------------------------------------------------------
def test_rephrasings_with_the_same_words_match_regardless_of_case_umlauts_and_order():
    hurdles = {1: folded("Wo melde ich meinen Hund an?"), 2: folded("Angelschein beantragen")}
    assert best_match(folded("wo MELDE ich meinen hund an"), hurdles) == 1
    assert best_match(folded("Hund an melde ich wo?"), hurdles) == 1
    assert best_match(folded("Angelschein beantragen, ich wohne in Lügde"), hurdles) == 2


def test_different_questions_do_not_match():
    hurdles = {1: folded("Wo melde ich meinen Hund an?")}
    assert best_match(folded("Wer genehmigt ein Osterfeuer?"), hurdles) is None


def test_the_best_match_wins_and_ties_go_to_the_oldest_hurdle():
    hurdles = {7: folded("Osterfeuer anmelden Hameln"), 3: folded("Osterfeuer anmelden"),
               5: folded("Osterfeuer anmelden")}
    assert best_match(folded("Osterfeuer anmelden"), hurdles) == 3


def test_the_threshold_is_a_named_constant_that_can_be_passed():
    hurdles = {1: folded("Osterfeuer anmelden")}
    question = folded("Osterfeuer anmelden Hameln")  # no place list: "hameln" is a word here
    assert 80 <= SIMILARITY < 100
    assert best_match(question, hurdles, threshold=99) is None
    assert best_match(question, hurdles, threshold=50) == 1


def test_questions_without_words_only_group_with_each_other():
    assert best_match("", {1: "hund", 2: ""}) == 2
    assert best_match("", {1: "hund"}) is None
    assert best_match("hund", {}) is None


def test_questions_are_compared_within_one_topic_and_reason():
    assert group_key("kfz-zulassung", "needs_place") != group_key("kfz-zulassung",
                                                                  "negative_feedback")
    assert group_key(None, "no_topic") != group_key(None, "outside_region")
    assert group_key(None, "no_topic") == group_key(None, "no_topic")


# -- by meaning: content words --------------------------------------------------------------------
def test_places_filler_and_question_words_are_not_content():
    assert content_words("Wo beantrage ich eine Namensänderung? Hameln", ["hameln"]) == \
        content_words("Namensänderung beantragen in Höxter", ["höxter"])
    assert content_words("Wer hilft bei einer Taubenplage in Stadthagen?", ["stadthagen"]) == \
        content_words("Taubenplage")


def test_typos_and_compound_parts_count_as_the_same_word():
    assert similarity(folded("Namensändrung"), folded("Namensänderung")) >= SIMILARITY
    assert similarity(folded("Tauben auf dem Balkon"), folded("Taubenplage")) >= SIMILARITY
    assert similarity(folded("Grundbuchauszug"), folded("Namensänderung")) < SIMILARITY
    assert similarity(folded("Personalausweis beantragen"),
                      folded("Grundbuchauszug beantragen")) < SIMILARITY


def test_an_exact_rephrasing_beats_one_with_an_extra_word():
    hurdles = {1: folded("Namensänderung nach Heirat"), 2: folded("Namensänderung")}
    assert best_match(folded("Wo beantrage ich eine Namensänderung?"), hurdles) == 2


def test_a_phrasing_for_a_topic_keeps_the_words_as_written_without_places():
    assert phrase_of("Wo beantrage ich eine Namensänderung? Hameln", ["hameln"]) == "Namensänderung"
    assert phrase_of("Grundbuchauszug für Rinteln bekommen", ["rinteln"]) == "Grundbuchauszug"


# -- causes ------------------------------------------------------------------------------------------
def test_each_reason_has_a_cause_and_two_districts_or_laender_are_cross_border():
    assert cause_of("no_topic") is Cause.NO_TOPIC
    assert cause_of("needs_place") is Cause.NO_PLACE
    assert cause_of("outside_region") is Cause.OUTSIDE_REGION
    assert cause_of("negative_feedback") is Cause.UNHELPFUL
    assert cause_of("answered") is Cause.OFFICE_UNKNOWN
    assert cause_of("needs_place", ["lippe", "hameln-pyrmont"], ["NI", "NW"]) is Cause.CROSS_BORDER
    assert cause_of("no_topic", ["schaumburg", "hameln-pyrmont"], ["NI"]) is Cause.CROSS_BORDER
    assert list(Cause)[0] is Cause.CROSS_BORDER
    assert land_pair(["NW", "NI"]) == "NI–NW" and land_pair(["NI"]) == ""


# -- district pairs --------------------------------------------------------------------------------
def test_where_one_lives_comes_before_where_one_works():
    places = [place(HAMELN, "business_site"), place(LUEGDE, "residence")]
    assert district_path(places) == "lippe→hameln-pyrmont"


def test_a_route_reads_from_origin_to_destination():
    places = [place(RINTELN, direction="to"), place(MINDEN, direction="from")]
    assert district_path(places) == "minden-luebbecke→schaumburg"


def test_one_district_is_a_single_entry_and_none_is_empty():
    assert district_path([place(LUEGDE, "residence"), place("05766020")]) == "lippe"
    assert district_path([place("bielefeld", kind="outside")]) == ""
    assert district_path([]) == ""


def test_a_named_district_counts_and_an_ambiguous_place_falls_back_to_the_answer():
    assert district_path([place("hoexter", kind="district")]) == "hoexter"
    ambiguous = {"text": "bergdorf", "role": None, "direction": None,
                 "refs": [{"kind": "municipality", "key": LUEGDE, "via": "locality"},
                          {"kind": "municipality", "key": HAMELN, "via": "locality"}]}
    assert district_path([ambiguous]) == ""
    assert district_path([ambiguous], districts=["lippe"]) == "lippe"


# -- in the store ----------------------------------------------------------------------------------
async def test_logged_questions_join_the_most_similar_hurdle(hurdle_store, hurdle_answer):
    log = hurdle_store.log_answer
    await log(hurdle_answer("Wo melde ich meinen Hund an?"), asker=1)
    await log(hurdle_answer("wo melde ich meinen hund an, ich wohne in Lügde"), asker=2)
    await log(hurdle_answer("Wer genehmigt ein Osterfeuer?"), asker=1)
    await log(hurdle_answer("Osterfeuer – wer genehmigt das?"), asker=3)
    found = {h.title: (h.count, h.askers) for h in await hurdle_store.hurdles()}
    assert found == {"Wo melde ich meinen Hund an?": (2, 2),
                     "Wer genehmigt ein Osterfeuer?": (2, 2)}


async def test_the_same_words_under_another_topic_or_reason_are_another_hurdle(hurdle_store,
                                                                              hurdle_answer):
    log = hurdle_store.log_answer
    question = "Wo melde ich mein Auto an? Ich wohne in Bielefeld"
    await log(hurdle_answer(question, "outside_region", "kfz-zulassung"))
    await log(hurdle_answer(question, "negative_feedback", "kfz-zulassung"))
    await log(hurdle_answer(question, "outside_region", "fuehrerschein"))
    await log(hurdle_answer(question, "outside_region", "kfz-zulassung"))
    assert sorted((h.topic, h.reason, h.count) for h in await hurdle_store.hurdles()) == [
        ("fuehrerschein", "outside_region", 1), ("kfz-zulassung", "negative_feedback", 1),
        ("kfz-zulassung", "outside_region", 2)]


async def test_the_first_question_stays_the_title(hurdle_store, hurdle_answer):
    await hurdle_store.log_answer(hurdle_answer("Osterfeuer anmelden"))
    await hurdle_store.log_answer(hurdle_answer("Osterfeuer anmelden in Hameln, wie?"))
    [hurdle] = await hurdle_store.hurdles()
    assert hurdle.title == "Osterfeuer anmelden"
    assert hurdle.examples == ["Osterfeuer anmelden in Hameln, wie?", "Osterfeuer anmelden"]
