"""Stored inbound events: once per event id, marked done in batches, old ones forgotten."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.services import inbound_events
from storage import clock
from storage.db import Database
from storage.models import InboundEvent
from tests.conftest import Clock


async def _rows(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = (await session.exec(select(InboundEvent))).all()
    return {row.event_id: row.status for row in rows}


async def test_events_are_kept_once_and_closed_in_batches(db: Database):
    events = inbound_events.EventLog(db, "telegram")
    stored = await asyncio.gather(*(events.store(i, {"update_id": int(i)})
                                    for i in ("1", "2", "1", "3")))
    assert stored == [True, True, False, True]
    assert await events.store("2", {}) is False
    events.done("1")
    events.done("3")
    await events.flush()
    assert await _rows(db) == {"1": "done", "2": "pending", "3": "done"}
    restarted = inbound_events.EventLog(db, "telegram")
    if db.is_sqlite:  # one process: a restart takes every pending event
        assert await restarted.pending() == [{"update_id": 2}]
    else:  # "2" is leased to `events`, maybe alive in another process
        assert await restarted.pending() == []
        Clock(clock.now() + timedelta(seconds=31))  # its process died: the lease ran out
        assert await restarted.pending() == [{"update_id": 2}]
    assert await inbound_events.EventLog(db, "zalo").pending() == []


async def test_processed_events_older_than_a_week_are_forgotten(db: Database):
    events = inbound_events.EventLog(db, "telegram")
    for event_id in ("old", "old-pending", "new"):
        await events.store(event_id, {})
    events.done("old")
    events.done("new")
    await events.flush()
    async with db.unit_of_work() as session:
        await session.exec(sa.update(InboundEvent)
                           .where(InboundEvent.event_id.in_(["old", "old-pending"]))
                           .values(received_at=clock.now() - timedelta(days=8)))
        await session.commit()
    later = inbound_events.EventLog(db, "telegram")  # a restart prunes at its first write
    await later.store("newer", {})
    assert await _rows(db) == {"old-pending": "pending", "new": "done", "newer": "pending"}


async def test_a_chats_update_waits_for_one_whose_turn_began_on_another_process(db: Database):
    """Two updates of one chat arrive together on two processes; the one stored second
    (its row written later, its id higher) begins first. The other must wait until that one
    is answered and done, so the person reads the answers in the order the turns ran."""
    if db.is_sqlite:
        pytest.skip("SQLite serves one process: its chat order is in memory")
    first, second = (inbound_events.EventLog(db, "telegram") for _ in range(2))
    assert await first.store("11", {"update_id": 11}, chat="42")
    await first.wait_turn("11")  # nothing ahead: its turn begins
    assert await second.store("12", {"update_id": 12}, chat="42")
    async with db.unit_of_work() as session:  # as if "11" had been written after "12"
        await session.exec(sa.update(InboundEvent).where(InboundEvent.event_id == "11")
                           .values(id=1000))
        await session.commit()
        begun = (await session.exec(select(InboundEvent.started_at)
                                    .where(InboundEvent.event_id == "11"))).one()
    assert begun is not None
    waiting = asyncio.create_task(second.wait_turn("12"))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # "11" is being answered on the other process
    await first.done("11")
    await asyncio.wait_for(waiting, 2)
    async with db.session() as session:
        rows = (await session.exec(select(InboundEvent).order_by(InboundEvent.id))).all()
    assert [(r.event_id, r.status, r.started_at is not None) for r in rows] == [
        ("12", "pending", True), ("11", "done", True)]
