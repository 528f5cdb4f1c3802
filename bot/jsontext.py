"""JSON text in the database: orjson where it can, the standard library where orjson refuses.

The bot writes a user's conversation state and each received update as JSON for every message;
orjson does that several times faster. What it refuses goes the slow way, with the result the bot
had before: lone surrogates (Telegram text can carry them; `json` escapes them) and non-string keys
(`json` turns them into strings).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def encode(value: Any) -> bytes:
    """JSON for `value` as UTF-8 bytes (a request body); TypeError or ValueError when JSON cannot
    hold it."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value).encode()  # ASCII: `json` escapes what orjson refuses


def dumps(value: Any) -> str:
    """`encode` as text (the database's columns)."""
    return encode(value).decode()


def loads(text: str | bytes) -> Any:
    """The value of JSON text; ValueError when it is not JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
