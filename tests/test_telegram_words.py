"""Telegram residents are understood: free text, stickers and voice notes at the menu get
answers that say what happened to them (stories on the fake Telegram Bot API)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.models import Petition
from tests import test_telegram
from tests.conftest import MAIN_MENU
from tests.test_telegram import Bot, TgUser

fake = test_telegram.fake  # the fake Bot API, as in tests/test_telegram.py


@pytest.fixture
async def telegram(engine, demo_db, fake):
    """The bot on the fake Telegram Bot API, in webhook mode."""
    running = await Bot(engine, demo_db, fake, webhook=True).start()
    yield running
    await running.stop()


async def onboard(user: TgUser) -> None:
    await user.send("/start")
    await user.press("Tiếng Việt")
    await user.press("Đồng ý")
    await user.press("Khu Hòa Bình")


async def test_stickers_voice_notes_and_free_text_at_the_menu(telegram, demo_db):
    lan = TgUser(telegram, 540)
    await onboard(lan)
    await lan.send(sticker={"file_id": "st-1", "file_unique_id": "u1", "type": "regular",
                            "width": 512, "height": 512, "is_animated": False,
                            "is_video": False, "emoji": "👍"})
    assert lan.text.startswith("Cảm ơn Anh/Chị! 😊") and lan.last.labels == MAIN_MENU
    await lan.send(video_note={"file_id": "vn-1", "file_unique_id": "u2", "length": 240,
                               "duration": 3})
    assert "trợ lý chưa mở được loại tin này nên chưa lưu lại" in lan.text
    await lan.send(voice={"file_id": "voice-9", "file_unique_id": "u3", "duration": 4,
                          "mime_type": "audio/ogg"})
    assert lan.text.startswith("Trợ lý đã nhận tin nhắn thoại của Anh/Chị.")
    assert lan.last.labels == ["Gửi thành phản ánh", "Menu chính"]
    await lan.press("Gửi thành phản ánh", replies=2)
    for label in ("Phản ánh, kiến nghị", "Gửi ẩn danh", "Điện chiếu sáng", "Khu Hòa Bình",
                  "Bỏ qua"):
        await lan.press(label)
    assert lan.text.startswith("Trợ lý đã giữ tin nhắn thoại để gửi kèm phản ánh")
    await lan.press("Gửi như vậy")
    await lan.press("Gửi")
    async with demo_db.session() as session:
        [petition] = (await session.exec(select(Petition))).all()
    assert [(a["kind"], a["ref"]) for a in petition.attachments] == [("voice", "voice-9")]

    await lan.send("den duong hong, toi om")
    assert lan.last.labels == ["Gửi thành phản ánh", "Tìm trong thông tin công khai",
                               "Menu chính"]
