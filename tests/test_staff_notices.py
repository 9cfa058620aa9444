"""Notices and sessions as staff and hamlet heads run them from the chat: the audience in
numbers and a warning before sending to nobody, the urgent choice, the sender's first line,
a session's invitation reaching residents, the weekend/holiday/night rule, and Vietnamese
dates in /export and /report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from sqlmodel import select

from bot.engine import Engine
from bot.messages import Reply
from bot.services import groups, roles
from bot.services import session_rules as rules
from bot.services import sessions as sessions_service
from bot.services.dispatcher import Dispatcher
from bot.workdays import NATIONAL, Calendar
from storage.db import Database
from storage.models import Broadcast, OutboxMessage
from tests.conftest import PSEUDONYM_KEY, Chat, Clock

TZ = "Asia/Ho_Chi_Minh"
MONDAY_MORNING = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 07:00 in Hà Nội
NIGHT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 22:00 in Hà Nội
STAFF_GROUP = "-100"


class Recorder:
    """A channel that keeps what it was asked to send."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[tuple[str, Reply]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply))

    def to(self, chat_id: str) -> list[Reply]:
        return [reply for chat, reply in self.sent if chat == chat_id]


def _dispatcher(db: Database, *channels: Recorder) -> Dispatcher:
    return Dispatcher(db, {c.name: c for c in channels}, pseudonym_key=PSEUDONYM_KEY)


async def _opt_in(chat: Chat, hamlet: str = "Khu Hòa Bình") -> None:
    await chat.onboard(hamlet=hamlet)
    await chat.press("Cài đặt")
    await chat.press("Thông báo khu dân cư")
    assert "Nhận thông báo khu dân cư tại đây: bật" in chat.text


async def _link_group(db: Database, chat_id: str = "-500", hamlet: str = "khu-1") -> None:
    async with db.session() as session:
        await groups.link(session, "telegram", chat_id, hamlet=hamlet, actor="test")
        await session.commit()


async def _broadcasts(db: Database) -> list[Broadcast]:
    async with db.session() as session:
        return list((await session.exec(select(Broadcast))).all())


# --- notices ----------------------------------------------------------------------------------


async def test_a_hamlet_notice_with_no_recipients_is_warned_before_it_is_sent(demo_db):
    Clock(MONDAY_MORNING)
    engine = Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)
    head = Chat(engine, user_id="truongkhu")  # hamlet head of Khu Hòa Bình (demo file)
    await head.onboard()
    await head.press("Gửi thông báo")
    await head.send("Tối nay 19h họp khu bàn việc làm đường bê tông.")
    await head.press("Khu Hòa Bình")
    await head.press("Xong")
    await head.press("Cả hai")
    await head.press("Gửi ngay")
    assert "Trưởng Khu Hòa Bình thông báo:\nTối nay 19h họp khu" in head.text
    assert "• 0 nhóm chat khu dân cư đã liên kết" in head.text
    assert "• 0 người dân đăng ký nhận thông báo khu dân cư" in head.text
    assert "⚠️ Thông báo này sẽ không đến được ai" in head.text
    assert "Gửi" not in head.labels
    assert head.labels == ["Đổi người nhận", "Đổi khu dân cư", "Hủy"]

    await _opt_in(Chat(engine, user_id="a"))  # a resident of the hamlet turns notices on
    await head.press("Đổi người nhận")
    await head.press("Nhóm chat của khu dân cư")  # still nobody: no group is linked
    assert "⚠️ Thông báo này sẽ không đến được ai" in head.text
    await head.press("Đổi người nhận")
    await head.press("Người dân đăng ký nhận thông báo")
    assert "• 1 người dân đăng ký nhận thông báo khu dân cư" in head.text
    assert "không đến được ai" not in head.text and "nhóm chat" not in head.text
    assert head.labels[0] == "Gửi"
    async with demo_db.session() as session:  # a Zalo group: the hamlet head forwards it there
        await groups.link(session, "zalo", "zg-1", hamlet="khu-1", actor="test")
        await session.commit()
    await head.press("Đổi người nhận")
    await head.press("Cả hai")
    assert "• 1 nhóm chat khu dân cư đã liên kết\n  (nhóm Zalo: 1 trưởng thôn/khu chuyển " \
           "tiếp vào nhóm)\n• 1 người dân" in head.text
    await head.press("Hủy")
    assert "Chưa gửi" in head.text and await _broadcasts(demo_db) == []


