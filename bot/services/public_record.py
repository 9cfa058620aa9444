"""The commune's public record ("Dân giám sát"): what anyone may see of petitions, the board
and dialogue sessions, read for the public page (and the Open311 API, which shares the rule).

Figures are counted by bot.services.yearly_report, one way for the report and the page.
Nothing here returns a person's name, phone, address, channel id, photo or the content of a
complaint or denunciation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import sessions as session_service
from bot.services import yearly_report
from bot.services.exports import bounds
from bot.services.petition_statuses import FEEDBACK, OPEN
from storage.models import DialogueSession, Disclosure, Hamlet, Petition, PetitionEvent
from storage.repositories import Disclosures

LEGAL_MINIMUM_SESSIONS = 1  # dialogue conferences a year (Law 10/2022/QH15, Art. 32)
SEARCH_LIMIT = 30


def is_public(petition: Petition) -> bool:
    """Whether a petition may be shown on its own to the public, by its tracking code.

    The rule: it is plain feedback (phản ánh, kiến nghị), never a complaint or a
    denunciation (their content is protected by law), the resident did not choose to stay
    anonymous, and it has its tracking code. Even then only its field, hamlet, status
    history (statuses and dates, no notes) and the published answer are shown: never the
    description, the address, the location finer than the hamlet, the photos or who sent it.
    """
    return petition.kind == FEEDBACK and not petition.anonymous and petition.code is not None


@dataclass
class PetitionRecord:
    """The petition figures of this month and this year, as of `now`."""

    month: yearly_report.Figures
    year: yearly_report.Figures
    month_start: date
    open_feedback: Sequence[Petition]
    hamlet_names: dict[int, str]


async def petition_record(session: AsyncSession, now: datetime, timezone: str
                          ) -> PetitionRecord:
    """This month's and this year's figures, and the open public feedback."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    hamlets = await yearly_report.hamlets_by_id(session)
    first, after = bounds(date(today.year, 1, 1), date(today.year, 12, 31), timezone)
    year = yearly_report.Figures(today.year, as_of=today)
    await yearly_report.count_petitions(session, year, first, after, zone, hamlets)
    month_start = today.replace(day=1)
    first, _ = bounds(month_start, month_start, timezone)
    month = yearly_report.Figures(today.year, as_of=today)
    await yearly_report.count_petitions(session, month, first, after, zone, hamlets)
    query = (select(Petition).where(Petition.kind == FEEDBACK, col(Petition.status).in_(OPEN))
             .order_by(Petition.field, Petition.answer_due, Petition.id))
    feedback = [p for p in (await session.exec(query)).all() if is_public(p)]
    return PetitionRecord(month, year, month_start, feedback,
                          {h.id: h.name for h in hamlets.values()})


@dataclass
class PublicPetition:
    """A public petition, its status changes and its hamlet's name."""

    petition: Petition
    events: list[PetitionEvent]
    hamlet: str | None


async def public_petition(session: AsyncSession, code: str) -> PublicPetition | None:
    """A public petition by its tracking code with its status changes, or None."""
    petition = (await session.exec(select(Petition).where(
        Petition.code == code.strip().upper()))).first()
    if petition is None or not is_public(petition):
        return None
    events = (await session.exec(select(PetitionEvent).where(
        PetitionEvent.petition_id == petition.id, col(PetitionEvent.status).is_not(None))
        .order_by(PetitionEvent.at, PetitionEvent.id))).all()
    hamlet = await session.get(Hamlet, petition.hamlet_id) if petition.hamlet_id else None
    return PublicPetition(petition, list(events), hamlet.name if hamlet else None)


@dataclass
class Board:
    """What is on the board now by Art. 11 topic, and the open consultations."""

    by_category: dict[int, list[Disclosure]]
    consultations: list[Disclosure]
    found: list[Disclosure]


async def board(session: AsyncSession, now: datetime, query: str = "") -> Board:
    """The board as of `now`, and (with a query) the matching items, expired ones included."""
    repo = Disclosures(session)
    by_category: dict[int, list[Disclosure]] = {}
    for category, count in sorted((await repo.counts_by_category(now)).items()):
        by_category[category] = list(await repo.on_board(category, now, offset=0,
                                                         limit=count))
    consultations = sorted((d for items in by_category.values() for d in items
                            if d.consult_until and d.consult_until >= now),
                           key=lambda d: d.consult_until)
    found = await repo.search(query, now, limit=SEARCH_LIMIT) if query.strip() else []
    return Board(by_category, consultations, found)


async def posted_attachment(session: AsyncSession, disclosure_id: int, now: datetime
                            ) -> dict | None:
    """The file of a disclosure posted by `now` (on the board or expired), or None."""
    item = await Disclosures(session).get(disclosure_id)
    if item is None or item.posted_from > now or not item.attachment:
        return None
    return item.attachment


@dataclass
class Upcoming:
    """A session still to come, with the seats left."""

    item: DialogueSession
    seats_left: int


@dataclass
class Dialogues:
    """Upcoming and held sessions, and this year's count against the legal minimum."""

    upcoming: list[Upcoming]
    held: list[DialogueSession]
    year: yearly_report.Figures


async def dialogues(session: AsyncSession, now: datetime, timezone: str) -> Dialogues:
    """Sessions to come and sessions held (newest first), with this year's figures."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    rows = (await session.exec(select(DialogueSession).where(
        DialogueSession.status != "cancelled").order_by(DialogueSession.starts_at))).all()
    upcoming = [Upcoming(s, (await session_service.seats(session, s)).left)
                for s in rows if s.starts_at > now and s.outcome is None]
    held = [s for s in reversed(rows) if s.starts_at <= now or s.outcome is not None]
    first, after = bounds(date(today.year, 1, 1), date(today.year, 12, 31), timezone)
    year = yearly_report.Figures(today.year, as_of=today)
    await yearly_report.count_sessions(session, year, first, after, now)
    return Dialogues(upcoming, held, year)
