"""One bad event fails alone (issue 20.2), posted in one batch with valid events on every
channel: the valid ones are stored and answered once each. At the edge (bot.sanitize) an
update id Telegram could never send is refused with 400 and a message id that cannot be
stored is replaced by a stable hash (the event is answered once); whatever still cannot be
stored fails alone in the event log, recorded as rejected with its reason."""

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
        assert await asyncio.gather(*(bot.post(u) for u in batch)) == (
            [200] * 4 + [400] + [200] * (VALID - 4))
        await _settle(lambda: len(telegram_fake.of("sendMessage")), VALID)
    finally:
        await bot.stop()
    for n in range(VALID):
        assert len(telegram_fake.of("sendMessage", 7100 + n)) == 1
    assert telegram_fake.of("sendMessage", 7199) == []
    await _check_rows(demo_db, {str(u["update_id"]) for u in updates}, True)
    [bad] = [r for r in await _rows(demo_db) if r.status == "rejected"]
    assert "not a Telegram update id" in bad.reason  # refused at the edge, recorded


async def test_zalo_a_bad_event_fails_alone(engine: Engine, demo_db: Database):
    fake = await FakeZalo(ZALO_TOKEN).start()
    bot = await ZaloBot(engine, demo_db, fake, webhook=True).start()
    try:
        events = [fake_zalo.text_event(f"z{n}", "Xin chào") for n in range(VALID)]
        bad = fake_zalo.text_event("zbad", "Xin chào", message_id="m" + LONE_SURROGATE)
        batch = events[:4] + [bad] + events[4:]
        assert await asyncio.gather(*(bot.post(e) for e in batch)) == [200] * (VALID + 1)
        await _settle(lambda: len(fake.of("sendMessage")), VALID + 1)
    finally:
        await bot.stop()
        await fake.stop()
    for n in range(VALID):
        assert len(fake.of("sendMessage", f"z{n}")) == 1
    assert len(fake.of("sendMessage", "zbad")) == 1  # its id made storable at the edge
    await _check_rows(demo_db, {f"text:{e['message']['message_id']}" for e in events}, False)
    assert len([r for r in await _rows(demo_db) if r.status == "done"]) == VALID + 1


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
        await _settle(lambda: len(fake.messages()), VALID + 1)
    finally:
        await bot.stop()
        await fake.stop()
    for event in events:  # each answer quotes the message it answers
        assert len(fake.of("/message/cs", event["message"]["msg_id"])) == 1
    assert len(fake.messages()) == VALID + 1  # the bad one's id made storable at the edge
    await _check_rows(demo_db, {f"text:{e['message']['msg_id']}" for e in events}, False)


async def test_an_event_that_cannot_be_stored_fails_alone_in_its_batch(db: Database):
    events = inbound_events.EventLog(db, "zalo")
    ids = [f"text:v{n}" for n in range(VALID)]
    batch = ids[:4] + ["text:" + LONE_SURROGATE] + ids[4:]  # past the edge, unstorable
    stored = await asyncio.gather(*(events.store(i, {"event_name": "message.text.received"})
                                    for i in batch))
    assert stored == [True] * 4 + [False] + [True] * (VALID - 4)
    rows = await _rows(db)
    assert sorted(r.event_id for r in rows if r.status == "pending") == sorted(ids)
    [bad] = [r for r in rows if r.status == "rejected"]
    assert bad.reason and bad.event_id.startswith("rejected:")


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
