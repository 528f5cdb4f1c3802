"""Many people at once, a flaky network, and one person flooding: every message gets one reply."""

from __future__ import annotations

from fake_bot_api import FakeBotApi, Faults

from bot.engine import Context, Engine
from handlers.safety import RetryingRateLimiter

CONVERSATION = [
    "Wo melde ich mein Auto an? Ich wohne in Rinteln.",
    "Kita-Platz in Hameln",
    "Wo bekomme ich einen Kita-Platz?",
    "Lügde",  # completes the question before
    "Hallo",
    "Ich wohne in Lügde und arbeite in Hameln – wo verlängere ich meine Aufenthaltserlaubnis?",
    "Wo bekomme ich einen Angelschein? Ich wohne in Hameln.",
    "Wie wird das Wetter morgen?",
    "I live in Stadthagen and want to register my car",
    "Wohngeld beantragen in 32676",
]


def expected_replies(engine: Engine) -> list[str]:
    """A line each reply must contain, following the conversation as the bot does."""
    context: Context | None = None
    lines = []
    for text in CONVERSATION:
        answer = engine.ask(text, context=context)
        context = answer.context or (context if answer.reason in ("small_talk", "off_topic")
                                     else None)
        lines.append(answer.office.name if answer.office else answer.text.split("\n")[0][:60])
    return lines


async def converse(api: FakeBotApi, users: int, first_id: int = 10_000) -> list[int]:
    """`users` people each send the whole conversation, all interleaved; returns their ids."""
    ids = [first_id + i for i in range(users)]
    for text in CONVERSATION:
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


async def test_with_20_percent_failed_calls_every_message_still_gets_exactly_one_reply(
        start_bot, bot_config, engine: Engine):
    faults = Faults(rate=0.2, methods=frozenset({"sendMessage", "getUpdates"}))
    expected = expected_replies(engine)
    async with FakeBotApi(faults=faults) as api:
        bot_config.telegram.base_url = bot_config.telegram.base_file_url = api.base_url
        limiter = RetryingRateLimiter(base_delay=0.05, network_attempts=8,
                                      overall_max_rate=1000)
        async with start_bot(config=bot_config, rate_limiter=limiter):
            ids = await converse(api, 6, first_id=20_000)
            for user_id in ids:
                await api.wait_for_messages(user_id, len(CONVERSATION), timeout=90)
        injected = {kind: sum(c.fault == kind for c in api.calls) for kind in faults.kinds}
    assert all(injected.values()), injected  # 429, 500 and dropped connections all happened
    for user_id in ids:
        replies = api.sent_to(user_id)
        assert len(replies) == len(CONVERSATION)
        for reply, line in zip(replies, expected, strict=True):
            assert line in reply.plain


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
