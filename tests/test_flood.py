"""Per-person flood control: a flooder is slowed and told once, loses nothing, slows no one."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import select

from bot.engine import Engine
from bot.handlers.flood import FloodControl
from bot.messages import Inbound, Reply
from storage.db import Database
from storage.models import InboundEvent, InteractionLog
from tests.fake_zalo import FakeZalo, text_event
from tests.test_zalo import Bot as ZBot

NOTICE = "Anh/Chị gửi nhanh quá, trợ lý sẽ lần lượt trả lời từng tin nhắn."


def test_a_burst_then_one_per_interval_and_one_notice():
    flood = FloodControl(burst=3, rate=10, notice_every=60)
    now = time.monotonic()
    tickets = [flood.admit("a") for _ in range(6)]
    assert [t.release_at > now for t in tickets] == [False, False, False, True, True, True]
    assert [t.notify for t in tickets] == [False, False, False, True, False, False]
    gaps = [b.release_at - a.release_at for a, b in zip(tickets[3:], tickets[4:], strict=False)]
    assert all(abs(gap - 0.1) < 0.01 for gap in gaps)
    assert flood.admit("b").release_at == 0.0  # someone else goes at once
    assert FloodControl(rate=0).admit("a").release_at == 0.0  # off


async def _served(engine: Engine, db: Database, fake: FakeZalo, flood: FloodControl) -> ZBot:
    return await ZBot(engine, db, fake, webhook=True, flood=flood).start()


async def test_a_flooder_is_answered_in_order_later_and_others_at_once(
        engine: Engine, demo_db: Database, monkeypatch):
    seen: list[tuple[str, str]] = []

    async def echo(msg: Inbound) -> list[Reply]:
        seen.append((msg.user_id, msg.text))
        return [Reply(f"đã nhận {msg.text}")]

    monkeypatch.setattr(engine, "handle", echo)
    fake = await FakeZalo("123:TEST").start()
    bot = await _served(engine, demo_db, fake, FloodControl(burst=3, rate=20))
    try:
        for i in range(12):
            assert await bot.post(text_event("flood", f"m{i}")) == 200
        assert await bot.post(text_event("calm", "xin chào")) == 200
        [calm] = await fake.wait_for("sendMessage", 1, chat_id="calm")
        assert calm.text == "đã nhận xin chào"
        flooded = [text for user, text in seen if user == "flood"]
        assert len(flooded) < 12  # the other person went ahead of the flooder's queue
        sent = await fake.wait_for("sendMessage", 13, chat_id="flood", within=5)
        texts = [c.text for c in sent]
        assert texts.count(NOTICE) == 1  # told once
        assert [t for t in texts if t != NOTICE] == [f"đã nhận m{i}" for i in range(12)]
        async with demo_db.session() as session:  # the notice is in the log, to no one named
            notices = (await session.exec(select(InteractionLog).where(
                InteractionLog.kind == "flood_notice"))).all()
        assert [(n.channel, n.direction, n.user_ref) for n in notices] == [("zalo", "out", "")]
    finally:
        await bot.stop()
        await fake.stop()


async def test_at_stop_a_flooder_s_waiting_messages_stay_pending_for_the_next_start(
        engine: Engine, demo_db: Database, monkeypatch):
    async def echo(msg: Inbound) -> list[Reply]:
        return [Reply(f"đã nhận {msg.text}")]

    monkeypatch.setattr(engine, "handle", echo)
    fake = await FakeZalo("123:TEST").start()
    try:
        bot = await _served(engine, demo_db, fake, FloodControl(burst=1, rate=0.1))
        for i in range(3):
            assert await bot.post(text_event("flood", f"m{i}")) == 200
        await fake.wait_for("sendMessage", 2, chat_id="flood")  # the first answer, the notice
        began = time.monotonic()
        await bot.stop()
        assert time.monotonic() - began < 2  # stopping does not wait out the flooder
        async with demo_db.session() as session:
            statuses = (await session.exec(select(InboundEvent.status))).all()
        assert sorted(statuses) == ["done", "pending", "pending"]
        again = await _served(engine, demo_db, fake, FloodControl(rate=0))
        sent = await fake.wait_for("sendMessage", 4, chat_id="flood")
        assert [c.text for c in sent][-2:] == ["đã nhận m1", "đã nhận m2"]
        await again.stop()
    finally:
        await fake.stop()
    await asyncio.sleep(0)