async def test_an_urgent_notice_at_22_00_is_delivered_at_once(demo_db):
    clock = Clock(NIGHT)
    engine = Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)
    await _opt_in(Chat(engine, user_id="a"))
    staff = Chat(engine, user_id="canbo")
    await staff.onboard()

    async def notice(text: str, *presses: str) -> None:
        await staff.press("Gửi thông báo")
        await staff.send(text)
        await staff.press("Tất cả khu dân cư")
        await staff.press("Người dân đăng ký nhận thông báo")
        for label in presses:
            await staff.press(label)

    await notice("Lịch tiêm phòng dại cho chó, mèo sáng thứ Bảy.", "Gửi ngay")
    assert "ban đêm, tin nhắn riêng được gửi lúc 06:30" in staff.text
    await staff.press("Gửi")
    await notice("Khẩn: nước lũ dâng cao, bà con khu trũng di chuyển lên chỗ cao.",
                 "Khẩn: gửi ngay, kể cả ban đêm")
    assert "Chỉ dùng khi thật sự khẩn cấp" in staff.text  # asked to confirm
    await staff.press("Có, đây là tin khẩn")
    assert "ngay bây giờ — tin KHẨN, gửi cả ban đêm" in staff.text
    assert "UBND xã Chi Lăng thông báo:\nKhẩn: nước lũ" in staff.text
    await staff.press("Gửi")
    assert "đang được gửi dần đến 1 người nhận" in staff.text

    console = Recorder("console")
    dispatcher = _dispatcher(demo_db, console)
    assert await dispatcher.dispatch_due() == 1  # 22:00: only the urgent one
    [urgent] = console.to("a")
    assert urgent.text == ("UBND xã Chi Lăng thông báo:\nKhẩn: nước lũ dâng cao, bà con khu "
                           "trũng di chuyển lên chỗ cao.")
    clock.now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 06:30 in Hà Nội
    assert await dispatcher.dispatch_due() == 1
    assert console.to("a")[-1].text.endswith("Lịch tiêm phòng dại cho chó, mèo sáng thứ Bảy.")
    assert [b.urgent for b in await _broadcasts(demo_db)] == [False, True]


# --- dialogue sessions ------------------------------------------------------------------------


async def _new_session(staff: Chat, start: str) -> None:
    await staff.press("Quản lý hội nghị đối thoại")
    await staff.press("Thông báo hội nghị mới")
    await staff.send("Đối thoại về nước sạch")
    await staff.send(start)
    await staff.send("Hội trường UBND xã")
    await staff.send("40")
    await staff.press("Bỏ qua")


async def test_announcing_a_session_sends_the_invitation_to_residents(demo_db):
    Clock(MONDAY_MORNING)
    engine = Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)
    resident = Chat(engine, user_id="a")
    await _opt_in(resident)
    await _link_group(demo_db)
    staff = Chat(engine, user_id="canbo")
    await staff.onboard()
    await _new_session(staff, "09/12/2026 08:00")  # a Wednesday, 16 days ahead
    assert "Giấy mời được gửi đến tất cả khu dân cư:" in staff.text
    assert "• 1 nhóm chat khu dân cư đã liên kết" in staff.text
    assert "• 1 người dân đăng ký nhận thông báo khu dân cư" in staff.text
    assert "⚠️" not in staff.text
    await staff.press("Thông báo và mời người dân")
    assert "Đã thông báo hội nghị số 1: giấy mời đang được gửi đến 2 người nhận" in staff.text
    assert "Đã thông báo ngày 23/11/2026" in staff.text
    assert "Thông báo cho người dân" not in staff.labels

    console, telegram = Recorder("console"), Recorder("telegram")
    assert await _dispatcher(demo_db, console, telegram).dispatch_due() == 2
    [invitation] = console.to("a")
    lines = invitation.text.splitlines()
    assert lines[0] == "UBND xã Chi Lăng thông báo:"
    assert lines[1] == ("Trân trọng kính mời bà con dự buổi đối thoại với lãnh đạo xã: "
                        "“Đối thoại về nước sạch”.")
    assert "📍 Hội trường UBND xã" in lines and "gõ mã s1" in invitation.text
    assert [b.label for b in invitation.buttons] == ["Xem và đăng ký"]
    [in_group] = telegram.to("-500")
    assert in_group.buttons == () and "Trân trọng kính mời" in in_group.text

    await resident.send(payload=invitation.buttons[0].payload)
    assert "Đối thoại về nước sạch" in resident.text and "Đăng ký" in resident.labels


