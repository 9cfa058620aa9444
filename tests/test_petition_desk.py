"""The petition desk on Telegram, end to end against the fake Bot API: a resident's feedback
with two photos and a location pin reaches a clerk (privately when no staff group is
linked, else in the staff group), who takes it, moves it on and answers with text and a
photo; the resident gets the answer with the photo and rates it. A complaint shows its
acceptance deadline, and "Không thụ lý" asks for the reason the resident then reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.services import groups, roles
from bot.services.dispatcher import Dispatcher
from storage.db import Database
from storage.models import Petition
from tests.conftest import PSEUDONYM_KEY, Clock
from tests.fake_telegram import BOT_ID
from tests.test_telegram import STAFF_CHAT, TgUser, fake, hook  # noqa: F401  (fixtures)

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday 09:00 in Hà Nội
CLERK, RESIDENT = 901, 555
PIN = {"latitude": 21.85, "longitude": 106.77}


def photo(file_id: str) -> list[dict[str, Any]]:
    """A Telegram photo message's sizes (the largest last)."""
    return [{"file_id": f"{file_id}-small", "file_unique_id": f"s{file_id}", "width": 90,
             "height": 90},
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280,
             "height": 960, "file_size": 120_000}]


def to_bot() -> dict[str, Any]:
    """`reply_to_message` of a message that answers one of the bot's messages."""
    return {"message_id": 1, "date": 0, "chat": {"id": STAFF_CHAT, "type": "supergroup"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Civic"}, "text": "…"}


async def deliver(db: Database, hook) -> int:  # noqa: F811
    dispatcher = Dispatcher(db, {"telegram": hook.runtime.channel}, pseudonym_key=PSEUDONYM_KEY)
    return await dispatcher.dispatch_due()


async def onboard(user: TgUser) -> None:
    await user.send("/start")
    await user.press("Tiếng Việt")
    await user.press("Đồng ý")
    await user.press("Khu Hòa Bình")


async def setup(db: Database, *, staff_group: bool) -> None:
    Clock(NOW)
    async with db.session() as session:
        await roles.grant(session, "telegram", str(CLERK), "staff", actor="test",
                          name="Anh Minh (văn phòng)")
        if staff_group:
            await groups.link(session, "telegram", str(STAFF_CHAT), staff=True, actor="test")
        await session.commit()


async def send_feedback(resident: TgUser) -> str:
    """Feedback with a location pin and two photos, through the resident's chat."""
    await onboard(resident)
    for label in ("Gửi phản ánh, kiến nghị", "Phản ánh, kiến nghị",
                  "Gửi kèm tên và số điện thoại"):
        await resident.press(label)
    await resident.send("Lò Thị Mai")
    await resident.send("0912 345 678")
    for label in ("Điện chiếu sáng", "Khu Hòa Bình"):
        await resident.press(label)
    await resident.send(location=PIN)
    await resident.send("Đèn đường trước chợ Chi Lăng hỏng ba hôm nay, tối rất nguy hiểm.")
    await resident.send(photo=photo("res-1"))
    await resident.send(photo=photo("res-2"))
    assert "2 tệp đã đính kèm" in resident.text
    await resident.press("Xong")
    await resident.press("Gửi")
    assert "PA-2026-000001" in resident.text
    return "PA-2026-000001"


async def resident_reads_and_rates(resident: TgUser, fake) -> None:  # noqa: F811
    answer = next(c for c in fake.of("sendMessage", RESIDENT)
                  if "Phản ánh PA-2026-000001 của Anh/Chị đã có trả lời của UBND xã"
                  in c.params.get("text", ""))
    assert "Đã thay bóng đèn mới sáng nay" in answer.params["text"]
    assert "Đèn đã sáng trở lại" in answer.params["text"]  # both messages of the draft
    [sent_photo] = fake.of("sendPhoto", RESIDENT)
    assert sent_photo.params["photo"] == "answer-1"  # the clerk's photo, by its file id
    await resident.press("Xem", on=answer)
    await resident.press("Đánh giá câu trả lời")
    thanks, view = await resident.press("5", replies=2)
    assert "Cảm ơn Anh/Chị đã đánh giá" in thanks.params["text"]
    assert "Anh/Chị đánh giá: 5/5" in view.params["text"]


async def test_without_a_staff_group_the_clerk_handles_a_petition_in_a_private_chat(
    hook, demo_db, fake,  # noqa: F811
):
    await setup(demo_db, staff_group=False)
    clerk, resident = TgUser(hook, CLERK), TgUser(hook, RESIDENT)
    await onboard(clerk)
    code = await send_feedback(resident)
    assert await deliver(demo_db, hook) == 1  # the clerk privately (console staff: no channel)

    [card] = [c for c in fake.of("sendMessage", CLERK) if code in c.params.get("text", "")]
    text = card.params["text"]
    assert text.startswith("Phản ánh mới\nPA-2026-000001 — Phản ánh, kiến nghị")
    assert "Hạn trả lời: chậm nhất ngày" in text and "Người xử lý: chưa giao" in text
    assert "Người gửi: Lò Thị Mai\nĐiện thoại: 0912345678" in text  # named: staff can call
    assert "Khu Hòa Bình" in text and "Đèn đường trước chợ" in text
    assert "python -m bot" not in text and "telegram:" not in text
    assert card.labels == ["Nhận xử lý", "Đang xử lý", "Trả lời", "Chuyển đơn", "Giao cho",
                           "Xem ảnh, tệp (2)", "Xem vị trí"]
    [album] = fake.of("sendMediaGroup", CLERK)  # both photos as one album
    assert [m["media"] for m in album.params["media"]] == ["res-1", "res-2"]
    [pin] = fake.of("sendLocation", CLERK)
    assert (pin.params["latitude"], pin.params["longitude"]) == (21.85, 106.77)

    await clerk.press("Nhận xử lý", on=card)
    assert "PA-2026-000001 do Anh Minh (văn phòng) xử lý." in clerk.text
    assert "Người xử lý: Anh Minh (văn phòng)" in clerk.text
    await clerk.press("Đang xử lý")
    assert "PA-2026-000001: Đang xác minh, xử lý. Người dân đã được báo." in clerk.text
    assert "Thụ lý" not in clerk.last.labels
    await clerk.press("Xem vị trí")
    assert len(fake.of("sendLocation", CLERK)) == 2

    await clerk.press("Trả lời")
    assert "Anh/Chị viết câu trả lời PA-2026-000001" in clerk.text
    await clerk.send("Đã thay bóng đèn mới sáng nay.")
    assert "Xem trước câu trả lời PA-2026-000001" in clerk.text
    await clerk.send("Đèn đã sáng trở lại.", photo=photo("answer-1"))
    assert "1 tệp đã đính kèm." in clerk.text
    assert clerk.last.labels == ["Gửi trả lời", "Sửa", "Hủy"]
    await clerk.press("Gửi trả lời")
    assert "Đã gửi trả lời PA-2026-000001 cho người dân." in clerk.text

    await deliver(demo_db, hook)
    await resident_reads_and_rates(resident, fake)
    async with demo_db.session() as session:
        petition = (await session.exec(select(Petition))).one()
    assert (petition.status, petition.rating, petition.assignee) == (
        "answered", 5, f"telegram:{CLERK}")


async def test_with_a_staff_group_the_clerk_handles_a_petition_in_the_group(
    hook, demo_db, fake,  # noqa: F811
):
    await setup(demo_db, staff_group=True)
    resident = TgUser(hook, RESIDENT)
    await send_feedback(resident)
    assert await deliver(demo_db, hook) == 1  # the staff group only
    [card] = fake.of("sendMessage", STAFF_CHAT)
    assert len(fake.of("sendMediaGroup", STAFF_CHAT)) == 1
    assert len(fake.of("sendLocation", STAFF_CHAT)) == 1

    clerk = TgUser(hook, CLERK, chat_id=STAFF_CHAT)
    await clerk.send("/help")
    assert clerk.text.startswith("Lệnh dành cho cán bộ xã:")  # not the resident's help
    await clerk.press("Nhận xử lý", on=card)
    assert "do Anh Minh (văn phòng) xử lý" in clerk.text
    await clerk.press("Đang xử lý")
    await clerk.press("Trả lời")
    assert clerk.last.params["reply_markup"] == {"force_reply": True}  # privacy mode on
    await clerk.send("Ai đó nói chuyện khác trong nhóm.", replies=0)  # not a reply: ignored
    await clerk.send("Đã thay bóng đèn mới sáng nay.", reply_to_message=to_bot())
    assert "Trả lời (reply) tin nhắn này để bổ sung" in clerk.text
    await clerk.send(None, photo=photo("answer-1"), caption="Đèn đã sáng trở lại.",
                     reply_to_message=to_bot())
    assert "1 tệp đã đính kèm." in clerk.text
    outsider = TgUser(hook, 511, chat_id=STAFF_CHAT)
    await outsider.press("Gửi trả lời", replies=0, on=clerk.last)
    await clerk.press("Gửi trả lời")
    assert "Đã gửi trả lời PA-2026-000001 cho người dân." in clerk.text

    await deliver(demo_db, hook)
    await resident_reads_and_rates(resident, fake)


async def test_a_complaint_shows_its_acceptance_deadline_and_a_refusal_gives_the_reason(
    hook, demo_db, fake,  # noqa: F811
):
    await setup(demo_db, staff_group=False)
    clerk, resident = TgUser(hook, CLERK), TgUser(hook, RESIDENT)
    await onboard(clerk)
    await onboard(resident)
    await resident.press("Gửi phản ánh, kiến nghị")
    await resident.press("Khiếu nại")
    await resident.send("Nguyễn Văn An")
    await resident.send("Số 12, Khu Hòa Bình, xã Chi Lăng")
    await resident.press("Bỏ qua")
    for label in ("Đất đai, xây dựng", "Khu Hòa Bình", "Bỏ qua"):
        await resident.press(label)
    await resident.send("Quyết định thu hồi đất số 45 tính sai diện tích đất của gia đình tôi.")
    await resident.press("Bỏ qua")
    await resident.press("Gửi")
    await deliver(demo_db, hook)

    [card] = [c for c in fake.of("sendMessage", CLERK) if "KN-2026-000001" in
              c.params.get("text", "")]
    # Received 2/12/2026: acceptance within 7 working days (Decree 155/2026).
    assert "Hạn báo thụ lý: chậm nhất ngày 11/12/2026" in card.params["text"]
    assert "Hạn trả lời" not in card.params["text"]
    assert "Người gửi đơn: Nguyễn Văn An" in card.params["text"]  # a complainant is known
    assert card.labels == ["Nhận xử lý", "Thụ lý", "Không thụ lý", "Chuyển đơn", "Giao cho"]

    await clerk.send("/answer KN-2026-000001 Đã xem xét.")
    assert "chưa được thụ lý nên chưa thể trả lời" in clerk.text
    assert "/status KN-2026-000001 thụ lý" in clerk.text
    await clerk.press("Không thụ lý", on=card)
    assert "Lý do không thụ lý KN-2026-000001?" in clerk.text
    await clerk.send("Việc thu hồi đất do UBND huyện quyết định, không thuộc thẩm quyền xã.")
    assert "KN-2026-000001: Không thụ lý. Đã báo người dân, kèm lý do." in clerk.text
    assert clerk.last.labels == ["Đóng"]

    await deliver(demo_db, hook)
    told = fake.of("sendMessage", RESIDENT)[-1].params["text"]
    assert "KN-2026-000001" in told and "Không thụ lý" in told
    assert "không thuộc thẩm quyền xã" in told
