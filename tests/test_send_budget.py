"""The send budget: one per bot and per group, shared by processes on PostgreSQL (two
budgets on one database stand for two processes); replies go ahead of bulk deliveries.
Rates are shortened here (the product's are Telegram's 30/s and 20/min)."""

from __future__ import annotations

import asyncio
import time

from bot.services import send_budget
from bot.services.send_budget import Rate, SendBudget
from storage.db import Database

FAST = Rate(1 / 100)  # 100 messages a second


async def _send(budget: SendBudget, times: list[float], count: int, kind: str,
                chat: str = "1", group: bool = False) -> None:
    for _ in range(count):
        with send_budget.sending(kind):
            await budget.take(chat, group=group)
        times.append(time.monotonic())


def _most_in_any(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + window)
               for i, start in enumerate(times))


async def test_two_processes_share_one_budget(db: Database):
    first, second = (SendBudget(db, f"telegram:{id(db)}", FAST) for _ in range(2))
    times: list[float] = []
    began = time.monotonic()
    await asyncio.gather(_send(first, times, 40, "broadcast_delivery"),
                         _send(second, times, 40, "broadcast_delivery"))
    assert time.monotonic() - began >= 0.75  # 80 messages at 100/s, not 200/s
    assert _most_in_any(times, 0.1) <= 12  # about 10 in any tenth of a second


async def test_a_group_gets_a_short_burst_then_its_own_pace(db: Database):
    budget = SendBudget(db, f"telegram:{id(db)}", FAST, group=Rate(0.1, burst=3))
    times: list[float] = []
    began = time.monotonic()
    await _send(budget, times, 5, "reply", chat="-100", group=True)
    offsets = [t - began for t in times]
    assert offsets[2] < 0.08  # three at once
    assert offsets[4] >= 0.19  # then one every 0.1 s
    other: list[float] = []
    await _send(budget, other, 1, "reply", chat="-200", group=True)
    assert other[0] - times[-1] < 0.08  # another group has its own budget


async def test_a_reply_does_not_wait_behind_a_broadcast(db: Database):
    broadcaster, answerer = (SendBudget(db, f"telegram:{id(db)}", Rate(1 / 50)) for _ in range(2))
    sent: list[float] = []
    broadcast = asyncio.create_task(_send(broadcaster, sent, 60, "broadcast_delivery"))
    await asyncio.sleep(0.3)
    waits = []
    for _ in range(5):
        began = time.monotonic()
        await _send(answerer, [], 1, "reply")
        waits.append(time.monotonic() - began)
        await asyncio.sleep(0.05)
    await broadcast
    assert max(waits) < 0.15  # a few slots, while 30 broadcast messages were still queued
