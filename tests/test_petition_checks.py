"""Checks before work, not after (issue 18, item 5), for petitions: a similar open petition
of the same resident offers "Bổ sung vào PA-…" (the new text and files go to its timeline,
and staff are shown them) or "Gửi phản ánh mới", never "follow" one's own petition. The
daily limit told at the start is in tests/test_petitions.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.messages import Attachment
from bot.services import petition_intake
from storage.db import Database
from storage.models import OutboxMessage, Petition, PetitionEvent
from tests.conftest import PSEUDONYM_KEY, Chat, Clock

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday 09:00 in Hà Nội
FIRST = "Đèn đường trước chợ Chi Lăng hỏng ba hôm nay, buổi tối rất tối."
AGAIN = "Đèn đường trước chợ Chi Lăng vẫn hỏng, tối qua có người ngã xe."


@pytest.fixture
def engine(demo_db: Database) -> Engine:
    Clock(NOW)
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


async def rows(db: Database, model: type) -> list:
    async with db.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def draft(chat: Chat, text: str, photo: str | None = None) -> None:
    """Feedback up to its review card, sent with a name and phone number."""
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Phản ánh, kiến nghị")
    await chat.press("Gửi kèm tên và số điện thoại")
    await chat.send("Lò Thị Mai")
    await chat.send("0912345678")
    for label in ("Điện chiếu sáng", "Khu Hòa Bình", "Bỏ qua"):
        await chat.press(label)
    await chat.send(text)
    if photo:
        await chat.send("", attachments=(Attachment("photo", photo, name=f"{photo}.jpg"),))
        await chat.press("Xong")
    else:
        await chat.press("Bỏ qua")
    assert "Anh/Chị kiểm tra lại trước khi gửi" in chat.text


async def test_a_similar_petition_of_ones_own_is_added_to_not_followed(engine: Engine,
                                                                        demo_db: Database):
    chat = Chat(engine, user_id="mai")
    await chat.onboard()
    await draft(chat, FIRST, photo="den-1")
    await chat.press("Gửi")
    assert "PA-2026-000001" in chat.text

    await draft(chat, AGAIN, photo="den-2")
    await chat.press("Gửi")
    assert ("Ngày 02/12/2026 Anh/Chị đã gửi nội dung tương tự, đang được xử lý: "
            "Phản ánh PA-2026-000001") in chat.text
    assert f"“{FIRST}”" in chat.text
    assert chat.labels == ["Bổ sung vào PA-2026-000001", "Gửi phản ánh mới"]
    assert "Theo dõi phản ánh đó" not in chat.labels
    await chat.press("Bổ sung vào PA-2026-000001")
    assert chat.text == ("Đã bổ sung vào Phản ánh PA-2026-000001. Cán bộ đang xử lý đã được "
                         "báo. Đã đính kèm thêm 1 tệp.")

    [petition] = await rows(demo_db, Petition)  # no second petition
    assert [a["ref"] for a in petition.attachments] == ["den-1", "den-2"]
    [added] = [e for e in await rows(demo_db, PetitionEvent) if e.kind == "addition"]
    assert (added.petition_id, added.actor, added.note) == (petition.id, "resident", AGAIN)
    staff = [m for m in await rows(demo_db, OutboxMessage)
             if m.kind == "staff" and m.chat_id == "canbo"]
    assert len(staff) == 2  # the new petition, then the addition
    assert staff[1].text.startswith("Người dân gửi bổ sung thông tin\nPA-2026-000001")
    assert f"bổ sung thông tin: “{AGAIN}” — người dân" in staff[1].text
    assert [a["ref"] for a in staff[1].attachments] == ["den-1", "den-2"]
    async with demo_db.session() as session:  # an addition is not a new petition
        assert await petition_intake.sent_today(session, petition.user_id, NOW, TZ) == 1

    await chat.press("Phản ánh của tôi")
    await chat.press("PA-2026-000001")
    assert "• 02/12/2026: Anh/Chị đã bổ sung thông tin" in chat.text


async def test_a_similar_petition_of_ones_own_can_still_be_sent_as_new(engine: Engine,
                                                                        demo_db: Database):
    chat = Chat(engine, user_id="mai")
    await chat.onboard()
    await draft(chat, FIRST)
    await chat.press("Gửi")
    await draft(chat, AGAIN)
    await chat.press("Gửi")
    await chat.press("Gửi phản ánh mới")
    assert "Mã theo dõi của Anh/Chị là PA-2026-000002" in chat.text
    assert [p.description for p in await rows(demo_db, Petition)] == [FIRST, AGAIN]
    assert not [e for e in await rows(demo_db, PetitionEvent) if e.kind == "addition"]


async def test_an_answered_petition_is_not_offered_to_add_to(engine: Engine,
                                                             demo_db: Database):
    chat = Chat(engine, user_id="mai")
    await chat.onboard()
    await draft(chat, FIRST)
    await chat.press("Gửi")
    async with demo_db.session() as session:
        [petition] = (await session.exec(select(Petition))).all()
        petition.status = "answered"
        session.add(petition)
        await session.commit()
    await draft(chat, AGAIN)
    await chat.press("Gửi")
    assert "Mã theo dõi của Anh/Chị là PA-2026-000002" in chat.text
