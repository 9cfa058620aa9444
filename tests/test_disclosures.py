"""Public information: browse, page, search the way people type, follow, comment, publish."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.messages import Attachment
from bot.services import consultation, demo, roles
from bot.services import disclosures as service
from storage.db import Database
from storage.models import Consent, DisclosureComment, OutboxMessage, Subscription
from storage.repositories import Disclosures, Users
from tests.conftest import PSEUDONYM_KEY, Chat, Clock

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def engine(demo_db: Database, clock: Clock) -> Engine:
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


async def publish(db: Database, category: int, title: str, body: str = "Nội dung.", *,
                  now: datetime = NOW, **draft: object) -> int:
    async with db.session() as session:
        item = await service.publish(session, service.Draft(category, title, body, **draft),
                                     actor="cli:test", now=now, timezone=TZ)
        await session.commit()
        return item.id


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_browse_a_category_newest_first_and_page_through(chat: Chat, demo_db):
    for number in range(1, 13):
        await publish(demo_db, 7, f"Danh sách hỗ trợ đợt {number}",
                      now=NOW - timedelta(days=13 - number))
    await publish(demo_db, 12, "Mức thu phí chợ")
    await chat.onboard()
    await chat.press("Công khai thông tin")
    # Only topics with something posted are offered.
    assert chat.labels[:2] == ["Chính sách, an sinh xã hội", "Phí, lệ phí"]
    assert {"Tìm kiếm", "Theo dõi lĩnh vực", "Menu chính"} <= set(chat.labels)

    await chat.press("Chính sách, an sinh xã hội")
    assert "(trang 1)" in chat.text
    assert chat.labels[:5] == [f"Danh sách hỗ trợ đợt {n}" for n in (12, 11, 10, 9, 8)]
    assert "Trang trước" not in chat.labels and "Trang sau" in chat.labels

    await chat.press("Trang sau")
    assert chat.last[0].edit  # channels that can edit replace the page in place
    assert chat.labels[:5] == [f"Danh sách hỗ trợ đợt {n}" for n in (7, 6, 5, 4, 3)]
    await chat.press("Trang sau")
    assert chat.labels[:2] == ["Danh sách hỗ trợ đợt 2", "Danh sách hỗ trợ đợt 1"]
    assert "Trang sau" not in chat.labels
    await chat.press("Trang trước")
    assert chat.labels[0] == "Danh sách hỗ trợ đợt 7"

    await chat.press("Danh sách hỗ trợ đợt 5")
    assert chat.text.startswith("Danh sách hỗ trợ đợt 5")
    assert "Niêm yết từ 12/11/2026 đến 12/12/2026" in chat.text
    await chat.press("Quay lại")
    assert chat.labels[0] == "Danh sách hỗ trợ đợt 7"  # back to the same page


async def test_an_expired_disclosure_leaves_the_board_but_stays_searchable(chat: Chat, demo_db):
    await publish(demo_db, 3, "Quy hoạch khu dân cư cũ", now=NOW - timedelta(days=45))
    await publish(demo_db, 13, "Thủ tục khai sinh", now=NOW - timedelta(days=400),
                  posted_from=date(2025, 10, 16))
    await chat.onboard()
    await chat.press("Công khai thông tin")
    assert "Dự án, đất đai, quy hoạch" not in chat.labels
    assert "Thủ tục hành chính" in chat.labels  # item 13 is posted permanently
    await chat.send("quy hoach")  # typed at the topics: a search
    assert "Quy hoạch khu dân cư cũ" in chat.text and "(đã hết hạn niêm yết)" in chat.text
    await chat.press("Quy hoạch khu dân cư cũ")
    assert "Đã hết thời hạn niêm yết" in chat.text


@pytest.mark.parametrize("typed", [
    "duong giao thong",  # no diacritics, d for đ
    "ĐƯỜNG GIAO THÔNG",  # upper case
    unicodedata.normalize("NFD", "đường giao thông"),  # decomposed input
    "  Đường   giao thông!! ",
])
async def test_search_works_the_way_people_type(chat: Chat, demo_db, typed):
    await publish(demo_db, 3, "Đường giao thông liên thôn Nà Ca", "Mở rộng mặt đường 5,5 m.")
    await publish(demo_db, 1, "Kế hoạch năm 2027", "Cứng hóa đường giao thông nông thôn.",
                  now=NOW - timedelta(days=2))
    await publish(demo_db, 12, "Phí chợ", "Không liên quan.")
    await chat.onboard()
    await chat.press("Công khai thông tin")
    await chat.press("Tìm kiếm")
    await chat.send(typed)
    found = [label for label in chat.labels if label not in ("Quay lại", "Menu chính")]
    # The title match ranks above the body match; the unrelated one is not there.
    assert found == ["Đường giao thông liên thôn Nà Ca", "Kế hoạch năm 2027"]


@pytest.mark.parametrize("typed", [
    '"', "*", "OR", "NEAR(", "duong OR", 'a" OR "b', "🙂🙂", "x" * 2000, "'; DROP TABLE x;--",
])
async def test_odd_search_input_gets_a_sensible_answer(chat: Chat, demo_db, typed):
    await publish(demo_db, 3, "Đường giao thông liên thôn")
    await chat.onboard()
    await chat.press("Công khai thông tin")
    await chat.press("Tìm kiếm")
    await chat.send(typed)
    assert "lỗi" not in chat.text.casefold()
    assert ("Không tìm thấy" in chat.text or "nhập từ khóa bằng chữ hoặc số" in chat.text
            or "Kết quả tìm" in chat.text)
    await chat.send("duong")  # the conversation goes on normally
    assert "Đường giao thông liên thôn" in chat.labels


async def test_search_storage_on_both_databases(demo_db):
    await publish(demo_db, 2, "Dự toán ngân sách năm 2027", "Tổng thu 10.450 triệu đồng.")
    await publish(demo_db, 2, "Quyết toán ngân sách 2025", "Đã được HĐND phê chuẩn.")
    await publish(demo_db, 5, "Đóng góp xây nhà văn hóa", "Ngân sách xã hỗ trợ 300 triệu.")
    await publish(demo_db, 5, "Tương lai", now=NOW, posted_from=date(2026, 12, 20))
    async with demo_db.session() as session:
        repo = Disclosures(session)
        titles = [d.title for d in await repo.search("ngan sach", NOW, limit=10)]
        assert set(titles[:2]) == {"Quyết toán ngân sách 2025", "Dự toán ngân sách năm 2027"}
        assert titles[2] == "Đóng góp xây nhà văn hóa"  # body match after title matches
        assert [d.title for d in await repo.search("du toan 2027", NOW, limit=10)] == [
            "Dự toán ngân sách năm 2027"]
        # No document has every word: fall back to any word.
        assert {d.title for d in await repo.search("quyet van hoa", NOW, limit=10)} == {
            "Quyết toán ngân sách 2025", "Đóng góp xây nhà văn hóa"}
        assert await repo.search("tuong lai", NOW, limit=10) == []  # not posted yet
        assert await repo.search("", NOW, limit=10) == []
        assert await repo.search('" * NEAR( OR', NOW, limit=10) == []
        # An edit re-indexes the text.
        item = (await repo.search("phe chuan", NOW, limit=1))[0]
        item.body = "Đã được điều chỉnh."
        await repo.save(item)
        assert await repo.search("phe chuan", NOW, limit=1) == []
        assert [d.id for d in await repo.search("dieu chinh", NOW, limit=1)] == [item.id]


async def test_follow_a_topic_then_get_exactly_one_notice(chat: Chat, demo_db, clock):
    await chat.onboard()
    await chat.press("Công khai thông tin")
    await chat.press("Theo dõi lĩnh vực")
    await chat.press("Nghĩa vụ quân sự")
    assert "✓ Nghĩa vụ quân sự" in chat.labels
    assert "Anh/Chị sẽ được báo khi có thông tin mới về “Nghĩa vụ quân sự”" in chat.text

    item_id = await publish(demo_db, 9, "Danh sách gọi nhập ngũ 2027")
    await publish(demo_db, 12, "Phí chợ")  # a topic nobody follows
    [notice] = await outbox(demo_db)
    assert notice.chat_id == chat.user_id and notice.kind == "disclosure"
    assert "Thông tin mới được công khai (Nghĩa vụ quân sự): Danh sách gọi nhập ngũ 2027" in (
        notice.text)
    async with demo_db.session() as session:  # publishing twice the same version: still one
        item = await Disclosures(session).get(item_id)
        assert await service.notify_subscribers(session, item, timezone=TZ, changed=False) == 0

    # The notice's button opens the disclosure even though it was not in the last reply.
    await chat.send(payload=notice.buttons[0][1])
    assert chat.text.startswith("Danh sách gọi nhập ngũ 2027")
    assert "Bỏ theo dõi" in chat.labels

    async with demo_db.session() as session:  # a change is disclosed again (Art. 14)
        item = await Disclosures(session).get(item_id)
        await service.change(session, item, actor="cli:test", timezone=TZ,
                             body="Bổ sung 2 công dân.")
        await session.commit()
        assert len(await Disclosures(session).revisions(item_id)) == 1
    notices = await outbox(demo_db)
    assert len(notices) == 2 and "được cập nhật" in notices[1].text

    await chat.press("Bỏ theo dõi")
    async with demo_db.session() as session:
        assert (await session.exec(select(Subscription))).all() == []
        decisions = (await session.exec(
            select(Consent).where(Consent.purpose == "notifications"))).all()
    assert [(c.version, c.granted) for c in decisions] == [
        ("disclosure:9", True), ("disclosure:9", False)]


async def test_a_resident_who_declined_the_notice_cannot_follow(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.press("Tiếng Việt")
    await chat.press("Không đồng ý")
    await chat.press("Công khai thông tin")
    await chat.press("Theo dõi lĩnh vực")
    assert "cần Anh/Chị đồng ý" in chat.text
    async with demo_db.session() as session:
        assert (await session.exec(select(Subscription))).all() == []


async def test_comment_on_an_open_consultation_then_refused_after_the_deadline(
    chat: Chat, demo_db, clock
):
    item_id = await publish(demo_db, 11, "Lấy ý kiến dự thảo kế hoạch 2027",
                            consult_until=date(2026, 12, 10))
    await chat.onboard(hamlet="Thôn Nà Ca")
    await chat.press("Công khai thông tin")
    await chat.press("Lấy ý kiến Nhân dân")
    await chat.press("Lấy ý kiến dự thảo kế hoạch 2027")
    assert "Đang lấy ý kiến Nhân dân đến hết ngày 10/12/2026" in chat.text
    await chat.press("Góp ý")
    await chat.send("x" * 2001)
    assert "dài 2001 ký tự" in chat.text
    await chat.send("Đề nghị ưu tiên đường vào thôn Nà Ca.")
    await chat.press("Gửi ý kiến")  # after the preview
    assert "Cảm ơn Anh/Chị đã góp ý" in chat.text
    async with demo_db.session() as session:
        [comment] = (await session.exec(select(DisclosureComment))).all()
    assert comment.text == "Đề nghị ưu tiên đường vào thôn Nà Ca."
    assert comment.hamlet_id is not None and comment.disclosure_id == item_id

    clock.now = datetime(2026, 12, 10, 17, 30, tzinfo=UTC)  # 00:30 on Dec 11 in Hà Nội
    stale = chat.button("Góp ý")
    await chat.send("/menu")
    await chat.send(payload=f"go:disclosure:{item_id}")
    assert "Góp ý" not in chat.labels
    assert "Đã hết hạn nhận góp ý ngày 10/12/2026" in chat.text
    assert "đang tổng hợp ý kiến" in chat.text
    await chat.send(payload=stale.payload)  # an old keyboard's "Góp ý"
    async with demo_db.session() as session:
        assert len((await session.exec(select(DisclosureComment))).all()) == 1
        item = await Disclosures(session).get(item_id)
        resident = await Users(session).get("console", chat.user_id)
        with pytest.raises(service.DisclosureError, match="closed"):
            await consultation.add_comment(session, item, resident, "muộn", now=clock.now)
        assert await service.respond(session, item, "Tiếp thu ý kiến về đường vào thôn.",
                                     actor="cli:test", now=clock.now) == 1
        await session.commit()
    [notice] = [n for n in await outbox(demo_db) if n.kind == "consultation"]
    assert "đã công khai kết quả tiếp thu" in notice.text
    await chat.send(payload=f"go:disclosure:{item_id}")
    assert "Tiếp thu ý kiến về đường vào thôn." in chat.text


async def test_staff_publish_from_the_chat_and_a_resident_finds_it(engine: Engine, demo_db):
    async with demo_db.session() as session:
        await roles.grant(session, "console", "canbo1", "staff", actor="test")
        await session.commit()
    staff = Chat(engine, user_id="canbo1")
    await staff.onboard()
    assert "Đăng thông tin công khai" in staff.labels
    document = Attachment("document", "file-123", name="ke-hoach.pdf",
                          mime_type="application/pdf", size=120_000)
    await staff.send("Kế hoạch sửa chữa trường mầm non\nSửa mái và sân trường, 450 triệu đồng.",
                     attachments=(document,))
    assert "Thông tin thuộc lĩnh vực nào" in staff.text
    await staff.press("3. Dự án, đất đai, quy hoạch")
    await staff.send("20/11/2026")  # the decision date, typed
    await staff.press("30 ngày (đến 20/12/2026)")
    await staff.send("25/11/2026")  # comments for 5 days only: the law asks for 20
    assert "ngắn hơn 20 ngày" in staff.text
    assert "Tệp: ke-hoach.pdf" in staff.text
    await staff.press("Đăng")
    assert "Đã đăng" in staff.text

    resident = Chat(engine, user_id="dan1")
    await resident.onboard()
    await resident.press("Công khai thông tin")
    await resident.press("Tìm kiếm")
    await resident.send("truong mam non")
    await resident.press("Kế hoạch sửa chữa trường mầm non")
    assert "Sửa mái và sân trường" in resident.text
    assert resident.last[0].attachments[0].ref == "file-123"
    assert "Góp ý" in resident.labels


async def test_staff_chat_refuses_files_that_are_not_documents(engine: Engine, demo_db):
    async with demo_db.session() as session:
        await roles.grant(session, "console", "canbo1", "staff", actor="test")
        await session.commit()
    staff = Chat(engine, user_id="canbo1")
    await staff.onboard()
    await staff.press("Đăng thông tin công khai")
    await staff.send("Ảnh", attachments=(Attachment("photo", "p1", name="a.jpg"),))
    assert "Chỉ nhận tệp văn bản" in staff.text
    big = Attachment("document", "d1", name="big.pdf", size=30 * 1024 * 1024)
    await staff.send("To", attachments=(big,))
    assert "lớn hơn 20 MB" in staff.text
    await staff.press("Menu chính")
    async with demo_db.session() as session:
        assert await Disclosures(session).listing() == []


async def test_a_resident_cannot_publish(chat: Chat, demo_db):
    await chat.onboard()
    assert "Đăng thông tin công khai" not in chat.labels
    await chat.send("/publish")
    assert "Chỉ cán bộ UBND xã mới được đăng" in chat.text
    await chat.send("Tài liệu", attachments=(Attachment("document", "x", name="a.pdf"),))
    assert "Thông tin thuộc lĩnh vực nào" not in chat.text
    await chat.send(payload="go:publish")
    assert "Chỉ cán bộ UBND xã mới được đăng" in chat.text
    async with demo_db.session() as session:
        assert await Disclosures(session).listing() == []


def test_legal_warnings():
    today = date(2026, 11, 20)
    short = service.Draft(2, "t", "b", posted_until=date(2026, 12, 1),
                          consult_until=date(2026, 11, 30), decided_on=date(2026, 11, 2))
    assert len(service.warnings(short, today)) == 3
    fine = service.Draft(2, "t", "b", consult_until=date(2026, 12, 10),
                         decided_on=date(2026, 11, 16))
    assert service.warnings(fine, today) == []
    assert service.warnings(service.Draft(4, "t", "b"), today) == []  # permanent item


def test_quarters():
    start, end = service.quarter_bounds("2026q3", TZ)
    assert (start.date(), end.date()) == (date(2026, 7, 1), date(2026, 10, 1))
    assert service.quarter_bounds("2026Q4", TZ)[1].date() == date(2027, 1, 1)
    for bad in ("2026Q5", "2026-3", "Q3", ""):
        with pytest.raises(service.DisclosureError):
            service.quarter_bounds(bad, TZ)


async def test_demo_disclosures_cover_the_law_and_read_well(db: Database):
    async with db.session() as session:
        count = await demo.load_disclosures(session, now=NOW, timezone=TZ, actor="test")
        await session.commit()
        items = await Disclosures(session).listing(100)
        board = await Disclosures(session).counts_by_category(NOW)
    assert count == len(items) >= 20
    assert len({item.category for item in items}) == 14
    assert sum(board.values()) < count  # one is archived
    assert any(item.response for item in items)


async def test_a_deep_link_opens_a_disclosure(chat: Chat, demo_db):
    item_id = await publish(demo_db, 12, "Mức thu phí chợ năm 2027")
    await chat.onboard()
    await chat.send(f"/start d_{item_id}")
    assert chat.text.startswith("Mức thu phí chợ năm 2027")
