"""Dialogue sessions: seats and waitlist (also under concurrency), reminders with a clock,
changes, check-in and outcome; then the resident's conversation through the engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.messages import Contact
from bot.scheduler import session_reminders
from bot.services import session_outcome, session_questions, session_tickets
from bot.services import session_rules as rules
from bot.services import sessions as service
from bot.services.dispatcher import Dispatcher
from bot.services.session_reminders import send_due_reminders
from storage.db import Database
from storage.models import (
    Disclosure,
    OutboxMessage,
    SessionQuestion,
    SessionRegistration,
    SessionReminder,
    User,
)
from tests.conftest import MAIN_MENU, PSEUDONYM_KEY, Chat, Clock

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 on Friday 20/11 in Hà Nội
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 on Tuesday 01/12
EVE = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # the day before at 08:00
TWO_HOURS = START - timedelta(hours=2)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def engine(demo_db: Database, clock: Clock) -> Engine:
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


async def announce(db: Database, capacity: int = 10, *, start: datetime = START,
                   **plan: object) -> int:
    async with db.session() as session:
        item = await service.announce(session, rules.Plan(
            topic=plan.pop("topic", "Đường liên thôn Nà Ca"), start=start,
            place=plan.pop("place", "Hội trường UBND xã"), capacity=capacity,
            leaders=["Chủ tịch UBND xã"], **plan), actor="cli:test", now=NOW, timezone=TZ)
        await session.commit()
        return item.id


async def people(db: Database, count: int, locale: str = "vi") -> list[User]:
    async with db.session() as session:
        users = [User(channel="console", external_id=f"u{n}", locale=locale)
                 for n in range(count)]
        session.add_all(users)
        await session.commit()
        return users


async def register(db: Database, session_id: int, user: User, now: datetime = NOW
                   ) -> SessionRegistration:
    async with db.unit_of_work() as session:
        found = await service.register(session, session_id, user, name=f"Người {user.id}",
                                       hamlet_id=None, phone=None, now=now, timezone=TZ)
        await session.commit()
        return found


async def cancel(db: Database, registration_id: int, user: User
                 ) -> list[SessionRegistration]:
    async with db.unit_of_work() as session:
        promoted = await service.cancel_registration(session, registration_id, user, now=NOW,
                                                     timezone=TZ)
        await session.commit()
        return promoted


async def rows(db: Database, model: type, *where: object) -> list:
    async with db.session() as session:
        return list((await session.exec(select(model).where(*where).order_by(model.id))).all())


def is_png(path: str) -> bool:
    return Path(path).read_bytes().startswith(b"\x89PNG")


async def messages(db: Database, kind: str | None = None) -> list[OutboxMessage]:
    found = await rows(db, OutboxMessage)
    return [m for m in found if kind is None or m.kind == kind]


# --- seats and waitlist ---------------------------------------------------------------------


async def test_register_until_full_then_waitlist_and_a_cancellation_promotes_the_first(db):
    session_id = await announce(db, capacity=3, reserved=1)  # 2 seats for residents
    ann, binh, chi, dung = await people(db, 4)
    first = await register(db, session_id, ann)
    second = await register(db, session_id, binh)
    third = await register(db, session_id, chi)
    fourth = await register(db, session_id, dung)
    assert [r.status for r in (first, second, third, fourth)] == [
        "registered", "registered", "waitlisted", "waitlisted"]
    assert len(first.ticket) == 8 and not set(first.ticket) & set("0O1IL")

    promoted = await cancel(db, second.id, binh)
    assert [r.id for r in promoted] == [third.id]
    [seat] = await messages(db, "session_seat")
    assert seat.chat_id == chi.external_id
    assert third.ticket in seat.text and "chỗ trống" in seat.text
    assert seat.attachments[0]["mime_type"] == "image/png"
    assert is_png(seat.attachments[0]["ref"])
    assert seat.buttons == [["Xem", f"go:session:{session_id}"]]
    # The promoted person now gets reminders; the one who left gets none.
    reminders = await rows(db, SessionReminder, SessionReminder.status == "pending")
    assert sorted({r.registration_id for r in reminders}) == [first.id, third.id]

    with pytest.raises(service.SessionError, match="already cancelled"):
        await cancel(db, second.id, binh)
    with pytest.raises(service.SessionError, match="not yours"):
        await cancel(db, first.id, dung)
    with pytest.raises(service.SessionError, match="already registered"):
        await register(db, session_id, ann)
    again = await register(db, session_id, binh)  # back, at the end of the queue
    assert again.id == second.id and again.status == "waitlisted"


async def test_fifty_people_registering_at_once_never_exceed_the_seats(db):
    capacity = 10
    session_id = await announce(db, capacity=capacity)
    users = await people(db, 50)
    results = await asyncio.gather(*(register(db, session_id, u) for u in users))
    statuses = [r.status for r in results]
    assert statuses.count("registered") == capacity
    assert statuses.count("waitlisted") == 50 - capacity
    stored = await rows(db, SessionRegistration)
    seated = [r for r in stored if r.status == "registered"]
    assert len(seated) == capacity
    assert sorted(r.position for r in seated) == list(range(1, capacity + 1))
    waiting = sorted(r.position for r in stored if r.status == "waitlisted")
    assert waiting == list(range(1, 50 - capacity + 1))
    assert len({r.ticket for r in stored}) == 50

    # Ten people cancel at once: exactly ten waiting people move up, in queue order.
    by_id = {u.id: u for u in users}
    await asyncio.gather(*(cancel(db, r.id, by_id[r.user_id]) for r in seated))
    stored = await rows(db, SessionRegistration, SessionRegistration.status == "registered")
    assert len(stored) == capacity
    assert sorted(r.id for r in stored) == sorted(
        r.id for r in results if r.status == "waitlisted")[:capacity]


async def test_staff_hear_at_80_and_100_percent_once(demo_db):
    session_id = await announce(demo_db, capacity=5)
    users = await people(demo_db, 6)
    for user in users[:3]:
        await register(demo_db, session_id, user)
    assert await messages(demo_db, "session_alert") == []
    await register(demo_db, session_id, users[3])  # 4 of 5: 80%
    alerts = await messages(demo_db, "session_alert")
    assert {m.chat_id for m in alerts} == {"admin", "canbo"}  # staff and admin of the demo
    assert "80%" in alerts[0].text
    await register(demo_db, session_id, users[4])
    await register(demo_db, session_id, users[5])  # waitlisted: no new alert
    alerts = await messages(demo_db, "session_alert")
    assert [m.text.split("đã kín ")[1][:4] for m in alerts] == ["80%:", "80%:",
                                                                  "100%", "100%"]


async def test_capacity_cannot_go_below_the_registered_and_more_seats_promote(db):
    session_id = await announce(db, capacity=2)
    users = await people(db, 4)
    for user in users:
        await register(db, session_id, user)
    async with db.unit_of_work() as session:
        with pytest.raises(service.SessionError, match="2 people are registered"):
            await service.set_capacity(session, session_id, 1, actor="t", now=NOW, timezone=TZ)
        promoted = await service.set_capacity(session, session_id, 3, actor="t", now=NOW,
                                              timezone=TZ)
        await session.commit()
    assert [p.user_id for p in promoted] == [users[2].id]


async def test_registration_refused_for_past_cancelled_or_unknown_sessions(db):
    session_id = await announce(db)
    [user] = await people(db, 1)
    with pytest.raises(service.SessionError, match="already started"):
        await register(db, session_id, user, now=START)
    with pytest.raises(service.SessionError, match="does not exist"):
        await register(db, 999, user)
    async with db.unit_of_work() as session:
        await service.cancel_session(session, session_id, actor="t", timezone=TZ)
        await session.commit()
    with pytest.raises(service.SessionError, match="cancelled"):
        await register(db, session_id, user)


# --- reminders ------------------------------------------------------------------------------


async def test_reminders_fire_once_each_at_the_right_time(db):
    session_id = await announce(db)
    [ann] = await people(db, 1)
    registration = await register(db, session_id, ann)
    assert await send_due_reminders(db, EVE - timedelta(seconds=1), TZ) == 0
    assert await send_due_reminders(db, EVE, TZ) == 1
    assert await send_due_reminders(db, EVE + timedelta(minutes=1), TZ) == 0
    assert await send_due_reminders(db, TWO_HOURS - timedelta(minutes=1), TZ) == 0
    assert await send_due_reminders(db, TWO_HOURS + timedelta(seconds=30), TZ) == 1
    assert await send_due_reminders(db, START, TZ) == 0
    sent = await messages(db, "session_reminder")
    assert len(sent) == 2
    assert [m.not_before <= m.created_at for m in sent] == [True, True]
    assert "08:00, thứ Ba, 01/12/2026" in sent[0].text and registration.ticket in sent[0].text
    assert all(m.chat_id == ann.external_id for m in sent)


async def test_the_scheduler_job_uses_the_dispatcher_database_and_clock(db):
    session_id = await announce(db)
    [ann] = await people(db, 1)
    await register(db, session_id, ann)
    Clock(EVE)
    dispatcher = Dispatcher(db, pseudonym_key=PSEUDONYM_KEY)
    assert await session_reminders(dispatcher, TZ) == 1
    assert await session_reminders(dispatcher, TZ, EVE + timedelta(minutes=1)) == 0


async def test_a_restart_between_planning_and_firing_still_sends_once(db):
    session_id = await announce(db)
    [ann] = await people(db, 1)
    await register(db, session_id, ann)
    await db.dispose()  # the process stops; the rows stay
    restarted = Database(db.url)
    try:
        counts = await asyncio.gather(*(send_due_reminders(restarted, EVE, TZ)
                                        for _ in range(3)))
        assert sum(counts) == 1  # even when two ticks overlap
        assert await send_due_reminders(restarted, EVE, TZ) == 0
        assert len(await messages(restarted, "session_reminder")) == 1
    finally:
        await restarted.dispose()


async def test_rescheduling_tells_everyone_once_and_drops_stale_reminders(db):
    session_id = await announce(db, capacity=1)
    ann, binh = await people(db, 2)
    seat = await register(db, session_id, ann)
    await register(db, session_id, binh)  # waitlisted
    assert await send_due_reminders(db, EVE, TZ) == 1  # queued, not delivered yet
    later = START + timedelta(days=2)
    async with db.unit_of_work() as session:
        told = await service.reschedule(session, session_id, actor="t", now=EVE, timezone=TZ,
                                        start=later, place="Nhà văn hóa khu Hòa Bình")
        await session.commit()
    assert told == 2
    changes = await messages(db, "session_change")
    assert [m.chat_id for m in changes] == [ann.external_id, binh.external_id]
    assert "08:00, thứ Năm, 03/12/2026" in changes[0].text and seat.ticket in changes[0].text
    assert "danh sách chờ" in changes[1].text
    # The reminder queued for the old time is withdrawn; none fires at the old times.
    [old] = await messages(db, "session_reminder")
    assert old.status == "cancelled"
    assert await send_due_reminders(db, TWO_HOURS, TZ) == 0
    assert await send_due_reminders(db, EVE + timedelta(days=2), TZ) == 1
    assert await send_due_reminders(db, later - timedelta(hours=2), TZ) == 1
    pending = await rows(db, SessionReminder, SessionReminder.status == "pending")
    assert pending == []


async def test_a_cancelled_session_tells_everyone_once_and_sends_no_reminder(db):
    session_id = await announce(db, capacity=1)
    ann, binh = await people(db, 2)
    await register(db, session_id, ann)
    await register(db, session_id, binh)
    async with db.unit_of_work() as session:
        assert await service.cancel_session(session, session_id, actor="t", timezone=TZ) == 2
        await session.commit()
    async with db.unit_of_work() as session:
        with pytest.raises(service.SessionError, match="cancelled"):
            await service.cancel_session(session, session_id, actor="t", timezone=TZ)
    assert len(await messages(db, "session_change")) == 2
    assert await send_due_reminders(db, START - timedelta(minutes=1), TZ) == 0


# --- check-in, questions, outcome -----------------------------------------------------------


async def test_a_ticket_checks_in_once_and_a_mistyped_one_is_refused(db):
    session_id = await announce(db, capacity=1)
    ann, binh = await people(db, 2)
    seat = await register(db, session_id, ann)
    waiting = await register(db, session_id, binh)
    typed = f" {seat.ticket[:4].lower()}-{seat.ticket[4:]} "
    async with db.unit_of_work() as session:
        found = await session_tickets.check_in(session, typed, now=START, timezone=TZ)
        assert found.id == seat.id and found.checked_in_at == START
        await session.commit()
    async with db.unit_of_work() as session:
        with pytest.raises(service.SessionError, match="already used at 08:00 01/12/2026"):
            await session_tickets.check_in(session, seat.ticket, now=START, timezone=TZ)
        with pytest.raises(service.SessionError, match="No ticket ABCDEFG"):
            await session_tickets.check_in(session, "ABCDEFG", now=START, timezone=TZ)
        with pytest.raises(service.SessionError, match="waiting list"):
            await session_tickets.check_in(session, waiting.ticket, now=START, timezone=TZ)
        with pytest.raises(service.SessionError, match="No ticket"):
            await session_tickets.check_in(session, waiting.ticket, now=START, timezone=TZ,
                                           session_id=999)


async def test_questions_up_to_three_of_1000_characters_and_withdrawn(db):
    session_id = await announce(db)
    [ann, binh] = await people(db, 2)
    registration = await register(db, session_id, ann)
    async with db.unit_of_work() as session:
        with pytest.raises(service.SessionError, match="1,000"):
            await session_questions.add_question(session, registration, "x" * 1001, now=NOW)
        for n in range(3):
            await session_questions.add_question(session, registration, f"Câu hỏi {n}", now=NOW)
        with pytest.raises(service.SessionError, match="3 questions"):
            await session_questions.add_question(session, registration, "Câu thứ tư", now=NOW)
        first = (await session.exec(select(SessionQuestion))).first()
        with pytest.raises(service.SessionError, match="not yours"):
            await session_questions.withdraw_question(session, first.id, binh, now=NOW)
        await session_questions.withdraw_question(session, first.id, ann, now=NOW)
        await session_questions.add_question(session, registration, "Câu thứ tư", now=NOW)
        await session.commit()
    active = await rows(db, SessionQuestion, SessionQuestion.status == "active")
    assert [q.text for q in active] == ["Câu hỏi 1", "Câu hỏi 2", "Câu thứ tư"]


async def test_the_outcome_reaches_registrants_and_askers_and_becomes_a_disclosure(db):
    session_id = await announce(db, capacity=1)
    ann, binh, chi = await people(db, 3)
    seat = await register(db, session_id, ann)
    asker = await register(db, session_id, binh)  # waitlisted, asks, then leaves
    async with db.unit_of_work() as session:
        await session_questions.add_question(session, asker, "Bao giờ làm đường?", now=NOW)
        await session.commit()
    await cancel(db, asker.id, binh)
    async with db.unit_of_work() as session:
        with pytest.raises(service.SessionError, match="not taken place"):
            await session_outcome.close(session, session_id, "Kết quả", actor="t", now=NOW,
                                        timezone=TZ)
    after = START + timedelta(days=2)
    async with db.unit_of_work() as session:
        told, item = await session_outcome.close(
            session, session_id, "Tóm tắt.\nTrả lời câu hỏi: tháng 3/2027 khởi công.",
            actor="cli:test", now=after, timezone=TZ)
        await session.commit()
    assert told == 2 and item.status == "closed" and seat.user_id == ann.id
    notices = await messages(db, "session_outcome")
    assert sorted(m.chat_id for m in notices) == sorted([ann.external_id, binh.external_id])
    assert chi.external_id not in {m.chat_id for m in await messages(db)}
    [disclosure] = await rows(db, Disclosure)
    assert disclosure.category == 11 and disclosure.id == item.outcome_disclosure_id
    assert disclosure.title == "Kết quả buổi đối thoại: Đường liên thôn Nà Ca"
    assert "tháng 3/2027" in disclosure.body


def test_the_scheduler_checks_for_due_reminders_every_minute():
    from bot import scheduler as jobs

    scheduler = jobs.build(TZ)
    jobs.add_jobs(scheduler, Dispatcher(None, pseudonym_key=PSEUDONYM_KEY))
    job = scheduler.get_job("session_reminders")
    assert job.trigger.interval == timedelta(minutes=1)
    assert job.args[1] == TZ


# --- the resident's conversation ------------------------------------------------------------


async def test_a_resident_registers_gets_a_ticket_and_sends_questions(chat: Chat, demo_db):
    session_id = await announce(demo_db, capacity=2)
    await chat.onboard(hamlet="Khu Thống Nhất")
    await chat.press("Đối thoại")
    assert "Đường liên thôn Nà Ca" in chat.text and "08:00, thứ Ba, 01/12/2026" in chat.text
    assert "Hội trường UBND xã · còn 2 chỗ" in chat.text
    assert chat.labels == ["Đường liên thôn Nà Ca", "Menu chính"]
    await chat.press("Đường liên thôn Nà Ca")
    assert "Chủ trì: Chủ tịch UBND xã" in chat.text and "Còn 2/2 chỗ." in chat.text
    assert chat.labels == ["Đăng ký", "Tất cả buổi đối thoại", "Menu chính"]

    await chat.press("Đăng ký")
    assert "họ tên và khu dân cư" in chat.text and "tổng hợp câu hỏi" in chat.text
    await chat.send("  Nguyễn   Văn An ")
    assert chat.labels[0] == "Khu Thống Nhất"  # my own hamlet first
    await chat.press("Khu Thống Nhất")
    assert "số điện thoại" in chat.text and "Bỏ qua" in chat.labels
    await chat.send("12")
    assert "Số điện thoại chưa đúng" in chat.text
    [done] = await chat.send("0912 345 678")
    [registration] = await rows(demo_db, SessionRegistration)
    assert registration.name == "Nguyễn Văn An" and registration.phone == "0912345678"
    assert f"Mã vé của Anh/Chị: {registration.ticket}" in done.text
    assert done.attachments[0].kind == "photo" and is_png(done.attachments[0].ref)
    assert done.buttons[0].label == "Gửi câu hỏi"

    await chat.press("Gửi câu hỏi")
    assert "còn gửi được 3 câu" in chat.text
    await chat.send("x" * 1001)
    assert "1001 ký tự" in chat.text  # still asking
    await chat.send("Khi nào đường Nà Ca được mở rộng?")
    assert "câu hỏi đã được tiếp nhận" in chat.text
    assert {"Gửi câu hỏi", "Câu hỏi của tôi", "Xem vé của tôi", "Hủy đăng ký"} <= set(
        chat.labels)
    await chat.press("Câu hỏi của tôi")
    assert "1. Khi nào đường Nà Ca được mở rộng?" in chat.text
    await chat.press("Rút câu hỏi 1")
    assert "Câu hỏi đã được rút" in chat.text
    assert await rows(demo_db, SessionQuestion, SessionQuestion.status == "active") == []
    await chat.press("Quay lại")
    await chat.press("Xem vé của tôi")
    assert registration.ticket in chat.text and chat.last[0].attachments
    async with demo_db.session() as session:
        me = await session.get(User, registration.user_id)
    assert (me.display_name, me.phone) == ("Nguyễn Văn An", "0912345678")
    assert session_id == registration.session_id


async def test_full_session_waitlist_and_a_cancellation_promotes_the_next(engine, demo_db):
    await announce(demo_db, capacity=1)
    first, second = Chat(engine, user_id="an"), Chat(engine, user_id="binh")
    for person, name in ((first, "Nguyễn Văn An"), (second, "Trần Thị Bình")):
        await person.onboard()
        await person.press("Đối thoại")
        await person.press("Đường liên thôn Nà Ca")
        await person.press("Đăng ký")
        await person.send(name)
        await person.press("Khu Hòa Bình")
        await person.press("Bỏ qua")
    assert "số 1 trong danh sách chờ" in second.text and not second.last[0].attachments
    await second.press("Quay lại")
    assert "Đã hết chỗ; Anh/Chị có thể đăng ký vào danh sách chờ (1 người đang chờ)" in (
        second.text)
    assert "vị trí số 1 trong danh sách chờ" in second.text

    await first.press("Quay lại")
    await first.press("Hủy đăng ký")
    await first.press("Có, hủy đăng ký")
    assert "Đăng ký của Anh/Chị đã được hủy" in first.text
    assert "Đăng ký" in first.labels  # may register again, now on the waiting list
    [seat] = await messages(demo_db, "session_seat")
    assert seat.chat_id == "binh" and "Tin vui" in seat.text

    await second.send("/menu")
    await second.press("Đối thoại")
    await second.press("Đăng ký của tôi")
    assert "Đường liên thôn Nà Ca — 08:00, thứ Ba, 01/12/2026: đã đăng ký, mã vé" in second.text


@pytest.mark.parametrize("opening", [
    {"text": "/start s_1"}, {"text": "S1"}, {"text": "đt 1"}, {"payload": "go:session:1"},
])
async def test_a_session_opens_from_a_link_or_a_typed_code(chat: Chat, demo_db, opening):
    await announce(demo_db)
    await chat.onboard()
    await chat.send(**opening)
    assert chat.text.startswith("🗣 Đường liên thôn Nà Ca") and "Đăng ký" in chat.labels


async def test_a_link_to_a_missing_session_shows_the_list(chat: Chat, demo_db):
    await chat.onboard()
    await chat.send("/start s_99")
    assert "không (còn) tồn tại" in chat.text and "chưa có buổi đối thoại" in chat.text
    await chat.send("/start")
    assert chat.labels == MAIN_MENU


async def test_a_shared_contact_gives_the_phone_and_declined_consent_blocks_registration(
    engine, demo_db
):
    await announce(demo_db)
    chat = Chat(engine, channel="telegram", user_id="77")
    await chat.onboard()
    await chat.press("Đối thoại")
    await chat.press("Đường liên thôn Nà Ca")
    await chat.press("Đăng ký")
    await chat.send("Lê Văn Chung")
    await chat.press("Khu Hòa Bình")
    assert "bấm “📞 Gửi số điện thoại”" in chat.text
    assert [(r.kind, r.label) for r in chat.last[-1].requests] == [
        ("contact", "📞 Gửi số điện thoại")]
    await chat.send(contact=Contact("+84912345678"))
    [registration] = await rows(demo_db, SessionRegistration)
    assert registration.phone == "0912345678"

    declined = Chat(engine, user_id="no")
    await declined.send("/start")
    await declined.press("Không đồng ý")
    assert "Đối thoại" not in declined.labels
    await declined.send(payload="go:session:1")  # a notice or a broadcast link
    await declined.press("Đăng ký")
    assert "cần Anh/Chị đồng ý" in declined.text
    assert len(await rows(demo_db, SessionRegistration)) == 1


async def test_after_the_outcome_the_session_page_shows_it(chat: Chat, demo_db, clock):
    session_id = await announce(demo_db)
    await chat.onboard()
    await chat.send("s1")
    await chat.press("Đăng ký")
    await chat.send("Nguyễn Văn An")
    await chat.press("Khu Hòa Bình")
    await chat.press("Bỏ qua")
    async with demo_db.unit_of_work() as session:
        await session_outcome.close(session, session_id, "Xã sẽ khởi công đường vào tháng 3/2027.",
                                    actor="cli:test", now=START + timedelta(days=1), timezone=TZ)
        await session.commit()
    [notice] = await messages(demo_db, "session_outcome")
    clock.now = START + timedelta(days=1)
    await chat.send(payload=notice.buttons[0][1])
    assert "Kết quả buổi đối thoại:\nXã sẽ khởi công đường vào tháng 3/2027." in chat.text
    assert "Đăng ký" not in chat.labels and "Hủy đăng ký" not in chat.labels


async def test_deleting_my_data_gives_up_my_seat_and_forgets_my_name(engine, demo_db):
    session_id = await announce(demo_db, capacity=1)
    chat = Chat(engine, user_id="an")
    await chat.onboard()
    await chat.send(f"s{session_id}")
    await chat.press("Đăng ký")
    await chat.send("Nguyễn Văn An")
    await chat.press("Khu Hòa Bình")
    await chat.send("0912345678")
    [waiting] = await people(demo_db, 1)
    await register(demo_db, session_id, waiting)
    await chat.send("/menu")
    await chat.press("Cài đặt")
    await chat.press("Xóa dữ liệu của tôi")
    await chat.press("Có, xóa dữ liệu")
    mine, theirs = await rows(demo_db, SessionRegistration)
    assert (mine.user_id, mine.name, mine.phone, mine.status) == (None, "—", None, "cancelled")
    assert theirs.status == "registered"  # moved up from the waiting list
    assert len(await messages(demo_db, "session_seat")) == 1


# --- staff in the chat ----------------------------------------------------------------------


async def test_staff_announce_check_in_list_and_publish_the_outcome_in_the_chat(
    engine, demo_db, clock
):
    staff = Chat(engine, user_id="canbo")  # staff in the demo commune file
    await staff.onboard()
    await staff.press("Quản lý hội nghị đối thoại")
    await staff.press("Thông báo hội nghị mới")
    await staff.send("Đối thoại về nước sạch")
    assert "ví dụ 04/12/2026 08:00" in staff.text  # an example two weeks from today (20/11)
    await staff.send("ngày mai")
    assert "chưa đọc được ngày giờ" in staff.text  # unreadable, told apart from a past time
    assert "04/12/2026 08:00 hoặc 04/12 8h" in staff.text
    await staff.send("20/11/26 8h")
    assert "Thời điểm 08:00, thứ Sáu, 20/11/2026 đã qua" in staff.text
    await staff.send("25/11/2026 08:00")  # 5 days ahead: announced, with a warning
    await staff.send("Hội trường UBND xã")
    await staff.send("40")
    await staff.send("Chủ tịch UBND xã, Bí thư Đảng ủy")
    assert "⚠️ Hội nghị được thông báo trước chưa đủ 7 ngày" in staff.text
    assert "Chủ trì: Chủ tịch UBND xã, Bí thư Đảng ủy" in staff.text
    assert "Hiện chưa có ai nhận được giấy mời" in staff.text  # no group, nobody opted in
    assert "Thông báo và mời người dân" not in staff.labels
    await staff.press("Lưu, thông báo sau")
    assert "Đã lưu hội nghị số 1 nhưng CHƯA thông báo" in staff.text
    assert "Đã thông báo" not in staff.text and "Thông báo cho người dân" in staff.labels

    ann, binh = await people(demo_db, 2)
    seat = await register(demo_db, 1, ann)
    async with demo_db.unit_of_work() as session:
        await session_questions.add_question(session, seat, "Giá nước năm 2027 thế nào?", now=NOW)
        await session.commit()
    await register(demo_db, 1, binh)
    await staff.send(f"/checkin {seat.ticket.lower()}")
    assert f"✅ Đã điểm danh: Người {ann.id}, hội nghị" in staff.text
    await staff.send(seat.ticket)
    assert "❌ Vé" in staff.text and "đã được dùng lúc 10:00 20/11/2026." in staff.text
    assert f"Người {ann.id}" not in staff.text  # a refused ticket never shows its holder
    await staff.send("OOOO1111")
    assert "❌ Không có vé" in staff.text
    await staff.press("Menu chính")

    await staff.send("s1")
    await staff.press("Danh sách đăng ký và câu hỏi")
    assert "đã đăng ký 2/40 chỗ, 0 người chờ, 1 người đã điểm danh" in staff.text
    assert "(chưa rõ khu dân cư) (2)" in staff.text and "- Giá nước năm 2027 thế nào?" in (
        staff.text)
    await staff.press("Quay lại")
    assert "Công bố kết quả" not in staff.labels  # not before the session
    clock.now = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    await staff.send("s1")
    await staff.press("Công bố kết quả")
    await staff.send("Giữ nguyên giá nước năm 2027.")
    assert "Đã công bố kết quả (thông tin công khai số 1); 2 người sẽ được thông báo" in (
        staff.text)
    assert len(await messages(demo_db, "session_outcome")) == 2
    assert "quá 10 ngày" not in staff.text


async def test_residents_cannot_use_the_staff_desk(chat: Chat):
    await chat.onboard()
    assert "Quản lý hội nghị đối thoại" not in chat.labels
    await chat.send("/checkin ABCD2345")
    assert "Chỉ cán bộ UBND xã" in chat.text and chat.labels == MAIN_MENU
    await chat.send(payload="go:session_desk")
    assert "Chỉ cán bộ UBND xã" in chat.text


async def test_people_pressing_at_the_same_moment_through_the_engine_never_overfill(
    engine, demo_db
):
    await announce(demo_db, capacity=4)
    chats = [Chat(engine, user_id=f"c{n}") for n in range(12)]
    for chat in chats:
        await chat.onboard()
        await chat.send("s1")
        await chat.press("Đăng ký")
        await chat.send(f"Người số {chat.user_id}")
        await chat.press("Khu Hòa Bình")
    await asyncio.gather(*(chat.press("Bỏ qua") for chat in chats))
    seated = [c for c in chats if "Mã vé của Anh/Chị" in c.text]
    waiting = [c for c in chats if "danh sách chờ" in c.text]
    assert (len(seated), len(waiting)) == (4, 8)
    stored = await rows(demo_db, SessionRegistration, SessionRegistration.status == "registered")
    assert len(stored) == 4
