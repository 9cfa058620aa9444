"""The yearly report: each figure counted in the right year and as of the report's day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import openpyxl

from bot import scheduler
from bot.services import broadcasts, groups, roles, yearly_report
from storage.db import Database
from storage.models import DialogueSession
from tests.conftest import Clock
from tests.test_staff_chat import _deliver
from tests.test_telegram import STAFF_CHAT, TgUser, fake, hook  # noqa: F401  (fixtures)

TZ = "Asia/Ho_Chi_Minh"


async def _figures(db: Database, year: int, now: datetime) -> yearly_report.Figures:
    async with db.session() as session:
        return await yearly_report.compute(session, year, TZ, now=now)


async def _run(db: Database, now: datetime) -> int:
    Clock(now)
    return await scheduler.run_broadcasts(db, TZ, now)


async def test_a_broadcast_and_its_deliveries_count_in_the_year_it_went_out(demo_db):
    written = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)  # Monday 28/12/2026, 09:00
    Clock(written)
    async with demo_db.session() as session:
        for chat in ("-500", "-501"):
            await groups.link(session, "telegram", chat, hamlet="khu-1", actor="test")
        await broadcasts.create(
            session, text="Lịch tiêm phòng đầu năm.", hamlet_ids=[], audience="groups",
            actor="cli:test", now=written, timezone=TZ,
            send_at=datetime(2027, 1, 5, 1, 0, tzinfo=UTC))  # written in 2026, sent in 2027
        await broadcasts.create(
            session, text="Thu gom rác thứ Năm.", hamlet_ids=[], audience="groups",
            actor="cli:test", now=written, timezone=TZ, cron="0 8 * * 4")  # every Thursday
        await session.commit()
    assert await _run(demo_db, datetime(2026, 12, 31, 1, 0, tzinfo=UTC)) == 2  # Thursday
    assert await _run(demo_db, datetime(2027, 1, 5, 1, 0, tzinfo=UTC)) == 2  # the one-off
    assert await _run(demo_db, datetime(2027, 1, 7, 1, 0, tzinfo=UTC)) == 2  # Thursday

    later = datetime(2027, 2, 1, tzinfo=UTC)
    last_year, this_year = await _figures(demo_db, 2026, later), await _figures(demo_db, 2027,
                                                                                later)
    assert (last_year.broadcasts, last_year.deliveries) == (1, {"pending": 2})
    assert (this_year.broadcasts, this_year.deliveries) == (2, {"pending": 4})


async def test_sessions_held_are_counted_as_of_the_reports_now(demo_db):
    async with demo_db.session() as session:
        session.add(DialogueSession(topic="Giá nước", place="Hội trường", capacity=50,
                                    starts_at=datetime(2026, 3, 10, 1, tzinfo=UTC),
                                    outcome="Giữ nguyên giá nước."))
        session.add(DialogueSession(topic="Đường liên thôn", place="Hội trường", capacity=50,
                                    starts_at=datetime(2026, 12, 20, 1, tzinfo=UTC)))
        await session.commit()
    before = await _figures(demo_db, 2026, datetime(2026, 12, 10, tzinfo=UTC))
    after = await _figures(demo_db, 2026, datetime(2026, 12, 21, tzinfo=UTC))
    assert (before.sessions_held, after.sessions_held) == (1, 2)
    assert (before.as_of, after.as_of) == (date(2026, 12, 10), date(2026, 12, 21))
    year_over = await _figures(demo_db, 2026, datetime(2026, 12, 31, 17, 0, tzinfo=UTC))
    assert year_over.as_of is None  # 00:00 on 1/1/2027 in Hà Nội: 2026 is over


def _as_of_cell(path) -> str | None:
    return openpyxl.load_workbook(path).worksheets[0]["A2"].value


def test_a_report_for_an_unfinished_year_says_as_of_which_day(shell, capsys, tmp_path):
    Clock(datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    code, out, err = shell(capsys, "report", "year", "2026", "-o", "r2026.xlsx")
    assert code == 0, err
    assert out.strip() == ("report for 2026 as of 2026-12-02 (the year is not over) written "
                           "to r2026.xlsx")
    assert _as_of_cell(tmp_path / "r2026.xlsx") == (
        "Tính đến ngày 02/12/2026 (năm chưa kết thúc)")
    code, out, err = shell(capsys, "report", "year", "2026", "-o", "en.xlsx", "--lang", "en")
    assert _as_of_cell(tmp_path / "en.xlsx") == "As of 2 December 2026 (the year is not over)"
    code, out, err = shell(capsys, "report", "year", "2025", "-o", "r2025.xlsx")
    assert code == 0 and out.strip() == "report for 2025 written to r2025.xlsx"
    assert _as_of_cell(tmp_path / "r2025.xlsx") is None


def test_report_year_out_of_range_is_one_line_error(shell, capsys, tmp_path):
    Clock(datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    for year in ("0", "1", "1999", "2027", "9999"):
        code, out, err = shell(capsys, "report", "year", year, "-o", "r.xlsx")
        assert (code, out) == (1, "")
        assert err == f"error: no report for {year}: give a year from 2000 to 2026\n"
    assert not (tmp_path / "r.xlsx").exists()


async def test_the_staff_chat_report_says_as_of_which_day_and_examples_name_this_year(
    hook, demo_db, engine, fake, tmp_path  # noqa: F811
):
    Clock(datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    engine.data_dir = tmp_path
    async with demo_db.session() as session:
        await groups.link(session, "telegram", str(STAFF_CHAT), staff=True, actor="test")
        await roles.grant(session, "telegram", "901", "staff", actor="test")
        await session.commit()
    staff = TgUser(hook, 901, chat_id=STAFF_CHAT)
    await staff.send("/export")
    assert "/export petitions 01/12/2026 31/12/2026 xlsx" in staff.text  # this year
    await staff.send("/report 9999")
    assert staff.text == "Không có báo cáo năm 9999: chọn một năm từ 2000 đến 2026."
    await staff.send("/report năm nay")
    assert staff.text.startswith("Trợ lý không hiểu năm “năm nay”")
    assert "/report 2026" in staff.text
    await staff.send("/report 2026")
    await engine.drain()
    assert await _deliver(demo_db, hook) == 1
    [message] = [c.params.get("caption") or c.params.get("text", "")
                 for c in fake.of("sendDocument", STAFF_CHAT) + fake.of("sendMessage",
                                                                        STAFF_CHAT)
                 if "Báo cáo năm 2026" in (c.params.get("caption") or c.params.get("text", ""))]
    assert "Tính đến ngày 02/12/2026 (năm chưa kết thúc)" in message
