"""Many people at once, a flaky network, and one person flooding: every message gets one reply."""

from __future__ import annotations

from conftest import read_rows
from fake_bot_api import FakeBotApi, Faults

from bot.engine import Context, Engine
from bot.hurdles import HurdleStore
from handlers.safety import RetryingRateLimiter

CONVERSATION = [
    "Wo melde ich mein Auto an? Ich wohne in Rinteln.",
    "Kita-Platz in Hameln",
    "Wo bekomme ich einen Kita-Platz?",
    "Lügde",  # completes the question before
    "Hallo",
    "Ich wohne in Lügde und arbeite in Hameln – wo verlängere ich meine Aufenthaltserlaubnis?",
    "Wo bekomme ich eine Namensänderung? Ich wohne in Hameln.",
    "Wie wird das Wetter morgen?",
    "I live in Stadthagen and want to register my car",
    "Wohngeld beantragen in 32676",
]


FLAKY_CONVERSATION = [
    *CONVERSATION,
    "Wo melde ich meinen Hund an?",  # asks where: left unanswered by the next question
    "Wo melde ich mein Auto an? Ich wohne in Kiel.",  # outside the region
]
"""Three hurdles per person: no topic, a 'where?' left unanswered, a place outside the region."""
CHAT = ("small_talk", "off_topic")


def expected_replies(engine: Engine, conversation: list[str] = CONVERSATION) -> list[str]:
    """A line each reply must contain, following the conversation as the bot does."""
    context: Context | None = None
    lines = []
    for text in conversation:
        answer = engine.ask(text, context=context)
        context = answer.context or (context if answer.reason in CHAT else None)
        lines.append(answer.office.name if answer.office else answer.text.split("\n")[0][:60])
    return lines


def expected_hurdles(engine: Engine, conversation: list[str]) -> list[tuple[str, str]]:
    """(question, reason) of every entry the bot must log for one person, in order."""
    context: Context | None = None
    logged = []
    for text in conversation:
        answer = engine.ask(text, context=context)
        continued = context is not None and answer.topic == context.topic
        if context is not None and not continued and answer.reason not in CHAT:
            logged.append((context.question, "needs_place"))
        if answer.logs_hurdle:
            logged.append((answer.question, answer.reason))
        context = answer.context or (context if answer.reason in CHAT else None)
    return logged


def logged_in_file(store: HurdleStore, user_id: int) -> list[tuple[str, str]]:
    """What the database itself holds for this person (read with a separate connection)."""
    return read_rows(store, "SELECT question, reason FROM entries WHERE asker = ? ORDER BY id",
                     (store.asker_key(user_id),))


async def converse(api: FakeBotApi, users: int, first_id: int = 10_000,
                   conversation: list[str] = CONVERSATION) -> list[int]:
    """`users` people each send the whole conversation, all interleaved; returns their ids."""
    ids = [first_id + i for i in range(users)]
    for text in conversation:
        for user_id in ids:
            api.send_text(api.user(user_id, f"U{user_id}"), text)
    return ids


async def test_a_burst_of_200_messages_from_20_people_gets_200_replies_in_order_within_limits(
        telegram_api, start_bot, engine: Engine):
    expected = expected_replies(engine)
    limiter = RetryingRateLimiter(base_delay=0.05)  # Telegram's limits: 30 messages/s overall
    async with start_bot(rate_limiter=limiter):
        ids = await converse(telegram_api, 20)
        for user_id in ids:
            await telegram_api.wait_for_messages(user_id, len(CONVERSATION), timeout=60)
    for user_id in ids:
        replies = telegram_api.sent_to(user_id)
        assert len(replies) == len(CONVERSATION)
        for reply, line in zip(replies, expected, strict=True):
            assert line in reply.plain
    sends = sorted(c.at for c in telegram_api.calls_to("sendMessage"))
    assert len(sends) == 200
    assert sends[-1] - sends[0] >= (200 - 30) / 30 - 0.5  # the overall limit held


async def test_with_20_percent_failed_calls_every_message_gets_one_reply_and_no_hurdle_is_lost(
        start_bot, bot_config, engine: Engine, hurdle_store: HurdleStore):
    # 429 with retry_after, 500, dropped connections, and calls slower than the read timeout.
    faults = Faults(rate=0.2, kinds=("429", "500", "drop", "timeout"), slow=1.0,
                    methods=frozenset({"sendMessage", "getUpdates"}))
    expected = expected_replies(engine, FLAKY_CONVERSATION)
    hurdles = expected_hurdles(engine, FLAKY_CONVERSATION)
    assert [reason for _, reason in hurdles] == ["no_topic", "needs_place", "outside_region"]
    async with FakeBotApi(faults=faults) as api:
        bot_config.telegram.base_url = bot_config.telegram.base_file_url = api.base_url
        limiter = RetryingRateLimiter(base_delay=0.05, network_attempts=8,
                                      overall_max_rate=1000)
        async with start_bot(config=bot_config, rate_limiter=limiter, timeouts={"read": 0.4}):
            ids = await converse(api, 6, first_id=20_000, conversation=FLAKY_CONVERSATION)
            for user_id in ids:
                await api.wait_for_messages(user_id, len(FLAKY_CONVERSATION), timeout=90)
        injected = {kind: sum(c.fault == kind for c in api.calls) for kind in faults.kinds}
    assert all(injected.values()), injected  # every kind of fault happened
    for user_id in ids:
        replies = api.sent_to(user_id)
        assert len(replies) == len(FLAKY_CONVERSATION)
        for reply, line in zip(replies, expected, strict=True):
            assert line in reply.plain
        assert logged_in_file(hurdle_store, user_id) == hurdles  # each once, none lost


async def test_past_the_flood_limit_one_polite_notice_then_silence(telegram_api, start_bot,
                                                                   bot_config):
    bot_config.telegram.flood_limit = 5
    flooder, calm = telegram_api.user(30_001), telegram_api.user(30_002)
    async with start_bot(config=bot_config):
        for i in range(12):
            telegram_api.send_text(flooder, f"Kita-Platz in Hameln {i}")
        telegram_api.send_text(calm, "Kita-Platz in Hameln")
        await telegram_api.wait_for_messages(30_001, 6)
        await telegram_api.wait_for_messages(30_002, 1)
        await telegram_api.drained()
    replies = telegram_api.sent_to(30_001)
    assert len(replies) == 6
    assert replies[-1].plain.startswith("Bitte etwas langsamer – ich beantworte höchstens 5")
    assert len(telegram_api.sent_to(30_002)) == 1
