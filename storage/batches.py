"""Group commit for SQLite: units of work that wait for the one writer run together.

SQLite takes one writer at a time, so under load the engine's turns queue for it anyway.
`Batches.run` lets the turns that are waiting share one transaction, run one after the
other and commit once: a session, a connection and a commit per batch instead of per turn
(each costs about as much as a small turn's own statements). Nobody's result is handed
back before that commit, so "in the database before the bot says so" still holds.

When one unit fails, the batch's transaction is rolled back and the others are run again,
each in its own transaction; the failed one gets its exception. Units must therefore be
safe to run again: the engine's turns are (their replies are not sent until they return).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
Unit = Callable[[AsyncSession], Awaitable[Any]]
MAX_BATCH = 64


class Batches:
    """Runs units of work (functions of a session that do not commit) in shared
    transactions; `run` returns once the unit's writes are committed."""

    def __init__(self, db: Database, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.max_batch = max_batch
        self._waiting: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def run(self, unit: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `unit` in a transaction (maybe shared) and return its result once committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((unit, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="shared-transactions")
        return await future

    async def _work(self) -> None:
        batch: list[tuple[Unit, asyncio.Future[Any]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: len(batch)]
                batch = [(unit, future) for unit, future in batch if not future.done()]
                if len(batch) == 1 or not await self._together(batch):
                    for unit, future in batch:
                        await self._alone(unit, future)
        finally:  # cancelled (shutdown): nobody may wait for ever
            for _unit, future in batch + self._waiting:
                if not future.done():
                    future.cancel()

    async def _together(self, batch: list[tuple[Unit, asyncio.Future[Any]]]) -> bool:
        """All units in one transaction; False (nothing kept) when any of them failed."""
        results = []
        try:
            async with self.db.unit_of_work() as session:
                for unit, _future in batch:
                    results.append(await unit(session))
                await session.commit()
        except Exception:
            log.info("a shared transaction failed; its %s units run one by one", len(batch))
            return False
        for (_unit, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
        return True

    async def _alone(self, unit: Unit, future: asyncio.Future[Any]) -> None:
        try:
            async with self.db.unit_of_work() as session:
                result = await unit(session)
                await session.commit()
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)
