"""Raw channel updates stored before processing: idempotency, leases and crash recovery.

A webhook stores the update and answers at once; the update is processed afterwards and
marked done. A redelivered update (same channel and event id) is stored once and
processed once. The process that stored an update holds it under a lease (`lease_owner`,
`leased_until`), renewed while it lives; updates whose lease ran out (their process died)
are taken by whichever process sweeps next, never those another live process holds. An
update whose turn was committed but whose answer was never sent is answered from the
outcome its turn recorded (bot/services/turn_outcomes.py), not run again.

`EventLog` writes in batches (one transaction for all the updates that arrived meanwhile).
When a batch fails, its updates are written one by one: one that cannot be stored (a lone
surrogate in its id, an id longer than the column) is recorded as rejected, with the
reason, and its neighbours are kept; done-marks are never dropped. A runtime awaits an
update's done-mark before the next update of the same chat.

On PostgreSQL several processes may share the table: `wait_turn` (bot.services.chat_turns)
holds an update back while another process has an earlier update of the same chat in hand,
or one whose turn has begun, so each chat's updates are answered one after the other.

Personal data: a stored update keeps no profile names (`scrub`: only what processing needs),
and once processed it keeps only its id and kind (`{"kind": "message"}`) and no outcome.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import chat_turns
from storage import clock
from storage.db import Database
from storage.models import InboundEvent

log = logging.getLogger(__name__)
PENDING, DONE, REJECTED = "pending", "done", "rejected"
MAX_BATCH = 500
LEASE = 30.0  # seconds an update stays with the process that took it, unless renewed
# Profile fields a channel sends with every update; no flow reads them, so none is stored.
PROFILE_KEYS = frozenset({"first_name", "last_name", "username", "display_name", "avatar",
                          "vcard"})
KEEP = timedelta(days=7)  # redeliveries come within hours; older processed rows are dropped
PRUNE_EVERY = timedelta(hours=6)
_events = InboundEvent.__table__
_INSERTS = {
    name: dialect.insert(_events)
    .on_conflict_do_nothing(index_elements=["channel", "event_id"])
    .returning(_events.c.id, _events.c.event_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_CLOSE = (
    sa.update(_events)
    .where(_events.c.channel == sa.bindparam("of_channel"),
           _events.c.event_id.in_(sa.bindparam("event_ids", expanding=True)))
    .values(status=DONE, done_at=sa.bindparam("closed_at"), payload=sa.bindparam("kept"),
            outcome=None, lease_owner=None, leased_until=None)
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
        return _printable(name)[:40]
    return _printable(next((k for k in payload if k not in ("update_id", "event_id")), ""))[:40]


def _printable(text: str) -> str:
    """The text with what no database stores (lone surrogates, NUL) replaced."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "?")


