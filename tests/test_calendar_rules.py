"""The calendar rules residents rely on: which days are working days, when a deadline ends,
and that the installed holiday calendar knows the current year's days off."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime

from sqlmodel import select

from bot.messages import Contact
from bot.services import commune_setup
from bot.services import petition_rules as rules
from bot.workdays import Calendar
from storage.db import Database
from storage.models import Petition
from tests.conftest import Chat, Clock
from tests.test_petitions import feedback


async def _petitions(db: Database) -> list[Petition]:
    async with db.session() as session:
        return list((await session.exec(select(Petition).order_by(Petition.id))).all())


def test_the_installed_holiday_calendar_knows_vietnams_2026_days_off():
    """pyproject.toml's floor on `holidays` is the first version that knows these days; an
    older calendar fails here instead of giving wrong deadlines."""
    calendar = Calendar()
    assert not calendar.is_working_day(date(2026, 11, 24))  # Ngày Văn hóa Việt Nam
    assert not calendar.is_working_day(date(2026, 8, 31))  # off, in exchange for 22/8
    assert not calendar.is_working_day(date(2026, 9, 1))
    assert not calendar.is_working_day(date(2026, 9, 2))
    assert calendar.is_working_day(date(2026, 8, 22))  # the Saturday worked for it


def test_working_days_honour_the_governments_make_up_saturdays_and_the_communes_own():
    calendar = Calendar()
    assert calendar.is_working_day(date(2026, 8, 22))  # Saturday, worked for Monday 31/8
    assert not calendar.is_working_day(date(2026, 8, 29))  # an ordinary Saturday
    assert calendar.is_working_day(date(2025, 4, 26))  # Saturday worked for Friday 2/5/2025
    assert calendar.is_working_day(date(2014, 12, 27))  # worked in 2014 for 2/1/2015
    assert calendar.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    commune = Calendar.of(days_off=[date(2026, 8, 22)], make_up_days=[date(2026, 8, 29)])
    assert not commune.is_working_day(date(2026, 8, 22))  # the commune's file decides last
    assert commune.is_working_day(date(2026, 8, 29))


async def test_a_petition_received_before_a_make_up_saturday_counts_it_as_a_working_day(
    chat: Chat, demo_db
):
    Clock(datetime(2026, 8, 21, 3, 0, tzinfo=UTC))  # Friday 21/8/2026, 10:00 in Hà Nội
    await chat.onboard()
    await feedback(chat)
    # Acceptance, 10 working days: Sat 22, 24-28/8, (31/8, 1-2/9 off), 3, 4, 7, 8/9.
    # The answer, 15 working days (the demo commune's commitment): 15/9.
    assert "Hạn trả lời: chậm nhất ngày 15/09/2026." in chat.text
    [petition] = await _petitions(demo_db)
    assert (petition.accept_due, petition.answer_due) == (date(2026, 9, 8), date(2026, 9, 15))


def test_a_calendar_day_deadline_ending_on_a_day_off_ends_on_the_next_working_day():
    """Bộ luật Dân sự 2015, Điều 148(5): a period that ends on a weekend or a public holiday
    ends at the close of the next working day."""
    calendar = Calendar()
    complaint = rules.rule_for("complaint", "resolve", date(2027, 2, 3))
    assert not complaint.working
    # 30 days after 19/2/2027 is Sunday 21/3/2027: the deadline is Monday 22/3.
    assert rules.due_date(complaint, date(2027, 2, 19), calendar) == date(2027, 3, 22)
    # 30 days after 12/2/2026 is Saturday 14/3/2026: Monday 16/3.
    assert rules.due_date(complaint, date(2026, 2, 12), calendar) == date(2026, 3, 16)
    # Ending on a public holiday: 45 days after 18/7/2026 is National Day (1/9, 2/9 off).
    assert rules.due_date(complaint, date(2026, 7, 18), calendar, complex_case=True) == (
        date(2026, 9, 3))
    # Ending on a working day: unchanged.
    assert rules.due_date(complaint, date(2026, 3, 2), calendar) == date(2026, 4, 1)
    denunciation = rules.rule_for("denunciation", "resolve", date(2027, 2, 3))
    assert rules.due_date(denunciation, date(2027, 2, 19), calendar) == date(2027, 3, 22)


async def test_a_complaint_received_before_tet_2027_is_due_on_a_working_day(
    chat: Chat, demo_db
):
    Clock(datetime(2027, 2, 3, 3, 0, tzinfo=UTC))  # Wednesday 3/2/2027, before Tết
    await chat.onboard()
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Khiếu nại")
    await chat.send("Nguyễn Văn An")
    await chat.send("Số 12, Khu Hòa Bình, xã Chi Lăng")
    await chat.send("", contact=Contact("+84912345678", "An"))
    await chat.press("Đất đai, xây dựng")
    await chat.press("Khu Hòa Bình")
    await chat.press("Bỏ qua")
    await chat.send("Quyết định thu hồi đất số 45 tính sai diện tích đất của gia đình tôi.")
    await chat.press("Bỏ qua")
    await chat.press("Gửi")
    assert "KN-2027-000001" in chat.text
    # 7 working days across Tết (4-10/2/2027 off): 19/2. Then 30 calendar days end on
    # Sunday 21/3, so the answer is due on Monday 22/3.
    assert "Hạn báo thụ lý: chậm nhất ngày 19/02/2027." in chat.text
    [petition] = await _petitions(demo_db)
    assert (petition.accept_due, petition.answer_due) == (date(2027, 2, 19), date(2027, 3, 22))


def test_the_five_working_day_disclosure_rule_counts_the_communes_own_days_off(
    shell, capsys, tmp_path
):
    """Decided Thursday 12/2/2026 before Tết (16-20/2 off): 5 working days end on 26/2. In a
    commune whose file gives 26/2 off, posting on 27/2 is still on time."""
    commune = tmp_path / "commune.toml"
    commune.write_text(commune_setup.DEMO_FILE.read_text(encoding="utf-8").replace(
        "days_off = []", "days_off = [2026-02-26]"), encoding="utf-8")
    assert shell(capsys, "init", str(commune))[0] == 0
    code, _, err = shell(capsys, "disclosure", "add", "--category", "2", "--title", "Dự toán",
                         "--body", "Dự toán thu chi.", "--decided", "2026-02-12",
                         "--from", "2026-02-27")
    assert code == 0 and "later than 5 working days" not in err
    code, _, err = shell(capsys, "disclosure", "add", "--category", "2", "--title", "Quyết toán",
                         "--body", "Quyết toán thu chi.", "--decided", "2026-02-12",
                         "--from", "2026-03-02")
    assert code == 0 and "later than 5 working days" in err
    code, _, err = shell(capsys, "report", "disclosures", "--quarter", "2026Q1", "-o", "q1.csv")
    assert code == 0, err
    rows = list(csv.reader((tmp_path / "q1.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [(row[2], row[-1]) for row in rows[1:]] == [("Dự toán", "Có"), ("Quyết toán", "Không")]
