"""The outbox and its dispatcher: committed messages are delivered once, later, or not at all."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot import scheduler as jobs
from bot.handlers import console
from bot.messages import Button, RecipientBlocked, Reply
from bot.services import outbox
from bot.services.dispatcher import MAX_ATTEMPTS, Dispatcher
from storage.db import Database
from storage.models import InteractionLog, OutboxMessage
from tests.conftest import PSEUDONYM_KEY, Chat, Clock

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
BOB = outbox.Recipient("fake", "bob")


class FakeChannel:
    """Records what it sends; can fail a number of times, or say the user blocked the bot."""

    name = "fake"

    def __init__(self, failures: int = 0, blocked: bool = False) -> None:
        self.sent: list[tuple[str, Reply]] = []
        self.failures, self.blocked = failures, blocked

    async def send(self, chat_id: str, reply: Reply) -> None:
        if self.blocked:
            raise RecipientBlocked("Forbidden: bot was blocked by the user")
        if self.failures:
            self.failures -= 1
            raise ConnectionError("network is unreachable")
        self.sent.append((chat_id, reply))


@pytest.fixture(autouse=True)
def clock() -> Clock:
    """Every test here starts at T0 (the program's one clock, moved by the tests)."""
    return Clock(T0)


def _dispatcher(db: Database, channel: FakeChannel) -> Dispatcher:
    return Dispatcher(db, {"fake": channel}, pseudonym_key=PSEUDONYM_KEY)


async def _enqueue(db: Database, text: str = "Xin chào", commit: bool = True,
                   recipient: outbox.Recipient = BOB, **kw) -> int | None:
    async with db.session() as s:
        new_id = await outbox.enqueue(s, recipient, Reply(text), **kw)
        if commit:
            await s.commit()
    return new_id


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list((await s.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_a_rolled_back_enqueue_sends_nothing(db):
    channel = FakeChannel()
    await _enqueue(db, commit=False)
    assert await _dispatcher(db, channel).dispatch_due() == 0
    assert channel.sent == [] and await _rows(db) == []


async def test_a_dedup_key_is_enqueued_once(db):
    assert await _enqueue(db, dedup_key="disclosure:7:user:3") is not None
    assert await _enqueue(db, "again", dedup_key="disclosure:7:user:3") is None
    channel = FakeChannel()
    assert await _dispatcher(db, channel).dispatch_due() == 1
    assert [reply.text for _, reply in channel.sent] == ["Xin chào"]


async def test_buttons_and_text_survive_the_round_trip(db):
    async with db.session() as s:
        await outbox.enqueue(s, BOB, Reply("Có phiên đối thoại mới", (Button("Đăng ký", "s:1"),)))
        await s.commit()
    channel = FakeChannel()
    await _dispatcher(db, channel).dispatch_due()
    assert channel.sent == [("bob", Reply("Có phiên đối thoại mới", (Button("Đăng ký", "s:1"),)))]


async def test_a_message_for_later_is_sent_when_due(db, clock):
    clock.now = T0
    await _enqueue(db, not_before=T0 + timedelta(hours=1))
    channel = FakeChannel()
    dispatcher = _dispatcher(db, channel)
    assert await dispatcher.dispatch_due() == 0
    clock.now = T0 + timedelta(minutes=59)
    assert await dispatcher.dispatch_due() == 0
    clock.now = T0 + timedelta(hours=1)
    assert await dispatcher.dispatch_due() == 1
    [row] = await _rows(db)
    assert (row.status, row.sent_at) == ("sent", T0 + timedelta(hours=1))


async def test_a_failure_is_retried_with_backoff_then_sent(db, clock):
    channel = FakeChannel(failures=1)
    dispatcher = _dispatcher(db, channel)
    await _enqueue(db, not_before=T0)
    assert await dispatcher.dispatch_due() == 0
    [row] = await _rows(db)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "ConnectionError: network is unreachable"
    assert row.not_before == T0 + timedelta(seconds=30)
    clock.now = T0 + timedelta(seconds=29)
    assert await dispatcher.dispatch_due() == 0
    clock.now = T0 + timedelta(seconds=30)
    assert await dispatcher.dispatch_due() == 1
    assert len(channel.sent) == 1


async def test_a_message_that_keeps_failing_ends_failed_not_in_a_loop(db, clock):
    channel = FakeChannel(failures=100)
    dispatcher = _dispatcher(db, channel)
    await _enqueue(db, not_before=T0)
    for _ in range(MAX_ATTEMPTS + 3):
        await dispatcher.dispatch_due()
        clock.now += timedelta(hours=2)
    [row] = await _rows(db)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert channel.failures == 100 - MAX_ATTEMPTS


async def test_a_blocked_recipient_is_marked_and_not_retried(db, clock):
    channel = FakeChannel(blocked=True)
    dispatcher = _dispatcher(db, channel)
    await _enqueue(db, not_before=T0)
    await dispatcher.dispatch_due()
    clock.now += timedelta(days=1)
    await dispatcher.dispatch_due()
    [row] = await _rows(db)
    assert (row.status, row.attempts) == ("blocked", 0)
    assert "blocked by the user" in row.last_error


async def test_after_a_restart_every_pending_row_is_sent_once(db):
    for i in range(3):
        await _enqueue(db, f"tin {i}", not_before=T0)
    # A crash left one row claimed but never marked.
    await _enqueue(db, "đang gửi dở", not_before=T0)
    async with db.session() as s:
        query = select(OutboxMessage).where(OutboxMessage.text == "đang gửi dở")
        stuck = (await s.exec(query)).one()
        stuck.status, stuck.claimed_at = "sending", T0 - timedelta(minutes=30)
        s.add(stuck)
        await s.commit()
    channel = FakeChannel()
    restarted = _dispatcher(db, channel)
    assert await restarted.dispatch_due() == 4
    assert await restarted.dispatch_due() == 0
    assert sorted(reply.text for _, reply in channel.sent) == [
        "tin 0", "tin 1", "tin 2", "đang gửi dở"]
    assert {row.status for row in await _rows(db)} == {"sent"}


async def test_two_dispatchers_at_once_never_send_a_row_twice(db):
    for i in range(40):
        await _enqueue(db, f"tin {i}", not_before=T0)
    channel = FakeChannel()
    first, second = _dispatcher(db, channel), _dispatcher(db, channel)
    first.batch = second.batch = 7
    counts = await asyncio.gather(first.dispatch_due(), second.dispatch_due())
    assert sum(counts) == 40
    assert sorted(reply.text for _, reply in channel.sent) == sorted(f"tin {i}" for i in range(40))


async def test_rows_for_a_channel_that_is_not_configured_wait(db):
    await _enqueue(db, recipient=outbox.Recipient("zalo", "z1"), not_before=T0)
    await _enqueue(db, not_before=T0)
    assert await _dispatcher(db, FakeChannel()).dispatch_due() == 1
    async with db.session() as s:
        assert await outbox.waiting_by_channel(s) == {"zalo": 1}


async def test_a_cancelled_message_is_not_sent(db, clock):
    row_id = await _enqueue(db, not_before=T0 + timedelta(hours=1))
    async with db.session() as s:
        assert await outbox.cancel(s, [row_id]) == 1
        await s.commit()
    clock.now = T0 + timedelta(hours=2)
    assert await _dispatcher(db, FakeChannel()).dispatch_due() == 0
    assert (await _rows(db))[0].status == "cancelled"


async def test_a_sent_message_is_in_the_interaction_log(db):
    await _enqueue(db, kind="status_notice", not_before=T0)
    await _dispatcher(db, FakeChannel()).dispatch_due()
    async with db.session() as s:
        [entry] = (await s.exec(select(InteractionLog))).all()
    assert (entry.direction, entry.kind, entry.channel, entry.text) == (
        "out", "status_notice", "fake", None)
    assert entry.user_ref and entry.user_ref != "bob"


async def test_the_running_dispatcher_wakes_as_soon_as_a_message_is_committed(db):
    channel = FakeChannel()
    dispatcher = Dispatcher(db, {"fake": channel}, pseudonym_key=PSEUDONYM_KEY)
    task = asyncio.create_task(dispatcher.run())
    try:
        await asyncio.sleep(0.1)  # idle: it would otherwise sleep for a minute
        await _enqueue(db, "ngay lập tức")
        for _ in range(100):
            if channel.sent:
                break
            await asyncio.sleep(0.02)
        assert [reply.text for _, reply in channel.sent] == ["ngay lập tức"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_the_outbox_job_is_a_plain_function_of_now(db):
    await _enqueue(db, not_before=T0 + timedelta(days=1))
    dispatcher = _dispatcher(db, FakeChannel())
    assert await jobs.deliver_outbox(dispatcher, now=T0) == 0
    assert await jobs.deliver_outbox(dispatcher, now=T0 + timedelta(days=1)) == 1


async def weekly_digest(now: datetime | None = None) -> int:
    """A stand-in for a feature's weekly job."""
    return 0


async def test_the_scheduler_has_the_jobs_in_the_communes_time_zone(db):
    scheduler = jobs.build("Asia/Ho_Chi_Minh")
    jobs.add_jobs(scheduler, _dispatcher(db, FakeChannel()))
    jobs.cron(scheduler, weekly_digest, "0 7 * * 1")
    assert {"deliver_outbox", "petition_digest", "session_reminders", "seal_log",
            "weekly_digest"} <= {job.id for job in scheduler.get_jobs()}
    digest = scheduler.get_job("petition_digest").trigger
    eight = digest.get_next_fire_time(None, datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    assert eight == datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
    tick = scheduler.get_job("deliver_outbox").trigger
    assert tick.interval == timedelta(seconds=jobs.OUTBOX_TICK_SECONDS)
    trigger = scheduler.get_job("weekly_digest").trigger
    monday = trigger.get_next_fire_time(None, datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    assert (monday.isoformat(), monday.utcoffset()) == ("2026-11-30T07:00:00+07:00",
                                                        timedelta(hours=7))


async def test_a_console_user_sees_messages_left_for_them_when_they_chat(engine, demo_db):
    await Chat(engine, user_id="alice").onboard()
    await _enqueue(demo_db, "Lịch tiếp dân tuần này", recipient=outbox.Recipient("console", "bob"))
    dispatcher = Dispatcher(demo_db, pseudonym_key=PSEUDONYM_KEY)
    alice_out = io.StringIO()
    await console.chat(engine, "alice", io.StringIO("/menu\n"), alice_out, dispatcher)
    assert "Lịch tiếp dân" not in alice_out.getvalue()
    bob_out = io.StringIO()
    dispatcher = Dispatcher(demo_db, pseudonym_key=PSEUDONYM_KEY)
    await console.chat(engine, "bob", io.StringIO(""), bob_out, dispatcher)
    assert bob_out.getvalue() == "Lịch tiếp dân tuần này\n\n"


def test_python_m_bot_chat_shows_waiting_messages(tmp_path: Path):
    db_path = tmp_path / "cli.db"

    async def prepare() -> None:
        db = Database(f"sqlite+aiosqlite:///{db_path}")
        await db.upgrade()
        # An answer left for the person (kind "reply"): the child process runs on the real
        # clock, and a notice would wait out the quiet hours at night (tests/test_quiet_hours.py).
        await _enqueue(db, "Thông báo cho Bình", recipient=outbox.Recipient("console", "binh"),
                       kind="reply")
        await db.dispose()

    asyncio.run(prepare())
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{db_path}",
           "DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot", "chat", "--user", "binh"], input="",
                          capture_output=True, text=True, env=env, timeout=60, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Thông báo cho Bình\n\n"


@pytest.mark.parametrize(("crontab", "first"), [
    ("0 7 * * 1", "2026-11-30T07:00"),       # Monday
    ("30 6 * * 0", "2026-11-29T06:30"),      # Sunday
    ("0 8 * * 7", "2026-11-29T08:00"),       # Sunday again
    ("0 18 * * 1-5", "2026-11-30T18:00"),    # weekdays
    ("0 7 1 * *", "2026-12-01T07:00"),       # the 1st of each month
    ("*/15 * * * 6", "2026-11-28T19:00"),    # Saturdays, every quarter hour (now)
])
def test_crontab_lines_mean_what_cron_means(crontab, first):
    trigger = jobs.cron_trigger(crontab, "Asia/Ho_Chi_Minh")
    after = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # Saturday 19:00 in Hà Nội
    assert trigger.get_next_fire_time(None, after).isoformat().startswith(first)


async def test_a_message_and_an_admin_row_carry_the_callers_now(db):
    from storage.repositories import InteractionLogs

    earlier = T0 - timedelta(days=3)
    async with db.session() as session:
        await outbox.enqueue(session, outbox.Recipient("fake", "bob"), Reply("Xin chào"),
                             now=earlier)
        InteractionLogs(session).admin("role_grant", "staff 1", "cli:test", now=earlier)
        await session.commit()
    [row] = await _rows(db)
    assert (row.created_at, row.not_before) == (earlier, earlier)
    async with db.session() as session:
        [entry] = await InteractionLogs(session).all()
    assert entry.at == earlier
