"""The configuration file (YAML): every key documented in config.example.yaml."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.database import DatabaseURL, parse_url
from bot.settings import setting
from bot.yamlfile import LineDict, YamlError, load_yaml

MIN_WEBHOOK_SECRET = setting("min_webhook_secret")
WEBHOOK_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""The characters Telegram allows in a secret token."""

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(Exception):
    """A missing or malformed configuration; the message is meant for the operator as is."""


class Mode(StrEnum):
    """How the bot gets its updates (telegram.mode)."""

    POLLING = "polling"
    """It asks Telegram (getUpdates long polls): works behind any firewall."""
    WEBHOOK = "webhook"
    """Telegram calls it at telegram.webhook.url: needs a public https address."""


@dataclass
class TelegramConfig:
    token: str | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Mode = Mode.POLLING
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "telegram"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    persistence_file: Path = Path("weserbot-state.pickle")
    flood_limit: int = 20
    """Messages one user may send per minute before the bot asks them to slow down."""


@dataclass
class HurdlesConfig:
    path: Path = Path("weserbot-hurdles.sqlite")
    secret: str = ""
    retention_days: int = 365


@dataclass
class Config:
    source: Path | None = None
    knowledge_dir: Path | None = None
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    hurdles: HurdlesConfig = field(default_factory=HurdlesConfig)
    staff_user_ids: frozenset[int] = frozenset()
    staff_chat_id: int | None = None
    staff_language: str = "de"
    """The language of the staff's texts, the staff chat and the report (de or en)."""
    digest_weekday: int | None = 0
    """The day of the weekly digest in the staff chat (0 = Monday); None: no digest."""
    digest_time: str = "08:00"
    """When on that day (UTC, HH:MM)."""
    log_level: str = "INFO"
    state_path: Path | None = None
    """The conversation state and the inbox of updates (SQLite); None: in the hurdle log's file."""
    takeover_after: float = setting("takeover_after")
    """Seconds after which a worker answers an update another worker received and left."""
    database_url: str | None = None
    """`database.url`: sqlite:///PATH or postgresql://user@host:port/db for the hurdle log, the
    conversation state and the inbox; None: the SQLite files above."""

    @property
    def hurdles_db(self) -> DatabaseURL:
        """Where the hurdle log is: database.url, else the SQLite file hurdles.path."""
        return self._database() or parse_url(self.hurdles.path)

    @property
    def state_db(self) -> DatabaseURL:
        """Where the conversation state and the inbox are: database.url, else state_path or the
        hurdle log's file."""
        return self._database() or parse_url(self.state_path or self.hurdles.path)

    def _database(self) -> DatabaseURL | None:
        if not self.database_url:
            return None
        try:
            return parse_url(self.database_url, self.source.parent if self.source else None)
        except ValueError as exc:
            raise ConfigError(f"database.url: {exc}") from exc


def check_webhook_secret(secret: str, where: str) -> None:
    """A webhook secret token that nobody guesses: ConfigError for a short or malformed one."""
    if not WEBHOOK_SECRET_CHARS.fullmatch(secret):
        raise ConfigError(f"{where}: telegram.webhook.secret_token: only A-Z a-z 0-9 _ - are "
                          "allowed (or leave it out: the bot then makes one and keeps it)")
    if len(secret) < MIN_WEBHOOK_SECRET:
        raise ConfigError(f"{where}: telegram.webhook.secret_token: at least {MIN_WEBHOOK_SECRET}"
                          f" characters, not {len(secret)} (or leave it out: the bot then makes "
                          "one and keeps it)")


def _section(data: LineDict, key: str, where: str) -> LineDict:
    value = data.get(key)
    if value is None:
        empty = LineDict()
        empty.key_lines = {}
        return empty
    if not isinstance(value, LineDict):
        raise ConfigError(f"{where}:{data.line_of(key)}: {key}: must be a mapping")
    return value


