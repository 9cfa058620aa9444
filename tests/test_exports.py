"""Exports and the yearly report, read back cell by cell; permissions; bad input."""

from __future__ import annotations

import csv
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from bot.pseudonym import user_ref
from bot.services import exports, yearly_report, yearly_workbook
from storage.db import Database
from storage.models import (
    Commune,
    Disclosure,
    Hamlet,
    InteractionLog,
    Petition,
    PetitionIdentity,
    User,
)
from tests.conftest import PSEUDONYM_KEY, Clock

TZ = "Asia/Ho_Chi_Minh"
YEAR_OVER = datetime(2027, 1, 15, 3, 0, tzinfo=UTC)  # reports on 2026 made after it ended


def _csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def _xlsx(path: Path) -> list[list]:
    book = openpyxl.load_workbook(path, read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


async def _seed_log(db: Database) -> None:
    async with db.session() as session:
        for at, kind, text, ref in [
            (datetime(2026, 3, 1, 1, 0, tzinfo=UTC), "command", "/start", "ref-a"),
            (datetime(2026, 3, 1, 17, 30, tzinfo=UTC), "button", "Công khai thông tin", "ref-a"),
            (datetime(2026, 3, 2, 2, 0, tzinfo=UTC), "text", None, "ref-b"),
            (datetime(2026, 4, 1, 2, 0, tzinfo=UTC), "text", None, "ref-c"),  # outside
        ]:
            session.add(InteractionLog(at=at, channel="telegram", direction="in", user_ref=ref,
                                       hamlet_code="khu-1", flow="menu", step="choice",
                                       kind=kind, text=text, latency_ms=None))
        await session.commit()


def _request(tmp_path: Path, kind: str = "log", fmt: str = "csv", **kw) -> exports.Request:
    defaults = {"start": date(2026, 3, 1), "end": date(2026, 3, 31),
                "path": tmp_path / f"out.{fmt}"}
    return exports.Request(kind=kind, fmt=fmt, **(defaults | kw))


async def test_the_log_as_csv_and_xlsx_cell_by_cell(db: Database, tmp_path):
    await _seed_log(db)
    count = await exports.export(db, _request(tmp_path), timezone=TZ, key=PSEUDONYM_KEY)
    assert count == 3
    rows = _csv(tmp_path / "out.csv")
    assert rows[0] == ["Dòng", "Thời gian", "Kênh", "Chiều", "Người dùng (mã ẩn danh)",
                       "Khu dân cư", "Chức năng", "Bước", "Loại sự kiện", "Nội dung",
                       "Thời gian phản hồi (ms)", "Người thao tác"]
    assert rows[1][1:] == ["2026-03-01 08:00:00", "telegram", "in", "ref-a", "khu-1", "menu",
                           "choice", "command", "/start", "", ""]
    assert rows[2][1] == "2026-03-02 00:30:00"  # 17:30 UTC is past midnight in Hà Nội
    assert rows[2][9] == "Công khai thông tin"
    assert len(rows) == 4

    count = await exports.export(db, _request(tmp_path, fmt="xlsx", lang="en"), timezone=TZ,
                                 key=PSEUDONYM_KEY)
    sheet = _xlsx(tmp_path / "out.xlsx")
    assert count == 3 and sheet[0][:3] == ["Row", "Time", "Channel"]
    assert sheet[1][1] == datetime(2026, 3, 1, 8, 0)  # a real date cell, local time
    assert sheet[2][9] == "Công khai thông tin" and sheet[3][4] == "ref-b"


async def test_the_log_csv_converts_each_row_with_its_own_utc_offset(db: Database, tmp_path):
    """A zone with summer time: winter rows are UTC+1, summer rows UTC+2 in Berlin, whatever
    the day of the export."""
    moments = [datetime(2026, 1, 15, 12, 0, tzinfo=UTC),  # winter
               datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),  # the last second of winter
               datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # clocks go 02:00 -> 03:00
               datetime(2026, 7, 15, 12, 0, tzinfo=UTC),  # summer
               datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 summer time
               datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 again, winter time
               datetime(2026, 12, 31, 22, 30, tzinfo=UTC)]  # New Year's Eve, 23:30
    async with db.session() as session:
        for at in moments:
            session.add(InteractionLog(at=at, channel="telegram", direction="in",
                                       user_ref="ref-a", kind="text"))
        await session.commit()
    request = _request(tmp_path, start=date(2026, 1, 1), end=date(2026, 12, 31))
    assert await exports.export(db, request, timezone="Europe/Berlin", key=PSEUDONYM_KEY) == 7
    assert [row[1] for row in _csv(tmp_path / "out.csv")[1:]] == [
        "2026-01-15 13:00:00", "2026-03-29 01:59:59", "2026-03-29 03:00:00",
        "2026-07-15 14:00:00", "2026-10-25 02:30:00", "2026-10-25 02:30:00",
        "2026-12-31 23:30:00"]


