"""Stories of first contact: greeting, language, consent (given or not), hamlet."""

from __future__ import annotations

from sqlmodel import select

from bot.flows import onboarding
from storage.models import Consent, Hamlet, User
from tests.conftest import MAIN_MENU, Chat


async def _user(db, user_id: str = "42") -> User:
    async with db.session() as s:
        return (await s.exec(select(User).where(User.external_id == user_id))).one()


async def _consents(db) -> list[Consent]:
    async with db.session() as s:
        return list((await s.exec(select(Consent).order_by(Consent.id))).all())


async def test_newcomer_agrees_picks_a_hamlet_and_reaches_the_menu(chat: Chat, demo_db):
    [greeting] = await chat.send("/start")
    assert "trợ lý tự động của UBND xã Chi Lăng" in greeting.text
    assert chat.labels == ["Tiếng Việt", "English"]

    [notice] = await chat.press("Tiếng Việt")
    assert "xử lý dữ liệu cá nhân" in notice.text
    assert f"phiên bản {onboarding.PRIVACY_NOTICE_VERSION}" in notice.text
    assert chat.labels == ["Đồng ý", "Không đồng ý"]
    user = await _user(demo_db)
    assert (user.consent_version, user.hamlet_id, user.onboarded_at) == (None, None, None)
    assert await _consents(demo_db) == []

    await chat.press("Đồng ý")
    assert "khu dân cư" in chat.text
    assert chat.labels[0] == "Khu Hòa Bình" and chat.labels[-1] == "Bỏ qua"
    assert len(chat.labels) == 9
    [consent] = await _consents(demo_db)
    assert (consent.purpose, consent.version, consent.granted, consent.channel) == (
        "privacy_notice", onboarding.PRIVACY_NOTICE_VERSION, True, "console")

    await chat.press("Khu Hòa Bình")
    assert "Đã ghi nhận Anh/Chị ở Khu Hòa Bình" in chat.text
    assert chat.labels == MAIN_MENU
    user = await _user(demo_db)
    async with demo_db.session() as s:
        hamlet = await s.get(Hamlet, user.hamlet_id)
    assert hamlet.code == "khu-1"
    assert user.consent_version == onboarding.PRIVACY_NOTICE_VERSION
    assert user.consent_at is not None and user.onboarded_at is not None


async def test_any_first_message_starts_onboarding(chat: Chat):
    await chat.send("xin chào")
    assert "Xin chào Anh/Chị!" in chat.text
    assert chat.labels == ["Tiếng Việt", "English"]


async def test_answers_can_be_typed_without_accents_or_as_numbers(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.send("tieng viet")
    assert chat.labels == ["Đồng ý", "Không đồng ý"]
    await chat.send("DONG Y")
    await chat.send("3")
    assert "Khu Đồng Mỏ" in chat.text
    assert chat.labels == MAIN_MENU


async def test_skipping_the_hamlet_is_allowed(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.press("Tiếng Việt")
    await chat.press("Đồng ý")
    await chat.press("Bỏ qua")
    assert chat.labels == MAIN_MENU
    assert (await _user(demo_db)).hamlet_id is None


async def test_declining_keeps_nothing_personal_and_leaves_public_information(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.press("Tiếng Việt")
    await chat.press("Không đồng ý")
    assert "không lưu dữ liệu cá nhân" in chat.text
    assert "Bộ phận tiếp nhận của UBND xã Chi Lăng" in chat.text
    assert "Công khai thông tin" in chat.labels
    assert "Gửi phản ánh, kiến nghị" not in chat.labels
    user = await _user(demo_db)
    assert (user.consent_version, user.hamlet_id) == (None, None)
    assert user.consent_declined_at is not None
    [decision] = await _consents(demo_db)
    assert decision.granted is False

    await chat.press("Công khai thông tin")
    assert "Tìm kiếm" in chat.labels  # public information needs no consent

    # A petition button from an old keyboard is refused politely, with the office contact.
    await chat.send(payload="go:petition")
    assert "cần Anh/Chị đồng ý" in chat.text
    assert "điện thoại 0205 3820 000" in chat.text


async def test_declined_user_can_review_the_notice_and_agree(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.press("Tiếng Việt")
    await chat.press("Không đồng ý")
    await chat.press("Xem lại thông báo")
    await chat.press("Đồng ý")
    await chat.press("Thôn Nà Ca")
    assert chat.labels == MAIN_MENU
    assert [c.granted for c in await _consents(demo_db)] == [False, True]


async def test_english_on_request(chat: Chat):
    await chat.send("/start")
    [notice] = await chat.press("English")
    assert "Do you agree to the People's Committee of Chi Lăng Commune" in notice.text
    assert chat.labels == ["I agree", "I do not agree"]
    await chat.press("I agree")
    await chat.press("Skip")
    assert chat.labels == ["Public information", "Send feedback or a petition", "My petitions",
                           "Dialogue sessions", "Settings", "Help"]


async def test_a_new_notice_version_asks_again_at_next_contact(chat: Chat, demo_db, monkeypatch):
    await chat.onboard()
    monkeypatch.setattr(onboarding, "PRIVACY_NOTICE_VERSION", "2027-01")
    await chat.send("menu")
    assert "vừa được cập nhật" in chat.text
    assert "phiên bản 2027-01" in chat.text
    assert chat.labels == ["Đồng ý", "Không đồng ý"]
    await chat.press("Đồng ý")
    assert chat.labels == MAIN_MENU  # the hamlet is already known
    assert [c.version for c in await _consents(demo_db)] == ["2026-11", "2027-01"]
    assert (await _user(demo_db)).consent_version == "2027-01"


async def test_the_channel_language_hint_sets_the_first_language(engine):
    chat = Chat(engine, user_id="en-user")
    await chat.send("/start", language="en")
    assert "automated assistant" in chat.text