def _value(data: LineDict, key: str, kind: type | tuple[type, ...], default: Any, where: str,
           name: str) -> Any:
    value = data.get(key)
    if value is None:
        return default
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        type_name = {str: "a text", int: "a whole number", list: "a list",
                     (int, float): "a number"}.get(kind) or getattr(kind, "__name__", str(kind))
        raise ConfigError(f"{where}:{data.line_of(key)}: {name}: must be {type_name}")
    return value


KNOWN_KEYS: dict[str, frozenset[str]] = {
    "": frozenset({"knowledge_dir", "state_path", "log_level", "database", "telegram",
                   "hurdles", "staff"}),
    "database": frozenset({"url", "takeover_after"}),
    "telegram": frozenset({"token", "base_url", "base_file_url", "mode", "webhook",
                           "persistence_file", "flood_limit_per_minute"}),
    "telegram.webhook": frozenset({"listen", "port", "path", "url", "secret_token"}),
    "hurdles": frozenset({"path", "secret", "retention_days"}),
    "staff": frozenset({"user_ids", "chat_id", "language", "digest"}),
    "staff.digest": frozenset({"weekday", "time"}),
}
"""Every key a configuration may have, by section: any other is a typo worth a clear message."""


def _unknown_keys(data: LineDict, where: str, section: str = "") -> list[str]:
    """'staf: unknown key — did you mean staff?' for every key the configuration does not know."""
    from rapidfuzz import process

    problems = []
    known = KNOWN_KEYS.get(section, frozenset())
    for key, value in data.items():
        name = f"{section}.{key}" if section else str(key)
        if key not in known:
            near = process.extractOne(str(key), sorted(known), score_cutoff=60)
            hint = f" — did you mean {near[0]}?" if near else f" (known: {', '.join(sorted(known))})"
            problems.append(f"{where}:{data.line_of(key)}: {name}: unknown key{hint}")
        elif name in KNOWN_KEYS and isinstance(value, LineDict):
            problems.extend(_unknown_keys(value, where, name))
    return problems


