"""Checks before work, not after (issue 18, item 5), for consultation comments ("Góp ý"):
a comment is previewed before it is sent, counted ("còn gửi được 4 ý kiến"), listed in
"Ý kiến của tôi" and can be withdrawn until the deadline, not after; on Zalo the preview's
choices are numbered and typed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.services import consultation
from bot.services import disclosures as service
from storage.db import Database
from storage.models import DisclosureComment
from storage.repositories import Disclosures, Users
from tests.conftest import PSEUDONYM_KEY, Chat, Clock
from tests.test_zalo import ZUser, fake, hook, onboard  # noqa: F401  (fixtures)

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 10:00 in Hà Nội
TITLE = "Lấy ý kiến dự thảo kế hoạch 2027"
FIRST = "Đề nghị ưu tiên làm đường vào thôn Nà Ca trước mùa mưa."
SECOND = "Đề nghị lắp thêm đèn chiếu sáng ở ngã ba Khu Hòa Bình."


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def engine(demo_db: Database, clock: Clock) -> Engine:
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


async def consultation_item(db: Database) -> int:
    async with db.session() as session:
        item = await service.publish(
            session, service.Draft(11, TITLE, "Dự thảo kế hoạch phát triển năm 2027.",
                                   consult_until=date(2026, 12, 10)),
            actor="cli:test", now=NOW, timezone=TZ)
        await session.commit()
        return item.id


async def comments(db: Database) -> list[str]:
    async with db.session() as session:
        found = await session.exec(select(DisclosureComment).order_by(DisclosureComment.id))
        return [c.text for c in found.all()]


async def open_item(chat: Chat) -> None:
    await chat.press("Công khai thông tin")
    await chat.press("Lấy ý kiến Nhân dân")
    await chat.press(TITLE)


async def comment(chat: Chat, text: str) -> None:
    await chat.press("Góp ý")
    await chat.send(text)
    await chat.press("Gửi ý kiến")


async def test_a_comment_is_previewed_counted_listed_and_withdrawn(chat: Chat, demo_db, clock):
    item_id = await consultation_item(demo_db)
    await chat.onboard(hamlet="Thôn Nà Ca")
    await open_item(chat)
    await chat.press("Góp ý")
    assert "Anh/Chị còn gửi được 5 ý kiến về nội dung này." in chat.text
    await chat.send("ok")
    assert chat.text.startswith(f"Ý kiến của Anh/Chị về “{TITLE}”:\n\nok\n\n"
                                "Anh/Chị có gửi ý kiến này không?")
    assert chat.labels == ["Gửi ý kiến", "Sửa", "Hủy"]
    assert await comments(demo_db) == []  # nothing stored before "Gửi ý kiến"
    await chat.press("Sửa")
    assert "Anh/Chị nhập lại ý kiến:" in chat.text
    await chat.send(FIRST)
    assert f"\n\n{FIRST}\n\n" in chat.text
    await chat.press("Gửi ý kiến")
    assert "Cảm ơn Anh/Chị đã góp ý." in chat.text
    assert "Anh/Chị còn gửi được 4 ý kiến về nội dung này." in chat.text
    assert "xem hoặc rút ý kiến đã gửi trong mục “Ý kiến của tôi” đến hết ngày 10/12/2026" \
        in chat.text
    assert "Anh/Chị đã gửi 1/5 ý kiến được phép." in chat.text  # the disclosure again
    assert chat.labels[:2] == ["Góp ý", "Ý kiến của tôi (1)"]
    assert await comments(demo_db) == [FIRST]

    await chat.press("Góp ý")
    await chat.send("Thôi, để sau.")
    await chat.press("Hủy")
    assert "Ý kiến chưa được gửi." in chat.text
    assert await comments(demo_db) == [FIRST]

    await comment(chat, SECOND)
    assert "Anh/Chị còn gửi được 3 ý kiến" in chat.text
    await chat.press("Ý kiến của tôi (2)")
    assert chat.text.splitlines()[:3] == [
        f"Các ý kiến Anh/Chị đã gửi về “{TITLE}”:",
        f"1. 20/11/2026: {FIRST}",
        f"2. 20/11/2026: {SECOND}",
    ]
    assert "Anh/Chị có thể rút ý kiến đến hết ngày 10/12/2026." in chat.text
    assert chat.labels[:2] == ["Rút ý kiến 1", "Rút ý kiến 2"]
    await chat.press("Rút ý kiến 1")
    assert "Anh/Chị có muốn rút ý kiến này không?" in chat.text and FIRST in chat.text
    await chat.press("Giữ lại")
    assert await comments(demo_db) == [FIRST, SECOND]
    await chat.press("Rút ý kiến 1")
    await chat.press("Rút ý kiến")
    assert chat.text.startswith("Đã rút ý kiến. Anh/Chị còn gửi được 4 ý kiến")
    assert f"1. 20/11/2026: {SECOND}" in chat.text and FIRST not in chat.text
    assert await comments(demo_db) == [SECOND]

    async with demo_db.session() as session:  # nobody withdraws someone else's comment
        item = await Disclosures(session).get(item_id)
        other = await Users(session).get_or_create("console", "someone-else", "vi")
        [mine] = (await session.exec(select(DisclosureComment))).all()
        with pytest.raises(service.DisclosureError, match="no such comment"):
            await consultation.withdraw(session, item, other, mine.id, now=NOW)

    clock.now = datetime(2026, 12, 10, 17, 30, tzinfo=UTC)  # 00:30 on 11/12 in Hà Nội
    stale = chat.button("Rút ý kiến 1")
    await chat.send(payload=stale.payload)  # an old keyboard: no longer withdrawn
    await chat.send(payload="dc:wdok:" + stale.payload.removeprefix("dc:wd:"))
    assert "Đã hết hạn lấy ý kiến nên không rút ý kiến được nữa." in chat.text
    assert await comments(demo_db) == [SECOND]
    await chat.send("/menu")
    await chat.send(payload=f"go:disclosure:{item_id}")
    assert "Góp ý" not in chat.labels and "Ý kiến của tôi (1)" in chat.labels
    await chat.press("Ý kiến của tôi (1)")
    assert f"1. 20/11/2026: {SECOND}" in chat.text  # still seen, no longer withdrawn
    assert not [label for label in chat.labels if label.startswith("Rút ý kiến")]


async def test_the_fifth_comment_is_the_last(chat: Chat, demo_db):
    await consultation_item(demo_db)
    await chat.onboard()
    await open_item(chat)
    for n in range(4):
        await comment(chat, f"Ý kiến số {n + 1} về dự thảo.")
    assert "Anh/Chị còn gửi được 1 ý kiến về nội dung này." in chat.text
    await comment(chat, "Ý kiến số 5 về dự thảo.")
    assert "Đây là ý kiến cuối cùng Anh/Chị được gửi về nội dung này." in chat.text
    assert "Góp ý" not in chat.labels and "Ý kiến của tôi (5)" in chat.labels
    await chat.press("Ý kiến của tôi (5)")
    await chat.press("Rút ý kiến 5")
    await chat.press("Rút ý kiến")
    await chat.press("Quay lại")
    assert "Góp ý" in chat.labels  # a withdrawn comment frees its place
    assert len(await comments(demo_db)) == 4


async def test_on_zalo_the_preview_is_answered_by_typing(hook, demo_db):  # noqa: F811
    Clock(NOW)
    await consultation_item(demo_db)
    lan = ZUser(hook, "u777")
    await onboard(lan)
    for typed in ("Công khai thông tin", "Lấy ý kiến Nhân dân", TITLE, "gop y"):
        await lan.send(typed)
    await lan.send(FIRST)
    assert f"\n\n{FIRST}\n\n" in lan.text
    assert "1. Gửi ý kiến\n2. Sửa\n3. Hủy" in lan.text
    assert await comments(demo_db) == []
    await lan.send("1", replies=2)  # the thanks, then the disclosure again
    assert "Anh/Chị còn gửi được 4 ý kiến về nội dung này." in lan.text
    assert await comments(demo_db) == [FIRST]
