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


CONSENT = ["Đồng ý", "Xem chi tiết", "Không đồng ý"]


async def test_newcomer_agrees_picks_a_hamlet_and_reaches_the_menu(chat: Chat, demo_db):
    [short] = await chat.send("/start")
    assert short.text.startswith("Xin chào Anh/Chị! Đây là trợ lý tự động của UBND xã Chi Lăng")
    assert short.text.endswith("Anh/Chị có đồng ý không?")
    assert len(short.text.splitlines()) == 4 and len(short.text) <= 420  # who, why, what, rights
    assert "Bên kiểm soát" not in short.text and "phiên bản" not in short.text
    assert chat.labels == CONSENT  # Vietnamese without asking
    user = await _user(demo_db)
    assert (user.locale, user.consent_version, user.hamlet_id, user.onboarded_at) == (
        "vi", None, None, None)
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


async def test_the_full_notice_is_one_tap_away(chat: Chat, demo_db):
    await chat.send("/start")
    [notice] = await chat.press("Xem chi tiết")
    assert "Ai chịu trách nhiệm: UBND xã Chi Lăng" in notice.text
    assert f"(thông báo bản {onboarding.PRIVACY_NOTICE_VERSION})" in notice.text
    assert "Bộ phận tiếp nhận của UBND xã Chi Lăng" in notice.text
    assert chat.labels == ["Đồng ý", "Không đồng ý"]
    assert await _consents(demo_db) == []
    await chat.press("Đồng ý")
    [consent] = await _consents(demo_db)
    assert (consent.version, consent.granted) == (onboarding.PRIVACY_NOTICE_VERSION, True)


async def test_any_first_message_starts_onboarding(chat: Chat):
    await chat.send("xin chào")
    assert "Xin chào Anh/Chị!" in chat.text
    assert chat.labels == CONSENT


async def test_na_ca_typed_picks_thon_na_ca(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.send("dong y")
    await chat.send("na ca")
    assert "Đã ghi nhận Anh/Chị ở Thôn Nà Ca" in chat.text
    assert chat.labels == MAIN_MENU


async def test_part_of_a_hamlet_name_is_confirmed_first(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.press("Đồng ý")
    [asked] = await chat.send("nà")
    assert asked.text.startswith("Có phải Anh/Chị muốn chọn Thôn Nà Ca?")
    assert chat.labels[0] == "Thôn Nà Ca" and len(chat.labels) == 9  # the others stay
    assert (await _user(demo_db)).hamlet_id is None
    await chat.send("1")
    assert "Đã ghi nhận Anh/Chị ở Thôn Nà Ca" in chat.text


async def test_a_stray_answer_says_how_to_choose_on_this_channel(engine, demo_db):
    console, telegram = Chat(engine, user_id="c1"), Chat(engine, "telegram", "t1")
    for chat in (console, telegram):
        await chat.send("/start")
        await chat.send("ừm")
    assert console.text.startswith(
        "Anh/Chị vui lòng gõ số 1 (“Đồng ý”) hoặc gõ số 3 (“Không đồng ý”).")
    assert telegram.text.startswith("Anh/Chị vui lòng bấm “Đồng ý” hoặc bấm “Không đồng ý”.")


async def test_answers_can_be_typed_without_accents_or_as_numbers(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.send("DONG Y")
    await chat.send("3")
    assert "Khu Đồng Mỏ" in chat.text
    assert chat.labels == MAIN_MENU


async def test_skipping_the_hamlet_is_allowed(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.press("Đồng ý")
    await chat.press("Bỏ qua")
    assert chat.labels == MAIN_MENU
    assert (await _user(demo_db)).hamlet_id is None


async def test_declining_keeps_nothing_personal_and_leaves_public_information(chat: Chat, demo_db):
    await chat.send("/start")
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
    await chat.press("Không đồng ý")
    await chat.press("Xem lại thông báo")
    assert "Ai chịu trách nhiệm" in chat.text  # the full notice
    await chat.press("Đồng ý")
    await chat.press("Thôn Nà Ca")
    assert chat.labels == MAIN_MENU
    assert [c.granted for c in await _consents(demo_db)] == [False, True]


async def test_english_is_offered_to_someone_writing_english(chat: Chat, demo_db):
    [short] = await chat.send("Hello, I need help")
    assert short.text.startswith("Xin chào Anh/Chị!")  # still Vietnamese first
    assert chat.labels == [*CONSENT, "English"]
    [english] = await chat.press("English")
    assert english.text.startswith("Hello! This is the automated assistant of the People's "
                                   "Committee of Chi Lăng Commune")
    assert chat.labels == ["I agree", "Show details", "I do not agree", "Tiếng Việt"]
    await chat.press("I agree")
    await chat.press("Skip")
    assert chat.labels == ["Public information", "Send feedback or a petition", "My petitions",
                           "Dialogue sessions", "Settings", "Help"]
    [consent] = await _consents(demo_db)
    assert consent.granted and (await _user(demo_db)).locale == "en"


async def test_vietnamese_typed_without_accents_is_not_taken_for_english(chat: Chat):
    await chat.send("xin chao, toi muon hoi")
    assert chat.labels == CONSENT


async def test_english_by_the_lang_command_during_first_contact(chat: Chat):
    await chat.send("/start")
    await chat.send("/lang")
    await chat.press("English")
    assert "Do you agree?" in chat.text
    assert chat.labels == ["I agree", "Show details", "I do not agree", "Tiếng Việt"]


async def test_a_new_notice_version_asks_again_at_next_contact(chat: Chat, demo_db, monkeypatch):
    await chat.onboard()
    monkeypatch.setattr(onboarding, "PRIVACY_NOTICE_VERSION", "2027-01")
    await chat.send("menu")
    assert "vừa được cập nhật" in chat.text
    assert "(thông báo bản 2027-01)" in chat.text
    assert chat.labels == ["Đồng ý", "Không đồng ý"]
    await chat.press("Đồng ý")
    assert chat.labels == MAIN_MENU  # the hamlet is already known
    assert [c.version for c in await _consents(demo_db)] == ["2026-11", "2027-01"]
    assert (await _user(demo_db)).consent_version == "2027-01"


async def test_an_app_set_to_english_is_offered_english_not_given_it(engine, demo_db):
    chat = Chat(engine, user_id="en-user")
    await chat.send("/start", language="en")
    assert "Xin chào Anh/Chị!" in chat.text
    assert chat.labels == [*CONSENT, "English"]
    assert (await _user(demo_db, "en-user")).locale == "vi"
