"""For any string at all, the engine returns a valid answer and never raises."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answer import Reason
from bot.engine import Engine

REASONS = {r.value for r in Reason}

# Text that looks like questions: real words and places mixed with arbitrary unicode.
WORDS = st.sampled_from([
    "Ich", "wohne", "in", "Lügde", "arbeite", "Hameln", "Aufenthaltserlaubnis", "von", "nach",
    "32676", "Kita", "Platz", "Gewerbe", "anmelden", "Betrieb", "Holzminden", "the", "live",
    "permit", "<b>", "'; DROP TABLE", "\u200b", "\u202e", "🙂", "ß", "Straße", "?", ",", "–",
])
QUESTIONS = st.one_of(
    st.text(max_size=300),
    st.lists(WORDS, max_size=30).map(" ".join),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", errors="replace")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=QUESTIONS)
def test_any_string_gets_a_valid_json_answer(engine: Engine, text: str):
    answer = engine.ask(text).to_json()
    json.dumps(answer)  # serialisable
    assert answer["reason"] in REASONS
    assert answer["lang"] in ("de", "en")
    assert 0.0 <= answer["confidence"] <= 1.0
    assert answer["answered"] == (answer["reason"] == "answered")
    assert answer["answered"] == (answer["office"] is not None)
    assert answer["text"].strip()
    if answer["reason"] == "needs_place":
        assert answer["needs"] in ("residence", "business_site", "property", "route_start", "site")
