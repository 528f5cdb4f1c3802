"""`weserbot run --config config.yaml`: the Telegram bot (polling or webhook, as configured)."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from bot import keys
from bot.cli import CliError, effective_config
from bot.config import ConfigError
from bot.engine import Engine
from bot.hurdles import StoreUnavailable
from bot.knowledge import KnowledgeError
from bot.settings import setting

MIN_REDACTED = setting("min_redacted")
QUIET_LOGGERS = ("httpx", "httpcore", "aiohttp")
"""Their INFO lines contain request URLs, and a Bot API URL contains the token."""
PRIVATE_LOGGERS = ("telegram", "apscheduler", "aiosqlite")
"""Their DEBUG lines carry whole updates or the SQL arguments that store them (names, user ids,
questions): never below INFO."""


class LogHygiene(logging.Filter):
    """No secret in any log line; an unreachable or refusing Telegram in one line, without a
    traceback (they are expected events, and the message says what happened)."""

    def __init__(self, secrets: list[str | None]) -> None:
        super().__init__()
        # A short secret replaced inside ordinary words would give itself away ("Tracebac<secret>");
        # those are too weak to protect anything anyway (webhook secrets are at least 32 long).
        self.secrets = [s for s in secrets if s and len(s) >= MIN_REDACTED]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        message = record.getMessage()
        if isinstance(error, (InvalidToken, NetworkError)) and not isinstance(error, BadRequest):
            message = f"{message} ({type(error).__name__}: {error})"
            record.exc_info = record.exc_text = None
        elif record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        record.msg, record.args = self.redact(message), ()
        return True


def setup(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: `weserbot --config X run` and `weserbot run --config X` both work.
    p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                   help="configuration file (copy config.example.yaml to config.yaml)")


def _fail(message: str, token: str | None = None) -> int:
    if token:
        message = message.replace(token, "<token>")
    print(f"weserbot: {message}", file=sys.stderr)
    return 1


def run_bot(args: argparse.Namespace) -> int:
    if not getattr(args, "config", None):
        return _fail("run needs --config FILE (copy config.example.yaml to config.yaml)")
    token = None
    try:
        config = effective_config(args)
        token = config.telegram.token
        if not isinstance(logging.getLevelName(config.log_level), int):
            raise ConfigError(f"{args.config}: log_level: '{config.log_level}' is not one of "
                              "DEBUG, INFO, WARNING, ERROR")
        logging.basicConfig(level=config.log_level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        keys.fill_in(config)
        hygiene = LogHygiene([token, config.telegram.webhook_secret, config.hurdles.secret])
        for handler in logging.getLogger().handlers:
            handler.addFilter(hygiene)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(max(logging.WARNING, logging.root.level))
        for name in PRIVATE_LOGGERS:
            logging.getLogger(name).setLevel(max(logging.INFO, logging.root.level))
        started = time.perf_counter()
        engine = Engine.load(config.knowledge_dir)
        logging.getLogger("weserbot").debug("knowledge base loaded: %d topics in %.2f s",
                                            len(engine.kb.topics), time.perf_counter() - started)
        from handlers.app import build_application, run

        app = build_application(config, engine)
        logging.getLogger("weserbot").info("starting (%s)", config.telegram.mode)
        run(app, config)
    except (ConfigError, CliError) as exc:
        return _fail(str(exc))
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(f"the knowledge base has {len(exc.problems)} problem(s)")
    except InvalidToken:
        return _fail("Telegram rejected the bot token. Check telegram.token in the config or "
                     "the environment variable WESERBOT_TOKEN (a token comes from @BotFather).")
    except StoreUnavailable as exc:
        return _fail(str(exc))
    except NetworkError as exc:
        if isinstance(exc, BadRequest):  # e.g. setWebhook refused (an https url is needed)
            return _fail(f"Telegram refused to start the bot: {exc}", token)
        return _fail(f"cannot reach the Telegram Bot API ({exc}); check the network and "
                     "telegram.base_url", token)
    except TelegramError as exc:
        return _fail(f"Telegram refused to start the bot: {exc}", token)
    except OSError as exc:  # e.g. the webhook port is taken, the state file is not writable
        return _fail(str(exc), token)
    return 0
