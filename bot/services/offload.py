"""Slow database work (big exports, the yearly workbook) on a worker thread.

On SQLite the bot's statements run on the event loop's thread, so a long read and the
pure-Python workbook writing would hold every chat meanwhile. `in_thread` runs the work
on a thread with its own event loop and its own connections to the same database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from storage.db import Database

T = TypeVar("T")


async def in_thread(db: Database, work: Callable[[Database], Awaitable[T]]) -> T:
    """The result of `work(own_db)`, run on a worker thread with its own connections."""

    async def run() -> T:
        own = Database(db.url)
        try:
            return await work(own)
        finally:
            await own.dispose()

    return await asyncio.to_thread(asyncio.run, run())
