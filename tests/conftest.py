"""Shared fixtures. Each feature keeps its fixtures in its own marked block."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.knowledge import BUNDLED

# --- engine and knowledge base -------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory):
    """The compiled engine cache (bot/engine_cache.py) of this run, here and in every `weserbot`
    started from a test: never the user's own."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield Path(os.environ["XDG_CACHE_HOME"])
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine on the bundled knowledge base, loaded once for the whole run."""
    return Engine.load()


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge base, for tests that break it on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(BUNDLED, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def ask(engine: Engine, question: str) -> dict:
    """The engine's answer as the JSON object of `weserbot ask --json`."""
    return engine.ask(question).to_json()


async def press_button(api, user_id: int, message, data: str) -> str:
    """Press an inline button as a user; returns the text of the bot's answerCallbackQuery."""
    seen = len(api.calls_to("answerCallbackQuery"))
    update = api.press(api.user(user_id), message, data)
    calls = await api.wait_for_call("answerCallbackQuery", seen + 1)
    [call] = [c for c in calls if c.params["callback_query_id"] == update["callback_query"]["id"]]
    return call.params.get("text", "")


# --- hurdle log (bot/hurdles.py) -----------------------------------------------------------------
HURDLE_TOWNS = {
    "Lügde": ("05766044", "lippe", "NW"), "Detmold": ("05766020", "lippe", "NW"),
    "Hameln": ("03252006", "hameln-pyrmont", "NI"), "Rinteln": ("03257028", "schaumburg", "NI"),
    "Minden": ("05770024", "minden-luebbecke", "NW"), "Höxter": ("05762020", "hoexter", "NW"),
    "Holzminden": ("03255022", "holzminden", "NI"),
}
"""Towns for hurdle tests: AGS, district, Land."""


@pytest.fixture
def hurdle_answer():
    """Build a real `bot.answer.Answer` as the engine would, without the knowledge base:
    make(question, reason="no_topic", topic=None, places=[("Lügde", "residence", None), ...])."""
    from bot.answer import Answer

    def make(question: str, reason: str = "no_topic", topic: str | None = None,
             places: list[tuple[str, str | None, str | None]] = (), lang: str = "de") -> Answer:
        mentions, districts, lands = [], set(), set()
        for town, role, direction in places:
            ags, district, land = HURDLE_TOWNS[town]
            mentions.append({"text": town.lower(), "role": role, "direction": direction,
                             "refs": [{"kind": "municipality", "key": ags, "via": "name"}],
                             "edits": 0, "districts": [district]})
            districts.add(district)
            lands.add(land)
        return Answer(question, lang, reason, "(reply text)", topic=topic, places=mentions,
                      lands=sorted(lands), districts=sorted(districts))

    return make


POSTGRES_ENV = "WESERBOT_TEST_POSTGRES"
"""A PostgreSQL server for the tests (postgresql://user@host:port/db; .ci/run starts one). Each
test gets a schema of its own, dropped afterwards."""
POSTGRES_REQUIRED_ENV = "WESERBOT_TEST_POSTGRES_REQUIRED"
"""Set (by .ci/run): a missing or unreachable server fails the tests instead of skipping them."""


def postgres_server() -> str | None:
    """The test server's URL, or None (then the PostgreSQL variants are skipped)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url and os.environ.get(POSTGRES_REQUIRED_ENV):
        pytest.fail(f"{POSTGRES_ENV} is not set, but {POSTGRES_REQUIRED_ENV} is")
    return url or None


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path):
    """Where a test's stores live, once per backend: `database` is a SQLite file path (as a
    string) or a PostgreSQL URL. Tests about SQLite's files have the `sqlite_only` marker."""
    if request.param == "sqlite":
        yield str(tmp_path / "hurdles.sqlite")
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("about SQLite files")
    server = postgres_server()
    if server is None:
        pytest.skip(f"no PostgreSQL server ({POSTGRES_ENV} is not set)")
    from bot.database import scratch_schema

    with scratch_schema(server) as url:  # a schema of its own, dropped afterwards
        yield url


def _url(where):
    """A store, a Config (its hurdle log), a SQLite path or a database URL, as a DatabaseURL."""
    from bot.config import Config
    from bot.database import parse_url

    location = where.hurdles_db if isinstance(where, Config) else getattr(where, "url", where)
    return parse_url(str(location) if isinstance(location, Path) else location)


