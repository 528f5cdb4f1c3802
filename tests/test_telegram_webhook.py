"""Webhook mode never runs without a secret token of at least 32 characters (finding 1 of issue
14): a short one ends the start, a missing one is made once, kept (0600) and registered with
setWebhook; every request without it gets 403 and is not handled."""

from __future__ import annotations

import stat

import httpx
from conftest import write_bot_config
from test_telegram_run import ANNA, free_port, weserbot

from bot.config import load_config
from bot.keys import WEBHOOK_SECRET_FILE


def webhook_config(tmp_path, api, port, **webhook):
    return write_bot_config(tmp_path, api.base_url, mode="webhook",
                            webhook={"listen": "127.0.0.1", "port": port, "path": "hook",
                                     "url": f"http://127.0.0.1:{port}/hook", **webhook})


def forged(user) -> dict:
    return {"update_id": 77, "message": {
        "message_id": 1, "date": 0, "chat": {"id": user.id, "type": "private"},
        "from": user.as_dict(), "text": "/help",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}


async def test_a_short_webhook_secret_ends_the_start_with_one_line(tmp_path, telegram_api):
    config = webhook_config(tmp_path, telegram_api, free_port(), secret_token="s3cret-Token_1")
    code, err = await weserbot("run", "--config", str(config))
    assert code == 1, err
    assert "secret_token: at least 32 characters, not 14" in err and "Traceback" not in err
    assert telegram_api.webhook is None and "s3cret-Token_1" not in err


async def test_without_a_secret_one_is_made_kept_and_registered_and_forgeries_get_403(
        tmp_path, telegram_api, start_bot):
    port = free_port()
    anna = telegram_api.user(ANNA, "Anna")
    async with start_bot(config=load_config(webhook_config(tmp_path, telegram_api, port))):
        secret = telegram_api.webhook["secret_token"]
        async with httpx.AsyncClient() as client:
            without = await client.post(f"http://127.0.0.1:{port}/hook", json=forged(anna))
        telegram_api.send_text(anna, "/start")  # Telegram itself sends the secret
        [greeting] = await telegram_api.wait_for_messages(ANNA, 1)
    kept = tmp_path / WEBHOOK_SECRET_FILE
    assert secret and len(secret) >= 32 and kept.read_text().strip() == secret
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert without.status_code == 403
    assert greeting.plain.startswith("Hallo Anna!")
    assert len(telegram_api.sent_to(ANNA)) == 1  # the forged /help was not handled
    async with start_bot(config=load_config(webhook_config(tmp_path, telegram_api, port))):
        assert telegram_api.webhook["secret_token"] == secret  # the same after a restart
