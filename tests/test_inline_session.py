"""The session API the code base awaits works alike on SQLite (run in place) and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from storage.db import Database
from storage.models import InteractionLog


async def test_a_sessions_connection_offers_the_async_calls(db: Database):
    async with db.session() as session:
        connection = await session.connection()
        assert (await connection.exec_driver_sql("SELECT 1")).scalar() == 1
        assert await connection.scalar(select(1)) == 1
        assert (await connection.execute(select(1))).scalar() == 1


async def test_rows_stream_with_async_for_and_uncommitted_work_is_dropped(db: Database):
    async with db.session() as session:
        session.add_all([InteractionLog(channel="test", direction="in", kind=f"k{i}")
                         for i in range(2500)])
        await session.commit()
        kinds = [kind async for kind in await session.stream_scalars(
            select(InteractionLog.kind).order_by(InteractionLog.id))]
        rows = [row async for row in await session.stream(select(InteractionLog.id))]
    assert kinds == [f"k{i}" for i in range(2500)] and len(rows) == 2500
    async with db.session() as session:
        session.add(InteractionLog(channel="test", direction="in", kind="never"))
        await session.flush()  # written in the transaction, then closed without a commit
    async with db.session() as session:
        never = (await session.exec(select(InteractionLog).where(
            InteractionLog.kind == "never"))).all()
    assert never == []