async def test_an_empty_range_gives_the_headers_and_bad_requests_write_nothing(
    db: Database, tmp_path
):
    await _seed_log(db)
    for fmt in ("csv", "xlsx"):
        request = _request(tmp_path, fmt=fmt, start=date(2025, 1, 1), end=date(2025, 1, 2))
        assert await exports.export(db, request, timezone=TZ, key=PSEUDONYM_KEY) == 0
    assert len(_csv(tmp_path / "out.csv")) == 1
    assert len(_xlsx(tmp_path / "out.xlsx")) == 1
    for bad, message in [
        (_request(tmp_path, start=date(2026, 4, 1), end=date(2026, 3, 1)), "reversed"),
        (_request(tmp_path, fmt="pdf"), "unknown format"),
        (_request(tmp_path, kind="secrets"), "unknown export"),
        (_request(tmp_path, path=tmp_path / "missing" / "x.csv"), "cannot write"),
    ]:
        with pytest.raises(exports.ExportError, match=message):
            await exports.export(db, bad, timezone=TZ, key=PSEUDONYM_KEY)
    assert not (tmp_path / "out.pdf").exists() and not (tmp_path / "missing").exists()


async def test_a_failure_midway_leaves_no_half_file(db: Database, tmp_path, monkeypatch):
    await _seed_log(db)

    async def broken(*args, **kwargs):
        yield [1] * 12
        raise OSError("disk full")

    monkeypatch.setitem(exports._ROWS, "log", broken)
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(OSError):
        await exports.export(db, _request(tmp_path, fmt="xlsx", path=folder / "log.xlsx"),
                             timezone=TZ, key=PSEUDONYM_KEY)
    assert list(folder.iterdir()) == []


async def _seed_petitions(db: Database) -> None:
    async with db.session() as session:
        session.add(Commune(name="Xã Chi Lăng", unit_type="xã"))
        await session.flush()
        hamlet = Hamlet(commune_id=1, code="khu-1", name="Khu Hòa Bình")
        session.add(hamlet)
        user = User(channel="telegram", external_id="777", locale="vi")
        session.add(user)
        await session.flush()
        for number, kind in enumerate(("feedback", "complaint", "denunciation"), 1):
            petition = Petition(
                code=f"X-2026-00000{number}", kind=kind, field="roads", hamlet_id=hamlet.id,
                description="…", user_id=user.id, received_at=datetime(2026, 3, 2, tzinfo=UTC),
                accept_due=date(2026, 3, 16), answer_due=date(2026, 3, 23))
            session.add(petition)
            await session.flush()
            if kind != "feedback":
                session.add(PetitionIdentity(petition_id=petition.id,
                                             full_name=f"Người {kind}", address="Khu 1"))
        await session.commit()


async def test_petitions_with_pseudonyms_and_never_a_denouncer(db: Database, tmp_path):
    await _seed_petitions(db)
    await exports.export(db, _request(tmp_path, kind="petitions"), timezone=TZ,
                         key=PSEUDONYM_KEY)
    plain = _csv(tmp_path / "out.csv")
    ref = user_ref(PSEUDONYM_KEY, "telegram", "777")
    # Stable, the log's reference; never on a denunciation, whose times are days only.
    assert [row[-1] for row in plain[1:]] == [ref, ref, ""]
    assert [row[5] for row in plain[1:]] == ["2026-03-02 07:00:00"] * 2 + ["2026-03-02"]
    assert plain[1][:5] == ["X-2026-000001", "Phản ánh, kiến nghị", "Đường sá, giao thông",
                            "Khu Hòa Bình", "Đã tiếp nhận"]
    assert "Người complaint" not in str(plain)

    personal = _request(tmp_path, kind="petitions", with_personal_data=True,
                        path=tmp_path / "personal.csv")
    await exports.export(db, personal, timezone=TZ, key=PSEUDONYM_KEY)
    rows = _csv(tmp_path / "personal.csv")
    assert rows[0][-3:] == ["Họ và tên", "Địa chỉ", "Điện thoại"]
    assert rows[2][-3:] == ["Người complaint", "Khu 1", ""]
    assert rows[3][-3:] == ["", "", ""]  # the denunciation: no identity, ever
    assert rows[1][12] == "telegram:777" and rows[3][12] == ""
    assert "Người denunciation" not in (tmp_path / "personal.csv").read_text("utf-8-sig")


def test_who_may_export():
    with pytest.raises(exports.ExportError, match="only commune staff"):
        exports.check_permission({"resident"}, False)
    exports.check_permission({"resident", "staff"}, False)
    with pytest.raises(exports.ExportError, match="only an admin"):
        exports.check_permission({"resident", "staff"}, True)
    exports.check_permission({"resident", "admin"}, True)