def read_rows(where, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the database with a connection of its own, as another process (or an admin) would;
    `where` as for _url, `sql` with `?` placeholders."""
    import sqlite3
    from contextlib import closing

    url = _url(where)
    if url.path is not None:
        with closing(sqlite3.connect(url.path)) as db:
            return db.execute(sql, params).fetchall()
    import psycopg

    with psycopg.connect(url.dsn, autocommit=True) as db:
        return db.execute(sql.replace("?", "%s"), params).fetchall()


def table_names(where) -> list[str]:
    """The tables of the database at `where`."""
    sql = ("SELECT name FROM sqlite_master WHERE type = 'table'" if _url(where).is_file else
           "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    return [row[0] for row in read_rows(where, sql)]


def stored_bytes(where) -> bytes:
    """Everything the database holds, as bytes: a SQLite file with its -wal and -shm files
    (deleted text may linger there), or every row of every table in PostgreSQL."""
    url = _url(where)
    if url.path is not None:
        return b"".join(p.read_bytes() for p in url.path.parent.glob(url.path.name + "*"))
    return "\n".join(str(row) for table in table_names(where)
                     for row in read_rows(where, f"SELECT * FROM {table}")).encode()


@pytest.fixture
async def hurdle_store(database):
    """An open hurdle log in a fresh database (SQLite: tmp_path/hurdles.sqlite), closed after."""
    from bot.hurdles import HurdleStore

    store = await HurdleStore.open(database, "test-secret", 365)
    yield store
    await store.close()


# --- Telegram end to end (tests/test_telegram_*.py) ----------------------------------------------
# The real python-telegram-bot Application against tests/fake_bot_api.py on 127.0.0.1.

TELEGRAM_STAFF_ID = 900
"""The one staff member in the test configuration."""


def write_bot_config(folder: Path, base_url: str, **telegram: object) -> Path:
    """A config.yaml as an operator would write it (see config.example.yaml)."""
    import yaml
    from fake_bot_api import TOKEN

    data = {
        "log_level": "INFO",
        "telegram": {"token": TOKEN, "base_url": base_url, "base_file_url": base_url,
                     "persistence_file": "state.pickle", "flood_limit_per_minute": 20,
                     **telegram},
        "hurdles": {"path": "hurdles.sqlite", "secret": "test-secret", "retention_days": 365},
        "staff": {"user_ids": [TELEGRAM_STAFF_ID]},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
async def telegram_api():
    """The fake Bot API server (records every call; tests send updates through it)."""
    from fake_bot_api import FakeBotApi

    async with FakeBotApi() as api:
        yield api


@pytest.fixture
def bot_config(tmp_path: Path, telegram_api, monkeypatch, database):
    """The loaded test configuration, pointing at the fake server; no WESERBOT_* from outside."""
    from bot.config import load_config

    for name in ("WESERBOT_TOKEN", "WESERBOT_WEBHOOK_SECRET", "WESERBOT_HURDLE_SECRET",
                 "WESERBOT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(write_bot_config(tmp_path, telegram_api.base_url))
    if not database.endswith(".sqlite"):
        config.database_url = database
    return config


@pytest.fixture
def start_bot(bot_config, engine, hurdle_store):
    """`async with start_bot() as app:` runs the bot (polling the fake server) until the block
    ends; keyword arguments replace the config, engine, store or rate limiter; others (timeouts,
    retry_every) go to build_application."""
    from contextlib import asynccontextmanager

    from handlers.app import build_application, running
    from handlers.safety import RetryingRateLimiter

    @asynccontextmanager
    async def start(config=None, engine_=None, store=hurdle_store, rate_limiter=None, **options):
        config = config or bot_config
        limiter = rate_limiter or RetryingRateLimiter(base_delay=0.05)
        app = build_application(config, engine_ or engine, store, rate_limiter=limiter, **options)
        async with running(app, config):
            yield app

    return start


# --- robustness: reloads, storage faults, signals (tests/test_telegram_reload.py, -_signals.py,
# tests/test_hurdles_faults.py) ---------------------------------------------------------------
CAR_TITLE = "Kfz-Zulassung (Auto anmelden, ummelden, abmelden)"
"""The German title of the topic kfz-zulassung in the bundled knowledge base."""
CAR_TITLE_EDITED = "Fahrzeugzulassung (neu formuliert)"


def retitle_car_topic(kb: Path) -> None:
    """An editor renames the topic of car registration (German title) in a copy of the base."""
    path = kb / "topics" / "kfz-zulassung.yaml"
    text = path.read_text(encoding="utf-8")
    assert CAR_TITLE in text
    path.write_text(text.replace(CAR_TITLE, CAR_TITLE_EDITED), encoding="utf-8")


def break_knowledge(kb: Path) -> list[str]:
    """Two mistakes in two files of a copy of the base; returns the beginning of the problem
    lines (`file:line: field: what is wrong`) that `weserbot check` prints for them."""
    topic = kb / "topics" / "kfz-zulassung.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace("role: residence", "role: nowhere"),
                     encoding="utf-8")
    (kb / "topics" / "wohngeld.yaml").write_text("id: [broken\n", encoding="utf-8")
    return ["knowledge/topics/kfz-zulassung.yaml:5: role: unknown role 'nowhere'",
            "knowledge/topics/wohngeld.yaml:2: yaml: syntax error"]
