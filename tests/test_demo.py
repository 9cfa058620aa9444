"""The demo stays current: whatever day it is loaded, its items are dated from that day, its
sessions fall on working days, its texts name no stale year or month, and a stale demo
database is reloaded with `python -m bot demo --reset`."""

from __future__ import annotations

import asyncio
import re
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.services import commune_setup, demo
from bot.workdays import Calendar
from storage.db import Database, async_database_url
from storage.models import DialogueSession, Disclosure, User
from tests.conftest import Clock

TZ = "Asia/Ho_Chi_Minh"
STALE = [re.compile(p) for p in (r"\b(19|20)\d\d\b",  # a year
                                  r"\btháng \d",  # a month by number
                                  r"\bquý [IVX]+\b",  # a quarter
                                  r"\b\d{1,2}/\d{1,2}\b")]  # a day/month


_NEWEST_DAYS_AGO = min(e["posted_days_ago"] for e in tomllib.loads(
    demo.DISCLOSURES_FILE.read_text(encoding="utf-8"))["disclosures"])


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(TZ))


def test_demo_texts_carry_no_fixed_year_month_or_day():
    raw = tomllib.loads(demo.DISCLOSURES_FILE.read_text(encoding="utf-8"))["disclosures"]
    texts = [e.get(key, "") for e in raw for key in ("title", "body", "response")]
    texts += [topic for _, _, topic, _, _, _ in demo.SESSIONS]
    found = [(p.pattern, t[:60]) for t in texts for p in STALE if p.search(t)]
    assert found == []
    assert demo.fill("{past_quarter}, {past_half}", date(2026, 2, 10)) == (
        "quý IV năm 2025, năm 2025")
    assert demo.fill("{past_quarter} ({past_quarter_months} tháng), {past_half}, quý {quarter}",
                     date(2026, 8, 19)) == (
        "quý II năm 2026 (6 tháng), 6 tháng đầu năm 2026, quý III")


async def _load(db: Database, now: datetime) -> tuple[list[Disclosure], list[DialogueSession]]:
    Clock(now)
    async with db.unit_of_work() as session:
        assert await commune_setup.load_demo_if_empty(session, "test", TZ, now=now)
        await session.commit()
    async with db.session() as session:
        return (list((await session.exec(select(Disclosure).order_by(Disclosure.id))).all()),
                list((await session.exec(
                    select(DialogueSession).order_by(DialogueSession.starts_at))).all()))


@pytest.mark.parametrize(("loaded", "expected_sessions", "budget_title"), [
    # Saturday before National Day: +10 days is 1/9 (off), +14 days a Saturday.
    (datetime(2026, 8, 22, 3, 0, tzinfo=UTC),
     [datetime(2026, 9, 3, 8, 0), datetime(2026, 9, 7, 14, 0)], "quý II năm 2026"),
    # 00:30 on New Year's Day 2031 in Hà Nội: +10 days is a Sunday.
    (datetime(2030, 12, 31, 17, 30, tzinfo=UTC),
     [datetime(2031, 1, 13, 8, 0), datetime(2031, 1, 15, 14, 0)], "quý III năm 2030"),
])
async def test_demo_sessions_avoid_weekends_and_holidays_and_texts_name_the_loading_year(
    db: Database, loaded, expected_sessions, budget_title
):
    disclosures, sessions = await _load(db, loaded)
    starts = [_local(s.starts_at).replace(tzinfo=None) for s in sessions]
    assert starts == expected_sessions
    assert all(Calendar().is_working_day(s.date()) and s.weekday() < 5 for s in starts)
    today = _local(loaded).date()
    texts = " ".join(f"{d.title} {d.body} {d.response or ''}" for d in disclosures)
    assert "{" not in texts and "}" not in texts
    assert f"ngân sách xã {budget_title}" in texts
    assert f"năm {today.year}" in texts
    years = {int(y) for y in re.findall(r"\b20\d\d\b", texts)}
    assert years <= {today.year - 2, today.year - 1, today.year, today.year + 1}
    assert max(_local(d.posted_from).date() for d in disclosures) == today - timedelta(
        days=_NEWEST_DAYS_AGO)


async def test_reloading_a_demo_database_replaces_everything_dated_from_the_new_day(
    db: Database
):
    await _load(db, datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    async with db.session() as session:
        session.add(User(channel="console", external_id="visitor"))
        await session.commit()
    later = datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    Clock(later)
    async with db.unit_of_work() as session:
        counts = await commune_setup.reload_demo(session, "test", TZ, now=later)
        await session.commit()
    async with db.session() as session:
        users = (await session.exec(select(User))).all()
        sessions = (await session.exec(select(DialogueSession))).all()
        disclosures = (await session.exec(select(Disclosure))).all()
    assert counts == {"disclosures": len(disclosures), "sessions": 2}
    assert users == [] and len(sessions) == 2
    assert all(s.starts_at > later for s in sessions)
    assert max(_local(d.posted_from).date() for d in disclosures) == date(2027, 3, 1) - (
        timedelta(days=_NEWEST_DAYS_AGO))


def _rows(tmp_path: Path, model: type) -> list:
    async def read() -> list:
        database = Database(async_database_url(f"sqlite:///{tmp_path / 'cli.db'}"))
        try:
            async with database.session() as session:
                return list((await session.exec(select(model))).all())
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_demo_reset_reloads_a_stale_demo_database(shell, capsys, tmp_path):
    Clock(datetime(2026, 8, 22, 3, 0, tzinfo=UTC))
    assert shell(capsys, "demo") == (0, "demo commune loaded, dated from 2026-08-22\n", "")
    code, out, _ = shell(capsys, "demo")
    assert out == "Xã Chi Lăng is already loaded; --reset reloads it dated from today\n"
    stale = {s.starts_at for s in _rows(tmp_path, DialogueSession)}

    Clock(datetime(2027, 3, 1, 3, 0, tzinfo=UTC))  # months later, the demo's sessions are past
    code, out, err = shell(capsys, "demo", "--reset")
    assert (code, err) == (0, "")
    assert out == ("demo commune reloaded: 22 disclosures, 2 dialogue sessions, dated from "
                   "2027-03-01\n")
    fresh = _rows(tmp_path, DialogueSession)
    assert len(fresh) == 2 and not stale & {s.starts_at for s in fresh}
    assert all(s.starts_at > datetime(2027, 3, 8, tzinfo=UTC) for s in fresh)
    titles = " ".join(d.title for d in _rows(tmp_path, Disclosure))
    assert "năm 2028" in titles and "năm 2027" in titles


def test_demo_reset_refuses_another_communes_database(shell, capsys, tmp_path):
    other = tmp_path / "yen-the.toml"
    other.write_text(commune_setup.DEMO_FILE.read_text(encoding="utf-8").replace(
        'name = "Xã Chi Lăng"', 'name = "Xã Yên Thế"'), encoding="utf-8")
    assert shell(capsys, "init", str(other))[0] == 0
    code, out, err = shell(capsys, "demo", "--reset")
    assert (code, out) == (1, "")
    assert err == ("error: this database holds Xã Yên Thế, not the demo commune; only a demo "
                   "database is reloaded\n")
    assert shell(capsys, "demo") == (
        0, "Xã Yên Thế is already loaded, not the demo: nothing changed\n", "")
    assert _rows(tmp_path, Disclosure) == []
