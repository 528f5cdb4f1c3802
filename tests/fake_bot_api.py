"""The fake Telegram Bot API of the tests: it lives in the package (bot/fake_bot_api.py), where
`weserbot bench` finds it in an installed copy too."""

from bot.fake_bot_api import (  # noqa: F401 - the names the tests import from here
    ALLOWED_TAGS,
    BOT_ID,
    BOT_USERNAME,
    DEFAULT_WAIT,
    MAX_TEXT,
    TOKEN,
    ApiError,
    Call,
    FakeBotApi,
    Faults,
    Sent,
    User,
    parse_html,
    texts,
)