def load_config(path: Path) -> Config:
    """Read a config file; relative paths in it are relative to the file's folder."""
    where = str(path)
    if not path.is_file():
        raise ConfigError(f"{where}: configuration file not found (copy config.example.yaml)")
    try:
        data = load_yaml(path, where)
    except YamlError as exc:
        raise ConfigError(str(exc)) from exc
    if data is None:
        data = LineDict()
        data.key_lines = {}
    if not isinstance(data, LineDict):
        raise ConfigError(f"{where}:1: the file must be a mapping of keys")
    base = path.resolve().parent
    if unknown := _unknown_keys(data, where):
        raise ConfigError("\n".join(unknown))

    def rel(value: str | None) -> Path | None:
        return None if value is None else (base / Path(value).expanduser())

    tg = _section(data, "telegram", where)
    hs = _section(data, "hurdles", where)
    staff = _section(data, "staff", where)
    db = _section(data, "database", where)
    cfg = Config(source=path)
    cfg.database_url = os.environ.get("WESERBOT_DATABASE_URL") or _value(
        db, "url", str, None, where, "database.url")
    after = _value(db, "takeover_after", (int, float), cfg.takeover_after, where,
                   "database.takeover_after")
    if isinstance(after, bool) or after <= 0:
        raise ConfigError(f"{where}:{db.line_of('takeover_after')}: database.takeover_after: "
                          "must be a number of seconds above 0")
    cfg.takeover_after = float(after)
    if cfg.database_url:
        try:
            parse_url(cfg.database_url)
        except ValueError as exc:
            raise ConfigError(f"{where}:{db.line_of('url')}: database.url: {exc}") from exc
    cfg.knowledge_dir = rel(_value(data, "knowledge_dir", str, None, where, "knowledge_dir"))
    cfg.state_path = rel(_value(data, "state_path", str, None, where, "state_path"))
    cfg.log_level = _value(data, "log_level", str, "INFO", where, "log_level").upper()
    t = cfg.telegram
    t.token = os.environ.get("WESERBOT_TOKEN") or _value(tg, "token", str, None, where,
                                                          "telegram.token")
    t.base_url = _value(tg, "base_url", str, t.base_url, where, "telegram.base_url")
    t.base_file_url = _value(tg, "base_file_url", str, t.base_file_url, where,
                             "telegram.base_file_url")
    mode = _value(tg, "mode", str, t.mode, where, "telegram.mode")
    if mode not in tuple(Mode):
        raise ConfigError(f"{where}:{tg.line_of('mode')}: telegram.mode: must be "
                          f"{' or '.join(Mode)}")
    t.mode = Mode(mode)
    wh = _section(tg, "webhook", where)
    t.webhook_listen = _value(wh, "listen", str, t.webhook_listen, where, "telegram.webhook.listen")
    t.webhook_port = _value(wh, "port", int, t.webhook_port, where, "telegram.webhook.port")
    t.webhook_path = _value(wh, "path", str, t.webhook_path, where, "telegram.webhook.path")
    t.webhook_url = _value(wh, "url", str, None, where, "telegram.webhook.url")
    t.webhook_secret = os.environ.get("WESERBOT_WEBHOOK_SECRET") or _value(
        wh, "secret_token", str, None, where, "telegram.webhook.secret_token")
    if t.mode == Mode.WEBHOOK and not t.webhook_url:
        raise ConfigError(f"{where}:{tg.line_of('mode')}: telegram.webhook.url: needed in "
                          "webhook mode (the public https address Telegram calls)")
    if t.mode == Mode.WEBHOOK and t.webhook_secret is not None:
        check_webhook_secret(t.webhook_secret, "environment WESERBOT_WEBHOOK_SECRET"
                             if os.environ.get("WESERBOT_WEBHOOK_SECRET")
                             else f"{where}:{wh.line_of('secret_token')}")
    t.persistence_file = rel(_value(tg, "persistence_file", str, str(t.persistence_file), where,
                                    "telegram.persistence_file"))
    t.flood_limit = _value(tg, "flood_limit_per_minute", int, t.flood_limit, where,
                           "telegram.flood_limit_per_minute")
    h = cfg.hurdles
    h.path = rel(_value(hs, "path", str, str(h.path), where, "hurdles.path"))
    h.secret = os.environ.get("WESERBOT_HURDLE_SECRET") or _value(
        hs, "secret", str, "", where, "hurdles.secret")
    h.retention_days = _value(hs, "retention_days", int, h.retention_days, where,
                              "hurdles.retention_days")
    ids = _value(staff, "user_ids", list, [], where, "staff.user_ids")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ConfigError(f"{where}:{staff.line_of('user_ids')}: staff.user_ids: must be a list "
                          "of numeric Telegram user ids")
    cfg.staff_user_ids = frozenset(ids)
    cfg.staff_chat_id = _value(staff, "chat_id", int, None, where, "staff.chat_id")
    cfg.staff_language = _value(staff, "language", str, "de", where, "staff.language")
    if cfg.staff_language not in ("de", "en"):
        raise ConfigError(f"{where}:{staff.line_of('language')}: staff.language: must be de or en")
    if staff.get("digest") is False:
        cfg.digest_weekday = None
    else:
        digest = _section(staff, "digest", where)
        day = _value(digest, "weekday", str, "monday", where, "staff.digest.weekday").lower()
        if day not in WEEKDAYS:
            raise ConfigError(f"{where}:{digest.line_of('weekday')}: staff.digest.weekday: "
                              f"must be one of {', '.join(WEEKDAYS)}")
        cfg.digest_weekday = WEEKDAYS.index(day)
        cfg.digest_time = _value(digest, "time", str, "08:00", where, "staff.digest.time")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", cfg.digest_time):
            raise ConfigError(f"{where}:{digest.line_of('time')}: staff.digest.time: must be "
                              "HH:MM (UTC), e.g. 08:00")
    return cfg
