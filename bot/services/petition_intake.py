"""Taking in a petition: what a resident gives (Intake), the checks, the daily limit, the
tracking code and deadlines of a new petition, and similar open petitions to point to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import petition_notices
from bot.services import petition_rules as rules
from bot.services.petition_statuses import (
    DENUNCIATION,
    FEEDBACK,
    OPEN,
    PREFIXES,
    RECEIVED,
    tracking_code,
)
from bot.services.petitions import PetitionError, Settings, local_day
from bot.textfold import fold, nfc
from storage.models import Petition, PetitionEvent, PetitionIdentity, User
from storage.repositories import InteractionLogs

MAX_DESCRIPTION = 4000
MIN_DESCRIPTION = 2  # "bai rac" is a description; a file may carry the rest
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
SIMILAR_DAYS = 30


@dataclass(frozen=True)
class Identity:
    """Who files a complaint or denunciation (name and address), or sends feedback with
    a name (name and phone, no address)."""

    full_name: str
    address: str
    phone: str | None = None


@dataclass
class Intake:
    """What a resident gives, before it becomes a petition."""

    kind: str
    field: str
    description: str
    hamlet_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    anonymous: bool = False
    identity: Identity | None = None



def _day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), ZoneInfo(timezone))
    return start, start + timedelta(days=1)


async def sent_today(session: AsyncSession, user_id: int, now: datetime, timezone: str) -> int:
    """How many petitions a person sent on the current local day."""
    start, end = _day_bounds(local_day(now, timezone), timezone)
    query = select(sa.func.count()).select_from(Petition).where(
        Petition.user_id == user_id, col(Petition.received_at) >= start,
        col(Petition.received_at) < end,
    )
    return (await session.exec(query)).one()


def check(intake: Intake, settings: Settings) -> None:
    """Refuse an intake that cannot become a petition."""
    if intake.kind not in PREFIXES:
        raise PetitionError("kind", f"unknown petition type {intake.kind!r}")
    if intake.field not in dict(settings.fields):
        raise PetitionError("field", f"unknown field {intake.field!r}")
    text = intake.description.strip()
    if len(text) < MIN_DESCRIPTION:
        raise PetitionError("short", "the description is too short")
    if len(text) > MAX_DESCRIPTION:
        raise PetitionError("long", f"the description is longer than {MAX_DESCRIPTION}")
    if len(intake.attachments) > MAX_ATTACHMENTS:
        raise PetitionError("attachments", f"at most {MAX_ATTACHMENTS} attachments")
    if intake.kind != FEEDBACK:
        if intake.anonymous:
            raise PetitionError("anonymous", "complaints and denunciations cannot be anonymous")
        identity = intake.identity
        if identity is None or not identity.full_name.strip() or not identity.address.strip():
            raise PetitionError("identity", "full name and address are required")


async def submit(session: AsyncSession, intake: Intake, user: User, *, now: datetime,
                 timezone: str, settings: Settings) -> Petition:
    """Store a new petition with its tracking code and deadlines; staff are told.

    Raises PetitionError("limit") past the daily limit. Nothing is committed here.
    """
    check(intake, settings)
    if await sent_today(session, user.id, now, timezone) >= settings.daily_limit:
        raise PetitionError("limit", "daily limit reached")
    received = local_day(now, timezone)
    accept_rule = rules.rule_for(intake.kind, rules.ACCEPT, received, settings.rules)
    resolve_rule = rules.rule_for(intake.kind, rules.RESOLVE, received, settings.rules)
    accept_due = rules.due_date(accept_rule, received, settings.calendar)
    start = received if intake.kind == FEEDBACK else accept_due  # projected until accepted
    petition = Petition(
        kind=intake.kind, field=intake.field, hamlet_id=intake.hamlet_id,
        latitude=intake.latitude, longitude=intake.longitude,
        address=nfc(intake.address.strip()) if intake.address else None,
        description=nfc(intake.description.strip()), attachments=intake.attachments,
        user_id=user.id, anonymous=intake.anonymous and intake.kind == FEEDBACK,
        received_at=now, accept_due=accept_due,
        answer_due=rules.due_date(resolve_rule, start, settings.calendar),
        rules_version=f"{accept_rule.version};{resolve_rule.version}",
    )
    session.add(petition)
    await session.flush()
    petition.code = tracking_code(intake.kind, received.year, petition.id)
    if intake.identity and not petition.anonymous:  # named feedback too: staff may call back
        session.add(PetitionIdentity(
            petition_id=petition.id, full_name=nfc(intake.identity.full_name.strip()),
            address=nfc(intake.identity.address.strip()), phone=intake.identity.phone,
        ))
    session.add(PetitionEvent(petition_id=petition.id, at=now, actor="resident",
                              kind="status", status=RECEIVED))
    await session.flush()
    # A denunciation's code is not logged with the moment it came in: the log's rows of that
    # moment would tie it to the person chatting then (its record keeps the time).
    logged = PREFIXES[DENUNCIATION] if intake.kind == DENUNCIATION else petition.code
    InteractionLogs(session).admin("petition_received", logged, "resident",
                                   channel=user.channel, now=now)
    await petition_notices.notify_staff(session, petition, settings, timezone, new=True)
    return petition


def _words(text: str) -> set[str]:
    return {w for w in fold(text).replace(",", " ").replace(".", " ").split() if len(w) > 2}


async def similar_open(session: AsyncSession, intake: Intake, *, now: datetime,
                       user_id: int | None = None) -> Petition | None:
    """An open feedback of the last 30 days on the same field and hamlet with similar
    words, sent by someone else than `user_id` (one's own is offered by similar_own)."""
    if intake.hamlet_id is None:
        return None
    query = select(Petition).where(
        Petition.field == intake.field, Petition.hamlet_id == intake.hamlet_id,
        col(Petition.status).in_(OPEN), Petition.kind == FEEDBACK,
        col(Petition.received_at) >= now - timedelta(days=SIMILAR_DAYS),
    )
    if user_id is not None:
        query = query.where(col(Petition.user_id).is_distinct_from(user_id))
    return _closest(intake, (await session.exec(
        query.order_by(col(Petition.id).desc()).limit(50))).all())


async def similar_own(session: AsyncSession, intake: Intake, user_id: int, *, now: datetime
                      ) -> Petition | None:
    """The sender's own open petition of the last 30 days of the same type, field and
    anonymity (and hamlet, when both name one) with similar words: add to it instead."""
    query = select(Petition).where(
        Petition.user_id == user_id, Petition.kind == intake.kind,
        Petition.field == intake.field, Petition.anonymous == intake.anonymous,
        col(Petition.status).in_(OPEN),
        col(Petition.received_at) >= now - timedelta(days=SIMILAR_DAYS),
    )
    if intake.hamlet_id is not None:
        query = query.where(sa.or_(col(Petition.hamlet_id).is_(None),
                                   Petition.hamlet_id == intake.hamlet_id))
    return _closest(intake, (await session.exec(
        query.order_by(col(Petition.id).desc()).limit(50))).all())


def _closest(intake: Intake, petitions: Sequence[Petition]) -> Petition | None:
    """The petition whose words are closest to the intake's (at least two in common)."""
    mine = _words(intake.description)
    best, best_score = None, 0.0
    for petition in petitions:
        theirs = _words(petition.description)
        if not mine or not theirs:
            continue
        common = len(mine & theirs)
        score = common / min(len(mine), len(theirs))
        if common >= 2 and score >= 0.4 and score > best_score:
            best, best_score = petition, score
    return best


async def add_to(session: AsyncSession, petition: Petition, intake: Intake, user: User, *,
                 now: datetime, timezone: str, settings: Settings) -> Petition:
    """Add a resident's new text and files to their own open petition: a timeline event
    ("addition") that staff are shown, the files beside the earlier ones. Not a new
    petition, so the daily limit does not count it. Nothing is committed here."""
    if petition.user_id != user.id:
        raise PetitionError("owner", "not your petition")
    if petition.status not in OPEN:
        raise PetitionError("closed", f"{petition.code} is no longer open")
    text = nfc(intake.description.strip())[:MAX_DESCRIPTION]
    if intake.attachments:  # a new list: the JSON column notices reassignment only
        petition.attachments = [*petition.attachments, *intake.attachments]
    if intake.latitude is not None and petition.latitude is None:
        petition.latitude, petition.longitude = intake.latitude, intake.longitude
    petition.updated_at = now
    session.add(petition)
    session.add(PetitionEvent(petition_id=petition.id, at=now, actor="resident",
                              kind="addition", note=text))
    await session.flush()
    logged = PREFIXES[DENUNCIATION] if petition.kind == DENUNCIATION else petition.code
    InteractionLogs(session).admin("petition_addition", logged, "resident",
                                   channel=user.channel, now=now)
    await petition_notices.notify_staff(session, petition, settings, timezone, new=False,
                                        added=True)
    return petition
