"""`weserbot run` as the operating system treats it: SIGKILL in the middle of a burst loses no
committed hurdle, SIGTERM ends cleanly (every received message answered, the log closed), SIGHUP
reloads the knowledge base. The bot runs as a child process against the fake Bot API."""

from __future__ import annotations

import asyncio
import resource
import signal
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import yaml
from conftest import (
    CAR_TITLE,
    CAR_TITLE_EDITED,
    break_knowledge,
    retitle_car_topic,
    write_bot_config,
)
from fake_bot_api import TOKEN, FakeBotApi

WESERBOT = str(Path(sys.executable).parent / "weserbot")
USERS = range(9001, 9011)
TOWNS = ["Hameln", "Rinteln", "Minden", "Höxter", "Holzminden", "Detmold"]
CAR = "Wo melde ich mein Auto an? Ich wohne in Rinteln."
WAIT = 20.0


class BotProcess:
    """`weserbot run --config FILE` in a child process; its log (standard error) is read as it
    comes, so that a test can wait for a line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, config: Path, max_file_bytes: int | None = None) -> BotProcess:
        """`max_file_bytes`: no file of the child may grow beyond this (a full disk, as the
        process sees it: writes fail with EFBIG, and Python ignores SIGXFSZ)."""
        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

        proc = await asyncio.create_subprocess_exec(
            WESERBOT, "run", "--config", str(config),
            env={"PATH": "/usr/bin:/bin", "WESERBOT_TOKEN": TOKEN},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            preexec_fn=limit if max_file_bytes else None)
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            async with self._changed:
                self.lines.append(line.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    async def logged(self, text: str, after: int = 0) -> str:
        """The first log line (from line `after` on) that contains `text`, once it is written."""
        def found() -> str | None:
            return next((line for line in self.lines[after:] if text in line), None)

        async def until() -> str:
            async with self._changed:
                await self._changed.wait_for(lambda: found() or self._reader.done())
                line = found()
                assert line, f"the bot ended without logging {text!r}:\n{self.log}"
                return line
        return await asyncio.wait_for(until(), WAIT)

    async def exit_code(self) -> int:
        code = await asyncio.wait_for(self.proc.wait(), WAIT)
        await self._reader
        return code

    async def stop(self) -> None:
        """Make sure the child is gone (the test may have failed half-way)."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        await self._reader


def config_for(folder: Path, api: FakeBotApi, **top: object) -> Path:
    """The test configuration, without the flood limit (the burst comes from few people)."""
    path = write_bot_config(folder, api.base_url, token=None, flood_limit_per_minute=0)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**data, **top}, allow_unicode=True), encoding="utf-8")
    return path


def questions(user_id: int) -> list[str]:
    """Six questions the bot cannot answer (each is logged), different for each person."""
    return [f"Wo bekomme ich eine Namensänderung Nr. {user_id}-{i}? Ich wohne in {town}."
            for i, town in enumerate(TOWNS)]


def burst(api: FakeBotApi) -> dict[int, list[dict]]:
    """Every person sends all their questions at once, interleaved; returns the updates."""
    sent: dict[int, list[dict]] = {u: [] for u in USERS}
    for i in range(len(TOWNS)):
        for user_id in USERS:
            sent[user_id].append(api.send_text(api.user(user_id), questions(user_id)[i]))
    return sent


def replies(api: FakeBotApi) -> int:
    return sum(len(api.sent_to(u)) for u in USERS)


def stored(path: Path) -> tuple[list[str], str, int]:
    """The questions in the file, its integrity check, and entries without a hurdle."""
    with closing(sqlite3.connect(path)) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        found = [row[0] for row in db.execute("SELECT question FROM entries ORDER BY id")]
        orphans = db.execute("SELECT COUNT(*) FROM entries WHERE hurdle_id NOT IN "
                             "(SELECT id FROM hurdles)").fetchone()[0]
    return found, integrity, orphans


