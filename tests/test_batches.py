"""Group commit: waiting units share a transaction, a failing unit costs nobody else."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.messages import Inbound
from storage.batches import Batches
from storage.db import Database
from storage.models import InteractionLog, User
from tests.conftest import Chat


async def _kinds(db: Database) -> set[str]:
    async with db.session() as session:
        return set((await session.exec(select(InteractionLog.kind))).all())


def _count_commits(db: Database) -> list[int]:
    commits = [0]
    target = db.sync_engine if db.is_sqlite else db.engine.sync_engine

    def counted(_connection: object) -> None:
        commits[0] += 1

    event.listen(target, "commit", counted)
    return commits


def _writes(kind: str, fail: bool = False):
    async def unit(session) -> str:
        session.add(InteractionLog(channel="test", direction="in", kind=kind))
        await session.flush()
        if fail:
            raise ValueError(f"{kind} failed")
        return kind
    return unit


async def test_waiting_units_share_commits_and_all_are_kept(db: Database):
    batches = Batches(db)
    commits = _count_commits(db)
    kinds = [f"u{i}" for i in range(40)]
    results = await asyncio.gather(*(batches.run(_writes(k)) for k in kinds))
    assert results == kinds
    assert await _kinds(db) == set(kinds)
    assert 1 <= commits[0] < 10  # 40 units, a few commits


async def test_a_failing_unit_fails_alone(db: Database):
    batches = Batches(db)
    runs = [batches.run(_writes(f"ok{i}")) for i in range(5)]
    runs.insert(2, batches.run(_writes("bad", fail=True)))
    results = await asyncio.gather(*runs, return_exceptions=True)
    assert isinstance(results[2], ValueError)
    assert [r for r in results if not isinstance(r, Exception)] == [f"ok{i}" for i in range(5)]
    assert await _kinds(db) == {f"ok{i}" for i in range(5)}


async def test_a_cancelled_worker_leaves_nobody_waiting(db: Database):
    batches = Batches(db)
    started = asyncio.Event()

    async def slow(session) -> None:
        started.set()
        await asyncio.sleep(10)

    first = asyncio.ensure_future(batches.run(slow))
    second = asyncio.ensure_future(batches.run(_writes("later")))
    await started.wait()
    batches._worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(first, 2)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(second, 2)


async def test_every_answer_is_committed_before_it_is_returned(engine, demo_db: Database):
    """Many people at once: when the engine answers one, their row is already stored."""

    async def first_contact(user_id: str) -> bool:
        replies = await engine.handle(Inbound("telegram", user_id, text="/start",
                                              command="start"))
        assert replies
        async with demo_db.session() as session:
            query = select(User).where(User.channel == "telegram", User.external_id == user_id)
            return (await session.exec(query)).first() is not None

    assert all(await asyncio.gather(*(first_contact(f"b{i}") for i in range(30))))


async def test_a_broken_turn_among_many_costs_only_its_owner(engine, demo_db: Database,
                                                          monkeypatch):
    """One step raising inside a shared transaction: the others' answers and state stay."""
    from bot.flows import menu

    real = menu.open_menu

    async def broken_for_one(ctx):
        if ctx.msg.user_id == "victim":
            raise RuntimeError("boom")
        return await real(ctx)

    people = [f"p{i}" for i in range(8)]
    for person in [*people, "victim"]:
        await Chat(engine, "console", person).onboard()
    monkeypatch.setattr(menu, "open_menu", broken_for_one)
    logged_before = await _replies_logged(demo_db)
    answers = await asyncio.gather(*(engine.handle(Inbound("console", p, text="menu"))
                                     for p in [*people, "victim"]))
    assert "Xin lỗi" in answers[-1][0].text
    assert all("Xin lỗi" not in a[0].text and a[0].buttons for a in answers[:-1])
    assert await _replies_logged(demo_db) == logged_before + 8  # committed, not rolled back


async def _replies_logged(db: Database) -> int:
    async with db.session() as session:
        query = select(InteractionLog).where(InteractionLog.kind == "reply")
        return len((await session.exec(query)).all())

