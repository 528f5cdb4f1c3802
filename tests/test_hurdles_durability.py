"""Nothing logged is lost: not under many concurrent writers, not when the process is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

from bot.hurdles import HurdleStore

WRITER = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from bot.answer import Answer
    from bot.hurdles import HurdleStore

    async def main():
        store = await HurdleStore.open(Path(sys.argv[1]), "secret")
        print("ready", flush=True)
        i = 0
        while True:
            topic = f"topic-{i % 7}"
            answer = Answer(f"Frage {i} zu {topic}", "de", "needs_place", "", topic=topic)
            entry_id = await store.log_answer(answer, asker=i % 13)
            # Printed only after log_answer returned, i.e. after the commit.
            print(entry_id, flush=True)
            i += 1

    asyncio.run(main())
""")


async def test_500_concurrent_writes_are_all_kept(hurdle_store, hurdle_answer):
    questions = [hurdle_answer(f"Frage Nummer {i % 50} über Thema {i % 5}",
                               topic=f"t{i % 5}", reason="needs_place") for i in range(500)]
    ids = await asyncio.gather(*(hurdle_store.log_answer(q, asker=i % 37)
                                 for i, q in enumerate(questions)))
    assert len(set(ids)) == 500
    hurdles = await hurdle_store.hurdles(limit=None)
    assert sum(h.count for h in hurdles) == 500
    assert {h.topic for h in hurdles} == {f"t{i}" for i in range(5)}
    stats = await hurdle_store.stats()
    assert stats["entries"] == 500 and stats["askers"] == 37


async def test_two_stores_on_one_file_write_without_losing_entries(tmp_path, hurdle_answer):
    path = tmp_path / "hurdles.sqlite"
    async with (await HurdleStore.open(path, "s") as bot, await HurdleStore.open(path, "s") as cli):
        await asyncio.gather(*(store.log_answer(hurdle_answer(f"Frage {i}"))
                               for i in range(100) for store in (bot, cli)))
        assert (await bot.stats())["entries"] == 200


def test_a_killed_writer_loses_no_committed_entry(tmp_path):
    path = tmp_path / "hurdles.sqlite"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    committed: list[int] = []
    with subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env) as writer:
        try:
            assert writer.stdout is not None and writer.stderr is not None
            assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
            while len(committed) < 300:
                line = writer.stdout.readline()
                assert line, writer.stderr.read()
                committed.append(int(line))
            writer.send_signal(signal.SIGKILL)  # while it is in the middle of its next writes
        finally:
            writer.kill()
    assert writer.returncode == -signal.SIGKILL

    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {row[0] for row in db.execute("SELECT id FROM entries")}
        orphans = db.execute("SELECT COUNT(*) FROM entries WHERE hurdle_id NOT IN "
                             "(SELECT id FROM hurdles)").fetchone()[0]
    assert set(committed) <= stored
    assert orphans == 0
