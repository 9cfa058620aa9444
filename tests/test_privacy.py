"""Privacy that holds: a denouncer cannot be re-identified, the log records what happened and
not who people are, and staff actions are accountable (issue 19, items 1, 2 and 5).

The main story plays one resident who sends a denunciation, registers for two dialogue
sessions (the second with the offered "Dùng tên"/"Dùng số" buttons), comments on a
consultation and opens the denunciation from "Phản ánh của tôi"; staff act on it in the staff
chat. Then every export, the yearly report, the staff chat's messages, the log and every table
are searched for the identity, and each export row is tried as a link to the denunciation.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from bot import flows
from bot.engine import REDACTED, Engine
from bot.messages import Contact, Inbound, Reply, parse_command
from bot.pseudonym import user_ref
from bot.services import disclosures as disclosure_service
from bot.services import exports, groups, roles, session_notices, yearly_report, yearly_workbook
from bot.services import session_rules as session_rules
from bot.services import sessions as session_service
from bot.services.dispatcher import Dispatcher
from storage.db import Database
from storage.models import InteractionLog, OutboxMessage, SessionRegistration
from tests.conftest import PSEUDONYM_KEY, WEDNESDAY_MORNING, Chat, Clock
from tests.test_outbox import FakeChannel

TZ = "Asia/Ho_Chi_Minh"
RESIDENT, STAFF, OUTSIDER, STAFF_CHAT = "7770001", "901", "902", "-1005550001"
# The denouncer's identity: it may be kept in petition_identities and nowhere else.
NAME, ADDRESS, PHONE = "Hoàng Thị Bí Mật Xuyến", "Số 77 ngõ Kín, thôn Pác Khuổi", "0987 654 321"
IDENTITY = (NAME, "Bí Mật Xuyến", ADDRESS, "ngõ Kín", PHONE, "0987654321", "987654321")
# The name and phone the same person gives to register for sessions: kept with the
# registration, never in the log nor in an export without personal data.
REG_NAME, REG_PHONE = "Lục Văn Dự Họp", "0911 222 333"
REGISTRATION = (REG_NAME, "Dự Họp", REG_PHONE, "0911222333")
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d")


@pytest.fixture
def clock() -> Clock:
    return Clock(WEDNESDAY_MORNING)


@pytest.fixture
def engine(demo_db: Database, clock: Clock, tmp_path: Path, monkeypatch) -> Engine:
    monkeypatch.setattr(session_notices, "TICKETS_DIR", tmp_path / "tickets")
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY, data_dir=tmp_path)


class StaffChat:
    """Members writing in the linked staff chat."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.replies: list[Reply] = []

    async def send(self, user_id: str, text: str = "", **kw: object) -> list[Reply]:
        command, args = parse_command(text)
        replies = await self.engine.handle(Inbound(
            "telegram", user_id, text=text, command=command, args=args, chat_id=STAFF_CHAT,
            **kw))
        self.replies += replies
        return replies


async def _prepare(db: Database, clock: Clock) -> tuple[int, int]:
    """A staff chat, a staff member, two sessions and a consultation."""
    async with db.session() as session:
        await groups.link(session, "telegram", STAFF_CHAT, staff=True, actor="test")
        await roles.grant(session, "telegram", STAFF, "staff", actor="test")
        ids = []
        for topic in ("Đường liên thôn Nà Ca", "Chợ trung tâm xã"):
            item = await session_service.announce(session, session_rules.Plan(
                topic=topic, start=datetime(2026, 12, 1, 1, 0, tzinfo=clock.now.tzinfo),
                place="Hội trường UBND xã", capacity=10, leaders=["Chủ tịch UBND xã"]),
                actor="cli:test", now=clock.now, timezone=TZ)
            ids.append(item.id)
        await disclosure_service.publish(session, disclosure_service.Draft(
            11, "Lấy ý kiến dự thảo kế hoạch 2027", "Nội dung dự thảo.",
            consult_until=date(2026, 12, 10)), actor="cli:test", now=clock.now, timezone=TZ)
        await session.commit()
    return ids[0], ids[1]