async def test_a_saved_session_says_it_is_not_announced_until_staff_announce_it(demo_db):
    Clock(MONDAY_MORNING)
    engine = Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)
    staff = Chat(engine, user_id="canbo")
    await staff.onboard()
    await _new_session(staff, "09/12/2026 08:00")
    await staff.press("Lưu, thông báo sau")
    assert "Đã lưu hội nghị số 1 nhưng CHƯA thông báo" in staff.text
    assert "⚠️ Chưa thông báo: chưa người dân nào được báo." in staff.text
    await _opt_in(Chat(engine, user_id="a"))
    await staff.send("s1")
    await staff.press("Thông báo cho người dân")
    assert "• 1 người dân đăng ký nhận thông báo khu dân cư" in staff.text
    await staff.press("Thông báo và mời người dân")
    assert "Đã thông báo hội nghị số 1: giấy mời đang được gửi đến 1 người nhận" in staff.text
    async with demo_db.session() as session:
        [row] = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "broadcast_delivery"))).all()
    assert row.chat_id == "a" and "Đối thoại về nước sạch" in row.text


async def test_an_invitation_held_for_the_morning_is_withdrawn_when_the_session_is_cancelled(
    demo_db,
):
    clock = Clock(NIGHT)  # announced at 22:00: private chats get it at 06:30
    engine = Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)
    await _opt_in(Chat(engine, user_id="a"))
    staff = Chat(engine, user_id="canbo")
    await staff.onboard()
    await _new_session(staff, "09/12/2026 08:00")
    await staff.press("Thông báo và mời người dân")
    assert "giấy mời đang được gửi đến 1 người nhận" in staff.text
    async with demo_db.session() as session:
        await sessions_service.cancel_session(session, 1, actor="cli:test", timezone=TZ)
        await session.commit()
    clock.now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 06:30 in Hà Nội
    console = Recorder("console")
    await _dispatcher(demo_db, console).dispatch_due()
    assert console.to("a") == []
    async with demo_db.session() as session:
        [row] = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "broadcast_delivery"))).all()
    assert row.status == "cancelled"


def test_a_session_on_a_weekend_a_holiday_or_at_night_warns_the_staff_member():
    def warned(local: str, calendar: Calendar = NATIONAL) -> list[str]:
        start = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(TZ))
        return rules.warnings(start, MONDAY_MORNING, TZ, calendar)

    assert warned("2026-12-09 08:00") == []  # a Wednesday morning, 16 days ahead
    assert "Saturday or Sunday" in warned("2026-12-05 08:00")[0]
    assert "Saturday or Sunday" in warned("2026-12-06 14:00")[0]
    assert "public holiday" in warned("2027-01-01 08:00")[0]  # New Year's Day, a Friday
    assert "public holiday" in warned("2026-12-09 08:00", Calendar.of([
        date(2026, 12, 9)]))[0]  # the commune's own day off
    assert warned("2026-12-09 08:00", Calendar.of(make_up_days=[
        date(2026, 12, 12)])) == []
    assert warned("2026-12-12 08:00", Calendar.of(make_up_days=[
        date(2026, 12, 12)])) == []  # a make-up working Saturday
    assert "at night" in warned("2026-12-09 21:00")[0]
    assert "at night" in warned("2026-12-09 06:29")[0]
    assert warned("2026-12-09 06:30") == [] and warned("2026-12-09 20:59") == []
    assert len(warned("2026-11-28 22:00")) == 3  # 5 days ahead, a Saturday, at night


async def test_staff_are_warned_of_a_weekend_session_and_change_its_time(demo_db):
    Clock(MONDAY_MORNING)
    engine = Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)
    staff = Chat(engine, user_id="canbo")
    await staff.onboard()
    await _new_session(staff, "05/12/2026 21:30")  # a Saturday, at night
    assert "⚠️ Hội nghị rơi vào thứ Bảy hoặc Chủ nhật" in staff.text
    assert "⚠️ Hội nghị bắt đầu vào ban đêm" in staff.text
    await staff.press("Đổi thời gian")
    await staff.send("01/01/2027 08:00")
    assert "⚠️ Hội nghị rơi vào ngày lễ, Tết hoặc ngày nghỉ" in staff.text
    assert "thứ Bảy" not in staff.text and "ban đêm" not in staff.text
    await staff.press("Đổi thời gian")
    await staff.send("09/12/2026 08:00")
    assert "⚠️ Hội nghị" not in staff.text and "Hội trường UBND xã" in staff.text
    await staff.press("Lưu, thông báo sau")
    assert "Đã lưu hội nghị số 1" in staff.text