def test_personal_data_needs_an_admin_and_is_logged(shell, capsys, tmp_path):
    from bot.services.commune_setup import DEMO_FILE

    Clock(datetime(2026, 6, 15, 3, 0, tzinfo=UTC))  # the shell commands run in this process
    assert shell(capsys, "init", str(DEMO_FILE))[0] == 0
    out = str(tmp_path / "p.csv")
    args = ["export", "petitions", "--from", "2026-01-01", "--to", "2026-12-31", "-o", out,
            "--with-personal-data"]
    code, _, err = shell(capsys, *args)
    assert code == 1 and "--admin" in err
    code, _, err = shell(capsys, *args, "--admin", "console:canbo")  # staff, not admin
    assert code == 1 and "only an admin" in err
    code, stdout, err = shell(capsys, *args, "--admin", "console:admin")
    assert code == 0, err
    code, stdout, err = shell(capsys, "export", "log", "--from", "2026-01-01", "--to",
                              "2026-12-31", "-o", str(tmp_path / "log.csv"), "--lang", "en")
    assert code == 0
    rows = _csv(tmp_path / "log.csv")
    exported = [row for row in rows if row[8] == "export_personal"]
    assert len(exported) == 1 and exported[0][11].endswith("as console:admin")
    [refused] = [row for row in rows if row[8] == "refused"]  # the staff member's attempt
    assert refused[9] == "export_personal petitions 2026-01-01..2026-12-31"
    assert refused[11].endswith("as console:canbo")
    assert exported[0][9] == "petitions 2026-01-01..2026-12-31 csv"
    code, stdout, err = shell(capsys, "log", "verify")
    assert code == 0 and "intact" in stdout


async def test_the_yearly_report_figures_and_workbook(db: Database, tmp_path):
    async with db.session() as session:
        session.add(Commune(name="Xã Chi Lăng", unit_type="xã"))
        await session.flush()
        session.add(Hamlet(commune_id=1, code="khu-1", name="Khu Hòa Bình"))
        session.add(Hamlet(commune_id=1, code="khu-2", name="Khu Thống Nhất"))
        # Decided the Thursday before Tết 2026 (16-20/2 off): 5 working days end 26/2.
        for posted, decided in [(date(2026, 2, 26), date(2026, 2, 12)),
                                (date(2026, 3, 2), date(2026, 2, 12)),
                                (date(2026, 5, 4), None)]:
            session.add(Disclosure(category=2, title="t", body="b", decided_on=decided,
                                   posted_from=datetime(posted.year, posted.month, posted.day,
                                                        2, tzinfo=UTC)))
        user = User(channel="telegram", external_id="1")
        session.add(user)
        await session.flush()
        received = datetime(2026, 3, 2, 2, tzinfo=UTC)
        for number, (answered_day, due, stars) in enumerate([
            (date(2026, 3, 5), date(2026, 3, 20), 5),  # 3 days, in time
            (date(2026, 3, 12), date(2026, 3, 20), 4),  # 10 days, in time
            (date(2026, 3, 30), date(2026, 3, 20), 2),  # 28 days, late
            (None, date(2026, 3, 20), None),  # not answered
        ], 1):
            session.add(Petition(
                code=f"PA-2026-{number:06d}", kind="feedback", field="roads", hamlet_id=1,
                description="…", user_id=user.id, received_at=received,
                accept_due=due, answer_due=due, rating=stars,
                status="answered" if answered_day else "received",
                answered_at=datetime(answered_day.year, answered_day.month, answered_day.day,
                                     2, tzinfo=UTC) if answered_day else None))
        for ref, hamlet, channel, month in [("a", "khu-1", "telegram", 3),
                                            ("a", "khu-1", "telegram", 4),
                                            ("b", "khu-2", "zalo", 3)]:
            session.add(InteractionLog(at=datetime(2026, month, 10, tzinfo=UTC),
                                       channel=channel, direction="in", user_ref=ref,
                                       hamlet_code=hamlet, kind="text"))
        await session.commit()
        figures = await yearly_report.compute(session, 2026, TZ, now=YEAR_OVER)

    assert figures.disclosures == 3 and figures.disclosures_with_decision == 2
    assert figures.on_time_share == 0.5
    assert (figures.petitions, figures.answered, figures.answered_in_time) == (4, 3, 2)
    assert figures.median_days == 10.0 and figures.p90_days == 24.4
    assert figures.average_rating == pytest.approx(11 / 3, abs=0.01)
    assert figures.active_by_month == {3: 2, 4: 1}
    assert figures.active_by_hamlet == {"Khu Hòa Bình": 1, "Khu Thống Nhất": 1}
    assert figures.active_by_channel == {"telegram": 1, "zalo": 1}

    path = tmp_path / "report.xlsx"
    yearly_workbook.write_xlsx(figures, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tổng hợp", "Công khai", "Phản ánh", "Đối thoại và thông báo",
                               "Người dùng"]
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True)
               if row[0]}
    assert summary["Phản ánh đã tiếp nhận"] == 4
    assert summary["Tỷ lệ trả lời đúng hạn"] == pytest.approx(2 / 3)
    assert summary["Tỷ lệ công khai trong 5 ngày làm việc kể từ ngày ban hành"] == 0.5
    assert summary["Tháng 3"] == 4  # petitions in March on the month table
    with zipfile.ZipFile(path) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        kinds = "".join(archive.read(n).decode() for n in charts)
    assert len(charts) == 3 and "<c:lineChart>" in kinds and "<c:barChart>" in kinds



