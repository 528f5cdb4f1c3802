"""The Telegram application: built in one place from the configuration, run by polling or webhook."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import heap, keys
from bot.config import Config, ConfigError, Mode, check_webhook_secret
from bot.engine import Engine
from bot.hurdle_queue import RETRY_EVERY, HurdleQueue
from bot.hurdles import HurdleStore
from bot.settings import setting
from handlers import answers, commands, conversation, staff
from handlers.bot_api import AiohttpRequest
from handlers.context import SERVICES, Services, WeserContext
from handlers.durable import DurableQueue, StateKeeper
from handlers.reload import reload_knowledge
from handlers.safety import FloodGuard, PerUserUpdateProcessor, RetryingRateLimiter
from handlers.send import reply
from handlers.texts import commands as commands_menu

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# What each decides: bot/settings.py.
POLL_TIMEOUT = setting("poll_timeout")
BOOTSTRAP_RETRIES = setting("bootstrap_retries")
CONNECTION_POOL = setting("connection_pool")
TIMEOUTS = {"connect": setting("connect_timeout"), "read": setting("read_timeout"),
            "write": setting("write_timeout"), "pool": setting("pool_timeout")}
"""Seconds a Bot API call may take per phase."""
TAKE_OVER_JOB = "take-over"
NAVIGATION = ("d:", "tp:", "h:p:")
"""Button presses that only move through views (Details, pages): not counted by the flood limit."""
MEDIA = (filters.PHOTO | filters.Sticker.ALL | filters.VOICE | filters.AUDIO | filters.VIDEO
         | filters.VIDEO_NOTE | filters.Document.ALL | filters.ANIMATION | filters.CONTACT
         | filters.POLL | filters.Dice.ALL | filters.STORY)


def build_application(config: Config, engine: Engine, store: HurdleStore | None = None, *,
                      rate_limiter: RetryingRateLimiter | None = None,
                      timeouts: Mapping[str, float] | None = None,
                      retry_every: float = RETRY_EVERY) -> Application:
    """The bot for `config`: handlers, durable inbox and state, rate limits, retries, commands.

    Without `store`, the hurdle log at config.hurdles_db is opened when the bot starts and
    closed when it stops. If it cannot be opened for a passing reason (locked, read-only, full,
    folder missing) the bot starts anyway and opens it later (bot/hurdle_queue.py); a lasting
    one (a foreign or newer file) comes out of the run as StoreUnavailable.
    `timeouts` replaces entries of TIMEOUTS; `retry_every`: seconds between attempts to write
    hurdles that wait in memory."""
    tg = config.telegram
    if not tg.token:
        raise ConfigError(f"{config.source or 'config'}: telegram.token: missing (set it in the "
                          "config or in the environment variable WESERBOT_TOKEN)")
    keys.fill_in(config)
    keeper = StateKeeper(config)
    queue = DurableQueue(confirmed_by_fetch=tg.mode is Mode.POLLING)
    queue.keeper = keeper
    processor = PerUserUpdateProcessor()
    processor.keeper = keeper
    limiter = rate_limiter or RetryingRateLimiter()
    limiter.before_call, limiter.after_call = keeper.sending, keeper.replied
    limits = {**TIMEOUTS, **(timeouts or {})}
    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .rate_limiter(limiter)
        .concurrent_updates(processor)
        .update_queue(queue)
        .request(AiohttpRequest(CONNECTION_POOL, limits))
        .get_updates_request(AiohttpRequest(1, limits, before=queue.settled,
                                            parsed=queue.fetched))
        .context_types(ContextTypes(context=WeserContext))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    h = config.hurdles
    opener = functools.partial(HurdleStore.open, config.hurdles_db, h.secret, h.retention_days)
    hurdles = HurdleQueue(store, opener=None if store else opener, retry_every=retry_every)
    app.bot_data[SERVICES] = Services(engine, config, FloodGuard(tg.flood_limit), hurdles,
                                      keeper)
    add_handlers(app)
    answers.schedule_digest(app)
    if config.state_db.dsn and app.job_queue is not None:  # workers may share the inbox
        app.job_queue.run_repeating(take_over, interval=config.takeover_after,
                                    first=config.takeover_after, name=TAKE_OVER_JOB)
    return app


async def take_over(context: WeserContext) -> None:
    """Answer what another worker received and left (see StateKeeper.take_over)."""
    await context.application.bot_data[SERVICES].state.take_over()


def add_handlers(app: Application) -> None:
    """Which update goes where. Group -1 runs first for every update: the flood limit."""
    app.add_handler(TypeHandler(Update, flood_limit), group=-1)
    app.add_handler(TypeHandler(Update, empty_button), group=-2)  # one handler per group runs
    message = filters.UpdateType.MESSAGE
    for name, callback in (("start", commands.start), ("help", commands.help_command),
                           ("topics", commands.topics), ("cancel", commands.cancel_command),
                           ("language", commands.language),
                           ("privacy", commands.privacy), ("forget", commands.forget),
                           ("hurdles", staff.hurdles_command), ("hurdle", staff.hurdle_command),
                           ("stats", staff.stats_command), ("reload", staff.reload_command),
                           ("reply", answers.reply_command), ("teach", answers.teach_command)):
        app.add_handler(CommandHandler(name, callback, filters=message))
    app.add_handler(MessageHandler(answers.HANDOFF_REPLY, answers.on_handoff_reply))
    addressed = message & conversation.ADDRESSED
    app.add_handler(MessageHandler(addressed & filters.COMMAND, commands.unknown_command))
    app.add_handler(MessageHandler(addressed & filters.TEXT & ~filters.COMMAND,
                                   conversation.on_text))
    app.add_handler(MessageHandler(addressed & filters.LOCATION, conversation.on_location))
    app.add_handler(MessageHandler(addressed & MEDIA, conversation.on_media))
    # Button data comes from the user's side and can be forged: only exact shapes are handled.
    for pattern, callback in ((r"^fb:\d+:[+-]$", conversation.on_feedback),
                              (r"^alt:\d+:[a-z0-9-]+$", conversation.on_choice),
                              (r"^c:\d+:\d+$", conversation.on_choice),
                              (r"^d:\d+:[01]$", conversation.on_details),
                              (r"^[on]:\d+$", conversation.on_other),
                              (r"^x:\d+$", conversation.on_cancel_button),
                              (r"^t:[a-z0-9-]+$", commands.on_topic),
                              (r"^tp:\d+$", commands.on_topics_page),
                              (r"^lang:[a-z]{2}$", commands.on_language),
                              (r"^h[pyn]:\d+$", answers.on_handoff),
                              (r"^h:(p:\d+|s:\d+|set:\d+:[a-z_]+)$", staff.on_staff_button)):
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    app.add_handler(CallbackQueryHandler(stale_button))
    app.add_error_handler(on_error)


async def flood_limit(update: Update, context: WeserContext) -> None:
    """Per-user flood limit: past it, one polite notice, then silence until the minute is over."""
    user = update.effective_user
    if user is None or not _counts(update, context):
        return
    verdict = context.services.flood.check(user.id)
    if verdict == "ok":
        return
    if verdict == "warn":
        text = context.t(context.lang(update), "telegram.flood",
                         limit=context.services.flood.per_minute)
        if update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
        else:
            await reply(update, context, text)
    raise ApplicationHandlerStop


def _counts(update: Update, context: WeserContext) -> bool:
    """Button presses, private messages, and group messages meant for the bot."""
    message = update.message
    if update.callback_query or message is None:
        data = update.callback_query.data if update.callback_query else None
        return data is not None and not data.startswith(NAVIGATION)
    if message.chat.type == ChatType.PRIVATE or conversation.ADDRESSED.filter(message):
        return True
    return bool(message.text and message.text.startswith("/"))


async def empty_button(update: Update, context: WeserContext) -> None:
    """A button press without data: python-telegram-bot would hand it to every button handler,
    whatever its pattern (a game's press looks the same), so it stops here."""
    query = update.callback_query
    if query is not None and not query.data and not query.game_short_name:
        await stale_button(update, context)
        raise ApplicationHandlerStop


async def stale_button(update: Update, context: WeserContext) -> None:
    """A button this bot does not (or no longer) know."""
    await update.callback_query.answer(context.t(context.lang(update), "telegram.gone"))


HARMLESS_REFUSALS = ("message to edit not found", "message is not modified", "query is too old",
                     "message to delete not found", "message can't be deleted")
"""Bot API refusals that mean a message changed or went away meanwhile: no bug of ours."""


async def on_error(update: object, context: WeserContext) -> None:
    """Log the error and keep running; when our own code failed, tell the user briefly."""
    error = context.error
    if isinstance(error, RetryAfter):
        log.warning("Telegram asks the bot to slow down (flood control): %s", error)
        return
    if isinstance(error, BadRequest) and any(s in str(error).lower() for s in HARMLESS_REFUSALS):
        log.info("Telegram: %s (the message changed or went away meanwhile)", error)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        if update is None:  # fetching updates: the next poll tries again by itself
            log.warning("Telegram could not be reached while fetching updates: %s", error)
        else:
            log.warning("Telegram could not be reached (retries exhausted): %s", error)
        return
    if isinstance(error, Forbidden):
        log.info("a user has blocked the bot or left the chat: %s", error)
        return
    log.error("error while handling an update", exc_info=error)
    if isinstance(error, TelegramError) or not isinstance(update, Update):
        return
    if update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id,
                                           context.t(context.lang(update), "telegram.error"))
        except TelegramError as exc:
            log.warning("could not tell the user about the error: %s", exc)


