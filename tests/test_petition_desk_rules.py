"""The petition desk's rules and words: which actions the law allows from each status, when
an answer moves the status itself, Vietnamese status words, the queue's order, filters and
pages, staff help and names, reopened petitions, and no channel id in staff messages."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.engine import Engine
from bot.services import commune_setup, petition_intake, roles, status_words
from bot.services import petition_cards as cards
from bot.services import petitions as service
from bot.services.petition_statuses import (
    ACCEPTED,
    ANSWERED,
    CLOSED,
    COMPLAINT,
    DENUNCIATION,
    FEEDBACK,
    FORWARDED,
    IN_PROGRESS,
    RECEIVED,
    REFUSED,
    REOPENED,
)
from storage import clock
from storage.db import Database
from storage.models import OutboxMessage, Petition
from storage.repositories import Communes, Users
from tests.conftest import Chat, Clock

ROOT = Path(__file__).resolve().parent.parent
TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday 09:00 in Hà Nội


def petition(kind: str, status: str, **kw) -> Petition:
    return Petition(id=1, kind=kind, field="roads", description="…", status=status,
                    accept_due=date(2026, 12, 11), answer_due=date(2027, 1, 1), **kw)


@pytest.mark.parametrize(("kind", "status", "verbs"), [
    (FEEDBACK, RECEIVED, ["take", "progress", "answer", "forward", "assign"]),
    (FEEDBACK, IN_PROGRESS, ["take", "answer", "assign"]),
    (FEEDBACK, ANSWERED, ["close"]),
    (COMPLAINT, RECEIVED, ["take", "accept", "refuse", "forward", "assign"]),
    (COMPLAINT, ACCEPTED, ["take", "progress", "answer", "extend", "assign"]),
    (DENUNCIATION, IN_PROGRESS, ["take", "answer", "extend", "assign"]),
    (COMPLAINT, REOPENED, ["take", "progress", "answer", "extend", "assign"]),
    (COMPLAINT, REFUSED, ["close"]),
    (FEEDBACK, FORWARDED, ["close"]),
    (COMPLAINT, CLOSED, []),
])
def test_only_the_actions_the_law_allows_are_offered(kind, status, verbs):
    assert cards.actions(petition(kind, status)) == verbs


def test_the_deadline_shown_is_acceptance_until_accepted_then_the_answer():
    assert cards.due_now(petition(COMPLAINT, RECEIVED)) == (cards.ACCEPT_DUE, date(2026, 12, 11))
    assert cards.due_now(petition(COMPLAINT, ACCEPTED))[1] == date(2027, 1, 1)
    assert cards.due_now(petition(FEEDBACK, RECEIVED))[1] == date(2027, 1, 1)
    extended = petition(COMPLAINT, ACCEPTED, complex_case=True, remote_area=True)
    assert "extend" not in cards.actions(extended)  # nothing longer to give


def test_status_words_in_vietnamese_with_or_without_accents():
    assert status_words.status_of("thụ lý") == (ACCEPTED, "")
    assert status_words.status_of("thu ly") == (ACCEPTED, "")
    assert status_words.status_of("Đang xử lý") == (IN_PROGRESS, "")
    assert status_words.status_of("không thụ lý vì quá hạn") == (REFUSED, "vì quá hạn")
    assert status_words.status_of("tu choi sai tham quyen") == (REFUSED, "sai tham quyen")
    assert status_words.status_of("chuyển UBND huyện") == (FORWARDED, "UBND huyện")
    assert status_words.status_of("đóng") == (CLOSED, "")
    assert status_words.status_of("in_progress") == (IN_PROGRESS, "")
    assert status_words.status_of("xong rồi") == (None, "xong rồi")


async def submit(db: Database, kind: str = FEEDBACK, user: str = "555",
                 text: str = "Đèn đường trước chợ bị hỏng ba hôm nay.") -> Petition:
    async with db.session() as session:
        resident = await Users(session).get_or_create("telegram", user, "vi")
        settings = service.Settings.of(await Communes(session).current())
        identity = (petition_intake.Identity("Nguyễn Văn An", "Khu Hòa Bình")
                    if kind != FEEDBACK else None)
        found = await petition_intake.submit(
            session, petition_intake.Intake(kind, "lighting", text, identity=identity),
            resident, now=clock.now(), timezone=TZ, settings=settings)
        await session.commit()
        return found


async def test_answering_moves_the_status_only_where_the_law_allows(demo_db: Database):
    Clock(NOW)
    feedback, complaint = await submit(demo_db), await submit(demo_db, COMPLAINT, "556")
    async with demo_db.session() as session:
        settings = service.Settings.of(await Communes(session).current())
        feedback = await session.get(Petition, feedback.id)
        complaint = await session.get(Petition, complaint.id)
        await service.answer(session, feedback, "Đã sửa.", actor="t", now=NOW, timezone=TZ)
        assert feedback.status == ANSWERED  # received -> answered: answering is handling it
        with pytest.raises(service.PetitionError, match="cannot answer"):
            await service.answer(session, complaint, "Đã xem.", actor="t", now=NOW, timezone=TZ)
        await service.change_status(session, complaint, ACCEPTED, actor="t", now=NOW,
                                    timezone=TZ, settings=settings)
        await service.answer(session, complaint, "Đã xem.", actor="t", now=NOW, timezone=TZ)
        assert complaint.status == ANSWERED


async def staff_chat(engine: Engine) -> Chat:
    clerk = Chat(engine, user_id="canbo")  # staff in the demo commune file, named there
    await clerk.onboard()
    return clerk


async def test_the_queue_overdue_first_with_filters_and_pages(engine: Engine, demo_db: Database):
    moved = Clock(NOW - timedelta(days=40))
    old = await submit(demo_db, user="500")  # answer due long ago: overdue now
    moved.now = NOW
    complaint = await submit(demo_db, COMPLAINT, "501")
    for n in range(8):
        await submit(demo_db, user=f"6{n:02d}")
    clerk = await staff_chat(engine)
    assert "Phản ánh cần xử lý (10)" in clerk.labels
    await clerk.press("Phản ánh cần xử lý (10)")
    lines = clerk.text.splitlines()
    assert lines[0] == "Phản ánh cần xử lý — Tất cả (10), quá hạn lên trước:"
    assert lines[1].startswith(f"1. {old.code} — QUÁ HẠN")
    assert lines[2].startswith(f"2. {complaint.code} — hạn 11/12/2026")  # acceptance due
    assert len(lines) == 9 and "Trang sau" in clerk.labels
    await clerk.press("Trang sau")
    assert clerk.text.splitlines()[1].startswith("9. ")
    await clerk.press("Khiếu nại")
    assert "Khiếu nại (1)" in clerk.text and complaint.code in clerk.labels
    await clerk.press("Quá hạn")
    assert "Quá hạn (1)" in clerk.text and old.code in clerk.labels
    await clerk.press(old.code)
    assert "Hạn trả lời:" in clerk.text and "Người xử lý: chưa giao" in clerk.text
    await clerk.press("Nhận xử lý")
    assert f"{old.code} do Chị Lan (địa chính) xử lý." in clerk.text
    await clerk.send("/petitions của tôi")
    assert "Của tôi (1)" in clerk.text

    resident = Chat(engine, user_id="resident")
    await resident.onboard()
    await resident.send("/petitions")
    assert "Không được phép" in resident.text
    await resident.send(payload=f"pa:take:{old.id}")
    assert "Không được phép" in resident.text


async def test_staff_commands_take_vietnamese_words_and_help_lists_them(
    engine: Engine, demo_db: Database,
):
    Clock(NOW)
    complaint = await submit(demo_db, COMPLAINT)
    clerk = await staff_chat(engine)
    await clerk.send("/help")
    assert "Lệnh dành cho cán bộ xã" in clerk.text and "/petitions" in clerk.text
    await clerk.send(f"/status {complaint.code} xong rồi")
    assert "không hiểu trạng thái “xong rồi”" in clerk.text and "thụ lý" in clerk.text
    await clerk.send(f"/status {complaint.code} khong thu ly")
    assert "Cần ghi lý do" in clerk.text
    await clerk.send(f"/status {complaint.code} thu ly")
    assert f"{complaint.code}: Đã thụ lý, đang xem xét." in clerk.text
    await clerk.send(f"/status {complaint.code} dang xu ly")
    assert "Đang xác minh, xử lý" in clerk.text
    await clerk.send(f"/answer {complaint.code}")  # no text: the answer is asked for
    assert "Anh/Chị viết câu trả lời" in clerk.text
    await clerk.send("Quyết định đã được điều chỉnh đúng diện tích.")
    await clerk.press("Sửa")
    await clerk.send("Quyết định số 45 đã được sửa lại.")
    assert "Xem trước" in clerk.text and "điều chỉnh" not in clerk.text
    await clerk.press("Gửi trả lời")
    async with demo_db.session() as session:
        found = await session.get(Petition, complaint.id)
    assert (found.status, found.answer) == (ANSWERED, "Quyết định số 45 đã được sửa lại.")


async def test_a_reopened_petition_reaches_staff_with_reason_rating_and_new_deadline(
    engine: Engine, demo_db: Database,
):
    moved = Clock(NOW)
    resident = Chat(engine, user_id="resident")
    await resident.onboard()
    await resident.press("Gửi phản ánh, kiến nghị")
    for label in ("Phản ánh, kiến nghị", "Gửi ẩn danh", "Điện chiếu sáng", "Khu Hòa Bình",
                  "Bỏ qua"):
        await resident.press(label)
    await resident.send("Đèn đường trước chợ hỏng ba hôm nay.")
    await resident.press("Bỏ qua")
    await resident.press("Gửi")
    async with demo_db.session() as session:
        found = (await session.exec(select(Petition))).one()
        await service.answer(session, found, "Đã thay bóng.", actor="console:canbo", now=NOW,
                             timezone=TZ)
        await session.commit()
    moved.now = NOW + timedelta(days=3)  # Saturday 5/12
    await resident.send(payload=f"go:petition:{found.code}")
    await resident.press("Đánh giá câu trả lời")
    await resident.send("2 sao")
    await resident.press("Mở lại")
    await resident.send("Đèn lại tắt sau hai ngày.")
    async with demo_db.session() as session:
        staff = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "staff", OutboxMessage.chat_id == "canbo"))).all()
    text = staff[-1].text
    assert text.startswith("Người dân đề nghị xem xét lại phản ánh")
    assert "Lý do đề nghị xem xét lại: Đèn lại tắt sau hai ngày." in text
    assert "Người dân đánh giá: 2/5" in text
    assert "Hạn trả lời: chậm nhất ngày 25/12/2026" in text  # 15 working days from Monday 7/12
    assert "do Chị Lan" not in text and "console:" not in text
    assert [b[0] for b in staff[-1].buttons][:3] == ["Nhận xử lý", "Đang xử lý", "Trả lời"]


def test_role_grant_takes_a_display_name(shell, capsys, tmp_path):
    assert shell(capsys, "init", str(commune_setup.DEMO_FILE))[0] == 0
    code, out, err = shell(capsys, "role", "grant", "--channel", "telegram", "--user-id", "77",
                           "--role", "staff", "--name", "Chị Mai (tư pháp)")
    assert code == 0, err
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        named = dict(connection.execute("SELECT user_id, name FROM role_grants").fetchall())
    assert named["77"] == "Chị Mai (tư pháp)" and named["canbo"] == "Chị Lan (địa chính)"


async def test_a_denunciation_shows_its_content_and_evidence_only_to_the_investigator(
    engine: Engine, demo_db: Database,
):
    Clock(NOW)
    async with demo_db.session() as session:
        await roles.grant(session, "console", "canbo", "investigator", actor="test")
        resident = await Users(session).get_or_create("telegram", "557", "vi")
        settings = service.Settings.of(await Communes(session).current())
        intake = petition_intake.Intake(
            DENUNCIATION, "land", "Cán bộ địa chính nhận tiền để cấp sổ đỏ sai quy định.",
            latitude=21.85, longitude=106.77,
            attachments=[{"kind": "photo", "ref": "received/telegram/2026-12/a.jpg",
                          "channel": "telegram"}],
            identity=petition_intake.Identity("Phạm Thị Dung", "Khu Hòa Bình"))
        found = await petition_intake.submit(session, intake, resident, now=NOW, timezone=TZ,
                                             settings=settings)
        await session.commit()
        pushed = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "staff"))).all()
    assert pushed and all(m.attachments == [] for m in pushed)  # no photo, no pin
    assert all("cấp sổ đỏ" not in m.text and "Phạm Thị Dung" not in m.text for m in pushed)
    assert all(b[0] not in ("Xem vị trí", "Xem ảnh, tệp (1)") for m in pushed
               for b in m.buttons)

    admin = Chat(engine, user_id="admin")  # staff, not the investigator
    await admin.onboard()
    await admin.send(payload=f"pa:show:{found.id}")
    assert "giữ bí mật" in admin.text and "cấp sổ đỏ" not in admin.text
    assert "Xem vị trí" not in admin.labels
    await admin.send(payload=f"pa:pin:{found.id}")
    assert admin.last[0].attachments == ()

    investigator = await staff_chat(engine)
    await investigator.send(payload=f"pa:show:{found.id}")
    assert "cấp sổ đỏ" in investigator.text and "Phạm Thị Dung" in investigator.text
    assert {"Xem ảnh, tệp (1)", "Xem vị trí"} <= set(investigator.labels)
    await investigator.press("Xem vị trí")
    [pin] = investigator.last[0].attachments
    assert (pin.kind, pin.ref) == ("location", "21.85,106.77")


async def test_extension_and_forwarding_by_buttons(engine: Engine, demo_db: Database):
    Clock(NOW)
    complaint = await submit(demo_db, COMPLAINT)
    feedback = await submit(demo_db, user="558")
    clerk = await staff_chat(engine)
    await clerk.send(payload=f"pa:show:{complaint.id}")
    await clerk.press("Thụ lý")
    # 30 days from acceptance end on New Year's Day, a holiday before a weekend: the deadline
    # moves to the next working day (Bộ luật Dân sự Art. 148(5)).
    assert "Hạn trả lời: chậm nhất ngày 04/01/2027" in clerk.text
    await clerk.press("Gia hạn")
    assert clerk.labels == ["Vụ việc phức tạp", "Vùng sâu, vùng xa"]
    await clerk.press("Vụ việc phức tạp")
    assert f"{complaint.code}: hạn trả lời nay là 18/01/2027." in clerk.text  # 45 days, Monday
    assert "gia hạn giải quyết — Chị Lan (địa chính)" in clerk.text  # the timeline, by name
    async with demo_db.session() as session:
        told = (await session.exec(select(OutboxMessage.text).where(
            OutboxMessage.chat_id == "555").order_by(OutboxMessage.id))).all()
    assert told[-1] == (  # the resident learns the new deadline and why
        f"Khiếu nại {complaint.code}: thời hạn giải quyết được kéo dài theo quy định của pháp "
        "luật, vì vụ việc phức tạp. Hạn trả lời: chậm nhất ngày 18/01/2027.")

    await clerk.send(payload=f"pa:show:{feedback.id}")
    await clerk.press("Chuyển đơn")
    assert "đến cơ quan nào?" in clerk.text
    await clerk.send("Điện lực huyện")
    assert "Lý do chuyển đơn" in clerk.text and "Điện lực huyện" in clerk.text
    await clerk.send("Đèn đường do Điện lực quản lý.")
    assert f"{feedback.code}: Đã chuyển cơ quan có thẩm quyền. Đã báo người dân, kèm lý do." in (
        clerk.text)
    async with demo_db.session() as session:
        told = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.chat_id == "558", OutboxMessage.kind == "petition"))).all()
    assert "chuyển đến Điện lực huyện: Đèn đường do Điện lực quản lý." in told[-1].text
