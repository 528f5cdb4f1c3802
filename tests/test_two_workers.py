"""Two `weserbot run` workers in webhook mode behind one reverse proxy, sharing PostgreSQL
(issue 15): a question asked back on one worker is completed by the reply that reaches the other;
one user's updates are handled in the order they were received; none is handled twice.

The workers are the real command in subprocesses; Telegram is the fake Bot API on 127.0.0.1 and
the proxy a small round-robin HTTP forwarder that the test can also steer."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import postgres_server
from fake_bot_api import TOKEN, FakeBotApi
from test_telegram_run import WESERBOT, free_port

from bot.database import scratch_schema

SECRET = "two-workers-webhook-secret-0123456789abcdef"
HURDLE_SECRET = "shared-hurdle-secret"
CAR = "Wo melde ich mein Auto an?"
TOWNS = {"Rinteln": "Schaumburg", "Hameln": "Hameln-Pyrmont", "Lügde": "Lippe",
         "Holzminden": "Holzminden"}
"""A town in each of four districts, and the district its car registration office names."""


@pytest.fixture
def postgres_url():
    server = postgres_server()
    if server is None:
        pytest.skip("no PostgreSQL server (WESERBOT_TEST_POSTGRES is not set)")
    with scratch_schema(server) as url:
        yield url


class Proxy:
    """A reverse proxy on 127.0.0.1: forwards each POST to the next worker in turn, or to the one
    `route` names for an update id; records which worker got which update."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.route: dict[int, int] = {}
        self.seen: list[tuple[int, int, int]] = []
        """(update id, worker, HTTP status) in the order the workers answered."""
        self._turn = itertools.cycle(range(len(backends)))
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._client = httpx.AsyncClient(timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._client.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        body = await reader.readexactly(int(headers.get("Content-Length", "0")))
        update_id = json.loads(body).get("update_id")
        worker = self.route.get(update_id, next(self._turn))
        forwarded = {k: v for k, v in headers.items()
                     if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        try:
            response = await self._client.post(self.backends[worker], content=body,
                                               headers=forwarded)
            status, text = response.status_code, response.content
        except httpx.HTTPError:
            status, text = 502, b""
        self.seen.append((update_id, worker, status))
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(text)}\r\n"
                     "Connection: close\r\n\r\n".encode() + text)
        await writer.drain()
        writer.close()


