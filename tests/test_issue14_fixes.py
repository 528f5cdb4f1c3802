"""Small findings of issue 14's attack on the bot, each with a test that failed before the fix."""

from __future__ import annotations

import logging
import re

from hypothesis import given
from hypothesis import strategies as st

from bot.hurdle_commands import _FORMULA_START, _cell
from bot.run_command import LogHygiene
from handlers.staff import _number

SEPARATORS = re.compile(r"[;,\t|]")


def test_finding_7_a_semicolon_separated_formula_is_neutralised():
    # German spreadsheets split CSV cells on ';': the part after it must not be a formula.
    assert _cell("Osterfeuer;=1+1") == "Osterfeuer;'=1+1"
    assert _cell("=1+1") == "'=1+1"


@given(st.text())
def test_finding_7_no_part_of_an_exported_cell_starts_a_formula(text):
    for part in SEPARATORS.split(_cell(text)):
        assert not part.startswith(_FORMULA_START[:4]), part


def test_finding_12_a_superscript_digit_is_no_hurdle_number():
    assert _number("²") == 0 and _number("12") == 12 and _number("#7") == 7


@given(st.text(max_size=30))
def test_finding_12_any_hurdle_argument_gives_a_number_and_never_raises(text):
    assert 0 <= _number(text) < 2**31


def test_finding_15_a_short_secret_is_not_given_away_by_its_redaction():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "Traceback (most recent call)",
                               (), None)
    LogHygiene(["k", "a-long-enough-secret"]).filter(record)
    assert record.getMessage() == "Traceback (most recent call)"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token a-long-enough-secret",
                               (), None)
    LogHygiene(["a-long-enough-secret"]).filter(record)
    assert record.getMessage() == "token <secret>"


async def test_finding_9_conversation_state_follows_the_retention_of_the_hurdle_log(tmp_path):
    from datetime import UTC, datetime, timedelta

    from bot.state import StateStore

    store = await StateStore.open(tmp_path / "state.sqlite", "k" * 32, retention_days=30)
    try:
        await store.save(4242, {"place": "Lügde"})
        assert await store.purge(datetime.now(UTC) + timedelta(days=29)) == 0
        assert await store.users() == 1
        await store.purge(datetime.now(UTC) + timedelta(days=31))
        assert await store.users() == 0
    finally:
        await store.close()
    assert oct((tmp_path / "state.sqlite").stat().st_mode & 0o777) == "0o600"
