"""Quiet hours, 21:00–06:30 in Hà Nội: a non-urgent push to a person's private chat waits for
the morning (as broadcasts do); answers in the conversation and group chats do not wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.messages import Reply
from bot.services import groups, outbox
from bot.services.dispatcher import Dispatcher
from bot.services.session_reminders import send_due_reminders
from storage.db import Database
from tests.conftest import PSEUDONYM_KEY, Clock
from tests.test_sessions import announce, messages, people, register

TZ = "Asia/Ho_Chi_Minh"
HANOI = ZoneInfo(TZ)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in December 2026, Hà Nội time, as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=HANOI).astimezone(UTC)


class Recorder:
    """A channel that keeps what it was asked to send."""

    def __init__(self, name: str) -> None:
        self.name, self.sent = name, []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply.text))


def dispatcher(db: Database, channel: Recorder) -> Dispatcher:
    return Dispatcher(db, {channel.name: channel}, pseudonym_key=PSEUDONYM_KEY, timezone=TZ)


async def test_a_two_hours_before_reminder_of_a_0730_session_waits_until_0630(db):
    session_id = await announce(db, start=local(9, 7, 30), reminders=["2h"])
    [ann] = await people(db, 1)
    await register(db, session_id, ann)
    clock = Clock(local(9, 5, 30))
    assert await send_due_reminders(db, clock.now, TZ) == 1  # queued at 05:30 …
    console = Recorder("console")
    assert await dispatcher(db, console).dispatch_due() == 0  # … but not sent in the night
    [row] = await messages(db, "session_reminder")
    assert (row.status, row.not_before) == ("pending", local(9, 6, 30))
    clock.now = local(9, 6, 29)
    assert await dispatcher(db, console).dispatch_due() == 0
    clock.now = local(9, 6, 30)
    assert await dispatcher(db, console).dispatch_due() == 1
    assert console.sent[0][0] == ann.external_id and "07:30" in console.sent[0][1]


async def test_a_reminder_planned_for_2300_the_day_before_goes_at_0630(db):
    session_id = await announce(db, start=local(10, 14), reminders=["1d@23:00"])
    [ann] = await people(db, 1)
    await register(db, session_id, ann)
    clock = Clock(local(9, 23))
    assert await send_due_reminders(db, clock.now, TZ) == 1
    console = Recorder("console")
    assert await dispatcher(db, console).dispatch_due() == 0
    clock.now = local(10, 6, 30)
    assert await dispatcher(db, console).dispatch_due() == 1


async def test_answers_to_a_persons_own_message_and_group_chats_are_never_held(db):
    Clock(local(9, 22, 15))
    async with db.session() as session:
        await groups.link(session, "fake", "-100777", staff=True, actor="cli:test")
        await outbox.enqueue(session, outbox.Recipient("fake", "42"), Reply("Trả lời"),
                             kind="reply")
        await outbox.enqueue(session, outbox.Recipient("fake", "-100777"), Reply("Phản ánh mới"),
                             kind="staff")
        await outbox.enqueue(session, outbox.Recipient("fake", "42"), Reply("Đã trả lời"),
                             kind="petition")
        await session.commit()
    fake = Recorder("fake")
    assert await dispatcher(db, fake).dispatch_due() == 2
    assert sorted(text for _, text in fake.sent) == ["Phản ánh mới", "Trả lời"]
    [held] = [m for m in await messages(db) if m.status == "pending"]
    assert (held.text, held.not_before) == ("Đã trả lời", local(10, 6, 30))


async def test_in_the_daytime_a_push_goes_at_once(db):
    Clock(local(9, 6, 30) + timedelta(hours=12))  # 18:30
    async with db.session() as session:
        await outbox.enqueue(session, outbox.Recipient("fake", "42"), Reply("Đã trả lời"),
                             kind="petition")
        await session.commit()
    assert await dispatcher(db, Recorder("fake")).dispatch_due() == 1
