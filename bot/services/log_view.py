"""The interaction log as staff browse it: filters, keyset pages, the chain's state.

Pages go newest first by id (ids grow with time) and continue "before row N", so page 1000
costs what page 1 costs. A date range becomes an id range through the index on `at`, and
the kind and actor filters have their own (kind, id) and (actor, id) indexes: a filtered
first page reads about one page of rows, not the million.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.exports import bounds
from storage.models import InteractionLog

PAGE = 50
VERIFIED_KIND = "log_verified"


@dataclass(frozen=True)
class LogFilter:
    """What the staff asked to see; empty fields filter nothing."""

    start: date | None = None
    end: date | None = None
    kind: str = ""
    channel: str = ""
    hamlet: str = ""
    actor: str = ""
    q: str = ""

    @classmethod
    def parse(cls, query: Any) -> LogFilter:
        """From a page's query string (bad dates are ignored, words are cut short)."""
        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(query.get(name, ""))
            except ValueError:
                return None
        words = {f.name: " ".join(str(query.get(f.name, "")).split())[:100]
                 for f in fields(cls) if f.name not in ("start", "end")}
        return cls(start=day("start"), end=day("end"), **words)

    def params(self) -> dict[str, str]:
        """The filter as query parameters (for links to the next page and downloads)."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) not in (None, "")}


def conditions(wanted: LogFilter, timezone: str) -> list[Any]:
    """SQL conditions selecting the filtered rows (used by the page and the downloads)."""
    where: list[Any] = []
    if wanted.start or wanted.end:
        first, after = bounds(wanted.start or date(2000, 1, 1), wanted.end or date(9998, 12, 31),
                              timezone)
        where += [col(InteractionLog.at) >= first, col(InteractionLog.at) < after]
    for name in ("kind", "channel", "actor"):
        if value := getattr(wanted, name):
            where.append(getattr(InteractionLog, name) == value)
    if wanted.hamlet:
        where.append(InteractionLog.hamlet_code == wanted.hamlet)
    if wanted.q:
        escaped = wanted.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(col(InteractionLog.text).ilike(f"%{escaped}%", escape="\\"))
    return where


async def _id_window(session: AsyncSession, wanted: LogFilter, timezone: str
                     ) -> list[Any]:
    """The date range as an id range, found through the index on `at`."""
    if not (wanted.start or wanted.end):
        return []
    first, after = bounds(wanted.start or date(2000, 1, 1), wanted.end or date(9998, 12, 31),
                          timezone)
    low = (await session.exec(select(InteractionLog.id).where(
        col(InteractionLog.at) >= first).order_by(col(InteractionLog.at)).limit(1))).first()
    high = (await session.exec(select(InteractionLog.id).where(
        col(InteractionLog.at) < after).order_by(col(InteractionLog.at).desc()).limit(1)
    )).first()
    if low is None or high is None:
        return [sa.false()]
    return [col(InteractionLog.id) >= low, col(InteractionLog.id) <= high]


async def page(session: AsyncSession, wanted: LogFilter, timezone: str, *,
               before: int | None = None, size: int = PAGE
               ) -> tuple[list[InteractionLog], int | None]:
    """One page of filtered rows, newest first, and the id to continue before (or None)."""
    where = conditions(wanted, timezone) + await _id_window(session, wanted, timezone)
    if before is not None:
        where.append(col(InteractionLog.id) < before)
    rows = list((await session.exec(
        select(InteractionLog).where(*where).order_by(col(InteractionLog.id).desc())
        .limit(size + 1))).all())
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)


@dataclass(frozen=True)
class ChainState:
    """How far the chain is sealed and when it was last checked."""

    sealed_to: int
    unsealed: int
    last_check: InteractionLog | None


async def chain_state(session: AsyncSession) -> ChainState:
    """The chain's state for the log page's header."""
    sealed = (await session.exec(select(sa.func.max(InteractionLog.chain_seq)))).one() or 0
    unsealed = (await session.exec(
        select(sa.func.count()).select_from(InteractionLog)
        .where(col(InteractionLog.chain_seq).is_(None)))).one()
    last = (await session.exec(
        select(InteractionLog).where(InteractionLog.kind == VERIFIED_KIND)
        .order_by(col(InteractionLog.id).desc()).limit(1))).first()
    return ChainState(sealed, unsealed, last)

