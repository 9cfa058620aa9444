"""Residents are understood: typed words at every step, free text at the menu, stickers, voice
notes and photos, drafts never dropped silently (console stories through the engine)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.handlers.console import ConsoleChannel, render
from bot.messages import Attachment, Button, Reply, listed_once
from bot.services import choices, demo
from storage.db import Database
from storage.models import Conversation, Petition
from tests.conftest import MAIN_MENU, PSEUDONYM_KEY, Chat, Clock

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 10:00 in Hà Nội
VOICE = Attachment("voice", "voice-1", mime_type="audio/ogg")
FIELDS_PROMPT = "Nội dung thuộc lĩnh vực nào?"


@pytest.fixture
def engine(demo_db: Database) -> Engine:
    Clock(NOW)
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


async def petitions(db: Database) -> list[Petition]:
    async with db.session() as session:
        return list((await session.exec(select(Petition).order_by(Petition.id))).all())


async def conversation(db: Database, user_id: str = "42") -> Conversation:
    async with db.session() as session:
        query = select(Conversation).where(Conversation.user_id == user_id)
        return (await session.exec(query)).one()


async def to_fields(chat: Chat) -> None:
    """Start a feedback petition and stop at the field question."""
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Phản ánh, kiến nghị")
    await chat.press("Gửi ẩn danh")
    assert FIELDS_PROMPT in chat.text


async def to_description(chat: Chat) -> None:
    """Start a feedback petition and stop at the description step."""
    await to_fields(chat)
    await chat.press("Môi trường, rác thải")
    await chat.press("Khu Hòa Bình")
    await chat.press("Bỏ qua")
    assert "Anh/Chị mô tả sự việc" in chat.text


async def test_free_text_at_the_menu_offers_a_prefilled_petition_and_a_search(chat: Chat,
                                                                             demo_db):
    await chat.onboard()
    await chat.send("den duong hong, toi om")
    assert chat.text == "Anh/Chị muốn làm gì với nội dung “den duong hong, toi om”?"
    assert chat.labels == ["Gửi thành phản ánh", "Tìm trong thông tin công khai", "Menu chính"]
    await chat.press("Gửi thành phản ánh")
    assert "Nội dung phản ánh sẽ là: “den duong hong, toi om”" in chat.text
    await chat.press("Phản ánh, kiến nghị")
    await chat.press("Gửi ẩn danh")
    await chat.press("Điện chiếu sáng")
    await chat.press("Khu Hòa Bình")
    await chat.press("Bỏ qua")
    assert "Anh/Chị mô tả sự việc" not in chat.text  # the text is not asked for again
    assert "Anh/Chị gửi ảnh nếu có" in chat.text
    await chat.press("Bỏ qua")
    assert "Nội dung: den duong hong, toi om" in chat.text
    await chat.press("Gửi")
    assert "PA-2026-000001" in chat.text
    [petition] = await petitions(demo_db)
    assert petition.description == "den duong hong, toi om"


async def test_words_typed_where_a_choice_is_expected_are_understood_too(chat: Chat):
    await chat.onboard()
    await chat.press("Cài đặt")
    await chat.send("9")  # a wrong number is still a wrong number
    assert "Không có mục số 9" in chat.text
    await chat.send("nuoc sinh hoat bi dung tu hom qua")
    assert chat.text == ("Anh/Chị muốn làm gì với nội dung “nuoc sinh hoat bi dung tu hom "
                         "qua”?")
    assert chat.labels[0] == "Gửi thành phản ánh"


async def test_a_question_at_the_menu_puts_the_search_first(chat: Chat, demo_db):
    async with demo_db.session() as session:
        await demo.load_disclosures(session, now=NOW, timezone="Asia/Ho_Chi_Minh", actor="t")
        await session.commit()
    await chat.onboard()
    await chat.send("danh sach ho ngheo?")
    assert "Có 2 thông tin công khai liên quan." in chat.text
    assert chat.labels[:2] == ["Tìm trong thông tin công khai", "Gửi thành phản ánh"]
    await chat.press("Tìm trong thông tin công khai")
    assert chat.text.startswith("Kết quả tìm “danh sach ho ngheo?”")
    assert "Danh sách hộ nghèo, hộ cận nghèo" in chat.text


async def test_greetings_and_a_thumbs_up_get_a_friendly_answer_with_the_menu(chat: Chat):
    await chat.onboard()
    for text, start in (("alo", "Chào Anh/Chị! Đây là trợ lý tự động của UBND xã Chi Lăng."),
                        ("Xin chào!", "Chào Anh/Chị!"), ("👍", "Cảm ơn Anh/Chị! 😊"),
                        ("cảm ơn ạ", "Cảm ơn Anh/Chị! 😊")):
        await chat.send(text)
        assert chat.text.startswith(start), text
        assert chat.labels == MAIN_MENU


@pytest.mark.parametrize("word", ["huy", "Hủy", "thôi", "dừng", "/huy", "thoat", "hủy ạ"])
async def test_huy_cancels_at_any_step(chat: Chat, demo_db, word: str):
    await chat.onboard()
    await to_fields(chat)
    await chat.send(word)
    assert chat.text.startswith("Đã hủy, không có gì được lưu lại.")
    assert chat.labels == MAIN_MENU
    await to_description(chat)
    await chat.send(word)
    assert chat.labels == MAIN_MENU
    await chat.press("Công khai thông tin")
    await chat.press("Tìm kiếm")
    await chat.send(word)
    assert chat.labels == MAIN_MENU
    assert (await conversation(demo_db)).flow == "menu"
    assert await petitions(demo_db) == []


async def test_right_is_not_stop(chat: Chat):
    """"Đúng" and "dừng" fold alike; "đúng" answers yes where a yes/no is asked."""
    await chat.onboard()
    await chat.press("Cài đặt")
    await chat.press("Xóa dữ liệu của tôi")
    await chat.send("không")  # "No, keep it"
    assert "Không có dữ liệu nào bị xóa." in chat.text
    await chat.press("Xóa dữ liệu của tôi")
    await chat.send("Đúng")
    assert chat.text.startswith("Đã xóa dữ liệu của Anh/Chị.")


async def test_back_menu_and_help_words_at_any_step(chat: Chat, demo_db):
    await chat.onboard()
    await chat.press("Công khai thông tin")
    await chat.press("Tìm kiếm")
    await chat.send("trở lại")  # no Back button here: the menu
    assert chat.labels == MAIN_MENU
    await chat.press("Phản ánh của tôi")
    await chat.send("trang chu")
    assert chat.labels == MAIN_MENU
    await to_description(chat)
    await chat.send("hướng dẫn")  # help, and the draft goes on
    assert "Gõ “menu” để về menu chính, “hủy” để dừng việc đang làm" in chat.last[0].text
    assert chat.last[1].text.startswith("Bản nháp vẫn được giữ.\n\nAnh/Chị mô tả sự việc")
    await chat.send("bai rac")  # a short text is accepted, with a gentle prompt for more
    assert "Đã ghi nhận: “bai rac”. Nếu được, Anh/Chị bổ sung thêm ở đâu" in chat.text
    assert chat.labels == ["Xong", "Bỏ qua", "Menu chính"]
    await chat.press("Bỏ qua")
    await chat.press("Gửi")
    [petition] = await petitions(demo_db)
    assert petition.description == "bai rac"


async def test_a_voice_note_at_the_description_step_is_attached_to_the_petition(chat: Chat,
                                                                               demo_db):
    await chat.onboard()
    await to_description(chat)
    await chat.send(attachments=(VOICE,))
    assert chat.text.startswith("Trợ lý đã giữ tin nhắn thoại để gửi kèm phản ánh làm bằng "
                                "chứng. Anh/Chị gõ thêm vài chữ")
    assert chat.labels == ["Gửi như vậy", "Menu chính"]
    await chat.send(attachments=(Attachment("photo", "photo-1"),))  # a photo too
    assert chat.text.startswith("Trợ lý đã giữ ảnh")
    await chat.press("Gửi như vậy")
    assert "Tệp đính kèm: 2" in chat.text
    await chat.press("Gửi")
    [petition] = await petitions(demo_db)
    assert [a["ref"] for a in petition.attachments] == ["voice-1", "photo-1"]
    assert [a["kind"] for a in petition.attachments] == ["voice", "photo"]
    assert petition.description == "(Không có lời mô tả, xin xem tệp đính kèm.)"


async def test_files_and_stickers_anywhere_are_answered(chat: Chat, demo_db):
    await chat.onboard()
    await chat.send(unread="sticker")
    assert chat.text.startswith("Cảm ơn Anh/Chị! 😊") and chat.labels == MAIN_MENU
    await chat.send(location=(21.7, 106.5))
    assert chat.text.startswith("Trợ lý đã nhận vị trí, nhưng ở đây không dùng đến nên chưa "
                                "lưu lại.") and chat.labels == MAIN_MENU
    await chat.send(attachments=(VOICE,))  # at the menu: offered as a petition
    assert chat.text.startswith("Trợ lý đã nhận tin nhắn thoại của Anh/Chị. Anh/Chị có muốn "
                                "gửi thành phản ánh lên UBND xã Chi Lăng không?")
    await chat.press("Gửi thành phản ánh")
    assert "Tệp Anh/Chị vừa gửi sẽ được đính kèm phản ánh làm bằng chứng." in chat.text
    await chat.press("Phản ánh, kiến nghị")
    await chat.press("Gửi ẩn danh")
    await chat.send(unread="sticker")  # mid-flow: the same choices again
    assert chat.text.startswith("Cảm ơn Anh/Chị! 😊 Mời Anh/Chị tiếp tục")
    assert FIELDS_PROMPT not in chat.text and "Môi trường, rác thải" in chat.labels
    await chat.send(attachments=(Attachment("photo", "photo-2"),))  # kept at any petition step
    assert chat.text.startswith("Trợ lý đã giữ ảnh để gửi kèm phản ánh. Mời Anh/Chị tiếp tục:")
    await chat.send(unread="video")
    assert "trợ lý chưa mở được loại tin này nên chưa lưu lại" in chat.text
    await chat.press("Môi trường, rác thải")
    await chat.press("Khu Hòa Bình")
    await chat.press("Bỏ qua")
    assert "Trợ lý đã giữ ảnh để gửi kèm phản ánh làm bằng chứng" in chat.text  # the last file
    await chat.send("Rác đổ trộm ở bờ suối")
    await chat.press("Xong")
    await chat.press("Gửi")
    [petition] = await petitions(demo_db)
    assert [a["ref"] for a in petition.attachments] == ["voice-1", "photo-2"]
    await chat.press("Công khai thông tin")
    await chat.send(attachments=(VOICE,))  # a step that takes no file says so
    assert chat.text.startswith("Trợ lý đã nhận tin nhắn thoại, nhưng bước này không dùng "
                                "đến nên chưa lưu lại.")
    assert "Tìm kiếm" in chat.labels


async def test_leaving_a_draft_asks_keep_writing_or_drop(chat: Chat, demo_db):
    await chat.onboard()
    await to_description(chat)
    await chat.send("Rác đổ trộm ở bờ suối")
    await chat.press("Bỏ qua")
    await chat.press("Sửa")
    await chat.press("Lĩnh vực")
    await chat.press("Menu chính")
    assert chat.text == ("Anh/Chị đang soạn dở một phản ánh chưa gửi. Anh/Chị muốn tiếp tục "
                         "soạn hay bỏ bản nháp?")
    assert chat.labels == ["Tiếp tục soạn", "Bỏ bản nháp"]
    await chat.send("đèn")  # neither answer: the step asks again, with its own choices
    assert "Môi trường, rác thải" in chat.labels and "Tiếp tục soạn" not in chat.labels
    await chat.press("Menu chính")
    await chat.send("1")  # typed on a numbered-text channel
    assert chat.text == "Bản nháp vẫn được giữ.\n\n" + FIELDS_PROMPT
    await chat.press("Điện chiếu sáng")
    assert "Lĩnh vực: Điện chiếu sáng" in chat.text and "Rác đổ trộm" in chat.text
    await chat.press("Gửi")
    code = (await petitions(demo_db))[0].code
    await to_fields(chat)
    await chat.send(code.lower())  # a code typed mid-draft
    assert chat.labels == ["Tiếp tục soạn", "Bỏ bản nháp"]
    await chat.press("Bỏ bản nháp")
    assert chat.text.startswith(f"Phản ánh {code}\n")
    assert len(await petitions(demo_db)) == 1


async def test_a_notice_mid_flow_on_the_console_leaves_the_step_s_choices(chat: Chat, demo_db):
    await chat.onboard()
    out = io.StringIO()
    console = ConsoleChannel("42", out, demo_db)
    notice = Reply("Phản ánh PA-2026-000007 đã có trả lời.",
                   (Button("Xem", "go:petition:PA-2026-000007"),))
    await to_fields(chat)
    before = (await conversation(demo_db)).buttons
    await console.send("42", notice)
    assert out.getvalue() == ("Phản ánh PA-2026-000007 đã có trả lời.\n\nViệc Anh/Chị đang làm "
                              "vẫn được giữ nguyên. Khi sẵn sàng, Anh/Chị gõ:\n"
                              "• PA-2026-000007 — Xem\n\n")
    assert (await conversation(demo_db)).buttons == before
    await chat.send("huy")
    await console.send("42", notice)  # at the menu: its choice is the one to type
    assert out.getvalue().endswith("đã có trả lời.\n  1. Xem\n\n")
    assert (await conversation(demo_db)).buttons == [["Xem", "go:petition:PA-2026-000007"]]


def test_keywords_of_notice_buttons_are_read_back():
    from bot.flows import short_link
    from bot.flows.words import record_code

    assert choices.keyword("go:petition:PA-2026-000123") == "PA-2026-000123"
    assert record_code(" pa-2026-000123 ") == "PA-2026-000123"
    for payload in ("go:session:12", "go:disclosure:7", "go:relay:5"):
        code = choices.keyword(payload)
        assert short_link(code).keywords["arg"] == payload.rsplit(":", 1)[1]
    assert choices.keyword("pa:take:3") is None and choices.keyword("go:help") is None


def test_a_list_naming_the_buttons_is_printed_once():
    reply = Reply("Phản ánh của Anh/Chị:\n• PA-2026-000002: Đã tiếp nhận\n"
                  "• PA-2026-000001: Đã trả lời",
                  (Button("PA-2026-000002", "a"), Button("PA-2026-000001", "b"),
                   Button("Menu chính", "menu:main")))
    assert listed_once(reply)[1] == (Button("Menu chính", "menu:main"),)
    assert render(reply) == ("Phản ánh của Anh/Chị:\n1. PA-2026-000002: Đã tiếp nhận\n"
                             "2. PA-2026-000001: Đã trả lời\n  3. Menu chính")
    unrelated = Reply("Lưu ý:\n• một\n• hai", (Button("Đồng ý", "y"),))
    assert listed_once(unrelated) == (unrelated.text, unrelated.buttons)
    partly = Reply("• Khiếu nại: …\n• Ghi chú", (Button("Khiếu nại", "k"), Button("Khác", "x")))
    assert listed_once(partly) == (partly.text, partly.buttons)
    spaced = Reply("Gửi gì?\n\n• Khiếu nại: a\n\n• Tố cáo: b",
                   (Button("Khiếu nại", "k"), Button("Tố cáo", "t"), Button("Menu chính", "m")))
    assert render(spaced) == "Gửi gì?\n\n1. Khiếu nại: a\n\n2. Tố cáo: b\n  3. Menu chính"