async def test_sigkill_in_the_middle_of_a_burst_loses_no_committed_hurdle(tmp_path,
                                                                          telegram_api):
    bot = await BotProcess.start(config_for(tmp_path, telegram_api))
    try:
        await telegram_api.wait_for_call("getUpdates")
        burst(telegram_api)
        await telegram_api.wait_for(lambda: replies(telegram_api) >= 15, WAIT, "15 replies")
        bot.proc.send_signal(signal.SIGKILL)
        assert await bot.exit_code() == -signal.SIGKILL
    finally:
        await bot.stop()
    answered = {u: len(telegram_api.sent_to(u)) for u in USERS}
    assert sum(answered.values()) < len(USERS) * len(TOWNS)  # killed mid-burst indeed
    found, integrity, orphans = stored(tmp_path / "hurdles.sqlite")
    assert integrity == "ok" and orphans == 0
    # A reply is sent only after its hurdle was committed: every answered question is in the
    # file (each person's messages are handled in order, so their first n were answered).
    for user_id, count in answered.items():
        assert set(questions(user_id)[:count]) <= set(found)


async def test_sigterm_in_the_middle_of_a_burst_answers_what_was_received_and_closes_the_log(
        tmp_path, telegram_api):
    bot = await BotProcess.start(config_for(tmp_path, telegram_api))
    try:
        await telegram_api.wait_for_call("getUpdates")
        sent = burst(telegram_api)
        await telegram_api.wait_for(lambda: replies(telegram_api) >= 10, WAIT, "10 replies")
        at_sigterm = replies(telegram_api)
        bot.proc.send_signal(signal.SIGTERM)
        code = await bot.exit_code()
    finally:
        await bot.stop()
    assert code == 0, bot.log
    assert at_sigterm < len(USERS) * len(TOWNS)  # the burst was still being answered
    path = tmp_path / "hurdles.sqlite"
    # Received: committed to the inbox, and all of them done. Telegram may still hold the last
    # ones (not confirmed yet): the inbox knows them, so the next start does not answer them again.
    with closing(sqlite3.connect(path)) as db:
        inbox = dict(db.execute("SELECT update_id, done IS NOT NULL FROM state_inbox"))
    assert all(inbox.values())
    found, integrity, orphans = stored(path)
    for user_id, updates in sent.items():
        received = [u for u in updates if u["update_id"] in inbox]
        assert len(telegram_api.sent_to(user_id)) == len(received)  # each got its one reply
        assert [q for q in found if f"Nr. {user_id}-" in q] == \
            [u["message"]["text"] for u in received]  # and its hurdle, in order
    assert integrity == "ok" and orphans == 0
    assert not Path(f"{path}-wal").exists()  # the last connection closed: WAL folded in
    assert "hurdle store closed" in bot.log and "Traceback" not in bot.log


async def test_sighup_reloads_the_knowledge_base_and_a_broken_one_changes_nothing(tmp_path,
                                                                                 telegram_api,
                                                                                 kb_copy):
    assert kb_copy == tmp_path / "knowledge"
    anna = telegram_api.user(9100, "Anna")

    async def ask(text: str) -> str:
        waiting = telegram_api.next_message(anna.id)
        telegram_api.send_text(anna, text)
        return (await waiting).plain

    bot = await BotProcess.start(config_for(tmp_path, telegram_api, knowledge_dir="knowledge"))
    try:
        await telegram_api.wait_for_call("getUpdates")
        before = await ask(CAR)
        retitle_car_topic(kb_copy)
        mark = len(bot.lines)
        bot.proc.send_signal(signal.SIGHUP)
        await bot.logged("knowledge base reloaded", after=mark)
        after = await ask(CAR)
        problems = break_knowledge(kb_copy)
        mark = len(bot.lines)
        bot.proc.send_signal(signal.SIGHUP)
        await bot.logged("NOT reloaded", after=mark)
        logged = [await bot.logged(problem, after=mark) for problem in problems]
        still = await ask(CAR)
        bot.proc.send_signal(signal.SIGTERM)
        assert await bot.exit_code() == 0, bot.log
    finally:
        await bot.stop()
    assert CAR_TITLE in before and CAR_TITLE_EDITED in after
    assert all(" ERROR handlers.reload: knowledge/topics/" in line for line in logged)
    assert CAR_TITLE_EDITED in still  # the last good base keeps answering


