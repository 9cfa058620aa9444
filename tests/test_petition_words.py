"""Petition types told apart and deadlines told once and right (issue 18, item 7): a
complaint's receipt, "Phản ánh của tôi", the staff card and the notice show the same
acceptance deadline, then after "Thụ lý" the same answer deadline, "chậm nhất ngày …";
feedback reads plain statuses and never "thụ lý"; each notice names its type; the
anonymous choice changes what staff see."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.services import petitions as service
from bot.services.dispatcher import Dispatcher
from storage.db import Database
from storage.models import OutboxMessage, Petition, PetitionIdentity
from storage.repositories import Communes
from tests.conftest import PSEUDONYM_KEY, Chat, Clock
from tests.test_petition_desk import CLERK, RESIDENT, onboard, setup
from tests.test_telegram import TgUser, fake, hook  # noqa: F401  (fixtures)

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday 09:00 in Hà Nội


async def deliver(db: Database, hook) -> int:  # noqa: F811
    dispatcher = Dispatcher(db, {"telegram": hook.runtime.channel}, pseudonym_key=PSEUDONYM_KEY)
    return await dispatcher.dispatch_due()


async def rows(db: Database, model: type) -> list:
    async with db.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def move(db: Database, code: str, status: str, *, reason: str | None = None) -> None:
    async with db.session() as session:
        settings = service.Settings.of(await Communes(session).current())
        petition = await service.by_code(session, code)
        if status == "answered":
            await service.answer(session, petition, reason or "Đã xử lý xong.", actor="cli:t",
                                 now=NOW, timezone=TZ)
        else:
            await service.change_status(session, petition, status, actor="cli:t", now=NOW,
                                        timezone=TZ, settings=settings, reason=reason)
        await session.commit()


async def test_a_complaint_shows_one_acceptance_deadline_then_one_answer_deadline(
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
    for label in ("Bỏ qua", "Đất đai, xây dựng", "Khu Hòa Bình", "Bỏ qua"):
        await resident.press(label)
    await resident.send("Quyết định thu hồi đất số 45 tính sai diện tích đất của gia đình tôi.")
    await resident.press("Bỏ qua")
    await resident.press("Gửi")
    # Received Wednesday 2/12/2026: acceptance within 7 working days (from 1/7/2026).
    accept = "Hạn báo thụ lý: chậm nhất ngày 11/12/2026"
    receipt = resident.text
    assert "Mã theo dõi của Anh/Chị là KN-2026-000001" in receipt
    assert accept + "." in receipt
    assert "Hạn trả lời" not in receipt and "trước ngày" not in receipt

    await resident.press("Phản ánh của tôi")
    assert ("• KN-2026-000001 — Khiếu nại: Đã tiếp nhận, chờ thụ lý. " + accept + ".") \
        in resident.text
    await resident.press("KN-2026-000001")
    shown = resident.text
    assert shown.startswith("Khiếu nại KN-2026-000001\n")
    assert "Trạng thái: Đã tiếp nhận, chờ thụ lý\n" + accept + "\n" in shown
    assert shown.endswith("Quá trình xử lý:\n• 02/12/2026: Đã tiếp nhận")  # said once
    assert "Hạn trả lời" not in shown

    await deliver(demo_db, hook)
    [card] = [c for c in fake.of("sendMessage", CLERK) if "KN-2026-000001" in
              c.params.get("text", "")]
    assert accept in card.params["text"]  # the staff card: the same words and day

    Clock(NOW + timedelta(days=2))  # Friday 4/12: the clerk accepts it
    await clerk.press("Thụ lý", on=card)
    # 30 calendar days from 4/12 end on Sunday 3/1/2027: the next working day (Art. 148(5)).
    answer = "Hạn trả lời: chậm nhất ngày 04/01/2027"
    assert answer in clerk.text
    [complaint] = await rows(demo_db, Petition)
    assert complaint.answer_due == date(2027, 1, 4)

    await deliver(demo_db, hook)
    notice = fake.of("sendMessage", RESIDENT)[-1]
    assert notice.params["text"] == (
        "Khiếu nại KN-2026-000001 của Anh/Chị: Đã thụ lý, đang xem xét.\n" + answer + ".")
    await resident.press("Xem", on=notice)
    shown = resident.text
    assert "Trạng thái: Đã thụ lý, đang xem xét\n" + answer + "\n" in shown
    assert "Hạn báo thụ lý" not in shown
    assert shown.count("thụ lý") == 2  # the status and its timeline line, each once
    assert "• 04/12/2026: Đã thụ lý, đang xem xét" in shown
    await resident.press("Phản ánh của tôi")
    assert ("• KN-2026-000001 — Khiếu nại: Đã thụ lý, đang xem xét. " + answer + ".") \
        in resident.text


@pytest.fixture
def engine(demo_db: Database) -> Engine:
    Clock(NOW)
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


async def send_feedback(chat: Chat, *, anonymous: bool,
                        text: str = "Đèn đường trước chợ hỏng ba hôm nay, tối rất nguy hiểm."
                        ) -> str:
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Phản ánh, kiến nghị")
    if anonymous:
        await chat.press("Gửi ẩn danh")
    else:
        await chat.press("Gửi kèm tên và số điện thoại")
        assert "để cán bộ gọi lại khi cần" in chat.text
        await chat.send("Lò Thị Mai")
        assert "Số điện thoại để cán bộ xã gọi lại cho Anh/Chị" in chat.text
        await chat.send("0912 345 678")
    for label in ("Điện chiếu sáng", "Khu Hòa Bình", "Bỏ qua"):
        await chat.press(label)
    await chat.send(text)
    await chat.press("Bỏ qua")
    review = chat.text
    await chat.press("Gửi")
    return review


async def test_feedback_reads_plain_statuses_and_never_thu_ly(engine: Engine,
                                                              demo_db: Database):
    chat = Chat(engine, user_id="hoa")
    await chat.onboard()
    await send_feedback(chat, anonymous=False)
    said = [chat.text]
    assert "Hạn trả lời: chậm nhất ngày 23/12/2026." in chat.text  # 15 working days
    await move(demo_db, "PA-2026-000001", "in_progress")
    await move(demo_db, "PA-2026-000001", "answered", reason="Đã thay bóng đèn.")
    notices = [m.text for m in await rows(demo_db, OutboxMessage) if m.kind == "petition"]
    assert notices == [
        "Phản ánh PA-2026-000001 của Anh/Chị: Đang xử lý.\n"
        "Hạn trả lời: chậm nhất ngày 23/12/2026.",
        "Phản ánh PA-2026-000001 của Anh/Chị đã có trả lời của UBND xã:\n\nĐã thay bóng đèn.",
    ]
    await chat.press("Phản ánh của tôi")
    said.append(chat.text)
    assert "• PA-2026-000001 — Phản ánh, kiến nghị: Đã trả lời.\n" in chat.text + "\n"
    await chat.press("PA-2026-000001")
    said.append(chat.text)
    assert "• 02/12/2026: Đã tiếp nhận\n• 02/12/2026: Đang xử lý\n• 02/12/2026: Đã trả lời" \
        in chat.text
    for text in said + notices:
        assert "thụ lý" not in text and "xác minh" not in text and "trước ngày" not in text


async def test_each_notice_names_the_type_of_petition(engine: Engine, demo_db: Database):
    chat = Chat(engine, user_id="binh")
    await chat.onboard()
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Tố cáo")
    await chat.send("Trần Thị Bình")
    await chat.send("Thôn Nà Ca")
    for label in ("Bỏ qua", "Khác", "Bỏ qua", "Bỏ qua"):
        await chat.press(label)
    await chat.send("Cán bộ địa chính nhận tiền để làm nhanh hồ sơ đất của người quen.")
    await chat.press("Bỏ qua")
    await chat.press("Gửi")
    assert "Hạn báo thụ lý: chậm nhất ngày 11/12/2026." in chat.text
    await move(demo_db, "TC-2026-000001", "refused", reason="Không thuộc thẩm quyền của xã.")
    [notice] = [m.text for m in await rows(demo_db, OutboxMessage) if m.chat_id == "binh"]
    assert notice == ("Tố cáo TC-2026-000001 của Anh/Chị: Không thụ lý.\n"
                      "Ghi chú: Không thuộc thẩm quyền của xã.")
    await chat.press("Phản ánh của tôi")
    assert "• TC-2026-000001 — Tố cáo: Không thụ lý." in chat.text
    assert "Hạn" not in chat.text  # no deadline once refused
    assert "Phản ánh TC-" not in chat.text and "Phản ánh TC-" not in notice


async def test_the_anonymous_choice_changes_what_staff_see(engine: Engine, demo_db: Database):
    named, hidden = Chat(engine, user_id="mai"), Chat(engine, user_id="u-an-danh")
    await named.onboard()
    await named.press("Gửi phản ánh, kiến nghị")
    await named.press("Phản ánh, kiến nghị")
    assert named.labels[:2] == ["Gửi kèm tên và số điện thoại", "Gửi ẩn danh"]
    assert "cán bộ xã có thể gọi lại cho Anh/Chị" in named.text
    assert ("cán bộ xã không thấy ai gửi và không gọi lại được cho Anh/Chị; câu trả lời vẫn "
            "được gửi đến Anh/Chị ngay trong khung trò chuyện này") in named.text
    await named.press("Menu chính")
    await named.press("Bỏ bản nháp")
    review = await send_feedback(named, anonymous=False)
    assert "Người gửi: Lò Thị Mai, điện thoại 0912345678 (cán bộ xã có thể gọi lại)" in review
    await hidden.onboard()
    review = await send_feedback(hidden, anonymous=True,
                                 text="Rác đổ trộm ở bờ suối cạnh cầu, bốc mùi khó chịu.")
    assert "Gửi ẩn danh: cán bộ xã không biết người gửi và không gọi lại được" in review
    assert "Gửi ẩn danh" in hidden.text  # the receipt says it again

    first, second = await rows(demo_db, Petition)
    assert (first.anonymous, second.anonymous) == (False, True)
    [identity] = await rows(demo_db, PetitionIdentity)
    assert (identity.petition_id, identity.full_name, identity.phone) == (
        first.id, "Lò Thị Mai", "0912345678")
    cards = {m.text.split("\n")[1].split(" — ")[0]: m.text
             for m in await rows(demo_db, OutboxMessage) if m.kind == "staff"}
    assert "Người gửi: Lò Thị Mai\nĐiện thoại: 0912345678" in cards["PA-2026-000001"]
    anonymous_card = cards["PA-2026-000002"]
    assert "Gửi ẩn danh: không hiện người gửi, không có số để gọi lại" in anonymous_card
    assert "Người gửi" not in anonymous_card and "Điện thoại" not in anonymous_card
    assert "u-an-danh" not in anonymous_card

    await move(demo_db, "PA-2026-000002", "answered", reason="Đã thu gom rác bờ suối.")
    answer = [m for m in await rows(demo_db, OutboxMessage) if m.kind == "petition"][-1]
    assert answer.chat_id == "u-an-danh" and "Đã thu gom rác bờ suối." in answer.text
