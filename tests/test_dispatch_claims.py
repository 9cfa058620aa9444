"""Claims of the delivery queue: stamped when made, renewed while sending, handed back on a
clean stop; on PostgreSQL another process's dispatcher is woken at once (LISTEN/NOTIFY).

These tests run on the real clock (the stale period is shortened in the test, never in
the product); broadcast deliveries are never held by quiet hours.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.messages import Reply
from bot.services import outbox
from bot.services.dispatcher import Dispatcher
from storage.db import Database
from tests.conftest import PSEUDONYM_KEY


class SlowChannel:
    """Records every message; each send takes `seconds`."""

    name = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.received: Counter = Counter()

    async def send(self, chat_id: str, reply: Reply) -> None:
        await asyncio.sleep(self.seconds)
        self.received[chat_id] += 1


async def _until(condition: Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("waited in vain")


async def _queue(db: Database, count: int, channel: str = "slow") -> None:
    async with db.session() as session:
        for number in range(count):
            await outbox.enqueue(session, outbox.Recipient(channel, str(number)),
                                 Reply("Lịch cắt điện tuần sau."), kind="broadcast_delivery")
        await session.commit()


async def test_a_delivery_loop_longer_than_the_stale_period_sends_nothing_twice(db: Database):
    await _queue(db, 40)
    stale = timedelta(seconds=0.3)
    channel = SlowChannel(0.03)  # 40 rows: 1.2 s, four stale periods
    long_loop = Dispatcher(db, {"slow": channel}, pseudonym_key=PSEUDONYM_KEY,
                           stale_after=stale)  # claims all 40 in one batch
    ticker = Dispatcher(db, {"slow": channel}, pseudonym_key=PSEUDONYM_KEY, batch=20,
                        stale_after=stale)

    async def tick_meanwhile() -> None:  # the catch-up jobs of both processes, shortened
        while sum(channel.received.values()) < 40:
            await asyncio.sleep(0.1)
            await long_loop.dispatch_due()  # its own tick hands back nothing of the loop's
            await ticker.dispatch_due()

    loop = asyncio.create_task(long_loop.dispatch_due())
    await _until(lambda: bool(channel.received))  # the long loop has claimed its batch
    await asyncio.wait_for(asyncio.gather(loop, tick_meanwhile()), 20)

    assert set(channel.received) == {str(n) for n in range(40)}
    assert max(channel.received.values()) == 1
    async with db.session() as session:
        assert await outbox.waiting_by_channel(session) == {}


async def test_a_clean_stop_hands_claimed_rows_back_at_once(db: Database):
    await _queue(db, 30)
    channel = SlowChannel(0.02)
    first = Dispatcher(db, {"slow": channel}, pseudonym_key=PSEUDONYM_KEY, batch=30)
    running = asyncio.create_task(first.run())
    await _until(lambda: sum(channel.received.values()) >= 5)
    await first.stop(grace=5)
    assert running.done()
    sent_by_first = sum(channel.received.values())
    assert sent_by_first < 30
    async with db.session() as session:  # nothing left "sending" for 5 minutes
        assert await outbox.waiting_by_channel(session) == {"slow": 30 - sent_by_first}

    second = Dispatcher(db, {"slow": channel}, pseudonym_key=PSEUDONYM_KEY)
    assert await second.dispatch_due() == 30 - sent_by_first
    assert max(channel.received.values()) == 1 and len(channel.received) == 30


async def test_another_process_is_woken_by_notify(db: Database, monkeypatch):
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite serves one process")
    channel = SlowChannel(0)
    listening = Dispatcher(db, {"slow": channel}, pseudonym_key=PSEUDONYM_KEY)
    running = asyncio.create_task(listening.run())
    try:
        await _until(lambda: listening.listener is not None
                     and listening.listener.connected.is_set())
        await asyncio.sleep(0.2)  # its first pass found nothing and it waits
        monkeypatch.setattr(outbox, "_listeners", [])  # no in-process wake-up from here on
        other = Database(db.url)  # another process's connections
        try:
            await _queue(other, 1)
        finally:
            await other.dispose()
        await _until(lambda: bool(channel.received), 2)  # not the 60-s idle wake-up
        assert channel.received == {"0": 1}
    finally:
        await listening.stop(grace=2)
        await running
