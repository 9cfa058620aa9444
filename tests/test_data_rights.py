"""The data subject's rights from Settings, on the console: see all my data (as a message and
as a file), correct name and phone, withdraw consent, delete my data."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.services import petition_intake
from bot.services import petitions as petition_service
from storage.db import Database
from storage.models import (
    Consent,
    DisclosureComment,
    OutboxMessage,
    Petition,
    PetitionIdentity,
    SessionQuestion,
    SessionRegistration,
    Subscription,
    User,
)
from storage.repositories import Communes, Users
from tests.conftest import MAIN_MENU, PSEUDONYM_KEY, Chat, Clock
from tests.test_disclosures import publish
from tests.test_sessions import announce

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 on Friday 20/11 in Hà Nội
LIMITED_MENU = ["Công khai thông tin", "Xem lại thông báo", "Ngôn ngữ", "Cài đặt", "Trợ giúp"]
NAME, PHONE = "Nguyễn Văn Ân", "0912 345 678"
QUESTION = "Khi nào đường Nà Ca được mở rộng?"
COMMENT = "Đề nghị ưu tiên đường vào thôn Nà Ca."
PETITION = "Đèn đường trước nhà văn hóa Nà Ca hỏng ba ngày nay."


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def engine(demo_db: Database, clock: Clock, tmp_path: Path) -> Engine:
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY, data_dir=tmp_path)


async def rows(db: Database, model: type, *where: object) -> list:
    async with db.session() as session:
        return list((await session.exec(select(model).where(*where).order_by(model.id))).all())


async def active_resident(chat: Chat, db: Database) -> None:
    """A resident who follows a topic and hamlet notices, sent a petition (accepted since),
    holds a seat with a question, and commented on a consultation."""
    await announce(db, capacity=5)
    await publish(db, 11, "Lấy ý kiến dự thảo kế hoạch 2027", consult_until=date(2026, 12, 10))
    await chat.onboard(hamlet="Thôn Nà Ca")
    await chat.press("Cài đặt")
    await chat.press("Thông báo khu dân cư")
    await chat.press("Theo dõi lĩnh vực")
    await chat.press(next(label for label in chat.labels if "Lấy ý kiến" in label))
    await chat.send("/menu")
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Phản ánh, kiến nghị")
    await chat.press("Gửi ẩn danh")
    await chat.press("Điện chiếu sáng")
    await chat.press("Thôn Nà Ca")
    await chat.press("Bỏ qua")
    await chat.send(PETITION)
    await chat.press("Bỏ qua")
    await chat.press("Gửi")
    assert "PA-2026-000001" in chat.text
    await chat.press("Đối thoại")
    await chat.press("Đường liên thôn Nà Ca")
    await chat.press("Đăng ký")
    await chat.send("Nguyễn Văn An")
    await chat.press("Thôn Nà Ca")
    await chat.send("0900 000 111")
    await chat.press("Gửi câu hỏi")
    await chat.send(QUESTION)
    await chat.send("/menu")
    await chat.press("Công khai thông tin")
    await chat.press("Lấy ý kiến Nhân dân")
    await chat.press("Lấy ý kiến dự thảo kế hoạch 2027")
    await chat.press("Góp ý")
    await chat.send(COMMENT)
    await chat.press("Gửi góp ý")  # after the preview
    async with db.unit_of_work() as session:  # staff take it up: the resident is told
        petition = await petition_service.by_code(session, "PA-2026-000001")
        await petition_service.change_status(
            session, petition, "in_progress", actor="staff", now=NOW, timezone=TZ,
            settings=petition_service.Settings.of(await Communes(session).current()))
        await session.commit()
    await chat.send("/menu")
    await chat.press("Cài đặt")


async def the_file(engine: Engine, db: Database, chat_id: str = "42") -> dict:
    """The "my data" file sent through the outbox to this chat, read back."""
    await engine.drain()
    [row] = [m for m in await rows(db, OutboxMessage) if m.chat_id == chat_id and m.attachments]
    assert row.kind == "reply" and row.attachments[0]["mime_type"] == "application/json"
    assert row.attachments[0]["name"] == "du-lieu-cua-toi-2026-11-20.json"
    return read_json(row.attachments[0]["ref"])


def read_json(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def exists(path: str) -> bool:
    return Path(path).is_file()


async def test_my_data_shows_everything_kept_as_a_message_and_as_a_file(chat: Chat, demo_db,
                                                                      engine):
    await active_resident(chat, demo_db)
    await chat.press("Dữ liệu của tôi")
    text = chat.text
    for expected in ("Dữ liệu UBND xã Chi Lăng đang lưu về Anh/Chị", "mã tài khoản 42",
                     "Khu dân cư: Thôn Nà Ca", "Họ tên: Nguyễn Văn An",
                     "Số điện thoại: 0900000111", "phiên bản 2026-11",
                     "1 phản ánh, kiến nghị", "1 đăng ký dự buổi đối thoại",
                     "1 câu hỏi gửi buổi đối thoại", "1 góp ý về dự thảo",
                     "2 mục đang theo dõi", "1 tin nhắn đã gửi cho Anh/Chị",
                     "Phản ánh PA-2026-000001: Đang xử lý",
                     "Đăng ký dự “Đường liên thôn Nà Ca”",
                     f"Câu hỏi: {QUESTION}", f"Góp ý về “Lấy ý kiến dự thảo kế hoạch 2027”: "
                     f"{COMMENT}"):
        assert expected in text, text
    assert chat.labels == ["Nhận tệp dữ liệu", "Sửa họ tên, số điện thoại", "Cài đặt",
                           "Menu chính"]

    await chat.press("Nhận tệp dữ liệu")
    assert "Đang chuẩn bị tệp" in chat.text
    data = await the_file(engine, demo_db)
    assert data["profile"]["name"] == "Nguyễn Văn An" and data["profile"]["phone"] == "0900000111"
    [petition] = data["petitions"]
    assert (petition["code"], petition["status"], petition["description"]) == (
        "PA-2026-000001", "in_progress", PETITION)
    [registration] = data["registrations"]
    [seat] = await rows(demo_db, SessionRegistration)
    assert registration["ticket"] == seat.ticket and registration["status"] == "registered"
    assert [q["text"] for q in data["questions"]] == [QUESTION]
    assert [c["text"] for c in data["comments"]] == [COMMENT]
    assert [(c["purpose"], c["granted"]) for c in data["consents"]][0] == ("privacy_notice", True)
    assert set(data["follows"]) == {"hamlet_notices", "disclosure:11"}
    [notice] = data["notices"]
    assert notice["kind"] == "petition" and "PA-2026-000001" in notice["text"]


async def test_correcting_name_and_phone_reaches_the_seats_to_come(chat: Chat, demo_db):
    await active_resident(chat, demo_db)
    await chat.press("Dữ liệu của tôi")
    await chat.press("Sửa họ tên, số điện thoại")
    assert "Họ tên: Nguyễn Văn An\nSố điện thoại: 0900000111" in chat.text
    assert chat.labels == ["Họ tên", "Điện thoại", "Xóa số điện thoại", "Cài đặt"]
    await chat.press("Họ tên")
    await chat.send("x")
    assert "gõ họ và tên (bằng chữ" in chat.text
    await chat.send(f"  {NAME} ")
    assert f"Đã lưu: họ tên mới là {NAME}" in chat.text
    assert "phản ánh, kiến nghị đã gửi vẫn giữ thông tin như lúc gửi" in chat.text
    await chat.press("Điện thoại")
    await chat.send("12")
    assert "Số điện thoại chưa đúng" in chat.text
    await chat.send(PHONE)
    assert "số điện thoại mới là 0912345678" in chat.text
    [me] = await rows(demo_db, User)
    [seat] = await rows(demo_db, SessionRegistration)
    assert (me.display_name, me.phone) == (NAME, "0912345678")
    assert (seat.name, seat.phone) == (NAME, "0912345678")
    await chat.press("Xóa số điện thoại")
    assert "Đã xóa số điện thoại" in chat.text and "Số điện thoại: không lưu" in chat.text
    [me] = await rows(demo_db, User)
    [seat] = await rows(demo_db, SessionRegistration)
    assert me.phone is None and seat.phone is None and seat.name == NAME


async def test_withdrawing_consent_is_recorded_and_says_what_stops_and_what_is_kept(
        chat: Chat, demo_db):
    await active_resident(chat, demo_db)
    before = await rows(demo_db, Consent)
    await chat.press("Rút lại sự đồng ý")
    text = chat.text
    for expected in ("Những gì sẽ dừng:", "Dừng theo dõi 1 lĩnh vực thông tin công khai",
                     "Dừng nhận thông báo của khu dân cư",
                     "Hủy chỗ ngồi dự “Đường liên thôn Nà Ca” (08:00, thứ Ba, 01/12/2026)",
                     "Những gì pháp luật yêu cầu phải lưu giữ:",
                     "PA-2026-000001: UBND xã vẫn lưu và tiếp tục xử lý",
                     "pháp luật về khiếu nại, tố cáo và lưu trữ",
                     "Hồ sơ các lần Anh/Chị đồng ý"):
        assert expected in text, expected
    assert chat.labels == ["Có, rút lại sự đồng ý", "Không, giữ lại"]
    await chat.press("Có, rút lại sự đồng ý")
    assert "Đã ghi nhận việc rút lại sự đồng ý lúc 10:00" in chat.text

    after = await rows(demo_db, Consent)
    assert after[:len(before)] == before  # nothing deleted
    withdrawn = after[len(before):]
    assert [(c.purpose, c.version, c.granted, c.at) for c in withdrawn] == [
        ("privacy_notice", "2026-11", False, NOW),
        ("notifications", "disclosure:11", False, NOW),
        ("notifications", "hamlet_notices", False, NOW)]
    assert await rows(demo_db, Subscription) == []
    [seat] = await rows(demo_db, SessionRegistration)
    assert seat.status == "cancelled"
    [me] = await rows(demo_db, User)
    assert me.consent_version is None and me.display_name == "Nguyễn Văn An"
    [petition] = await rows(demo_db, Petition)
    assert petition.user_id == me.id  # still answered to its sender

    await chat.press("Dữ liệu của tôi")
    assert "Rút lại sự đồng ý: thông báo phiên bản 2026-11, lúc 10:00" in chat.text
    await chat.send("/menu")
    assert chat.labels == LIMITED_MENU
    await chat.press("Cài đặt")
    assert chat.labels == ["Ngôn ngữ", "Dữ liệu của tôi", "Xóa dữ liệu của tôi", "Menu chính"]
    await chat.send("/menu")
    await chat.press("Xem lại thông báo")
    await chat.press("Đồng ý")
    assert chat.labels == MAIN_MENU


async def test_deleting_my_data_lists_what_is_cancelled_and_kept_then_erases_it(
        chat: Chat, demo_db, engine):
    await active_resident(chat, demo_db)
    await chat.press("Dữ liệu của tôi")
    await chat.press("Nhận tệp dữ liệu")
    await engine.drain()
    [file_row] = [m for m in await rows(demo_db, OutboxMessage) if m.attachments]
    async with demo_db.unit_of_work() as session:  # as if the dispatcher had sent them
        for row in (await session.exec(select(OutboxMessage))).all():
            row.status, row.sent_at = "sent", NOW
        await session.commit()
    my_file = file_row.attachments[0]["ref"]
    assert exists(my_file)
    await chat.press("Cài đặt")
    await chat.press("Xóa dữ liệu của tôi")
    text = chat.text
    for expected in ("không thể hoàn tác", "Hủy chỗ ngồi dự “Đường liên thôn Nà Ca”",
                     "Dừng theo dõi 1 lĩnh vực", "Những gì sẽ bị xóa:",
                     "PA-2026-000001: UBND xã vẫn lưu",
                     "pháp luật về khiếu nại, tố cáo và lưu trữ"):
        assert expected in text, expected
    await chat.press("Có, xóa dữ liệu")
    assert "Đã xóa dữ liệu của Anh/Chị" in chat.text
    assert "nhắn một tin bất kỳ" in chat.text and "/start" not in chat.text  # words, no command

    [me] = await rows(demo_db, User)
    assert (me.hamlet_id, me.display_name, me.phone, me.consent_version, me.onboarded_at) == (
        None, None, None, None, None)
    consents = await rows(demo_db, Consent)
    assert consents[0].granted and any(
        c.purpose == "privacy_notice" and not c.granted for c in consents)
    [seat] = await rows(demo_db, SessionRegistration)
    assert (seat.status, seat.name, seat.phone, seat.user_id) == ("cancelled", "—", None, None)
    [question] = await rows(demo_db, SessionQuestion)
    [comment] = await rows(demo_db, DisclosureComment)
    assert question.user_id is None and comment.user_id is None
    [petition] = await rows(demo_db, Petition)
    assert petition.user_id == me.id and petition.description == PETITION  # the law keeps it
    mine = [m for m in await rows(demo_db, OutboxMessage) if m.chat_id == "42"]
    assert mine and all(m.text == "" and m.attachments == [] for m in mine)
    assert not exists(my_file)
    await chat.send("chào")
    assert chat.labels == ["Đồng ý", "Xem chi tiết", "Không đồng ý"]  # asked again


async def test_someone_who_declined_still_sees_and_deletes_their_data(chat: Chat, demo_db):
    await chat.send("/start")
    await chat.press("Không đồng ý")
    assert chat.labels == LIMITED_MENU
    await chat.press("Cài đặt")
    assert chat.labels == ["Ngôn ngữ", "Dữ liệu của tôi", "Xóa dữ liệu của tôi", "Menu chính"]
    await chat.send(payload="settings:subs")  # an old keyboard's entry that needs consent
    assert "tin nhắn cũ" in chat.text and "Theo dõi lĩnh vực" not in chat.labels
    await chat.press("Dữ liệu của tôi")
    assert "Không đồng ý với thông báo: phiên bản 2026-11, lúc 10:00" in chat.text
    assert "Họ tên: không lưu" in chat.text
    await chat.press("Cài đặt")
    await chat.press("Xóa dữ liệu của tôi")
    assert "Những gì sẽ dừng:" not in chat.text and "lần rút lại này" not in chat.text
    assert "Hồ sơ các lần Anh/Chị đồng ý hoặc không đồng ý" in chat.text
    await chat.press("Có, xóa dữ liệu")
    [decision] = await rows(demo_db, Consent)
    assert (decision.purpose, decision.granted) == ("privacy_notice", False)  # kept as proof


async def test_deleting_my_data_erases_the_name_on_feedback_but_not_on_a_complaint(
        chat: Chat, demo_db):
    await chat.onboard(hamlet="Thôn Nà Ca")
    async with demo_db.unit_of_work() as session:
        me = await Users(session).get_or_create(chat.channel, chat.user_id, "vi")
        settings = petition_service.Settings.of(await Communes(session).current())
        for kind in ("feedback", "complaint"):
            await petition_intake.submit(session, petition_intake.Intake(
                kind, "lighting", PETITION, identity=petition_intake.Identity(
                    NAME, "Thôn Nà Ca", PHONE)), me, now=NOW, timezone=TZ, settings=settings)
        await session.commit()
    await chat.press("Cài đặt")
    await chat.press("Xóa dữ liệu của tôi")
    assert "họ tên, địa chỉ và số điện thoại trong các đăng ký dự buổi đối thoại và trong " \
        "các phản ánh, kiến nghị" in chat.text
    await chat.press("Có, xóa dữ liệu")
    [kept] = await rows(demo_db, PetitionIdentity)  # the complaint's: the law keeps it
    complaint = [p for p in await rows(demo_db, Petition) if p.kind == "complaint"]
    assert [kept.petition_id] == [p.id for p in complaint]
    assert (kept.full_name, kept.phone) == (NAME, PHONE)
    assert len(await rows(demo_db, Petition)) == 2  # both petitions stay


async def test_in_the_terminal_my_data_file_is_shown_when_it_is_ready(engine, demo_db):
    from bot.handlers import console
    from bot.services.dispatcher import Dispatcher

    stdout = io.StringIO()
    script = "/start\n1\n1\ncai dat\ndu lieu cua toi\nnhan tep du lieu\n"
    dispatcher = Dispatcher(demo_db, {}, pseudonym_key=PSEUDONYM_KEY)
    assert await console.chat(engine, "lan", io.StringIO(script), stdout, dispatcher) == 6
    shown = stdout.getvalue()
    assert "Đang chuẩn bị tệp" in shown
    assert shown.rstrip().endswith("[document: du-lieu-cua-toi-2026-11-20.json]")
    [row] = [m for m in await rows(demo_db, OutboxMessage) if m.chat_id == "lan"]
    assert row.status == "sent" and read_json(row.attachments[0]["ref"])["profile"][
        "account_id"] == "lan"
