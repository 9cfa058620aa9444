"""Waking the dispatchers of other processes when outbox rows become due (PostgreSQL).

A transaction that enqueues runs `pg_notify` once (PostgreSQL delivers it at commit, or
never on rollback); every process LISTENs on a dedicated asyncpg connection and wakes its
dispatcher. On SQLite there is one process and the in-process wake-up suffices
(bot.services.outbox.on_enqueue). The 30-second tick stays as the safety net: a lost
connection only delays deliveries until it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database

log = logging.getLogger(__name__)
CHANNEL = "civicbot_outbox"
RECONNECT_SECONDS = 5.0
_SENT_FLAG = "outbox_notify_sent"


async def notify_in(session: AsyncSession) -> None:
    """Have other processes woken when `session` commits (once per transaction)."""
    if session.bind.dialect.name != "postgresql" or session.info.get(_SENT_FLAG):
        return
    await session.exec(sa.select(sa.func.pg_notify(CHANNEL, "")))
    session.info[_SENT_FLAG] = True
    sa.event.listen(session.sync_session, "after_transaction_end",
                    lambda *_: session.info.pop(_SENT_FLAG, None), once=True)


async def notify(db: Database) -> None:
    """Wake every dispatcher now (rows were handed back); nothing on SQLite."""
    if db.is_sqlite:
        return
    async with db.engine.connect() as conn:
        await conn.execute(sa.select(sa.func.pg_notify(CHANNEL, "")))
        await conn.commit()


class Listener:
    """LISTENs for outbox notifications on its own connection and calls `wake`."""

    def __init__(self, db: Database, wake: Callable[[], None]) -> None:
        self.db, self.wake = db, wake
        self._task: asyncio.Task | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        """Start listening (PostgreSQL only); returns once the first attempt is made."""
        if self.db.is_sqlite:
            return
        self._task = asyncio.create_task(self._listen(), name="outbox-listen")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), RECONNECT_SECONDS)

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        import asyncpg

        while True:
            conn = None
            try:
                conn = await asyncpg.connect(_asyncpg_dsn(self.db))
                lost = asyncio.Event()
                conn.add_termination_listener(lambda *_, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self.connected.set()
                self.wake()  # rows may have come while we were not listening
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox: LISTEN connection failed (%s); retrying",
                            type(exc).__name__)
            finally:
                self.connected.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            await asyncio.sleep(RECONNECT_SECONDS)

    def _on_notify(self, *_args: Any) -> None:
        self.wake()


def _asyncpg_dsn(db: Database) -> str:
    """The plain postgresql:// DSN asyncpg understands, from the engine's URL."""
    url = db.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)
