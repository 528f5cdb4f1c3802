"""Normalisation: every spelling of a word folds to one form."""

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.normalize import MAX_CHARS, _clean_unicode, _fold_clean, clean, fold, tokenize


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


ASCII = st.text(st.characters(max_codepoint=127), max_size=3 * MAX_CHARS)


@given(ASCII)
def test_ascii_text_takes_a_short_cut_to_the_same_cleaning(text):
    assert clean(text) == _clean_unicode(text[: MAX_CHARS * 2])


@given(ASCII)
def test_ascii_text_folds_as_if_accents_were_stripped(text):
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", text.lower())
                       if not unicodedata.combining(ch))
    assert _fold_clean(text) == " ".join(re.findall("[a-z0-9]+", stripped))