async def _register(chat: Chat, topic: str, *, by_buttons: bool) -> None:
    await chat.press("Đối thoại")
    await chat.press(topic)
    await chat.press("Đăng ký")
    if by_buttons:
        await chat.press(f"Dùng tên: {REG_NAME}")
        await chat.press("Khu Hòa Bình")
        await chat.press("Dùng số: 0911222333")
    else:
        await chat.send(REG_NAME)
        await chat.press("Khu Hòa Bình")
        await chat.send(REG_PHONE)
    assert "Mã vé của Anh/Chị" in chat.text
    await chat.press("Menu chính")


async def _denounce(chat: Chat) -> str:
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Tố cáo")
    await chat.send(NAME)
    await chat.send(ADDRESS)
    await chat.send(PHONE)
    await chat.press("Đất đai, xây dựng")
    await chat.press("Khu Hòa Bình")
    await chat.press("Bỏ qua")
    await chat.send("Cán bộ địa chính thu tiền ngoài quy định khi làm thủ tục cấp sổ đỏ.")
    await chat.press("Bỏ qua")
    await chat.press("Gửi")
    found = re.search(r"TC-\d{4}-\d{6}", chat.text)
    assert found, chat.text
    return found[0]


def _cell(value: object) -> str:
    """A cell as text, times to the minute (CSV and XLSX alike)."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    text = "" if value is None else str(value)
    return text[:16] if re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text) else text


def _rows(path: Path) -> list[list[str]]:
    """Every row of a CSV or XLSX file (all sheets) as text cells."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [[_cell(c) for c in row] for row in csv.reader(handle)]
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [[_cell(c) for c in row] for sheet in book.worksheets
                for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _found(needles: tuple[str, ...], text: str) -> list[str]:
    return [n for n in needles if n.casefold() in text.casefold()]


async def _table_texts(db: Database) -> dict[str, str]:
    """Every table's rows as one text each."""
    texts = {}
    async with db.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await session.exec(sa.select(table))).all()
            texts[table.name] = "\n".join(" ".join(map(str, row)) for row in rows)
    return texts


