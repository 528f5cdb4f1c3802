"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the real Application and for
the end-to-end part of `weserbot bench` (so it is part of the package: an installed copy has it).

Plain asyncio (no web framework): HTTP/1.1 with keep-alive, form or JSON bodies, the methods the
bot uses, getUpdates long polling with Telegram's offset semantics (an update stays queued until a
later call confirms it), webhook delivery after setWebhook, HTML checked the way Telegram checks
it, every call recorded, and injectable faults (429 with retry_after, 500, dropped connection,
a response slower than the client's read timeout).

    async with FakeBotApi() as api:
        app = build_application(config_with(base_url=api.base_url), ...)
        alice = api.user(1001, "Alice")
        api.send_text(alice, "Wo melde ich mein Auto an?")
        [reply] = await api.wait_for_messages(alice.id, 1)
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-token_for-the-fake-api"
BOT_ID = 123456
BOT_USERNAME = "WeserTestBot"
MAX_TEXT = 4096
DEFAULT_WAIT = 15.0

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "tg-spoiler", "span", "blockquote", "tg-emoji"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class ApiError(Exception):
    """What Telegram answers with ok=false."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def parse_html(text: str) -> str:
    """The plain text of a message in Telegram's HTML style; ApiError like Telegram's on bad input.

    Strict on purpose: every '<' must open or close an allowed tag, tags must nest, and every '&'
    must start an entity -- so a reply that leaks unescaped user text fails the test."""
    plain, stack, pos = [], [], 0
    for match in re.finditer(r"[<&]", text):
        start = match.start()
        if start < pos:
            continue
        plain.append(text[pos:start])
        if text[start] == "&":
            entity = _ENTITY.match(text, start)
            if not entity:
                raise ApiError(400, f"Bad Request: can't parse entities: unsupported entity at "
                                    f"byte offset {start}")
            plain.append(html.unescape(entity.group()))
            pos = entity.end()
            continue
        tag = _TAG.match(text, start)
        if not tag or tag.group(2).lower() not in ALLOWED_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag at "
                                f"byte offset {start}")
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if closing:
            if not stack or stack.pop() != name:
                raise ApiError(400, f"Bad Request: can't parse entities: unmatched end tag "
                                    f"</{name}> at byte offset {start}")
        else:
            if name == "a" and "href=" not in tag.group(3):
                raise ApiError(400, "Bad Request: can't parse entities: a tag without href")
            stack.append(name)
        pos = tag.end()
    plain.append(text[pos:])
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: can't find end tag "
                            f"corresponding to start tag {stack[-1]}")
    return "".join(plain)


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    fault: str | None = None


@dataclass
class Sent:
    """A message the bot sent (and its later edits)."""

    message_id: int
    chat_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict | None
    plain: str

    @property
    def keyboard(self) -> list[dict[str, Any]]:
        """The reply keyboard's buttons (under the input field), if the message brought one."""
        rows = (self.reply_markup or {}).get("keyboard", [])
        return [button for row in rows for button in row]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def button(self, label_part: str) -> dict[str, Any]:
        """The inline button whose label contains `label_part` (AssertionError if none)."""
        for button in self.buttons:
            if label_part in button["text"]:
                return button
        raise AssertionError(f"no button with {label_part!r} in {[b['text'] for b in self.buttons]}")

    def as_dict(self) -> dict[str, Any]:
        message = {"message_id": self.message_id, "date": int(time.time()),
                   "chat": {"id": self.chat_id,
                            "type": "private" if self.chat_id > 0 else "supergroup"},
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "WeserBot",
                            "username": BOT_USERNAME},
                   "text": self.plain}
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            # Telegram returns only inline keyboards with a message, never reply keyboards.
            message["reply_markup"] = self.reply_markup
        return message


