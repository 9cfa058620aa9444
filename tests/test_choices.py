"""Stories of choices people read and type: dates with two-digit years, "5 sao", phone numbers
with brackets, hamlets typed as people say them, in the console chat."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.engine import Engine
from bot.messages import Contact
from bot.services import petitions as service
from bot.services import roles
from storage.db import Database
from storage.models import Disclosure, Petition, PetitionIdentity
from tests.conftest import Chat, Clock

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday 2/12/2026, 09:00 in Hà Nội


async def _staff(engine: Engine, db: Database) -> Chat:
    async with db.session() as session:
        await roles.grant(session, "console", "canbo1", "staff", actor="test")
        await session.commit()
    staff = Chat(engine, user_id="canbo1")
    await staff.onboard()
    return staff


async def test_30_11_26_is_read_as_30_11_2026_and_a_past_date_is_told_apart(
    engine: Engine, demo_db: Database,
):
    Clock(NOW)
    staff = await _staff(engine, demo_db)
    await staff.press("Đăng thông tin công khai")
    await staff.send("Kế hoạch sửa chữa trường mầm non\nSửa mái và sân trường.")
    await staff.press("3. Dự án, đất đai, quy hoạch")
    await staff.send("30/11/26")  # the decision date: two-digit years are 20yy
    assert staff.text.startswith("Niêm yết trong bao lâu?")  # accepted: the next question
    await staff.send("hôm kia")
    assert staff.text.startswith("Trợ lý chưa đọc được ngày này.")  # unreadable
    await staff.send("1/12/26")
    assert staff.text.startswith("Ngày 01/12/2026 đã qua.")  # read, but past
    await staff.send("31/12")  # this year
    await staff.press("Không lấy góp ý")
    await staff.press("Đăng")
    async with demo_db.session() as session:
        [item] = (await session.exec(select(Disclosure))).all()
    assert item.decided_on.isoformat() == "2026-11-30"
    assert item.posted_until is not None


async def _petition_answered(resident: Chat, db: Database) -> str:
    await resident.press("Gửi phản ánh, kiến nghị")
    for label in ("Phản ánh, kiến nghị", "Gửi ẩn danh", "Điện chiếu sáng", "Khu Hòa Bình",
                  "Bỏ qua"):
        await resident.press(label)
    await resident.send("Đèn đường trước chợ hỏng ba hôm nay.")
    await resident.press("Bỏ qua")
    await resident.press("Gửi")
    async with db.session() as session:
        found = (await session.exec(select(Petition))).one()
        await service.answer(session, found, "Đã thay bóng.", actor="console:canbo", now=NOW,
                             timezone=TZ)
        await session.commit()
    return found.code


async def test_5_sao_rates_the_answer_5(chat: Chat, demo_db: Database):
    Clock(NOW)
    await chat.onboard()
    code = await _petition_answered(chat, demo_db)
    await chat.send(payload=f"go:petition:{code}")
    await chat.press("Đánh giá câu trả lời")
    assert chat.labels[:5] == ["1 – Không hài lòng", "2 – Chưa hài lòng", "3 – Tạm được",
                               "4 – Hài lòng", "5 – Rất hài lòng"]
    await chat.send("5 sao")
    assert "Anh/Chị đánh giá: 5/5" in chat.text
    async with demo_db.session() as session:
        assert (await session.exec(select(Petition))).one().rating == 5


async def test_a_typed_5_is_the_fifth_rating_not_the_fifth_line(chat: Chat, demo_db: Database):
    Clock(NOW)
    await chat.onboard()
    code = await _petition_answered(chat, demo_db)
    await chat.send(payload=f"go:petition:{code}")
    await chat.press("Đánh giá câu trả lời")
    await chat.send("5")
    assert "Anh/Chị đánh giá: 5/5" in chat.text


async def test_a_landline_with_brackets_and_spaces_is_a_phone_number(
    chat: Chat, demo_db: Database,
):
    Clock(NOW)
    await chat.onboard()
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Khiếu nại")
    await chat.send("Nguyễn Văn An")
    await chat.send("Số 12, Khu Hòa Bình, xã Chi Lăng")
    assert "gõ số 1 (“Bỏ qua”)" in chat.text  # the console shows numbered choices
    await chat.send("0205 38")
    assert chat.text.startswith(
        "Số điện thoại chưa đúng. Xin Anh/Chị gõ lại (ví dụ 0912 345 678), "
        "hoặc gõ số 1 (“Bỏ qua”).")
    await chat.send("(0205) 3820 000")
    assert "lĩnh vực" in chat.text  # accepted: the next step
    await chat.press("Đất đai, xây dựng")
    await chat.send("quan son")  # the hamlet typed as people say it
    await chat.press("Bỏ qua")
    await chat.send("Quyết định thu hồi đất số 45 tính sai diện tích đất của gia đình tôi.")
    await chat.press("Bỏ qua")
    await chat.press("Gửi")
    async with demo_db.session() as session:
        [identity] = (await session.exec(select(PetitionIdentity))).all()
        [petition] = (await session.exec(select(Petition))).all()
    assert identity.phone == "02053820000"
    assert petition.hamlet_id is not None


async def test_a_hamlet_typed_at_session_registration(engine: Engine, demo_db: Database):
    from tests.test_sessions import NOW as BEFORE_THE_SESSION
    from tests.test_sessions import announce

    Clock(BEFORE_THE_SESSION)
    await announce(demo_db)
    chat = Chat(engine, user_id="77")
    await chat.onboard()
    await chat.press("Đối thoại")
    await chat.press("Đường liên thôn Nà Ca")
    await chat.press("Đăng ký")
    await chat.send("Lê Văn Chung")
    await chat.send("Na Ca")
    assert "số điện thoại" in chat.text
    await chat.send("+84 912.345.678")
    assert "Mã vé" in chat.text


async def test_a_shared_telegram_contact_is_stored_in_the_same_form(chat: Chat, demo_db):
    chat.channel = "telegram"
    Clock(NOW)
    await chat.onboard()
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Tố cáo")
    await chat.send("Nguyễn Văn An")
    await chat.send("Số 12, Khu Hòa Bình")
    await chat.send(contact=Contact("84912345678"))
    assert "lĩnh vực" in chat.text
