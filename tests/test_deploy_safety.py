"""Several processes on one database: migrations under a lock, one pseudonym key, jobs that
must run once run once (the progress line is posted once). Two Database objects stand for
two processes (separate connection pools); the lock tests need PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from bot import scheduler
from bot.pseudonym import KeyMismatch, check_key, fingerprint
from bot.services.dispatcher import Dispatcher
from storage.db import Database, head_revision
from tests.conftest import PSEUDONYM_KEY, Clock, schema_changed
from tests.test_broadcasts import MONDAY_MORNING, ProgressSink, Sink, hamlet_head


def _postgres_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite serves one process")


async def test_two_processes_starting_on_an_old_schema_both_come_up(db: Database):
    _postgres_only(db)
    await db.drop_all()
    schema_changed()
    other = Database(db.url)
    try:
        await asyncio.gather(db.upgrade(), other.upgrade())  # one migrates, the other waits
    finally:
        await other.dispose()
    async with db.engine.connect() as conn:
        versions = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all()
    assert [v for (v,) in versions] == [head_revision()]


async def test_a_process_with_another_pseudonym_key_refuses_to_start(db: Database):
    async with db.session() as session:
        await check_key(session, PSEUDONYM_KEY)  # the first start records it
        await session.commit()
    async with db.session() as session:
        await check_key(session, PSEUDONYM_KEY)  # the same key: fine
        with pytest.raises(KeyMismatch) as refused:
            await check_key(session, b"another host's key")
    message = str(refused.value)
    assert "PSEUDONYM_KEY" in message and fingerprint(PSEUDONYM_KEY) in message
    assert PSEUDONYM_KEY.decode() not in message  # the key itself is never shown


async def test_a_job_runs_in_one_process_at_a_time(db: Database):
    _postgres_only(db)
    other = Database(db.url)
    runs: list[str] = []

    async def job(name: str, now: object = None) -> int:
        runs.append(name)
        await asyncio.sleep(0.2)
        return 1

    job.__name__ = "some_job"
    await other.ping()  # its first connection is made before the race
    try:
        counts = await asyncio.gather(scheduler.once(db, job)("first"),
                                      scheduler.once(other, job)("second"))
        assert sorted(counts) == [0, 1] and len(runs) == 1  # the other skipped its firing
        assert await scheduler.once(other, job)("later") == 1  # the lock was let go
    finally:
        await other.dispose()


class SlowProgressSink(ProgressSink):
    async def post_progress(self, chat_id: str, text: str, ref: str | None) -> str:
        await asyncio.sleep(0.1)  # the API takes its time: another process runs meanwhile
        return await super().post_progress(chat_id, text, ref)


async def test_the_progress_line_is_posted_once_by_three_processes(engine, demo_db):
    Clock(MONDAY_MORNING)
    head = await hamlet_head(engine, demo_db, "-500")
    await head.press("Gửi thông báo")
    await head.send("Sáng mai cắt điện từ 7h đến 11h để sửa đường dây.")
    for label in ("Khu Hòa Bình", "Xong", "Nhóm chat của khu dân cư", "Gửi ngay", "Gửi"):
        await head.press(label)
    console = SlowProgressSink()
    # SQLite serves one process: there the three runs share its connections
    others = [] if demo_db.is_sqlite else [demo_db, *(Database(demo_db.url) for _ in "ab")]
    try:
        jobs = [scheduler.once(db, scheduler.broadcast_progress)(Dispatcher(
            db, {"console": console, "telegram": Sink()}, pseudonym_key=PSEUDONYM_KEY))
            for db in (others or [demo_db] * 3)]
        await asyncio.gather(*jobs)
    finally:
        for other in others[1:]:
            await other.dispose()
    assert console.lines == [("head", "Thông báo số 1: đã gửi 0/1…", None)]  # not 2 or 3