def owner_name() -> str:
    """This process, as named on the leases it holds."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class EventLog:
    """Stores a channel's inbound events, leases them and marks them done, in batches."""

    def __init__(self, db: Database, channel: str, lease: float = LEASE) -> None:
        self.db, self.channel, self.lease = db, channel, lease
        self.owner = owner_name()
        self._to_store: list[tuple[str, dict[str, Any], str | None, asyncio.Future[bool]]] = []
        self._to_close: list[tuple[str, asyncio.Future[bool]]] = []
        self._kinds: dict[str, str] = {}  # of the events stored or read back, until done
        self._rows: dict[str, tuple[int, str | None]] = {}  # event id -> row id, chat
        self._writer: asyncio.Task | None = None
        self._pruned_at: datetime | None = None

    async def store(self, event_id: str, payload: dict[str, Any],
                    chat: str | None = None) -> bool:
        """Keep the event (leased to this process); False when this event id was stored
        before (a redelivery) or the event could not be stored (recorded as rejected)."""
        stored = asyncio.get_running_loop().create_future()
        self._to_store.append((event_id, scrub(payload), chat[:100] if chat else None, stored))
        self._kick()
        if new := await stored:  # processing (and so `done`) comes only after this
            self._kinds[event_id] = kind_of(payload)
        return new

    def done(self, event_id: str) -> asyncio.Future[bool]:
        """The event was processed: written with the next batch (await it to know it is)."""
        closed = asyncio.get_running_loop().create_future()
        self._to_close.append((event_id, closed))
        self._kick()
        return closed

    async def flush(self) -> None:
        """Wait until everything queued is written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def keep_leases(self, take: Callable[[dict[str, Any]], None]) -> None:
        """Run for as long as the channel does: every third of a lease renew this process's
        leases, and give `take` each event whose process died (its lease ran out)."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                for payload in await self.sweep():
                    take(payload)
            except Exception:
                log.exception("%s: could not renew the leases of inbound events", self.channel)

    async def hand_back(self) -> None:
        """At a clean stop, after `flush`: the events this process holds but did not process
        (a flooder's, waiting their turn) go back at once to whichever process starts next,
        instead of waiting for their lease to run out."""
        release = (sa.update(_events)
                   .where(_events.c.channel == self.channel, _events.c.status == PENDING,
                          _events.c.lease_owner == self.owner)
                   .values(lease_owner=None, leased_until=None))
        async with self.db.unit_of_work() as session:
            await (await session.connection()).execute(release)
            await session.commit()

    async def pending(self) -> list[dict[str, Any]]:
        """Take the events stored but not processed whose lease ran out (their process
        died), oldest first; on SQLite (one process) every pending event."""
        return await self._claim(everything=self.db.is_sqlite)

    async def sweep(self) -> list[dict[str, Any]]:
        """Renew this process's leases and take the expired ones of others, oldest first."""
        # Rows locked right now (being closed, or a turn recording its outcome) are skipped:
        # waiting for them could deadlock with a batch that locks rows in another order,
        # and the next sweep renews them well before the lease runs out.
        mine = (sa.select(_events.c.id)
                .where(_events.c.channel == self.channel, _events.c.status == PENDING,
                       _events.c.lease_owner == self.owner)
                .order_by(_events.c.id).with_for_update(skip_locked=True))
        renew = (sa.update(_events).where(_events.c.id.in_(mine.scalar_subquery()))
                 .values(leased_until=clock.now() + timedelta(seconds=self.lease)))
        async with self.db.unit_of_work() as session:
            await (await session.connection()).execute(renew)
            await session.commit()
        return await self._claim(everything=False)

    async def _claim(self, everything: bool) -> list[dict[str, Any]]:
        now = clock.now()
        waiting = (sa.select(_events.c.id)
                   .where(_events.c.channel == self.channel, _events.c.status == PENDING)
                   .order_by(_events.c.id).with_for_update(skip_locked=True))
        if not everything:
            waiting = waiting.where(sa.or_(_events.c.leased_until.is_(None),
                                           _events.c.leased_until < now))
        claim = (sa.update(_events).where(_events.c.id.in_(waiting.scalar_subquery()))
                 .values(lease_owner=self.owner,
                         leased_until=now + timedelta(seconds=self.lease), started_at=None)
                 .returning(_events.c.id, _events.c.event_id, _events.c.payload,
                            _events.c.chat_key))
        async with self.db.unit_of_work() as session:
            found = sorted((await (await session.connection()).execute(claim)).all())
            await session.commit()
        if found:
            log.warning("%s: took %s pending inbound events (%s)", self.channel, len(found),
                        "at start" if everything else "their lease ran out")
        for row_id, event_id, payload, chat in found:
            self._kinds[event_id] = kind_of(payload)
            self._rows[event_id] = (row_id, chat)
        return [payload for _, _, payload, _ in found]

    async def wait_turn(self, event_id: str) -> None:
        """On PostgreSQL, wait until no other live process holds an update of the same chat
        that came earlier or whose turn has begun, then mark this one's turn begun
        (bot.services.chat_turns)."""
        row_id, chat = self._rows.get(event_id, (None, None))
        if not self.db.is_sqlite and row_id is not None and chat is not None:
            await chat_turns.wait_turn(self.db, self.channel, self.owner, row_id, chat,
                                       within=self.lease)

    def _kick(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name=f"{self.channel}-events")

    async def _write(self) -> None:
        """Write everything queued, one transaction per batch, until nothing is left; a
        failed batch is written again one event at a time."""
        while self._to_store or self._to_close:
            storing, self._to_store = self._to_store[:MAX_BATCH], self._to_store[MAX_BATCH:]
            closing, self._to_close = self._to_close[:MAX_BATCH], self._to_close[MAX_BATCH:]
            try:
                new = await self._transaction(storing, [event_id for event_id, _ in closing])
                closed = closing
            except Exception:
                log.warning("a batch of %s %s inbound events failed; writing them one by one",
                            len(storing) + len(closing), self.channel)
                new, closed = await self._one_by_one(storing, closing)
            seen: set[str] = set()
            for event_id, _, _, stored in storing:
                if not stored.done():
                    stored.set_result(event_id in new and event_id not in seen)
                seen.add(event_id)
            for event_id, future in closed:
                self._kinds.pop(event_id, None)
                self._rows.pop(event_id, None)
                if not future.done():
                    future.set_result(True)
            if len(closed) < len(closing):  # the database is away: try again shortly
                self._to_close[:0] = [c for c in closing if c not in closed]
                await asyncio.sleep(1.0)

    async def _transaction(self, storing: list, closing: list[str]) -> set[str]:
        async with self.db.unit_of_work() as session:
            new = await self._insert(session, storing)
            await self._close(session, closing)
            await self._prune(session)
            await session.commit()
        return new

    async def _one_by_one(self, storing: list, closing: list) -> tuple[set[str], list]:
        """Each event in its own transaction: a bad one is rejected alone."""
        new: set[str] = set()
        for item in storing:
            try:
                new |= await self._transaction([item], [])
            except Exception as exc:
                await self._reject(item[0], item[1], exc)
        closed = []
        for event_id, future in closing:
            try:
                await self._transaction([], [event_id])
            except Exception:
                log.exception("could not mark a %s inbound event done", self.channel)
            else:
                closed.append((event_id, future))
        return new, closed

    async def reject(self, event_id: str, payload: dict[str, Any], reason: str) -> None:
        """Record an event refused at the edge (an id its platform never sends) with why."""
        await self._reject(event_id, payload, ValueError(reason))

    async def _reject(self, event_id: str, payload: dict[str, Any], exc: Exception) -> None:
        """Record an event that cannot be stored, under a key made from its id."""
        key = "rejected:" + hashlib.sha256(
            repr(event_id).encode("utf-8", "backslashreplace")).hexdigest()[:40]
        reason = _printable(f"{type(exc).__name__}: {exc}".splitlines()[0])[:200]
        log.warning("%s: an inbound event was rejected (%s)", self.channel, reason)
        row = {"channel": self.channel, "event_id": key, "payload": {"kind": kind_of(payload)},
               "status": REJECTED, "received_at": clock.now(), "done_at": clock.now(),
               "reason": reason}
        try:
            async with self.db.unit_of_work() as session:
                connection = await session.connection()
                await connection.execute(_INSERTS[connection.dialect.name], [row])
                await session.commit()
        except Exception:
            log.exception("%s: could not record a rejected inbound event", self.channel)

    async def _insert(self, session: AsyncSession, storing: list) -> set[str]:
        """Insert new events, leased to this process; returns the ids not stored before."""
        if not storing:
            return set()
        now = clock.now()
        leased = self.lease > 0
        until = now + timedelta(seconds=self.lease) if leased else None
        rows: dict[str, dict[str, Any]] = {}
        for event_id, payload, chat, _ in storing:  # in arrival order (ids follow it)
            rows.setdefault(event_id, {  # the first copy wins
                "channel": self.channel, "event_id": event_id, "payload": payload,
                "status": PENDING, "received_at": now, "chat_key": chat,
                "lease_owner": self.owner if leased else None, "leased_until": until})
        connection = await session.connection()
        statement = _INSERTS[connection.dialect.name]
        # One cached statement, executed for many rows (SQLAlchemy batches them with
        # RETURNING): a multi-row VALUES built afresh was compiled again for each batch.
        result = await connection.execute(statement, list(rows.values()))
        found = result.all()
        for row_id, event_id in found:
            self._rows[event_id] = (row_id, rows[event_id]["chat_key"])
        return {event_id for _, event_id in found}

    async def _close(self, session: AsyncSession, closing: list[str]) -> None:
        """Mark events done, keeping only their id and kind."""
        by_kind: dict[str, list[str]] = {}
        for event_id in closing:
            by_kind.setdefault(self._kinds.get(event_id, ""), []).append(event_id)
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
            .where(col(InboundEvent.channel) == self.channel,
                   col(InboundEvent.status).in_((DONE, REJECTED)),
                   col(InboundEvent.received_at) < now - KEEP)
        )


async def store(db: Database, channel: str, event_id: str, payload: dict[str, Any]) -> bool:
    """Keep one event right away, leased to nobody (a one-off; running channels use
    EventLog): the next process to look takes it."""
    return await EventLog(db, channel, lease=0).store(event_id, payload)
