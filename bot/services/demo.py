"""The demo commune's disclosures and dialogue sessions, placed relative to the day they are
loaded so that the demo never looks stale.

Disclosures are posted N days before that day; their texts name no fixed year, quarter or
month but placeholders filled from the day each one was posted ({year}, {next_year},
{past_quarter} …, see `words`). Sessions fall some days ahead, moved to the next weekday
that is a working day (never a weekend or a public holiday). The commune file itself and
the loading into an empty database are in bot.services.commune_setup.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import disclosures, sessions
from bot.textfold import nfc
from bot.workdays import Calendar
from storage.repositories import Communes, Disclosures

DISCLOSURES_FILE = Path(__file__).resolve().parents[1] / "demo_data" / "disclosures.toml"

SESSIONS = (  # (days ahead at the earliest, local time, topic, leaders, place, capacity)
    (10, "08:00", "Đối thoại về quy hoạch khu dân cư mới và đường liên thôn",
     ["Chủ tịch UBND xã", "Chủ tịch Ủy ban MTTQ xã"], "Hội trường UBND xã", 60),
    (14, "14:00", "Đối thoại với thanh niên về việc làm và học nghề",
     ["Phó Chủ tịch UBND xã"], "Nhà văn hóa khu Hòa Bình", 2),
)

_ROMAN = ("I", "II", "III", "IV")


def words(day: date) -> dict[str, str]:
    """What a demo text's placeholders say when it is posted on `day`."""
    quarter = (day.month - 1) // 3  # 0..3, the current one
    past_year, past_quarter = (day.year, quarter - 1) if quarter else (day.year - 1, 3)
    past_half = (f"6 tháng đầu năm {day.year}" if day.month > 6
                 else f"năm {day.year - 1}")
    return {
        "year": str(day.year), "last_year": str(day.year - 1), "next_year": str(day.year + 1),
        "month": str(day.month), "quarter": _ROMAN[quarter],
        "past_quarter": f"quý {_ROMAN[past_quarter]} năm {past_year}",
        "past_quarter_months": str(3 * (past_quarter + 1)),
        "past_half": past_half,
    }


def fill(text: str, day: date) -> str:
    """A demo text with its placeholders filled for `day`."""
    return text.format_map(words(day))


def _read(path: Path) -> list[dict[str, Any]]:
    return tomllib.loads(path.read_text(encoding="utf-8"))["disclosures"]


async def load_disclosures(session: AsyncSession, *, now: datetime, timezone: str, actor: str,
                           path: Path = DISCLOSURES_FILE) -> int:
    """Publish the demo disclosures with dates relative to `now`; returns how many."""
    entries = _read(path)
    today = disclosures.local_day(now, timezone)
    for entry in entries:
        posted = today - timedelta(days=entry["posted_days_ago"])
        decided = entry.get("decided_days_ago")
        draft = disclosures.Draft(
            category=entry["category"], title=fill(entry["title"], posted),
            body=fill(entry["body"], posted),
            decided_on=today - timedelta(days=decided) if decided is not None else None,
            posted_from=posted, permanent=entry.get("permanent"),
            posted_until=posted + timedelta(days=entry["days"]) if "days" in entry else None,
            consult_until=(posted + timedelta(days=entry["consult_days"])
                           if "consult_days" in entry else None),
        )
        item = await disclosures.publish(session, draft, actor=actor, now=now,
                                         timezone=timezone)
        if entry.get("response"):
            item.response, item.response_at = nfc(fill(entry["response"], posted).strip()), now
            await Disclosures(session).save(item)
    return len(entries)


def session_day(today: date, days_ahead: int, calendar: Calendar) -> date:
    """`days_ahead` after today, or the first weekday after it that is a working day."""
    day = today + timedelta(days=days_ahead)
    while day.weekday() >= 5 or not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


async def load_sessions(session: AsyncSession, *, now: datetime, timezone: str,
                        actor: str) -> int:
    """Announce the demo sessions (one with 2 seats, to try the waitlist) on working days."""
    calendar = Calendar.of_commune(await Communes(session).current())
    today = disclosures.local_day(now, timezone)
    for days, at, topic, leaders, place, capacity in SESSIONS:
        start = sessions.local_time(session_day(today, days, calendar), at, timezone)
        await sessions.announce(session, sessions.Plan(
            topic=topic, start=start, place=place, capacity=capacity, leaders=list(leaders)),
            actor=actor, now=now, timezone=timezone)
    return len(SESSIONS)
