"""Hostile text that reaches the hurdle log is stored as text: no injected SQL, no markup back."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from bot.hurdles import HurdleStore

MALLORY = 9501
HOSTILE = ("Namensänderung in Hameln?'); DROP TABLE entries; -- \u200b<b>x</b> "
           "\" OR 1=1; UPDATE hurdles SET status='not_a_hurdle'")


async def test_a_sql_looking_question_is_logged_verbatim_and_the_log_stays_whole(
        telegram_api, start_bot, hurdle_store: HurdleStore):
    async with start_bot():
        waiting = telegram_api.next_message(MALLORY)
        telegram_api.send_text(telegram_api.user(MALLORY), HOSTILE)
        reply = await waiting
    assert "<b>x</b>" not in reply.text  # the fake Bot API parsed the reply's HTML strictly
    with closing(sqlite3.connect(hurdle_store.path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        [(question,)] = db.execute("SELECT question FROM entries").fetchall()
        [(status,)] = db.execute("SELECT status FROM hurdles").fetchall()
    assert question == HOSTILE.replace("\u200b", " ").replace("  ", " ")  # invisible char gone
    assert status == "new"
