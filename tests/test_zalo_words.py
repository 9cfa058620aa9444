"""Zalo residents are understood: a notice never takes over a conversation in progress, words
and codes work at every step, lists are printed once (stories on the fake Zalo Bot API)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.services import petitions as service
from storage.db import Database
from storage.models import Petition
from tests import test_zalo
from tests.conftest import WEDNESDAY_MORNING, Clock
from tests.fake_zalo import voice_event
from tests.test_zalo import Bot, ZUser, _dispatch, onboard

fake = test_zalo.fake  # the fake Bot API and quick retries, as in tests/test_zalo.py
quick_retries = test_zalo.quick_retries

TZ = "Asia/Ho_Chi_Minh"


@pytest.fixture
async def zalo(engine, demo_db: Database, fake):
    """The bot on the fake Zalo Bot API, in webhook mode."""
    running = await Bot(engine, demo_db, fake, webhook=True).start()
    yield running
    await running.stop()


async def petitions(db: Database) -> list[Petition]:
    async with db.session() as session:
        return list((await session.exec(select(Petition).order_by(Petition.id))).all())


async def send_all(user: ZUser, *texts: str) -> None:
    for text in texts:
        await user.send(text)


async def first_petition(user: ZUser) -> None:
    await send_all(user, "2", "Phản ánh, kiến nghị", "Gửi ẩn danh", "Đường sá, giao thông",
                   "Khu Hòa Bình", "Bỏ qua", "Ổ gà giữa đường vào khu", "Bỏ qua", "Gửi")
    assert "PA-2026-000001" in user.text


async def test_a_notice_mid_draft_leaves_the_draft_and_its_choices_intact(zalo, demo_db):
    Clock(WEDNESDAY_MORNING)
    user = ZUser(zalo, "u530")
    await onboard(user)
    await first_petition(user)
    await send_all(user, "2", "1", "gui an danh")  # a second one, by number and words
    assert "Nội dung thuộc lĩnh vực nào?" in user.text and "\n1. " in user.text
    async with demo_db.session() as session:
        [first] = await petitions(demo_db)
        first = await session.get(Petition, first.id)
        first.status = "accepted"  # taken in by staff (its own notice is not the story here)
        await service.answer(session, first, "Đã vá xong ổ gà.", actor="test",
                             now=WEDNESDAY_MORNING, timezone=TZ)
        await session.commit()
    assert await _dispatch(zalo.runtime, demo_db) >= 1
    notice = user._out()[-1].text
    assert notice.startswith("Phản ánh PA-2026-000001 của Anh/Chị đã có trả lời của UBND xã")
    assert notice.endswith("Việc Anh/Chị đang làm vẫn được giữ nguyên. Khi sẵn sàng, Anh/Chị "
                           "gõ:\n• PA-2026-000001 — Xem")
    assert "1. Xem" not in notice
    await user.send("1")  # still the draft's first field, not the notice's "Xem"
    assert user.text.startswith("Sự việc ở đâu? Anh/Chị chọn khu dân cư:")
    await send_all(user, "Khu Hòa Bình", "Bỏ qua")
    await user.send("pa-2026-000001")  # the notice's code, typed mid-draft
    assert "Anh/Chị đang soạn dở một phản ánh chưa gửi" in user.text
    assert user.text.endswith("1. Tiếp tục soạn\n2. Bỏ bản nháp")
    await user.send("tiep tuc soan")
    assert user.text.startswith("Bản nháp vẫn được giữ.\n\nAnh/Chị mô tả sự việc")
    await send_all(user, "Đèn đường hỏng ở ngã ba", "Bỏ qua", "Gửi")
    assert "PA-2026-000002" in user.text
    await user.send("PA-2026-000001")  # at the menu, the code opens it
    assert user.text.startswith("Phản ánh PA-2026-000001\n")
    assert "Đã vá xong ổ gà." in user.text
    assert [p.code for p in await petitions(demo_db)] == ["PA-2026-000001", "PA-2026-000002"]


async def test_on_zalo_huy_free_text_and_a_voice_note_at_the_description_step(zalo, demo_db):
    user = ZUser(zalo, "u531")
    await onboard(user)
    await send_all(user, "2", "Phản ánh, kiến nghị")
    await user.send("huy")
    assert user.text.startswith("Đã hủy, không có gì được lưu lại.")
    await user.send("bai rac bo chay mui o dau thon")
    assert user.text.startswith("Anh/Chị muốn làm gì với nội dung “bai rac bo chay mui o dau "
                                "thon”?")
    assert user.text.endswith("1. Gửi thành phản ánh\n2. Tìm trong thông tin công khai\n"
                              "3. Menu chính")
    [_, types] = await user.send("1", replies=2)  # what will be sent, then the types
    assert "\n\n1. Phản ánh, kiến nghị: " in types.text  # listed once, numbered
    assert "\n\n2. Khiếu nại: " in types.text and "• " not in types.text
    assert types.text.endswith("\n\n4. Menu chính")
    await send_all(user, "Phản ánh, kiến nghị", "Gửi ẩn danh", "Môi trường, rác thải",
                   "Khu Hòa Bình")
    await user.send("Bỏ qua")
    assert user.text.startswith("Anh/Chị gửi ảnh nếu có")  # the text came from the menu
    await user.send_event(voice_event("u531", "https://voice.zadn.vn/r.aac"))
    assert user.text.startswith("1 tệp đã đính kèm.")
    await send_all(user, "Xong", "Gửi")
    [petition] = await petitions(demo_db)
    assert petition.description == "bai rac bo chay mui o dau thon"
    assert [a["kind"] for a in petition.attachments] == ["voice"]


async def test_my_petitions_are_listed_once_numbered_on_zalo(zalo, demo_db):
    Clock(WEDNESDAY_MORNING)
    user = ZUser(zalo, "u532")
    await onboard(user)
    await first_petition(user)
    await user.send("3")  # "Phản ánh của tôi"
    assert "\n1. PA-2026-000001 — Phản ánh, kiến nghị: Đã tiếp nhận. Hạn trả lời: " in user.text
    assert "• PA-2026-000001" not in user.text
    assert user.text.endswith("\n\n2. Menu chính")
    await user.send("1")
    assert user.text.startswith("Phản ánh PA-2026-000001\n")
