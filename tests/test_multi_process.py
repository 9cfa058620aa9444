"""Two dispatcher processes on one PostgreSQL database deliver a broadcast to 800
recipients through the fake Telegram; one is stopped halfway (SIGTERM, then SIGKILL).

PostgreSQL only by nature (SQLite serves one process): skipped without TEST_DATABASE_URL.
The shared budget is 40 messages a second here (Telegram's is 30), a little more than one
process sends alone on a loaded 2-core machine, so that the two together would exceed it
without the shared budget; each case takes about 20-25 s (800 recipients, not the
issue's 1,000, to keep the pair near a minute). The claims' stale period is the
product's (bot.services.dispatcher.STALE_AFTER), which bounds how long the rows claimed by
a killed process wait.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.messages import Reply
from bot.services import outbox
from bot.services.dispatcher import STALE_AFTER
from storage.db import Database
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = 800  # the issue says 1,000: scaled down to keep both cases near a minute
RATE = 40.0  # messages a second, shared by both processes (each alone can do ~35)


async def _worker(db: Database, fake: FakeTelegram) -> asyncio.subprocess.Process:
    url = db.engine.url.render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.dispatch_worker", url, fake.url,
        str(STALE_AFTER.total_seconds()), "serve", str(RATE),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 20) == b"ready\n"
    return process


def _most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    most, first = 0, 0
    for last, moment in enumerate(times):
        while times[first] <= moment - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
async def test_a_broadcast_survives_one_of_two_processes_stopping_halfway(db, stop_with):
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite serves one process")
    fake = await FakeTelegram().start()
    workers = [await _worker(db, fake), await _worker(db, fake)]
    try:
        async with db.session() as session:  # enqueued after they started: NOTIFY wakes them
            for number in range(1, RECIPIENTS + 1):
                await outbox.enqueue(session, outbox.Recipient("telegram", str(number)),
                                     Reply("Lịch tiêm phòng cho trẻ em vào thứ Bảy."),
                                     kind="broadcast_delivery", broadcast_id=1)
            await session.commit()
        await fake.wait_for("sendMessage", RECIPIENTS // 2, within=30)
        workers[0].send_signal(stop_with)
        stopped_at = time.perf_counter()
        if stop_with == signal.SIGTERM:
            assert await asyncio.wait_for(workers[0].wait(), 15) == 0  # hands back, exits
        served = await _served_everyone(db, fake, within=30 + 5)
        last = max(call.at for call in fake.of("sendMessage"))
        assert last - stopped_at <= 30
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
                await asyncio.wait_for(worker.wait(), 15)
        await fake.stop()

    assert set(served) == set(range(1, RECIPIENTS + 1))
    if stop_with == signal.SIGTERM:
        assert max(served.values()) == 1  # exactly once
    else:  # the one message on the wire when it was killed may go again; nothing else
        assert sum(served.values()) - RECIPIENTS <= 1
    assert _most_in_one_second([c.at for c in fake.of("sendMessage")]) <= RATE + 2
    async with db.session() as session:
        assert await outbox.waiting_by_channel(session) == {}


async def _served_everyone(db: Database, fake: FakeTelegram, within: float) -> Counter:
    """Who got the message, once every row is marked (or `within` seconds passed)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with db.session() as session:
            if not await outbox.waiting_by_channel(session):
                break
        await asyncio.sleep(0.1)
    return Counter(call.chat_id for call in fake.of("sendMessage"))
