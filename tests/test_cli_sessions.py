"""Staff at the shell: announce, list, show by hamlet, capacity, check-in, move, cancel, close."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.__main__ import main
from bot.services import commune_setup, session_questions
from bot.services import sessions as service
from bot.workdays import is_working_day
from storage import clock
from storage.db import Database
from storage.models import DialogueSession, Disclosure, OutboxMessage, User
from storage.repositories import Hamlets

TZ = "Asia/Ho_Chi_Minh"


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run `python -m bot …` in this process on a fresh SQLite file; returns (code, out, err)."""
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "ZALO_OA_APP_ID", "PSEUDONYM_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)

    def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own refusal
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def on_db(tmp_path: Path, work: Callable[[AsyncSession], Awaitable[object]]) -> object:
    """Run `work` in one committed transaction on the shell's database."""
    async def go() -> object:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        try:
            async with db.unit_of_work() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await db.dispose()

    return asyncio.run(go())


def local(days: int, hhmm: str = "08:00") -> str:
    """A local "YYYY-MM-DD HH:MM" some days from today, moved on to a working day (a session
    on a weekend or holiday is warned about)."""
    day = datetime.now(ZoneInfo(TZ)).date() + timedelta(days=days)
    while not is_working_day(day):
        day += timedelta(days=1)
    return f"{day:%Y-%m-%d} {hhmm}"


def sign_up(tmp_path: Path, session_id: int, names: list[tuple[str, str | None]]) -> list[str]:
    """Register people (name, hamlet code) through the service; returns their tickets."""
    async def work(session: AsyncSession) -> list[str]:
        tickets = []
        for n, (name, code) in enumerate(names):
            user = User(channel="console", external_id=f"p{session_id}-{n}")
            session.add(user)
            await session.flush()
            hamlet = await Hamlets(session).by_code(code) if code else None
            registration = await service.register(
                session, session_id, user, name=name, hamlet_id=hamlet.id if hamlet else None,
                phone=None, now=clock.now(), timezone=TZ)
            if n == 0:
                await session_questions.add_question(session, registration, "Bao giờ làm đường?",
                                                     now=clock.now())
            tickets.append(registration.ticket)
        return tickets

    return on_db(tmp_path, work)


def test_staff_announce_fill_check_in_move_and_cancel_from_the_shell(shell, capsys, tmp_path):
    assert shell(capsys, "init", str(commune_setup.DEMO_FILE))[0] == 0
    code, out, err = shell(capsys, "session", "add", "--topic", "Quy hoạch khu dân cư mới",
                           "--start", local(10), "--place", "Hội trường UBND xã",
                           "--capacity", "3", "--reserved", "1", "--leader", "Chủ tịch UBND xã",
                           "--leader", "Chủ tịch Ủy ban MTTQ xã")
    assert code == 0, err
    assert "saved dialogue session 1" in out and "2 seats for residents" in out
    assert "Not announced yet: no resident has been told" in out
    assert "/start s_1" in out and err == ""
    code, out, err = shell(capsys, "session", "add", "--topic", "Họp gấp", "--start", local(3),
                           "--place", "Nhà văn hóa", "--capacity", "20")
    assert code == 0 and "less than 7 days ahead" in err

    tickets = sign_up(tmp_path, 1, [("Nguyễn Văn An", "khu-1"), ("Trần Thị Bình", "khu-2"),
                                    ("Lê Văn Chung", None)])
    code, out, _ = shell(capsys, "session", "list")
    assert "scheduled    2/2   seats    1 waiting  Quy hoạch khu dân cư mới" in out
    code, out, _ = shell(capsys, "session", "show", "1")
    assert "Chủ tịch UBND xã, Chủ tịch Ủy ban MTTQ xã" in out
    assert out.index("Khu Hòa Bình (1)") < out.index("Khu Thống Nhất (1)") < out.index(
        "(no hamlet) (1)")
    assert f"{tickets[2]}  waiting #1" in out
    code, out, _ = shell(capsys, "session", "questions", "1")
    assert "Khu Hòa Bình (1)\n    - Bao giờ làm đường?" in out and "Registrations" not in out

    code, out, err = shell(capsys, "session", "capacity", "1", "2")
    assert code == 1 and "2 people are registered" in err and "1 reserved" in err
    code, out, err = shell(capsys, "session", "capacity", "1", "4")
    assert code == 0 and "1 person(s) moved up" in out

    code, out, err = shell(capsys, "session", "checkin", "--ticket", tickets[0].lower())
    assert code == 0 and "checked in: Nguyễn Văn An" in out
    code, out, err = shell(capsys, "session", "checkin", "--ticket", tickets[0])
    assert code == 1 and "already used" in err and err.count("\n") == 1
    code, out, err = shell(capsys, "session", "checkin", "--ticket", "ABCD2345")
    assert code == 1 and "No ticket ABCD2345" in err

    code, out, err = shell(capsys, "session", "move", "1", "--start", local(12, "14:00"),
                           "--place", "Nhà văn hóa khu Hòa Bình")
    assert code == 0 and "3 registrant(s) will be told" in out
    code, out, err = shell(capsys, "session", "edit", "1")
    assert code == 1 and "nothing to change" in err
    code, out, err = shell(capsys, "session", "cancel", "2")
    assert code == 0 and "0 registrant(s)" in out
    code, out, err = shell(capsys, "session", "cancel", "2")
    assert code == 1 and "cancelled" in err
    code, out, err = shell(capsys, "session", "close", "1", "--outcome", "Kết quả")
    assert code == 1 and "has not taken place yet" in err

    async def notices(session: AsyncSession) -> list[str]:
        return list((await session.exec(select(OutboxMessage.kind))).all())

    kinds = on_db(tmp_path, notices)
    assert kinds.count("session_change") == 3 and kinds.count("session_seat") == 1
    assert kinds.count("session_alert") >= 2  # 80% and 100% to the demo's staff