async def _post_init(app: Application) -> None:
    """Open the hurdle log (unless given), register the commands with Telegram, and under
    `weserbot run` reload the knowledge base on SIGHUP."""
    services: Services = app.bot_data[SERVICES]
    await services.hurdles.start()
    await services.state.start(app)  # after the hurdle log: it makes a new file a hurdle log
    if services.reload_on_sighup and hasattr(signal, "SIGHUP"):
        def on_sighup() -> None:
            app.create_task(reload_knowledge(app, "SIGHUP"), name="reload-on-SIGHUP")

        with suppress(NotImplementedError, RuntimeError):  # no signals in this event loop
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_sighup)
    await register_commands(app, services.config)
    heap.freeze()  # the engine, the application: alive until the bot stops


async def _post_shutdown(app: Application) -> None:
    """Write or report hurdles still waiting in memory, and close the hurdle log."""
    heap.thaw()
    services: Services = app.bot_data[SERVICES]
    if services.reload_on_sighup and hasattr(signal, "SIGHUP"):
        with suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
    await services.state.close()
    await services.hurdles.close()


async def register_commands(app: Application, config: Config) -> None:
    """setMyCommands in English (default) and German; staff also see their commands."""
    texts = app.bot_data[SERVICES].engine.kb.texts

    def listed(lang: str, staff: bool = False) -> list[BotCommand]:
        return [BotCommand(name, text) for name, text in commands_menu(texts, lang, staff)]

    bot = app.bot
    await bot.set_my_commands(listed("en"))
    await bot.set_my_commands(listed("de"), language_code="de")
    for user_id in sorted(config.staff_user_ids):
        scope = BotCommandScopeChat(user_id)
        try:
            await bot.set_my_commands(listed("en", True), scope=scope)
            await bot.set_my_commands(listed("de", True), scope=scope, language_code="de")
        except (BadRequest, Forbidden) as exc:  # the staff member has not started the bot yet
            log.info("staff commands for %s not set: %s", user_id, exc)


