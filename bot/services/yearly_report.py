"""The yearly review of grassroots democracy: the figures, counted from the records.

What the commune's review needs (../shared/context item 8, ../shared/DOMAIN.md): what was
disclosed and whether on time (5 working days after the decision), consultations and
comments, petitions by type, field, hamlet and status, the share answered within the legal
deadline, median and 90th-percentile time to answer, ratings, and who used the bot by
hamlet and channel; month by month. The workbook, with native Excel charts, is written by
bot.services.yearly_workbook.

Everything is counted as of the caller's `now`: a year not over yet is reported "as of" that
day. A broadcast is counted in the year it went out, with the deliveries of that run (a
recurring broadcast counts in each year it ran).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import disclosures as disclosure_service
from bot.services import petitions as petition_service
from bot.services.exports import bounds
from storage.models import (
    DialogueSession,
    Disclosure,
    DisclosureComment,
    Hamlet,
    InteractionLog,
    OutboxMessage,
    Petition,
    SessionQuestion,
    SessionRegistration,
)
from storage.repositories import Communes

FIRST_YEAR = 2000


class ReportError(ValueError):
    """A report that cannot be made; the message says why."""


def check_year(year: int, today: date) -> None:
    """Refuse a year before FIRST_YEAR or after the current one."""
    if not FIRST_YEAR <= year <= today.year:
        raise ReportError(f"no report for {year}: give a year from {FIRST_YEAR} to "
                          f"{today.year}")


@dataclass
class Figures:
    """Everything the yearly workbook shows."""

    year: int
    as_of: date | None = None  # the day counted up to, while the year is not over
    hamlets: list[str] = field(default_factory=list)
    # month (1-12) -> counts
    petitions_by_month: Counter = field(default_factory=Counter)
    disclosures_by_month: Counter = field(default_factory=Counter)
    active_by_month: dict[int, int] = field(default_factory=dict)
    disclosures_by_category: Counter = field(default_factory=Counter)
    disclosures_with_decision: int = 0
    disclosures_on_time: int = 0
    consultations: int = 0
    comments: int = 0
    responses: int = 0
    petitions_by_kind: Counter = field(default_factory=Counter)
    petitions_by_field: Counter = field(default_factory=Counter)
    petitions_by_hamlet: Counter = field(default_factory=Counter)
    petitions_by_status: Counter = field(default_factory=Counter)
    answered: int = 0
    answered_in_time: int = 0
    days_to_answer: list[float] = field(default_factory=list)
    ratings: Counter = field(default_factory=Counter)
    sessions_held: int = 0
    sessions_cancelled: int = 0
    registrations: int = 0
    attended: int = 0
    questions: int = 0
    questions_answered: int = 0  # asked for a session whose outcome was published
    broadcasts: int = 0
    undeliverable: int = 0  # e.g. Zalo OA notices outside the 7-day messaging window
    deliveries: Counter = field(default_factory=Counter)  # outbox status -> count
    active_by_hamlet: Counter = field(default_factory=Counter)
    active_by_channel: Counter = field(default_factory=Counter)
    field_labels: dict[str, str] = field(default_factory=dict)

    @property
    def petitions(self) -> int:
        """Petitions received in the year."""
        return sum(self.petitions_by_kind.values())

    @property
    def disclosures(self) -> int:
        """Disclosures first posted in the year."""
        return sum(self.disclosures_by_category.values())

    @property
    def on_time_share(self) -> float | None:
        """Share of disclosures with a decision date posted within 5 working days."""
        return (self.disclosures_on_time / self.disclosures_with_decision
                if self.disclosures_with_decision else None)

    @property
    def in_time_share(self) -> float | None:
        """Share of answered petitions answered by their due date."""
        return self.answered_in_time / self.answered if self.answered else None

    @property
    def median_days(self) -> float | None:
        """Median days from receiving to answering."""
        return round(statistics.median(self.days_to_answer), 1) if self.days_to_answer else None

    @property
    def p90_days(self) -> float | None:
        """90th percentile of days from receiving to answering."""
        values = sorted(self.days_to_answer)
        if not values:
            return None
        if len(values) == 1:
            return round(values[0], 1)
        return round(statistics.quantiles(values, n=10, method="inclusive")[-1], 1)

    @property
    def delivery_rate(self) -> float | None:
        """Share of broadcast deliveries that reached the recipient (of those finished)."""
        finished = sum(self.deliveries.get(s, 0) for s in ("sent", "failed", "blocked"))
        return self.deliveries.get("sent", 0) / finished if finished else None

    @property
    def average_rating(self) -> float | None:
        """Mean of the ratings given."""
        total = sum(self.ratings.values())
        return round(sum(k * v for k, v in self.ratings.items()) / total, 2) if total else None


async def compute(session: AsyncSession, year: int, timezone: str, *,
                  now: datetime) -> Figures:
    """Count everything for one calendar year (local time), as of `now`."""
    zone = ZoneInfo(timezone)
    first, after = bounds(date(year, 1, 1), date(year, 12, 31), timezone)
    figures = Figures(year, as_of=now.astimezone(zone).date() if now < after else None)
    commune = await Communes(session).current()
    settings = petition_service.Settings.of(commune)
    hamlets = await hamlets_by_id(session)
    codes = {h.code: h.name for h in hamlets.values()}
    figures.hamlets = [h.name for h in hamlets.values() if h.active]
    figures.field_labels = dict(settings.fields)

    def month(moment: datetime) -> int:
        return moment.astimezone(zone).month

    for item in (await session.exec(select(Disclosure).where(
            col(Disclosure.posted_from) >= first, col(Disclosure.posted_from) < after))).all():
        figures.disclosures_by_category[item.category] += 1
        figures.disclosures_by_month[month(item.posted_from)] += 1
        if item.decided_on:
            figures.disclosures_with_decision += 1
            deadline = settings.calendar.add_working_days(
                item.decided_on, disclosure_service.DISCLOSE_WITHIN_WORKING_DAYS)
            figures.disclosures_on_time += item.posted_from.astimezone(zone).date() <= deadline
        if item.consult_until:
            figures.consultations += 1
            figures.responses += item.response is not None
    figures.comments = len((await session.exec(select(DisclosureComment.id).where(
        col(DisclosureComment.created_at) >= first, col(DisclosureComment.created_at) < after)
    )).all())

    await count_petitions(session, figures, first, after, zone, hamlets)
    await count_sessions(session, figures, first, after, now)

    # A run queues its deliveries in one transaction: the year they were queued is the run's.
    sent = (await session.exec(
        select(OutboxMessage.broadcast_id, OutboxMessage.status, sa.func.count())
        .where(col(OutboxMessage.broadcast_id).is_not(None),
               col(OutboxMessage.created_at) >= first, col(OutboxMessage.created_at) < after)
        .group_by(OutboxMessage.broadcast_id, OutboxMessage.status))).all()
    figures.broadcasts = len({broadcast_id for broadcast_id, _, _ in sent})
    figures.deliveries = Counter()
    for _, status, count in sent:
        figures.deliveries[status] += count

    figures.undeliverable = (await session.exec(
        select(sa.func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.status == "failed",
               col(OutboxMessage.last_error).like("not deliverable%"),
               col(OutboxMessage.created_at) >= first, col(OutboxMessage.created_at) < after)
    )).one()

    seen_month: dict[int, set[str]] = {}
    seen_hamlet: dict[str, set[str]] = {}
    seen_channel: dict[str, set[str]] = {}
    query = (select(InteractionLog.at, InteractionLog.user_ref, InteractionLog.hamlet_code,
                    InteractionLog.channel)
             .where(col(InteractionLog.at) >= first, col(InteractionLog.at) < after,
                    InteractionLog.direction == "in"))
    async for at, ref, hamlet_code, channel in await session.stream(query):
        if not ref:
            continue
        seen_month.setdefault(month(at), set()).add(ref)
        seen_hamlet.setdefault(codes.get(hamlet_code, "—"), set()).add(ref)
        seen_channel.setdefault(channel, set()).add(ref)
    figures.active_by_month = {m: len(refs) for m, refs in seen_month.items()}
    figures.active_by_hamlet = Counter({h: len(refs) for h, refs in seen_hamlet.items()})
    figures.active_by_channel = Counter({c: len(refs) for c, refs in seen_channel.items()})
    return figures


async def hamlets_by_id(session: AsyncSession) -> dict[int, Hamlet]:
    """Every hamlet by id, in the commune's order."""
    return {h.id: h for h in (await session.exec(select(Hamlet).order_by(Hamlet.position)))
            .all()}