async def test_sessions_export_and_figures(db: Database, tmp_path):
    from storage.models import DialogueSession, SessionQuestion, SessionRegistration

    async with db.session() as session:
        session.add(Commune(name="Xã Chi Lăng", unit_type="xã"))
        await session.flush()
        session.add(Hamlet(commune_id=1, code="khu-1", name="Khu Hòa Bình"))
        user = User(channel="zalo", external_id="42")
        session.add(user)
        held = DialogueSession(topic="Đối thoại về giá nước", place="Hội trường UBND",
                               starts_at=datetime(2026, 3, 10, 1, tzinfo=UTC), capacity=50,
                               outcome="Giữ nguyên giá nước.")
        cancelled = DialogueSession(topic="Bị hủy", place="x", status="cancelled",
                                    starts_at=datetime(2026, 4, 10, 1, tzinfo=UTC), capacity=5)
        session.add_all([held, cancelled])
        await session.flush()
        for number, (status, came) in enumerate([("registered", True), ("registered", False),
                                                 ("waitlisted", False)]):
            registration = SessionRegistration(
                session_id=held.id, user_id=user.id if number == 0 else None,
                name=f"Người {number}", hamlet_id=1, ticket=f"T{number}XYZAB", status=status,
                checked_in_at=datetime(2026, 3, 10, 1, 5, tzinfo=UTC) if came else None)
            session.add(registration)
            await session.flush()
            if number == 0:
                session.add(SessionQuestion(session_id=held.id, registration_id=registration.id,
                                            user_id=user.id, hamlet_id=1, text="Khi nào?"))
        await session.commit()
        figures = await yearly_report.compute(session, 2026, TZ, now=YEAR_OVER)
    assert (figures.sessions_held, figures.sessions_cancelled) == (1, 1)
    assert (figures.registrations, figures.attended) == (2, 1)
    assert (figures.questions, figures.questions_answered) == (1, 1)

    count = await exports.export(db, _request(tmp_path, kind="sessions", end=date(2026, 4, 30)),
                                 timezone=TZ, key=PSEUDONYM_KEY)
    rows = _csv(tmp_path / "out.csv")
    assert count == 3 and rows[0][:3] == ["Buổi đối thoại", "Chủ đề", "Thời gian bắt đầu"]
    assert rows[1][1:7] == ["Đối thoại về giá nước", "2026-03-10 08:00:00", "Hội trường UBND",
                            "T0XYZAB", "Đã đăng ký", "Khu Hòa Bình"]
    assert rows[1][8] == "2026-03-10 08:05:00" and rows[1][9] == "1"
    assert rows[1][10] == user_ref(PSEUDONYM_KEY, "zalo", "42")
    assert rows[3][5] == "Trong danh sách chờ" and "Người 0" not in str(rows)


async def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(db, tmp_path, monkeypatch):
    await _seed_log(db)
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 3)  # header + 2 rows a sheet, here
    count = await exports.export(db, _request(tmp_path, fmt="xlsx"), timezone=TZ,
                                 key=PSEUDONYM_KEY)
    book = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)
    assert count == 3 and len(book.worksheets) == 2
    second = [list(r) for r in book.worksheets[1].iter_rows(values_only=True)]
    assert second[0][0] == "Dòng" and len(second) == 2  # the header again, then the 3rd row


async def test_the_report_counts_messages_a_channel_could_not_take(db: Database):
    from storage.models import OutboxMessage

    async with db.session() as session:
        for status, error in [("failed", "not deliverable on Zalo OA (outside window)"),
                              ("failed", "timeout"), ("sent", None)]:
            session.add(OutboxMessage(channel="zalo_oa", chat_id="1", text="t", status=status,
                                      last_error=error,
                                      created_at=datetime(2026, 5, 1, tzinfo=UTC)))
        await session.commit()
        figures = await yearly_report.compute(session, 2026, TZ, now=YEAR_OVER)
    assert figures.undeliverable == 1
