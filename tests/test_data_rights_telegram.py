"""The data subject's rights from Settings on Telegram (the fake Bot API): my data as a
message and as a document, correct name and phone, withdraw consent, delete my data."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.messages import Reply
from bot.services import outbox, petition_intake, session_notices
from bot.services import petitions as petition_service
from bot.services import sessions as session_service
from bot.services.dispatcher import Dispatcher
from storage import clock
from storage.db import Database
from storage.models import Consent, InboundEvent, OutboxMessage, SessionRegistration, User
from storage.repositories import Communes, Users
from tests.conftest import PSEUDONYM_KEY, WEDNESDAY_MORNING, Clock
from tests.test_sessions import announce
from tests.test_telegram import TgUser, fake, hook  # noqa: F401  (fixtures)

TZ = "Asia/Ho_Chi_Minh"
WORDS = "Mương thoát nước trước nhà bà Tư Riêng bị tắc, nước tràn vào sân."


@pytest.fixture(autouse=True)
def morning(tmp_path, monkeypatch) -> Clock:
    monkeypatch.setattr(session_notices, "TICKETS_DIR", tmp_path / "tickets")
    return Clock(WEDNESDAY_MORNING)


async def resident(hook, db: Database, engine: Engine, tmp_path) -> TgUser:  # noqa: F811
    """Lan on Telegram: onboarded, a petition sent and a seat at a session taken."""
    engine.data_dir = tmp_path
    lan = TgUser(hook, 701)
    await lan.send("/start")
    await lan.press("Tiếng Việt")
    await lan.press("Đồng ý")
    await lan.press("Khu Hòa Bình")
    session_id = await announce(db, capacity=5, start=WEDNESDAY_MORNING.replace(day=30))
    async with db.unit_of_work() as session:
        me = await Users(session).get("telegram", "701")
        await petition_intake.submit(
            session, petition_intake.Intake("feedback", "environment", WORDS), me,
            now=clock.now(), timezone=TZ,
            settings=petition_service.Settings.of(await Communes(session).current()))
        await session_service.register(session, session_id, me, name="Lò Thị Lan",
                                       hamlet_id=None, phone="0911222333",
                                       now=clock.now(), timezone=TZ)
        me.display_name, me.phone = "Lò Thị Lan", "0911222333"
        await session.commit()
    await lan.send("/menu")
    await lan.press("Cài đặt")
    return lan


async def deliver(db: Database, hook) -> int:  # noqa: F811
    dispatcher = Dispatcher(db, {"telegram": hook.runtime.channel}, pseudonym_key=PSEUDONYM_KEY)
    return await dispatcher.dispatch_due()


async def rows(db: Database, model: type) -> list:
    async with db.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def test_on_telegram_my_data_comes_as_a_message_and_a_document(
        hook, demo_db, engine, fake, tmp_path):  # noqa: F811
    lan = await resident(hook, demo_db, engine, tmp_path)
    await lan.press("Dữ liệu của tôi")
    assert "Họ tên: Lò Thị Lan" in lan.text and "Phản ánh PA-2026-000001" in lan.text
    assert "1 đăng ký dự hội nghị đối thoại" in lan.text
    await lan.press("Nhận tệp dữ liệu")
    assert "Đang chuẩn bị tệp" in lan.text
    await engine.drain()
    assert await deliver(demo_db, hook) >= 1
    [document] = await fake.wait_for("sendDocument", 1, chat_id=701)
    uploaded = fake.uploads[document.params["document"]["filename"]]
    data = json.loads(uploaded.decode("utf-8"))
    assert data["profile"]["account_id"] == "701"
    assert [p["description"] for p in data["petitions"]] == [WORDS]
    assert data["registrations"][0]["name"] == "Lò Thị Lan"


async def test_on_telegram_name_and_phone_are_corrected(hook, demo_db, engine, fake,  # noqa: F811
                                                       tmp_path):
    lan = await resident(hook, demo_db, engine, tmp_path)
    await lan.press("Dữ liệu của tôi")
    await lan.press("Sửa họ tên, số điện thoại")
    await lan.press("Họ tên")
    await lan.send("Lò Thị Lan Anh")
    assert "Đã lưu: họ tên mới là Lò Thị Lan Anh" in lan.text
    await lan.press("Điện thoại")
    await lan.send(contact={"phone_number": "+84987654321", "first_name": "Lan",
                            "user_id": 701})
    assert "số điện thoại mới là +84987654321" in lan.text
    [me] = await rows(demo_db, User)
    [seat] = await rows(demo_db, SessionRegistration)
    assert (me.display_name, me.phone) == ("Lò Thị Lan Anh", "+84987654321")
    assert (seat.name, seat.phone) == ("Lò Thị Lan Anh", "+84987654321")


async def test_on_telegram_consent_is_withdrawn_and_recorded(hook, demo_db, engine, fake,  # noqa: F811
                                                            tmp_path):
    lan = await resident(hook, demo_db, engine, tmp_path)
    await lan.press("Rút lại sự đồng ý")
    assert "Hủy chỗ ngồi dự “Đường liên thôn Nà Ca”" in lan.text
    assert "PA-2026-000001: UBND xã vẫn lưu" in lan.text
    await lan.press("Có, rút lại sự đồng ý")
    assert "Đã ghi nhận việc rút lại sự đồng ý" in lan.text
    consents = await rows(demo_db, Consent)
    assert [(c.purpose, c.granted, c.channel) for c in consents] == [
        ("privacy_notice", True, "telegram"), ("privacy_notice", False, "telegram")]
    assert consents[-1].at == WEDNESDAY_MORNING and consents[-1].version == "2026-11"
    [seat] = await rows(demo_db, SessionRegistration)
    assert seat.status == "cancelled"
    assert lan.last.labels == ["Ngôn ngữ", "Dữ liệu của tôi", "Xóa dữ liệu của tôi",
                               "Menu chính"]


async def test_on_telegram_deleting_leaves_no_text_in_updates_or_outbox(
        hook, demo_db, engine, fake, tmp_path):  # noqa: F811
    lan = await resident(hook, demo_db, engine, tmp_path)
    async with demo_db.unit_of_work() as session:  # a reminder that names her went out
        await outbox.enqueue(session, outbox.Recipient("telegram", "701"),
                             Reply("Chị Lò Thị Lan: hội nghị đối thoại bắt đầu lúc 08:00."))
        await session.commit()
    assert await deliver(demo_db, hook) >= 1
    await lan.press("Xóa dữ liệu của tôi")
    assert "Hủy chỗ ngồi dự “Đường liên thôn Nà Ca”" in lan.text
    assert "Những gì sẽ bị xóa:" in lan.text
    await lan.press("Có, xóa dữ liệu")
    assert "Đã xóa dữ liệu của Anh/Chị" in lan.text
    await hook.runtime.events.flush()
    [me] = await rows(demo_db, User)
    assert (me.display_name, me.phone, me.hamlet_id) == (None, None, None)
    events = await rows(demo_db, InboundEvent)
    assert events and all(set(e.payload) <= {"kind"} for e in events)
    mine = [m for m in await rows(demo_db, OutboxMessage) if m.chat_id == "701"]
    assert mine and all(m.text == "" for m in mine if m.status != "pending")
    stored = " ".join(json.dumps(vars(r), default=str, ensure_ascii=False)
                      for r in [*events, *mine])
    assert "Lò Thị Lan" not in stored and "0911222333" not in stored and "User701" not in stored