KILL_USERS = range(9201, 9221)
KILL_TOWNS = ["Hameln", "Rinteln", "Minden", "Höxter", "Detmold"]


async def test_sigkill_mid_burst_then_restart_answers_every_message_exactly_once(tmp_path,
                                                                                 telegram_api):
    """Finding 3 of issue 14: 20 people x 5 messages, SIGKILL mid-burst, restart: every message
    is answered, none twice (the inbox commits each update before it is confirmed)."""
    config = config_for(tmp_path, telegram_api)
    bot = await BotProcess.start(config)
    try:
        await telegram_api.wait_for_call("getUpdates")
        for town in KILL_TOWNS:
            for user_id in KILL_USERS:
                telegram_api.send_text(telegram_api.user(user_id),
                                       f"Wo melde ich mein Auto an? Ich wohne in {town}.")
        total = len(KILL_USERS) * len(KILL_TOWNS)
        await telegram_api.wait_for(
            lambda: sum(len(telegram_api.sent_to(u)) for u in KILL_USERS) >= 20, WAIT, "20")
        bot.proc.send_signal(signal.SIGKILL)
        assert await bot.exit_code() == -signal.SIGKILL
    finally:
        await bot.stop()
    before = sum(len(telegram_api.sent_to(u)) for u in KILL_USERS)
    assert before < total  # killed mid-burst indeed
    bot = await BotProcess.start(config)
    try:
        await telegram_api.wait_for(
            lambda: sum(len(telegram_api.sent_to(u)) for u in KILL_USERS) >= total, WAIT,
            "every message answered")
        await telegram_api.drained()
        await asyncio.sleep(0.5)  # room for a duplicate to show
        assert "received before the bot stopped unexpectedly are answered now" in bot.log
        bot.proc.send_signal(signal.SIGTERM)
        assert await bot.exit_code() == 0, bot.log
    finally:
        await bot.stop()
    for user_id in KILL_USERS:
        got = [m.plain for m in telegram_api.sent_to(user_id)]
        assert len(got) == len(KILL_TOWNS), (user_id, got)
        for town in KILL_TOWNS:  # each question answered once, by its own answer
            assert sum(f"Wohnort in {town}" in text for text in got) == 1, (user_id, town)


async def test_sigterm_on_a_full_disk_ends_the_bot_promptly(tmp_path, telegram_api):
    config = config_for(tmp_path, telegram_api)
    first = await BotProcess.start(config)  # the files exist, as on a server that ran a while
    try:
        await telegram_api.wait_for_call("getUpdates")
        telegram_api.send_text(telegram_api.user(9050), CAR)
        await telegram_api.wait_for_messages(9050, 1)
        first.proc.send_signal(signal.SIGTERM)
        assert await first.exit_code() == 0, first.log
    finally:
        await first.stop()
    full = max(p.stat().st_size for p in tmp_path.glob("*.sqlite*"))
    bot = await BotProcess.start(config, max_file_bytes=full)  # from now on nothing can grow
    try:
        polls = len(telegram_api.calls_to("getUpdates"))
        await telegram_api.wait_for_call("getUpdates", polls + 1)
        burst(telegram_api)
        await telegram_api.wait_for(lambda: replies(telegram_api) >= 5, WAIT, "5 replies")
        bot.proc.send_signal(signal.SIGTERM)
        code = await bot.exit_code()  # within WAIT seconds, not never
    finally:
        await bot.stop()
    assert code in (0, 1), bot.log
    assert "unavailable" in bot.log  # the full disk was noticed (and said so) …
    assert "Traceback" not in bot.log  # … in lines, not tracebacks
