"""The HTTP client the bot talks to the Bot API with: aiohttp behind python-telegram-bot's
`BaseRequest` interface.

python-telegram-bot's default client (httpx on httpcore and h11, all pure Python) cost about a
fifth of the bot's CPU per message; aiohttp parses HTTP in C. Errors come out as
python-telegram-bot's own (TimedOut, NetworkError), so nothing else changes.
"""

from __future__ import annotations

import functools
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot import jsontext


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a pool of keep-alive connections; timeouts in seconds per phase
    as python-telegram-bot names them. aiohttp has no write timeout of its own: a call as a whole
    is bounded by the sum of its phases."""

    def __init__(self, connection_pool_size: int, timeouts: Mapping[str, float | None],
                 before: Callable[[], Awaitable[None]] | None = None,
                 parsed: Callable[[Any], None] | None = None) -> None:
        """`timeouts`: seconds per phase, keyed connect, read, write and pool; `before`: awaited
        before every call (for getUpdates: what the call confirms is committed); `parsed`: given
        every response as parsed (for getUpdates: the updates as Telegram sent them)."""
        self._before = before
        self._parsed = parsed
        self._pool_size = connection_pool_size
        self._defaults = {phase: timeouts[phase] for phase in ("connect", "read", "write", "pool")}
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._defaults["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Not trust_env: aiohttp would read ~/.netrc and the environment at every call.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:
        try:
            data = jsontext.loads(payload)
        except ValueError as exc:
            raise TelegramError("Invalid server response") from exc
        if self._parsed is not None:
            self._parsed(data)
        return data

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE,
                         write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        if self._before is not None:
            await self._before()
        given = {"connect": connect_timeout, "read": read_timeout, "write": write_timeout,
                 "pool": pool_timeout}
        limit = {phase: self._defaults[phase] if isinstance(value, DefaultValue) else value
                 for phase, value in given.items()}
        phases = list(limit.values())
        timeout = aiohttp.ClientTimeout(
            total=None if None in phases else sum(phases),
            connect=None if limit["pool"] is None or limit["connect"] is None
            else limit["pool"] + limit["connect"],
            sock_connect=limit["connect"], sock_read=limit["read"])
        try:
            body, headers = _body(request_data)
            async with self._session.request(method, url, data=body, headers=headers,
                                             timeout=timeout, proxy=_proxy(url)) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts (ServerTimeoutError) are TimeoutErrors
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


@functools.lru_cache(maxsize=8)
def _proxy_for(scheme: str, host: str) -> str | None:
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


def _proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, NO_PROXY …), as python-telegram-bot's
    httpx client takes it; read once per host."""
    parts = urllib.parse.urlsplit(url)
    return _proxy_for(parts.scheme, parts.hostname or "")


JSON_BODY = {"Content-Type": "application/json"}


def _body(request_data: RequestData | None) -> tuple[Any, Mapping[str, str] | None]:
    """The request body and its headers: the parameters as one JSON object, encoded by orjson
    (python-telegram-bot's own forms are encoded twice, by the standard library, then URL-encoded),
    or multipart when files are uploaded: the Bot API takes JSON except for uploads
    (https://core.telegram.org/bots/api-changelog#september-7-2015)."""
    if request_data is None:
        return None, None
    if not request_data.contains_files:
        return jsontext.encode(request_data.parameters), JSON_BODY
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form, None