def polling_args(config: Config) -> dict[str, Any]:
    return {"poll_interval": 0.0, "timeout": POLL_TIMEOUT, "allowed_updates": ALLOWED_UPDATES,
            "drop_pending_updates": False, "bootstrap_retries": BOOTSTRAP_RETRIES}


def webhook_args(config: Config) -> dict[str, Any]:
    """Never a webhook without a secret token: anyone reaching the port could post updates."""
    tg = config.telegram
    check_webhook_secret(tg.webhook_secret or "", "telegram.webhook.secret_token")
    return {"listen": tg.webhook_listen, "port": tg.webhook_port,
            "url_path": tg.webhook_path.strip("/"), "webhook_url": tg.webhook_url,
            "secret_token": tg.webhook_secret, "allowed_updates": ALLOWED_UPDATES,
            "drop_pending_updates": False, "bootstrap_retries": BOOTSTRAP_RETRIES}


def fast_event_loop() -> None:
    """Event loops made from now on are uvloop's, where it is installed (not on Windows): its
    sockets and callbacks cost the bot about a tenth less CPU per message."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run(app: Application, config: Config) -> None:
    """Run until SIGINT/SIGTERM: long polling, or a webhook behind the reverse proxy. SIGTERM
    ends cleanly: no new updates are fetched, those received are answered, the hurdle log is
    closed. SIGHUP reloads the knowledge base."""
    app.bot_data[SERVICES].reload_on_sighup = True
    if hasattr(signal, "SIGHUP"):  # until the bot is up, a SIGHUP must not end it
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    fast_event_loop()
    if config.telegram.mode == Mode.WEBHOOK:
        app.run_webhook(**webhook_args(config))
    else:
        app.run_polling(**polling_args(config))


@asynccontextmanager
async def running(app: Application, config: Config) -> AsyncIterator[Application]:
    """The same start and stop as `run`, inside an already running event loop (tests)."""
    await app.initialize()
    try:
        await _post_init(app)
        if config.telegram.mode == Mode.WEBHOOK:
            await app.updater.start_webhook(**webhook_args(config))
        else:
            await app.updater.start_polling(**polling_args(config))
        await app.start()
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            await app.stop()
    finally:
        await app.shutdown()
        await _post_shutdown(app)
