"""Petitions: each type end to end, identity protection, deadlines, statuses, ratings, limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot import scheduler
from bot.engine import Engine
from bot.messages import Attachment, Contact
from bot.services import petition_rules as rules
from bot.services import petitions as service
from bot.services.petition_statuses import LEGAL_STEPS, TRANSITIONS
from bot.workdays import Calendar
from storage.db import Database
from storage.models import (
    InteractionLog,
    OutboxMessage,
    Petition,
    PetitionIdentity,
)
from storage.repositories import Communes
from tests.conftest import PSEUDONYM_KEY, Chat, Clock

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 10:00 in Hà Nội


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def engine(demo_db: Database, clock: Clock) -> Engine:
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


def photo(n: int, size: int = 1000) -> Attachment:
    return Attachment("photo", f"photo-{n}", name=f"p{n}.jpg", size=size)


async def rows(db: Database, model: type) -> list:
    async with db.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def feedback(chat: Chat, text: str = "Đèn đường hỏng ba ngày nay, tối rất nguy hiểm.",
                   field: str = "Điện chiếu sáng", hamlet: str = "Khu Hòa Bình",
                   anonymous: bool = False) -> None:
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Phản ánh, kiến nghị")
    if anonymous:
        await chat.press("Gửi ẩn danh")
    else:
        await chat.press("Gửi kèm tên và số điện thoại")
        await chat.send("Nguyễn Thị Hoa")
        await chat.send("0912 345 678")
    await chat.press(field)
    await chat.press(hamlet)
    await chat.press("Bỏ qua")
    await chat.send(text)
    await chat.press("Bỏ qua")
    await chat.press("Gửi")


async def test_feedback_end_to_end_with_photos_and_an_edit(chat: Chat, demo_db):
    await chat.onboard()
    await chat.press("Gửi phản ánh, kiến nghị")
    assert chat.labels[:3] == ["Phản ánh, kiến nghị", "Khiếu nại", "Tố cáo"]
    assert "danh tính người tố cáo được giữ bí mật" in chat.text
    await chat.press("Phản ánh, kiến nghị")
    await chat.press("Gửi ẩn danh")
    await chat.send("đường nào cũng được")  # text where a choice is expected
    assert "Mời Anh/Chị chọn một mục" in chat.text
    await chat.press("Đường sá, giao thông")
    await chat.press("Thôn Nà Ca")
    await chat.send("", location=(21.712, 106.526))
    await chat.send("Ổ gà", attachments=(photo(0),))  # short words are accepted
    assert "Đã ghi nhận: “Ổ gà”. Nếu được, Anh/Chị bổ sung thêm ở đâu" in chat.text
    assert "1 tệp đã đính kèm" in chat.text
    for n in range(1, 5):
        await chat.send("", attachments=(photo(n),))
    assert "5 tệp đã đính kèm" in chat.text
    await chat.send("", attachments=(photo(6),))
    assert "đã đính kèm 5 tệp, là số tối đa" in chat.text
    await chat.send("", attachments=(photo(7, size=25 * 1024 * 1024),))
    assert "lớn hơn 20 MB" in chat.text
    await chat.press("Xong")
    assert "Tệp đính kèm: 5" in chat.text and "vị trí trên bản đồ" in chat.text
    await chat.press("Sửa")
    await chat.press("Lĩnh vực")
    await chat.press("Môi trường, rác thải")
    assert "Lĩnh vực: Môi trường, rác thải" in chat.text  # back at the review
    assert await rows(demo_db, Petition) == []  # nothing saved before "Gửi"
    await chat.press("Gửi")
    assert "Mã theo dõi của Anh/Chị là PA-2026-000001" in chat.text
    # 15 working days after Friday 20/11/2026 (the demo commune's commitment), without
    # Tuesday 24/11, Vietnam Culture Day, a public holiday from 2026.
    assert "Hạn trả lời: chậm nhất ngày 14/12/2026." in chat.text

    [petition] = await rows(demo_db, Petition)
    assert (petition.kind, petition.field, petition.status) == ("feedback", "environment",
                                                                "received")
    assert (petition.latitude, petition.longitude) == (21.712, 106.526)
    assert [a["ref"] for a in petition.attachments] == [f"photo-{n}" for n in range(5)]
    staff = [m for m in await rows(demo_db, OutboxMessage) if m.kind == "staff"]
    assert sorted(m.chat_id for m in staff) == ["admin", "canbo"]
    assert "Phản ánh mới" in staff[0].text and "Ổ gà" in staff[0].text


async def test_anonymous_feedback_is_labelled_and_staff_do_not_see_who(chat: Chat, demo_db):
    await chat.onboard()
    await feedback(chat, anonymous=True)
    assert "Không được xử lý như khiếu nại, tố cáo" in chat.text
    [petition] = await rows(demo_db, Petition)
    assert petition.anonymous
    [card, _] = [m.text for m in await rows(demo_db, OutboxMessage) if m.kind == "staff"]
    assert "Gửi ẩn danh: không hiện người gửi" in card and chat.user_id not in card
    assert await rows(demo_db, PetitionIdentity) == []


async def test_a_complaint_asks_who_files_and_explains_the_legal_filing(chat: Chat, demo_db):
    await chat.onboard()
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Khiếu nại")
    assert "phải ghi rõ họ tên và địa chỉ" in chat.text
    await chat.send("Nguyễn Văn An")
    await chat.send("Số 12, Khu Hòa Bình, xã Chi Lăng")
    await chat.send("", contact=Contact("+84912345678", "An"))
    await chat.press("Đất đai, xây dựng")
    await chat.press("Khu Hòa Bình")
    await chat.press("Bỏ qua")
    await chat.send("Quyết định thu hồi đất số 45 tính sai diện tích đất của gia đình tôi.")
    await chat.press("Bỏ qua")
    assert "Người gửi: Nguyễn Văn An" in chat.text
    await chat.press("Gửi")
    assert "KN-2026-000001" in chat.text
    assert "chưa phải đơn khiếu nại theo quy định" in chat.text
    assert "có chữ ký hoặc điểm chỉ" in chat.text
    # Received after 1/7/2026: acceptance within 7 working days (Decree 155/2026); 24/11
    # (Vietnam Culture Day) is a holiday.
    assert "Hạn báo thụ lý: chậm nhất ngày 02/12/2026." in chat.text
    [identity] = await rows(demo_db, PetitionIdentity)
    assert (identity.full_name, identity.phone) == ("Nguyễn Văn An", "+84912345678")


async def test_a_denouncers_identity_stays_apart(chat: Chat, demo_db):
    await chat.onboard()
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Tố cáo")
    assert "được giữ bí mật" in chat.text
    await chat.send("Trần Thị Bình")
    await chat.send("Thôn Nà Ca")
    await chat.press("Bỏ qua")
    await chat.press("Khác")
    await chat.press("Bỏ qua")
    await chat.press("Bỏ qua")
    await chat.send("Cán bộ địa chính nhận tiền để làm nhanh hồ sơ đất của người quen.")
    await chat.press("Bỏ qua")
    await chat.press("Gửi")
    assert "TC-2026-000001" in chat.text

    staff = [m.text for m in await rows(demo_db, OutboxMessage) if m.kind == "staff"]
    assert staff and all("Trần Thị Bình" not in t and "nhận tiền" not in t for t in staff)
    logged = " ".join(str(vars(r)) for r in await rows(demo_db, InteractionLog))
    assert "Trần Thị Bình" not in logged and "nhận tiền" not in logged
    async with demo_db.session() as session:
        petition = await service.by_code(session, "tc-2026-000001")
        with pytest.raises(service.PetitionError):
            await service.identity_of(session, petition, {"resident", "staff", "admin"})
        identity = await service.identity_of(session, petition, {"staff", "investigator"})
    assert identity.full_name == "Trần Thị Bình"


async def test_statuses_follow_the_rules_and_the_resident_hears_each_change(
    chat: Chat, demo_db, clock
):
    await chat.onboard()
    await feedback(chat)
    async with demo_db.session() as session:
        settings = service.Settings.of(await Communes(session).current())
        petition = await service.by_code(session, "PA-2026-000001")
        # Feedback is never "accepted" (thụ lý is a complaint word) nor refused.
        with pytest.raises(service.PetitionError, match="cannot go from received to accepted"):
            await service.change_status(session, petition, "accepted", actor="cli:t",
                                        now=NOW, timezone=TZ, settings=settings)
        with pytest.raises(service.PetitionError, match="cannot go from received to refused"):
            await service.change_status(session, petition, "refused", actor="cli:t",
                                        now=NOW, timezone=TZ, settings=settings, reason="x")
        with pytest.raises(service.PetitionError, match="reason"):
            await service.change_status(session, petition, "forwarded", actor="cli:t",
                                        now=NOW, timezone=TZ, settings=settings)
        for status in ("in_progress",):
            await service.change_status(session, petition, status, actor="cli:t", now=NOW,
                                        timezone=TZ, settings=settings)
        await service.answer(session, petition, "Đã thay bóng đèn ngày 22/11.", actor="cli:t",
                             now=NOW, timezone=TZ)
        await session.commit()
    notices = [m for m in await rows(demo_db, OutboxMessage) if m.kind == "petition"]
    assert [n.text.split("\n")[0] for n in notices] == [
        "Phản ánh PA-2026-000001 của Anh/Chị: Đang xử lý.",
        "Phản ánh PA-2026-000001 của Anh/Chị đã có trả lời của UBND xã:",
    ]
    assert all(n.chat_id == chat.user_id for n in notices)

    await chat.send(payload=notices[-1].buttons[0][1])  # "Xem" from the notice
    assert "Đã thay bóng đèn" in chat.text
    assert "• 20/11/2026: Đang xử lý\n" in chat.text  # plain words, said once
    assert "xác minh" not in chat.text and "thụ lý" not in chat.text
    await chat.press("Đánh giá câu trả lời")
    await chat.press("4")
    assert "Anh/Chị đánh giá: 4/5" in chat.text
    await chat.press("Mở lại")
    await chat.send("Đèn lại hỏng sau hai ngày.")
    assert "Đã mở lại" in chat.text
    [petition] = await rows(demo_db, Petition)
    assert (petition.status, petition.rating) == ("reopened", 4)
    reopened = [m for m in await rows(demo_db, OutboxMessage) if m.kind == "staff"]
    assert any("đề nghị xem xét lại" in m.text for m in reopened)


async def test_reopening_is_refused_after_seven_days(chat: Chat, demo_db, clock):
    await chat.onboard()
    await feedback(chat)
    async with demo_db.session() as session:
        settings = service.Settings.of(await Communes(session).current())
        petition = await service.by_code(session, "PA-2026-000001")
        await service.change_status(session, petition, "in_progress", actor="cli:t", now=NOW,
                                    timezone=TZ, settings=settings)
        await service.answer(session, petition, "Đã xử lý.", actor="cli:t", now=NOW,
                             timezone=TZ)
        await session.commit()
    clock.now = NOW + timedelta(days=8)
    await chat.send(payload="go:petition:PA-2026-000001")
    assert "Mở lại" not in chat.labels and "Đánh giá câu trả lời" in chat.labels


async def test_nobody_reads_someone_elses_petition(engine: Engine, demo_db):
    owner, other = Chat(engine, user_id="owner"), Chat(engine, user_id="other")
    await owner.onboard()
    await feedback(owner)
    await other.onboard()
    await other.press("Phản ánh của tôi")
    assert "chưa gửi phản ánh nào" in other.text
    await other.send(payload="go:petition:PA-2026-000001")
    assert "Không tìm thấy phản ánh nào có mã này" in other.text
    assert "Đèn đường" not in other.text
    await owner.press("Phản ánh của tôi")
    await owner.send("pa-2026-000001")  # typed, lower case
    assert "Đèn đường hỏng" in owner.text
    await owner.send("PA-2026-999999")
    assert "Không tìm thấy" in owner.text


async def test_at_most_five_a_day_told_before_any_typing(chat: Chat, demo_db, clock):
    await chat.onboard()
    for n in range(5):
        await feedback(chat, text=f"Phản ánh số {n}: cống thoát nước bị tắc ở ngõ {n}.",
                       field=["Đường sá, giao thông", "Điện chiếu sáng", "Khác",
                              "An ninh, trật tự", "Chính sách xã hội"][n])
    assert "PA-2026-000005" in chat.text
    await chat.press("Gửi phản ánh, kiến nghị")  # the sixth: told now, not after typing it
    assert "Hôm nay Anh/Chị đã gửi 5 phản ánh, là số tối đa trong một ngày" in chat.text
    assert "gửi tiếp vào ngày mai" in chat.text
    assert "Phản ánh, kiến nghị" not in chat.labels and "Phản ánh của tôi" in chat.labels
    assert len(await rows(demo_db, Petition)) == 5
    clock.now = NOW + timedelta(days=1)
    await feedback(chat, text="Ngày hôm sau gửi được rồi, cống vẫn tắc.", field="Khác",
                   hamlet="Thôn Quán Sơn")
    assert "PA-2026-000006" in chat.text


async def test_a_similar_open_petition_is_offered_to_follow(engine: Engine, demo_db):
    first, second = Chat(engine, user_id="a"), Chat(engine, user_id="b")
    await first.onboard()
    await feedback(first, text="Đèn đường trước nhà văn hóa bị hỏng, buổi tối rất tối.")
    await second.onboard()
    await feedback(second, text="Đèn đường ở nhà văn hóa hỏng rồi, tối không nhìn thấy gì.")
    assert "Đã có một phản ánh tương tự" in second.text and "PA-2026-000001" in second.text
    await second.press("Theo dõi phản ánh đó")
    assert len(await rows(demo_db, Petition)) == 1
    async with demo_db.session() as session:
        settings = service.Settings.of(await Communes(session).current())
        petition = await service.by_code(session, "PA-2026-000001")
        await service.change_status(session, petition, "in_progress", actor="cli:t", now=NOW,
                                    timezone=TZ, settings=settings)
        await session.commit()
    to_follower = [m for m in await rows(demo_db, OutboxMessage) if m.chat_id == "b"]
    assert len(to_follower) == 1 and "mà Anh/Chị theo dõi" in to_follower[0].text


async def test_the_daily_digest_reaches_staff_once_a_day(chat: Chat, demo_db):
    await chat.onboard()
    await feedback(chat)
    morning = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 08:00; answer due Monday 14/12
    assert await scheduler.petition_digest(demo_db, TZ, morning) == 2  # admin and canbo
    assert await scheduler.petition_digest(demo_db, TZ, morning) == 0  # same day: once
    digest = [m for m in await rows(demo_db, OutboxMessage) if "sắp đến hạn" in m.text]
    assert "PA-2026-000001 — hạn 14/12/2026" in digest[0].text
    later = datetime(2026, 12, 15, 1, 0, tzinfo=UTC)
    assert await scheduler.petition_digest(demo_db, TZ, later) == 2
    overdue = [m for m in await rows(demo_db, OutboxMessage) if "QUÁ HẠN" in m.text]
    assert len(overdue) == 2


def test_deadlines_across_tet_a_weekend_and_make_up_days():
    received = date(2026, 2, 12)  # Thursday before Tết (holidays 16-20/2/2026)
    rule = rules.rule_for("feedback", "accept", received)
    assert rules.due_date(rule, received, Calendar()) == date(2026, 3, 5)
    with_make_up = Calendar.of(make_up_days=[date(2026, 2, 14)])  # a Saturday worked
    assert rules.due_date(rule, received, with_make_up) == date(2026, 3, 4)
    extra_day_off = Calendar.of(days_off=[date(2026, 3, 2)])
    assert rules.due_date(rule, received, extra_day_off) == date(2026, 3, 6)
    resolve = rules.rule_for("complaint", "resolve", received)
    # 30 calendar days end on Saturday 14/3: the next working day (Civil Code Art. 148(5)).
    assert rules.due_date(resolve, received, Calendar()) == date(2026, 3, 16)
    assert rules.due_date(resolve, received, Calendar(), remote=True, complex_case=True) == (
        date(2026, 4, 13))


def test_the_rule_in_force_on_the_filing_day_is_used():
    before = rules.rule_for("complaint", "accept", date(2026, 6, 30))
    after = rules.rule_for("complaint", "accept", date(2026, 7, 1))
    assert (before.days, after.days) == (10, 7)
    assert before.version != after.version
    with pytest.raises(LookupError):
        rules.rule_for("complaint", "accept", date(2020, 1, 1))


def test_the_status_machine():
    allowed = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert ("received", "accepted") in allowed and ("answered", "reopened") in allowed
    assert ("received", "answered") not in allowed and ("closed", "reopened") not in allowed
    assert all(status in LEGAL_STEPS for status in TRANSITIONS)


async def test_commune_settings_change_the_limit_and_fields(demo_db):
    async with demo_db.session() as session:
        commune = await Communes(session).current()
        commune.options = {"petitions": {"daily_limit": 2, "feedback_answer_days": 5,
                                         "fields": [{"code": "water", "name": "Nước sạch"}]},
                           "calendar": {"make_up_days": ["2026-11-21"]}}
        await session.commit()
        settings = service.Settings.of(await Communes(session).current())
    assert settings.daily_limit == 2 and settings.fields == (("water", "Nước sạch"),)
    assert settings.field_label("water", "en") == "Nước sạch"
    rule = rules.rule_for("feedback", "resolve", date(2026, 11, 20), settings.rules)
    # 5 working days after Friday 20/11 with Saturday 21/11 worked and 24/11 a holiday.
    assert rules.due_date(rule, date(2026, 11, 20), settings.calendar) == date(2026, 11, 27)


async def test_a_deep_link_opens_my_petition_and_nobody_elses(engine: Engine, demo_db):
    owner, other = Chat(engine, user_id="owner"), Chat(engine, user_id="other")
    await owner.onboard()
    await feedback(owner)
    await owner.send("/start pa_PA-2026-000001")
    assert owner.text.startswith("Phản ánh PA-2026-000001") and "Đèn đường hỏng" in owner.text
    await other.onboard()
    await other.send("/start pa_PA-2026-000001")
    assert "Không tìm thấy" in other.text and "Đèn đường" not in other.text
