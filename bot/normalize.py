"""Text normalisation: one folded, tokenised form of a message that every later step matches on."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.settings import setting

MAX_CHARS = setting("max_chars")

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_TOKEN = re.compile(r"[a-z0-9]+")
# Format characters (zero-width spaces, RTL marks) hide inside words: drop them. Control and other
# unassigned characters separate words at most.
_DROP = {"Cf"}
_SPACE = {"Cc", "Co", "Cs", "Cn", "Zl", "Zp"}
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""The characters of category Cc in ASCII: they separate words, like the others in _SPACE."""
# Leichte Sprache splits long words with a middle dot ("Bewohner·park·platz"): one word again.
_MEDIOPUNKT = re.compile(r"(?<=\w)[\u00b7\u2219\u22c5\u2027](?=\w)")


def clean(text: str) -> str:
    """Drop invisible and control characters, apply NFKC and cap the length."""
    text = text[: MAX_CHARS * 2]
    if text.isascii():  # the same result as _clean_unicode, without a look at each character
        return " ".join(_ASCII_CONTROL.sub(" ", text).split())[:MAX_CHARS]
    return _clean_unicode(text)


def _clean_unicode(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in _DROP:
            continue
        kept.append(" " if category in _SPACE else ch)
    return _MEDIOPUNKT.sub("", " ".join("".join(kept).split()))[:MAX_CHARS]


def fold(text: str) -> str:
    """Lowercase, spell umlauts as ae/oe/ue/ss, strip other accents, turn punctuation into spaces."""
    return _fold_clean(clean(text))


def _fold_clean(text: str) -> str:
    """`fold` for text that has been through `clean` already."""
    text = text.lower().translate(_UMLAUTS)
    if not text.isascii():  # ASCII has no accents to strip
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_TOKEN.findall(text))


@dataclass(frozen=True, slots=True)
class Token:
    """A folded word with its position and whether the writer capitalised it."""

    text: str
    index: int
    capitalised: bool
    clause: int
    """Number of the clause the token lies in (clauses end at . , ; : ! ? ( ) – —)."""
    lower: str = ""
    """The word in lower case as written, umlauts kept: what a word-frequency lexicon knows."""
    hyphenated: bool = False
    """Joined to the word before it by a hyphen: "Kfz-Steuer" is one compound, not two words."""


_RAW_TOKEN = re.compile(r"[^\W_]+|[.,;:!?()\-–—/]", re.UNICODE)
_CLAUSE_BREAK = set(".,;:!?()–—")


def tokenize(text: str) -> list[Token]:
    """Split a message into folded tokens, keeping capitalisation and clause numbers."""
    tokens: list[Token] = []
    clause = 0
    hyphen_end = -1
    for match in _RAW_TOKEN.finditer(clean(text)):
        raw = match.group()
        if raw in _CLAUSE_BREAK:
            clause += 1
            continue
        if raw == "-":
            # A hyphen right after a word joins it to the next one; a dash between spaces does not.
            start = match.start()
            glued = start > 0 and not match.string[start - 1].isspace()
            hyphen_end = match.end() if glued else -1
            continue
        joined = match.start() == hyphen_end
        parts = _fold_clean(raw).split()
        for n, part in enumerate(parts):
            lower = raw.lower() if len(parts) == 1 else part
            tokens.append(Token(part, len(tokens), raw[:1].isupper(), clause, lower,
                                joined and n == 0 and bool(tokens)))
    return tokens
