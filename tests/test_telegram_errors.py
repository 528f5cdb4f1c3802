"""What the bot logs when Telegram refuses or cannot be reached: expected events are one line at
the level they deserve, never reported as a bug of ours (issue 14, finding 14)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter

from handlers.app import on_error


@pytest.mark.parametrize(("error", "level", "words"), [
    (NetworkError("Bad Gateway"), logging.WARNING, "while fetching updates"),
    (RetryAfter(7), logging.WARNING, "slow down"),
    (BadRequest("Message to edit not found"), logging.INFO, "went away meanwhile"),
    (BadRequest("Message is not modified"), logging.INFO, "went away meanwhile"),
])
async def test_an_expected_refusal_is_one_line_and_no_bug(caplog, error, level, words):
    caplog.set_level(logging.INFO, logger="handlers.app")
    await on_error(None, SimpleNamespace(error=error))
    [record] = caplog.records
    assert record.levelno == level and words in record.getMessage()
    assert record.exc_info is None and "error while handling" not in record.getMessage()


async def test_a_failure_of_our_own_code_is_logged_as_a_bug(caplog):
    await on_error(None, SimpleNamespace(error=ZeroDivisionError("oops")))
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
