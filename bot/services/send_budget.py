"""One send budget per bot and per group, shared by every process of an installation.

Each budget is a GCRA ("generic cell rate algorithm") slot: the time of its next free slot.
Sending takes a slot and moves it one interval on; a burst of `burst` messages may go at
once. Replies to people *reserve* the next slot, even one in the future, and wait for it;
bulk deliveries (broadcasts) only take a slot that is free now, else wait and look again.
So bulk never queues ahead of a reply by more than the slot each bulk sender holds: a
resident's answer waits at most a few intervals behind a broadcast running at full budget.

On PostgreSQL the slots are rows of `send_slots`, moved in one atomic UPDATE on the
database's clock (processes on several hosts agree on it); on SQLite (one process) they
live in this process. Which kind of message is being sent comes from `sending(kind)`, set
by the dispatcher around each outbox row; anything else is a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import sqlalchemy as sa

from storage.db import Database

REPLY, BULK = "reply", "bulk"
BULK_KINDS = frozenset({"broadcast_delivery"})
_priority: ContextVar[str] = ContextVar("send_priority", default=REPLY)
_NEVER = 1e9  # a reply's horizon: it reserves however far ahead the next slot is
_MIN_PAUSE = 0.005


@dataclass(frozen=True)
class Rate:
    """`interval` seconds between messages on average; `burst` may go back to back."""

    interval: float
    burst: int = 1

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval


# Telegram: about 30 messages a second per bot, 20 a minute per group. A group gets a
# burst of 10, then one message every 6 s: never more than 20 in any minute.
TELEGRAM_BOT = Rate(1 / 30)
TELEGRAM_GROUP = Rate(6.0, burst=10)
# Zalo publishes no numeric limit for the Bot API (HTTP 429 "quota exceeded", no
# retry-after); the OA's highest tier allows 2,000 requests a minute. We pace both well
# below: 20 a second per bot, and Telegram's group rate for Zalo groups.
ZALO_BOT = Rate(1 / 20)
ZALO_OA = Rate(1 / 30)
ZALO_GROUP = TELEGRAM_GROUP


@contextlib.contextmanager
def sending(kind: str) -> Iterator[None]:
    """Sends inside this block count as bulk when `kind` is a bulk kind of outbox row."""
    token = _priority.set(BULK if kind in BULK_KINDS else REPLY)
    try:
        yield
    finally:
        _priority.reset(token)


def is_bulk() -> bool:
    """Whether the send in progress is a bulk delivery."""
    return _priority.get() == BULK


class SendBudget:
    """The budget of one bot (`name`) and of each of its groups."""

    def __init__(self, db: Database | None, name: str, bot: Rate,
                 group: Rate | None = None) -> None:
        self.name, self.bot, self.group = name, bot, group
        if db is not None and not db.is_sqlite:
            self._slots: _Slots = _SharedSlots(db)
        else:  # one process: its budgets of one name share their slots
            self._slots = _LOCAL.setdefault(db if db is not None else _NO_DB, _LocalSlots())

    async def take(self, chat_id: str | None = None, *, group: bool = False) -> None:
        """Wait for a slot of the bot (and of the group `chat_id` when `group`)."""
        bulk = is_bulk()
        if group and chat_id is not None and self.group is not None:
            await self._take(f"{self.name}:group:{chat_id}", self.group, bulk)
        await self._take(self.name, self.bot, bulk)

    async def _take(self, key: str, rate: Rate, bulk: bool) -> None:
        while True:
            wait, ahead = await self._slots.take(key, rate, 0.0 if bulk else _NEVER)
            if wait is not None:
                if wait > 0:
                    await asyncio.sleep(wait)
                return
            await asyncio.sleep(max(ahead, _MIN_PAUSE))


class _Slots:
    async def take(self, key: str, rate: Rate, horizon: float) -> tuple[float | None, float]:
        """Take the next slot if it starts within `horizon` seconds: (seconds to wait for
        it, _) when taken, (None, seconds until one is free) when not."""
        raise NotImplementedError


class _LocalSlots(_Slots):
    def __init__(self) -> None:
        self._next: dict[str, float] = {}

    async def take(self, key: str, rate: Rate, horizon: float) -> tuple[float | None, float]:
        now = time.monotonic()
        start = self._next.get(key, now) - rate.tolerance  # the earliest this slot may go
        if start > now + horizon:
            return None, start - now
        self._next[key] = max(self._next.get(key, now), now) + rate.interval
        return max(start - now, 0.0), 0.0


_NO_DB = _LocalSlots  # the key of budgets without a database (any long-lived object)
_LOCAL: weakref.WeakKeyDictionary[object, _LocalSlots] = weakref.WeakKeyDictionary()

_TAKE = sa.text("""
WITH t AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
old AS (SELECT s.next_at FROM send_slots s WHERE s.key = :key),
moved AS (
    UPDATE send_slots s SET next_at = greatest(s.next_at, t.now) + :interval FROM t
    WHERE s.key = :key AND s.next_at - :tolerance <= t.now + :horizon
    RETURNING greatest(s.next_at - :interval - :tolerance - t.now, 0) AS wait
)
SELECT (SELECT wait FROM moved) AS wait,
       (SELECT old.next_at - :tolerance - t.now FROM old, t) AS ahead
""")
_CREATE = sa.text("INSERT INTO send_slots (key, next_at) VALUES (:key, 0) "
                  "ON CONFLICT (key) DO NOTHING")


class _SharedSlots(_Slots):
    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: set[str] = set()

    async def take(self, key: str, rate: Rate, horizon: float) -> tuple[float | None, float]:
        async with self.db.engine.connect() as conn:
            if key not in self._known:
                await conn.execute(_CREATE, {"key": key})
                self._known.add(key)
            row = (await conn.execute(_TAKE, {
                "key": key, "interval": rate.interval, "tolerance": rate.tolerance,
                "horizon": horizon})).one()
            await conn.commit()
        return row.wait, row.ahead or 0.0