def test_the_outcome_is_published_from_a_file(shell, capsys, tmp_path):
    assert shell(capsys, "init", str(commune_setup.DEMO_FILE))[0] == 0

    async def held_two_weeks_ago(session: AsyncSession) -> int:
        item = DialogueSession(topic="Đối thoại về giá nước", place="Hội trường",
                               capacity=50, starts_at=clock.now() - timedelta(days=14))
        session.add(item)
        await session.flush()
        return item.id

    session_id = on_db(tmp_path, held_two_weeks_ago)
    outcome = tmp_path / "ket-qua.txt"
    outcome.write_text("Tóm tắt hội nghị.\nTrả lời câu hỏi: giữ nguyên giá nước.",
                       encoding="utf-8")
    code, out, err = shell(capsys, "session", "close", str(session_id), "--outcome-file",
                           str(outcome))
    assert code == 0, err
    assert "outcome published as disclosure 1" in out and "more than 10 days" in err

    async def disclosures(session: AsyncSession) -> list[Disclosure]:
        return list((await session.exec(select(Disclosure))).all())

    [disclosure] = on_db(tmp_path, disclosures)
    assert disclosure.category == 11
    assert disclosure.title == "Kết quả buổi đối thoại: Đối thoại về giá nước"
    code, out, _ = shell(capsys, "session", "list")
    assert "closed" in out


@pytest.mark.parametrize(("args", "reason"), [
    (["--start", "31/12/2026 08:00", "--capacity", "5"], "is not a time like"),
    (["--start", "2020-01-01 08:00", "--capacity", "5"], "the start time is in the past"),
    (["--start", "2099-01-01 08:00", "--capacity", "0"], "the capacity must be at least 1"),
    (["--start", "2099-01-01 08:00", "--capacity", "5", "--reserved", "5"], "reserved seats"),
    (["--start", "2099-01-01 08:00", "--capacity", "5", "--reminders", "tomorrow"],
     "reminder 'tomorrow'"),
    (["--start", "2099-01-01 08:00", "--capacity", "5", "--online-link", "zoom"],
     "must start with https://"),
])
def test_bad_announcements_give_one_clear_line(shell, capsys, args, reason):
    code, out, err = shell(capsys, "session", "add", "--topic", "T", "--place", "P", *args)
    assert code in (1, 2) and reason in err and "Traceback" not in err
    code, out, _ = shell(capsys, "session", "list")
    assert out == ""


def test_unknown_sessions_are_named(shell, capsys):
    for args in (["show", "9"], ["cancel", "9"], ["capacity", "9", "5"]):
        code, out, err = shell(capsys, "session", *args)
        assert code == 1 and ("no dialogue session 9" in err or "does not exist" in err)
