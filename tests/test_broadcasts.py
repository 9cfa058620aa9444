"""Broadcasts: who gets a notice, when (quiet hours, schedules, recurrence), cancelling,
a hamlet head's scope, and the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import scheduler
from bot.engine import Engine
from bot.messages import Reply
from bot.services import broadcasts, groups, roles, yearly_report
from bot.services.dispatcher import Dispatcher
from storage.db import Database
from storage.models import Broadcast, InteractionLog, OutboxMessage, User
from storage.repositories import Hamlets
from tests.conftest import PSEUDONYM_KEY, Chat, Clock

TZ = "Asia/Ho_Chi_Minh"
MONDAY_MORNING = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 07:00 in Hà Nội
NIGHT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 22:00 in Hà Nội


@pytest.fixture
def engine(demo_db: Database) -> Engine:
    Clock(MONDAY_MORNING)
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


async def hamlet_head(engine: Engine, db: Database, *group_chats: str) -> Chat:
    """A hamlet head of khu-1 (Khu Hòa Bình), its Telegram groups linked, at the main menu."""
    async with db.session() as session:
        await roles.grant(session, "console", "head", "hamlet_head", ["khu-1"], actor="test")
        for chat_id in group_chats:
            await groups.link(session, "telegram", chat_id, hamlet="khu-1", actor="test")
        await session.commit()
    head = Chat(engine, user_id="head")
    await head.onboard()
    return head


async def _opt_in(chat: Chat, hamlet: str) -> None:
    await chat.onboard(hamlet=hamlet)
    assert "bật “Thông báo khu dân cư” trong mục Cài đặt" in chat.text  # offered once
    await chat.press("Cài đặt")
    await chat.press("Thông báo khu dân cư")
    assert "Nhận thông báo khu dân cư tại đây: bật" in chat.text


async def _hamlet(db: Database, code: str) -> int:
    async with db.session() as session:
        return (await Hamlets(session).by_code(code)).id


async def _send(db: Database, now: datetime, **kw) -> Broadcast:
    defaults = {"text": "Thông báo lịch tiêm phòng dại cho chó, mèo.", "hamlet_ids": [],
                "audience": "both", "actor": "cli:test"}
    async with db.session() as session:
        item = await broadcasts.create(session, now=now, timezone=TZ, **(defaults | kw))
        await session.commit()
        return item


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        return list((await session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "broadcast_delivery").order_by(OutboxMessage.id))).all())


async def test_opted_in_residents_and_linked_groups_of_the_hamlet_get_it(engine, demo_db):
    await _opt_in(Chat(engine, user_id="a"), "Khu Hòa Bình")
    await _opt_in(Chat(engine, user_id="b"), "Khu Thống Nhất")
    await Chat(engine, user_id="c").onboard()  # Khu Hòa Bình, not opted in
    async with demo_db.session() as session:
        await groups.link(session, "telegram", "-500", hamlet="khu-1", actor="test")
        await groups.link(session, "telegram", "-600", hamlet="khu-2", actor="test")
        await session.commit()
    khu1 = await _hamlet(demo_db, "khu-1")
    await _send(demo_db, MONDAY_MORNING, hamlet_ids=[khu1])
    assert await scheduler.run_broadcasts(demo_db, TZ, MONDAY_MORNING) == 2
    assert sorted(r.chat_id for r in await _rows(demo_db)) == ["-500", "a"]
    assert await scheduler.run_broadcasts(demo_db, TZ, MONDAY_MORNING) == 0  # done: once

    await _send(demo_db, MONDAY_MORNING, audience="residents")  # all hamlets
    assert await scheduler.run_broadcasts(demo_db, TZ, MONDAY_MORNING) == 2
    assert sorted(r.chat_id for r in await _rows(demo_db))[-2:] == ["a", "b"]


async def test_private_chats_wait_for_the_morning_unless_urgent(engine, demo_db):
    await _opt_in(Chat(engine, user_id="a"), "Khu Hòa Bình")
    async with demo_db.session() as session:
        await groups.link(session, "telegram", "-500", hamlet="khu-1", actor="test")
        await session.commit()
    await _send(demo_db, NIGHT)
    await _send(demo_db, NIGHT, text="Khẩn: nước lũ dâng cao, di chuyển lên chỗ cao.",
                urgent=True)
    assert await scheduler.run_broadcasts(demo_db, TZ, NIGHT) == 4
    rows = await _rows(demo_db)
    assert {r.text.splitlines()[0] for r in rows} == {"UBND xã Chi Lăng thông báo:"}
    by_chat = {(r.chat_id, r.text.splitlines()[1][:5]): r.not_before for r in rows}
    assert by_chat[("a", "Thông")] == datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 06:30 local
    assert by_chat[("-500", "Thông")] <= NIGHT  # groups are not affected
    assert by_chat[("a", "Khẩn:")] <= NIGHT


async def test_scheduled_and_recurring_broadcasts(engine, demo_db):
    async with demo_db.session() as session:
        await groups.link(session, "telegram", "-500", hamlet="khu-1", actor="test")
        await session.commit()
    later = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    await _send(demo_db, MONDAY_MORNING, send_at=later, text="Họp thôn lúc 19h.")
    weekly = await _send(demo_db, MONDAY_MORNING + timedelta(minutes=1), cron="0 7 * * 1",
                         text="Nhắc đổ rác đúng giờ.")
    assert weekly.next_run_at == MONDAY_MORNING.replace(day=30)  # next Monday 07:00
    assert await scheduler.run_broadcasts(demo_db, TZ, MONDAY_MORNING) == 0
    assert await scheduler.run_broadcasts(demo_db, TZ, later) == 1
    almost = datetime(2026, 11, 29, 23, 59, tzinfo=UTC)  # Monday 30/11 06:59 in Hà Nội
    assert await scheduler.run_broadcasts(demo_db, TZ, almost) == 0
    seven = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert await scheduler.run_broadcasts(demo_db, TZ, seven) == 1
    assert await scheduler.run_broadcasts(demo_db, TZ, seven) == 0
    async with demo_db.session() as session:
        weekly = await session.get(Broadcast, weekly.id)
    assert (weekly.runs, weekly.status) == (1, "scheduled")
    assert weekly.next_run_at == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


async def test_bad_requests_are_refused_with_the_reason(engine, demo_db):
    for kw, message in [
        ({"cron": "every monday"}, "not a valid crontab line"),
        ({"cron": "0 7 * * 8"}, "not a valid crontab line"),
        ({"send_at": datetime(2026, 11, 1, tzinfo=UTC)}, "in the past"),
        ({"text": "   "}, "empty"),
        ({"text": "x" * 9000}, "the limit is 8000"),
        ({"audience": "everyone"}, "audience"),
    ]:
        with pytest.raises(broadcasts.BroadcastError, match=message):
            await _send(demo_db, MONDAY_MORNING, **kw)
    long_notice = await _send(demo_db, MONDAY_MORNING, text="Đoạn văn dài. " * 350)
    assert len(long_notice.text) > 4096  # accepted whole: channels split it, never cut it


async def test_a_hamlet_head_sends_only_to_their_own_hamlets(engine, demo_db):
    khu1, khu2 = await _hamlet(demo_db, "khu-1"), await _hamlet(demo_db, "khu-2")
    with pytest.raises(broadcasts.BroadcastError, match="not your hamlet"):
        await _send(demo_db, MONDAY_MORNING, hamlet_ids=[khu1, khu2], allowed_hamlets=[khu1])
    with pytest.raises(broadcasts.BroadcastError, match="own hamlets"):
        await _send(demo_db, MONDAY_MORNING, hamlet_ids=[], allowed_hamlets=[khu1])
    assert (await _send(demo_db, MONDAY_MORNING, hamlet_ids=[khu1],
                        allowed_hamlets=[khu1])).id


class Sink:
    name = "telegram"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append(chat_id)


async def test_cancel_stops_unsent_deliveries_and_sent_ones_are_logged(engine, demo_db):
    async with demo_db.session() as session:
        for chat in ("-500", "-501"):
            await groups.link(session, "telegram", chat, hamlet="khu-1", actor="test")
        await session.commit()
    first = await _send(demo_db, MONDAY_MORNING)
    assert await scheduler.run_broadcasts(demo_db, TZ, MONDAY_MORNING) == 2
    sink = Sink()
    dispatcher = Dispatcher(demo_db, {"telegram": sink}, pseudonym_key=PSEUDONYM_KEY)
    assert await dispatcher.dispatch_due() == 2
    async with demo_db.session() as session:
        progress = await broadcasts.progress(session, first.id)
        logged = (await session.exec(select(InteractionLog).where(
            InteractionLog.kind == "broadcast_delivery"))).all()
    assert progress == {"sent": 2} and len(logged) == 2

    second = await _send(demo_db, MONDAY_MORNING, text="Lịch cắt điện ngày mai.")
    await scheduler.run_broadcasts(demo_db, TZ, MONDAY_MORNING)
    async with demo_db.session() as session:
        item = await session.get(Broadcast, second.id)
        assert await broadcasts.cancel(session, item, "cli:test") == 2
        await session.commit()
        assert await broadcasts.progress(session, second.id) == {"cancelled": 2}
    assert await dispatcher.dispatch_due() == 0 and len(sink.sent) == 2
    async with demo_db.session() as session:
        figures = await yearly_report.compute(session, 2026, TZ, now=MONDAY_MORNING)
    assert figures.broadcasts == 2 and figures.delivery_rate == 1.0  # cancelled don't count
    assert figures.deliveries == {"sent": 2, "cancelled": 2}


async def test_blocked_residents_are_skipped(engine, demo_db):
    await _opt_in(Chat(engine, user_id="a"), "Khu Hòa Bình")
    async with demo_db.session() as session:
        user = (await session.exec(select(User).where(User.external_id == "a"))).one()
        user.blocked_at = MONDAY_MORNING
        await session.commit()
    await _send(demo_db, MONDAY_MORNING)
    assert await scheduler.run_broadcasts(demo_db, TZ, MONDAY_MORNING) == 0


def test_the_command_line(shell, capsys):
    from bot.services.commune_setup import DEMO_FILE

    assert shell(capsys, "init", str(DEMO_FILE))[0] == 0
    code, out, err = shell(capsys, "broadcast", "send", "--hamlet", "khu-1", "--text",
                           "Nhắc đổ rác", "--every", "0 7 * * 1")
    assert code == 0 and "broadcast 1 scheduled for" in out and "0 7 * * 1" in out
    code, out, err = shell(capsys, "broadcast", "send", "--all", "--text", "x", "--every",
                           "61 7 * * *")
    assert code == 1 and "not a valid crontab line" in err
    code, out, err = shell(capsys, "broadcast", "send", "--hamlet", "khu-9", "--text", "x")
    assert code == 1 and "unknown hamlet" in err
    code, out, err = shell(capsys, "broadcast", "list")
    assert "scheduled" in out and "0 7 * * 1" in out
    assert shell(capsys, "broadcast", "pause", "1")[0] == 0
    assert shell(capsys, "broadcast", "resume", "1")[0] == 0
    code, out, err = shell(capsys, "broadcast", "cancel", "1")
    assert code == 0 and "cancelled" in out
    code, out, err = shell(capsys, "broadcast", "pause", "1")
    assert code == 1 and "cancelled" in err



async def test_a_hamlet_head_sends_a_notice_from_the_chat(engine, demo_db):
    head = await hamlet_head(engine, demo_db, "-500")
    await _opt_in(Chat(engine, user_id="a"), "Khu Hòa Bình")
    assert "Gửi thông báo" in head.labels and "Đăng thông tin công khai" not in head.labels
    await head.press("Gửi thông báo")
    await head.send("Tối nay 19h họp khu bàn việc làm đường bê tông.")
    assert head.labels[:2] == ["Khu Hòa Bình", "Xong"]  # only their own hamlet
    await head.press("Xong")
    assert "ít nhất một khu dân cư" in head.text
    await head.press("Khu Hòa Bình")
    assert head.last[0].edit and head.labels[0] == "✓ Khu Hòa Bình"
    await head.press("Xong")
    await head.press("Cả hai")
    await head.press("Gửi ngay")
    assert "Gửi đến: Khu Hòa Bình" in head.text
    await head.press("Gửi")
    assert "đang được gửi dần đến 2 người nhận" in head.text
    assert sorted(r.chat_id for r in await _rows(demo_db)) == ["-500", "a"]

    await head.send("/menu")
    await head.press("Gửi thông báo")
    await head.press("Thông báo đã gửi")
    assert "Số 1: đã gửi 0/2, đang chờ gửi" in head.text
    await head.press("Hủy thông báo số 1")
    assert "Đã hủy; 2 tin nhắn không được gửi." in head.text


async def test_residents_cannot_send_notices(chat: Chat, demo_db):
    await chat.onboard()
    assert "Gửi thông báo" not in chat.labels
    await chat.send(payload="go:notice")
    assert "Chỉ trưởng thôn" in chat.text


class ProgressSink(Sink):
    """A channel that can edit: records each progress line and the message it replaced."""

    name = "console"

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, str, str | None]] = []

    async def post_progress(self, chat_id: str, text: str, ref: str | None) -> str:
        self.lines.append((chat_id, text, ref))
        return ref or "msg-1"


async def test_the_sender_sees_progress_in_one_edited_message(engine, demo_db):
    head = await hamlet_head(engine, demo_db, "-500", "-501")
    await head.press("Gửi thông báo")
    await head.send("Sáng mai cắt điện từ 7h đến 11h để sửa đường dây.")
    await head.press("Khu Hòa Bình")
    await head.press("Xong")
    await head.press("Nhóm chat của khu dân cư")
    await head.press("Gửi ngay")
    await head.press("Gửi")
    console, telegram = ProgressSink(), Sink()
    dispatcher = Dispatcher(demo_db, {"console": console, "telegram": telegram},
                            pseudonym_key=PSEUDONYM_KEY)
    assert await scheduler.broadcast_progress(dispatcher) == 1
    assert console.lines == [("head", "Thông báo số 1: đã gửi 0/2…", None)]
    assert await dispatcher.dispatch_due() == 2
    assert await scheduler.broadcast_progress(dispatcher) == 1
    assert console.lines[-1] == (
        "head", "Thông báo số 1 đã gửi xong: 2/2, không gửi được 0.", "msg-1")  # edited
    assert await scheduler.broadcast_progress(dispatcher) == 0
    assert console.sent == []  # progress lines are not separate messages


async def test_a_hamlet_head_schedules_a_notice_for_tomorrow_in_words(engine, demo_db):
    head = await hamlet_head(engine, demo_db, "-500")
    await head.press("Gửi thông báo")
    await head.send("Sáng mai 7h họp khu về đường bê tông.")
    await head.press("Khu Hòa Bình")
    await head.press("Xong")
    await head.press("Cả hai")
    await head.send("bay gio")  # neither a button nor a day
    assert "hoặc «mai 7h»" in head.text
    await head.send("mai 7h")  # Monday 07:00 now: Tuesday 24/11
    assert "Thời gian gửi: 07:00, thứ Ba, 24/11/2026" in head.text
    await head.press("Gửi")
    async with demo_db.session() as session:
        notice = (await session.exec(select(Broadcast))).one()
    assert notice.next_run_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
