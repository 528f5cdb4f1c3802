"""The Bot API client (aiohttp) and the JSON the state is stored as: the same behaviour as the
libraries they replace, faults included."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, InputFile
from telegram.error import NetworkError, TimedOut

from bot import jsontext
from bot.fake_bot_api import TOKEN
from handlers.bot_api import AiohttpRequest

LIMITS = {"connect": 1.0, "read": 0.3, "write": 1.0, "pool": 1.0}


@pytest.fixture
async def client():
    request = AiohttpRequest(4, LIMITS)
    await request.initialize()
    yield request
    await request.shutdown()


async def test_a_call_returns_the_bot_apis_result(client, telegram_api):
    result = await client.post(f"{telegram_api.base_url}{TOKEN}/getMe")
    assert result["is_bot"] is True


async def test_a_server_that_does_not_answer_is_a_timeout(client):
    async def silent(reader, writer):
        await reader.read(1)
        await asyncio.Event().wait()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TimedOut):
            await client.post(f"http://127.0.0.1:{port}/botTOKEN/getMe")
    finally:
        server.close()


async def test_a_closed_port_is_a_network_error_without_the_token(client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError) as caught:
        await client.post(f"http://127.0.0.1:{port}/botSECRET-TOKEN/getMe")
    assert not isinstance(caught.value, TimedOut)
    assert "SECRET-TOKEN" not in str(caught.value)


@pytest.fixture
async def recorder():
    """A Bot API stand-in that keeps each request's head and body and answers `true`."""
    seen: list[tuple[bytes, bytes]] = []

    async def answer(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        seen.append((head, await reader.readexactly(length)))
        body = b'{"ok": true, "result": true}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/bot", seen
    server.close()


async def test_parameters_go_as_one_json_body_nested_objects_included(client, recorder):
    url, seen = recorder
    bot = Bot("TOKEN", base_url=url, request=client)
    commands = [BotCommand("start", "Lügde \ud83d")]  # a lone surrogate: orjson refuses it
    assert await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats()) is True
    head, body = seen[0]
    assert b"/botTOKEN/setMyCommands" in head
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body) == {"commands": [{"command": "start", "description": "Lügde \ud83d"}],
                                "scope": {"type": "all_private_chats"}}


async def test_a_file_goes_as_multipart(client, recorder):
    url, seen = recorder
    bot = Bot("TOKEN", base_url=url, request=client)
    assert await bot.set_chat_photo(7, InputFile(b"photo", filename="p.jpg")) is True
    head, body = seen[0]
    assert b"multipart/form-data" in head.lower()
    assert b'name="chat_id"' in body and b'filename="p.jpg"' in body and b"photo" in body


def test_state_json_keeps_what_orjson_refuses():
    odd = {"text": "broken \ud83d half", "keys": {1: "a"}, "name": "Lügde"}
    assert jsontext.loads(jsontext.dumps(odd)) == json.loads(json.dumps(odd))
    assert jsontext.loads('{"a": "\\ud83d"}') == {"a": "\ud83d"}
    with pytest.raises(TypeError):
        jsontext.dumps({"x": object()})
    with pytest.raises(ValueError):
        jsontext.loads("{not json")
