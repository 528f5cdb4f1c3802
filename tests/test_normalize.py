"""Normalisation: every spelling of a word folds to one form."""

from bot.normalize import MAX_CHARS, clean, fold, tokenize


def test_umlauts_and_sharp_s_fold_to_ascii_spellings():
    assert fold("Lügde Größe Bückeburg") == fold("Luegde Groesse Bueckeburg")
    assert fold("Straße") == "strasse"


def test_case_punctuation_and_accents_are_ignored():
    assert fold("  KITA-Platz, bitte!!! Café ") == "kita platz bitte cafe"


def test_invisible_and_control_characters_are_dropped():
    assert fold("Ha\u200bmeln\u202e") == "hameln"
    assert clean("Hameln\x00Lügde") == "Hameln Lügde"


def test_long_messages_are_cut():
    assert len(clean("x " * 10_000)) <= MAX_CHARS


def test_tokens_remember_capitals_and_clauses():
    tokens = tokenize("Ich wohne in Lage, das ist gut.")
    lage = tokens[3]
    assert (lage.text, lage.capitalised) == ("lage", True)
    assert tokens[4].clause > lage.clause


def test_a_leichte_sprache_middle_dot_joins_the_word_again():
    assert fold("Wie kann ich Wohn∙geld beantragen? Bewohner·park·platz") == \
        "wie kann ich wohngeld beantragen bewohnerparkplatz"
