"""One event that cannot be stored fails alone (issue 20.2): posted in one batch with valid
events on every channel, the valid ones are stored and answered once, the bad one is
recorded as rejected with its reason, and every post is answered 200."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.handlers.zalo_oa_runtime import SIGNATURE_HEADER, signature
from bot.handlers.zalo_oa_runtime import WEBHOOK_PATH as OA_PATH
from bot.services import inbound_events
from storage.db import Database
from storage.models import InboundEvent
from tests import fake_zalo, fake_zalo_oa
from tests.fake_telegram import FakeTelegram, message_update
from tests.fake_zalo import FakeZalo
from tests.fake_zalo_oa import APP_ID, SECRET_KEY, FakeZaloOA
from tests.test_telegram import TOKEN as TG_TOKEN
from tests.test_telegram import Bot as TelegramBot
from tests.test_zalo import TOKEN as ZALO_TOKEN
from tests.test_zalo import Bot as ZaloBot
from tests.test_zalo_oa import Bot as OABot

VALID = 8
LONE_SURROGATE = "\ud800"


async def _rows(db: Database) -> list[InboundEvent]:
    async with db.session() as session:
        return list((await session.exec(select(InboundEvent))).all())


async def _settle(count: Any, expected: int) -> None:
    for _ in range(500):
        if count() >= expected:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # nothing more should come


async def _check_rows(db: Database, valid_ids: set[str], poisoned: bool) -> None:
    rows = await _rows(db)
    assert {r.event_id for r in rows if r.status == "done"} >= valid_ids
    rejected = [r for r in rows if r.status == "rejected"]
    if poisoned:
        [bad] = rejected
        assert bad.reason and bad.event_id.startswith("rejected:")
        assert bad.payload == {"kind": bad.payload["kind"]}  # nothing the person wrote
    else:
        assert rejected == []


@pytest.fixture
async def telegram_fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(TG_TOKEN).start()
    yield server
    await server.stop()


async def test_telegram_a_bad_update_fails_alone(engine: Engine, demo_db: Database,
                                                 telegram_fake: FakeTelegram):
    bot = await TelegramBot(engine, demo_db, telegram_fake, webhook=True).start()
    try:
        updates = [message_update(7100 + n, "Xin chào") for n in range(VALID)]
        # An update_id longer than the column: PostgreSQL refuses it; SQLite has no
        # length limit (nothing a Telegram update carries is unstorable there).
        bad = message_update(7199, "Xin chào", update_id=10 ** 70)
        batch = updates[:4] + [bad] + updates[4:]
        assert await asyncio.gather(*(bot.post(u) for u in batch)) == [200] * (VALID + 1)
        await _settle(lambda: len(telegram_fake.of("sendMessage")), VALID)
    finally:
        await bot.stop()
    for n in range(VALID):
        assert len(telegram_fake.of("sendMessage", 7100 + n)) == 1
    poisoned = not demo_db.is_sqlite
    assert len(telegram_fake.of("sendMessage", 7199)) == (0 if poisoned else 1)
    await _check_rows(demo_db, {str(u["update_id"]) for u in updates}, poisoned)


async def test_zalo_a_bad_event_fails_alone(engine: Engine, demo_db: Database):
    fake = await FakeZalo(ZALO_TOKEN).start()
    bot = await ZaloBot(engine, demo_db, fake, webhook=True).start()
    try:
        events = [fake_zalo.text_event(f"z{n}", "Xin chào") for n in range(VALID)]
        bad = fake_zalo.text_event("zbad", "Xin chào", message_id="m" + LONE_SURROGATE)
        batch = events[:4] + [bad] + events[4:]
        assert await asyncio.gather(*(bot.post(e) for e in batch)) == [200] * (VALID + 1)
        await _settle(lambda: len(fake.of("sendMessage")), VALID)
    finally:
        await bot.stop()
        await fake.stop()
    for n in range(VALID):
        assert len(fake.of("sendMessage", f"z{n}")) == 1
    assert fake.of("sendMessage", "zbad") == []
    await _check_rows(demo_db, {f"text:{e['message']['message_id']}" for e in events}, True)


async def test_zalo_oa_a_bad_event_fails_alone(engine: Engine, demo_db: Database):
    fake = await FakeZaloOA().start()
    bot = await OABot(engine, demo_db, fake).start()

    async def post(event: dict[str, Any]) -> int:
        raw = json.dumps(event).encode()  # \ud800 travels escaped, as JSON allows
        mac = signature(APP_ID, raw, event["timestamp"], SECRET_KEY)
        async with bot.http.post(bot.url + OA_PATH, data=raw,
                                 headers={SIGNATURE_HEADER: f"mac={mac}"}) as resp:
            return resp.status

    try:
        events = [fake_zalo_oa.text_event(f"o{n}", "Xin chào") for n in range(VALID)]
        bad = fake_zalo_oa.text_event("obad", "Xin chào", msg_id="m" + LONE_SURROGATE)
        batch = events[:4] + [bad] + events[4:]
        assert await asyncio.gather(*(post(e) for e in batch)) == [200] * (VALID + 1)
        await _settle(lambda: len(fake.messages()), VALID)
    finally:
        await bot.stop()
        await fake.stop()
    for event in events:  # each answer quotes the message it answers
        assert len(fake.of("/message/cs", event["message"]["msg_id"])) == 1
    assert len(fake.messages()) == VALID
    await _check_rows(demo_db, {f"text:{e['message']['msg_id']}" for e in events}, True)


async def test_done_marks_queued_with_a_failing_batch_are_kept(db: Database):
    events = inbound_events.EventLog(db, "zalo")
    assert await events.store("text:a", {"event_name": "message.text.received"})
    assert await events.store("text:b", {"event_name": "message.text.received"})
    # One batch: two done-marks and a new event that cannot be stored.
    closing = [events.done("text:a"), events.done("text:b")]
    assert await events.store("text:" + LONE_SURROGATE, {"event_name": "x"}) is False
    assert await asyncio.gather(*closing) == [True, True]
    statuses = sorted(r.status for r in await _rows(db))
    assert statuses == ["done", "done", "rejected"]