async def test_a_denouncer_cannot_be_found_or_linked_anywhere(engine: Engine, demo_db,
                                                              clock: Clock, tmp_path: Path):
    await _prepare(demo_db, clock)
    resident = Chat(engine, "telegram", RESIDENT)
    me, my_id = user_ref(PSEUDONYM_KEY, "telegram", RESIDENT), f"telegram:{RESIDENT}"
    hour = timedelta(hours=1)

    await resident.onboard()
    clock.now += hour
    await _register(resident, "Đường liên thôn Nà Ca", by_buttons=False)
    clock.now += hour
    code = await _denounce(resident)
    clock.now += hour
    await _register(resident, "Chợ trung tâm xã", by_buttons=True)
    clock.now += hour
    await resident.press("Công khai thông tin")
    await resident.press("Lấy ý kiến Nhân dân")
    await resident.press("Lấy ý kiến dự thảo kế hoạch 2027")
    await resident.press("Góp ý")
    await resident.send("Đề nghị làm rõ kinh phí đường nội đồng.")
    await resident.press("Gửi ý kiến")  # after the preview
    assert "Cảm ơn Anh/Chị đã góp ý" in resident.text
    clock.now += hour
    await resident.send("/menu")
    await resident.press("Phản ánh của tôi")
    await resident.press(code)
    assert "Tố cáo" in resident.text
    await resident.press("Menu chính")

    clock.now += hour
    staff_chat = StaffChat(engine)
    await staff_chat.send(STAFF, f"/status {code} accepted")
    assert "Người dân đã được báo" in staff_chat.replies[-1].text
    channel = FakeChannel()
    dispatcher = Dispatcher(demo_db, {"telegram": channel}, pseudonym_key=PSEUDONYM_KEY)
    assert await dispatcher.dispatch_due() >= 2  # the staff chat's card, the denouncer's notice
    told = [reply for chat_id, reply in channel.sent if chat_id == RESIDENT]
    assert [code in reply.text for reply in told] == [True]
    clock.now += hour
    await staff_chat.send(STAFF, "/export log 01/01/2026 31/12/2026")
    await staff_chat.send(STAFF, "/export petitions 01/01/2026 31/12/2026 xlsx")
    await staff_chat.send(STAFF, "/report 2026")
    await engine.drain()
    await dispatcher.dispatch_due()

    async with demo_db.session() as session:
        tickets = [r.ticket for r in (await session.exec(select(SessionRegistration))).all()]
        log = list((await session.exec(select(InteractionLog))).all())
        outbox = list((await session.exec(select(OutboxMessage))).all())
    assert len(tickets) == 2

    # Every export of every kind, in both formats, with and without personal data, the
    # yearly report and the files the staff chat made.
    files: dict[str, Path] = {}
    for kind in exports.KINDS:
        for fmt in exports.FORMATS:
            for personal in (False, True):
                path = tmp_path / f"{kind}-{personal}.{fmt}"
                await exports.export(demo_db, exports.Request(
                    kind, date(2026, 1, 1), date(2026, 12, 31), fmt, path,
                    with_personal_data=personal), timezone=TZ, key=PSEUDONYM_KEY)
                files[path.name] = path
    report = tmp_path / "report.xlsx"
    async with demo_db.session() as session:
        figures = await yearly_report.compute(session, 2026, TZ, now=clock.now)
    yearly_workbook.write_xlsx(figures, report)
    files[report.name] = report
    staff_messages = [m for m in outbox if m.chat_id == STAFF_CHAT]
    for message in staff_messages:
        for attachment in message.attachments:
            files[f"chat:{Path(attachment['ref']).name}"] = Path(attachment["ref"])
    assert sum(name.startswith("chat:") for name in files) == 3
    tables = {name: _rows(path) for name, path in files.items()}

    # 1. The identity is in no file, no staff chat message and no log row.
    for name, rows in tables.items():
        assert not _found(IDENTITY, repr(rows)), name
        if "True" not in name:  # the registration's name only with personal data
            assert not _found(REGISTRATION, repr(rows)), name
    staff_texts = [m.text + repr(m.buttons) + repr(m.attachments) for m in staff_messages]
    staff_texts += [r.text + repr(r.buttons) for r in staff_chat.replies]
    assert staff_texts and not _found(IDENTITY + REGISTRATION, repr(staff_texts))
    assert not _found(IDENTITY + REGISTRATION, repr([vars(r) for r in log]))

    # ... and in no table but petition_identities (flow data and raw payloads included).
    for table, text in (await _table_texts(demo_db)).items():
        if table == "petition_identities":
            assert _found((NAME, ADDRESS, "0987654321"), text) == [NAME, ADDRESS, "0987654321"]
        else:
            assert not _found(IDENTITY, text), table

    # 2. No export row, report row or staff message links the denunciation to its sender:
    # not by reference, channel id, ticket, nor by the moment (times compared to the minute).
    # The denunciation's rows give days, never a moment that could be matched to the log.
    person_keys = {me, my_id, RESIDENT, *tickets, REG_NAME}
    person_moments: set[str] = set()
    denunciation_moments: set[str] = set()
    for name, rows in tables.items():
        for row in rows:
            moments = {c[:16] for c in row if TIME.match(c)}
            about_me = any(key in cell for key in person_keys for cell in row)
            if any(code in cell for cell in row):
                assert not about_me, (name, row)
                if name.startswith("petitions") or name.endswith(".xlsx") and "log" not in name:
                    assert all(m.endswith("00:00") for m in moments), (name, row)
                denunciation_moments |= moments
            elif about_me:
                person_moments |= moments
    assert person_moments and not person_moments & denunciation_moments
    for text in staff_texts:
        if code in text:
            assert not any(key in text for key in person_keys), text

    # The log: the person's reference is on no turn of sending or following a petition, and
    # those turns carry no reference, hamlet or text; the notice about the denunciation
    # went out with no reference.
    mine = [r for r in log if r.user_ref == me]
    assert mine and not [r for r in mine if r.flow in flows.UNLINKED_FLOWS]
    hidden = [r for r in log if r.flow in flows.UNLINKED_FLOWS]
    assert hidden and all((r.user_ref, r.hamlet_code, r.text) == ("", None, None)
                          for r in hidden)
    [notice] = [r for r in log if r.kind == "denunciation"]
    assert notice.user_ref == "" and notice.direction == "out"
    # What the log keeps of the registrations: payloads and "[đã ẩn]", never the labels.
    registering = [r.text for r in mine if r.step in ("name", "phone") and r.direction == "in"]
    assert registering.count(REDACTED) == 2 and "ss:name:keep" in registering
    assert "ss:phone:keep" in registering


