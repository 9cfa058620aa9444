"""Raw channel updates stored before processing: idempotency and crash recovery.

A webhook stores the update and answers at once; the update is processed afterwards and
marked done. A redelivered update (same channel and event id) is stored once and
processed once; updates left pending by a crash are processed at the next start.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from storage.db import Database
from storage.models import InboundEvent, utcnow

PENDING, DONE = "pending", "done"


async def store(db: Database, channel: str, event_id: str, payload: dict[str, Any]) -> bool:
    """Keep the update; False when this event id was stored before (a redelivery)."""
    values = {"channel": channel, "event_id": event_id, "payload": payload,
              "status": PENDING, "received_at": utcnow()}
    async with db.unit_of_work() as session:
        dialect = session.bind.dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(InboundEvent)
        statement = insert.values(**values).on_conflict_do_nothing(
            index_elements=["channel", "event_id"])
        result = await session.exec(statement.returning(InboundEvent.id))
        new = result.scalar_one_or_none() is not None
        await session.commit()
    return new


async def mark_done(db: Database, channel: str, event_id: str) -> None:
    """The update was processed."""
    async with db.unit_of_work() as session:
        await session.exec(
            sa.update(InboundEvent)
            .where(col(InboundEvent.channel) == channel, col(InboundEvent.event_id) == event_id)
            .values(status=DONE, done_at=utcnow())
        )
        await session.commit()


async def pending(db: Database, channel: str) -> list[dict[str, Any]]:
    """Payloads stored but not processed (a crash came between), oldest first."""
    async with db.session() as session:
        query = (select(InboundEvent.payload)
                 .where(InboundEvent.channel == channel, InboundEvent.status == PENDING)
                 .order_by(InboundEvent.id))
        return list((await session.exec(query)).all())


async def prune(db: Database, now: datetime | None = None, keep_days: int = 7) -> int:
    """Forget processed updates older than `keep_days` (redeliveries come within hours)."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    async with db.unit_of_work() as session:
        result = await session.exec(
            sa.delete(InboundEvent)
            .where(col(InboundEvent.status) == DONE, col(InboundEvent.received_at) < cutoff)
        )
        await session.commit()
    return result.rowcount
