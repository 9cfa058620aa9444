"""One chat's updates answered one after the other by several processes on PostgreSQL.

Each process orders its own updates of a chat in memory; across processes `wait_turn` holds
an update back while another live process has one of the same chat in hand that came
earlier (a lower row id) or whose turn has begun, then marks this update's turn begun.
Looking and marking take turns under an advisory lock per chat, so of two updates arriving
together on two processes one begins and the other waits until it is answered and done:
the person reads "1 file attached" before "2 files attached", never the other way round.
A process that died holds nothing once its lease has run out; the wait is at most one lease.
"""

from __future__ import annotations

import asyncio
import logging
import time

import sqlalchemy as sa

from storage import clock
from storage.db import Database, lock_key
from storage.models import InboundEvent

log = logging.getLogger(__name__)
TURN_WAIT = 0.02  # seconds between two looks
_events = InboundEvent.__table__


async def wait_turn(db: Database, channel: str, owner: str, row_id: int, chat: str, *,
                    within: float) -> None:
    """Wait (at most `within` seconds) until no other live process holds an update of
    `chat` that came earlier or has begun, then mark update `row_id` begun."""
    ahead = (sa.select(_events.c.id)
             .where(_events.c.channel == channel, _events.c.chat_key == chat,
                    _events.c.status == "pending", _events.c.id != row_id,
                    sa.or_(_events.c.id < row_id, _events.c.started_at.is_not(None)),
                    _events.c.leased_until >= sa.bindparam("now"),
                    # this process's own are queued behind this one in memory
                    _events.c.lease_owner != owner)
             .limit(1))
    begin = sa.update(_events).where(_events.c.id == row_id).values(
        started_at=sa.bindparam("now"))
    chat_lock = sa.select(sa.func.pg_advisory_xact_lock(lock_key(f"turn:{channel}:{chat}")))
    give_up = time.monotonic() + within
    while True:
        async with db.session() as session:
            connection = await session.connection()
            await connection.execute(chat_lock)
            now = {"now": clock.now()}
            late = time.monotonic() >= give_up
            if late or (await connection.execute(ahead, now)).first() is None:
                await connection.execute(begin, now)
                await session.commit()
                break
        await asyncio.sleep(TURN_WAIT)
    if late:
        log.warning("%s: an earlier update of a chat is still in hand elsewhere; going on",
                    channel)