def worker_config(folder: Path, api: FakeBotApi, database: str, port: int, proxy: Proxy,
                  takeover_after: float = 10) -> Path:
    """The config of one worker, as an operator writes it: the same database, secrets and public
    URL for both; its own port."""
    folder.mkdir()
    data = {
        "log_level": "INFO",
        "database": {"url": database, "takeover_after": takeover_after},
        "telegram": {"token": TOKEN, "base_url": api.base_url, "base_file_url": api.base_url,
                     "mode": "webhook",
                     "webhook": {"listen": "127.0.0.1", "port": port, "path": "hook",
                                 "url": f"http://127.0.0.1:{proxy.port}/hook",
                                 "secret_token": SECRET}},
        "hurdles": {"path": "hurdles.sqlite", "secret": HURDLE_SECRET,
                    "retention_days": 365},
        "staff": {"user_ids": [900]},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@asynccontextmanager
async def two_workers(tmp_path: Path, api: FakeBotApi, database: str,
                      takeover_after: float = 10) -> AsyncIterator[Proxy]:
    ports = [free_port(), free_port()]
    async with Proxy([f"http://127.0.0.1:{p}/hook" for p in ports]) as proxy:
        procs = []
        try:
            for name, port in zip("AB", ports, strict=True):
                config = worker_config(tmp_path / name, api, database, port, proxy,
                                       takeover_after)
                procs.append(await asyncio.create_subprocess_exec(
                    WESERBOT, "run", "--config", str(config),
                    env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")},
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE))
                await api.wait_for_call("setWebhook", count=len(procs), timeout=60)
            await api.wait_for(lambda: len(api.calls_to("setMyCommands")) >= 2 * 4, timeout=60)
            yield proxy
        finally:
            errors = []
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(proc.communicate(), 60)
                errors.append(err.decode())
            assert all("Traceback" not in e for e in errors), errors


async def test_a_question_asked_back_on_one_worker_is_completed_on_the_other(
        tmp_path, telegram_api, postgres_url):
    anna = telegram_api.user(1001, "Anna")
    async with two_workers(tmp_path, telegram_api, postgres_url) as proxy:
        first = telegram_api.send_text(anna, CAR)
        proxy.route[first["update_id"]] = 0
        [asked] = await telegram_api.wait_for_messages(1001, 1)
        second = {"update_id": first["update_id"] + 1}
        proxy.route[second["update_id"]] = 1
        telegram_api.send_text(anna, "Rinteln")
        [_, answer] = await telegram_api.wait_for_messages(1001, 2)
    assert "Schaumburg" not in asked.plain and asked.plain.endswith("?")  # asked back
    assert "Rinteln" in answer.plain and "Schaumburg" in answer.plain
    assert {(u, w) for u, w, _ in proxy.seen} == {(first["update_id"], 0),
                                                  (second["update_id"], 1)}


async def test_one_users_updates_are_handled_in_order_and_none_twice(
        tmp_path, telegram_api, postgres_url):
    towns = list(TOWNS)
    users = [telegram_api.user(2000 + i, f"U{i}") for i in range(6)]
    # Per user: a question asked back, the reply, then two questions with a place: each answer
    # names another district, so the order of the answers shows the order of handling.
    order = {u.id: [towns[(i + k) % len(towns)] for k in range(3)] for i, u in enumerate(users)}
    script = {u.id: [CAR, order[u.id][0], *(f"{CAR} Ich wohne in {t}." for t in order[u.id][1:])]
              for u in users}
    telegram_api.send_latency = 0.3  # the next update arrives while this one is being answered
    async with two_workers(tmp_path, telegram_api, postgres_url) as proxy:
        async def converse(user) -> None:
            for text in script[user.id]:
                update = telegram_api.send_text(user, text)
                # Each update goes to the other worker than the one before; every third one is
                # delivered to both (a retry after a timeout reaching the other worker).
                proxy.route[update["update_id"]] = update["update_id"] % 2
                await telegram_api.wait_for(
                    lambda u=update: any(s[0] == u["update_id"] for s in proxy.seen))
                if update["update_id"] % 3 == 0:
                    proxy.route[update["update_id"]] = 1 - update["update_id"] % 2
                    await telegram_api._post_to_webhook(update)

        await asyncio.gather(*(converse(u) for u in users))
        for user in users:
            await telegram_api.wait_for_messages(user.id, 4, timeout=30)
    # The workers have stopped, having answered all they had received: a duplicate would be here.
    for user in users:
        replies = [m.plain for m in telegram_api.sent_to(user.id)]
        assert len(replies) == 4, replies
        districts = [TOWNS[t] for t in order[user.id]]
        assert not any(d in replies[0] for d in districts), replies  # asked back
        for reply, district, later in zip(replies[1:], districts, (districts[1:], districts[2:],
                                                                   []), strict=True):
            assert district in reply and not any(d in reply for d in later), replies
    duplicates = [u for u, _, _ in proxy.seen if u % 3 == 0]
    assert duplicates and all(duplicates.count(u) == 2 for u in duplicates)
    assert {w for _, w, status in proxy.seen if status == 200} == {0, 1}


async def test_what_a_worker_received_before_it_died_is_answered_by_the_other_once(
        tmp_path, telegram_api, postgres_url):
    from bot.state import StateStore

    anna = telegram_api.user(1001, "Anna")
    message = telegram_api._incoming(anna, None)
    message["text"] = f"{CAR} Ich wohne in Rinteln."
    update = {"update_id": 9001, "message": message}
    async with two_workers(tmp_path, telegram_api, postgres_url, takeover_after=1):
        # What a third worker does before it dies: the update is in the shared inbox (so
        # Telegram was told it arrived), and nobody has begun to answer it.
        store = await StateStore.open(postgres_url, HURDLE_SECRET)
        await store.receive(update["update_id"], update, store.owner_key("user", anna.id))
        await store.close()
        [reply] = await telegram_api.wait_for_messages(anna.id, 1, timeout=30)
    assert "Schaumburg" in reply.plain
    assert len(telegram_api.sent_to(anna.id)) == 1  # both workers looked; one answered
