"""The staff chat on Telegram: a new petition arrives with buttons that act on it, staff
answer with /answer, and /export and /report send the file back into the chat."""

from __future__ import annotations

import io
import zipfile

import openpyxl
from sqlmodel import select

from bot.engine import Engine
from bot.services import groups, petition_intake, roles
from bot.services import petitions as petition_service
from bot.services.dispatcher import Dispatcher
from storage import clock
from storage.db import Database
from storage.models import OutboxMessage, Petition
from storage.repositories import Communes, Users
from tests.conftest import PSEUDONYM_KEY
from tests.test_telegram import STAFF_CHAT, TgUser, fake, hook  # noqa: F401  (fixtures)


async def _setup(db: Database, engine: Engine, tmp_path) -> str:
    engine.data_dir = tmp_path
    async with db.session() as session:
        await groups.link(session, "telegram", str(STAFF_CHAT), staff=True, actor="test")
        await roles.grant(session, "telegram", "901", "staff", actor="test")
        resident = await Users(session).get_or_create("telegram", "555", "vi")
        settings = petition_service.Settings.of(await Communes(session).current())
        intake = petition_intake.Intake("feedback", "lighting",
                                        "Đèn đường trước chợ bị hỏng ba hôm nay.")
        petition = await petition_intake.submit(
            session, intake, resident, now=clock.now(), timezone=engine.timezone,
            settings=settings)
        await session.commit()
        return petition.code


async def _deliver(db: Database, hook) -> int:  # noqa: F811
    dispatcher = Dispatcher(db, {"telegram": hook.runtime.channel}, pseudonym_key=PSEUDONYM_KEY)
    return await dispatcher.dispatch_due()


async def test_a_new_petition_is_handled_from_the_staff_chat(hook, demo_db, engine, fake,  # noqa: F811
                                                           tmp_path):
    code = await _setup(demo_db, engine, tmp_path)
    assert await _deliver(demo_db, hook) == 1  # to the staff chat, not to each staff member
    [card] = await fake.wait_for("sendMessage", 1, chat_id=STAFF_CHAT)
    assert "Phản ánh mới" in card.params["text"] and code in card.params["text"]
    assert "python -m bot" not in card.params["text"]
    # Feedback has plain steps: never "Thụ lý", and it may be answered at once.
    assert card.labels == ["Nhận xử lý", "Đang xử lý", "Trả lời", "Chuyển đơn", "Giao cho"]

    outsider = TgUser(hook, 511, chat_id=STAFF_CHAT)
    await outsider.press("Đang xử lý", replies=0, on=card)
    staff = TgUser(hook, 901, chat_id=STAFF_CHAT)
    await staff.press("Đang xử lý", on=card)
    assert f"{code}: Đang xác minh, xử lý. Người dân đã được báo." in staff.text
    assert staff.last.labels == ["Nhận xử lý", "Trả lời", "Giao cho"]
    await staff.press("Trả lời")
    assert f"Anh/Chị viết câu trả lời {code}" in staff.text
    assert staff.last.params["reply_markup"] == {"force_reply": True}
    await staff.press("Đang xử lý", replies=0, on=card)  # pressed twice: refused with a pop-up
    alerts = [c for c in fake.of("answerCallbackQuery") if c.params.get("show_alert")]
    assert len(alerts) == 2 and "không thể chuyển" in alerts[-1].params["text"].lower()

    await staff.send(f"/answer {code.lower()} Đã thay bóng đèn ngày 2/12.")
    assert f"Đã gửi trả lời {code} cho người dân" in staff.text
    await outsider.send(f"/answer {code} giả mạo", replies=1)
    assert "Không được phép" in outsider.text
    async with demo_db.session() as session:
        petition = (await session.exec(select(Petition))).one()
        resident_notices = (await session.exec(
            select(OutboxMessage).where(OutboxMessage.chat_id == "555"))).all()
    assert petition.status == "answered" and petition.answer == "Đã thay bóng đèn ngày 2/12."
    assert len(resident_notices) == 2

    await staff.send(f"/assign {code} chị Hoa (địa chính)")
    assert f"{code} do chị Hoa (địa chính) xử lý." in staff.text
    await staff.send(f"/assign {code} lan")  # a colleague's name from the commune file
    assert f"{code} do Chị Lan (địa chính) xử lý." in staff.text
    await staff.send("/status")
    assert "/status MÃ TRẠNG_THÁI" in staff.text