# --- /export and /report in the staff chat ------------------------------------------------


@pytest.fixture
async def staff_group(demo_db: Database, tmp_path: Path) -> tuple[Engine, Chat]:
    engine = Engine(demo_db, pseudonym_key=PSEUDONYM_KEY, data_dir=tmp_path)
    async with demo_db.session() as session:
        await groups.link(session, "telegram", STAFF_GROUP, staff=True, actor="test")
        await roles.grant(session, "telegram", "901", "staff", actor="test")
        await session.commit()
    return engine, Chat(engine, channel="telegram", user_id="901")


async def _posted(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        return list((await session.exec(select(OutboxMessage).where(
            OutboxMessage.chat_id == STAFF_GROUP).order_by(OutboxMessage.id))).all())


async def test_export_and_report_accept_vietnamese_dates(demo_db, staff_group):
    Clock(datetime(2027, 1, 5, 3, 0, tzinfo=UTC))  # 10:00 on 05/01/2027 in Hà Nội
    engine, staff = staff_group

    await staff.send("/export petitions 01/12/2026 31/12/2026 xlsx", chat_id=STAFF_GROUP)
    assert "Đang chuẩn bị tệp" in staff.text
    await staff.send("/export sessions 1/1 5/1", chat_id=STAFF_GROUP)  # this year: 2027
    assert "Đang chuẩn bị tệp" in staff.text
    await staff.send("/export comments 2026-12-01 2026-12-31", chat_id=STAFF_GROUP)
    assert "Đang chuẩn bị tệp" in staff.text
    await engine.drain()
    posted = {row.attachments[0]["name"].rsplit("-", 2)[0]: row
              for row in await _posted(demo_db)}  # the files are made side by side
    assert sorted(posted) == ["comments-2026-12-01-2026-12-31", "petitions-2026-12-01-2026-12-31",
                              "sessions-2027-01-01-2027-01-05"]
    assert posted["petitions-2026-12-01-2026-12-31"].text == (
        "Không có dữ liệu từ 01/12/2026 đến 31/12/2026: tệp chỉ có dòng tiêu đề.")
    assert posted["petitions-2026-12-01-2026-12-31"].attachments[0]["name"].endswith(".xlsx")
    assert posted["sessions-2027-01-01-2027-01-05"].text == (
        "Không có dữ liệu từ 01/01/2027 đến 05/01/2027: tệp chỉ có dòng tiêu đề.")

    for typed, said in [
        ("/export petitions 32/12 31/12", "Trợ lý không hiểu ngày “32/12”."),
        ("/export petitions 01/12/26 31/11/26", "Trợ lý không hiểu ngày “31/11/26”."),
        ("/export đơn 01/12 31/12", "Không có loại dữ liệu “đơn” để xuất."),
        ("/export log 31/12/2026 01/12/2026",
         "Ngày bắt đầu (31/12/2026) sau ngày kết thúc (01/12/2026)."),
        ("/export log 01/12/2026 31/12/2026 pdf", "Không có định dạng tệp “pdf”"),
        ("/export log", "Cần ghi loại dữ liệu cần xuất và hai ngày"),
        ("/export log tháng 12", "Trợ lý không hiểu ngày “tháng”."),
    ]:
        await staff.send(typed, chat_id=STAFF_GROUP)
        assert staff.text.startswith(said), typed
        assert "dd/mm/yyyy hoặc dd/mm (năm nay)" in staff.text
        assert "/export petitions 01/12/2027 31/12/2027 xlsx" in staff.text  # this year's

    await staff.send("/report năm ngoái", chat_id=STAFF_GROUP)
    assert staff.text.startswith("Trợ lý không hiểu năm “năm ngoái”")
    assert "/report 2027" in staff.text
    await staff.send("/report", chat_id=STAFF_GROUP)  # alone: this year
    assert "Đang chuẩn bị tệp" in staff.text
    await engine.drain()
    assert "Báo cáo năm 2027" in (await _posted(demo_db))[-1].text


def test_no_message_tells_anyone_to_run_a_shell_command():
    root = Path(__file__).resolve().parent.parent / "locales"
    for po in root.glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = (message.string if isinstance(message.string, tuple)
                       else (message.string,))
            for text in (*ids, *strings):
                assert "python -m bot" not in (text or ""), (po.parent.parent.name, ids[0])
