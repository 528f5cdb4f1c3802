"""The knowledge base and the application live as long as the bot: while it runs they are frozen
out of the garbage collector's full collections (bot/heap.py), and a reload lets the collector
see the old engine again."""

from __future__ import annotations

import gc
import weakref

from conftest import TELEGRAM_STAFF_ID as STAFF

from bot import heap
from bot.engine import Engine


class Node:
    """An object that can sit in a reference cycle and be watched by a weak reference."""

    other: Node | None = None


def test_a_frozen_reference_cycle_is_not_collected_until_thawed():
    node = Node()
    node.other = node
    watched = weakref.ref(node)
    heap.freeze()
    try:
        del node
        gc.collect()
        assert watched() is not None  # why a reload must thaw: the old engine would stay
    finally:
        heap.thaw()
    gc.collect()
    assert watched() is None


async def test_while_the_bot_runs_what_is_alive_is_frozen_and_after_it_stops_nothing(start_bot):
    async with start_bot():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


async def test_a_reload_thaws_and_freezes_again_later(telegram_api, start_bot, bot_config,
                                                       kb_copy, monkeypatch):
    bot_config.knowledge_dir = kb_copy
    staff = telegram_api.user(STAFF)
    async with start_bot(config=bot_config, engine_=Engine.load(kb_copy)):
        monkeypatch.setattr(heap, "REFREEZE_AFTER", 3600.0)
        waiting = telegram_api.next_message(STAFF)
        telegram_api.send_text(staff, "/reload")
        assert (await waiting).plain.startswith("✅")
        thawed = gc.get_freeze_count()

        monkeypatch.setattr(heap, "REFREEZE_AFTER", 0.0)  # at the event loop's next turn
        waiting = telegram_api.next_message(STAFF)
        telegram_api.send_text(staff, "/reload")
        assert (await waiting).plain.startswith("✅")
        frozen_again = gc.get_freeze_count()
    assert thawed == 0
    assert frozen_again > 0
