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
SCAN = 100_000  # rows read at most for a page filtered by text, hamlet or channel only
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


@dataclass(frozen=True)
class Page:
    """One page of rows and where the next one starts (`before`, None at the end);
    `window` when the search stopped at the scan window, not at a full page."""

    rows: list[InteractionLog]
    before: int | None
    window: bool = False


async def page(session: AsyncSession, wanted: LogFilter, timezone: str, *,
               before: int | None = None, size: int = PAGE, scan: int = SCAN) -> Page:
    """One page of filtered rows, newest first.

    Filters with no index of their own (text, hamlet, channel), unless narrowed by kind or
    actor, look at `scan` rows by id at most: a word found nowhere would otherwise read the
    whole log. The page then offers to search on, older.
    """
    where = conditions(wanted, timezone) + await _id_window(session, wanted, timezone)
    if before is not None:
        where.append(col(InteractionLog.id) < before)
    low = None
    if (wanted.q or wanted.hamlet or wanted.channel) and not (wanted.kind or wanted.actor):
        top = before if before is not None else (await session.exec(
            select(sa.func.max(InteractionLog.id)))).one() or 0
        low = top - scan
        where.append(col(InteractionLog.id) > low)
    rows = list((await session.exec(
        select(InteractionLog).where(*where).order_by(col(InteractionLog.id).desc())
        .limit(size + 1))).all())
    if len(rows) > size:
        return Page(rows[:size], rows[size - 1].id)
    if low is not None and low > 0:
        return Page(rows, low + 1, window=True)
    return Page(rows, None)


@dataclass(frozen=True)
class ChainState:
    """How far the chain is sealed and when it was last checked."""

    sealed_to: int
    unsealed: int
    last_check: InteractionLog | None


async def chain_state(session: AsyncSession) -> ChainState:
    """The chain's state for the log page's header. Rows are sealed in id order, so the
    rows waiting are those after the last sealed one: counted from the ids, not row by row
    (about right when ids skip, which only a failed insert makes them do)."""
    last = (await session.exec(
        select(InteractionLog.chain_seq, InteractionLog.id)
        .where(col(InteractionLog.chain_seq).is_not(None))
        .order_by(col(InteractionLog.chain_seq).desc()).limit(1))).first()
    newest = (await session.exec(select(sa.func.max(InteractionLog.id)))).one() or 0
    sealed_to, last_id = last if last else (0, 0)
    checked = (await session.exec(
        select(InteractionLog).where(InteractionLog.kind == VERIFIED_KIND)
        .order_by(col(InteractionLog.id).desc()).limit(1))).first()
    return ChainState(sealed_to, max(newest - last_id, 0), checked)