async def test_export_and_report_come_back_as_files(hook, demo_db, engine, fake, tmp_path):  # noqa: F811
    await _setup(demo_db, engine, tmp_path)
    staff = TgUser(hook, 901, chat_id=STAFF_CHAT)
    year = clock.today(engine.timezone).year
    await staff.send(f"/export petitions 01/01/{year} 31/12/{year} xlsx")  # Vietnamese dates
    assert "Đang chuẩn bị tệp" in staff.text  # at once; the file follows when it is made
    await engine.drain()
    assert await _deliver(demo_db, hook) == 2  # the petition card, then the file
    [document] = await fake.wait_for("sendDocument", 1, chat_id=STAFF_CHAT)
    assert fake.of("sendMessage", STAFF_CHAT)[-1].params["text"].startswith("1 dòng")
    uploaded = fake.uploads[document.params["document"]["filename"]]
    book = openpyxl.load_workbook(io.BytesIO(uploaded))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "Mã" and rows[1][0].startswith("PA-")

    await staff.send("/export log 2026-13-01 2026-12-31")
    assert "/export log|petitions|sessions|comments" in staff.text
    await staff.send(f"/report {year}")
    assert "Đang chuẩn bị tệp" in staff.text
    await engine.drain()
    assert await _deliver(demo_db, hook) == 1
    report = (await fake.wait_for("sendDocument", 2, chat_id=STAFF_CHAT))[-1]
    assert "Báo cáo năm" in fake.of("sendMessage", STAFF_CHAT)[-1].params["text"]
    uploaded = fake.uploads[report.params["document"]["filename"]]
    with zipfile.ZipFile(io.BytesIO(uploaded)) as archive:
        assert any(name.startswith("xl/charts/") for name in archive.namelist())
    assert list((tmp_path / "exports").iterdir())


async def test_progress_lines_edit_one_telegram_message(hook, fake):  # noqa: F811
    channel = hook.runtime.channel
    ref = await channel.post_progress("777", "Thông báo số 1: đã gửi 0/500…", None)
    assert await channel.post_progress("777", "Thông báo số 1: đã gửi 120/500…", ref) == ref
    [sent] = fake.of("sendMessage", 777)
    [edit] = await fake.wait_for("editMessageText", 1, chat_id=777)
    assert str(edit.params["message_id"]) == ref == str(sent.result["message_id"])
    assert edit.params["text"] == "Thông báo số 1: đã gửi 120/500…"


async def test_an_admin_grants_a_hamlet_head_in_the_staff_chat(hook, demo_db, engine, fake,  # noqa: F811
                                                             tmp_path):
    await _setup(demo_db, engine, tmp_path)
    async with demo_db.session() as session:
        await roles.grant(session, "telegram", "900", "admin", actor="test")
        await session.commit()
    staff = TgUser(hook, 901, chat_id=STAFF_CHAT)
    await staff.send("/role grant telegram 4242 hamlet_head khu-1")
    assert "Chỉ quản trị viên" in staff.text
    admin = TgUser(hook, 900, chat_id=STAFF_CHAT)
    await admin.send("/role grant telegram 4242 hamlet_head khu-9")
    assert "unknown hamlet" in admin.text
    await admin.send("/role grant telegram 4242 hamlet_head khu-1")
    assert "Đã cấp vai trò hamlet_head cho telegram:4242" in admin.text
    async with demo_db.session() as session:
        assert "hamlet_head" in await roles.roles_of(session, "telegram", "4242")


async def test_a_slow_export_does_not_hold_the_bot(hook, demo_db, engine, fake, tmp_path,  # noqa: F811
                                                  monkeypatch):
    """While a file is being made, everyone else is still answered at once."""
    import threading
    import time

    from bot.services import exports

    await _setup(demo_db, engine, tmp_path)
    real, released = exports.export, threading.Event()

    async def slow(db, request, **kw):
        released.wait(5)  # a big export blocks: here its worker thread
        return await real(db, request, **kw)

    monkeypatch.setattr(exports, "export", slow)
    staff = TgUser(hook, 901, chat_id=STAFF_CHAT)
    year = clock.today(engine.timezone).year
    started = time.monotonic()
    await staff.send(f"/export petitions {year}-01-01 {year}-12-31")
    assert "Đang chuẩn bị tệp" in staff.text
    await TgUser(hook, 512).send("/start")  # answered while the export is still blocked
    assert time.monotonic() - started < 2.0 and not fake.of("sendDocument")
    released.set()
    await engine.drain()
    await _deliver(demo_db, hook)
    await fake.wait_for("sendDocument", 1, chat_id=STAFF_CHAT)