@dataclass
class User:
    id: int
    first_name: str
    language_code: str | None = "de"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class Faults:
    """Inject errors into a share of the calls of some methods (never into getUpdates unless
    asked: a lost poll only delays, and PTB's own poll loop waits a second after each).

    Kinds: "429" (Too Many Requests with retry_after), "500", "drop" (the connection is closed
    unanswered), "timeout" (the server holds the call `slow` seconds, longer than the client's
    read timeout, then drops it without carrying it out). A timed-out getUpdates would only be
    noticed after the long poll, so getUpdates never gets "timeout"."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "500", "drop")
    methods: frozenset[str] = frozenset({"sendMessage", "editMessageText",
                                         "editMessageReplyMarkup", "answerCallbackQuery"})
    retry_after: int = 1
    slow: float = 1.0
    seed: int = 7
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def pick(self, method: str) -> str | None:
        if method in self.methods and self.rate and self.rng.random() < self.rate:
            kinds = [k for k in self.kinds if not (k == "timeout" and method == "getUpdates")]
            return self.rng.choice(kinds) if kinds else None
        return None


class FakeBotApi:
    """The server. Use as `async with FakeBotApi() as api:`; all state is public for asserts."""

    def __init__(self, token: str = TOKEN, faults: Faults | None = None) -> None:
        self.token = token
        self.faults = faults or Faults()
        self.calls: list[Call] = []
        self.messages: dict[int, list[Sent]] = {}
        self.deleted: list[Sent] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.send_latency = 0.0
        """Seconds every sendMessage takes (a slow network to Telegram): replies overlap."""
        self.observe: Callable[[Call], None] | None = None
        """Called with every call as it arrives, before it is carried out: a test looks at the
        bot's side at that moment (what is stored when a getUpdates confirms updates)."""
        self.port = 0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._incoming_ids = itertools.count(10_000)
        self._callback_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task] = set()

    # -- lifecycle -------------------------------------------------------------------------------
    async def __aenter__(self) -> FakeBotApi:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def base_url(self) -> str:
        """For python-telegram-bot's base_url (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what the test does ----------------------------------------------------------------------
    def user(self, user_id: int, first_name: str = "Test", language_code: str | None = "de"
             ) -> User:
        return User(user_id, first_name, language_code)

    def send_text(self, user: User, text: str, chat_id: int | None = None,
                  reply_to: Sent | None = None) -> dict[str, Any]:
        """A user writes a text message (in their private chat unless chat_id is a group)."""
        message = self._incoming(user, chat_id)
        message["text"] = text
        entities = _entities(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to.as_dict()
        return self.deliver({"message": message})

    def send(self, user: User, chat_id: int | None = None, **content: Any) -> dict[str, Any]:
        """A user sends any other message content, e.g. location={...}, sticker={...}."""
        message = self._incoming(user, chat_id)
        message.update(content)
        return self.deliver({"message": message})

    def press(self, user: User, message: Sent, data: str) -> dict[str, Any]:
        """A user presses an inline button (or forges one: any data can be sent)."""
        query = {"id": str(next(self._callback_ids)), "from": user.as_dict(),
                 "chat_instance": f"ci{message.chat_id}", "data": data,
                 "message": message.as_dict()}
        return self.deliver({"callback_query": query})

    def deliver(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates, or POST it to the webhook when one is set."""
        update = {"update_id": next(self._update_ids), **payload}
        if self.webhook:
            task = asyncio.get_running_loop().create_task(self._post_to_webhook(update))
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)
        else:
            self._updates.append(update)
            self._notify()
        return update

    @property
    def unconfirmed(self) -> list[dict[str, Any]]:
        """Updates the bot has not confirmed yet (a later getUpdates offset confirms them):
        Telegram keeps them for the bot's next start."""
        return list(self._updates)

    def sent_to(self, chat_id: int) -> list[Sent]:
        return list(self.messages.get(chat_id, []))

    def commands_for(self, language_code: str = "", scope: dict | None = None
                     ) -> list[dict[str, str]]:
        """The command list set with setMyCommands for this scope and language."""
        key = json.dumps(scope or {"type": "default"}, sort_keys=True)
        return self.commands.get((key, language_code), [])

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.fault is None]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = DEFAULT_WAIT,
                       what: str = "condition") -> Any:
        """Wait until `predicate()` is truthy (checked after every call the bot makes)."""
        async def until() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result
        try:
            return await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = DEFAULT_WAIT
                                ) -> list[Sent]:
        """Wait until the bot has sent `count` messages in total to this chat; returns them all."""
        await self.wait_for(lambda: len(self.messages.get(chat_id, [])) >= count, timeout,
                            f"{count} message(s) to chat {chat_id} "
                            f"(got {len(self.messages.get(chat_id, []))})")
        return self.sent_to(chat_id)

    async def next_message(self, chat_id: int, timeout: float = DEFAULT_WAIT) -> Sent:
        """The next message to this chat after the ones already there when called."""
        seen = len(self.messages.get(chat_id, []))
        return (await self.wait_for_messages(chat_id, seen + 1, timeout))[seen]

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = DEFAULT_WAIT
                            ) -> list[Call]:
        await self.wait_for(lambda: len(self.calls_to(method)) >= count, timeout,
                            f"{count} successful {method} call(s)")
        return self.calls_to(method)

    async def drained(self, timeout: float = DEFAULT_WAIT) -> None:
        """Wait until the bot has fetched and confirmed every queued update."""
        await self.wait_for(lambda: not self._updates, timeout, "all updates confirmed")

    # -- internals -------------------------------------------------------------------------------
    def _incoming(self, user: User, chat_id: int | None) -> dict[str, Any]:
        chat_id = user.id if chat_id is None else chat_id
        chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id > 0:
            chat["first_name"] = user.first_name
        else:
            chat["title"] = "Test group"
        return {"message_id": next(self._incoming_ids), "date": int(time.time()), "chat": chat,
                "from": user.as_dict()}

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(wake())

    async def _post_to_webhook(self, update: dict[str, Any]) -> None:
        import httpx

        assert self.webhook is not None
        headers = {}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        async with httpx.AsyncClient() as client:
            await client.post(self.webhook["url"], json=update, headers=headers, timeout=10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                path, headers, body = request
                response = await self._handle(path, headers, body)
                if response is None:  # injected fault: drop the connection unanswered
                    writer.transport.abort()
                    break
                status, payload = response
                data = json.dumps(payload).encode()
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Closing the server: end normally, as asyncio 3.11's stream callback would log a
            # cancelled connection task as an error.
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _handle(self, path: str, headers: dict[str, str], body: bytes
                      ) -> tuple[int, dict[str, Any]] | None:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", path.split("?")[0])
        if not match:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = match.groups()
        params = _parse_body(headers.get("content-type", ""), body)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        if self.observe is not None:
            self.observe(call)
        self._notify()  # a long poll has begun
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            call.fault = self.faults.pick(method)
            if call.fault == "timeout":
                await asyncio.sleep(self.faults.slow)  # the client gives up before this ends
                return None
            if call.fault == "drop":
                return None
            if call.fault == "429":
                raise ApiError(429, f"Too Many Requests: retry after {self.faults.retry_after}",
                               {"retry_after": self.faults.retry_after})
            if call.fault == "500":
                raise ApiError(500, "Internal Server Error")
            if method == "sendMessage" and self.send_latency:
                await asyncio.sleep(self.send_latency)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
            return 200, {"ok": True, "result": result}
        except ApiError as exc:
            error: dict[str, Any] = {"ok": False, "error_code": exc.code,
                                     "description": exc.description}
            if exc.parameters:
                error["parameters"] = exc.parameters
            return exc.code, error
        finally:
            self._notify()

    # -- the Bot API methods ---------------------------------------------------------------------
    async def _api_getMe(self, p: dict) -> dict:
        return {"id": BOT_ID, "is_bot": True, "first_name": "WeserBot", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _api_deleteWebhook(self, p: dict) -> bool:
        self.webhook = None
        if str(p.get("drop_pending_updates", "")).lower() == "true":
            self._updates.clear()
        return True

    async def _api_setWebhook(self, p: dict) -> bool:
        self.webhook = {"url": p["url"], "secret_token": p.get("secret_token")}
        return True

    async def _api_getWebhookInfo(self, p: dict) -> dict:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _api_getUpdates(self, p: dict) -> list[dict]:
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(p.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)

        def ready() -> bool:
            return bool(self._updates)

        if not ready() and timeout > 0:
            with contextlib.suppress(TimeoutError):
                async with self._changed:
                    await asyncio.wait_for(self._changed.wait_for(ready), timeout)
        return list(self._updates[:limit])

    async def _api_sendMessage(self, p: dict) -> dict:
        chat_id = int(p["chat_id"])
        sent = self._checked(chat_id, next(self._message_ids), p)
        self.messages.setdefault(chat_id, []).append(sent)
        return sent.as_dict()

    async def _api_editMessageText(self, p: dict) -> dict:
        old = self._find(p)
        new = self._checked(old.chat_id, old.message_id, p)
        old.text, old.plain, old.parse_mode = new.text, new.plain, new.parse_mode
        old.reply_markup = new.reply_markup
        return old.as_dict()

    async def _api_editMessageReplyMarkup(self, p: dict) -> dict:
        message = self._find(p)
        message.reply_markup = p.get("reply_markup")
        return message.as_dict()

    async def _api_deleteMessage(self, p: dict) -> bool:
        """Recorded in `deleted`; the message stays in `messages`, so counts do not shift."""
        message = self._find(p)
        if message in self.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.deleted.append(message)
        return True

    async def _api_answerCallbackQuery(self, p: dict) -> bool:
        if len(str(p.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_setMyCommands(self, p: dict) -> bool:
        scope = json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, p.get("language_code") or "")] = p["commands"]
        return True

    async def _api_getMyCommands(self, p: dict) -> list:
        scope = json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True)
        return self.commands.get((scope, p.get("language_code") or ""), [])

    async def _api_sendChatAction(self, p: dict) -> bool:
        return True

    def _checked(self, chat_id: int, message_id: int, p: dict) -> Sent:
        text = str(p.get("text") or "")
        plain = parse_html(text) if p.get("parse_mode") == "HTML" else text
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain.encode("utf-16-le")) // 2 > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        markup = p.get("reply_markup")
        for button in (markup or {}).get("inline_keyboard", [[]])[0:]:
            for b in button:
                if "callback_data" in b and len(b["callback_data"].encode()) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if "url" in b and not re.match(r"(https?|tg)://", b["url"]):
                    raise ApiError(400, "Bad Request: wrong HTTP URL")
        return Sent(message_id, chat_id, text, p.get("parse_mode"), markup, plain)

    def _find(self, p: dict) -> Sent:
        chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
        for message in self.messages.get(chat_id, []):
            if message.message_id == message_id:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")


def _entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks commands and @mentions; offsets in UTF-16 code units."""
    found = []
    for match in re.finditer(r"(?<![\w/@])(/[A-Za-z0-9_]+(?:@\w+)?|@\w{3,})", text):
        kind = "bot_command" if match.group().startswith("/") else "mention"
        if kind == "bot_command" and match.start() != 0:
            continue
        offset = len(text[:match.start()].encode("utf-16-le")) // 2
        length = len(match.group().encode("utf-16-le")) // 2
        found.append({"type": kind, "offset": offset, "length": length})
    return found


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(body)
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        # PTB sends nested objects (reply_markup, commands, scope) as JSON strings.
        if value[:1] in "[{":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
                continue
        params[key] = value
    return params


async def _read_request(reader: asyncio.StreamReader
                        ) -> tuple[str, dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    _, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length") or 0))
    return path, headers, body


def texts(messages: Iterable[Sent]) -> list[str]:
    """The plain text of messages, as the user reads them."""
    return [m.plain for m in messages]
