"""Stories in "Cài đặt": language, hamlet, my data, delete my data; and the menu entries."""

from __future__ import annotations

import re

from sqlmodel import select

from storage.models import Consent, InteractionLog, User
from tests.conftest import MAIN_MENU, Chat

SETTINGS_BUTTONS = ["Ngôn ngữ", "Khu dân cư", "Theo dõi lĩnh vực", "Thông báo khu dân cư",
                    "Dữ liệu của tôi", "Rút lại sự đồng ý", "Xóa dữ liệu của tôi", "Menu chính"]


async def _user(db) -> User:
    async with db.session() as s:
        return (await s.exec(select(User))).one()


async def test_switching_language_changes_every_later_reply(chat: Chat):
    await chat.onboard()
    await chat.press("Cài đặt")
    assert chat.labels == SETTINGS_BUTTONS
    await chat.press("Ngôn ngữ")
    await chat.press("English")
    assert "Done: I will answer in English." in chat.text
    assert chat.labels == ["Language", "Hamlet", "Follow topics", "Hamlet notices", "My data",
                           "Withdraw consent", "Delete my data", "Main menu"]
    await chat.press("Main menu")
    assert chat.labels[0] == "Public information"
    await chat.send("/help")
    assert "automated assistant of the People's Committee of Chi Lăng Commune" in chat.text
    await chat.send("/nope")
    assert "I do not know the command /nope" in chat.text
    await chat.send("/lang")
    await chat.send("tieng viet")
    assert "Đã chuyển ngôn ngữ sang Tiếng Việt." in chat.text
    assert chat.labels == MAIN_MENU


async def test_changing_the_hamlet(chat: Chat, demo_db):
    await chat.onboard(hamlet="Khu Hòa Bình")
    await chat.press("Cài đặt")
    await chat.press("Khu dân cư")
    await chat.send("thon ban lai")
    assert "Đã lưu." in chat.text
    assert "Khu dân cư: Thôn Bản Lải" in chat.text
    user = await _user(demo_db)
    assert user.hamlet_id is not None


async def test_my_data_shows_what_is_kept(chat: Chat):
    await chat.onboard(hamlet="Khu Thống Nhất")
    await chat.press("Cài đặt")
    await chat.press("Dữ liệu của tôi")
    text = chat.text
    assert "Dữ liệu UBND xã Chi Lăng đang lưu về Anh/Chị" in text
    assert "mã tài khoản 42" in text
    assert "Khu dân cư: Khu Thống Nhất" in text
    assert "Họ tên: không lưu" in text
    assert "phiên bản 2026-11" in text
    assert chat.labels == ["Nhận tệp dữ liệu", "Sửa họ tên, số điện thoại", "Cài đặt",
                           "Menu chính"]
    await chat.press("Cài đặt")
    assert chat.labels == SETTINGS_BUTTONS


async def test_deleting_my_data_removes_personal_fields_and_records_a_withdrawal(chat: Chat,
                                                                                  demo_db):
    await chat.onboard()
    await chat.press("Cài đặt")
    await chat.press("Xóa dữ liệu của tôi")
    assert "không thể hoàn tác" in chat.text
    await chat.press("Có, xóa dữ liệu")
    assert "Đã xóa dữ liệu của Anh/Chị" in chat.text
    user = await _user(demo_db)
    assert (user.hamlet_id, user.display_name, user.phone, user.consent_version,
            user.consent_at, user.onboarded_at) == (None, None, None, None, None, None)
    async with demo_db.session() as s:
        consents = (await s.exec(select(Consent).order_by(Consent.id))).all()
        assert [(c.purpose, c.version, c.granted) for c in consents] == [
            ("privacy_notice", "2026-11", True), ("privacy_notice", "2026-11", False)]
        log = (await s.exec(select(InteractionLog).where(InteractionLog.direction == "in"))).all()
    assert len(log) == 7 and all(row.user_ref and row.user_ref != "42" for row in log)
    await chat.send("chào")
    assert chat.labels == ["Tiếng Việt", "English"]  # asked again from the start


async def test_keeping_my_data_deletes_nothing(chat: Chat, demo_db):
    await chat.onboard()
    await chat.press("Cài đặt")
    await chat.press("Xóa dữ liệu của tôi")
    await chat.press("Không, giữ lại")
    assert "Không có dữ liệu nào bị xóa." in chat.text
    assert (await _user(demo_db)).consent_version == "2026-11"


async def test_features_not_built_yet_say_so_honestly(chat: Chat, monkeypatch):
    from bot import flows

    monkeypatch.delitem(flows.ENTRIES, "sessions")  # as if dialogue sessions were not built
    await chat.onboard()
    for label in ["Đối thoại"]:
        await chat.press(label)
        assert f"Mục “{label}” đang được hoàn thiện" in chat.text
        assert "Bộ phận tiếp nhận của UBND xã Chi Lăng" in chat.text
        assert chat.labels == MAIN_MENU


async def test_help_tells_the_words_to_type(chat: Chat):
    await chat.onboard()
    await chat.press("Trợ giúp")
    for word in ("“menu”", "“hủy”", "“quay lại”", "“giúp”", "PA-2026-000123"):
        assert word in chat.text
    assert not re.search(r"(^|\s)/[a-z]", chat.text)  # words, not slash commands
    assert chat.labels == ["Menu chính"]
    await chat.press("Menu chính")
    assert chat.labels == MAIN_MENU