async def count_petitions(session: AsyncSession, figures: Figures, first: datetime,
                          after: datetime, zone: ZoneInfo, hamlets: dict[int, Hamlet]) -> None:
    """Add the petitions received in [first, after) to `figures` (the public page uses it for
    a month too: one way of counting)."""
    for petition in (await session.exec(select(Petition).where(
            col(Petition.received_at) >= first, col(Petition.received_at) < after))).all():
        figures.petitions_by_kind[petition.kind] += 1
        figures.petitions_by_field[petition.field] += 1
        hamlet = hamlets.get(petition.hamlet_id)
        figures.petitions_by_hamlet[hamlet.name if hamlet else "—"] += 1
        figures.petitions_by_status[petition.status] += 1
        figures.petitions_by_month[petition.received_at.astimezone(zone).month] += 1
        if petition.answered_at:
            figures.answered += 1
            figures.answered_in_time += (
                petition.answered_at.astimezone(zone).date() <= petition.answer_due)
            figures.days_to_answer.append(
                (petition.answered_at - petition.received_at).total_seconds() / 86400)
        if petition.rating:
            figures.ratings[petition.rating] += 1


async def count_sessions(session: AsyncSession, figures: Figures, first: datetime,
                         after: datetime, now: datetime) -> None:
    """Add the dialogue sessions starting in [first, after) to `figures`, as of `now`."""
    for item in (await session.exec(select(DialogueSession).where(
            col(DialogueSession.starts_at) >= first, col(DialogueSession.starts_at) < after))
    ).all():
        if item.status == "cancelled":
            figures.sessions_cancelled += 1
            continue
        figures.sessions_held += item.starts_at <= now or item.outcome is not None
        registrations = (await session.exec(select(SessionRegistration).where(
            SessionRegistration.session_id == item.id,
            SessionRegistration.status == "registered"))).all()
        figures.registrations += len(registrations)
        figures.attended += sum(r.checked_in_at is not None for r in registrations)
        asked = len((await session.exec(select(SessionQuestion.id).where(
            SessionQuestion.session_id == item.id, SessionQuestion.status == "active"))).all())
        figures.questions += asked
        figures.questions_answered += asked if item.outcome else 0
