"""Raw channel updates stored before processing: idempotency and crash recovery.

A webhook stores the update and answers at once; the update is processed afterwards and
marked done. A redelivered update (same channel and event id) is stored once and
processed once; updates left pending by a crash are processed at the next start.

`EventLog` writes in batches (one transaction for all the updates that arrived meanwhile):
under load that is one commit for many updates instead of two per update. Marking done is
not awaited, so a crash may leave the last few processed updates pending: they are
processed again at the next start (as with the outbox, at most a duplicate reply).

Personal data: a stored update keeps no profile names (`scrub`: only what processing needs),
and once processed it keeps only its id and kind (`{"kind": "message"}`): what a person
wrote lives in the rows the flows made, never in the raw update.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import clock
from storage.db import Database
from storage.models import InboundEvent

log = logging.getLogger(__name__)
PENDING, DONE = "pending", "done"
MAX_BATCH = 500
# Profile fields a channel sends with every update; no flow reads them, so none is stored.
PROFILE_KEYS = frozenset({"first_name", "last_name", "username", "display_name", "avatar",
                          "vcard"})
KEEP = timedelta(days=7)  # redeliveries come within hours; older processed rows are dropped
PRUNE_EVERY = timedelta(hours=6)
_INSERTS = {
    name: dialect.insert(InboundEvent.__table__)
    .on_conflict_do_nothing(index_elements=["channel", "event_id"])
    .returning(InboundEvent.__table__.c.event_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_events = InboundEvent.__table__
_CLOSE = (
    sa.update(_events)
    .where(_events.c.channel == sa.bindparam("of_channel"),
           _events.c.event_id.in_(sa.bindparam("event_ids", expanding=True)))
    .values(status=DONE, done_at=sa.bindparam("closed_at"), payload=sa.bindparam("kept"))
)


def scrub(payload: Any) -> Any:
    """The update without the profile fields (names, usernames, avatars) at any depth."""
    if isinstance(payload, dict):
        return {k: scrub(v) for k, v in payload.items() if k not in PROFILE_KEYS}
    if isinstance(payload, list):
        return [scrub(v) for v in payload]
    return payload


def kind_of(payload: dict[str, Any]) -> str:
    """What sort of update it was: Zalo's event name, or Telegram's update field."""
    if isinstance(name := payload.get("event_name"), str):
        return name[:40]
    return next((k for k in payload if k not in ("update_id", "event_id")), "")[:40]


class EventLog:
    """Stores a channel's inbound events and marks them done, in batches."""

    def __init__(self, db: Database, channel: str) -> None:
        self.db, self.channel = db, channel
        self._to_store: list[tuple[str, dict[str, Any], asyncio.Future[bool]]] = []
        self._to_close: list[str] = []
        self._kinds: dict[str, str] = {}  # of the events stored or read back, until done
        self._writer: asyncio.Task | None = None
        self._pruned_at: datetime | None = None

    async def store(self, event_id: str, payload: dict[str, Any]) -> bool:
        """Keep the event; False when this event id was stored before (a redelivery)."""
        stored = asyncio.get_running_loop().create_future()
        self._to_store.append((event_id, scrub(payload), stored))
        self._kick()
        if new := await stored:  # processing (and so `done`) comes only after this
            self._kinds[event_id] = kind_of(payload)
        return new

    def done(self, event_id: str) -> None:
        """The event was processed (written with the next batch)."""
        self._to_close.append(event_id)
        self._kick()

    async def flush(self) -> None:
        """Wait until everything queued is written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def pending(self) -> list[dict[str, Any]]:
        """Payloads stored but not processed (a crash came between), oldest first."""
        async with self.db.session() as session:
            query = (select(InboundEvent.event_id, InboundEvent.payload)
                     .where(InboundEvent.channel == self.channel,
                            InboundEvent.status == PENDING)
                     .order_by(InboundEvent.id))
            found = (await session.exec(query)).all()
        self._kinds.update((event_id, kind_of(payload)) for event_id, payload in found)
        return [payload for _, payload in found]

    def _kick(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name=f"{self.channel}-events")

    async def _write(self) -> None:
        """Write everything queued, one transaction per batch, until nothing is left."""
        while self._to_store or self._to_close:
            storing, self._to_store = self._to_store[:MAX_BATCH], self._to_store[MAX_BATCH:]
            closing, self._to_close = self._to_close[:MAX_BATCH], self._to_close[MAX_BATCH:]
            try:
                async with self.db.unit_of_work() as session:
                    new = await self._insert(session, storing)
                    await self._close(session, closing)
                    await self._prune(session)
                    await session.commit()
            except Exception as exc:
                log.exception("could not write %s inbound events", self.channel)
                for _, _, stored in storing:
                    if not stored.done():
                        stored.set_exception(exc)
                continue
            seen: set[str] = set()
            for event_id, _, stored in storing:
                if not stored.done():
                    stored.set_result(event_id in new and event_id not in seen)
                seen.add(event_id)

    async def _insert(self, session: AsyncSession,
                      storing: list[tuple[str, dict[str, Any], Any]]) -> set[str]:
        """Insert new events; returns the ids that were not stored before."""
        if not storing:
            return set()
        now = clock.now()
        rows = {event_id: {"channel": self.channel, "event_id": event_id, "payload": payload,
                           "status": PENDING, "received_at": now}
                for event_id, payload, _ in reversed(storing)}  # the first copy wins
        connection = await session.connection()
        statement = _INSERTS[connection.dialect.name]
        # One cached statement, executed for many rows (SQLAlchemy batches them with
        # RETURNING): a multi-row VALUES built afresh was compiled again for each batch.
        result = await connection.execute(statement, list(rows.values()))
        return set(result.scalars().all())

    async def _close(self, session: AsyncSession, closing: list[str]) -> None:
        """Mark events done, keeping only their id and kind."""
        by_kind: dict[str, list[str]] = {}
        for event_id in closing:
            by_kind.setdefault(self._kinds.pop(event_id, ""), []).append(event_id)
        now = clock.now()
        connection = await session.connection()
        for kind, event_ids in by_kind.items():  # one statement per kind (a handful)
            await connection.execute(_CLOSE, {"of_channel": self.channel, "event_ids": event_ids,
                                              "closed_at": now, "kept": {"kind": kind}})


    async def _prune(self, session: AsyncSession) -> None:
        """Now and then, forget processed events older than KEEP."""
        now = clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        await session.exec(
            sa.delete(InboundEvent)
            .where(col(InboundEvent.channel) == self.channel, col(InboundEvent.status) == DONE,
                   col(InboundEvent.received_at) < now - KEEP)
        )


async def store(db: Database, channel: str, event_id: str, payload: dict[str, Any]) -> bool:
    """Keep one event right away (a one-off; running channels use EventLog)."""
    return await EventLog(db, channel).store(event_id, payload)