async def test_identity_steps_are_marked_and_log_no_answer(engine: Engine, demo_db):
    resident = Chat(engine, "telegram", RESIDENT)
    await resident.onboard()
    await resident.press("Gửi phản ánh, kiến nghị")
    await resident.press("Khiếu nại")
    await resident.send(NAME)
    await resident.send(ADDRESS)
    await resident.send("", contact=Contact("+84987654321", NAME))
    marked = {name for flow in flows.FLOWS.values() for name, step in flow.steps.items()
              if getattr(step, "asks_personal_data", False)}
    assert marked == {"full_name", "home_address", "phone", "name"}
    async with demo_db.session() as session:
        rows = (await session.exec(select(InteractionLog).where(
            InteractionLog.direction == "in").order_by(InteractionLog.id))).all()
    assert [r.kind for r in rows[-3:]] == ["text", "text", "contact"]
    assert not _found(IDENTITY, repr([vars(r) for r in rows]))


async def test_a_failure_while_sending_a_petition_is_logged_without_the_person(
        engine: Engine, demo_db, monkeypatch):
    resident = Chat(engine, "telegram", RESIDENT)
    await resident.onboard()
    await resident.press("Gửi phản ánh, kiến nghị")

    async def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(flows.FLOWS["petition"].steps, "kind", broken)
    [reply] = await resident.press("Tố cáo")
    assert "hệ thống vừa gặp trục trặc" in reply.text
    async with demo_db.session() as session:
        [error] = (await session.exec(select(InteractionLog).where(
            InteractionLog.kind == "error"))).all()
    assert (error.user_ref, error.text) == ("", None)


async def test_refusals_and_role_changes_are_logged_with_whom_they_concern(
        engine: Engine, demo_db, clock: Clock):
    await _prepare(demo_db, clock)
    staff_chat = StaffChat(engine)
    await staff_chat.send(OUTSIDER, "/export log 01/01/2026 31/12/2026")
    assert "Không được phép" in staff_chat.replies[-1].text
    await staff_chat.send(OUTSIDER, payload="pa:accept:1")
    await staff_chat.send(STAFF, "/role grant telegram 903 investigator")
    resident = Chat(engine, "telegram", RESIDENT)
    await resident.onboard()
    await resident.send("/checkin ABCD2345")
    assert "Chỉ cán bộ UBND xã" in resident.text
    await resident.send("/export log 01/01/2026 31/12/2026")
    assert "Không được phép" in resident.text
    await resident.send(payload="go:desk")  # an old staff menu's "Phản ánh cần xử lý"
    assert "Không được phép" in resident.text
    async with demo_db.session() as session:
        await roles.grant(session, "telegram", "904", "hamlet_head", ["khu-1"], actor="cli:ops",
                          key=PSEUDONYM_KEY)
        await session.commit()
        admin = (await session.exec(select(InteractionLog).where(
            InteractionLog.direction == "admin").order_by(InteractionLog.id))).all()
    outsider = user_ref(PSEUDONYM_KEY, "telegram", OUTSIDER)
    refused = [(r.text, r.user_ref, r.actor) for r in admin if r.kind == "refused"]
    assert refused == [("/export", outsider, None), ("staff button pa", outsider, None),
                       ("/role", user_ref(PSEUDONYM_KEY, "telegram", STAFF), None),
                       ("session desk", user_ref(PSEUDONYM_KEY, "telegram", RESIDENT), None),
                       ("/export", user_ref(PSEUDONYM_KEY, "telegram", RESIDENT), None),
                       ("petition desk", user_ref(PSEUDONYM_KEY, "telegram", RESIDENT), None)]
    [granted] = [r for r in admin if r.kind == "role_grant" and r.actor == "cli:ops"]
    assert granted.user_ref == user_ref(PSEUDONYM_KEY, "telegram", "904")
    assert "904" not in (granted.text or "")
